//! Entry point: reads the configuration, then serves or runs the healthcheck.

use std::ffi::OsString;
use std::process::ExitCode;

use {{ cookiecutter.__crate_name }}::Application;
use {{ cookiecutter.__crate_name }}::Config;
use {{ cookiecutter.__crate_name }}::error_chain;
use {{ cookiecutter.__crate_name }}::healthcheck;
use {{ cookiecutter.__crate_name }}::shutdown;
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

/// Bad command line or configuration (the conventional "usage" exit code).
const EXIT_USAGE: u8 = 2;

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
            eprintln!("configuration error: {error}");
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
    if let Err(error) = telemetry::init(config.log_filter.clone()) {
        eprintln!("cannot set up logging: {error}");
        return ExitCode::FAILURE;
    }

    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "cannot start");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until(shutdown::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "server failed");
            ExitCode::FAILURE
        }
    }
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
