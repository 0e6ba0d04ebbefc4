//! Start-up failures: one documented exit code, one line on stderr, no JSON.

use std::net::{Ipv4Addr, TcpListener};

use crate::helpers::{TempFile, run_binary};

/// Exit code of every start-up failure (README, "Configure").
const EXIT_STARTUP: i32 = 2;

/// Runs the binary, expects a start-up failure, returns its stderr line.
fn fails_to_start(vars: &[(&str, &str)]) -> String {
    let output = run_binary(vars);
    assert_eq!(output.status.code(), Some(EXIT_STARTUP), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cannot start: "), "{stderr}");
    stderr
}

#[test]
fn a_misspelt_variable_is_refused_with_a_suggestion() {
    let stderr = fails_to_start(&[("APP_PROT", "9000")]);
    assert!(
        stderr.contains("APP_PROT: no such setting (did you mean APP_PORT?)"),
        "{stderr}"
    );
}

#[test]
fn a_log_filter_that_would_log_nothing_is_refused() {
    for bad in ["warning", "verbose", "json", "my-service=debug"] {
        let stderr = fails_to_start(&[("APP_LOG", bad)]);
        assert!(stderr.contains("APP_LOG="), "{stderr}");
    }
}

#[test]
fn an_absurd_timeout_is_refused() {
    let stderr = fails_to_start(&[("APP_REQUEST_TIMEOUT_SECS", "18446744073709551615")]);
    assert!(stderr.contains("from 1 to 300"), "{stderr}");
}

#[test]
fn a_refused_url_does_not_show_its_password() {
    let stderr = fails_to_start(&[("APP_UPSTREAM_URL", "ftp://user:hunter2@example.com/")]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn a_bad_ca_file_fails_like_bad_configuration() {
    let ca_file = TempFile::new("startup-bad-ca.pem", "not a certificate\n");
    let stderr = fails_to_start(&[("APP_EXTRA_CA_FILE", ca_file.path().to_str().unwrap())]);
    assert!(stderr.contains("no PEM certificates found"), "{stderr}");
}

#[test]
fn a_busy_port_fails_like_bad_configuration() {
    let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let stderr = fails_to_start(&[("APP_PORT", &port)]);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}
