//! The accept loop: owns the listener, hands each connection to hyper with a
//! timer and bounded buffers, caps how many are open, and stops on request.
//!
//! axum 0.8's `axum::serve` gives hyper no timer, so hyper's header-read
//! timeout never fires, and its graceful shutdown has no deadline; this loop
//! is the part of `serve` a production service needs, written out.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Largest request head (request line and headers), in bytes; larger heads
/// are answered 431 and the connection is closed.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header fields in one request; more are answered 431.
pub const MAX_HEADERS: usize = 64;
/// Largest read buffer of one connection (hyper's default is about 400 KB).
const MAX_BUFFER_BYTES: usize = 32 * 1024;
/// File descriptors kept free for everything but client connections
/// (outbound requests, the listener, the CA file, logs).
const RESERVED_FDS: u64 = 128;
/// Pause after an accept error that is not about one connection (such as
/// running out of file descriptors), so the loop never spins on it.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Per-connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time a client has to send a complete request head; also how long a
    /// kept-alive connection may sit idle between requests.
    pub header_read_timeout: Duration,
    /// Open connections at most; further clients wait in the kernel's
    /// backlog until one closes.
    pub max_connections: usize,
}

/// Figures of the accept loop that the metrics read. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ConnectionStats(Arc<ConnectionCounts>);

#[derive(Debug, Default)]
struct ConnectionCounts {
    open: AtomicU64,
    limit_waits: AtomicU64,
}

impl ConnectionStats {
    /// Client connections open now.
    #[must_use]
    pub fn open(&self) -> u64 {
        self.0.open.load(Ordering::Relaxed)
    }

    /// How often the accept loop has waited at the connection cap.
    #[must_use]
    pub fn limit_waits(&self) -> u64 {
        self.0.limit_waits.load(Ordering::Relaxed)
    }

    /// Counts a connection as open until the guard is dropped, also when its
    /// task is aborted at the shutdown deadline.
    fn opened(&self) -> OpenConnection {
        self.0.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(Arc::clone(&self.0))
    }
}

struct OpenConnection(Arc<ConnectionCounts>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connections still open when the accept loop stopped.
#[derive(Debug)]
pub struct Connections {
    graceful: GracefulShutdown,
    tasks: JoinSet<()>,
}

impl Connections {
    /// Connections currently open.
    pub fn open(&mut self) -> usize {
        while self.tasks.try_join_next().is_some() {}
        self.tasks.len()
    }

    /// Asks every connection to finish its request in flight and close, then
    /// waits up to `deadline`; returns how many connections had to be cut.
    pub async fn shutdown(self, deadline: Duration) -> usize {
        let Self {
            graceful,
            mut tasks,
        } = self;
        if tokio::time::timeout(deadline, graceful.shutdown())
            .await
            .is_ok()
        {
            return 0;
        }
        while tasks.try_join_next().is_some() {}
        let cut = tasks.len();
        tasks.abort_all();
        cut
    }
}

/// Serves `app` on `listener` until `stop` completes, then returns the open
/// connections, which keep being served until [`Connections::shutdown`].
/// Keeps `stats` current.
pub async fn accept_until(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: ConnectionStats,
    stop: impl Future<Output = ()>,
) -> Connections {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_BUFFER_BYTES)
        .max_header_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS);

    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let mut at_limit_log = RateLimited::new(Duration::from_secs(10));
    let mut accept_error_log = RateLimited::new(Duration::from_secs(1));
    let mut stop = pin!(stop);

    loop {
        while tasks.try_join_next().is_some() {}

        let slot = if let Ok(slot) = Arc::clone(&slots).try_acquire_owned() {
            slot
        } else {
            stats.0.limit_waits.fetch_add(1, Ordering::Relaxed);
            if let Some(suppressed) = at_limit_log.check() {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    suppressed,
                    "connection limit reached; new connections wait until one closes"
                );
            }
            tokio::select! {
                biased;
                () = &mut stop => break,
                slot = Arc::clone(&slots).acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break, // the semaphore is never closed
                },
            }
        };

        let stream = tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    if let Some(suppressed) = accept_error_log.check() {
                        tracing::error!(%error, suppressed, "cannot accept a connection");
                    }
                    if !is_connection_error(&error) {
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            },
        };
        // Small JSON answers go out at once rather than waiting for Nagle.
        let _ = stream.set_nodelay(true);

        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        let open = stats.opened();
        tasks.spawn(async move {
            // Client errors (resets, timeouts, bad requests) end the
            // connection; hyper has answered what it could.
            let _ = connection.await;
            drop(open);
            drop(slot);
        });
    }

    // Closing the listener now makes new clients fail fast (connection
    // refused) instead of waiting in a backlog nobody reads.
    drop(listener);
    Connections { graceful, tasks }
}

/// Errors about one connection (it was reset before `accept` returned);
/// anything else, such as `EMFILE`, affects every connection.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Lets an event through at most once per `period` and counts the rest.
#[derive(Debug)]
struct RateLimited {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimited {
    fn new(period: Duration) -> Self {
        Self {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(events suppressed since the last one let through)`, or `None`.
    fn check(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < self.period) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The connection cap in force: `wanted`, lowered so that client connections
/// cannot use up the file descriptors the process may open.
#[must_use]
pub fn effective_max_connections(wanted: usize, fd_limit: Option<u64>) -> usize {
    let Some(fd_limit) = fd_limit else {
        return wanted;
    };
    let available = fd_limit.saturating_sub(RESERVED_FDS).max(1);
    usize::try_from(available).map_or(wanted, |available| wanted.min(available))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit now in force (`None` where it cannot be read).
///
/// Many runtimes start processes with a soft limit of 1024 although the hard
/// limit is far higher; a server that holds one descriptor per client should
/// use what it is allowed.
#[cfg(unix)]
#[allow(unsafe_code)]
#[must_use]
pub fn raise_fd_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given. It may fail
        // (macOS refuses an infinite soft limit); the old limit then stays.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur)
}

/// No descriptor limit to raise outside Unix.
#[cfg(not(unix))]
#[must_use]
pub fn raise_fd_limit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_cap_stays_below_the_descriptor_limit() {
        assert_eq!(effective_max_connections(1024, None), 1024);
        assert_eq!(effective_max_connections(1024, Some(1_048_576)), 1024);
        assert_eq!(effective_max_connections(1024, Some(1024)), 896);
        assert_eq!(effective_max_connections(1024, Some(10)), 1);
    }

    #[test]
    fn rate_limited_counts_what_it_suppresses() {
        let mut log = RateLimited::new(Duration::from_secs(3600));
        assert_eq!(log.check(), Some(0));
        assert_eq!(log.check(), None);
        assert_eq!(log.check(), None);
        log.last = Instant::now().checked_sub(Duration::from_secs(7200));
        assert_eq!(log.check(), Some(2));
    }

    #[test]
    fn soft_descriptor_limit_is_raised_to_the_hard_limit() {
        let soft = raise_fd_limit().unwrap();
        assert!(soft >= 1024, "{soft}");
    }
}
