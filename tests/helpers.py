"""Small assertions shared by the tests."""

from __future__ import annotations

import re
from pathlib import Path

UNRENDERED_MARKERS = ("{{", "{%", "cookiecutter.")
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")


def leftover_template_syntax(project: Path) -> list[str]:
    """Every file or path in `project` that still holds template syntax, with the marker found."""
    found = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if ".git" in relative.parts:
            continue
        found += [f"{relative} (path): {m}" for m in UNRENDERED_MARKERS if m in str(relative)]
        if path.is_file():
            # GitHub Actions expressions are meant to stay: `${{ github.sha }}`.
            text = GITHUB_EXPRESSION.sub("", path.read_text(encoding="utf-8"))
            found += [f"{relative}: {m}" for m in UNRENDERED_MARKERS if m in text]
    return found
