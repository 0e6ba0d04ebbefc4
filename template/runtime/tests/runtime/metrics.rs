//! `GET /metrics`: exact counts after known requests, bounded series, the
//! connection figures, the build's identity and both exposition formats.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use service_runtime::Config;

use crate::helpers::{TestApp, spawn, spawn_upstream, test_config, with_upstream};

/// The value of the sample whose name and labels are exactly `series`
/// (`name{label="value",...}`, labels in the order the service writes them).
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

/// Lines of samples (not comments) of the metric `name`.
fn samples_of<'a>(exposition: &'a str, name: &str) -> Vec<&'a str> {
    exposition
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// A closed loopback port: connecting fails at once.
fn closed_port_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    format!("http://{closed}/")
}

#[tokio::test]
async fn known_requests_give_exact_counts_by_route_template_and_status() {
    let fine = Router::new().route("/status", get(|| async { "fine" }));
    let upstream = spawn_upstream(fine).await;
    let app = with_upstream(&format!("http://{upstream}/status")).await;

    for path in ["/upstream", "/upstream", "/nope", "/healthz", "/readyz"] {
        app.get(path).await;
    }
    let text = scrape(&app).await;

    let requests = "http_server_requests_total";
    let upstream_ok = r#"{method="GET",route="/upstream",status="200"}"#;
    let not_found = r#"{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(
        sample(&text, &format!("{requests}{upstream_ok}")),
        Some(2.0)
    );
    assert_eq!(sample(&text, &format!("{requests}{not_found}")), Some(1.0));
    // Probes and scrapes are not traffic.
    assert_eq!(samples_of(&text, requests).len(), 2, "{text}");
    let client = r#"http_client_requests_total{result="ok"}"#;
    assert_eq!(sample(&text, client), Some(2.0));
    // The control for the test of waits below: none below the cap.
    let waits = "http_server_connection_limit_waits_total";
    assert_eq!(sample(&text, waits), Some(0.0));

    let duration = "http_server_request_duration_seconds";
    let labels = r#"{method="GET",route="/upstream"}"#;
    let count = sample(&text, &format!("{duration}_count{labels}"));
    assert_eq!(count, Some(2.0));
    let inf_labels = r#"{method="GET",route="/upstream",le="+Inf"}"#;
    let inf = sample(&text, &format!("{duration}_bucket{inf_labels}"));
    assert_eq!(inf, Some(2.0));
    let sum = sample(&text, &format!("{duration}_sum{labels}")).unwrap();
    assert!(sum > 0.0, "{text}");
}

#[tokio::test]
async fn an_unreachable_upstream_counts_a_502_and_an_unreachable_call() {
    let app = with_upstream(&closed_port_url()).await;

    assert_eq!(app.get("/upstream").await.status(), StatusCode::BAD_GATEWAY);
    let text = scrape(&app).await;

    let series = r#"http_server_requests_total{method="GET",route="/upstream",status="502"}"#;
    assert_eq!(sample(&text, series), Some(1.0));
    let client = r#"http_client_requests_total{result="unreachable"}"#;
    assert_eq!(sample(&text, client), Some(1.0));
}

#[tokio::test]
async fn a_thousand_random_paths_share_one_series() {
    let app = spawn(test_config()).await;

    for i in 0..1000_u32 {
        let path = format!("/random/{:08x}", i.wrapping_mul(2_654_435_761));
        assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND);
    }
    let text = scrape(&app).await;

    let requests = samples_of(&text, "http_server_requests_total");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let series = r#"http_server_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, series), Some(1000.0));
    assert!(!text.contains("/random/"));
}

#[tokio::test]
async fn invented_methods_share_one_label() {
    let app = spawn(test_config()).await;
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();

    app.client
        .request(brew, app.url("/x"))
        .send()
        .await
        .unwrap();
    let text = scrape(&app).await;

    let series = r#"http_server_requests_total{method="_OTHER",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, series), Some(1.0));
    assert!(!text.contains("BREW"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_and_open_connections_are_gauges() {
    let never_answers = Router::new().route("/", get(std::future::pending::<&'static str>));
    let upstream = spawn_upstream(never_answers).await;
    let app = spawn(Config {
        upstream_url: Some(format!("http://{upstream}/").parse().unwrap()),
        request_timeout: Duration::from_secs(30),
        handler_timeout: Duration::from_secs(30),
        ..test_config()
    })
    .await;
    let hung = tokio::spawn(app.client.get(app.url("/upstream")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let text = scrape(&app).await;

    assert_eq!(sample(&text, "http_server_active_requests"), Some(1.0));
    // The hung request's connection and the scrape's.
    assert_eq!(sample(&text, "http_server_open_connections"), Some(2.0));
    hung.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_at_the_connection_cap_are_counted() {
    let app = spawn(Config {
        max_connections: 1,
        ..test_config()
    })
    .await;

    // A kept-alive client takes the one slot; the accept loop waits.
    let mut holder = TcpStream::connect(app.addr).unwrap();
    holder
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(holder);
    let text = scrape(&app).await;

    let waits = sample(&text, "http_server_connection_limit_waits_total");
    assert!(waits.is_some_and(|waits| waits >= 1.0), "{text}");
}

#[tokio::test]
async fn build_info_names_the_service_version_revision_and_compiler() {
    let app = spawn(test_config()).await;

    let text = scrape(&app).await;

    let info = samples_of(&text, "service_build_info");
    assert_eq!(info.len(), 1, "{text}");
    let expected = [
        r#"service_build_info{service=""#,
        env!("CARGO_PKG_NAME"),
        r#"",version=""#,
        env!("CARGO_PKG_VERSION"),
        r#"",revision="#,
    ]
    .concat();
    assert!(info[0].starts_with(&expected), "{}", info[0]);
    // Set by the image build (`rustc --version`); `unknown` in `cargo test`.
    assert!(info[0].contains(r#",rustc=""#), "{}", info[0]);
    assert!(info[0].ends_with("} 1"), "{}", info[0]);
}

#[tokio::test]
async fn plain_scrapers_get_the_prometheus_text_format() {
    let app = spawn(test_config()).await;
    // A family appears once it has a series.
    app.get("/nope").await;

    let response = app.get("/metrics").await;

    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE http_server_requests_total counter\n"));
    assert!(!text.contains("# EOF"));
}

#[tokio::test]
async fn scrapers_that_ask_for_openmetrics_get_it() {
    let app = spawn(test_config()).await;
    app.get("/nope").await;
    let accept = "application/openmetrics-text;version=1.0.0;q=0.6,text/plain;q=0.3";

    let response = app
        .client
        .get(app.url("/metrics"))
        .header(ACCEPT, accept)
        .send()
        .await
        .unwrap();

    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("# TYPE http_server_requests counter\n"));
    assert!(text.ends_with("# EOF\n"), "{text}");
}
