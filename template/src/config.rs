//! Configuration from environment variables.
//!
//! | Variable                   | Default   | Rule                                  |
//! |----------------------------|-----------|---------------------------------------|
//! | `APP_HOST`                 | `0.0.0.0` | an IP address (`::` for IPv6)         |
//! | `APP_PORT`                 | see below | an integer from 1 to 65535            |
//! | `APP_LOG`                  | `info`    | a `tracing` target filter             |
//! | `APP_REQUEST_TIMEOUT_SECS` | `10`      | whole seconds, greater than 0         |
//! | `APP_UPSTREAM_URL`         | unset     | an absolute `http`/`https` URL        |
//! | `APP_EXTRA_CA_FILE`        | unset     | path to a PEM bundle of extra roots   |
//!
//! An empty value counts as unset, so `APP_UPSTREAM_URL=` in a deployment file
//! means "no upstream" rather than an error.
//!
//! Port 0 (let the OS choose) is refused from the environment, where it would
//! only hide a mistake, but the library API accepts it: tests build a
//! [`Config`] with `port: 0` and read the bound port from the
//! [`Application`](crate::Application).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tracing_subscriber::filter::Targets;

/// Port used when `APP_PORT` is not set.
pub const DEFAULT_PORT: u16 = {{ cookiecutter.http_port }};

const DEFAULT_HOST: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings for one run of the service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 lets the OS choose (library API only).
    pub port: u16,
    /// Which log events to keep.
    pub log_filter: Targets,
    /// Total time allowed for one outbound request.
    pub request_timeout: Duration,
    /// Where `GET /upstream` sends its request.
    pub upstream_url: Option<Url>,
    /// PEM bundle of CA certificates trusted in addition to the built-in roots.
    pub extra_ca_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: DEFAULT_HOST,
            port: DEFAULT_PORT,
            log_filter: default_log_filter(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            upstream_url: None,
            extra_ca_file: None,
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// Returns the first variable whose value breaks its rule.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A value that is not valid UTF-8 is passed on lossily, so it fails its
        // rule with a readable message instead of being silently ignored.
        Self::from_lookup(|name| {
            std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
        })
    }

    /// Builds the configuration from `lookup`, which maps a variable name to
    /// its value. Pure, so tests need not touch the process environment.
    ///
    /// # Errors
    ///
    /// Returns the first variable whose value breaks its rule.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let defaults = Self::default();

        Ok(Self {
            host: parse_or("APP_HOST", get("APP_HOST"), defaults.host, parse_host)?,
            port: parse_or("APP_PORT", get("APP_PORT"), defaults.port, parse_port)?,
            log_filter: parse_or("APP_LOG", get("APP_LOG"), defaults.log_filter, parse_log)?,
            request_timeout: parse_or(
                "APP_REQUEST_TIMEOUT_SECS",
                get("APP_REQUEST_TIMEOUT_SECS"),
                defaults.request_timeout,
                parse_timeout,
            )?,
            upstream_url: get("APP_UPSTREAM_URL")
                .map(|value| parse_var("APP_UPSTREAM_URL", value, parse_url))
                .transpose()?,
            extra_ca_file: get("APP_EXTRA_CA_FILE").map(PathBuf::from),
        })
    }

    /// The address the server listens on.
    #[must_use]
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// A variable whose value breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Name of the variable.
    pub variable: &'static str,
    /// The value that was rejected.
    pub value: String,
    /// What the value should look like.
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            variable,
            value,
            expected,
        } = self;
        write!(f, "{variable}={value:?}: expected {expected}")
    }
}

impl std::error::Error for ConfigError {}

/// Parses `value` with `parse` when present, otherwise returns `default`.
fn parse_or<T>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    value.map_or(Ok(default), |value| parse_var(variable, value, parse))
}

fn parse_var<T>(
    variable: &'static str,
    value: String,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    parse(&value).map_err(|expected| ConfigError {
        variable,
        value,
        expected,
    })
}

// Each rule returns the "expected ..." text on failure.

fn parse_host(value: &str) -> Result<IpAddr, String> {
    // An IP address, not a host name: binding must not depend on DNS.
    value
        .parse()
        .map_err(|_| "an IP address such as 0.0.0.0, 127.0.0.1 or ::".to_owned())
}

fn parse_port(value: &str) -> Result<u16, String> {
    match value.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("an integer from 1 to 65535".to_owned()),
    }
}

fn parse_log(value: &str) -> Result<Targets, String> {
    value
        .parse()
        .map_err(|_| r#"a log filter such as "info" or "hyper=debug,info""#.to_owned())
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err("a whole number of seconds greater than 0".to_owned()),
    }
}

fn parse_url(value: &str) -> Result<Url, String> {
    let rule = "an absolute http:// or https:// URL";
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
        Ok(url) => Err(format!("{rule} (scheme is {:?})", url.scheme())),
        Err(error) => Err(format!("{rule} ({error})")),
    }
}

/// Same as `APP_LOG=info`, built directly so no parse can fail.
fn default_log_filter() -> Targets {
    Targets::new().with_default(tracing::Level::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a config from `(name, value)` pairs.
    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    fn error(vars: &[(&str, &str)]) -> String {
        config(vars).unwrap_err().to_string()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = config(&[]).unwrap();
        assert_eq!(
            config.listen_addr(),
            SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT))
        );
        assert_eq!(config.log_filter.to_string(), "info");
        assert_eq!(config.request_timeout, Duration::from_secs(10));
        assert!(config.upstream_url.is_none());
        assert!(config.extra_ca_file.is_none());
    }

    #[test]
    fn default_log_matches_parsed_default() {
        assert_eq!(
            default_log_filter().to_string(),
            parse_log("info").unwrap().to_string()
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config(&[("APP_PORT", ""), ("APP_UPSTREAM_URL", "")]).unwrap();
        assert_eq!(config.port, DEFAULT_PORT);
        assert!(config.upstream_url.is_none());
    }

    #[test]
    fn every_variable_is_read() {
        let config = config(&[
            ("APP_HOST", "::1"),
            ("APP_PORT", "9000"),
            ("APP_LOG", "hyper=debug,warn"),
            ("APP_REQUEST_TIMEOUT_SECS", "3"),
            ("APP_UPSTREAM_URL", "https://example.com/status"),
            ("APP_EXTRA_CA_FILE", "/etc/ssl/private-ca.pem"),
        ])
        .unwrap();
        assert_eq!(config.listen_addr(), "[::1]:9000".parse().unwrap());
        assert_eq!(config.log_filter.to_string(), "hyper=debug,warn");
        assert_eq!(config.request_timeout, Duration::from_secs(3));
        assert_eq!(
            config.upstream_url.unwrap().as_str(),
            "https://example.com/status"
        );
        assert_eq!(
            config.extra_ca_file.unwrap(),
            PathBuf::from("/etc/ssl/private-ca.pem")
        );
    }

    #[test]
    fn host_must_be_an_ip_address() {
        assert_eq!(
            error(&[("APP_HOST", "localhost")]),
            r#"APP_HOST="localhost": expected an IP address such as 0.0.0.0, 127.0.0.1 or ::"#
        );
    }

    #[test]
    fn port_must_be_from_1_to_65535() {
        for bad in ["abc", "0", "65536", "-1", "80.5"] {
            assert_eq!(
                error(&[("APP_PORT", bad)]),
                format!("APP_PORT={bad:?}: expected an integer from 1 to 65535")
            );
        }
        assert_eq!(config(&[("APP_PORT", "65535")]).unwrap().port, 65535);
    }

    #[test]
    fn log_filter_must_parse() {
        assert_eq!(
            error(&[("APP_LOG", "hyper=loud")]),
            r#"APP_LOG="hyper=loud": expected a log filter such as "info" or "hyper=debug,info""#
        );
    }

    #[test]
    fn timeout_must_be_positive_whole_seconds() {
        for bad in ["0", "1.5", "ten", "-3"] {
            assert_eq!(
                error(&[("APP_REQUEST_TIMEOUT_SECS", bad)]),
                format!(
                    "APP_REQUEST_TIMEOUT_SECS={bad:?}: expected a whole number of seconds greater than 0"
                )
            );
        }
    }

    #[test]
    fn upstream_must_be_an_absolute_http_url() {
        assert_eq!(
            error(&[("APP_UPSTREAM_URL", "ftp://example.com")]),
            r#"APP_UPSTREAM_URL="ftp://example.com": expected an absolute http:// or https:// URL (scheme is "ftp")"#
        );
        assert_eq!(
            error(&[("APP_UPSTREAM_URL", "example.com/status")]),
            r#"APP_UPSTREAM_URL="example.com/status": expected an absolute http:// or https:// URL (relative URL without a base)"#
        );
        assert!(config(&[("APP_UPSTREAM_URL", "http://10.0.0.1:8080/")]).is_ok());
    }
}
