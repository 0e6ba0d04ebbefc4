//! The runtime as a service with no routes of its own: the process the
//! runtime's tests start (`tests/runtime/helpers.rs`, `Binary`).

use std::process::ExitCode;

fn main() -> ExitCode {
    service_runtime::Service::<()>::new(env!("CARGO_BIN_NAME"), env!("CARGO_PKG_VERSION"))
        .run(|_| axum::Router::new())
}
