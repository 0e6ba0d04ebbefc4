"""A Python with copier and nothing else, as Renovate's copier manager installs it.

Migrations run with the Python copier runs in (`{{ _copier_python }}`). Renovate installs
copier alone in an environment of its own, so a migration that imports anything beyond the
standard library and copier's own dependencies fails there. scripts/bootstrap makes this
environment (copier at requirements-test.txt's pin); the migration tests run the scripts with
its Python, and the Renovate tests put its copier on Renovate's PATH.
"""

from __future__ import annotations

from pathlib import Path

from tooling.questions import REPO_ROOT

COPIER_ONLY = REPO_ROOT / ".venv" / "copier-only"


def copier_only_bin() -> Path:
    """The environment's bin folder; bootstrap must have made it."""
    bin_dir = COPIER_ONLY / "bin"
    if not (bin_dir / "copier").is_file():
        raise RuntimeError(f"{COPIER_ONLY} is missing: run scripts/bootstrap")
    return bin_dir


def copier_only_python() -> Path:
    return copier_only_bin() / "python"
