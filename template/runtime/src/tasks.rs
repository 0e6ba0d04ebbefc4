//! Background tasks that stop inside the shutdown timeline.
//!
//! A task a service spawns here is told when shutdown starts (the first
//! signal, when `/readyz` turns 503), and the runtime waits for it after the
//! requests in flight, within the same deadline (`APP_SHUTDOWN_TIMEOUT_SECS`):
//! a task still running then is cut and counted in [`Stopped`](crate::Stopped).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A task by its name.
type Running = Vec<(String, JoinHandle<()>)>;

/// The service's background tasks. Cheap to clone: everything is shared.
#[derive(Debug, Clone)]
pub struct BackgroundTasks {
    stopping: watch::Sender<bool>,
    running: Arc<Mutex<Running>>,
}

impl Default for BackgroundTasks {
    fn default() -> Self {
        Self {
            stopping: watch::Sender::new(false),
            running: Arc::default(),
        }
    }
}

/// Told to a task when shutdown starts.
#[derive(Debug, Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Completes once shutdown has started.
    pub async fn started(&mut self) {
        // An error means the sender is gone: the runtime is gone too.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    /// `true` once shutdown has started.
    #[must_use]
    pub fn has_started(&self) -> bool {
        *self.0.borrow()
    }
}

impl BackgroundTasks {
    /// Spawns `task` on the runtime; it gets a [`Stopping`] and should
    /// return soon after it completes.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// use service_runtime::tasks::BackgroundTasks;
    ///
    /// # async fn example(tasks: BackgroundTasks) {
    /// tasks.spawn("cache-refresh", |mut stopping| async move {
    ///     loop {
    ///         tokio::select! {
    ///             () = stopping.started() => break,
    ///             () = tokio::time::sleep(Duration::from_secs(30)) => { /* refresh */ }
    ///         }
    ///     }
    /// });
    /// # }
    /// ```
    pub fn spawn<F, Fut>(&self, name: impl Into<String>, task: F)
    where
        F: FnOnce(Stopping) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task(Stopping(self.stopping.subscribe())));
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.into(), handle));
    }

    /// Tells every task that shutdown has started.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Waits for the tasks until `deadline`, then cuts the rest; how many
    /// were cut.
    pub async fn finish(&self, deadline: Instant) -> usize {
        let running =
            std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        let mut cut = 0;
        for (name, mut handle) in running {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                tracing::warn!(task = %name, "background task still running at the deadline; cut");
                cut += 1;
            }
        }
        cut
    }
}
