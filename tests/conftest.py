"""Shared fixtures: rendering generated projects and building the expensive ones once per run."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tooling.cargo import build_static_release, package_name
from tooling.render import render_with_copier
from tooling.template_repo import snapshot_template

# Representative answer sets that are compiled and run; the rest of the matrix is only rendered.
BUILD_COMBINATIONS: dict[str, dict[str, str]] = {
    "defaults": {"project_slug": "svc-defaults"},
    # The longest name allowed, sorting after every dependency: rustfmt's layout and the
    # lockfile's order must hold for it too.
    "abort-s-system": {
        "project_slug": "zz-abort-s-system-" + "x" * 46,
        "panic_strategy": "abort",
        "opt_level": "s",
        "allocator": "system",
    },
}

Renderer = Callable[..., Path]


@pytest.fixture
def render(tmp_path: Path) -> Renderer:
    """Render the template with copier into a fresh folder; returns the project path."""

    def _render(answers: Mapping[str, Any] | None = None, name: str = "project") -> Path:
        return render_with_copier(tmp_path / name, answers)

    return _render


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is now, committed to a throwaway repository for cruft."""
    return snapshot_template(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture(scope="session", params=list(BUILD_COMBINATIONS), ids=list(BUILD_COMBINATIONS))
def built_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project per build combination, rendered once per test run."""
    answers = BUILD_COMBINATIONS[request.param]
    return render_with_copier(
        tmp_path_factory.mktemp(request.param) / answers["project_slug"], answers
    )


@pytest.fixture(scope="session")
def static_binary(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static release binary with its cargo-auditable SBOM, as the image build makes it."""
    built = build_static_release(built_project, package_name(built_project))
    # Kept aside: a build without cargo-auditable writes to the same path.
    kept = tmp_path_factory.mktemp("auditable") / built.name
    shutil.copy2(built, kept)
    return kept


@pytest.fixture(scope="session")
def binary_without_sbom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Control: the default service built by plain cargo, which embeds no dependency list."""
    answers = {"project_slug": "svc-no-sbom"}
    project = render_with_copier(tmp_path_factory.mktemp("no-sbom") / "svc-no-sbom", answers)
    built = build_static_release(project, "svc-no-sbom", auditable=False)
    kept = tmp_path_factory.mktemp("plain") / built.name
    shutil.copy2(built, kept)
    return kept
