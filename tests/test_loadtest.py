"""The benchmark's measuring tools work on a real service: start-up, memory and wrk's figures.

Timings are not asserted (the benchmark script reports them); only that each is measured.
"""

from __future__ import annotations

import os

import pytest

from tooling import loadtest


@pytest.mark.slow
@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_start_measure_and_load_a_real_service(built_image):
    service = loadtest.start(built_image.binary)
    try:
        assert 0 < service.startup_seconds < loadtest.STARTUP_TIMEOUT_SECONDS
        assert service.rss_kib() > 0
        result = loadtest.load(service, "/healthz", connections=4, seconds=1)
        assert result.requests_per_second > 0
        assert 0 < result.p50_ms <= result.p99_ms
        assert service.rss_kib("VmHWM") >= service.rss_kib()
    finally:
        service.stop()
    assert service.process.returncode == 0


def test_wrk_output_in_microseconds_and_seconds_is_read_in_milliseconds():
    output = (
        "  Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     99%    1.20s\n"
        "Requests/sec:  40123.45\n"
    )
    result = loadtest.parse_wrk(output)
    assert (result.requests_per_second, result.p50_ms, result.p99_ms) == (40123.45, 0.812, 1200.0)


def test_wrk_request_counts_are_read_and_failed_requests_refused():
    output = "  160000 requests in 5.00s, 20.00MB read\nRequests/sec:  32000.00\n"
    assert loadtest.requests_done(output) == 160000
    with pytest.raises(ValueError, match="failed requests"):
        loadtest.requests_done(output + "  Non-2xx or 3xx responses: 12\n")
    with pytest.raises(ValueError, match="no request count"):
        loadtest.requests_done("Requests/sec:  1.00\n")


@pytest.mark.slow
@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_cpu_per_request_counts_every_thread_of_a_pinned_service(built_image):
    service = loadtest.start(built_image.binary, env={"APP_LOG": "info"}, cpus={0})
    try:
        assert os.sched_getaffinity(service.process.pid) == {0}
        result = loadtest.cpu_per_request(service, "/healthz", seconds=1, wrk_cpus={1})
    finally:
        service.stop()
    # A request costs some microseconds of CPU, not nothing and not a millisecond.
    assert 1 < result.microseconds_per_request < 1000
    assert result.requests_per_second > 0
