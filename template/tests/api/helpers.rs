//! Starts this service in a test: the runtime with the routes of
//! `src/api.rs`, exactly as `main.rs` does, on a free loopback port.

use std::ops::Deref;

use service_runtime::{Config, Stopped, testing};

use {{ cookiecutter.__crate_name }}::api;
use {{ cookiecutter.__crate_name }}::settings::Settings;

/// Configuration for a test server: loopback, any free port, no drain delay,
/// the defaults of your settings.
pub fn test_config() -> Config<Settings> {
    testing::test_config()
}

/// The service, running: `app.get("/orders")`, `app.url(..)`, `app.client`.
pub struct TestApp(testing::TestApp<Settings>);

impl TestApp {
    /// Starts the service with `config`.
    pub async fn spawn(config: Config<Settings>) -> Self {
        let app = testing::TestApp::spawn(config, |state| api::router().with_state(state.clone()));
        Self(app.await)
    }

    /// Runs the shutdown timeline to its end.
    pub async fn stop(self) -> std::io::Result<Stopped> {
        self.0.stop().await
    }
}

impl Deref for TestApp {
    type Target = testing::TestApp<Settings>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
