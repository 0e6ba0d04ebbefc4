"""Small assertions shared by the tests."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

UNRENDERED_MARKERS = ("{{", "{%", "cookiecutter.")
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")
# Helm's templates keep their own `{{ ... }}` actions; Jinja's other markers must be gone there too.
HELM_TEMPLATES = ("chart", "templates")


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
            helm = relative.parts[:2] == HELM_TEMPLATES
            markers = [m for m in UNRENDERED_MARKERS if not (helm and m == "{{")]
            found += [f"{relative}: {m}" for m in markers if m in text]
    return found


def elf_headers(binary: Path) -> str:
    """readelf's program headers, dynamic section and notes of `binary`."""
    return subprocess.run(
        ["readelf", "--program-headers", "--dynamic", "--notes", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def is_fully_static(headers: str) -> bool:
    """No program interpreter and no shared libraries: runs from an empty root."""
    return "INTERP" not in headers and "(NEEDED)" not in headers


def commit_everything(folder: Path, epoch: int) -> str:
    """Make `folder` a git repository with one commit of all its files, made at `epoch`
    (seconds since 1970); returns the commit's hash."""

    def git(*args: str, **env: str) -> str:
        return subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(folder), **env},
        ).stdout.strip()

    git("init", "--quiet")
    git("add", "--all")
    date = f"@{epoch} +0000"
    git(
        *("-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"),
        *("commit", "--quiet", "--message", "The service as generated"),
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
    )
    return git("rev-parse", "HEAD")
