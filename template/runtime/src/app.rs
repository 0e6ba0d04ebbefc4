//! Wires configuration, client, routes and the accept loop into a running
//! server, and runs the shutdown timeline.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::client::{self, ClientError};
use crate::config::{Config, Settings};
use crate::routes::{self, AppState};
use crate::server::{self, Limits};
use crate::telemetry;

/// Largest request body a handler may read (axum's extractors answer 413
/// beyond it). The runtime's own routes read none.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A server that is bound and ready to run.
///
/// Building binds the port, so a test can use port 0 and ask for the real
/// one before sending requests.
#[derive(Debug)]
pub struct Application<S = ()> {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState<S>,
    router: Router,
    limits: Limits,
    fd_limit: Option<u64>,
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still busy at the shutdown deadline, and cut.
    pub cut: usize,
    /// Background tasks still running at the shutdown deadline, and cut.
    pub tasks_cut: usize,
}

impl<S: Settings> Application<S> {
    /// Builds the shared client, raises the file-descriptor limit and binds
    /// the listening socket; serves the runtime's routes only.
    ///
    /// # Errors
    ///
    /// Fails if the client cannot be built or the address cannot be bound.
    pub async fn build(config: Config<S>) -> Result<Self, StartupError> {
        Self::build_with(config, |_| Router::new()).await
    }

    /// [`Application::build`] serving the service's routes too: `own_routes` gets
    /// the state at start-up and returns them, served next to the runtime's
    /// and behind the same layers (request log, trace context, timeouts,
    /// panics, metrics).
    ///
    /// # Errors
    ///
    /// As [`Application::build`].
    pub async fn build_with(
        config: Config<S>,
        own_routes: impl FnOnce(&AppState<S>) -> Router,
    ) -> Result<Self, StartupError> {
        let client = client::build(&config).map_err(StartupError::Client)?;

        let addr = config.listen_addr();
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;

        let fd_limit = server::raise_fd_limit();
        let limits = Limits {
            header_read_timeout: config.header_read_timeout,
            max_connections: server::effective_max_connections(config.max_connections, fd_limit),
        };
        let handler_timeout = config.handler_timeout;
        let state = AppState::new(config, client);
        let own = own_routes(&state);
        let served = routes::router(state.clone()).merge(own);
        #[cfg(feature = "metrics")]
        let served = served.merge(state.metrics.router());
        let router = with_layers(served, &state, handler_timeout);

        Ok(Self {
            listener,
            local_addr,
            state,
            router,
            limits,
            fd_limit,
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

    /// The state the routes were given.
    #[must_use]
    pub fn state(&self) -> &AppState<S> {
        &self.state
    }

    /// Serves requests until `shutdown` completes, then runs the shutdown
    /// timeline (see [`crate::shutdown`]): readiness off, serve on for the
    /// drain delay, stop accepting, let requests in flight finish until the
    /// deadline, cut the rest.
    ///
    /// # Errors
    ///
    /// None today: accept errors are logged and retried. The `Result` keeps
    /// room for errors a service adds.
    pub async fn run_until<F>(self, shutdown: F) -> io::Result<Stopped>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let config = &self.state.config;
        let (drain, deadline) = (config.shutdown_drain, config.shutdown_timeout);
        tracing::info!(
            addr = %self.local_addr,
            max_connections = self.limits.max_connections,
            fd_limit = self.fd_limit,
            "listening"
        );
        let readiness = self.state.readiness.clone();
        let tasks = self.state.tasks.clone();
        let stats = self.state.connections.clone();
        let mut connections =
            server::accept_until(self.listener, self.router, self.limits, stats, async {
                shutdown.await;
                readiness.start_draining();
                tasks.stop();
                tracing::info!(
                    drain_secs = drain.as_secs_f64(),
                    "shutting down: /readyz answers 503, serving on while load balancers catch up"
                );
                tokio::time::sleep(drain).await;
            })
            .await;

        tracing::info!(
            open_connections = connections.open(),
            timeout_secs = deadline.as_secs_f64(),
            "stopped accepting; waiting for requests in flight"
        );
        let deadline_at = tokio::time::Instant::now() + deadline;
        let cut = connections.shutdown(deadline).await;
        let tasks_cut = self.state.tasks.finish(deadline_at).await;
        if cut > 0 {
            tracing::warn!(
                cut,
                "shutdown deadline passed; cut the connections still open"
            );
        }
        tracing::info!(cut, tasks_cut, "stopped");
        Ok(Stopped { cut, tasks_cut })
    }
}

/// The layers every route is served behind, innermost first. The metrics sit
/// outside the panic and timeout layers, so they count what clients get.
fn with_layers<S>(
    routes: Router,
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))] state: &AppState<S>,
    handler_timeout: std::time::Duration,
) -> Router {
    let routes = routes
        .layer(CatchPanicLayer::custom(telemetry::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            handler_timeout,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES));
    #[cfg(feature = "metrics")]
    let routes = routes.layer(axum::middleware::from_fn_with_state(
        state.metrics.clone(),
        crate::telemetry::metrics::track_requests,
    ));
    routes.layer(axum::middleware::from_fn(telemetry::request_log))
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartupError {
    /// The outbound HTTP client could not be built.
    Client(ClientError),
    /// The listening socket could not be bound.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why the system refused it.
        source: io::Error,
    },
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
