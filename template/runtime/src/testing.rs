//! Start the service in a test and call it: the same [`Application`], routes
//! and layers as in production, on 127.0.0.1 with a free port. For a
//! service's own tests.
//!
//! ```
//! use axum::Router;
//! use axum::routing::get;
//! use service_runtime::AppState;
//! use service_runtime::testing::{TestApp, test_config};
//!
//! fn routes(_state: &AppState) -> Router {
//!     Router::new().route("/hello", get(|| async { "hello" }))
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app = TestApp::spawn(test_config(), routes).await;
//! let response = app.get("/hello").await;
//! assert_eq!(response.text().await.unwrap(), "hello");
//! app.stop().await.unwrap();
//! # });
//! ```

// A test helper that cannot do its job should stop the test right there.
#![allow(clippy::missing_panics_doc, clippy::expect_used)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Config, Settings};
use crate::routes::AppState;
use crate::{Application, Stopped, client};

/// Configuration for a test server: loopback, any free port, no drain delay,
/// and the service's settings as their defaults give them.
#[must_use]
pub fn test_config<S: Settings + Default>() -> Config<S> {
    Config {
        host: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        shutdown_drain: Duration::ZERO,
        ..Config::default()
    }
}

/// A running instance of the service.
#[derive(Debug)]
pub struct TestApp<S = ()> {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client for plain HTTP to it.
    pub client: reqwest::Client,
    /// The state its routes were given.
    pub state: AppState<S>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<io::Result<Stopped>>,
}

impl<S: Settings> TestApp<S> {
    /// Starts the service with `routes`, exactly as `main` does except for
    /// the trigger of its shutdown.
    pub async fn spawn(config: Config<S>, routes: impl FnOnce(&AppState<S>) -> Router) -> Self {
        let app = Application::build_with(config, routes)
            .await
            .expect("server starts");
        let addr = app.local_addr();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            // A dropped sender also stops the server.
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: local_client(),
            state,
            stop,
            server,
        }
    }

    /// `http://{addr}{path}`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the service")
    }

    /// Triggers shutdown and returns what the server returned.
    ///
    /// # Errors
    ///
    /// What the server's run returned.
    pub async fn stop(self) -> io::Result<Stopped> {
        self.start_stopping()
            .await
            .expect("server task does not panic")
    }

    /// Starts the shutdown timeline; await the handle for its end.
    #[must_use]
    pub fn start_stopping(self) -> JoinHandle<io::Result<Stopped>> {
        let _ = self.stop.send(());
        self.server
    }
}

/// A client for calling local test servers over plain HTTP.
#[must_use]
pub fn local_client() -> reqwest::Client {
    client::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .expect("a plain HTTP client builds")
}
