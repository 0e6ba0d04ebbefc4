"""Rung 6 for metrics and trace context: the binary the default image ships (and, for
`metrics=none`, the low-port row's) is run on loopback, sent a known sequence of requests, and
its /metrics read with the Prometheus project's reference parsers; its answers, its log lines and
what reaches a fake upstream show the W3C trace context travelling.

The service's own integration tests (tests/api/metrics.rs, trace_context.rs) check the same
behaviour in process; this checks the shipped binary with Prometheus' parsers.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import tomlkit

from tests.exposition import histogram_problems, parse, samples, series_of, value
from tests.service import RunningService, free_port, running_service
from tooling.questions import REPO_ROOT
from tooling.sbom import embedded_dependencies, runtime_package_names

pytestmark = pytest.mark.slow

DEFAULTS = pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
# What Prometheus 3 sends by default.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,"
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def call(service: RunningService, path: str, **headers: str) -> Answer:
    request = urllib.request.Request(
        f"http://127.0.0.1:{service.port}{path}",
        headers={name.replace("_", "-"): v for name, v in headers.items()},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, answer = response.status, response
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        status, answer, body = error.code, error, error.read().decode()
    return Answer(status, {k.lower(): v for k, v in answer.headers.items()}, body)


@dataclass
class FakeUpstream:
    """An HTTP server on loopback that answers 200 and records the trace headers it gets."""

    server: http.server.ThreadingHTTPServer
    received: list[tuple[str | None, str | None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/status"

    def stop(self) -> None:
        """Close the port: the service's next call is refused (its 502)."""
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    received: list[tuple[str | None, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append((self.headers.get("traceparent"), self.headers.get("tracestate")))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"fine")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = FakeUpstream(server, received)
    try:
        yield upstream
    finally:
        with contextlib.suppress(OSError):
            upstream.stop()


@contextlib.contextmanager
def serving(built_image, tmp_path, upstream_url: str) -> Iterator[tuple[RunningService, object]]:
    """The image's binary with `/upstream` calling `upstream_url`; its log goes to a file."""
    log = tmp_path / "service.log"
    with (
        log.open("w") as stdout,
        running_service(
            [str(built_image.binary)], extra_env={"APP_UPSTREAM_URL": upstream_url}, stdout=stdout
        ) as service,
    ):
        yield service, log


def log_records(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def request_line(log, request_id: str) -> dict:
    (line,) = [
        record
        for record in log_records(log)
        if record.get("message") == "request" and record["span"]["request_id"] == request_id
    ]
    return line


def scrape(service: RunningService, accept: str | None = None) -> Answer:
    answer = call(service, "/metrics", **({"Accept": accept} if accept else {}))
    assert answer.status == 200
    return answer


@DEFAULTS
def test_known_requests_give_exact_counts_that_prometheus_parsers_accept(built_image, tmp_path):
    with fake_upstream() as upstream, serving(built_image, tmp_path, upstream.url) as (service, _):
        assert [call(service, "/upstream").status for _ in range(2)] == [200, 200]
        assert call(service, "/nope").status == 404
        assert call(service, "/healthz").status == 200
        assert call(service, "/readyz").status == 200
        upstream.stop()
        assert call(service, "/upstream").status == 502
        plain = scrape(service)
        openmetrics = scrape(service, PROMETHEUS_ACCEPT)

    assert plain.headers["content-type"] == PROMETHEUS_TEXT
    assert openmetrics.headers["content-type"] == OPENMETRICS
    for text, is_openmetrics in [(plain.body, False), (openmetrics.body, True)]:
        families = parse(text, openmetrics=is_openmetrics)
        found = samples(families)
        requests = "http_server_requests_total"
        assert value(found, requests, method="GET", route="/upstream", status="200") == 2
        assert value(found, requests, method="GET", route="/upstream", status="502") == 1
        assert value(found, requests, method="GET", route="unmatched", status="404") == 1
        # Probes and scrapes are not traffic.
        assert len(series_of(found, requests)) == 3
        assert value(found, "http_client_requests_total", result="ok") == 2
        assert value(found, "http_client_requests_total", result="unreachable") == 1
        assert value(found, "http_server_active_requests") == 0
        assert value(found, "http_server_open_connections") == 1  # the scrape's own
        assert value(found, "http_server_connection_limit_waits_total") == 0

        duration = "http_server_request_duration_seconds"
        assert histogram_problems(families, duration) == []
        # Each route's histogram counts every request the counter counts for it.
        for route, answered in [("/upstream", 3), ("unmatched", 1)]:
            count = value(found, f"{duration}_count", method="GET", route=route)
            assert count == answered, route
        (build,) = series_of(found, "service_build_info")
        assert build["service"] == "svc-defaults"
        assert build["version"] == "0.1.0"
        assert build["revision"] == "unknown"  # no REVISION build argument was given
        assert build["rustc"].startswith("rustc 1.")
        runtime = tomlkit.parse((REPO_ROOT / "template/runtime/Cargo.toml").read_text("utf-8"))
        assert build["runtime"] == runtime["package"]["version"]


def test_the_parsers_and_the_histogram_check_refuse_broken_expositions():
    """Controls: each checker above fails on an exposition broken the way it looks for."""
    good = (
        "# TYPE t histogram\n"
        't_bucket{le="0.1"} 1\nt_bucket{le="1"} 2\nt_bucket{le="+Inf"} 2\nt_sum 0.5\nt_count 2\n'
    )
    assert histogram_problems(parse(good, openmetrics=False), "t") == []
    decreasing = good.replace('t_bucket{le="1"} 2', 't_bucket{le="1"} 0')
    assert histogram_problems(parse(decreasing, openmetrics=False), "t") == ["{}: buckets decrease"]
    wrong_count = good.replace("t_count 2", "t_count 3")
    assert (
        "is not the +Inf bucket"
        in histogram_problems(parse(wrong_count, openmetrics=False), "t")[0]
    )
    with pytest.raises(ValueError):
        parse('requests_total{method="GET" 1\n', openmetrics=False)
    with pytest.raises(ValueError, match="EOF"):
        parse(good, openmetrics=True)
    with pytest.raises(ValueError, match="out of order"):
        parse(decreasing + "# EOF\n", openmetrics=True)


@DEFAULTS
def test_a_thousand_random_paths_add_one_series(built_image, tmp_path):
    with serving(built_image, tmp_path, "http://127.0.0.1:9/") as (service, _):
        for i in range(1000):
            assert call(service, f"/random/{i * 2654435761 % 2**32:08x}").status == 404
        text = scrape(service).body

    found = samples(parse(text, openmetrics=False))
    assert series_of(found, "http_server_requests_total") == [
        {"method": "GET", "route": "unmatched", "status": "404"}
    ]
    requests = value(
        found, "http_server_requests_total", method="GET", route="unmatched", status="404"
    )
    assert requests == 1000
    assert "/random/" not in text


@DEFAULTS
def test_a_callers_trace_reaches_the_upstream_as_a_child_and_the_log_line(built_image, tmp_path):
    sent = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
    with (
        fake_upstream() as upstream,
        serving(built_image, tmp_path, upstream.url) as (service, log),
    ):
        answer = call(
            service,
            "/upstream",
            traceparent=sent,
            tracestate="congo=t61rcWkgMzE",
            x_request_id="trace-e2e",
        )
        received = list(upstream.received)
        assert service.stop(timeout=10) == 0

    assert answer.status == 200
    trace_id, span_id = TRACEPARENT.fullmatch(answer.headers["traceparent"]).groups()
    assert trace_id == TRACE_ID
    assert span_id != CALLER_SPAN
    # The upstream's parent is the service's span for the request; tracestate is unchanged.
    assert received == [(answer.headers["traceparent"], "congo=t61rcWkgMzE")]
    line = request_line(log, "trace-e2e")
    assert line["span"]["trace_id"] == TRACE_ID
    assert line["span"]["span_id"] == span_id
    assert line["span"]["parent_id"] == CALLER_SPAN


MALFORMED = {
    "wrong version": f"ff-{TRACE_ID}-{CALLER_SPAN}-01",
    "all-zero trace id": f"00-{'0' * 32}-{CALLER_SPAN}-01",
    "all-zero parent id": f"00-{TRACE_ID}-{'0' * 16}-01",
    "too short": f"00-{TRACE_ID}-{CALLER_SPAN}-1",
    "too long": f"00-{TRACE_ID}-{CALLER_SPAN}-01-",
    "uppercase hex": f"00-{TRACE_ID.upper()}-{CALLER_SPAN.upper()}-01",
}


@DEFAULTS
def test_malformed_traceparents_are_replaced_not_propagated(built_image, tmp_path):
    with (
        fake_upstream() as upstream,
        serving(built_image, tmp_path, upstream.url) as (service, log),
    ):
        answers = {
            case: call(
                service, "/upstream", traceparent=bad, tracestate="rojo=1", x_request_id=f"bad-{i}"
            )
            for i, (case, bad) in enumerate(MALFORMED.items())
        }
        received = list(upstream.received)
        assert service.stop(timeout=10) == 0

    assert len(received) == len(MALFORMED)
    for i, ((case, answer), (forwarded, state)) in enumerate(
        zip(answers.items(), received, strict=True)
    ):
        assert answer.status == 200, case
        echoed = answer.headers["traceparent"]
        new_trace, _ = TRACEPARENT.fullmatch(echoed).groups()
        assert new_trace != TRACE_ID, case
        assert (forwarded, state) == (echoed, None), case
        line = request_line(log, f"bad-{i}")
        assert line["span"]["trace_id"] == new_trace, case
        assert "parent_id" not in line["span"], case
    all_logs = json.dumps(log_records(log)).lower()
    assert TRACE_ID not in all_logs and CALLER_SPAN not in all_logs


@pytest.mark.parametrize(
    ("built_image", "answered"),
    [("defaults", True), ("low-port-abort-s-system", False)],
    indirect=["built_image"],
)
def test_the_metrics_crate_is_compiled_in_only_when_answered(built_image, answered):
    """The low-port row answers `metrics=none`; the defaults are the control."""
    assert (
        "prometheus-client" in runtime_package_names(embedded_dependencies(built_image.binary))
    ) is answered


@pytest.mark.parametrize("built_image", ["low-port-abort-s-system"], indirect=True)
def test_metrics_none_serves_no_metrics_route_and_still_traces(built_image, tmp_path):
    with serving(built_image, tmp_path, f"http://127.0.0.1:{free_port()}/") as (service, _):
        assert call(service, "/metrics").status == 404
        answer = call(service, "/healthz", traceparent=f"00-{TRACE_ID}-{CALLER_SPAN}-01")
    assert TRACEPARENT.fullmatch(answer.headers["traceparent"]).group(1) == TRACE_ID
