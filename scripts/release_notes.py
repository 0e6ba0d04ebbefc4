"""Print the CHANGELOG.md section of one release: the notes its GitHub release publishes.

Usage: python scripts/release_notes.py VERSION [--changelog PATH]

VERSION is the release's tag, a PEP 440 version in its plain form (0.3.0, 1.0.0rc1): the form
copier and Renovate read from tags. Exits 1 with one line on stderr when the tag is not such a
version, or the CHANGELOG has no `## VERSION` section, or the section is empty. Standard library
only: the release workflow runs it before installing anything.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
# PEP 440's public versions without epoch or local part, lower case, no `v`: what a tag may be.
PLAIN_VERSION = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?")


class NoNotes(ValueError):
    """The release cannot be published: the reason is the message, one line."""


def section(changelog: str, version: str) -> str:
    """The body of `## VERSION ...` up to the next `## ` heading, trimmed."""
    if not PLAIN_VERSION.fullmatch(version):
        raise NoNotes(f"{version!r} is not a plain PEP 440 version (such as 0.3.0 or 1.0.0rc1)")
    heading = re.compile(rf"^## {re.escape(version)}(?:\s.*)?$", re.MULTILINE)
    found = heading.search(changelog)
    if found is None:
        raise NoNotes(
            f"CHANGELOG.md has no '## {version}' section: rename '## Unreleased' to "
            f"'## {version} (YYYY-MM-DD)' in the commit the tag points at"
        )
    rest = changelog[found.end() :]
    following = re.search(r"^## ", rest, re.MULTILINE)
    body = rest[: following.start() if following else len(rest)].strip()
    if not body:
        raise NoNotes(f"CHANGELOG.md's '## {version}' section is empty")
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version")
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    args = parser.parse_args()
    try:
        print(section(args.changelog.read_text(encoding="utf-8"), args.version))
    except NoNotes as problem:
        print(f"release_notes: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
