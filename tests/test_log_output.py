"""Logging never stalls serving: the image's binary, with stdout a pipe that nobody reads or
that a slow reader drains, answers every request and probe, drops log lines instead of waiting,
counts them exactly (`/metrics` and one report line once writing works again), and exits on
SIGTERM within its shutdown timeline.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.service import running_service

pytestmark = pytest.mark.slow

# More lines than the pipe (64 KiB) and the service's buffer (512 KiB) hold together.
STALLED_REQUESTS = 10_000
PROBE_EVERY = 1_000
DRAIN_SECS, TIMEOUT_SECS, LOG_FLUSH_SECS = 1, 2, 1


@dataclass
class Service:
    """The binary on a free port, its stdout a pipe the test reads only when told to."""

    binary: Path
    process: subprocess.Popen[bytes]
    port: int
    # Requests answered, each of which the service logs (or counts as dropped).
    requests: int = 0
    lines: list[dict] = field(default_factory=list)
    reader: threading.Thread | None = None
    # Bytes per second the reader takes; None reads as fast as lines come.
    reading_rate: int | None = None

    def get(self, connection: http.client.HTTPConnection, path: str, **headers: str) -> int:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        self.requests += 1
        return response.status

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

    def healthcheck(self) -> int:
        """`/app healthcheck`, as the image's HEALTHCHECK runs it (one more request)."""
        self.requests += 1
        env = {"APP_PORT": str(self.port), "APP_HOST": "127.0.0.1"}
        return subprocess.run([self.binary, "healthcheck"], env=env, timeout=10).returncode

    def metric(self, name: str) -> int:
        connection = self.connect()
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        self.requests += 1
        connection.close()
        (value,) = [line.split()[1] for line in text.splitlines() if line.startswith(name + " ")]
        return int(float(value))

    def read_stdout(self, bytes_per_second: int | None = None) -> None:
        """Start reading stdout in the background, at `reading_rate` (changeable meanwhile)."""
        self.reading_rate = bytes_per_second

        def read() -> None:
            pending = b""
            while chunk := self._read_chunk():
                pending += chunk
                *complete, pending = pending.split(b"\n")
                self.lines.extend(json.loads(line) for line in complete)

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def _read_chunk(self) -> bytes:
        rate = self.reading_rate
        if rate is None:
            return os.read(self.process.stdout.fileno(), 65536)
        time.sleep(0.25)
        return os.read(self.process.stdout.fileno(), rate // 4)

    def wait_for_line(self, pick, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, line in enumerate(list(self.lines)):
                if pick(line):
                    return index
            time.sleep(0.05)
        raise AssertionError("no such log line")


@contextlib.contextmanager
def service_with_piped_stdout(binary: Path) -> Iterator[Service]:
    extra_env = {
        "APP_SHUTDOWN_DRAIN_SECS": str(DRAIN_SECS),
        "APP_SHUTDOWN_TIMEOUT_SECS": str(TIMEOUT_SECS),
    }
    with running_service([str(binary)], extra_env=extra_env) as running:
        # Healthy once it answered one GET /healthz: that request is logged too.
        yield Service(binary, running.process, running.port, requests=1)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("message") == "request"]


def drop_reports(lines: list[dict]) -> list[int]:
    return [index for index, line in enumerate(lines) if "dropped" in line]


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_a_log_reader_that_never_reads_costs_lines_never_requests(built_image):
    with service_with_piped_stdout(built_image.binary) as service:
        connection = service.connect()
        for n in range(STALLED_REQUESTS):
            assert service.get(connection, "/healthz", **{"x-request-id": f"stalled-{n}"}) == 200
            if n % PROBE_EVERY == 0:
                assert service.get(connection, "/readyz") == 200
                assert service.healthcheck() == 0
        dropped_while_stalled = service.metric("log_lines_dropped_total")
        assert dropped_while_stalled > 0

        service.read_stdout()
        report = service.wait_for_line(lambda line: "dropped" in line)
        for n in range(10):
            service.get(connection, "/healthz", **{"x-request-id": f"after-{n}"})
        service.wait_for_line(lambda line: line.get("span", {}).get("request_id") == "after-9")
        dropped = service.metric("log_lines_dropped_total")
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=10) == 0
        service.reader.join(timeout=10)

    lines = service.lines
    assert drop_reports(lines) == [report], "one report, once writing works again"
    assert lines[report]["dropped"] == dropped >= dropped_while_stalled
    # Every request has its line or is counted: nothing else was dropped.
    assert len(request_lines(lines)) + dropped == service.requests
    ids = [line.get("span", {}).get("request_id") for line in lines]
    assert report < ids.index("after-0")


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_sigterm_with_a_full_log_pipe_exits_0_within_the_shutdown_timeline(built_image):
    with service_with_piped_stdout(built_image.binary) as service:
        connection = service.connect()
        for _ in range(3_000):
            assert service.get(connection, "/healthz") == 200
        assert service.metric("log_lines_dropped_total") > 0
        started = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=15) == 0
        took = time.monotonic() - started
    # Drain, the deadline for requests in flight (none here: connections close at once), then
    # at most the log flush's second: nobody ever read the pipe.
    assert took < DRAIN_SECS + TIMEOUT_SECS + LOG_FLUSH_SECS + 1, took


def latencies(service: Service, count: int) -> list[float]:
    connection = service.connect()
    measured = []
    for _ in range(count):
        started = time.perf_counter()
        assert service.get(connection, "/healthz") == 200
        measured.append(time.perf_counter() - started)
    return measured


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_a_slow_log_reader_neither_slows_serving_nor_loses_count(built_image):
    with service_with_piped_stdout(built_image.binary) as service:
        service.read_stdout()
        baseline = latencies(service, 2_000)
        service.reader = None

    with service_with_piped_stdout(built_image.binary) as service:
        service.read_stdout(bytes_per_second=4096)
        started = time.monotonic()
        # About 1 MB of request lines: twice the 512 KiB buffer, so lines are dropped however
        # long the run takes (2,000 lines, about 500 KB, filled it only when serving was fast).
        slowed = latencies(service, 4_000)
        took = time.monotonic() - started
        # The reader catches up, so that every line still buffered gets written.
        service.reading_rate = None
        service.wait_for_line(lambda line: "dropped" in line)
        time.sleep(1)
        dropped = service.metric("log_lines_dropped_total")
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=15) == 0
        service.reader.join(timeout=10)

    # At 4 KB/s a writer that waited for the reader would serve about 12 requests a second.
    assert took < 30, took
    assert statistics.median(slowed) < 3 * statistics.median(baseline) + 0.002
    assert dropped > 0
    lines = service.lines
    assert sum(lines[index]["dropped"] for index in drop_reports(lines)) == dropped
    assert len(request_lines(lines)) + dropped == service.requests
