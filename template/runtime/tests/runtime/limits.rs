//! What slow, greedy or numerous clients can take: bounded time, memory and
//! connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use service_runtime::Config;
use service_runtime::healthcheck;

use crate::helpers::{Binary, logs_where, spawn, test_config};

/// Reads until the server closes the connection; how long that took, or
/// `None` if it was still open after `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed());
            }
            _ => {}
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_disconnected_after_the_header_read_timeout() {
    let app = spawn(Config {
        header_read_timeout: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    let addr = app.addr;

    let closed = tokio::task::spawn_blocking(move || {
        // 50 clients that never finish their request head: one sends nothing,
        // the others a header line every 200 ms.
        let mut clients: Vec<TcpStream> =
            (0..50).map(|_| TcpStream::connect(addr).unwrap()).collect();
        for client in &mut clients[1..] {
            client.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
        }
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(200));
            for client in &mut clients[1..] {
                let _ = client.write_all(b"X-Slow: 1\r\n");
            }
        }
        clients
            .iter_mut()
            .map(|client| closed_within(client, Duration::from_secs(5)))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    // Timed from the first client's connect: 1 s, plus slack for a loaded machine.
    assert!(closed.iter().all(Option::is_some), "{closed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn(Config {
        header_read_timeout: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    let addr = app.addr;

    let closed = tokio::task::spawn_blocking(move || {
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        closed_within(&mut client, Duration::from_secs(5))
    })
    .await
    .unwrap();

    let took = closed.expect("closed after the idle timeout");
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn an_oversized_request_head_is_refused_with_431() {
    let app = spawn(test_config()).await;

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-big", "a".repeat(20 * 1024))
        .send()
        .await
        .unwrap();

    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_and_the_wait_is_logged() {
    let app = spawn(Config {
        max_connections: 3,
        header_read_timeout: Duration::from_secs(30),
        ..test_config()
    })
    .await;
    let addr = app.addr;
    let holders: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The fourth client is not refused: it waits for a free slot.
    let waiting = tokio::spawn(
        crate::helpers::local_client()
            .get(format!("http://{addr}/healthz"))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "answered although at the cap");
    drop(holders);

    let response = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("answered once a slot is free")
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let waits = logs_where(|r| {
        r["message"] == "connection limit reached; new connections wait until one closes"
            && r["max_connections"] == 3
    });
    assert!(!waits.is_empty());
}

// Reads /proc, so Linux only (as is the image).
#[cfg(target_os = "linux")]
#[test]
fn many_unfinished_request_heads_keep_memory_bounded() {
    let service = Binary::start(&[("APP_HEADER_READ_TIMEOUT_SECS", "30")], "");
    let before = service.rss_bytes();

    // 300 clients each try to send a 400 KB request head and keep the
    // connection open: hyper's default buffer would keep ~120 MB of them.
    let chunk = vec![b'a'; 400 * 1024];
    let clients: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut client = TcpStream::connect(service.addr()).unwrap();
            client
                .set_write_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let _ = client.write_all(b"GET / HTTP/1.1\r\nX-Fill: ");
            let _ = client.write_all(&chunk);
            client
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let during = service.rss_bytes();
    drop(clients);

    let growth = during.saturating_sub(before);
    assert!(
        growth < 48 * 1024 * 1024,
        "RSS grew by {} MiB (from {} MiB)",
        growth / (1024 * 1024),
        before / (1024 * 1024)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn holding_more_sockets_than_the_soft_fd_limit_leaves_the_service_healthy() {
    // Only the soft limit is lowered (as many runtimes start processes); the
    // service raises it to the hard limit, which must be high enough to test.
    let Some(hard) = hard_fd_limit().filter(|hard| *hard >= 2048) else {
        eprintln!("skipped: the hard RLIMIT_NOFILE is below 2048");
        return;
    };
    let service = Binary::start(
        &[("APP_HEADER_READ_TIMEOUT_SECS", "30")],
        "ulimit -Sn 256 &&",
    );

    let held: Vec<TcpStream> = (0..400)
        .map(|_| TcpStream::connect(service.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health = runtime.block_on(healthcheck::check(service.addr()));
    assert_eq!(health, Ok(()), "hard limit {hard}");
    drop(held);
}

/// The hard `RLIMIT_NOFILE` of this process, from /proc.
#[cfg(target_os = "linux")]
fn hard_fd_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(4)?.parse().ok()
}
