//! Structured logging: one JSON object per line on stdout, which is what
//! container log collectors expect.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::{SubscriberInitExt, TryInitError};

/// Installs the global subscriber. Call once, early in `main`.
///
/// The filter is parsed with the rest of the configuration (`APP_LOG`), so a
/// bad filter is reported as a configuration error before anything starts.
///
/// # Errors
///
/// Fails if a global subscriber is already installed.
pub fn init(filter: Targets) -> Result<(), TryInitError> {
    let json = tracing_subscriber::fmt::layer()
        .json()
        // Event fields at the top level of the object, not under "fields".
        .flatten_event(true)
        .with_writer(std::io::stdout);

    tracing_subscriber::registry()
        .with(json)
        .with(filter)
        .try_init()
}
