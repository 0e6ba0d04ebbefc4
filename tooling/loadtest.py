"""Run a built service on loopback and measure it: start-up, memory, throughput, latency and the
CPU time each request costs.

Load comes from wrk (Debian's `wrk` package). In `cpu_per_request` the service has one core and
wrk the other, and the figure is the service's whole CPU time (every thread, user and system)
divided by the requests it answered: on two shared cores that is far steadier than requests per
second, which also measure how the two processes happen to share the cores.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 15
HEALTHZ_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
UNITS_IN_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthz_answers_200(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(HEALTHZ_REQUEST)
            return connection.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    startup_seconds: float

    def rss_kib(self, field: str = "VmRSS") -> int:
        """Resident memory now (VmRSS) or at its peak so far (VmHWM), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def cpu_seconds(self) -> float:
        """User and system CPU time of every thread of the service so far."""
        # Fields 14 and 15 of /proc/PID/stat, counted after the command name's closing bracket.
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def pinned_to(cpus: set[int] | None) -> Callable[[], None] | None:
    """A `preexec_fn` that pins the child to `cpus` before exec, so that every thread it
    starts inherits them; None leaves it unpinned."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def start(
    binary: Path, env: Mapping[str, str] | None = None, cpus: set[int] | None = None
) -> Service:
    """Start the binary and time it from exec to its first 200 on /healthz. Logs go to
    /dev/null, off (`APP_LOG=warn`) unless `env` says otherwise; `cpus` pins every thread."""
    port = free_port()
    env = {"APP_PORT": str(port), "APP_HOST": "127.0.0.1", "APP_LOG": "warn", **(env or {})}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(binary)],
        env=env,
        stdout=subprocess.DEVNULL,
        preexec_fn=pinned_to(cpus),
    )
    while not _healthz_answers_200(port):
        if process.poll() is not None or time.perf_counter() - started > STARTUP_TIMEOUT_SECONDS:
            process.kill()
            raise RuntimeError(f"{binary} did not serve /healthz (exit {process.poll()})")
        time.sleep(0.0005)
    return Service(process, port, time.perf_counter() - started)


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def parse_wrk(output: str) -> LoadResult:
    """Requests per second and the p50/p99 latencies from `wrk --latency` output."""

    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            raise ValueError(f"no {percentile}% latency in wrk output:\n{output}")
        return float(match[1]) * UNITS_IN_MS[match[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not rate:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    return LoadResult(float(rate[1]), latency("50"), latency("99"))


def run_wrk(
    service: Service, path: str, connections: int, seconds: int, threads: int, cpus: set[int] | None
) -> str:
    url = f"http://127.0.0.1:{service.port}{path}"
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=pinned_to(cpus),
    ).stdout


def load(service: Service, path: str, connections: int, seconds: int) -> LoadResult:
    output = run_wrk(service, path, connections, seconds, min(connections, 2), None)
    return parse_wrk(output)


def requests_done(output: str) -> int:
    """How many requests wrk completed (`N requests in Xs`), and none failed."""
    done = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    if not done:
        raise ValueError(f"no request count in wrk output:\n{output}")
    if re.search(r"^\s*(Non-2xx or 3xx responses|Socket errors):", output, re.MULTILINE):
        raise ValueError(f"wrk saw failed requests:\n{output}")
    return int(done[1])


@dataclass
class CpuResult:
    microseconds_per_request: float
    requests_per_second: float


def cpu_per_request(
    service: Service,
    path: str,
    seconds: int,
    connections: int = 16,
    wrk_cpus: set[int] | None = None,
) -> CpuResult:
    """The service's CPU time per request answered under `connections` connections, with wrk
    on `wrk_cpus` (one thread): pin the service elsewhere with `start(..., cpus=...)`."""
    before = service.cpu_seconds()
    output = run_wrk(service, path, connections, seconds, 1, wrk_cpus)
    cpu = service.cpu_seconds() - before
    return CpuResult(cpu * 1e6 / requests_done(output), parse_wrk(output).requests_per_second)
