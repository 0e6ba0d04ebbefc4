//! The runtime of a service generated from the Rust service template.
//!
//! A service's `main.rs` hands its routes and settings to [`Service`], which
//! does the rest: it reads the `APP_*` configuration under strict rules,
//! installs the JSON request log, binds the port, serves behind the runtime's
//! layers (request log, trace context, timeouts, panics, metrics) and runs the
//! shutdown timeline on SIGTERM.
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::get;
//! use service_runtime::{AppState, Service};
//!
//! fn routes(_state: &AppState) -> Router {
//!     Router::new().route("/hello", get(|| async { "hello" }))
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Service::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
//!         .default_port(8080)
//!         .run(routes)
//! }
//! ```
//!
//! The service's own settings implement [`Settings`]; its handlers reach
//! them, the outbound client and the readiness state through [`AppState`], and
//! answer errors with [`ApiError`].

pub mod app;
pub mod client;
pub mod config;
pub mod healthcheck;
pub mod routes;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod tasks;
pub mod telemetry;
pub mod testing;

pub use app::{Application, StartupError, Stopped};
pub use config::{Config, ConfigError, Defaults, Settings};
pub use routes::{ApiError, AppState};
pub use service::Service;

/// Renders an error and all of its sources on one line (`outer: inner: root`).
///
/// Most libraries keep the useful detail (such as "invalid peer certificate")
/// in the source chain, which `Display` alone does not show.
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
