"""Refuse bad answers before cookiecutter (or cruft) writes anything.

The rules are tooling/answer_rules.py's, embedded below as data by scripts/sync_cookiecutter.py
(copier's validators and Backstage's form are rendered from the same table). Cookiecutter runs
this file on its own, from a temporary copy, so it imports nothing of the template's. It
renders the file with Jinja first, which puts the answers into ANSWERS_JSON; the tests import
the module unrendered and call `problems()`. This file must therefore hold no Jinja markers of
its own (the generated data spells each `{` before `{`, `%` or `#` as \\u007b).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""

Answers = dict[str, Any]

# BEGIN GENERATED RULES (scripts/sync_cookiecutter.py from tooling/answer_rules.py)
RULES_JSON = r"""[
 {
  "question": "project_name",
  "kind": "contains",
  "message": "must not be empty",
  "pattern": "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]"
 },
 {
  "question": "project_name",
  "kind": "max_length",
  "message": "must be at most 100 characters",
  "limit": 100
 },
 {
  "question": "project_name",
  "kind": "excludes",
  "message": "must not contain template syntax (\u007b{, \u007b% or \u007b#): cookiecutter and Backstage would run it as code",
  "pattern": "\\{\\{|\\\u007b%|\\\u007b#"
 },
 {
  "question": "project_name",
  "kind": "excludes",
  "message": "must be one line without control characters",
  "pattern": "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufffe\\uffff]"
 },
 {
  "question": "project_name",
  "kind": "excludes",
  "message": "must be valid UTF-8 text",
  "pattern": "[\\ud800-\\udfff]"
 },
 {
  "question": "project_name",
  "kind": "excludes",
  "message": "must not start or end with a space",
  "pattern": "^[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]|[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]$"
 },
 {
  "question": "project_slug",
  "kind": "matches",
  "message": "must be a Cargo package name: lowercase ASCII letters, digits, - or _, starting with a letter, at most 64 characters",
  "pattern": "[a-z][a-z0-9_-]{0,63}"
 },
 {
  "question": "project_slug",
  "kind": "none_of",
  "message": "must not be a Rust keyword",
  "values": [
   "as",
   "async",
   "await",
   "break",
   "const",
   "continue",
   "crate",
   "dyn",
   "else",
   "enum",
   "extern",
   "false",
   "fn",
   "for",
   "gen",
   "if",
   "impl",
   "in",
   "let",
   "loop",
   "match",
   "mod",
   "move",
   "mut",
   "pub",
   "ref",
   "return",
   "self",
   "static",
   "struct",
   "super",
   "trait",
   "true",
   "try",
   "type",
   "unsafe",
   "use",
   "where",
   "while",
   "abstract",
   "become",
   "box",
   "do",
   "final",
   "macro",
   "override",
   "priv",
   "typeof",
   "unsized",
   "virtual",
   "yield"
  ],
  "crate_ident": true
 },
 {
  "question": "project_slug",
  "kind": "none_of",
  "message": "must not be a name Cargo or Rust reserves",
  "values": [
   "std",
   "core",
   "alloc",
   "test",
   "proc_macro",
   "build",
   "deps",
   "examples",
   "incremental",
   "con",
   "prn",
   "aux",
   "nul",
   "com1",
   "com2",
   "com3",
   "com4",
   "com5",
   "com6",
   "com7",
   "com8",
   "com9",
   "lpt1",
   "lpt2",
   "lpt3",
   "lpt4",
   "lpt5",
   "lpt6",
   "lpt7",
   "lpt8",
   "lpt9"
  ],
  "crate_ident": true
 },
 {
  "question": "project_slug",
  "kind": "none_of",
  "message": "must not be the name of a crate the service depends on (template/Cargo.lock)",
  "values": [
   "asn1_rs",
   "asn1_rs_derive",
   "asn1_rs_impl",
   "atomic_waker",
   "autocfg",
   "axum",
   "axum_core",
   "base64",
   "bitflags",
   "bumpalo",
   "bytes",
   "cc",
   "cfg_if",
   "combine",
   "core_foundation",
   "core_foundation_sys",
   "data_encoding",
   "der_parser",
   "deranged",
   "displaydoc",
   "dtoa",
   "errno",
   "find_msvc_tools",
   "form_urlencoded",
   "futures_channel",
   "futures_core",
   "futures_task",
   "futures_util",
   "getrandom",
   "http",
   "http_body",
   "http_body_util",
   "httparse",
   "httpdate",
   "hyper",
   "hyper_rustls",
   "hyper_util",
   "icu_collections",
   "icu_locale_core",
   "icu_normalizer",
   "icu_normalizer_data",
   "icu_properties",
   "icu_properties_data",
   "icu_provider",
   "idna",
   "idna_adapter",
   "ipnet",
   "itoa",
   "jni",
   "jni_macros",
   "jni_sys",
   "jni_sys_macros",
   "js_sys",
   "lazy_static",
   "libc",
   "libmimalloc_sys",
   "litemap",
   "lock_api",
   "log",
   "matchit",
   "memchr",
   "mimalloc",
   "mime",
   "minimal_lexical",
   "mio",
   "nom",
   "num_bigint",
   "num_conv",
   "num_integer",
   "num_traits",
   "oid_registry",
   "once_cell",
   "openssl_probe",
   "parking_lot",
   "parking_lot_core",
   "pem",
   "percent_encoding",
   "pin_project_lite",
   "potential_utf",
   "powerfmt",
   "proc_macro2",
   "prometheus_client",
   "prometheus_client_derive_encode",
   "quote",
   "rcgen",
   "redox_syscall",
   "reqwest",
   "ring",
   "rustc_version",
   "rusticata_macros",
   "rustls",
   "rustls_native_certs",
   "rustls_pki_types",
   "rustls_platform_verifier",
   "rustls_platform_verifier_android",
   "rustls_webpki",
   "rustversion",
   "same_file",
   "schannel",
   "scopeguard",
   "security_framework",
   "security_framework_sys",
   "semver",
   "serde",
   "serde_core",
   "serde_derive",
   "serde_json",
   "serde_path_to_error",
   "service_runtime",
   "sharded_slab",
   "shlex",
   "signal_hook_registry",
   "simd_cesu8",
   "simdutf8",
   "slab",
   "smallvec",
   "socket2",
   "stable_deref_trait",
   "subtle",
   "syn",
   "sync_wrapper",
   "synstructure",
   "thiserror",
   "thiserror_impl",
   "thread_local",
   "time",
   "time_core",
   "time_macros",
   "tinystr",
   "tokio",
   "tokio_macros",
   "tokio_rustls",
   "tower",
   "tower_http",
   "tower_layer",
   "tower_service",
   "tracing",
   "tracing_core",
   "tracing_subscriber",
   "try_lock",
   "unicode_ident",
   "untrusted",
   "url",
   "utf8_iter",
   "utf_types",
   "walkdir",
   "want",
   "wasi",
   "wasm_bindgen",
   "wasm_bindgen_futures",
   "wasm_bindgen_macro",
   "wasm_bindgen_macro_support",
   "wasm_bindgen_shared",
   "web_sys",
   "webpki_root_certs",
   "webpki_roots",
   "winapi_util",
   "windows_aarch64_gnullvm",
   "windows_aarch64_msvc",
   "windows_i686_gnu",
   "windows_i686_gnullvm",
   "windows_i686_msvc",
   "windows_link",
   "windows_sys",
   "windows_targets",
   "windows_x86_64_gnu",
   "windows_x86_64_gnullvm",
   "windows_x86_64_msvc",
   "writeable",
   "x509_parser",
   "yasna",
   "yoke",
   "yoke_derive",
   "zerofrom",
   "zerofrom_derive",
   "zeroize",
   "zerotrie",
   "zerovec",
   "zerovec_derive",
   "zmij"
  ],
  "crate_ident": true
 },
 {
  "question": "project_slug",
  "kind": "none_of",
  "message": "must not be the name of a module of the service's own code (src/, tests/api/)",
  "values": [
   "api",
   "helpers",
   "settings",
   "startup"
  ],
  "crate_ident": true
 },
 {
  "question": "description",
  "kind": "contains",
  "message": "must not be empty",
  "pattern": "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]"
 },
 {
  "question": "description",
  "kind": "max_length",
  "message": "must be at most 200 characters",
  "limit": 200
 },
 {
  "question": "description",
  "kind": "excludes",
  "message": "must not contain template syntax (\u007b{, \u007b% or \u007b#): cookiecutter and Backstage would run it as code",
  "pattern": "\\{\\{|\\\u007b%|\\\u007b#"
 },
 {
  "question": "description",
  "kind": "excludes",
  "message": "must be one line without control characters",
  "pattern": "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufffe\\uffff]"
 },
 {
  "question": "description",
  "kind": "excludes",
  "message": "must be valid UTF-8 text",
  "pattern": "[\\ud800-\\udfff]"
 },
 {
  "question": "description",
  "kind": "excludes",
  "message": "must not start or end with a space",
  "pattern": "^[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]|[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]$"
 },
 {
  "question": "author_name",
  "kind": "contains",
  "message": "must not be empty",
  "pattern": "[^\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]"
 },
 {
  "question": "author_name",
  "kind": "max_length",
  "message": "must be at most 100 characters",
  "limit": 100
 },
 {
  "question": "author_name",
  "kind": "excludes",
  "message": "must not contain template syntax (\u007b{, \u007b% or \u007b#): cookiecutter and Backstage would run it as code",
  "pattern": "\\{\\{|\\\u007b%|\\\u007b#"
 },
 {
  "question": "author_name",
  "kind": "excludes",
  "message": "must be one line without control characters or < >",
  "pattern": "[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ufffe\\uffff<>]"
 },
 {
  "question": "author_name",
  "kind": "excludes",
  "message": "must be valid UTF-8 text",
  "pattern": "[\\ud800-\\udfff]"
 },
 {
  "question": "author_name",
  "kind": "excludes",
  "message": "must not start or end with a space",
  "pattern": "^[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]|[\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]$"
 },
 {
  "question": "author_email",
  "kind": "matches",
  "message": "must be an e-mail address as a browser's e-mail field takes it (name@domain.tld; ASCII, no quotes, backslashes or spaces)",
  "pattern": "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?([.][a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*[.][a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
 },
 {
  "question": "author_email",
  "kind": "excludes",
  "message": "must not contain template syntax (\u007b{, \u007b% or \u007b#): cookiecutter and Backstage would run it as code",
  "pattern": "\\{\\{|\\\u007b%|\\\u007b#"
 },
 {
  "question": "license",
  "kind": "one_of",
  "message": "must be one of MIT OR Apache-2.0, MIT, Apache-2.0, proprietary",
  "values": [
   "MIT OR Apache-2.0",
   "MIT",
   "Apache-2.0",
   "proprietary"
  ]
 },
 {
  "question": "rust_version",
  "kind": "one_of",
  "message": "must be a Rust release from 1.85 (edition 2024) to 1.99.0 (the image's toolchain), such as 1.85 or 1.85.1",
  "values": [
   "1.85",
   "1.85.0",
   "1.85.1",
   "1.86",
   "1.86.0",
   "1.87",
   "1.87.0",
   "1.88",
   "1.88.0",
   "1.89",
   "1.89.0",
   "1.90",
   "1.90.0",
   "1.91",
   "1.91.0",
   "1.91.1",
   "1.92",
   "1.92.0",
   "1.93",
   "1.93.0",
   "1.93.1",
   "1.94",
   "1.94.0",
   "1.94.1",
   "1.95",
   "1.95.0",
   "1.96",
   "1.96.0",
   "1.96.1",
   "1.97",
   "1.97.0",
   "1.97.1",
   "1.98",
   "1.98.0",
   "1.98.1",
   "1.99",
   "1.99.0"
  ]
 },
 {
  "question": "http_port",
  "kind": "matches",
  "message": "must be a whole number from 1 to 65535, without sign or leading zero",
  "pattern": "[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
 },
 {
  "question": "allow_low_port",
  "kind": "is_true",
  "message": "a port below 1024 needs it: the image's non-root user binds such a port only with CAP_NET_BIND_SERVICE; grant it or choose a port from 1024",
  "only_if": {
   "question": "http_port",
   "pattern": "[1-9][0-9]{0,2}|10[01][0-9]|102[0-3]"
  }
 },
 {
  "question": "allocator",
  "kind": "one_of",
  "message": "must be one of mimalloc, system",
  "values": [
   "mimalloc",
   "system"
  ]
 },
 {
  "question": "panic_strategy",
  "kind": "one_of",
  "message": "must be one of unwind, abort",
  "values": [
   "unwind",
   "abort"
  ]
 },
 {
  "question": "opt_level",
  "kind": "one_of",
  "message": "must be one of z, s, 3",
  "values": [
   "z",
   "s",
   "3"
  ]
 },
 {
  "question": "toolchain",
  "kind": "one_of",
  "message": "must be one of stable, nightly-size",
  "values": [
   "stable",
   "nightly-size"
  ]
 },
 {
  "question": "target_arches",
  "kind": "one_of",
  "message": "must be one of amd64, arm64, amd64+arm64",
  "values": [
   "amd64",
   "arm64",
   "amd64+arm64"
  ]
 },
 {
  "question": "repository_url",
  "kind": "matches",
  "message": "must be an http(s) URL without spaces, quotes or query, with a valid host, port and %-escapes, such as https://github.com/org/repo",
  "pattern": "https?://(([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?[.])*[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/([a-zA-Z0-9._~+-]|%[0-9a-fA-F]{2})+)*/?"
 },
 {
  "question": "image_name",
  "kind": "matches",
  "message": "must be a lowercase image name without tag, such as ghcr.io/org/service",
  "pattern": "[a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)+"
 },
 {
  "question": "ci",
  "kind": "one_of",
  "message": "must be one of github, gitlab, none",
  "values": [
   "github",
   "gitlab",
   "none"
  ]
 },
 {
  "question": "template_updates",
  "kind": "one_of",
  "message": "must be one of workflow, renovate, none",
  "values": [
   "workflow",
   "renovate",
   "none"
  ]
 },
 {
  "question": "template_updates",
  "kind": "none_of",
  "message": "workflow runs on GitHub Actions, so it needs ci github; choose renovate or none",
  "values": [
   "workflow"
  ],
  "only_if": {
   "question": "ci",
   "pattern": "gitlab|none"
  }
 },
 {
  "question": "image_size_budget_kib",
  "kind": "matches",
  "message": "must be a whole number of KiB from 1 to 9999999, without leading zero",
  "pattern": "[1-9][0-9]{0,6}"
 },
 {
  "question": "metrics",
  "kind": "one_of",
  "message": "must be one of prometheus, none",
  "values": [
   "prometheus",
   "none"
  ]
 },
 {
  "question": "deploy",
  "kind": "one_of",
  "message": "must be one of helm, none",
  "values": [
   "helm",
   "none"
  ]
 }
]"""
# END GENERATED RULES

RULES: list[dict[str, Any]] = json.loads(RULES_JSON)
YES = {"1", "true", "t", "yes", "y", "on"}


def _text(answers: Answers, question: str) -> str:
    return str(answers.get(question, ""))


def _fullmatch(pattern: str, text: str) -> bool:
    return re.fullmatch(f"(?:{pattern})", text) is not None


def broken(rule: dict[str, Any], answers: Answers) -> bool:
    """Whether `answers` break `rule` (see tooling/answer_rules.py for the kinds)."""
    condition = rule.get("only_if")
    if condition and not _fullmatch(condition["pattern"], _text(answers, condition["question"])):
        return False
    text = _text(answers, rule["question"])
    kind = rule["kind"]
    if kind == "matches":
        return not _fullmatch(rule["pattern"], text)
    if kind == "contains":
        return re.search(rule["pattern"], text) is None
    if kind == "excludes":
        return re.search(rule["pattern"], text) is not None
    if kind == "max_length":
        return len(text) > rule["limit"]
    if kind == "one_of":
        return text not in rule["values"]
    if kind == "none_of":
        return (text.replace("-", "_") if rule.get("crate_ident") else text) in rule["values"]
    if kind == "is_true":
        value = answers.get(rule["question"])
        return not (value is True or text.strip().lower() in YES)
    raise ValueError(f"unknown rule kind {kind!r}")


def problems(answers: Answers) -> list[str]:
    """Every broken rule as `question: rule`, in the order the questions are asked."""
    return [f"{rule['question']}: {rule['message']}" for rule in RULES if broken(rule, answers)]


def main() -> int:
    found = problems(json.loads(ANSWERS_JSON))
    if found:
        # Only the first, like copier: a later rule may only restate the same mistake.
        print(f"error: {found[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
