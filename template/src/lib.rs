//! The service's own code: its routes (`api`) and settings (`settings`),
//! which `main.rs` hands to the runtime. Declare your modules here or in
//! `api.rs`.

pub mod api;
pub mod settings;

/// What the service's handlers reach through `State`: the runtime's state
/// (client, configuration, readiness) with this service's settings in
/// `state.config.settings`.
pub type AppState = service_runtime::AppState<settings::Settings>;

/// The error answer of a handler: `{"error": "...", "request_id": "..."}`.
pub use service_runtime::ApiError;
