"""The generated Containerfile: lint-clean, pinned, and shaped as the image tests assume."""

from __future__ import annotations

import re
import subprocess

import pytest

from tooling.containerfile import runtime_stage
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


def test_runtime_stage_is_scratch_with_the_binary_from_the_context(render):
    stage = runtime_stage((render() / "Containerfile").read_text(encoding="utf-8"), "app")

    assert stage.startswith("FROM scratch\n")
    assert "COPY app /app\n" in stage
    assert "--from" not in stage
