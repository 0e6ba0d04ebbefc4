//! The runtime's own routes (`/healthz`, `/readyz`, the example `/upstream`),
//! the state every handler can reach and the error answer they share.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Url;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::client::OutboundResult;
use crate::config::{Config, Settings};
use crate::server::ConnectionStats;
use crate::shutdown::Readiness;
use crate::tasks::BackgroundTasks;
use crate::telemetry::current_request_id;
#[cfg(feature = "metrics")]
use crate::telemetry::metrics::Metrics;
use crate::telemetry::trace_context;

/// What every handler can reach, with the service's own settings `S` in
/// `config.settings`. Cheap to clone: everything is shared.
///
/// A service's routes get it at start-up and may wrap it in a state of their
/// own (a database pool built then, say):
///
/// ```
/// use axum::Router;
/// use axum::extract::State;
/// use axum::routing::get;
/// use service_runtime::AppState;
///
/// #[derive(Clone)]
/// struct Orders {
///     runtime: AppState,
///     page_size: usize,
/// }
///
/// async fn page_size(State(orders): State<Orders>) -> String {
///     orders.page_size.to_string()
/// }
///
/// fn routes(state: &AppState) -> Router {
///     let orders = Orders { runtime: state.clone(), page_size: 50 };
///     Router::new().route("/orders/page-size", get(page_size)).with_state(orders)
/// }
/// ```
#[derive(Debug)]
pub struct AppState<S = ()> {
    /// The one outbound client (rustls, the configured timeouts and CAs).
    pub client: reqwest::Client,
    /// The configuration the service started with.
    pub config: Arc<Config<S>>,
    /// `/readyz` answers 503 once shutdown has started, or while a check the
    /// service added fails ([`Readiness::add_check`]).
    pub readiness: Readiness,
    /// Tasks that stop inside the shutdown timeline ([`BackgroundTasks::spawn`]).
    pub tasks: BackgroundTasks,
    /// Bounds the outbound requests of `/upstream` in flight at once.
    pub upstream_slots: Arc<Semaphore>,
    /// Kept current by the accept loop.
    pub connections: ConnectionStats,
    /// The series `GET /metrics` serves.
    #[cfg(feature = "metrics")]
    pub metrics: Metrics,
}

// By hand: deriving would ask `S: Clone` of an `Arc<Config<S>>`.
impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            config: Arc::clone(&self.config),
            readiness: self.readiness.clone(),
            tasks: self.tasks.clone(),
            upstream_slots: Arc::clone(&self.upstream_slots),
            connections: self.connections.clone(),
            #[cfg(feature = "metrics")]
            metrics: self.metrics.clone(),
        }
    }
}

impl<S: Settings> AppState<S> {
    /// State for `config` with the given client.
    #[must_use]
    pub fn new(config: Config<S>, client: reqwest::Client) -> Self {
        let connections = ConnectionStats::default();
        #[cfg(feature = "metrics")]
        let metrics = Metrics::new(
            connections.clone(),
            config.service_name,
            config.service_version,
        );
        Self {
            client,
            upstream_slots: Arc::new(Semaphore::new(config.upstream_concurrency)),
            config: Arc::new(config),
            readiness: Readiness::default(),
            tasks: BackgroundTasks::default(),
            #[cfg(feature = "metrics")]
            metrics,
            connections,
        }
    }

    /// Counts an outbound request by how it ended.
    #[cfg(feature = "metrics")]
    fn record_outbound(&self, result: OutboundResult) {
        self.metrics.record_outbound(result);
    }

    /// Built without metrics: nothing counts outbound requests.
    #[cfg(not(feature = "metrics"))]
    #[allow(clippy::unused_self)]
    fn record_outbound(&self, _result: OutboundResult) {}
}

/// The runtime's routes (the layers around them are in `app.rs`).
pub fn router<S: Settings>(state: AppState<S>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/upstream", get(upstream))
        .with_state(state)
}

/// Liveness: the process is up and answering, also while it shuts down.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness. The router only runs after the configuration was validated, the
/// client built and the port bound, so answering at all means ready, until
/// shutdown starts, or while a check the service added
/// ([`Readiness::add_check`]) fails: a dependency it cannot work without.
async fn readyz<S>(State(state): State<AppState<S>>) -> Response {
    if state.readiness.is_draining() {
        let body = Json(json!({ "status": "shutting down" }));
        return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    }
    let failing = state.readiness.failing_checks().await;
    if !failing.is_empty() {
        let failing: serde_json::Map<_, _> = failing
            .into_iter()
            .map(|(name, reason)| (name, reason.into()))
            .collect();
        let body = Json(json!({ "status": "not ready", "failing": failing }));
        return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    }
    Json(json!({ "status": "ready" })).into_response()
}

#[derive(Debug, Serialize)]
struct UpstreamStatus {
    upstream: String,
    status: u16,
    ok: bool,
}

/// Example of an outbound call: reports the status the upstream answered
/// with. The call continues the request's trace (`traceparent`).
async fn upstream<S: Settings>(
    State(state): State<AppState<S>>,
) -> Result<Json<UpstreamStatus>, ApiError> {
    let Some(url) = &state.config.upstream_url else {
        let message = "APP_UPSTREAM_URL is not set";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message));
    };
    // Path, query and credentials may hold secrets: only the origin leaves
    // this function, in answers and in logs.
    let upstream = origin(url);
    let Ok(_slot) = state.upstream_slots.try_acquire() else {
        state.record_outbound(OutboundResult::Rejected);
        tracing::warn!(%upstream, "too many upstream requests in flight");
        let message = "too many upstream requests in flight";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message));
    };

    let request = state
        .client
        .get(url.clone())
        .headers(trace_context::outbound_headers());
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let timed_out = error.is_timeout();
            state.record_outbound(if timed_out {
                OutboundResult::Timeout
            } else {
                OutboundResult::Unreachable
            });
            let error = crate::error_chain(&error.without_url());
            tracing::warn!(%upstream, %error, "upstream request failed");
            return Err(if timed_out {
                ApiError::new(StatusCode::GATEWAY_TIMEOUT, "upstream timed out")
            } else {
                ApiError::new(StatusCode::BAD_GATEWAY, "upstream unavailable")
            });
        }
    };

    let status = response.status();
    state.record_outbound(OutboundResult::from_status(status));
    Ok(Json(UpstreamStatus {
        upstream,
        status: status.as_u16(),
        ok: status.is_success(),
    }))
}

/// `scheme://host:port` of `url`, safe to log and to return.
fn origin(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

/// An error answered as `{"error": "...", "request_id": "..."}`; the
/// service's own handlers answer their errors with it too.
///
/// ```
/// use axum::http::StatusCode;
/// use service_runtime::ApiError;
///
/// async fn order(id: u64) -> Result<String, ApiError> {
///     if id == 0 {
///         return Err(ApiError::new(StatusCode::NOT_FOUND, "no such order"));
///     }
///     Ok(format!("order {id}"))
/// }
/// ```
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An error answered with `status`; `message` is shown to the caller.
    #[must_use]
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message, "request_id": current_request_id() });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        let url = Url::parse("https://user:secret@example.com/path?api_key=k").unwrap();
        assert_eq!(origin(&url), "https://example.com:443");
        let url = Url::parse("http://[::1]:8081/x?token=t#f").unwrap();
        assert_eq!(origin(&url), "http://[::1]:8081");
    }
}
