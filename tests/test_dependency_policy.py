"""rustls only: no OpenSSL, native-tls or aws-lc in any dependency graph the template makes."""

from __future__ import annotations

import pytest
import tomlkit

from tooling.cargo import package_names
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
    manifest_path = project / "Cargo.toml"
    manifest = tomlkit.parse(manifest_path.read_text(encoding="utf-8"))
    del manifest["dependencies"]["reqwest"]["default-features"]
    manifest_path.write_text(tomlkit.dumps(manifest), encoding="utf-8")

    assert package_names(project, locked=False) & FORBIDDEN
