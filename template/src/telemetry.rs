//! Structured logging: one JSON object per line on stdout, which is what
//! container log collectors expect; one line per request, each request with
//! an id and its trace context; a panicking handler answers 500 and is
//! logged as one event.

#[cfg(feature = "metrics")]
pub mod metrics;
pub mod trace_context;

use std::any::Any;
use std::fmt::Write as _;
use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode};
use axum::middleware::Next;
use tracing::Instrument as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::{SubscriberInitExt, TryInitError};

use trace_context::{SpanContext, TRACEPARENT};

/// The header that carries a request's id, in and out.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a caller.
const MAX_REQUEST_ID_LEN: usize = 64;

tokio::task_local! {
    /// The id of the request the current task is serving.
    static REQUEST_ID: String;
}

/// Installs the global subscriber writing to stdout, and the panic hook.
/// Call once, early in `main`.
///
/// The filter is parsed with the rest of the configuration (`APP_LOG`), so a
/// bad filter is reported as a configuration error before anything starts.
///
/// # Errors
///
/// Fails if a global subscriber is already installed.
pub fn init(filter: Targets) -> Result<(), TryInitError> {
    init_with_writer(filter, std::io::stdout)
}

/// [`init`] with another destination (the tests capture the lines).
///
/// # Errors
///
/// Fails if a global subscriber is already installed.
pub fn init_with_writer<W>(filter: Targets, writer: W) -> Result<(), TryInitError>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let json = tracing_subscriber::fmt::layer()
        .json()
        // Event fields at the top level of the object, not under "fields".
        .flatten_event(true)
        // The request's fields (its id) come with every event in "span".
        .with_span_list(false)
        .with_writer(writer);

    tracing_subscriber::registry()
        .with(json)
        .with(filter)
        .try_init()?;
    install_panic_hook();
    Ok(())
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
    let method = request.method().clone();
    // The path only: query strings carry tokens often enough.
    let path = request.uri().path().to_owned();

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = %trace.trace_id,
        span_id = %trace.span_id,
        parent_id = tracing::field::Empty,
    );
    if let Some(parent_id) = trace.parent_id {
        span.record("parent_id", tracing::field::display(parent_id));
    }
    let mut response = REQUEST_ID
        .scope(request_id.clone(), trace.scope(next.run(request)))
        .instrument(span.clone())
        .await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
        .headers_mut()
        .insert(TRACEPARENT.clone(), traceparent);
    let status = response.status().as_u16();
    let bytes = response.body().size_hint().exact();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            path,
            status,
            latency_ms,
            bytes,
            "request"
        );
    });
    response
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
    trace_context::random_id::<16>()
        .iter()
        .fold(String::with_capacity(32), |mut id, byte| {
            let _ = write!(id, "{byte:02x}");
            id
        })
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
    fn made_up_request_ids_are_32_hex_digits_and_differ() {
        crate::client::install_crypto_provider();
        let (a, b) = (new_request_id(), new_request_id());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
