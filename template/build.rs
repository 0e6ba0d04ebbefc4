//! Records the compiler's version for the build-info metric
//! (`service_build_info` in src/metrics.rs).

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // Only the metrics read it; other builds need not run the compiler again.
    if std::env::var_os("CARGO_FEATURE_METRICS").is_none() {
        return;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |version| version.trim().to_owned());
    println!("cargo::rustc-env=RUSTC_VERSION={version}");
}
