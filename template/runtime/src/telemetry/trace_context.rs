//! W3C Trace Context (level 1) without a tracing SDK: every request belongs
//! to a trace, its ids are in every log event of the request, the answer
//! carries them back, and outbound calls continue the trace.
//!
//! - A valid `traceparent` continues the caller's trace: same trace id, the
//!   caller's span as parent, the caller's sampled flag. Anything else (a
//!   missing, malformed or repeated header) starts a new trace, marked
//!   sampled because the request log records every request; the bad value is
//!   neither echoed nor forwarded.
//! - This service's span for the request gets a new random span id. The
//!   answer's `traceparent` names that span, so a caller can find the log
//!   line; outbound calls send it as their parent (no separate client span:
//!   without an exporter nobody could see one).
//! - `tracestate` is forwarded unchanged when it is valid and the
//!   `traceparent` it came with was; otherwise it is dropped.

use std::fmt;
use std::future::Future;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The header naming the trace and the caller's span.
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The header carrying vendors' own trace data.
pub static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Length of a version 00 `traceparent`; later versions may append fields.
const TRACEPARENT_LEN: usize = 55;
/// The one flag level 1 defines; other bits are not forwarded.
const SAMPLED: u8 = 0x01;
/// Most list members a `tracestate` may hold.
const MAX_TRACESTATE_MEMBERS: usize = 32;

tokio::task_local! {
    /// The trace context of the request the current task is serving.
    static CURRENT: SpanContext;
}

/// A 16-byte trace id, shown as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id, shown as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanId(pub [u8; 8]);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let mut digits = Vec::with_capacity(2 * bytes.len());
    push_hex(&mut digits, bytes);
    f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
}

/// Appends `bytes` as lowercase hex digits. Every log line of a request has
/// its ids, so this is a table look-up per digit, not the formatting
/// machinery per byte.
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0; 64];
    for chunk in bytes.chunks(digits.len() / 2) {
        for (pair, byte) in digits.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        out.extend_from_slice(&digits[..2 * chunk.len()]);
    }
}

/// A `traceparent` header as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The whole trace's id.
    pub trace_id: TraceId,
    /// The caller's span.
    pub parent_id: SpanId,
    /// Trace flags; bit 0 is "sampled".
    pub flags: u8,
}

impl TraceParent {
    /// Parses a `traceparent` value strictly: two lowercase hex digits of
    /// version (not `ff`), then `-`, 32 of trace id, `-`, 16 of parent id,
    /// `-`, 2 of flags; neither id all zeros. Version `00` is exactly 55
    /// characters. A later version is read the way the specification asks
    /// for forward compatibility: its first 55 characters as version `00`,
    /// followed by the end or by `-` and fields this service does not know.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        let version = hex::<1>(bytes.get(..2)?)?[0];
        let fits_version = match version {
            0x00 => bytes.len() == TRACEPARENT_LEN,
            0xff => false,
            _ => bytes.len() == TRACEPARENT_LEN || bytes.get(TRACEPARENT_LEN) == Some(&b'-'),
        };
        if !fits_version || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        let trace_id = hex::<16>(&bytes[3..35])?;
        let parent_id = hex::<8>(&bytes[36..52])?;
        let flags = hex::<1>(&bytes[53..55])?[0];
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id: TraceId(trace_id),
            parent_id: SpanId(parent_id),
            flags,
        })
    }
}

/// `N` bytes from exactly `2 * N` lowercase hex digits.
fn hex<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    if digits.len() != 2 * N {
        return None;
    }
    let nibble = |digit: u8| match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// This service's span for one request.
#[derive(Debug, Clone)]
pub struct SpanContext {
    /// The trace's id: the caller's, or a new one.
    pub trace_id: TraceId,
    /// This request's own span.
    pub span_id: SpanId,
    /// The caller's span, when the request continued a trace.
    pub parent_id: Option<SpanId>,
    /// Whether the caller sampled the trace.
    pub sampled: bool,
    /// The caller's `tracestate`, validated, to forward unchanged.
    pub tracestate: Option<HeaderValue>,
}

impl SpanContext {
    /// Continues the trace of the request's headers, or starts a new one.
    #[must_use]
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut parents = headers.get_all(&TRACEPARENT).iter();
        let parent = match (parents.next(), parents.next()) {
            (Some(value), None) => value.to_str().ok().and_then(TraceParent::parse),
            _ => None,
        };
        let span_id = SpanId(random_id());
        match parent {
            Some(parent) => Self {
                trace_id: parent.trace_id,
                span_id,
                parent_id: Some(parent.parent_id),
                sampled: parent.flags & SAMPLED != 0,
                tracestate: valid_tracestate(headers),
            },
            None => Self {
                trace_id: TraceId(random_id()),
                span_id,
                parent_id: None,
                sampled: true,
                tracestate: None,
            },
        }
    }

    /// `traceparent` naming this span: the answer's, and the parent of
    /// outbound calls.
    #[must_use]
    pub fn traceparent(&self) -> HeaderValue {
        let mut value = Vec::with_capacity(TRACEPARENT_LEN);
        value.extend_from_slice(b"00-");
        push_hex(&mut value, &self.trace_id.0);
        value.push(b'-');
        push_hex(&mut value, &self.span_id.0);
        value.extend_from_slice(if self.sampled { b"-01" } else { b"-00" });
        HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Runs `future` with this context as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }
}

/// The trace context of the request being served by the current task.
#[must_use]
pub fn current() -> Option<SpanContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `read` with the current task's trace context, without cloning it.
pub fn with_current<R>(read: impl FnOnce(&SpanContext) -> R) -> Option<R> {
    CURRENT.try_with(read).ok()
}

/// The headers an outbound call sends to continue the current request's
/// trace; empty outside a request.
#[must_use]
pub fn outbound_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(context) = current() {
        headers.insert(TRACEPARENT.clone(), context.traceparent());
        if let Some(state) = context.tracestate {
            headers.insert(TRACESTATE.clone(), state);
        }
    }
    headers
}

/// The request's `tracestate` (several headers joined with commas) when it
/// is valid: at most 32 `key=value` members with unique keys of the
/// specification's grammar; empty members are allowed.
fn valid_tracestate(headers: &HeaderMap) -> Option<HeaderValue> {
    let values = headers
        .get_all(&TRACESTATE)
        .iter()
        .map(|value| value.to_str().ok())
        .collect::<Option<Vec<_>>>()?;
    if values.is_empty() {
        return None;
    }
    let joined = values.join(",");
    let mut keys = Vec::new();
    for member in joined
        .split(',')
        .map(|member| member.trim_matches([' ', '\t']))
    {
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        if !is_tracestate_key(key) || !is_tracestate_value(value) || keys.contains(&key) {
            return None;
        }
        keys.push(key);
    }
    if keys.is_empty() || keys.len() > MAX_TRACESTATE_MEMBERS {
        return None;
    }
    HeaderValue::from_str(&joined).ok()
}

/// `simple-key` or `tenant-id@system-id`.
fn is_tracestate_key(key: &str) -> bool {
    let rest = |part: &[u8]| {
        part.iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/".contains(&b))
    };
    match key.split_once('@') {
        None => {
            let bytes = key.as_bytes();
            (1..=256).contains(&bytes.len()) && bytes[0].is_ascii_lowercase() && rest(bytes)
        }
        Some((tenant, system)) => {
            let (tenant, system) = (tenant.as_bytes(), system.as_bytes());
            (1..=241).contains(&tenant.len())
                && (tenant[0].is_ascii_lowercase() || tenant[0].is_ascii_digit())
                && rest(tenant)
                && (1..=14).contains(&system.len())
                && system[0].is_ascii_lowercase()
                && rest(system)
        }
    }
}

/// 1 to 256 printable ASCII characters other than `,` and `=`, not ending
/// in a space.
fn is_tracestate_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=256).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
        && bytes.last() != Some(&b' ')
}

/// Random bytes from the TLS provider's random source, never all zeros (the
/// specification's marker of an invalid id).
#[must_use]
pub fn random_id<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    let random = rustls::crypto::CryptoProvider::get_default()
        .is_some_and(|provider| provider.secure_random.fill(&mut bytes).is_ok());
    if !random {
        // No provider installed (cannot happen once the client is built):
        // fall back to the clock, which is unique enough within a process.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        for (byte, clock) in bytes.iter_mut().rev().zip(nanos.to_le_bytes()) {
            *byte = clock;
        }
    }
    if bytes.iter().all(|&byte| byte == 0) {
        bytes[N - 1] = 1;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append((*name).clone(), HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_valid_traceparent_is_read() {
        let parent = TraceParent::parse(VALID).unwrap();
        assert_eq!(
            parent.trace_id.to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(parent.parent_id.to_string(), "00f067aa0ba902b7");
        assert_eq!(parent.flags, 1);
    }

    #[test]
    fn malformed_traceparents_are_refused() {
        for bad in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn later_versions_are_read_as_version_00_with_fields_appended() {
        for value in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next",
        ] {
            let parent = TraceParent::parse(value).unwrap();
            assert_eq!(parent.parent_id.to_string(), "00f067aa0ba902b7", "{value}");
        }
    }

    #[test]
    fn a_request_continues_the_callers_trace_with_a_new_span() {
        crate::client::install_crypto_provider();
        let context = SpanContext::from_headers(&headers(&[(&TRACEPARENT, VALID)]));

        assert_eq!(
            context.trace_id.to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(context.parent_id.unwrap().to_string(), "00f067aa0ba902b7");
        assert_ne!(context.span_id.to_string(), "00f067aa0ba902b7");
        let echoed = context.traceparent();
        let echoed = TraceParent::parse(echoed.to_str().unwrap()).unwrap();
        assert_eq!(echoed.trace_id, context.trace_id);
        assert_eq!(echoed.parent_id, context.span_id);
        assert_eq!(echoed.flags, 1);
    }

    #[test]
    fn unsampled_traces_stay_unsampled_and_unknown_flags_are_dropped() {
        crate::client::install_crypto_provider();
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe";
        let context = SpanContext::from_headers(&headers(&[(&TRACEPARENT, value)]));
        assert!(!context.sampled);
        assert!(context.traceparent().to_str().unwrap().ends_with("-00"));
    }

    #[test]
    fn repeated_traceparent_headers_start_a_new_trace() {
        crate::client::install_crypto_provider();
        let context =
            SpanContext::from_headers(&headers(&[(&TRACEPARENT, VALID), (&TRACEPARENT, VALID)]));
        assert_eq!(context.parent_id, None);
        assert_ne!(
            context.trace_id.to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn tracestate_is_kept_only_when_valid_and_with_a_valid_traceparent() {
        crate::client::install_crypto_provider();
        let state = |pairs: &[(&HeaderName, &str)]| {
            SpanContext::from_headers(&headers(pairs))
                .tracestate
                .map(|value| value.to_str().unwrap().to_owned())
        };
        let good = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,tenant1@vendor=x";
        assert_eq!(
            state(&[(&TRACEPARENT, VALID), (&TRACESTATE, good)]).as_deref(),
            Some(good)
        );
        assert_eq!(
            state(&[
                (&TRACEPARENT, VALID),
                (&TRACESTATE, "a=1"),
                (&TRACESTATE, "b=2")
            ])
            .as_deref(),
            Some("a=1,b=2")
        );
        let too_many = (0..33).map(|i| format!("k{i}=v")).collect::<Vec<_>>();
        for bad in [
            "Upper=1",
            "a=1,a=2",
            "novalue",
            "a=x=y",
            "a=tab\tinside",
            &too_many.join(","),
        ] {
            assert_eq!(
                state(&[(&TRACEPARENT, VALID), (&TRACESTATE, bad)]),
                None,
                "{bad}"
            );
        }
        assert_eq!(state(&[(&TRACESTATE, good)]), None);
    }

    #[test]
    fn random_ids_differ_and_are_never_zero() {
        crate::client::install_crypto_provider();
        let (a, b) = (random_id::<8>(), random_id::<8>());
        assert_ne!(a, b);
        assert_ne!(a, [0; 8]);
    }
}
