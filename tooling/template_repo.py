"""Snapshot the template as it is now into a throwaway git repository.

cruft and `copier update` read templates through git, so tests that use them need a repository
holding the working tree's current state (uncommitted changes included), optionally tagged.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tooling.questions import REPO_ROOT


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=template-tests", "-c", "user.email=tests@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def template_files() -> list[Path]:
    """Files git tracks or would track (not ignored), relative to the repository root."""
    listed = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [Path(name) for name in listed.split("\0") if name and (REPO_ROOT / name).exists()]


def copy_working_tree(destination: Path) -> None:
    """Copy the template's files as they are now (symlinks as symlinks) into `destination`."""
    for relative in template_files():
        source, target = REPO_ROOT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)


def snapshot_template(destination: Path, tag: str | None = None) -> Path:
    """Copy the template's files into a new repository at `destination` and commit them."""
    destination.mkdir(parents=True)
    copy_working_tree(destination)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", "template snapshot")
    if tag:
        git(destination, "tag", tag)
    return destination
