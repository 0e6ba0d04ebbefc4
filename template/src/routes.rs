//! HTTP routes and their handlers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Url;
use serde::Serialize;
use serde_json::json;

use crate::config::Config;

/// What every handler can reach. Cheap to clone: the client and the config are
/// both reference-counted.
#[derive(Debug, Clone)]
pub struct AppState {
    pub client: reqwest::Client,
    pub config: Arc<Config>,
}

/// All routes of the service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/upstream", get(upstream))
        .with_state(state)
}

/// Liveness: the process is up and answering.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness. The router only runs after the configuration was validated, the
/// client built and the port bound, so answering at all means ready. A service
/// that cannot work without a dependency should check it here.
async fn readyz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ready" }))
}

#[derive(Debug, Serialize)]
struct UpstreamStatus {
    upstream: String,
    status: u16,
    ok: bool,
}

/// Example of an outbound call: reports the status the upstream answered with.
async fn upstream(State(state): State<AppState>) -> Result<Json<UpstreamStatus>, ApiError> {
    let Some(url) = &state.config.upstream_url else {
        let message = "APP_UPSTREAM_URL is not set";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message));
    };
    // The URL may hold credentials: only its redacted form leaves this function.
    let upstream = redacted(url);

    let response = match state.client.get(url.clone()).send().await {
        Ok(response) => response,
        Err(error) => {
            let error = crate::error_chain(&error.without_url());
            tracing::warn!(%upstream, %error, "upstream request failed");
            return Err(ApiError::new(StatusCode::BAD_GATEWAY, error));
        }
    };

    let status = response.status();
    Ok(Json(UpstreamStatus {
        upstream,
        status: status.as_u16(),
        ok: status.is_success(),
    }))
}

/// The URL without its password, safe to log and to return.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    // Fails only for URLs that cannot have a password; nothing to hide then.
    let _ = url.set_password(None);
    url.into()
}

/// An error answered as `{"error": "..."}` with the given status.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_drops_only_the_password() {
        let url = Url::parse("https://user:secret@example.com/path?q=1").unwrap();
        assert_eq!(redacted(&url), "https://user@example.com/path?q=1");
    }
}
