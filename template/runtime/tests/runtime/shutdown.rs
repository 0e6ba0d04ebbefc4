//! The shutdown timeline: drain, stop accepting, finish or cut, exit.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use service_runtime::Config;
use service_runtime::Stopped;
// The module, not its items: with the longest crate name the line would need rustfmt's wrapping.
use service_runtime::Defaults;
use service_runtime::shutdown;

use crate::helpers::{Binary, spawn, spawn_upstream, test_config, with_upstream};

#[tokio::test]
async fn stops_when_triggered() {
    let app = spawn(test_config()).await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    let stopped = app.stop().await.expect("server stops cleanly");

    assert_eq!(
        stopped,
        Stopped {
            cut: 0,
            tasks_cut: 0
        }
    );
}

#[tokio::test]
async fn in_flight_request_finishes_after_shutdown_starts() {
    // A slow upstream that says when a request has arrived.
    let (arrived_tx, mut arrived) = mpsc::channel::<()>(1);
    let slow = get(move || {
        let arrived_tx = arrived_tx.clone();
        async move {
            let _ = arrived_tx.send(()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }
    });
    let upstream = spawn_upstream(Router::new().route("/", slow)).await;
    let app = with_upstream(&format!("http://{upstream}/")).await;

    let in_flight = tokio::spawn(app.client.get(app.url("/upstream")).send());
    arrived.recv().await.expect("request reaches the upstream");
    let stopped = app.stop().await;

    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        stopped.expect("server stops cleanly"),
        Stopped {
            cut: 0,
            tasks_cut: 0
        }
    );
}

#[tokio::test]
async fn a_half_sent_request_cannot_hold_shutdown_past_its_deadline() {
    // The header-read timeout is far away: only the shutdown deadline can
    // end this connection.
    let app = spawn(Config {
        header_read_timeout: Duration::from_secs(60),
        shutdown_timeout: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    let mut stuck = TcpStream::connect(app.addr).await.unwrap();
    stuck.write_all(b"GET /heal").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown ends within its deadline")
        .unwrap();

    assert_eq!(
        stopped,
        Stopped {
            cut: 1,
            tasks_cut: 0
        }
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn readiness_fails_at_once_while_serving_continues_for_the_drain_delay() {
    let app = spawn(Config {
        shutdown_drain: Duration::from_secs(2),
        ..test_config()
    })
    .await;
    let (client, addr) = (app.client.clone(), app.addr);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    let stopping = app.start_stopping();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // New connections are still accepted, but readiness says "stop sending".
    let fresh = crate::helpers::local_client();
    let readyz = fresh
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    let healthz = fresh
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), StatusCode::OK);

    let stopped = tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        stopped,
        Stopped {
            cut: 0,
            tasks_cut: 0
        }
    );
    // After the drain the listener is closed.
    assert!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[test]
fn default_timeline_fits_docker_stop_and_kubernetes_with_a_pre_stop_sleep() {
    let Defaults {
        shutdown_drain: drain,
        shutdown_timeout: timeout,
        ..
    } = Defaults::default();
    let flush = shutdown::LOG_FLUSH_TIMEOUT;
    // docker stop: 10 s from SIGTERM to SIGKILL. Keep 1 s of margin after the
    // log flush.
    assert!(drain + timeout + flush <= Duration::from_secs(9));
    // Kubernetes: a 30 s grace period includes a preStop sleep of up to 15 s.
    assert!(Duration::from_secs(15) + drain + timeout + flush <= Duration::from_secs(26));
}

#[test]
fn sigterm_with_a_stuck_client_exits_0_within_the_deadline_and_says_what_it_cut() {
    let mut service = Binary::start(
        &[
            ("APP_SHUTDOWN_DRAIN_SECS", "1"),
            ("APP_SHUTDOWN_TIMEOUT_SECS", "2"),
            ("APP_HEADER_READ_TIMEOUT_SECS", "60"),
        ],
        "",
    );
    let mut stuck = std::net::TcpStream::connect(service.addr()).unwrap();
    std::io::Write::write_all(&mut stuck, b"GET /heal").unwrap();
    std::thread::sleep(Duration::from_millis(200));

    service.signal("TERM");
    let (status, took) = service
        .wait_exit(Duration::from_secs(10))
        .expect("the service exits within drain + deadline");

    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(6), "{took:?}");
    let cut = service.wait_for_log(|r| r["message"] == "stopped", Duration::from_secs(1));
    assert_eq!(cut["cut"], 1);
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut service = Binary::start(&[("APP_SHUTDOWN_DRAIN_SECS", "30")], "");

    service.signal("TERM");
    service.wait_for_log(
        |r| r["message"] == "received SIGTERM, shutting down",
        Duration::from_secs(5),
    );
    service.signal("INT");
    let (status, took) = service
        .wait_exit(Duration::from_secs(5))
        .expect("the second signal ends the process");

    assert_eq!(status.code(), Some(130));
    assert!(took < Duration::from_secs(3), "{took:?}");
}

// Only these tests signal the binary: with them here, a team that deletes this module leaves no
// unused helper behind (dead code fails clippy).
impl Binary {
    /// Sends a signal by name (`TERM`, `INT`) with the shell's `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {}", self.child.id()))
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its status and how long
    /// it took, or `None` (and the process is killed).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<(ExitStatus, Duration)> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }
}
