"""Run the copier and cookiecutter command lines non-interactively, as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tooling.questions import REPO_ROOT


def copier_cli(destination: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`copier copy --defaults` of this working tree, one `--data` per answer."""
    data = [arg for q, a in answers.items() for arg in ("--data", f"{q}={a}")]
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD", *data]
    return subprocess.run(
        [*command, str(REPO_ROOT), str(destination)],
        capture_output=True,
        text=True,
        check=False,
    )


def cookiecutter_cli(output_dir: Path, answers: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`cookiecutter --no-input` of this working tree, answers as extra context."""
    extra_context = [f"{q}={a}" for q, a in answers.items()]
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir)]
    return subprocess.run(
        [*command, str(REPO_ROOT), *extra_context],
        capture_output=True,
        text=True,
        check=False,
    )
