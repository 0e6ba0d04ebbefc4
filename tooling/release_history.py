"""The template's release history in a throwaway clone: the releases as released, the working
tree next.

This repository has no tags. The commits released are named once here (RELEASES); the version a
fleet updates to is the working tree as it is now (uncommitted changes included), committed on
top of the last release and tagged NEW_VERSION, so copier, cruft and Renovate see a real
history of several releases.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import yaml

from tooling.questions import REPO_ROOT, choice_values
from tooling.template_repo import copy_working_tree, git

# Each the commit whose CHANGELOG's top entry is that release with no "Unreleased" section above
# it; the next commit starts the next Unreleased entry. Oldest first.
RELEASES = {
    "0.1.0": "64f66e0173402fcd4cf7d29f96ce15f245bbb67c",
    "0.2.0": "796d552013ddb35ac27f9a0a9748a50b1e454a2f",
    "0.3.0": "0bac985827058a53880996d3152609a893a2f975",
}
# The releases a fleet is generated at, each updated to NEW_VERSION.
SOURCE_RELEASES = ("0.1.0", "0.2.0", "0.3.0")
# The release the working tree becomes.
NEW_VERSION = "0.4.0"
WORKING_TREE = "(uncommitted changes in the working tree)"

# `{% if ... %}name{% endif %}`: a file name that carries its condition (rendered: `name`).
CONDITIONAL_NAME = re.compile(r"\{%[^%]*%\}(.*?)\{%[^%]*%\}")


class MissingRelease(RuntimeError):
    """A released commit is not in this clone (a shallow clone, for example)."""


def require_release_commits() -> None:
    for version, commit in RELEASES.items():
        found = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=False,
        )
        if found.returncode != 0:
            raise MissingRelease(
                f"commit {commit[:7]} (release {version}) is not in {REPO_ROOT}: "
                "a shallow clone lacks it; run `git fetch --unshallow`"
            )


def build_release_history(destination: Path) -> Path:
    """Clone this repository to `destination`, tag every release at its commit and commit the
    working tree on top of the last one as NEW_VERSION."""
    require_release_commits()
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", str(REPO_ROOT), str(destination)],
        check=True,
        capture_output=True,
    )
    git(destination, "remote", "remove", "origin")
    for version, commit in RELEASES.items():
        git(destination, "tag", version, commit)
    git(destination, "checkout", "--quiet", "-B", "releases", list(RELEASES.values())[-1])
    git(destination, "rm", "-r", "--quiet", ".")
    # `git rm` leaves folders that held untracked files; start the new version from nothing.
    for leftover in destination.iterdir():
        if leftover.name != ".git":
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    copy_working_tree(destination)
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", f"{NEW_VERSION}: the working tree")
    git(destination, "tag", NEW_VERSION)
    return destination


def release_choices(version: str) -> dict[str, list[str]]:
    """The questions with fixed choices as `version` asked them (their values, not titles)."""
    data = yaml.safe_load(git(REPO_ROOT, "show", f"{RELEASES[version]}:copier.yml"))
    return {
        name: [str(choice) for choice in choice_values(spec["choices"])]
        for name, spec in data.items()
        if not name.startswith("_") and isinstance(spec, dict) and "choices" in spec
    }


def rendered_name(template_path: str) -> str:
    """The path a template file renders to, conditions in its name dropped."""
    return CONDITIONAL_NAME.sub(r"\1", template_path)


def template_source(rendered: str) -> str | None:
    """The file under template/ (as it is now) that renders to `rendered`, if any."""
    root = REPO_ROOT / "template"
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and rendered_name(relative) == rendered:
            return f"template/{relative}"
    return None


@cache
def commits_since_release(release: str) -> dict[str, str]:
    """Full hash -> `short-hash subject` of every commit after `release` up to HEAD."""
    log = git(REPO_ROOT, "log", "--no-merges", "--format=%H %h %s", f"{RELEASES[release]}..HEAD")
    return dict(line.split(" ", 1) for line in log.splitlines())


@cache
def template_line_origins(rendered: str, release: str) -> dict[str, frozenset[str]]:
    """For the template file that renders to `rendered`: each line's text (stripped) -> the
    changes since `release` that wrote it (`hash subject`, or the working tree's own changes).
    Lines that rendering changes (they hold answers) are not found, and lines older than
    `release` are left out."""
    source = template_source(rendered)
    if source is None:
        return {}
    since = commits_since_release(release)
    blame = git(REPO_ROOT, "blame", "--line-porcelain", "--", source)
    origins: dict[str, set[str]] = {}
    commit = ""
    for line in blame.splitlines():
        if line.startswith("\t"):
            if set(commit) == {"0"}:
                origins.setdefault(line[1:].strip(), set()).add(WORKING_TREE)
            elif commit in since:
                origins.setdefault(line[1:].strip(), set()).add(since[commit])
        elif len(line) > 40 and line[40] == " " and all(c in "0123456789abcdef" for c in line[:40]):
            commit = line[:40]
    return {text: frozenset(changes) for text, changes in origins.items() if text}


def template_changes(rendered: str, template_lines: list[str], release: str) -> list[str]:
    """The changes since `release` that wrote the template's side of a conflict in `rendered`."""
    origins = template_line_origins(rendered, release)
    found: set[str] = set()
    for line in template_lines:
        found |= origins.get(line.strip(), frozenset())
    return sorted(found)


def template_file_changes(rendered: str, release: str) -> list[str]:
    """Every change since `release` to the template file that renders to `rendered`, newest
    first."""
    source = template_source(rendered)
    if source is None:
        return []
    log = git(
        REPO_ROOT,
        "log",
        "--no-merges",
        "--format=%h %s",
        f"{RELEASES[release]}..HEAD",
        "--",
        source,
    )
    changes = log.splitlines()
    if git(REPO_ROOT, "status", "--porcelain", "--", source).strip():
        changes.insert(0, WORKING_TREE)
    return changes
