use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use {{ cookiecutter.__crate_name }}::Application;
use {{ cookiecutter.__crate_name }}::Config;
use {{ cookiecutter.__crate_name }}::client;

/// Configuration for a test server: loopback, any free port.
pub fn test_config() -> Config {
    Config {
        host: Ipv4Addr::LOCALHOST.into(),
        port: 0,
        ..Config::default()
    }
}

/// A running instance of the service.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: oneshot::Sender<()>,
    server: JoinHandle<io::Result<()>>,
}

impl TestApp {
    /// Starts the service exactly as `main` does, except for the trigger.
    pub async fn spawn(config: Config) -> Self {
        let app = Application::build(config).await.expect("server starts");
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            // A dropped sender also stops the server.
            let _ = stopped.await;
        }));
        Self {
            addr,
            client: local_client(),
            stop,
            server,
        }
    }

    /// Starts the service with `/upstream` pointing at `url`.
    pub async fn with_upstream(url: &str) -> Self {
        Self::spawn(Config {
            upstream_url: Some(url.parse().expect("a valid upstream URL")),
            ..test_config()
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the service")
    }

    /// Triggers shutdown and returns what the server returned.
    pub async fn stop(self) -> io::Result<()> {
        let _ = self.stop.send(());
        self.server.await.expect("server task does not panic")
    }
}

/// A client for calling local test servers over plain HTTP.
pub fn local_client() -> reqwest::Client {
    client::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .unwrap()
}

/// The `error` field of a JSON error answer.
pub async fn error_message(response: reqwest::Response) -> String {
    let body = response.json::<serde_json::Value>().await.unwrap();
    body["error"].as_str().expect("an error message").to_owned()
}

/// Serves `router` on 127.0.0.1 with any free port, for the test's lifetime.
pub async fn spawn_upstream(router: Router) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A file in the temp directory, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    /// `name` must be unique among concurrently running tests.
    pub fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "{}-test-{}-{name}",
            env!("CARGO_PKG_NAME"),
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
