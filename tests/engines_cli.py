"""Run the copier, cookiecutter and cruft command lines non-interactively, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tooling.questions import REPO_ROOT


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def copier_cli(destination: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`copier copy --defaults` of this working tree, one `--data` per answer."""
    data = [arg for q, a in answers.items() for arg in ("--data", f"{q}={a}")]
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD", *data]
    return _run([*command, str(REPO_ROOT), str(destination)])


def cookiecutter_cli(output_dir: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`cookiecutter --no-input` of this working tree, answers as extra context."""
    extra_context = [f"{q}={a}" for q, a in answers.items()]
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir)]
    return _run([*command, str(REPO_ROOT), *extra_context])


def cruft_cli(
    template_repo: Path, output_dir: Path, answers: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`cruft create --no-input` of a git snapshot of this tree (cruft reads templates by git)."""
    command = [sys.executable, "-m", "cruft", "create", "--no-input", "--output-dir"]
    extra_context = ["--extra-context", json.dumps(answers)]
    return _run([*command, str(output_dir), *extra_context, str(template_repo)])


def generated_project(output_dir: Path) -> Path:
    """The one project cookiecutter or cruft generated in `output_dir`."""
    [project] = output_dir.iterdir()
    return project
