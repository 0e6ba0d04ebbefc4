"""The generated Containerfile: lint-clean, pinned, and shaped as the image tests assume.

The image itself is built from it and checked in tests/test_image.py.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tooling.builder_standin import OfficialImage
from tooling.questions import choice_matrix, combination_id

DIGEST_PIN = re.compile(r"^ARG RUST_IMAGE=\S+:\S+@sha256:[0-9a-f]{64}$", re.MULTILINE)


@pytest.mark.parametrize("answers", choice_matrix(), ids=combination_id)
def test_hadolint_reports_nothing(render, answers):
    containerfile = render(answers) / "Containerfile"
    result = subprocess.run(
        ["hadolint", "--no-color", str(containerfile)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_builder_image_is_pinned_by_digest_and_tools_by_version(render):
    text = (render() / "Containerfile").read_text(encoding="utf-8")

    assert DIGEST_PIN.search(text)
    assert re.search(r"^ARG CARGO_AUDITABLE_VERSION=\d+\.\d+\.\d+$", text, re.MULTILINE)
    assert re.search(r"^ARG CARGO_CHEF_VERSION=\d+\.\d+\.\d+$", text, re.MULTILINE)
    assert "cargo auditable build --release --frozen" in text


@pytest.mark.parametrize(
    ("arches", "triples"),
    [
        ("amd64", {"x86_64-unknown-linux-musl"}),
        ("arm64", {"aarch64-unknown-linux-musl"}),
        ("amd64+arm64", {"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"}),
    ],
)
def test_target_architectures_decide_the_musl_targets(render, arches, triples):
    project = render({"target_arches": arches})
    containerfile = (project / "Containerfile").read_text(encoding="utf-8")

    assert set(re.findall(r"\w+-unknown-linux-musl", containerfile)) == triples
    deny = (project / "deny.toml").read_text(encoding="utf-8")
    assert set(re.findall(r'"(\w+-unknown-linux-musl)"', deny)) == triples


def test_builder_is_the_official_debian_image_the_stand_in_reproduces(render):
    """The image tests replace RUST_IMAGE only, by a stand-in of this Rust version and suite."""
    containerfile = render() / "Containerfile"
    official = OfficialImage.pinned_in(containerfile)

    assert "ARG RUST_IMAGE=docker.io/library/rust:" in containerfile.read_text(encoding="utf-8")
    assert official.debian_suite == "bookworm"
    assert re.fullmatch(r"\d+\.\d+\.\d+", official.rust_version)


def test_build_stages_run_on_the_build_machine_and_cross_compile(render):
    """An arm64 image is compiled by the builder's own platform, never under emulation."""
    text = (render({"target_arches": "amd64+arm64"}) / "Containerfile").read_text()
    stages = re.findall(r"^FROM (.*)$", text, re.MULTILINE)

    assert stages[0] == "--platform=$BUILDPLATFORM ${RUST_IMAGE} AS chef"
    assert stages[1:3] == ["chef AS planner", "chef AS builder"]
    assert stages[-1] == "scratch"
