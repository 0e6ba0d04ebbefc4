//! The runtime's tests: start the real server through the library API (or
//! the `runtime-demo` binary, for signals and the process's output) on
//! 127.0.0.1 with an OS-chosen port and talk to it over HTTP.

// Panicking on unexpected errors is the point of a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod extensions;
mod healthcheck;
mod helpers;
mod limits;
mod logs;
#[cfg(feature = "metrics")]
mod metrics;
mod routes;
mod shutdown;
mod startup;
mod tls;
mod trace_context;
