//! The one outbound HTTP client, shared by every request handler.
//!
//! TLS is rustls with the ring provider, and trust comes from roots baked into
//! the binary (`webpki-root-certs`) plus an optional PEM bundle: the runtime
//! image has no system certificate store to fall back on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Certificate, Client};

use crate::config::Config;

/// Identifies this service to upstreams.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

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
pub fn build(config: &Config) -> Result<Client, ClientError> {
    install_crypto_provider();

    let mut roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| ClientError::Build {
            source,
            ca_file: None,
        })?;
    if let Some(path) = &config.extra_ca_file {
        roots.extend(read_ca_file(path)?);
    }

    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT.min(config.request_timeout))
        .timeout(config.request_timeout)
        .tls_certs_only(roots)
        .build()
        // The certificates are only parsed here, so a malformed one in the
        // extra bundle surfaces now; name the file to point at the likely cause.
        .map_err(|source| ClientError::Build {
            source,
            ca_file: config.extra_ca_file.clone(),
        })
}

fn read_ca_file(path: &Path) -> Result<Vec<Certificate>, ClientError> {
    let invalid = |reason: String| ClientError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|error| invalid(error.to_string()))?;
    let certs =
        Certificate::from_pem_bundle(&pem).map_err(|error| invalid(crate::error_chain(&error)))?;
    if certs.is_empty() {
        return Err(invalid("no PEM certificates found".to_owned()));
    }
    Ok(certs)
}

/// Why the client could not be built.
#[derive(Debug)]
pub enum ClientError {
    /// The extra CA file is unreadable, not PEM, or empty.
    CaFile { path: PathBuf, reason: String },
    /// reqwest rejected the settings or a certificate.
    Build {
        source: reqwest::Error,
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
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::CaFile { .. } => None,
            Self::Build { source, .. } => Some(source),
        }
    }
}
