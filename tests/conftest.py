"""Shared fixtures: rendering generated projects and building the expensive ones once per run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tooling.image import Buildah, BuiltImage, build_row_image
from tooling.render import render_with_copier
from tooling.template_repo import snapshot_template

# Representative answer sets compiled with cargo on the host (fmt, clippy, the service's own
# tests); the rest of the matrix is only rendered.
BUILD_COMBINATIONS: dict[str, dict[str, str]] = {
    "defaults": {"project_slug": "svc-defaults"},
    # The longest name allowed, sorting after every dependency: rustfmt's layout and the
    # lockfile's order must hold for it too.
    "abort-s-system": {
        "project_slug": "zz-abort-s-system-" + "x" * 46,
        "panic_strategy": "abort",
        "opt_level": "s",
        "allocator": "system",
        "metrics": "none",
    },
}

# Answer rows whose image is built from their own Containerfile, once per run, and reused by
# every image check. Between them they cover both architectures (the two-platform Containerfile
# built for its arm64 half; its amd64 half takes the defaults' path), the low-port capability,
# every size-relevant choice that differs from the defaults (`metrics=none` among them), and the
# nightly toolchain that rebuilds the standard library for size.
IMAGE_ROWS: dict[str, dict[str, Any]] = {
    "defaults": {"project_slug": "svc-defaults"},
    "arm64": {"project_slug": "svc-arm64", "target_arches": "arm64"},
    "both-arches-arm64-half": {"project_slug": "svc-both", "target_arches": "amd64+arm64"},
    "low-port-abort-s-system": {
        "project_slug": "svc-low-port",
        "http_port": "81",
        "allow_low_port": True,
        "panic_strategy": "abort",
        "opt_level": "s",
        "allocator": "system",
        "metrics": "none",
    },
    "nightly-size": {"project_slug": "svc-nightly", "toolchain": "nightly-size"},
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
def buildah() -> Buildah:
    return Buildah()


@pytest.fixture(scope="session", params=list(IMAGE_ROWS), ids=list(IMAGE_ROWS))
def built_image(
    request: pytest.FixtureRequest, buildah: Buildah, tmp_path_factory: pytest.TempPathFactory
) -> BuiltImage:
    """The row's service, generated and built into its image by scripts/build_image's code."""
    answers = IMAGE_ROWS[request.param]
    workdir = tmp_path_factory.mktemp(f"image-{request.param}")
    project = render_with_copier(workdir / answers["project_slug"], answers)
    arch = "arm64" if answers.get("target_arches") == "amd64+arm64" else None
    return build_row_image(buildah, project, workdir, arch)
