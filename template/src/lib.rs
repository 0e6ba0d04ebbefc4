//! Library half of the service: `main.rs` and the integration tests both
//! start the server through [`Application`], so the tests exercise exactly
//! what runs in production.

pub mod app;
pub mod client;
pub mod config;
pub mod healthcheck;
pub mod routes;
pub mod shutdown;
pub mod telemetry;

pub use app::{Application, StartupError, Stopped};
pub use config::Config;

// Declared apart from the list above, where teams added their modules before
// `api` existed, so a template update never edits the lines next to theirs.
pub mod api;
pub mod server;
pub mod settings;

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
