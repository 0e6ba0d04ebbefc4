//! Starts the service: the runtime (the `service-runtime` crate in `runtime/`)
//! serves the routes of `api.rs` with the settings of `settings.rs`.

use std::process::ExitCode;
use std::time::Duration;

use service_runtime::Service;

use {{ cookiecutter.__crate_name }}::api;
use {{ cookiecutter.__crate_name }}::settings::Settings;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    Service::<Settings>::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .default_port({{ cookiecutter.http_port }})
        // The chart's grace period and the Containerfile's stop timeout cover this timeline.
        .shutdown_timeline(Duration::from_secs({{ cookiecutter.__shutdown_drain_secs }}), Duration::from_secs({{ cookiecutter.__shutdown_timeout_secs }}))
        .run(|state| api::router().with_state(state.clone()))
}
