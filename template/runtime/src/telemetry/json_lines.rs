//! Formats each event as one JSON object on one line, straight into a reused
//! buffer, and hands the line to the [`LogBuffer`].
//!
//! A line looks like tracing-subscriber's JSON format with flattened events:
//!
//! ```json
//! {"timestamp":"2026-12-06T10:15:30.123456Z","level":"INFO","message":"request",
//!  "method":"GET","path":"/healthz","status":200,"latency_ms":0.087,"bytes":15,
//!  "target":"my_service::telemetry",
//!  "span":{"request_id":"…","trace_id":"…","span_id":"…","name":"request"}}
//! ```
//!
//! (on one line). `span` holds the fields of every span the event is in, the
//! innermost first (an inner field wins over an outer one of the same name),
//! then the id and trace of the request the task is serving (see
//! [`request_log`](super::request_log)), and the innermost span's `name`
//! (`request` when the event is in no span of its own): so an event inside a
//! span of your own, within a request, still carries the request's id and
//! trace. Events outside both have no `span`.
//!
//! Why not tracing-subscriber's own JSON layer: it formats a span's fields to
//! a string when the span opens, parses that string again for every event,
//! and writes each line on the serving thread. This layer renders span fields
//! to JSON once and copies them into each line; `serde_json` writes the values.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serializer as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Scope};

use super::log_buffer::LogBuffer;
use super::trace_context::push_hex;

/// The layer that writes every enabled event as a JSON line.
#[derive(Debug)]
pub struct JsonLines {
    output: LogBuffer,
}

impl JsonLines {
    /// Writes each event as one JSON line into `output`.
    #[must_use]
    pub fn new(output: LogBuffer) -> Self {
        Self { output }
    }
}

thread_local! {
    /// Each thread's line, reused: formatting allocates nothing once warm.
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

impl<S> Layer<S> for JsonLines
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut fields = SpanFields::default();
            attrs.record(&mut Members::of_span(&mut fields));
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // Not two nested `if let`s: with rust_version 1.88, clippy asks for a let-chain,
        // which 1.85 lacks.
        let Some(span) = ctx.span(id) else {
            return;
        };
        if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
            fields.record(values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let format = |line: &mut Vec<u8>| {
            line.clear();
            let metadata = event.metadata();
            write_head(line, SystemTime::now(), *metadata.level());
            event.record(&mut Members::of_event(line));
            write_member(line, "target", Value::Str(metadata.target()));
            write_context(line, ctx.event_scope(event));
            line.extend_from_slice(b"}\n");
            self.output.push(line);
        };
        // A thread already formatting (an event logged from inside a field's
        // Debug) formats into a fresh buffer instead.
        LINE.with(|line| match line.try_borrow_mut() {
            Ok(mut line) => format(&mut line),
            Err(_) => format(&mut Vec::new()),
        });
    }
}

/// The line that says how many lines the output lost (written by the log
/// writer itself, outside any span).
pub fn write_dropped_report(line: &mut Vec<u8>, dropped: u64) {
    write_head(line, SystemTime::now(), Level::WARN);
    let message = "log lines dropped: the output did not keep up";
    write_member(line, "message", Value::Str(message));
    write_member(line, "dropped", Value::U64(dropped));
    write_member(line, "target", Value::Str(module_path!()));
    line.extend_from_slice(b"}\n");
}

/// `{"timestamp":"…Z","level":"…"`, the time in UTC to the microsecond.
fn write_head(line: &mut Vec<u8>, now: SystemTime, level: Level) {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    line.extend_from_slice(b"{\"timestamp\":\"");
    line.extend_from_slice(&second_of(since_epoch.as_secs()));
    push_padded(line, u64::from(since_epoch.subsec_micros()), 6);
    line.extend_from_slice(b"Z\",\"level\":\"");
    line.extend_from_slice(level.as_str().as_bytes());
    line.push(b'"');
}

thread_local! {
    /// The last second each thread wrote, formatted: most lines share theirs
    /// with the line before.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// `YYYY-MM-DDTHH:MM:SS.` of `seconds` after the epoch, in UTC.
fn second_of(seconds: u64) -> [u8; 20] {
    let (cached, text) = SECOND.get();
    if cached == seconds {
        return text;
    }
    let (year, month, day) = civil_date(seconds / 86_400);
    let of_day = seconds % 86_400;
    let mut text = Vec::with_capacity(20);
    for (value, width, then) in [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (of_day / 3600, 2, b':'),
        (of_day / 60 % 60, 2, b':'),
        (of_day % 60, 2, b'.'),
    ] {
        push_padded(&mut text, value, width);
        text.push(then);
    }
    let text = text.try_into().unwrap_or([b'0'; 20]);
    SECOND.set((seconds, text));
    text
}

/// The last `width` (at most 20) decimal digits of `value`, zero-padded: the
/// formatting machinery costs several times more for a timestamp's numbers.
fn push_padded(line: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    for digit in digits[..width].iter_mut().rev() {
        *digit = b"0123456789"[usize::try_from(value % 10).unwrap_or_default()];
        value /= 10;
    }
    line.extend_from_slice(&digits[..width]);
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for dates after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `,"span":{…}`: the fields of every span the event is in, innermost first,
/// then the id and trace of the request being served, and the innermost
/// span's name (`request` for the request itself). Nothing outside both.
fn write_context<S>(line: &mut Vec<u8>, scope: Option<Scope<'_, S>>)
where
    S: for<'lookup> LookupSpan<'lookup>,
{
    let outer_len = line.len();
    line.extend_from_slice(b",\"span\":{");
    let members_start = line.len();
    // Names already written, so that an inner field hides an outer one; a
    // handful of fields is all there is, so a list beats a set.
    let mut written: Vec<&'static str> = Vec::new();
    let mut name = None;
    for span in scope.into_iter().flatten() {
        name.get_or_insert(span.name());
        let extensions = span.extensions();
        let Some(fields) = extensions.get::<SpanFields>() else {
            continue;
        };
        let mut start = 0;
        for &(field, end) in &fields.members {
            if !written.contains(&field) {
                line.extend_from_slice(&fields.json[start..end]);
                written.push(field);
            }
            start = end;
        }
    }
    let in_request = super::with_current_request(|id, trace| {
        if !written.contains(&"request_id") {
            write_member(line, "request_id", Value::Str(id));
        }
        let ids = [
            ("trace_id", Some(&trace.trace_id.0[..])),
            ("span_id", Some(&trace.span_id.0[..])),
            ("parent_id", trace.parent_id.as_ref().map(|id| &id.0[..])),
        ];
        for (field, id) in ids {
            if let Some(id) = id.filter(|_| !written.contains(&field)) {
                line.extend_from_slice(b",\"");
                line.extend_from_slice(field.as_bytes());
                line.extend_from_slice(b"\":\"");
                push_hex(line, id);
                line.push(b'"');
            }
        }
    })
    .is_some();
    let name = match name {
        Some(name) => name,
        None if in_request => "request",
        None => {
            line.truncate(outer_len);
            return;
        }
    };
    write_member(line, "name", Value::Str(name));
    // Every member was written with a leading comma; the first needs none.
    line.remove(members_start);
    line.push(b'}');
}

/// A span's fields, rendered once as JSON members (`,"name":value`).
#[derive(Debug, Default)]
struct SpanFields {
    json: Vec<u8>,
    /// Each field's name and where its member ends in `json`.
    members: Vec<(&'static str, usize)>,
}

impl SpanFields {
    fn record(&mut self, values: &Record<'_>) {
        // A field recorded again replaces its earlier value (rare: rebuild).
        let mut update = SpanFields::default();
        values.record(&mut Members::of_span(&mut update));
        let old = std::mem::take(self);
        let mut start = 0;
        for (name, end) in old.members {
            if !update.members.iter().any(|(new, _)| *new == name) {
                self.push_member(name, &old.json[start..end]);
            }
            start = end;
        }
        let mut start = 0;
        for (name, end) in update.members {
            self.push_member(name, &update.json[start..end]);
            start = end;
        }
    }

    fn push_member(&mut self, name: &'static str, member: &[u8]) {
        self.json.extend_from_slice(member);
        self.members.push((name, self.json.len()));
    }
}

/// Writes fields as JSON members: an event's into its line, a span's into its
/// [`SpanFields`] (then noting where each member ends).
struct Members<'a> {
    out: &'a mut Vec<u8>,
    ends: Option<&'a mut Vec<(&'static str, usize)>>,
}

impl<'a> Members<'a> {
    fn of_event(line: &'a mut Vec<u8>) -> Self {
        Self {
            out: line,
            ends: None,
        }
    }

    fn of_span(fields: &'a mut SpanFields) -> Self {
        Self {
            out: &mut fields.json,
            ends: Some(&mut fields.members),
        }
    }

    fn write(&mut self, field: &Field, value: Value<'_>) {
        write_member(self.out, field.name(), value);
        if let Some(ends) = self.ends.as_deref_mut() {
            ends.push((field.name(), self.out.len()));
        }
    }
}

impl Visit for Members<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, Value::Debug(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(field, Value::Str(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(field, Value::U64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.write(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(field, Value::Bool(value));
    }
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Debug(&'a dyn fmt::Debug),
    Str(&'a str),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

/// `,"name":value` (every member follows `{"timestamp":…` or another member).
/// `serde_json` writes the name and the value: its escaping of strings, and
/// the shortest decimal that reads back as the same number for floats.
fn write_member(out: &mut Vec<u8>, name: &str, value: Value<'_>) {
    out.push(b',');
    write_str(out, name);
    out.push(b':');
    let json = &mut serde_json::Serializer::new(&mut *out);
    // Writing into a Vec cannot fail.
    let _ = match value {
        // `%value` and `?value` fields, and a formatted message, are strings.
        Value::Debug(value) => json.collect_str(&format_args!("{value:?}")),
        Value::Str(value) => {
            write_str(out, value);
            Ok(())
        }
        Value::I64(value) => json.serialize_i64(value),
        Value::U64(value) => json.serialize_u64(value),
        // JSON has no NaN or infinity: serde_json writes null for them.
        Value::F64(value) => json.serialize_f64(value),
        Value::Bool(value) => json.serialize_bool(value),
    };
}

/// `"text"`: copied as it is when nothing in it needs escaping, as field names
/// and most values do not (the same bytes `serde_json` would write, sooner);
/// otherwise `serde_json` escapes it.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::Serializer::new(out).serialize_str(text);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_utc_to_the_microsecond() {
        for (seconds, micros, expected) in [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.000005Z"),
            (1_796_546_130, 123_456, "2026-12-06T08:35:30.123456Z"),
            (4_107_542_399, 999_999, "2100-02-28T23:59:59.999999Z"),
        ] {
            let now = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros);
            let mut line = Vec::new();
            write_head(&mut line, now, Level::INFO);
            let expected = format!("\"timestamp\":\"{expected}\",\"level\":\"INFO\"");
            assert_eq!(line[0], b'{');
            assert_eq!(String::from_utf8_lossy(&line[1..]), expected);
        }
    }

    #[test]
    fn values_are_valid_json_whatever_they_hold() {
        let mut line = b"{\"a\":0".to_vec();
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} ä €";
        write_member(&mut line, "text", Value::Str(tricky));
        write_member(&mut line, "debug", Value::Debug(&Some(tricky)));
        write_member(&mut line, "we\"ird", Value::I64(-3));
        write_member(&mut line, "big", Value::U64(u64::MAX));
        write_member(&mut line, "ms", Value::F64(15_754.0 / 1000.0));
        write_member(&mut line, "tiny", Value::F64(1e-7));
        write_member(&mut line, "nan", Value::F64(f64::NAN));
        write_member(&mut line, "yes", Value::Bool(true));
        line.push(b'}');

        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["text"], tricky);
        assert_eq!(parsed["debug"], format!("{:?}", Some(tricky)));
        assert_eq!(parsed["we\"ird"], -3);
        assert_eq!(parsed["big"], u64::MAX);
        assert_eq!(parsed["ms"], 15.754);
        let text = String::from_utf8(line).unwrap();
        assert!(text.contains("\"ms\":15.754,"), "{text}");
        assert_eq!(parsed["tiny"], 1e-7);
        assert_eq!(parsed["nan"], serde_json::Value::Null);
        assert_eq!(parsed["yes"], true);
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "request",
            "/healthz",
            "ä € 日本",
            "a\"b",
            "back\\slash",
            "\u{1f}\n",
        ] {
            let mut ours = Vec::new();
            write_str(&mut ours, text);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(text).unwrap()
            );
        }
    }

    #[test]
    fn the_dropped_report_is_one_json_line() {
        let mut line = Vec::new();
        write_dropped_report(&mut line, 42);
        assert_eq!(line.last(), Some(&b'\n'));
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["dropped"], 42);
        assert_eq!(parsed["level"], "WARN");
    }
}
