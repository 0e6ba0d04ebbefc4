"""Start a built service binary on a free loopback port and talk to it like an operator would."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tooling.loadtest import free_port

STARTUP_TIMEOUT_SECONDS = 15


@dataclass
class RunningService:
    process: subprocess.Popen[str]
    port: int

    def get(self, path: str) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def stop(self, timeout: float) -> int:
        """SIGTERM, then the exit code; raises TimeoutExpired if it does not stop in time."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def service_env(port: int) -> dict[str, str]:
    """A minimal environment: the service must not depend on anything the host happens to set."""
    return {"APP_PORT": str(port), "APP_HOST": "127.0.0.1", "APP_LOG": "info"}


@contextlib.contextmanager
def running_service(
    command: Sequence[str],
    cwd: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    stdout: IO[str] | int = subprocess.PIPE,
) -> Iterator[RunningService]:
    """Start `command` with `service_env` (plus `extra_env`); `stdout` may be a file, so that
    a long test cannot fill the pipe and stall the service."""
    port = free_port()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**service_env(port), **(extra_env or {})},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    service = RunningService(process, port)
    try:
        _wait_until_healthy(service)
        yield service
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _wait_until_healthy(service: RunningService) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            _, stderr = service.process.communicate()
            raise AssertionError(f"service exited with {service.process.returncode}: {stderr}")
        with contextlib.suppress(OSError):
            if service.get("/healthz")[0] == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"service did not answer /healthz within {STARTUP_TIMEOUT_SECONDS}s")


def empty_root_with(binary: Path, root: Path) -> Path:
    """A folder holding only the binary, to run it chrooted like a FROM scratch image."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / "app"
    target.write_bytes(binary.read_bytes())
    target.chmod(0o755)
    return root


def chroot_command(root: Path, *args: str) -> list[str]:
    # Resolved here: the service runs with a minimal environment that has no PATH.
    chroot = shutil.which("chroot")
    assert chroot, "chroot is missing (coreutils)"
    return [chroot, str(root), "/app", *args]


def can_chroot() -> bool:
    return os.geteuid() == 0
