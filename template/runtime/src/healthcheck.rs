//! The `healthcheck` command: asks the running server for `/healthz`.
//!
//! Scratch images have no shell or curl, so the binary checks itself
//! (`HEALTHCHECK CMD ["/app", "healthcheck"]`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;

use crate::client;
use crate::config::Config;

/// How long the whole check may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Where the server is reachable from inside its own container: loopback when
/// it listens on all interfaces, otherwise the address it is bound to.
#[must_use]
pub fn target<S>(config: &Config<S>) -> SocketAddr {
    let ip = match config.host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, config.port)
}

/// Succeeds when `GET http://{addr}/healthz` answers 200 within [`TIMEOUT`].
///
/// # Errors
///
/// Returns a one-line reason for the failure.
pub async fn check(addr: SocketAddr) -> Result<(), String> {
    client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        // Talk to the local server directly even if a proxy is configured.
        .no_proxy()
        // Plain HTTP only: an empty root store skips loading the CA bundle.
        .tls_certs_only([])
        .build()
        .map_err(|error| crate::error_chain(&error))?;

    let url = format!("http://{addr}/healthz");
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|error| crate::error_chain(&error))?;
    match response.status() {
        StatusCode::OK => Ok(()),
        status => Err(format!("{url} answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_host_is_checked_on_loopback() {
        let config = |host: &str| Config::<()> {
            host: host.parse().unwrap(),
            port: 8080,
            ..Config::default()
        };
        assert_eq!(target(&config("0.0.0.0")).to_string(), "127.0.0.1:8080");
        assert_eq!(target(&config("::")).to_string(), "[::1]:8080");
        assert_eq!(target(&config("10.1.2.3")).to_string(), "10.1.2.3:8080");
    }
}
