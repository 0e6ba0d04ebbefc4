//! Structured logging: one JSON object per line on stdout, which is what
//! container log collectors expect; one line per request, each request with
//! an id and its trace context; a panicking handler answers 500 and is
//! logged as one event.
//!
//! Lines are formatted by [`json_lines`] and written by [`log_buffer`]'s
//! thread, never by the thread serving the request: a stalled log reader
//! costs dropped (and counted) lines, not a stalled service.

pub mod json_lines;
pub mod log_buffer;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod trace_context;

use std::any::Any;
use std::future::Future;
use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode};
use axum::middleware::Next;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use json_lines::JsonLines;
use log_buffer::LogBuffer;
use trace_context::{SpanContext, TRACEPARENT};

/// The header that carries a request's id, in and out.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a caller.
const MAX_REQUEST_ID_LEN: usize = 64;

tokio::task_local! {
    /// The id of the request the current task is serving.
    static REQUEST_ID: String;
}

/// How long a panic in a build that aborts on panic waits for its event to be
/// written before the process ends.
const PANIC_FLUSH: Duration = Duration::from_secs(1);

/// The log output, once [`init`] has run.
static OUTPUT: OnceLock<LogBuffer> = OnceLock::new();

/// Installs the global subscriber writing to stdout, and the panic hook.
/// Call once, early in `main`; [`flush`] before the process ends.
///
/// The filter is parsed with the rest of the configuration (`APP_LOG`), so a
/// bad filter is reported as a configuration error before anything starts.
///
/// # Errors
///
/// Fails if a global subscriber is already installed, or the log writer's
/// thread cannot start.
pub fn init(filter: Targets) -> io::Result<()> {
    init_with_writer(filter, io::stdout())
}

/// [`init`] with another destination (the tests capture the lines).
///
/// # Errors
///
/// As [`init`].
pub fn init_with_writer<W>(filter: Targets, writer: W) -> io::Result<()>
where
    W: io::Write + Send + 'static,
{
    if OUTPUT.get().is_some() {
        return Err(io::Error::other("logging is already set up"));
    }
    let output = LogBuffer::start(
        writer,
        log_buffer::CAPACITY_BYTES,
        json_lines::write_dropped_report,
    )?;
    tracing_subscriber::registry()
        .with(JsonLines::new(output.clone()))
        .with(filter)
        .try_init()
        .map_err(io::Error::other)?;
    let _ = OUTPUT.set(output);
    install_panic_hook();
    Ok(())
}

/// Waits until the lines logged so far are written, or until `deadline`;
/// `true` if they were. Call before the process exits: lines still in the
/// buffer then are lost.
pub fn flush(deadline: Instant) -> bool {
    OUTPUT.get().is_none_or(|output| output.flush(deadline))
}

/// Log lines lost since start: dropped while the output did not keep up, or
/// failed to write.
#[must_use]
pub fn dropped_log_lines() -> u64 {
    OUTPUT.get().map_or(0, LogBuffer::dropped_total)
}

/// A panic while serving a request becomes one JSON event carrying the
/// request's id; other panics (start-up, tests) keep Rust's default report.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if current_request_id().is_some() {
            let location = info
                .location()
                .map(|at| format!("{}:{}", at.file(), at.line()));
            tracing::error!(
                panic = panic_message(info.payload()),
                location,
                "handler panicked"
            );
            // The process ends right after this hook: write the event first.
            if cfg!(panic = "abort") {
                flush(Instant::now() + PANIC_FLUSH);
            }
        } else {
            default(info);
        }
    }));
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(not a string)"
    }
}

/// The id of the request being served by the current task, if any.
#[must_use]
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware around every route: takes the caller's `X-Request-Id` when it
/// is well formed or makes one up, continues the caller's trace or starts
/// one (see [`trace_context`]), echoes both in the response, attaches
/// them to every event of the request, and logs one line when the answer is
/// ready.
///
/// The request's id and trace live in task-locals for as long as the request
/// is served, and every event logged in that task carries them (in `span`,
/// see [`json_lines`]): no tracing span per request, which would cost more
/// than the line itself. A task the handler spawns gets them with
/// [`in_request_context`].
pub async fn request_log(request: Request, next: Next) -> Response<axum::body::Body> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_valid_request_id(id))
        .map_or_else(new_request_id, str::to_owned);
    let trace = SpanContext::from_headers(request.headers());
    let traceparent = trace.traceparent();
    let id_header = HeaderValue::from_str(&request_id).ok();
    let method = request.method().clone();
    // The path only: query strings carry tokens often enough.
    let path = request.uri().path().to_owned();

    let serve = async move {
        let mut response = next.run(request).await;
        if let Some(value) = id_header {
            response
                .headers_mut()
                .insert(REQUEST_ID_HEADER.clone(), value);
        }
        response
            .headers_mut()
            .insert(TRACEPARENT.clone(), traceparent);
        let status = response.status().as_u16();
        let bytes = response.body().size_hint().exact();
        let latency_ms = milliseconds_to_the_microsecond(started.elapsed());
        // The message as a plain field: a string, not a format string to run.
        tracing::info!(
            message = "request",
            method = method.as_str(),
            path,
            status,
            latency_ms,
            bytes,
        );
        response
    };
    REQUEST_ID.scope(request_id, trace.scope(serve)).await
}

/// `future` with the current request's id and trace, so that its events carry
/// them too: for a task a handler spawns (`tokio::spawn` starts a task
/// without the spawner's task-locals). Outside a request, `future` as is.
pub fn in_request_context<F>(future: F) -> impl Future<Output = F::Output>
where
    F: Future,
{
    let request_id = current_request_id();
    let trace = trace_context::current();
    async move {
        match (request_id, trace) {
            (Some(id), Some(trace)) => REQUEST_ID.scope(id, trace.scope(future)).await,
            _ => future.await,
        }
    }
}

/// Runs `write` with the id and trace of the request the current task is
/// serving, if it is serving one.
pub(crate) fn with_current_request<R>(write: impl FnOnce(&str, &SpanContext) -> R) -> Option<R> {
    REQUEST_ID
        .try_with(|id| trace_context::with_current(|trace| write(id, trace)))
        .ok()
        .flatten()
}

/// `elapsed` in milliseconds with at most three decimals: whole microseconds
/// divided by 1000 print as such (`0.016`), where the float product of
/// seconds and 1000 prints its rounding noise (`0.015753999999999997`).
#[allow(clippy::cast_precision_loss)] // exact below 2^53 µs (285 years)
fn milliseconds_to_the_microsecond(elapsed: std::time::Duration) -> f64 {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    micros as f64 / 1000.0
}

/// Letters, digits, `-`, `_`, `.` and `:`, 1 to 64 of them: what tracing
/// systems and load balancers send, and nothing that could forge a log line.
fn is_valid_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 128 random bits in hex, from the TLS provider's random source.
fn new_request_id() -> String {
    let mut id = Vec::with_capacity(32);
    trace_context::push_hex(&mut id, &trace_context::random_id::<16>());
    String::from_utf8(id).unwrap_or_default()
}

/// The answer to a request whose handler panicked (`CatchPanicLayer`).
#[must_use]
pub fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response<String> {
    let body = serde_json::json!({
        "error": "internal error",
        "request_id": current_request_id(),
    });
    let mut response = Response::new(body.to_string());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_callers_must_be_plain_and_short() {
        for good in ["abc", "0f8c-11ee.be56:0242_ac120002", &"a".repeat(64)] {
            assert!(is_valid_request_id(good), "{good}");
        }
        for bad in ["", "a b", "x\"}", "ä", &"a".repeat(65), "a\nb"] {
            assert!(!is_valid_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn latency_is_printed_to_the_microsecond_without_float_noise() {
        let latency = milliseconds_to_the_microsecond(Duration::from_nanos(15_753_999));
        assert_eq!(latency.to_string(), "15.753");
        let latency = milliseconds_to_the_microsecond(Duration::from_nanos(15_754));
        assert_eq!(latency.to_string(), "0.015");
    }

    #[test]
    fn made_up_request_ids_are_32_hex_digits_and_differ() {
        crate::client::install_crypto_provider();
        let (a, b) = (new_request_id(), new_request_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
