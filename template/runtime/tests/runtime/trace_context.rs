//! W3C trace context end to end: a caller's trace continues through the
//! service to its upstream and into its logs; malformed values never travel.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use reqwest::StatusCode;

use crate::helpers::{TestApp, logs_of_request, spawn_upstream, with_upstream};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// `traceparent` and `tracestate` of every request an upstream received.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// An upstream answering 200 that records the trace headers it gets.
async fn recording_upstream() -> (String, Seen) {
    let seen = Seen::default();
    let record = Arc::clone(&seen);
    let handler = get(move |headers: HeaderMap| async move {
        let header = |name: &str| {
            headers
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
        };
        let trace = (header("traceparent"), header("tracestate"));
        record.lock().unwrap().push(trace);
        "fine"
    });
    let addr = spawn_upstream(Router::new().route("/", handler)).await;
    (format!("http://{addr}/"), seen)
}

/// The (version, trace id, parent id, flags) of a `traceparent`.
fn fields(traceparent: &str) -> (String, String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    let field = |i: usize| parts[i].to_owned();
    (field(0), field(1), field(2), field(3))
}

/// Calls `/upstream` with `headers`; the answer's `traceparent`, and the
/// request's log line.
async fn call(
    app: &TestApp,
    request_id: &str,
    headers: &[(&str, &str)],
) -> (String, serde_json::Value) {
    let mut request = app
        .client
        .get(app.url("/upstream"))
        .header("x-request-id", request_id);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let traceparent = response.headers()["traceparent"].to_str().unwrap();
    let traceparent = traceparent.to_owned();
    let lines = logs_of_request(request_id);
    let line = lines
        .iter()
        .find(|line| line["message"] == "request")
        .expect("a request line")
        .clone();
    (traceparent, line)
}

#[tokio::test]
async fn a_callers_trace_reaches_the_upstream_as_a_child_and_the_log_line() {
    let (url, seen) = recording_upstream().await;
    let app = with_upstream(&url).await;
    let sent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    let state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

    let headers = [("traceparent", sent.as_str()), ("tracestate", state)];
    let (answered, line) = call(&app, "trace-test-continued", &headers).await;

    let (version, trace_id, span_id, flags) = fields(&answered);
    assert_eq!((version.as_str(), flags.as_str()), ("00", "01"));
    assert_eq!(trace_id, TRACE_ID);
    assert_ne!(span_id, CALLER_SPAN, "the service's span has its own id");
    let upstream = seen.lock().unwrap().clone();
    assert_eq!(
        upstream,
        vec![(Some(answered.clone()), Some(state.to_owned()))],
        "the upstream's parent is the service's span; tracestate unchanged"
    );
    assert_eq!(line["span"]["trace_id"], TRACE_ID);
    assert_eq!(line["span"]["span_id"], span_id.as_str());
    assert_eq!(line["span"]["parent_id"], CALLER_SPAN);
}

#[tokio::test]
async fn an_unsampled_trace_stays_unsampled() {
    let (url, seen) = recording_upstream().await;
    let app = with_upstream(&url).await;
    let sent = format!("00-{TRACE_ID}-{CALLER_SPAN}-00");

    let headers = [("traceparent", sent.as_str())];
    let (answered, _) = call(&app, "trace-test-unsampled", &headers).await;

    assert_eq!(fields(&answered).3, "00");
    assert_eq!(
        seen.lock().unwrap()[0].0.as_deref(),
        Some(answered.as_str())
    );
}

#[tokio::test]
async fn a_later_version_is_continued_as_version_00() {
    let (url, seen) = recording_upstream().await;
    let app = with_upstream(&url).await;
    let sent = format!("cc-{TRACE_ID}-{CALLER_SPAN}-01-a-future-field");

    let headers = [("traceparent", sent.as_str())];
    let (answered, line) = call(&app, "trace-test-later-version", &headers).await;

    let (version, trace_id, _, _) = fields(&answered);
    assert_eq!((version.as_str(), trace_id.as_str()), ("00", TRACE_ID));
    assert_eq!(line["span"]["parent_id"], CALLER_SPAN);
    assert_eq!(
        seen.lock().unwrap()[0].0.as_deref(),
        Some(answered.as_str())
    );
}

#[tokio::test]
async fn without_a_traceparent_the_service_starts_a_sampled_trace() {
    let (url, seen) = recording_upstream().await;
    let app = with_upstream(&url).await;

    let (answered, line) = call(&app, "trace-test-started", &[]).await;

    let (version, trace_id, span_id, flags) = fields(&answered);
    assert_eq!((version.as_str(), flags.as_str()), ("00", "01"));
    assert_eq!(line["span"]["trace_id"], trace_id.as_str());
    assert_eq!(line["span"]["span_id"], span_id.as_str());
    assert!(line["span"].get("parent_id").is_none(), "{line}");
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![(Some(answered.clone()), None)]
    );
}

#[tokio::test]
async fn malformed_traceparents_are_replaced_and_never_propagated() {
    let upper = format!("00-{}-{CALLER_SPAN}-01", TRACE_ID.to_uppercase());
    let cases = [
        ("wrong-version", format!("ff-{TRACE_ID}-{CALLER_SPAN}-01")),
        (
            "zero-trace-id",
            format!("00-{}-{CALLER_SPAN}-01", "0".repeat(32)),
        ),
        (
            "zero-parent-id",
            format!("00-{TRACE_ID}-{}-01", "0".repeat(16)),
        ),
        ("too-short", format!("00-{TRACE_ID}-{CALLER_SPAN}-1")),
        ("too-long", format!("00-{TRACE_ID}-{CALLER_SPAN}-01-00")),
        ("uppercase-hex", upper),
    ];
    for (name, bad) in cases {
        let (url, seen) = recording_upstream().await;
        let app = with_upstream(&url).await;

        let headers = [("traceparent", bad.as_str()), ("tracestate", "rojo=1")];
        let request_id = format!("trace-test-malformed-{name}");
        let (answered, line) = call(&app, &request_id, &headers).await;

        let (_, trace_id, _, _) = fields(&answered);
        assert_ne!(trace_id.to_lowercase(), TRACE_ID, "{name}: a new trace");
        assert_ne!(answered, bad, "{name}");
        assert!(!line.to_string().contains(CALLER_SPAN), "{name}: {line}");
        let upstream = seen.lock().unwrap().clone();
        assert_eq!(upstream, vec![(Some(answered), None)], "{name}");
    }
}

#[tokio::test]
async fn every_event_of_the_request_carries_its_trace() {
    // A closed port: the outbound call fails and logs a warning.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = with_upstream(&format!("http://{closed}/")).await;
    let sent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");

    let response = app
        .client
        .get(app.url("/upstream"))
        .header("x-request-id", "trace-test-every-event")
        .header("traceparent", &sent)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let lines = logs_of_request("trace-test-every-event");
    assert_eq!(
        lines.len(),
        2,
        "the warning and the request line: {lines:?}"
    );
    for line in &lines {
        assert_eq!(line["span"]["trace_id"], TRACE_ID, "{line}");
        assert_eq!(line["span"]["parent_id"], CALLER_SPAN, "{line}");
    }
}
