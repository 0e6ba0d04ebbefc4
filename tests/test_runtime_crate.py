"""The runtime crate (template/runtime, `service-runtime`), tested once here rather than in every
service: its unit, integration and documentation tests with and without the metrics feature,
clippy with warnings denied, and rustdoc without warnings. It builds inside a generated default
service, whose Cargo.lock pins the crate's dependencies and its tests' (the crate is a member of
the service's workspace), exactly as services build it.
"""

from __future__ import annotations

import shutil

import pytest

from tooling.cargo import cargo
from tooling.render import render_with_copier

pytestmark = pytest.mark.slow

FEATURE_SETS = {"metrics": ["--features", "metrics"], "no-features": []}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return render_with_copier(tmp_path_factory.mktemp("runtime") / "svc-runtime", None)


@pytest.mark.parametrize("features", list(FEATURE_SETS))
def test_the_runtime_passes_its_own_tests(service, features):
    result = cargo(service, "test", "--locked", "-p", "service-runtime", *FEATURE_SETS[features])
    # Unit tests, the integration tests (the runtime's behaviour) and the doc examples.
    summaries = [line for line in result.stdout.splitlines() if line.startswith("test result")]
    assert len(summaries) == 3, result.stdout
    assert all(" 0 failed" in line for line in summaries)
    ran = sum(int(line.split(". ")[1].split(" passed")[0]) for line in summaries)
    assert ran >= 80, result.stdout


@pytest.mark.parametrize("features", list(FEATURE_SETS))
def test_clippy_finds_nothing_in_the_runtime(service, features):
    command = ["clippy", "--locked", "-p", "service-runtime", "--all-targets"]
    cargo(service, *command, *FEATURE_SETS[features], "--", "-D", "warnings")


def test_the_runtime_api_documentation_builds_without_warnings(service):
    cargo(
        service,
        "doc",
        "--locked",
        "--no-deps",
        "-p",
        "service-runtime",
        "--features",
        "metrics",
        RUSTDOCFLAGS="-D warnings",
    )


def test_the_runtime_refuses_to_build_with_a_broken_public_api_example(service, tmp_path):
    """Control: a doc example that no longer compiles fails the crate's tests."""
    copy = tmp_path / "svc"
    shutil.copytree(service, copy, ignore=shutil.ignore_patterns("target"))
    lib = copy / "runtime" / "src" / "lib.rs"
    text = lib.read_text(encoding="utf-8")
    broken = text.replace(".default_port(8080)", ".default_port_of(8080)", 1)
    assert broken != text
    lib.write_text(broken, encoding="utf-8")

    result = cargo(copy, "test", "--locked", "-p", "service-runtime", "--doc", check=False)

    assert result.returncode != 0
    assert "default_port_of" in result.stdout + result.stderr
