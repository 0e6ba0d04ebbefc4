//! Starts this service in a test: the runtime with the routes of
//! `src/api.rs`, exactly as `main.rs` does, on a free loopback port.

// Helpers for tests you may not have written yet.
#![allow(dead_code)]

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

/// The `error` field of a JSON error answer.
pub async fn error_message(response: reqwest::Response) -> String {
    let body = response.json::<serde_json::Value>().await.unwrap();
    body["error"].as_str().expect("an error message").to_owned()
}

/// Runs the service's binary to its end with only `vars` set (for settings
/// that stop it at start-up).
pub fn run_binary(vars: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(binary())
        .env_clear()
        .env("APP_HOST", "127.0.0.1")
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// The service's binary as Cargo built it for these tests. A function, not a
/// constant: with the longest package name the constant's line would need
/// rustfmt's wrapping.
fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_{{ cookiecutter.project_slug }}")
}
