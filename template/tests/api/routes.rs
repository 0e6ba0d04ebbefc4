use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_message, spawn_upstream, test_config};

#[tokio::test]
async fn healthz_says_ok() {
    let app = TestApp::spawn(test_config()).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn readyz_says_ready() {
    let app = TestApp::spawn(test_config()).await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );
}

#[tokio::test]
async fn unknown_path_is_404() {
    let app = TestApp::spawn(test_config()).await;

    assert_eq!(app.get("/nope").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn upstream_without_url_is_503() {
    let app = TestApp::spawn(test_config()).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "APP_UPSTREAM_URL is not set"})
    );
}

#[tokio::test]
async fn upstream_reports_the_upstream_status() {
    let upstream = spawn_upstream(Router::new().route("/status", get(|| async { "fine" }))).await;
    let url = format!("http://{upstream}/status");
    let app = TestApp::with_upstream(&url).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"upstream": url, "status": 200, "ok": true})
    );
}

#[tokio::test]
async fn unreachable_upstream_is_502() {
    // Bind then drop a listener: the port is now very likely closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = TestApp::with_upstream(&format!("http://{closed}/")).await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let error = error_message(response).await;
    assert!(error.starts_with("error sending request"), "{error}");
}
