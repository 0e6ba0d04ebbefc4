"""Rungs 4 to 6: the generated service lints, passes its own tests, builds static and runs.

The checks run through the generated Makefile, exactly as the generated CI runs them.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import elf_headers, is_fully_static
from tests.service import (
    can_chroot,
    chroot_command,
    empty_root_with,
    free_port,
    running_service,
    service_env,
)
from tooling.cargo import make

pytestmark = pytest.mark.slow

# `docker stop` sends SIGKILL 10 s after SIGTERM: the default shutdown timeline (drain delay,
# then the deadline for requests in flight) must end well inside that.
SHUTDOWN_TIMEOUT_SECONDS = 10


def test_generated_code_is_rustfmt_clean(built_project):
    make(built_project, "fmt")


def test_clippy_finds_nothing_with_warnings_denied(built_project):
    result = make(built_project, "lint")
    assert "-D warnings" in result.stdout  # make echoes the command it ran


def test_service_passes_its_own_tests(built_project):
    result = make(built_project, "test")
    assert " passed; 0 failed" in result.stdout


def test_release_binary_is_fully_static(static_binary):
    assert is_fully_static(elf_headers(static_binary))


@pytest.mark.skipif(not can_chroot(), reason="chroot into an empty root needs root")
def test_static_binary_serves_healthz_from_an_empty_root(static_binary, tmp_path):
    root = empty_root_with(static_binary, tmp_path / "root")

    with running_service(chroot_command(root)) as service:
        status, body = service.get("/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok"}
        assert service.get("/readyz")[0] == 200

        healthcheck = subprocess.run(
            chroot_command(root, "healthcheck"),
            env=service_env(service.port),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert healthcheck.returncode == 0, healthcheck.stderr

        assert service.stop(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0


def test_healthcheck_fails_when_nothing_listens(static_binary):
    result = subprocess.run(
        [str(static_binary), "healthcheck"],
        env=service_env(free_port()),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip()


def test_bad_configuration_is_refused_with_a_clear_message(static_binary):
    env = service_env(8080) | {"APP_PORT": "eighty"}
    result = subprocess.run(
        [str(static_binary)], env=env, capture_output=True, text=True, timeout=10, check=False
    )
    # Every start-up failure: exit code 2 and one line on stderr, no JSON log.
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "APP_PORT" in result.stderr
    assert "eighty" in result.stderr


def test_sigterm_ends_the_service_cleanly(static_binary):
    with running_service([str(static_binary)]) as service:
        assert service.stop(timeout=SHUTDOWN_TIMEOUT_SECONDS) == 0
        logs = service.process.stdout.read()
    # Structured logs: every line the service writes is one JSON object.
    records = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert records
    assert records[-1]["message"] == "stopped"
    assert records[-1]["cut"] == 0
