//! The client trusts the built-in roots plus `APP_EXTRA_CA_FILE`, checked
//! against a local HTTPS server whose certificate comes from a test CA.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use reqwest::StatusCode;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use service_runtime::Application;
use service_runtime::Config;
use service_runtime::StartupError;
use service_runtime::client;
use service_runtime::error_chain;

use crate::helpers::{TempFile, error_message, logs_of_request, spawn, test_config, with_upstream};

/// An HTTPS server answering every request with an empty 200, and the PEM of
/// the CA that signed its certificate.
struct TlsServer {
    addr: SocketAddr,
    ca_pem: String,
}

impl TlsServer {
    async fn spawn() -> Self {
        let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let server_key = KeyPair::generate().unwrap();
        let server_cert = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();

        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(tls));

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                // Failed handshakes are expected: some tests distrust the CA.
                tokio::spawn(async move {
                    let Ok(mut stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = stream.shutdown().await;
                });
            }
        });

        Self {
            addr,
            ca_pem: ca.pem(),
        }
    }

    fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// The CA certificate written to a file, as `APP_EXTRA_CA_FILE` expects.
    fn ca_file(&self) -> TempFile {
        TempFile::new(&format!("ca-{}.pem", self.addr.port()), &self.ca_pem)
    }
}

fn with_ca(ca_file: &TempFile) -> Config {
    Config {
        extra_ca_file: Some(ca_file.path().to_owned()),
        ..test_config()
    }
}

#[tokio::test]
async fn client_trusts_the_extra_ca() {
    let server = TlsServer::spawn().await;
    let ca_file = server.ca_file();
    let client = client::build(&with_ca(&ca_file)).unwrap();

    let response = client.get(server.url()).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_rejects_an_unknown_ca() {
    let server = TlsServer::spawn().await;
    let client = client::build(&test_config()).unwrap();

    let error = client.get(server.url()).send().await.unwrap_err();

    let error = error_chain(&error);
    assert!(
        error.contains("invalid peer certificate: UnknownIssuer"),
        "{error}"
    );
}

#[tokio::test]
async fn upstream_route_works_over_https() {
    let server = TlsServer::spawn().await;
    let ca_file = server.ca_file();
    let app = spawn(Config {
        upstream_url: Some(server.url().parse().unwrap()),
        ..with_ca(&ca_file)
    })
    .await;

    let response = app.get("/upstream").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"upstream": format!("https://{}", server.addr), "status": 200, "ok": true})
    );
}

#[tokio::test]
async fn upstream_route_reports_certificate_errors_as_502() {
    let server = TlsServer::spawn().await;
    let app = with_upstream(&server.url()).await;

    let response = app
        .client
        .get(app.url("/upstream"))
        .header("x-request-id", "tls-test-502")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(error_message(response).await, "upstream unavailable");
    let logged = logs_of_request("tls-test-502");
    let error = logged
        .iter()
        .find_map(|line| line["error"].as_str())
        .expect("the failure is logged");
    assert!(error.contains("invalid peer certificate"), "{error}");
}

/// Startup fails with a message naming the CA file.
async fn startup_error(ca_file: &TempFile) -> String {
    let error = Application::build(with_ca(ca_file)).await.unwrap_err();
    assert!(matches!(error, StartupError::Client(_)));
    let error = error_chain(&error);
    assert!(
        error.contains(&ca_file.path().display().to_string()),
        "{error}"
    );
    error
}

#[tokio::test]
async fn missing_ca_file_is_a_startup_error() {
    let ca_file = TempFile::new("missing.pem", "");
    std::fs::remove_file(ca_file.path()).unwrap();

    let error = startup_error(&ca_file).await;

    assert!(error.contains("No such file or directory"), "{error}");
}

#[tokio::test]
async fn ca_file_without_certificates_is_a_startup_error() {
    let ca_file = TempFile::new("empty.pem", "not a certificate\n");

    let error = startup_error(&ca_file).await;

    assert!(error.ends_with("no PEM certificates found"), "{error}");
}

#[tokio::test]
async fn ca_file_with_a_malformed_certificate_is_a_startup_error() {
    let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let ca_file = TempFile::new("malformed.pem", pem);

    startup_error(&ca_file).await;
}
