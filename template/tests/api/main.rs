//! Integration tests: start the service (the runtime with the routes of
//! `src/api.rs`) on 127.0.0.1 with an OS-chosen port and talk to it over
//! HTTP. The runtime's own behaviour is tested in its crate (`runtime/`).

// Panicking on unexpected errors is the point of a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod startup;

// The tests of your own routes: tests/api/api.rs is yours, like src/api.rs
// (`mod orders;` in it is tests/api/api/orders.rs).
mod api;
