"""rustls only: no OpenSSL, native-tls or aws-lc in any dependency graph the template makes."""

from __future__ import annotations

import pytest
import tomlkit

from tooling.cargo import make, package_names
from tooling.questions import choice_matrix, combination_id

FORBIDDEN = {"openssl-sys", "openssl", "native-tls", "aws-lc-sys", "aws-lc-rs"}


@pytest.mark.parametrize("answers", choice_matrix(), ids=combination_id)
def test_no_openssl_native_tls_or_aws_lc_for_any_answers(render, answers):
    names = package_names(render(answers))

    assert {"reqwest", "rustls", "ring"} <= names, "the graph was not read"
    assert names & FORBIDDEN == set()


def test_policy_check_catches_reqwest_with_default_features(render):
    """Control: the check above must fail when someone re-enables reqwest's default TLS."""
    project = render()
    enable_reqwest_default_features(project)

    assert package_names(project, locked=False) & FORBIDDEN


def enable_reqwest_default_features(project):
    manifest_path = project / "runtime" / "Cargo.toml"
    manifest = tomlkit.parse(manifest_path.read_text(encoding="utf-8"))
    del manifest["dependencies"]["reqwest"]["default-features"]
    manifest_path.write_text(tomlkit.dumps(manifest), encoding="utf-8")


def cargo_deny(project, *checks, flags="--locked"):
    """`make deny` as CI runs it, without advisories: their database needs the network."""
    return make(
        project, "deny", f"DENY_CHECKS={' '.join(checks)}", f"DENY_FLAGS={flags}", check=False
    )


@pytest.mark.parametrize("answers", choice_matrix(), ids=combination_id)
def test_cargo_deny_passes_bans_licenses_and_sources(render, answers):
    result = cargo_deny(render(answers), "bans", "licenses", "sources")
    assert result.returncode == 0, result.stderr


def test_cargo_deny_refuses_reqwest_with_default_features(render):
    """Control: the shipped deny.toml bans what reqwest's default TLS brings back."""
    project = render()
    enable_reqwest_default_features(project)

    # The lock must follow the changed manifest, so not --locked here.
    result = cargo_deny(project, "bans", flags="--offline")

    assert result.returncode != 0
    assert "aws-lc" in result.stderr
