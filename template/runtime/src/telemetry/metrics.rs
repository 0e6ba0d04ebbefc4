//! Prometheus metrics on `GET /metrics`: requests, connections, outbound
//! calls and the build's identity, encoded by the Prometheus project's own
//! Rust client (`prometheus-client`) in the Prometheus text format, or in
//! `OpenMetrics` when the scraper asks for it (Prometheus does).
//!
//! Series (README, "Metrics"):
//!
//! | Series | Type | Labels |
//! |--------|------|--------|
//! | `http_server_requests_total` | counter | `method`, `route`, `status` |
//! | `http_server_request_duration_seconds` | histogram | `method`, `route` |
//! | `http_server_active_requests` | gauge | |
//! | `http_server_open_connections` | gauge | |
//! | `http_server_connection_limit_waits_total` | counter | |
//! | `http_client_requests_total` | counter | `result` |
//! | `log_lines_dropped_total` | counter | |
//! | `service_build_info` | info (a gauge of 1) | `service`, `version`, `revision`, `rustc` |
//!
//! `route` is the route template that matched (`/upstream`), never the raw
//! path, and `unmatched` for every path no route knows, so the number of
//! series stays bounded whatever clients send.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::client::OutboundResult;
use crate::server::ConnectionStats;

/// Where the metrics are served, on the service's own port.
pub const METRICS_PATH: &str = "/metrics";

/// Probes and scrapes are not traffic: counting them would drown the
/// service's own requests in a steady background of the orchestrator's.
pub const UNCOUNTED_ROUTES: [&str; 3] = ["/healthz", "/readyz", METRICS_PATH];

/// The `route` of requests that matched no route: one series for all of them.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Upper bounds of the request duration buckets, in seconds: from 1 ms (a
/// probe-like answer) to 10 s (near the handler timeout's default of 15 s).
pub const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Content type of the `OpenMetrics` text format.
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The git revision the binary was built from: the image build passes its
/// `REVISION` argument as `GIT_REVISION` (see the Containerfile).
const REVISION: &str = match option_env!("GIT_REVISION") {
    Some(revision) if !revision.is_empty() => revision,
    _ => "unknown",
};

/// The compiler that built the binary: the image build sets `RUSTC_VERSION`
/// to `rustc --version` (an environment variable rather than a build script,
/// which cargo-chef's cached dependency layer would run stale).
const RUSTC: &str = match option_env!("RUSTC_VERSION") {
    Some(version) if !version.is_empty() => version,
    _ => "unknown",
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboundLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    service: &'static str,
    version: &'static str,
    revision: &'static str,
    rustc: &'static str,
    runtime: &'static str,
}

/// Every series of the service. Cheap to clone: everything is shared.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    active_requests: Gauge,
    outbound: Family<OutboundLabels, Counter>,
}

impl Metrics {
    /// Registers every series; connection figures are read from `connections`
    /// at each scrape. The build-info series names the service (`name`,
    /// `version`) and the runtime's own version.
    #[must_use]
    pub fn new(connections: ConnectionStats, name: &'static str, version: &'static str) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(DURATION_BUCKETS)
        });
        let active_requests = Gauge::default();
        let outbound = Family::<OutboundLabels, Counter>::default();

        let mut registry = Registry::default();
        registry.register(
            "http_server_requests",
            "HTTP requests answered, by method, route template and status code",
            requests.clone(),
        );
        registry.register_with_unit(
            "http_server_request_duration",
            "Time from a request's head to its answer, by method and route template",
            Unit::Seconds,
            durations.clone(),
        );
        registry.register(
            "http_server_active_requests",
            "HTTP requests being served now",
            active_requests.clone(),
        );
        registry.register_collector(Box::new(ConnectionCollector(connections)));
        registry.register_collector(Box::new(DroppedLogLines));
        registry.register(
            "http_client_requests",
            "Outbound HTTP requests, by result",
            outbound.clone(),
        );
        registry.register(
            "service_build",
            "The running build: package, version, git revision, compiler and runtime crate",
            Info::new(BuildLabels {
                service: name,
                version,
                revision: REVISION,
                rustc: RUSTC,
                runtime: env!("CARGO_PKG_VERSION"),
            }),
        );

        Self {
            registry: Arc::new(registry),
            requests,
            durations,
            active_requests,
            outbound,
        }
    }

    /// The route serving `GET /metrics`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(METRICS_PATH, get(serve))
            .with_state(self.clone())
    }

    /// Counts one outbound request.
    pub fn record_outbound(&self, result: OutboundResult) {
        let labels = OutboundLabels {
            result: result.as_str(),
        };
        self.outbound.get_or_create(&labels).inc();
    }

    /// The exposition in `format`.
    ///
    /// # Errors
    ///
    /// Only if a label fails to encode, which the label types here cannot.
    pub fn encode(&self, format: Format) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        match format {
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
            }
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
            }
        }
        Ok(text)
    }
}

/// Middleware around every route (inside the request log): counts and times
/// each request by method, route template and status, and tracks how many
/// are in flight. Probes and scrapes pass through uncounted.
pub async fn track_requests(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    if route.is_some_and(|route| UNCOUNTED_ROUTES.contains(&route)) {
        return next.run(request).await;
    }
    let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
    let method = method_label(request.method());

    let started = Instant::now();
    let in_flight = InFlight::start(&metrics.active_requests);
    let response = next.run(request).await;
    drop(in_flight);

    let status = response.status().as_u16();
    let labels = RouteLabels { method, route };
    metrics
        .durations
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let RouteLabels { method, route } = labels;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    response
}

/// Counts a request as in flight until dropped, also when the client goes
/// away and the request's future is dropped half-way.
struct InFlight<'a>(&'a Gauge);

impl<'a> InFlight<'a> {
    fn start(gauge: &'a Gauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The standard methods by name, anything else as `_OTHER`: a client could
/// otherwise make a series per invented method.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// `GET /metrics`.
async fn serve(State(metrics): State<Metrics>, headers: HeaderMap) -> Response {
    let format = Format::negotiate(&headers);
    match metrics.encode(format) {
        Ok(text) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4: what `curl` and older scrapers get.
    Prometheus,
    /// `OpenMetrics` 1.0 text, which Prometheus asks for first.
    OpenMetrics,
}

impl Format {
    /// `OpenMetrics` when `Accept` names it with a quality at least as high as
    /// any range that covers `text/plain`; the Prometheus text format
    /// otherwise, also when `Accept` is missing or names neither.
    #[must_use]
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let (mut openmetrics, mut text) = (0.0_f32, 0.0_f32);
        let ranges = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for range in ranges {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let quality = parts
                .filter_map(|parameter| parameter.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => openmetrics = openmetrics.max(quality),
                "text/plain" | "text/*" | "*/*" => text = text.max(quality),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Self::OpenMetrics
        } else {
            Self::Prometheus
        }
    }

    /// The `Content-Type` of an answer in this format.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => PROMETHEUS_TEXT,
            Self::OpenMetrics => OPENMETRICS_TEXT,
        }
    }
}

/// Reads the accept loop's connection figures at each scrape. Help texts end
/// with a full stop, as the registry writes those of registered metrics.
#[derive(Debug)]
struct ConnectionCollector(ConnectionStats);

impl Collector for ConnectionCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let open = ConstGauge::new(self.0.open());
        open.encode(encoder.encode_descriptor(
            "http_server_open_connections",
            "Client connections open now.",
            None,
            open.metric_type(),
        )?)?;
        let waits = ConstCounter::new(self.0.limit_waits());
        waits.encode(encoder.encode_descriptor(
            "http_server_connection_limit_waits",
            "Times the connection cap was reached and the accept loop waited for a free slot.",
            None,
            waits.metric_type(),
        )?)?;
        Ok(())
    }
}

/// Reads the log writer's count of lost lines at each scrape.
#[derive(Debug)]
struct DroppedLogLines;

impl Collector for DroppedLogLines {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let dropped = ConstCounter::new(super::dropped_log_lines());
        dropped.encode(encoder.encode_descriptor(
            "log_lines_dropped",
            "Log lines dropped because the output did not keep up (or failed), instead of stalling requests.",
            None,
            dropped.metric_type(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn openmetrics_only_when_the_client_prefers_it() {
        let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
             application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,\
             text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        for (values, expected) in [
            (vec![], Format::Prometheus),
            (vec!["*/*"], Format::Prometheus),
            (vec!["text/plain"], Format::Prometheus),
            (vec!["application/json"], Format::Prometheus),
            (vec![prometheus_3], Format::OpenMetrics),
            (vec!["Application/OpenMetrics-Text"], Format::OpenMetrics),
            (
                vec!["text/plain", "application/openmetrics-text"],
                Format::OpenMetrics,
            ),
            (vec!["application/openmetrics-text;q=0"], Format::Prometheus),
            (
                vec!["application/openmetrics-text;q=0.5, text/plain"],
                Format::Prometheus,
            ),
        ] {
            assert_eq!(Format::negotiate(&accept(&values)), expected, "{values:?}");
        }
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "_OTHER");
    }
}
