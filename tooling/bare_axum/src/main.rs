//! GET /healthz answers `{"status":"ok"}` on 127.0.0.1:$APP_PORT, and nothing else: what the
//! framework costs per request, without the service's layers, logs or metrics.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let port = std::env::var("APP_PORT").unwrap_or_else(|_| "8080".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("the port is free");
    let app = Router::new().route(
        "/healthz",
        get(|| async { Json::<Value>(json!({"status": "ok"})) }),
    );
    axum::serve(listener, app).await.expect("serves");
}
