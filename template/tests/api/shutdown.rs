use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokio::sync::mpsc;

use crate::helpers::{TestApp, spawn_upstream, test_config};

#[tokio::test]
async fn stops_when_triggered() {
    let app = TestApp::spawn(test_config()).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    app.stop().await.expect("server stops cleanly");
}

#[tokio::test]
async fn in_flight_request_finishes_after_shutdown_starts() {
    // A slow upstream that says when a request has arrived.
    let (arrived_tx, mut arrived) = mpsc::channel::<()>(1);
    let slow = get(move || {
        let arrived_tx = arrived_tx.clone();
        async move {
            let _ = arrived_tx.send(()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }
    });
    let upstream = spawn_upstream(Router::new().route("/", slow)).await;
    let app = TestApp::with_upstream(&format!("http://{upstream}/")).await;

    let in_flight = tokio::spawn(app.client.get(app.url("/upstream")).send());
    arrived.recv().await.expect("request reaches the upstream");
    let stopped = app.stop().await;

    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    stopped.expect("server stops cleanly");
}
