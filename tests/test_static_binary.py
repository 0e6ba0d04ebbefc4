"""Rungs 5 to 7 for the binary the image ships, copied out of the image: a static musl
executable for the image's architecture, carrying a dependency list that names exactly what was
compiled in, which behaves as an operator expects when run from an empty root.

Binaries for another architecture than the machine's run under qemu user-mode emulation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IMAGE_ROWS
from tests.helpers import elf_headers, is_fully_static
from tests.service import (
    can_chroot,
    chroot_command,
    empty_root_with,
    free_port,
    running_service,
    service_env,
)
from tooling.binary_size import section_sizes
from tooling.cargo import package_name, tree_packages
from tooling.sbom import embedded_dependencies

pytestmark = pytest.mark.slow

# `docker stop` sends SIGKILL 10 s after SIGTERM: the default shutdown timeline (drain delay,
# then the deadline for requests in flight) must end well inside that.
SHUTDOWN_TIMEOUT_SECONDS = 10
ELF_MACHINES = {"amd64": "Advanced Micro Devices X86-64", "arm64": "AArch64"}
# Rows whose image is for x86_64, whose musl target links a static position-independent
# executable; aarch64's links a plain static one, at a fixed address (README, "What is not
# verified here"), and under qemu the emulator, not the kernel, would place it anyway.
AMD64_ROWS = [
    row for row, answers in IMAGE_ROWS.items() if answers.get("target_arches", "amd64") == "amd64"
]


def crates_in_tree(built_image, edges):
    """(name, version) of the crates `cargo tree` shows for the image's musl target."""
    return tree_packages(built_image.project, edges=edges, target=built_image.musl_target)


def test_binary_is_a_static_musl_executable_for_the_images_architecture(built_image):
    headers = elf_headers(built_image.binary)

    assert is_fully_static(headers)
    # glibc stamps an ABI tag note into what it links; musl does not.
    assert "NT_GNU_ABI_TAG" not in headers
    assert f"Machine:                           {ELF_MACHINES[built_image.arch]}" in (
        subprocess.run(
            ["readelf", "--file-header", str(built_image.binary)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


def test_sbom_lists_exactly_the_crates_built_for_the_target(built_image):
    sbom = embedded_dependencies(built_image.binary)

    assert sbom is not None, "no .dep-v0 section: the binary was not built by cargo auditable"
    packages = {(package["name"], package["version"]): package for package in sbom["packages"]}
    # Everything compiled for this build, build scripts' dependencies included; no dev-dependencies.
    assert set(packages) == crates_in_tree(built_image, "normal,build")
    assert "rcgen" not in {name for name, _ in packages}, "a dev-dependency is listed"

    runtime = {key for key, package in packages.items() if package.get("kind") != "build"}
    linked = crates_in_tree(built_image, "normal,no-proc-macro")
    # Every crate linked into the binary is listed as runtime. cargo-auditable 0.7.7 also calls
    # a few proc-macros runtime (displaydoc, zerofrom-derive and their syn/quote), but never a
    # build script's dependency.
    assert linked <= runtime <= crates_in_tree(built_image, "normal")
    roots = [name for (name, _), package in packages.items() if package.get("root")]
    assert roots == [package_name(built_image.project)]


@pytest.mark.parametrize("built_image", AMD64_ROWS, indirect=True)
def test_binary_packs_its_relocations(built_image):
    """RELR: the relative relocations ASLR needs are one small table (.cargo/config.toml)."""
    sections = section_sizes(built_image.binary)

    assert sections.get(".relr.dyn", 0) > 0
    # Only relocations that are not relative remain unpacked: a few entries at most.
    assert sections.get(".rela.dyn", 0) < 4096
    # Control: a Rust executable as `cargo install` links it keeps them unpacked, one by one.
    ordinary = section_sizes(Path(shutil.which("cargo-auditable")).resolve())
    assert ".relr.dyn" not in ordinary
    assert ordinary[".rela.dyn"] >= 4096


def load_address(command, binary):
    """Where the kernel mapped the first page of `binary`, started by `command`, this time."""
    with running_service(command) as service:
        maps = Path(f"/proc/{service.process.pid}/maps").read_text(encoding="utf-8")
    first = next(line for line in maps.splitlines() if line.endswith(str(binary)))
    return int(first.split("-")[0], 16)


@pytest.mark.parametrize("built_image", AMD64_ROWS, indirect=True)
def test_binary_loads_at_a_random_address_every_time(built_image):
    """ASLR: the static executable is position-independent, with its relocations packed."""
    binary = built_image.binary
    assert load_address([str(binary)], binary) != load_address([str(binary)], binary)
    # Control: with randomisation switched off for it, the same binary loads where it did before.
    fixed = [shutil.which("setarch"), "--addr-no-randomize", str(binary)]
    assert load_address(fixed, binary) == load_address(fixed, binary)


@pytest.mark.skipif(not can_chroot(), reason="chroot into an empty root needs root")
def test_binary_serves_healthz_from_an_empty_root_and_stops_on_sigterm(built_image, tmp_path):
    root = empty_root_with(built_image.binary, tmp_path / "root")

    with running_service(chroot_command(root)) as service:
        status, body = service.get("/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
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
        logs = service.process.stdout.read()
    # Structured logs: every line the service writes is one JSON object.
    records = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert records[-1]["message"] == "stopped"
    assert records[-1]["cut"] == 0


def test_healthcheck_fails_when_nothing_listens(built_image):
    result = subprocess.run(
        [str(built_image.binary), "healthcheck"],
        env=service_env(free_port()),
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip()


def test_bad_configuration_is_refused_with_a_clear_message(built_image):
    env = service_env(8080) | {"APP_PORT": "eighty"}
    result = subprocess.run(
        [str(built_image.binary)], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    # Every start-up failure: exit code 2 and one line on stderr, no JSON log.
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "APP_PORT" in result.stderr
    assert "eighty" in result.stderr
