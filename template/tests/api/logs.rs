//! One JSON line per request, request ids in and out, panics as one event.

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, logs_of_request, test_config};

#[tokio::test]
async fn every_request_is_logged_once_with_its_id_and_without_its_query() {
    let app = TestApp::spawn(test_config()).await;

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
async fn a_malformed_request_id_is_replaced_by_a_new_one() {
    let app = TestApp::spawn(test_config()).await;

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
    let app = TestApp::spawn(test_config()).await;

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

{% if cookiecutter.panic_strategy == "unwind" -%}
/// The release profile unwinds too (`panic_strategy` answer `unwind`).
#[tokio::test]
async fn a_panicking_handler_answers_500_is_logged_as_one_event_and_the_service_survives() {
{%- else -%}
/// The release profile aborts (`panic_strategy` answer `abort`): there a
/// panic is logged as this one event and then ends the process, by design.
/// `cargo test` always unwinds, so only the event is the release behaviour.
#[tokio::test]
async fn a_panicking_handler_is_logged_as_one_event() {
{%- endif %}
    async fn panics() -> &'static str {
        panic!("test panic")
    }
    let panics = Router::new().route("/panic", get(panics));
    let app = TestApp::spawn_with(test_config(), panics).await;

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
{%- if cookiecutter.panic_strategy == "unwind" %}
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
{%- else %}
    drop(response);
{%- endif %}
}
