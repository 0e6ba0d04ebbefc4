use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::Value;
use tokio::net::TcpListener;

use service_runtime::Config;
use service_runtime::telemetry;
use service_runtime::testing;
pub use service_runtime::testing::{TestApp, local_client};

/// Configuration for a test server: loopback, any free port, no drain
/// delay, and the log lines captured for [`logs_where`].
pub fn test_config() -> Config {
    capture_logs();
    testing::test_config()
}

/// Starts the service with the runtime's routes only.
pub async fn spawn(config: Config) -> TestApp {
    TestApp::spawn(config, |_| Router::new()).await
}

/// Starts the service with `extra` routes behind the same layers.
pub async fn spawn_with(config: Config, extra: Router) -> TestApp {
    TestApp::spawn(config, move |_| extra).await
}

/// Starts the service with `/upstream` pointing at `url`.
pub async fn with_upstream(url: &str) -> TestApp {
    spawn(Config {
        upstream_url: Some(url.parse().expect("a valid upstream URL")),
        ..test_config()
    })
    .await
}

/// Every JSON log line of this test process (all tests share it: look for
/// your request id).
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the service's own logging once, writing into [`LOGS`].
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let filter = "info".parse().unwrap();
        telemetry::init_with_writer(filter, LogWriter).unwrap();
    });
}

/// The captured log records for which `pick` is true.
pub fn logs_where(pick: impl Fn(&Value) -> bool) -> Vec<Value> {
    // Lines reach the writer through the log buffer's own thread.
    assert!(telemetry::flush(Instant::now() + Duration::from_secs(10)));
    let logs = LOGS.lock().unwrap();
    String::from_utf8_lossy(&logs)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("every log line is JSON"))
        .filter(|record| pick(record))
        .collect()
}

/// The captured log records of one request.
pub fn logs_of_request(request_id: &str) -> Vec<Value> {
    logs_where(|record| record["span"]["request_id"] == request_id)
}

/// The `error` field of a JSON error answer.
pub async fn error_message(response: reqwest::Response) -> String {
    let body = response.json::<serde_json::Value>().await.unwrap();
    body["error"].as_str().expect("an error message").to_owned()
}

/// Serves `router` on 127.0.0.1 with any free port, for the test's lifetime.
pub async fn spawn_upstream(router: Router) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A file in the temp directory, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    /// `name` must be unique among concurrently running tests.
    pub fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "{}-test-{}-{name}",
            env!("CARGO_PKG_NAME"),
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The service's own binary, started as an operator would, with only the
/// given `APP_*` variables and a free loopback port.
pub struct Binary {
    pub child: Child,
    pub port: u16,
    stdout: Arc<Mutex<Vec<String>>>,
    /// While set, nobody reads the binary's stdout (a stalled log collector).
    stdout_paused: Arc<AtomicBool>,
}

/// The service's binary as Cargo built it for these tests. A function, not a constant: with the
/// longest package name the constant's line would need rustfmt's wrapping.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_runtime-demo")
}

impl Binary {
    /// Starts the binary through `sh -c`, so `prefix` (such as `ulimit -Sn
    /// 256;`) applies to it, and waits for its "listening" line.
    pub fn start(vars: &[(&str, &str)], prefix: &str) -> Self {
        let port = free_port();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("{prefix} exec \"$0\""))
            .arg(binary())
            .env_clear()
            .env("APP_HOST", "127.0.0.1")
            .env("APP_PORT", port.to_string())
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stdout_paused = Arc::new(AtomicBool::new(false));
        let (lines, paused) = (Arc::clone(&stdout), Arc::clone(&stdout_paused));
        let pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            // Unbuffered: a paused reader must leave the lines in the pipe.
            let mut reader = BufReader::with_capacity(1, pipe);
            let mut line = String::new();
            loop {
                while paused.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                lines.lock().unwrap().push(line.trim_end().to_owned());
            }
        });
        let binary = Self {
            child,
            port,
            stdout,
            stdout_paused,
        };
        binary.wait_for_log(
            |record| record["message"] == "listening",
            Duration::from_secs(20),
        );
        binary
    }

    /// Stops or resumes reading the binary's stdout.
    pub fn pause_stdout(&self, paused: bool) {
        self.stdout_paused.store(paused, Ordering::Relaxed);
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The JSON log lines written so far.
    pub fn logs(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
            .collect()
    }

    /// Waits for a log record for which `pick` is true.
    pub fn wait_for_log(&self, pick: impl Fn(&Value) -> bool, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            if let Some(record) = self.logs().into_iter().find(|record| pick(record)) {
                return record;
            }
            assert!(
                started.elapsed() < limit,
                "no such log line: {:?}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident memory in bytes, from /proc.
    #[cfg(target_os = "linux")]
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to its end (it is expected to fail at start-up).
pub fn run_binary(vars: &[(&str, &str)]) -> std::process::Output {
    Command::new(binary())
        .env_clear()
        .env("APP_HOST", "127.0.0.1")
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
