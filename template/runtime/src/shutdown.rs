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

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// The timeline's last step: how long the log lines still buffered may take
/// to be written before the process exits. It fits in the margin that
/// `docker stop` and the chart's grace period keep after the timeout.
pub const LOG_FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one readiness check may take before `/readyz` counts it failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// Whether the service wants new requests; `/readyz` asks it. Not ready once
/// shutdown has started, or while a check the service added fails.
#[derive(Clone, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
    checks: Arc<RwLock<Vec<(String, Check)>>>,
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checks = self.checks.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Readiness")
            .field("draining", &self.is_draining())
            .field(
                "checks",
                &checks.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Readiness {
    /// From now on `/readyz` answers 503.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// `true` once shutdown has started.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Adds a check `/readyz` runs on each call: while it returns `Err` (its
    /// text is shown), or takes longer than [`CHECK_TIMEOUT`], the service
    /// answers 503 and load balancers send it nothing. For a dependency
    /// without which it cannot serve; `/healthz` (liveness) stays 200, so the
    /// pod is not restarted for it.
    ///
    /// ```
    /// use service_runtime::shutdown::Readiness;
    ///
    /// let readiness = Readiness::default();
    /// let pool_size = 4;
    /// readiness.add_check("database", move || async move {
    ///     if pool_size > 0 { Ok(()) } else { Err("no connection".to_owned()) }
    /// });
    /// ```
    pub fn add_check<F, Fut>(&self, name: impl Into<String>, check: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let check: Check = Arc::new(move || Box::pin(check()));
        self.checks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.into(), check));
    }

    /// Runs every check at once; the failing ones by name, with their reason.
    pub async fn failing_checks(&self) -> Vec<(String, String)> {
        let checks = self
            .checks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let running: Vec<_> = checks
            .into_iter()
            .map(|(name, check)| {
                let answer = tokio::spawn(tokio::time::timeout(CHECK_TIMEOUT, check()));
                (name, answer)
            })
            .collect();
        let mut failing = Vec::new();
        for (name, answer) in running {
            let reason = match answer.await {
                Ok(Ok(Ok(()))) => continue,
                Ok(Ok(Err(reason))) => reason,
                Ok(Err(_)) => format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
                Err(_) => "the check panicked".to_owned(),
            };
            failing.push((name, reason));
        }
        failing
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
