//! The process: command line, configuration, logging, signals and the
//! shutdown timeline around an [`Application`]. A service's `main` is one
//! call to [`Service::run`].

use std::ffi::OsString;
use std::marker::PhantomData;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::Router;

use crate::config::{Config, Defaults, Settings};
use crate::routes::AppState;
use crate::shutdown::{self, Signals};
use crate::{Application, error_chain, healthcheck, telemetry};

/// Bad command line, or any start-up failure (configuration, CA file, bind,
/// logging): one line on stderr, before any JSON log line.
pub const EXIT_USAGE: u8 = 2;

/// How long a second signal lets the log lines buffered so far be written.
const SECOND_SIGNAL_FLUSH: Duration = Duration::from_millis(200);

enum Command {
    Serve,
    Healthcheck,
}

/// A service: its name, its defaults and, given to [`Service::run`], its
/// routes. `S` is its own [`Settings`] (`()` for none).
///
/// The binary it makes runs the HTTP server, or with the one argument
/// `healthcheck` exits 0 when the local server answers `GET /healthz` with
/// 200 (scratch images have no curl).
#[derive(Debug, Clone)]
pub struct Service<S = ()> {
    name: &'static str,
    version: &'static str,
    defaults: Defaults,
    settings: PhantomData<fn() -> S>,
}

impl<S: Settings> Service<S> {
    /// A service named after its package: pass `env!("CARGO_PKG_NAME")` and
    /// `env!("CARGO_PKG_VERSION")`. They name it in `--help` and in the
    /// outbound `User-Agent`.
    #[must_use]
    pub fn new(name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            version,
            defaults: Defaults::default(),
            settings: PhantomData,
        }
    }

    /// The port served when `APP_PORT` is not set.
    #[must_use]
    pub fn default_port(mut self, port: u16) -> Self {
        self.defaults.port = port;
        self
    }

    /// The shutdown timeline's defaults (`APP_SHUTDOWN_DRAIN_SECS`,
    /// `APP_SHUTDOWN_TIMEOUT_SECS`): serve on for `drain` after the first
    /// signal, then give requests in flight `timeout`. A deployment's grace
    /// period must cover both.
    #[must_use]
    pub fn shutdown_timeline(mut self, drain: Duration, timeout: Duration) -> Self {
        self.defaults.shutdown_drain = drain;
        self.defaults.shutdown_timeout = timeout;
        self
    }

    /// The default of `APP_REQUEST_TIMEOUT_SECS`: how long one outbound
    /// request may take in all.
    #[must_use]
    pub fn default_request_timeout(mut self, timeout: Duration) -> Self {
        self.defaults.request_timeout = timeout;
        self
    }

    /// Reads the command line and the configuration, then serves `routes`
    /// until a signal ends the shutdown timeline, or runs the healthcheck.
    /// Builds its own multi-threaded Tokio runtime.
    pub fn run(self, routes: impl FnOnce(&AppState<S>) -> Router) -> ExitCode {
        let command = match self.parse_args(std::env::args_os().skip(1)) {
            Ok(command) => command,
            Err(exit) => return exit,
        };
        let config = match Config::<S>::from_env_with(self.defaults) {
            Ok(config) => Config {
                service_name: self.name,
                service_version: self.version,
                ..config
            },
            Err(error) => {
                eprintln!("cannot start: configuration error: {error}");
                // Docker reserves healthcheck exit code 2, so report "unhealthy".
                return match command {
                    Command::Serve => ExitCode::from(EXIT_USAGE),
                    Command::Healthcheck => ExitCode::FAILURE,
                };
            }
        };
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("cannot start: {}", error_chain(&error));
                return ExitCode::from(EXIT_USAGE);
            }
        };
        runtime.block_on(async {
            match command {
                Command::Serve => serve(config, routes).await,
                Command::Healthcheck => check_health(&config).await,
            }
        })
    }

    fn usage(&self) -> String {
        format!(
            "usage: {} [healthcheck]

  (no argument)  run the HTTP server
  healthcheck    exit 0 if the local server answers GET /healthz with 200, else 1

Configuration is read from APP_* environment variables.",
            self.name
        )
    }

    /// Reads the command; `Err` carries the exit code after help or misuse.
    fn parse_args(&self, mut args: impl Iterator<Item = OsString>) -> Result<Command, ExitCode> {
        match (args.next(), args.next()) {
            (None, _) => Ok(Command::Serve),
            (Some(arg), None) if arg == "healthcheck" => Ok(Command::Healthcheck),
            (Some(arg), None) if arg == "-h" || arg == "--help" => {
                println!("{}", self.usage());
                Err(ExitCode::SUCCESS)
            }
            _ => {
                eprintln!("{}", self.usage());
                Err(ExitCode::from(EXIT_USAGE))
            }
        }
    }
}

async fn serve<S: Settings>(
    config: Config<S>,
    routes: impl FnOnce(&AppState<S>) -> Router,
) -> ExitCode {
    let cannot_start = |error: &dyn std::error::Error| {
        eprintln!("cannot start: {}", error_chain(error));
        ExitCode::from(EXIT_USAGE)
    };
    // Listening from the start: a signal during start-up runs the timeline too.
    let mut signals = match Signals::install() {
        Ok(signals) => signals,
        Err(error) => return cannot_start(&error),
    };
    let log_filter = config.log_filter.clone();
    let app = match Application::build_with(config, routes).await {
        Ok(app) => app,
        Err(error) => return cannot_start(&error),
    };
    if let Err(error) = telemetry::init(log_filter) {
        return cannot_start(&error);
    }

    // The first signal starts the shutdown timeline; a second one ends the
    // process at once.
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let first = signals.recv().await;
        tracing::info!(
            signal = first.name(),
            "received {}, shutting down",
            first.name()
        );
        let _ = first_tx.send(());
        let second = signals.recv().await;
        tracing::warn!(signal = second.name(), "second signal, exiting now");
        telemetry::flush(Instant::now() + SECOND_SIGNAL_FLUSH);
        std::process::exit(i32::from(second.exit_code()));
    });

    let exit = match app
        .run_until(async {
            let _ = first_rx.await;
        })
        .await
    {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "server failed");
            ExitCode::FAILURE
        }
    };
    // The timeline's last step: a stalled log reader must not hold up the exit.
    telemetry::flush(Instant::now() + shutdown::LOG_FLUSH_TIMEOUT);
    exit
}

async fn check_health<S>(config: &Config<S>) -> ExitCode {
    match healthcheck::check(healthcheck::target(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            ExitCode::FAILURE
        }
    }
}
