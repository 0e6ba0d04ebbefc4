//! Wires configuration, client and routes into a running server.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::client::{self, ClientError};
use crate::config::Config;
use crate::routes::{self, AppState};

/// A server that is bound and ready to run.
///
/// Building binds the port, so a test can use port 0 and ask for the real
/// one before sending requests.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Builds the shared client and binds the listening socket.
    ///
    /// # Errors
    ///
    /// Fails if the client cannot be built or the address cannot be bound.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let client = client::build(&config).map_err(StartupError::Client)?;

        let addr = config.listen_addr();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;

        Ok(Self {
            listener,
            local_addr,
            state: AppState {
                client,
                config: Arc::new(config),
            },
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The port actually bound.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Serves requests until `shutdown` completes, then lets in-flight
    /// requests finish before returning.
    ///
    /// # Errors
    ///
    /// Returns the I/O error that stopped the server.
    pub async fn run_until<F>(self, shutdown: F) -> io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tracing::info!(addr = %self.local_addr, "listening");
        axum::serve(self.listener, routes::router(self.state))
            .with_graceful_shutdown(shutdown)
            .await?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartupError {
    /// The outbound HTTP client could not be built.
    Client(ClientError),
    /// The listening socket could not be bound.
    Bind { addr: SocketAddr, source: io::Error },
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(_) => f.write_str("cannot set up the HTTP client"),
            Self::Bind { addr, .. } => write!(f, "cannot listen on {addr}"),
        }
    }
}

impl std::error::Error for StartupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Client(source) => Some(source),
            Self::Bind { source, .. } => Some(source),
        }
    }
}
