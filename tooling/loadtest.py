"""Run a built service on loopback and measure it: start-up, memory, throughput and latency.

Load comes from wrk (Debian's `wrk` package). wrk and the service share the machine's cores, so
the figures compare rows of one run; they are not a capacity statement.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
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

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start(binary: Path) -> Service:
    """Start the binary and time it from exec to its first 200 on /healthz."""
    port = free_port()
    env = {"APP_PORT": str(port), "APP_HOST": "127.0.0.1", "APP_LOG": "warn"}
    started = time.perf_counter()
    process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL)
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


def load(service: Service, path: str, connections: int, seconds: int) -> LoadResult:
    threads = min(connections, 2)
    url = f"http://127.0.0.1:{service.port}{path}"
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(output)
