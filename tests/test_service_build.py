"""Rungs 4 and 5 on the host: the generated service lints, passes its own tests and builds
with the minimum Rust version it declares. The static binary and the image are built by the
service's own Containerfile (tests/test_image.py, tests/test_static_binary.py).

The checks run through the generated Makefile, exactly as the generated CI runs them.
"""

from __future__ import annotations

import pytest
import tomlkit

from tooling.cargo import make

pytestmark = pytest.mark.slow


def test_generated_code_is_rustfmt_clean(built_project):
    make(built_project, "fmt")


def test_clippy_finds_nothing_with_warnings_denied(built_project):
    result = make(built_project, "lint")
    assert "-D warnings" in result.stdout  # make echoes the command it ran


def test_service_passes_its_own_tests(built_project):
    result = make(built_project, "test")
    assert " passed; 0 failed" in result.stdout


# One row is enough: the answers change no dependency's minimum Rust version.
@pytest.mark.parametrize("built_project", ["defaults"], indirect=True)
def test_service_builds_with_the_minimum_rust_version_it_declares(built_project):
    """`make msrv` (the generated CI's MSRV job) builds with rust-version's toolchain."""
    result = make(built_project, "msrv")
    manifest = tomlkit.parse((built_project / "Cargo.toml").read_text(encoding="utf-8"))
    assert f"cargo +{manifest['package']['rust-version']} build" in result.stdout
