//! Configuration from environment variables.
//!
//! | Variable                       | Default   | Rule                                         |
//! |--------------------------------|-----------|----------------------------------------------|
//! | `APP_HOST`                     | `0.0.0.0` | an IP address (`::` for IPv6)                |
//! | `APP_PORT`                     | service's | an integer from 1 to 65535                   |
//! | `APP_LOG`                      | `info`    | levels and `target=level` pairs              |
//! | `APP_REQUEST_TIMEOUT_SECS`     | `10`      | 1 to 300: one outbound request               |
//! | `APP_HANDLER_TIMEOUT_SECS`     | `15`      | 1 to 300: one inbound request, to its answer |
//! | `APP_HEADER_READ_TIMEOUT_SECS` | `10`      | 1 to 60: a request head, or an idle client   |
//! | `APP_MAX_CONNECTIONS`          | `1024`    | 1 to 65536 open client connections           |
//! | `APP_UPSTREAM_CONCURRENCY`     | `64`      | 1 to 4096 outbound requests at once          |
//! | `APP_SHUTDOWN_DRAIN_SECS`      | service's | 0 to 60: serve on after the first signal     |
//! | `APP_SHUTDOWN_TIMEOUT_SECS`    | service's | 1 to 60: then in-flight requests may finish  |
//! | `APP_UPSTREAM_URL`             | unset     | an absolute `http`/`https` URL               |
//! | `APP_EXTRA_CA_FILE`            | unset     | path to a PEM bundle of extra roots          |
//!
//! An empty value counts as unset, so `APP_UPSTREAM_URL=` in a deployment file
//! means "no upstream" rather than an error. Any other `APP_*` variable is
//! refused, so a misspelt name cannot be silently ignored, unless the service
//! lists it among its own [`Settings::VARIABLES`]. The defaults marked
//! "service's" are the service's [`Defaults`].
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

/// The service's own `APP_*` settings, read with the runtime's under the same
/// rules: an unknown `APP_*` name is refused (with a "did you mean"), an empty
/// value counts as unset, a bad value stops the start with one line.
///
/// ```
/// use service_runtime::config::{self, ConfigError, Settings};
///
/// #[derive(Debug, Clone, Default)]
/// struct Orders {
///     page_size: u32,
/// }
///
/// impl Settings for Orders {
///     const VARIABLES: &'static [&'static str] = &["APP_ORDERS_PAGE_SIZE"];
///
///     fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
///         let page_size = config::setting(get, "APP_ORDERS_PAGE_SIZE", 50, |value| {
///             value.parse().map_err(|_| "an integer".to_owned())
///         })?;
///         Ok(Self { page_size })
///     }
/// }
///
/// let vars = [("APP_ORDERS_PAGE_SIZE".to_owned(), "20".to_owned())];
/// let config = config::Config::<Orders>::from_vars(&vars).unwrap();
/// assert_eq!(config.settings.page_size, 20);
/// let typo = [("APP_ORDER_PAGE_SIZE".to_owned(), "20".to_owned())];
/// let error = config::Config::<Orders>::from_vars(&typo).unwrap_err();
/// assert!(error.to_string().contains("did you mean APP_ORDERS_PAGE_SIZE?"));
/// ```
pub trait Settings: Sized + Clone + fmt::Debug + Send + Sync + 'static {
    /// The `APP_*` variables read here, besides the runtime's [`VARIABLES`].
    const VARIABLES: &'static [&'static str];

    /// Reads the settings; `get` gives a variable's value (`None` when unset
    /// or empty). Use [`setting`] for each variable.
    ///
    /// # Errors
    ///
    /// The first variable whose value breaks its rule.
    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;
}

/// A service without settings of its own.
impl Settings for () {
    const VARIABLES: &'static [&'static str] = &[];

    fn from_lookup(_get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(())
    }
}

/// The defaults a service chooses for the settings that depend on where it
/// runs and what it calls: its port, its shutdown timeline and how long its
/// outbound requests may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// Port used when `APP_PORT` is not set.
    pub port: u16,
    /// How long the service keeps serving after the first SIGTERM, while load
    /// balancers (Kubernetes endpoints) stop sending it new requests.
    pub shutdown_drain: Duration,
    /// How long in-flight requests may then take before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// Total time allowed for one outbound request (`APP_REQUEST_TIMEOUT_SECS`).
    pub request_timeout: Duration,
}

impl Default for Defaults {
    /// Port 8080, the template's shutdown timeline (3 s of draining, then 5 s
    /// for requests in flight) and 10 s per outbound request.
    fn default() -> Self {
        Self {
            port: 8080,
            shutdown_drain: Duration::from_secs(3),
            shutdown_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Every variable the runtime reads; anything else named `APP_*` is refused
/// unless the service's [`Settings::VARIABLES`] list it.
pub const VARIABLES: [&str; 12] = [
    "APP_HOST",
    "APP_PORT",
    "APP_LOG",
    "APP_REQUEST_TIMEOUT_SECS",
    "APP_HANDLER_TIMEOUT_SECS",
    "APP_HEADER_READ_TIMEOUT_SECS",
    "APP_MAX_CONNECTIONS",
    "APP_UPSTREAM_CONCURRENCY",
    "APP_SHUTDOWN_DRAIN_SECS",
    "APP_SHUTDOWN_TIMEOUT_SECS",
    "APP_UPSTREAM_URL",
    "APP_EXTRA_CA_FILE",
];

const DEFAULT_HOST: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Settings for one run of the service, with its own settings `S`.
#[derive(Debug, Clone)]
pub struct Config<S = ()> {
    /// The service's own settings.
    pub settings: S,
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 lets the OS choose (library API only).
    pub port: u16,
    /// Which log events to keep.
    pub log_filter: Targets,
    /// Total time allowed for one outbound request (answered 504 when over).
    pub request_timeout: Duration,
    /// Time allowed from a request's head to its answer (answered 503 when over).
    pub handler_timeout: Duration,
    /// A client must send a complete request head within this time, also
    /// between requests on a kept-alive connection, or it is disconnected.
    pub header_read_timeout: Duration,
    /// Open client connections at most; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Outbound requests of `/upstream` at once; more are answered 503.
    pub upstream_concurrency: usize,
    /// How long to keep serving after the first signal (readiness says 503).
    pub shutdown_drain: Duration,
    /// How long in-flight requests may then run before they are cut.
    pub shutdown_timeout: Duration,
    /// Where `GET /upstream` sends its request.
    pub upstream_url: Option<Url>,
    /// PEM bundle of CA certificates trusted in addition to the built-in roots.
    pub extra_ca_file: Option<PathBuf>,
    /// The service's package name: in the outbound `User-Agent` and the
    /// build-info metric (set by [`Service`](crate::Service), not an `APP_*`
    /// variable).
    pub service_name: &'static str,
    /// The service's package version, beside its name.
    pub service_version: &'static str,
}

impl<S: Settings + Default> Default for Config<S> {
    fn default() -> Self {
        Self::with_defaults(S::default(), Defaults::default())
    }
}

impl<S: Settings> Config<S> {
    /// The configuration when no variable is set: `settings` and the
    /// service's `defaults`.
    #[must_use]
    pub fn with_defaults(settings: S, defaults: Defaults) -> Self {
        Self {
            settings,
            host: DEFAULT_HOST,
            port: defaults.port,
            log_filter: default_log_filter(),
            request_timeout: defaults.request_timeout,
            handler_timeout: Duration::from_secs(15),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            upstream_concurrency: 64,
            shutdown_drain: defaults.shutdown_drain,
            shutdown_timeout: defaults.shutdown_timeout,
            upstream_url: None,
            extra_ca_file: None,
            service_name: env!("CARGO_PKG_NAME"),
            service_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// Reads the configuration from the process environment, with the
    /// runtime's default values.
    ///
    /// # Errors
    ///
    /// As [`Config::from_env_with`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(Defaults::default())
    }

    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// Returns the first unknown `APP_*` variable, or the first variable whose
    /// value breaks its rule.
    pub fn from_env_with(defaults: Defaults) -> Result<Self, ConfigError> {
        // A value that is not valid UTF-8 is passed on lossily, so it fails its
        // rule with a readable message instead of being silently ignored.
        let vars: Vec<(String, String)> = std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Self::from_vars_with(&vars, defaults)
    }

    /// Builds the configuration from `(name, value)` pairs. Pure, so tests
    /// need not touch the process environment.
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_vars(vars: &[(String, String)]) -> Result<Self, ConfigError> {
        Self::from_vars_with(vars, Defaults::default())
    }

    /// [`Config::from_vars`] with the service's `defaults`.
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_vars_with(
        vars: &[(String, String)],
        defaults: Defaults,
    ) -> Result<Self, ConfigError> {
        if let Some(error) = S::VARIABLES.iter().find_map(|name| own_name_error(name)) {
            return Err(error);
        }
        let known = known(S::VARIABLES);
        if let Some((name, _)) = vars
            .iter()
            .find(|(name, _)| name.starts_with("APP_") && !known.contains(&name.as_str()))
        {
            return Err(ConfigError::unknown(name, &known));
        }
        Self::from_lookup(defaults, |name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    /// Builds the configuration from `lookup`, which maps a variable name to
    /// its value. Unknown names are not checked here (see [`Config::from_vars`]).
    ///
    /// # Errors
    ///
    /// Returns the first variable whose value breaks its rule.
    pub fn from_lookup(
        defaults: Defaults,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let settings = S::from_lookup(&get)?;
        let d = Self::with_defaults(settings, defaults);
        let secs = |name: &'static str, default: Duration, min: u64, max: u64| {
            get(name).map_or(Ok(default), |value| {
                parse_secs(&value, min, max)
                    .map_err(|expected| ConfigError::new(name, &value, expected))
            })
        };
        let count = |name: &'static str, default: usize, max: usize| {
            get(name).map_or(Ok(default), |value| {
                parse_count(&value, max)
                    .map_err(|expected| ConfigError::new(name, &value, expected))
            })
        };

        Ok(Self {
            host: parse_or("APP_HOST", get("APP_HOST"), d.host, parse_host)?,
            port: parse_or("APP_PORT", get("APP_PORT"), d.port, parse_port)?,
            log_filter: parse_or("APP_LOG", get("APP_LOG"), d.log_filter, parse_log)?,
            request_timeout: secs("APP_REQUEST_TIMEOUT_SECS", d.request_timeout, 1, 300)?,
            handler_timeout: secs("APP_HANDLER_TIMEOUT_SECS", d.handler_timeout, 1, 300)?,
            header_read_timeout: secs(
                "APP_HEADER_READ_TIMEOUT_SECS",
                d.header_read_timeout,
                1,
                60,
            )?,
            max_connections: count("APP_MAX_CONNECTIONS", d.max_connections, 65_536)?,
            upstream_concurrency: count("APP_UPSTREAM_CONCURRENCY", d.upstream_concurrency, 4096)?,
            shutdown_drain: secs("APP_SHUTDOWN_DRAIN_SECS", d.shutdown_drain, 0, 60)?,
            shutdown_timeout: secs("APP_SHUTDOWN_TIMEOUT_SECS", d.shutdown_timeout, 1, 60)?,
            upstream_url: get("APP_UPSTREAM_URL")
                .map(|value| {
                    parse_url(&value).map_err(|expected| {
                        ConfigError::new("APP_UPSTREAM_URL", &redact_text(&value), expected)
                    })
                })
                .transpose()?,
            extra_ca_file: get("APP_EXTRA_CA_FILE").map(PathBuf::from),
            settings: d.settings,
            service_name: d.service_name,
            service_version: d.service_version,
        })
    }

    /// The address the server listens on.
    #[must_use]
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// A variable that is unknown or whose value breaks its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Name of the variable.
    pub variable: String,
    /// The value that was rejected, with any password redacted; `None` for
    /// an unknown variable.
    pub value: Option<String>,
    /// What was expected.
    pub expected: String,
}

impl ConfigError {
    fn new(variable: &str, value: &str, expected: String) -> Self {
        Self {
            variable: variable.to_owned(),
            value: Some(value.to_owned()),
            expected,
        }
    }

    fn unknown(name: &str, known: &[&str]) -> Self {
        let hint = did_you_mean(name, known)
            .map(|known| format!(" (did you mean {known}?)"))
            .unwrap_or_default();
        Self {
            variable: name.to_owned(),
            value: None,
            expected: format!("no such setting{hint}; known: {}", known.join(", ")),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value:?}: expected {}", self.variable, self.expected),
            None => write!(f, "{}: {}", self.variable, self.expected),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The runtime's variables, then the service's own.
fn known(own: &'static [&'static str]) -> Vec<&'static str> {
    VARIABLES.iter().chain(own).copied().collect()
}

/// Why `name` cannot be one of the service's own variables, if it cannot.
fn own_name_error(name: &str) -> Option<ConfigError> {
    let expected = if !name.starts_with("APP_") {
        "the service's own setting needs a name starting with APP_"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        "the service's own setting needs a name of A-Z, 0-9 and _"
    } else if VARIABLES.contains(&name) {
        "the service's own setting needs another name: this one is the runtime's"
    } else {
        return None;
    };
    Some(ConfigError {
        variable: name.to_owned(),
        value: None,
        expected: expected.to_owned(),
    })
}

/// The known variable closest to `name`, if it is a likely typo of it.
fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|known| (edit_distance(name, known), *known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| known)
}

/// Levenshtein distance, by bytes (variable names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Reads the setting `name` through `get` with `parse`, which returns the
/// "expected ..." text of its rule on failure; `default` when unset or empty.
/// For the service's own [`Settings`], with the rules below.
///
/// # Errors
///
/// `name`, its value and its rule when `parse` refuses the value.
pub fn setting<T>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    get(name).map_or(Ok(default), |value| {
        parse(&value).map_err(|expected| ConfigError::new(name, &value, expected))
    })
}

/// Parses `value` with `parse` when present, otherwise returns `default`.
fn parse_or<T>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    value.map_or(Ok(default), |value| {
        parse(&value).map_err(|expected| ConfigError::new(variable, &value, expected))
    })
}

// Each rule returns the "expected ..." text on failure; `parse_secs`,
// `parse_count` and `parse_url` are public for the service's own settings.

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

/// Whole seconds from `min` to `max`.
///
/// # Errors
///
/// The rule, when `value` breaks it.
pub fn parse_secs(value: &str, min: u64, max: u64) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(secs) if (min..=max).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(format!("a whole number of seconds from {min} to {max}")),
    }
}

/// An integer from 1 to `max`.
///
/// # Errors
///
/// The rule, when `value` breaks it.
pub fn parse_count(value: &str, max: usize) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(count) if (1..=max).contains(&count) => Ok(count),
        _ => Err(format!("an integer from 1 to {max}")),
    }
}

const LOG_RULE: &str = r#"comma-separated levels (trace, debug, info, warn, error, off) or target=level pairs whose target is a Rust module path, such as "info" or "info,hyper=warn""#;

/// A strict `APP_LOG`: `tracing_subscriber`'s own parser accepts words such
/// as `warning` or `json` as targets, which then match nothing.
fn parse_log(value: &str) -> Result<Targets, String> {
    let mut targets = Targets::new();
    for directive in value.split(',').map(str::trim) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        let level = parse_level(level).ok_or_else(|| LOG_RULE.to_owned())?;
        match target {
            None => targets = targets.with_default(level),
            Some(target) if is_rust_path(target) => targets = targets.with_target(target, level),
            Some(_) => return Err(LOG_RULE.to_owned()),
        }
    }
    Ok(targets)
}

fn parse_level(value: &str) -> Option<tracing_subscriber::filter::LevelFilter> {
    use tracing_subscriber::filter::LevelFilter;
    Some(match value.to_ascii_lowercase().as_str() {
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => return None,
    })
}

/// `a::b_c`: identifiers (ASCII) joined by `::`.
fn is_rust_path(value: &str) -> bool {
    value.split("::").all(|ident| {
        let mut chars = ident.chars();
        chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && ident != "_"
    })
}

/// An absolute `http` or `https` URL.
///
/// # Errors
///
/// The rule, when `value` breaks it.
pub fn parse_url(value: &str) -> Result<Url, String> {
    let rule = "an absolute http:// or https:// URL";
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
        Ok(url) => Err(format!("{rule} (scheme is {:?})", url.scheme())),
        Err(error) => Err(format!("{rule} ({error})")),
    }
}

/// `value` with anything between `://` and the last `@` of the authority
/// replaced, so a password never reaches a message, even when the URL does
/// not parse.
#[must_use]
pub fn redact_text(value: &str) -> String {
    let Some(start) = value.find("://").map(|i| i + 3) else {
        return value.to_owned();
    };
    let authority_end = value[start..]
        .find(['/', '?', '#'])
        .map_or(value.len(), |i| start + i);
    match value[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &value[..start], &value[start + at..]),
        None => value.to_owned(),
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
        config_of::<()>(vars)
    }

    fn config_of<S: Settings>(vars: &[(&str, &str)]) -> Result<Config<S>, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Config::from_vars(&vars)
    }

    fn error(vars: &[(&str, &str)]) -> String {
        config(vars).unwrap_err().to_string()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = config(&[]).unwrap();
        assert_eq!(
            config.listen_addr(),
            SocketAddr::from(([0, 0, 0, 0], Defaults::default().port))
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
        assert_eq!(config.port, Defaults::default().port);
        assert!(config.upstream_url.is_none());
    }

    #[test]
    fn every_variable_is_read() {
        let config = config(&[
            ("APP_HOST", "::1"),
            ("APP_PORT", "9000"),
            ("APP_LOG", "hyper=debug,warn"),
            ("APP_REQUEST_TIMEOUT_SECS", "3"),
            ("APP_HANDLER_TIMEOUT_SECS", "4"),
            ("APP_HEADER_READ_TIMEOUT_SECS", "5"),
            ("APP_MAX_CONNECTIONS", "6"),
            ("APP_UPSTREAM_CONCURRENCY", "7"),
            ("APP_SHUTDOWN_DRAIN_SECS", "0"),
            ("APP_SHUTDOWN_TIMEOUT_SECS", "9"),
            ("APP_UPSTREAM_URL", "https://example.com/status"),
            ("APP_EXTRA_CA_FILE", "/etc/ssl/private-ca.pem"),
        ])
        .unwrap();
        assert_eq!(config.listen_addr(), "[::1]:9000".parse().unwrap());
        assert_eq!(config.log_filter.to_string(), "hyper=debug,warn");
        assert_eq!(config.request_timeout, Duration::from_secs(3));
        assert_eq!(config.handler_timeout, Duration::from_secs(4));
        assert_eq!(config.header_read_timeout, Duration::from_secs(5));
        assert_eq!(config.max_connections, 6);
        assert_eq!(config.upstream_concurrency, 7);
        assert_eq!(config.shutdown_drain, Duration::ZERO);
        assert_eq!(config.shutdown_timeout, Duration::from_secs(9));
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
    fn unknown_app_variables_are_refused_with_a_suggestion() {
        assert!(
            error(&[("APP_PROT", "9000")]).starts_with(
                "APP_PROT: no such setting (did you mean APP_PORT?); known: APP_HOST,"
            )
        );
        assert!(error(&[("APP_COLOUR", "red")]).starts_with("APP_COLOUR: no such setting; known:"));
        // Other variables are not the service's business.
        assert!(config(&[("HOME", "/root"), ("PATH", "/bin")]).is_ok());
    }

    /// Settings that name `VARIABLES`, for the checks of the service's names.
    #[derive(Debug, Clone, Default)]
    struct Named<const N: usize>;

    macro_rules! named {
        ($n:literal, $($name:literal),*) => {
            impl Settings for Named<$n> {
                const VARIABLES: &'static [&'static str] = &[$($name),*];
                fn from_lookup(_: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
                    Ok(Self)
                }
            }
        };
    }
    named!(0, "APP_ORDERS_LIMIT");
    named!(1, "ORDERS_LIMIT");
    named!(2, "APP_orders");
    named!(3, "APP_PORT");

    fn error_of<S: Settings>(result: Result<Config<S>, ConfigError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn the_services_own_variables_are_known_and_must_be_new_app_names() {
        assert!(config_of::<Named<0>>(&[("APP_ORDERS_LIMIT", "5")]).is_ok());
        assert_eq!(
            error_of(config_of::<Named<1>>(&[])),
            "ORDERS_LIMIT: the service's own setting needs a name starting with APP_"
        );
        assert!(error_of(config_of::<Named<2>>(&[])).contains("A-Z, 0-9 and _"));
        assert!(error_of(config_of::<Named<3>>(&[])).contains("this one is the runtime's"));
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
    fn log_filter_takes_only_levels_and_rust_targets() {
        for bad in [
            "hyper=loud",
            "warning",
            "verbose",
            "json",
            "my-service=debug",
            "=info",
            "info,",
            "a::=debug",
        ] {
            assert_eq!(
                error(&[("APP_LOG", bad)]),
                format!("APP_LOG={bad:?}: expected {LOG_RULE}"),
            );
        }
        for good in [
            "warn",
            "INFO",
            "my_service=debug",
            "info,hyper::proto=warn",
            "off",
        ] {
            assert!(config(&[("APP_LOG", good)]).is_ok(), "{good}");
        }
    }

    #[test]
    fn durations_and_counts_are_bounded() {
        for bad in ["0", "1.5", "ten", "-3", "301", "18446744073709551615"] {
            assert_eq!(
                error(&[("APP_REQUEST_TIMEOUT_SECS", bad)]),
                format!(
                    "APP_REQUEST_TIMEOUT_SECS={bad:?}: expected a whole number of seconds from 1 to 300"
                )
            );
        }
        assert!(error(&[("APP_SHUTDOWN_DRAIN_SECS", "61")]).contains("from 0 to 60"));
        assert!(error(&[("APP_SHUTDOWN_TIMEOUT_SECS", "0")]).contains("from 1 to 60"));
        assert!(error(&[("APP_HEADER_READ_TIMEOUT_SECS", "3600")]).contains("from 1 to 60"));
        assert!(error(&[("APP_MAX_CONNECTIONS", "0")]).contains("an integer from 1 to 65536"));
        assert!(error(&[("APP_UPSTREAM_CONCURRENCY", "5000")]).contains("from 1 to 4096"));
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

    #[test]
    fn a_refused_url_never_shows_its_password() {
        for bad in [
            "ftp://user:hunter2@example.com/",
            "http://user:hunter2@exa mple.com/",
            "http://user:hunter2@[::1/",
        ] {
            let message = error(&[("APP_UPSTREAM_URL", bad)]);
            assert!(!message.contains("hunter2"), "{message}");
            assert!(message.contains("***@"), "{message}");
        }
    }
}
