"""A Python with copier and nothing else, as Renovate's copier manager installs it.

Migrations run with the Python copier runs in (`{{ _copier_python }}`). Renovate installs
copier alone in an environment of its own, so a migration that imports anything beyond the
standard library and copier's own dependencies fails there. Tests run the migrations with this
environment to keep them to that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tooling.questions import REPO_ROOT


def pinned_copier() -> str:
    """The copier version the tests pin (requirements-test.txt)."""
    text = (REPO_ROOT / "requirements-test.txt").read_text(encoding="utf-8")
    found = re.search(r"^copier==(\S+)$", text, re.MULTILINE)
    if found is None:
        raise RuntimeError("requirements-test.txt pins no copier version")
    return found[1]


def copier_only_python(destination: Path) -> Path:
    """A virtual environment at `destination` with the pinned copier installed; its python."""
    subprocess.run([sys.executable, "-m", "venv", str(destination)], check=True)
    python = destination / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"copier=={pinned_copier()}"],
        check=True,
        capture_output=True,
    )
    return python
