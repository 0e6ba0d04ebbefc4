"""Copier migration (after updating to 0.3.0): files a `before` migration staged as new are
unstaged again, so they reach every tool that collects an update's files.

team_routes_to_api.py stages the src/api.rs it writes, because copier reads the project from
git's index. Left staged, the new file is neither untracked nor modified, and Renovate's copier
manager, which commits the modified, untracked, conflicted, deleted and renamed files of the
update, leaves it out of its pull request: the service would declare `mod api` without the
file. Unstaged, it is an untracked file like the template's own new files. A person running
`make template-update` sees it with `git status` as before and adds it with the rest.
"""

from __future__ import annotations

import subprocess
import sys


def staged_new_files() -> list[str]:
    listed = subprocess.run(
        ["git", "diff", "--cached", "--name-only", "--diff-filter=A", "-z"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [path for path in listed.stdout.split("\0") if path]


def main() -> int:
    paths = staged_new_files()
    if paths:
        subprocess.run(["git", "reset", "--quiet", "--", *paths], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
