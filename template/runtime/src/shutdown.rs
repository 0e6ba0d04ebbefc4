//! Signals and readiness: what starts the shutdown timeline.
//!
//! The timeline itself (README, "Shutdown"; run by [`Application::run_until`]):
//!
//! 1. first SIGTERM or SIGINT: `/readyz` answers 503 at once, and the service
//!    keeps serving for `APP_SHUTDOWN_DRAIN_SECS` while Kubernetes removes
//!    the pod from its endpoints (that removal races the signal);
//! 2. then it stops accepting and asks open connections to finish the request
//!    in flight and close;
//! 3. after `APP_SHUTDOWN_TIMEOUT_SECS` it cuts what is left and logs how
//!    many;
//! 4. buffered log lines get up to [`LOG_FLUSH_TIMEOUT`] to be written (a
//!    stalled log reader loses them), and it exits 0.
//!
//! A second signal at any point exits at once, with 128 + its number.
//!
//! [`Application::run_until`]: crate::Application::run_until

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The timeline's last step: how long the log lines still buffered may take
/// to be written before the process exits. It fits in the margin that
/// `docker stop` and the chart's grace period keep after the timeout.
pub const LOG_FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the service still wants new requests; `/readyz` reads it.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// From now on `/readyz` answers 503.
    pub fn start_draining(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// `true` once shutdown has started.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`docker stop`, Kubernetes).
    Terminate,
}

impl Signal {
    /// Its conventional name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The exit code of a process ended by this signal: 128 + its number.
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => 128 + 2,
            Self::Terminate => 128 + 15,
        }
    }
}

/// SIGTERM and SIGINT, listened for from start-up on, so that neither ends
/// the process before the timeline runs.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening.
    ///
    /// # Errors
    ///
    /// Fails if a signal handler cannot be installed.
    pub fn install() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next signal.
    pub async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => Signal::Terminate,
                _ = self.interrupt.recv() => Signal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}
