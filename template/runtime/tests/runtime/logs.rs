//! One JSON line per request, request ids in and out, panics as one event;
//! a log reader that stalls costs lines, never requests.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use service_runtime::telemetry;

use crate::helpers::{Binary, local_client, logs_of_request, spawn, spawn_with, test_config};

#[tokio::test]
async fn every_request_is_logged_once_with_its_id_and_without_its_query() {
    let app = spawn(test_config()).await;

    let response = app
        .client
        .get(app.url("/healthz?token=secret"))
        .header("x-request-id", "logs-test-request-line")
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["x-request-id"], "logs-test-request-line");
    assert_eq!(response.status(), StatusCode::OK);
    let lines = logs_of_request("logs-test-request-line");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["message"], "request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/healthz");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], 15);
    assert!(
        line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert!(!line.to_string().contains("secret"));
}

#[tokio::test]
async fn events_in_a_span_of_your_own_and_in_spawned_tasks_carry_the_request() {
    async fn handler() -> &'static str {
        let span = tracing::info_span!("lookup", order_id = 42);
        span.in_scope(|| tracing::info!("inside a span of the handler"));
        let spawned = tokio::spawn(telemetry::in_request_context(async {
            tracing::info!("in a spawned task");
        }));
        spawned.await.unwrap();
        "ok"
    }
    let routes = Router::new().route("/nested", get(handler));
    let app = spawn_with(test_config(), routes).await;

    app.client
        .get(app.url("/nested"))
        .header("x-request-id", "logs-test-nested")
        .send()
        .await
        .unwrap();

    let lines = logs_of_request("logs-test-nested");
    let inside = lines
        .iter()
        .find(|line| line["message"] == "inside a span of the handler")
        .expect("the span's event has the request id");
    assert_eq!(inside["span"]["order_id"], 42);
    assert_eq!(inside["span"]["name"], "lookup");
    assert_eq!(inside["span"]["trace_id"].as_str().map(str::len), Some(32));
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "in a spawned task")
    );
}

#[tokio::test]
async fn a_malformed_request_id_is_replaced_by_a_new_one() {
    let app = spawn(test_config()).await;

    let response = app
        .client
        .get(app.url("/readyz"))
        .header("x-request-id", "not ok\"}")
        .send()
        .await
        .unwrap();

    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(logs_of_request(&id).len(), 1);
}

#[tokio::test]
async fn error_answers_carry_the_request_id() {
    let app = spawn(test_config()).await;

    let response = app
        .client
        .get(app.url("/upstream"))
        .header("x-request-id", "logs-test-error-body")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "APP_UPSTREAM_URL is not set", "request_id": "logs-test-error-body"})
    );
}

/// Tests unwind whatever a service's release profile does (its `panic`
/// setting): with `abort` the event is logged and then the process ends.
#[tokio::test]
async fn a_panicking_handler_answers_500_is_logged_as_one_event_and_the_service_survives() {
    async fn panics() -> &'static str {
        panic!("test panic")
    }
    let panics = Router::new().route("/panic", get(panics));
    let app = spawn_with(test_config(), panics).await;

    let response = app
        .client
        .get(app.url("/panic"))
        .header("x-request-id", "logs-test-panic")
        .send()
        .await
        .unwrap();

    let lines = logs_of_request("logs-test-panic");
    let panic_events: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "handler panicked")
        .collect();
    assert_eq!(panic_events.len(), 1, "{lines:?}");
    assert_eq!(panic_events[0]["panic"], "test panic");
    assert_eq!(panic_events[0]["level"], "ERROR");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "internal error", "request_id": "logs-test-panic"})
    );
    assert!(
        lines
            .iter()
            .any(|line| line["message"] == "request" && line["status"] == 500)
    );
    // The same server still answers.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

/// A log collector that stops reading: lines are dropped and counted, no
/// request waits, and once reading resumes the count comes first.
#[tokio::test]
async fn a_stalled_log_reader_costs_lines_never_requests() {
    const REQUESTS: usize = 3000;
    let service = Binary::start(&[("APP_LOG", "info")], "");
    service.pause_stdout(true);
    let client = local_client();
    let url = format!("http://{}/healthz", service.addr());

    let started = Instant::now();
    for n in 0..REQUESTS {
        let response = client
            .get(&url)
            .header("x-request-id", format!("stalled-{n}"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("served while nobody reads the log");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(started.elapsed() < Duration::from_secs(60));

    service.pause_stdout(false);
    service.wait_for_log(|line| line["dropped"].is_u64(), Duration::from_secs(10));
    client
        .get(&url)
        .header("x-request-id", "after-the-stall")
        .send()
        .await
        .unwrap();
    service.wait_for_log(
        |line| line["span"]["request_id"] == "after-the-stall",
        Duration::from_secs(10),
    );
    let lines = service.logs();
    let logged = lines
        .iter()
        .filter(|line| {
            line["span"]["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("stalled-"))
        })
        .count();
    let reports: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line["dropped"].is_u64())
        .map(|(at, _)| at)
        .collect();
    assert_eq!(reports.len(), 1, "one report once writing works again");
    let dropped = lines[reports[0]]["dropped"].as_u64().unwrap();
    assert!(dropped > 0);
    assert_eq!(logged + usize::try_from(dropped).unwrap(), REQUESTS);
    let after = lines
        .iter()
        .position(|line| line["span"]["request_id"] == "after-the-stall")
        .unwrap();
    assert!(reports[0] < after);
}
