//! What a service adds to the runtime: its own state, layers, readiness
//! checks and background tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_runtime::Config;
use service_runtime::testing::TestApp;

use crate::helpers::test_config;

#[derive(Clone)]
struct Orders {
    page_size: usize,
}

async fn page_size(State(orders): State<Orders>) -> String {
    orders.page_size.to_string()
}

async fn tagged(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("x-team", "orders".parse().unwrap());
    response
}

#[tokio::test]
async fn routes_with_their_own_state_and_layer_sit_inside_the_runtimes_layers() {
    let app = TestApp::spawn(test_config(), |_| {
        Router::new()
            .route("/page-size", get(page_size))
            .with_state(Orders { page_size: 50 })
            .layer(middleware::from_fn(tagged))
    })
    .await;

    let response = app
        .client
        .get(app.url("/page-size"))
        .header("x-request-id", "extensions-own-state")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-team"], "orders");
    // The runtime's layers wrap the team's: the request id is still echoed.
    assert_eq!(response.headers()["x-request-id"], "extensions-own-state");
    assert_eq!(response.text().await.unwrap(), "50");
}

#[tokio::test]
async fn a_failing_readiness_check_makes_readyz_503_and_healthz_stays_200() {
    let database_up = Arc::new(AtomicBool::new(false));
    let up = Arc::clone(&database_up);
    let app = TestApp::spawn(test_config(), move |state| {
        state.readiness.add_check("database", move || {
            let up = up.load(Ordering::Relaxed);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("connection refused".to_owned())
                }
            }
        });
        state.readiness.add_check("cache", || async { Ok(()) });
        Router::new()
    })
    .await;

    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "not ready", "failing": {"database": "connection refused"}})
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    database_up.store(true, Ordering::Relaxed);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_readiness_check_that_hangs_counts_as_failing() {
    let app = TestApp::spawn(test_config(), |state| {
        state.readiness.add_check("upstream", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        Router::new()
    })
    .await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.json::<Value>().await.unwrap();
    assert_eq!(body["failing"]["upstream"], "no answer within 1 s");
}

#[tokio::test]
async fn background_tasks_are_told_at_the_first_signal_and_awaited_or_cut() {
    let stopped_cleanly = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stopped_cleanly);
    let config = Config {
        shutdown_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let app = TestApp::spawn(config, move |state| {
        state.tasks.spawn("polite", move |mut stopping| async move {
            stopping.started().await;
            flag.store(true, Ordering::Relaxed);
        });
        // Ignores the signal: cut at the deadline.
        state.tasks.spawn("stubborn", |_stopping| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        Router::new().route("/", get(|| async { Json(json!({})) }))
    })
    .await;

    let stopped = app.stop().await.unwrap();

    assert!(stopped_cleanly.load(Ordering::Relaxed));
    assert_eq!((stopped.cut, stopped.tasks_cut), (0, 1));
}
