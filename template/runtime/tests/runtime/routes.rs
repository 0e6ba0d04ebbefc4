use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use service_runtime::Config;

use crate::helpers::{
    error_message, logs_of_request, spawn, spawn_upstream, test_config, with_upstream,
};

#[tokio::test]
async fn healthz_says_ok() {
    let app = spawn(test_config()).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn readyz_says_ready() {
    let app = spawn(test_config()).await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );
}

#[tokio::test]
async fn unknown_path_is_404() {
    let app = spawn(test_config()).await;

    assert_eq!(app.get("/nope").await.status(), StatusCode::NOT_FOUND);
}

/// Built without the `metrics` feature (`metrics` answer `none`).
#[cfg(not(feature = "metrics"))]
#[tokio::test]
async fn without_the_metrics_feature_there_is_no_metrics_route() {
    let app = spawn(test_config()).await;

    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn upstream_without_url_is_503() {
    let app = spawn(test_config()).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_message(response).await, "APP_UPSTREAM_URL is not set");
}

#[tokio::test]
async fn upstream_reports_the_upstream_status_and_only_its_origin() {
    let upstream = spawn_upstream(Router::new().route("/status", get(|| async { "fine" }))).await;
    let app = with_upstream(&format!("http://user:pw@{upstream}/status?api_key=k")).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"upstream": format!("http://{upstream}"), "status": 200, "ok": true})
    );
}

#[tokio::test]
async fn unreachable_upstream_is_a_generic_502_with_details_only_in_the_log() {
    // Bind then drop a listener: the port is now very likely closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = with_upstream(&format!("http://{closed}/?api_key=k")).await;

    let response = app
        .client
        .get(app.url("/upstream"))
        .header("x-request-id", "routes-test-502")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "upstream unavailable", "request_id": "routes-test-502"})
    );
    let logs = logs_of_request("routes-test-502");
    let warning = logs
        .iter()
        .find(|line| line["message"] == "upstream request failed")
        .expect("the failure is logged");
    assert_eq!(warning["upstream"], format!("http://{closed}"));
    assert!(
        warning["error"]
            .as_str()
            .unwrap()
            .starts_with("error sending request")
    );
    assert!(!format!("{logs:?}").contains("api_key"));
}

/// An upstream that accepts connections and never answers.
async fn hung_upstream() -> String {
    let hang = get(std::future::pending::<&'static str>);
    format!(
        "http://{}/",
        spawn_upstream(Router::new().route("/", hang)).await
    )
}

#[tokio::test]
async fn an_upstream_timeout_is_504() {
    let app = spawn(Config {
        upstream_url: Some(hung_upstream().await.parse().unwrap()),
        request_timeout: Duration::from_millis(300),
        ..test_config()
    })
    .await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error_message(response).await, "upstream timed out");
}

#[tokio::test]
async fn a_handler_over_its_time_is_answered_503() {
    let app = spawn(Config {
        upstream_url: Some(hung_upstream().await.parse().unwrap()),
        handler_timeout: Duration::from_millis(300),
        ..test_config()
    })
    .await;

    let response = tokio::time::timeout(Duration::from_secs(5), app.get("/upstream"))
        .await
        .expect("answered after the handler timeout");

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn outbound_requests_in_flight_are_capped() {
    let app = spawn(Config {
        upstream_url: Some(hung_upstream().await.parse().unwrap()),
        upstream_concurrency: 2,
        handler_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        ..test_config()
    })
    .await;
    let hung: Vec<_> = (0..2)
        .map(|_| tokio::spawn(app.client.get(app.url("/upstream")).send()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        error_message(response).await,
        "too many upstream requests in flight"
    );
    for request in hung {
        request.abort();
    }
}
