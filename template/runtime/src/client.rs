//! The one outbound HTTP client, shared by every request handler.
//!
//! TLS is rustls with the ring provider, and trust comes from roots baked into
//! the binary (`webpki-roots`) plus an optional PEM bundle: the runtime
//! image has no system certificate store to fall back on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::Config;

/// Upper bound for establishing a connection; the request timeout still
/// applies when it is shorter.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Makes ring the process-wide rustls provider.
///
/// reqwest is built without a provider of its own and panics when building a
/// client without one. Safe to call more than once: later calls are no-ops.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the client from the configuration.
///
/// # Errors
///
/// Fails if the extra CA file cannot be read or holds no valid certificate.
pub fn build<S>(config: &Config<S>) -> Result<Client, ClientError> {
    install_crypto_provider();

    // Trust anchors are stored ready to use: nothing to parse at startup.
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = &config.extra_ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|error| ClientError::CaFile {
                path: path.clone(),
                reason: format!("invalid certificate: {error}"),
            })?;
        }
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| ClientError::Tls(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // What reqwest offers itself when built without HTTP/2.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    Client::builder()
        // Identifies the service to upstreams.
        .user_agent(format!(
            "{}/{}",
            config.service_name, config.service_version
        ))
        .connect_timeout(CONNECT_TIMEOUT.min(config.request_timeout))
        .timeout(config.request_timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|source| ClientError::Build {
            source,
            ca_file: config.extra_ca_file.clone(),
        })
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let invalid = |reason: String| ClientError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|error| invalid(error.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("invalid PEM: {error}")))?;
    if certs.is_empty() {
        return Err(invalid("no PEM certificates found".to_owned()));
    }
    Ok(certs)
}

/// How one outbound request ended (the `result` of the outbound metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundResult {
    /// The upstream answered with a 1xx, 2xx or 3xx status.
    Ok,
    /// The upstream answered with a 4xx or 5xx status.
    ErrorStatus,
    /// No answer: the connection or the exchange failed.
    Unreachable,
    /// No answer within the request timeout.
    Timeout,
    /// Not sent: too many outbound requests were in flight.
    Rejected,
}

impl OutboundResult {
    /// The result of a request that got an answer with `status`.
    #[must_use]
    pub fn from_status(status: reqwest::StatusCode) -> Self {
        if status.is_client_error() || status.is_server_error() {
            Self::ErrorStatus
        } else {
            Self::Ok
        }
    }

    /// Its label value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ErrorStatus => "error_status",
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::Rejected => "rejected",
        }
    }
}

/// Why the client could not be built.
#[derive(Debug)]
pub enum ClientError {
    /// The extra CA file is unreadable, not PEM, or empty.
    CaFile {
        /// `APP_EXTRA_CA_FILE`.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls rejected the TLS settings.
    Tls(String),
    /// reqwest rejected the settings.
    Build {
        /// reqwest's reason.
        source: reqwest::Error,
        /// `APP_EXTRA_CA_FILE`, when one was given.
        ca_file: Option<PathBuf>,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CaFile { path, reason } => {
                write!(f, "extra CA file {}: {reason}", path.display())
            }
            Self::Build {
                ca_file: Some(path),
                ..
            } => write!(
                f,
                "cannot build HTTP client (check extra CA file {})",
                path.display()
            ),
            Self::Build { ca_file: None, .. } => f.write_str("cannot build HTTP client"),
            Self::Tls(reason) => write!(f, "cannot set up TLS: {reason}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::CaFile { .. } | Self::Tls(_) => None,
            Self::Build { source, .. } => Some(source),
        }
    }
}
