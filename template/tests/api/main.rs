//! Integration tests: start the real server through the library API on
//! 127.0.0.1 with an OS-chosen port and talk to it over HTTP.

// Panicking on unexpected errors is the point of a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod healthcheck;
mod helpers;
mod routes;
mod shutdown;
mod tls;

// Tests of the template's runtime, kept apart from the modules above, where
// teams add and delete theirs, so updates do not edit the lines next to them.
mod limits;
mod logs;
#[cfg(feature = "metrics")]
mod metrics;
mod startup;
mod trace_context;

// The tests of your own routes: tests/api/api.rs is yours, like src/api.rs
// (`mod orders;` in it is tests/api/api/orders.rs).
mod api;
