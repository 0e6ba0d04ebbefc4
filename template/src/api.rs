//! The team's own routes. This file, and the modules you declare in it, are
//! yours: the template creates it once and never changes it afterwards, so a
//! template update cannot collide with what you add here.
//!
//! Add a handler module next to this file (`src/api/orders.rs`), declare it
//! below (`pub mod orders;`) and route it in [`router`]:
//! `.route("/orders", get(orders::list))`.

use axum::Router;

use crate::AppState;

/// The service's own API, served by the runtime next to its `/healthz`,
/// `/readyz` and `/metrics`, behind the same layers: request log, trace
/// context, timeouts, metrics.
pub fn router() -> Router<AppState> {
    Router::new()
}
