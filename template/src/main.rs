//! Entry point: reads the configuration, then serves or runs the healthcheck.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use {{ cookiecutter.__crate_name }}::Application;
use {{ cookiecutter.__crate_name }}::Config;
use {{ cookiecutter.__crate_name }}::error_chain;
use {{ cookiecutter.__crate_name }}::healthcheck;
use {{ cookiecutter.__crate_name }}::shutdown::{self, Signals};
use {{ cookiecutter.__crate_name }}::telemetry;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = concat!(
    "usage: ",
    env!("CARGO_BIN_NAME"),
    " [healthcheck]

  (no argument)  run the HTTP server
  healthcheck    exit 0 if the local server answers GET /healthz with 200, else 1

Configuration is read from APP_* environment variables."
);

/// Bad command line, or any start-up failure (configuration, CA file, bind,
/// logging): one line on stderr, before any JSON log line.
const EXIT_USAGE: u8 = 2;

/// How long a second signal lets the log lines buffered so far be written.
const SECOND_SIGNAL_FLUSH: Duration = Duration::from_millis(200);

enum Command {
    Serve,
    Healthcheck,
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = match parse_args(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(exit) => return exit,
    };

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("cannot start: configuration error: {error}");
            // Docker reserves healthcheck exit code 2, so report "unhealthy".
            return match command {
                Command::Serve => ExitCode::from(EXIT_USAGE),
                Command::Healthcheck => ExitCode::FAILURE,
            };
        }
    };

    match command {
        Command::Serve => serve(config).await,
        Command::Healthcheck => check_health(&config).await,
    }
}

/// Reads the command; `Err` carries the exit code after help or misuse.
fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Command, ExitCode> {
    match (args.next(), args.next()) {
        (None, _) => Ok(Command::Serve),
        (Some(arg), None) if arg == "healthcheck" => Ok(Command::Healthcheck),
        (Some(arg), None) if arg == "-h" || arg == "--help" => {
            println!("{USAGE}");
            Err(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("{USAGE}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

async fn serve(config: Config) -> ExitCode {
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
    let app = match Application::build(config).await {
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

async fn check_health(config: &Config) -> ExitCode {
    match healthcheck::check(healthcheck::target(config)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            ExitCode::FAILURE
        }
    }
}
