"""Copier migration: a Cargo.lock the update left in conflict takes the template's side and is
re-resolved, so no team ever merges a lock file by hand.

A lock conflict is mechanical: the template's new crates and the team's own sit next to each
other in the root package's dependency list. The template's side is a lock that fits the
template's manifest; `cargo update --workspace` then adds what the team's own Cargo.toml entries
need, keeping every other version as locked. Runs after an update to 0.2.0 (copier.yml's
`_migrations`, hence `copier update --trust`) in the service's folder, because a 0.1.0 service
still has the old Makefile; from 0.2.0 on, the generated Makefile's `template-update` target
does the same after every update, copier's or cruft's. Cruft runs no migrations: its users run
this by hand after `cruft update` to 0.2.0 (CHANGELOG).

A lock without conflict is left alone. When Cargo.toml is itself still in conflict, or cargo is
missing, the lock only takes the template's side and the message says what to run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

MARKER = re.compile(r"^(<<<<<<<|\|\|\|\|\|\|\||=======|>>>>>>>)( |$)")


def template_side(text: str) -> str:
    """`text` with every conflict replaced by the lines after its `=======` (the update's)."""
    kept, section = [], "both"
    for line in text.splitlines(keepends=True):
        marker = MARKER.match(line)
        if marker and marker[1] == "<<<<<<<" and section == "both":
            section = "team"
        elif marker and marker[1] == "|||||||" and section == "team":
            section = "base"
        elif marker and marker[1] == "=======" and section in ("team", "base"):
            section = "template"
        elif marker and marker[1] == ">>>>>>>" and section == "template":
            section = "both"
        elif section in ("both", "template"):
            kept.append(line)
    return "".join(kept)


def mark_resolved(path: Path) -> None:
    """Tell git the file is resolved (the update left it unmerged in the index)."""
    subprocess.run(["git", "add", "--", str(path)], check=False, capture_output=True)


def in_conflict(text: str) -> bool:
    return any(line.startswith("<<<<<<< ") for line in text.splitlines())


def main() -> int:
    lock = Path("Cargo.lock")
    if not lock.is_file() or not in_conflict(lock.read_text(encoding="utf-8")):
        return 0
    lock.write_text(template_side(lock.read_text(encoding="utf-8")), encoding="utf-8")
    mark_resolved(lock)
    print("Cargo.lock: the update's conflicts were resolved to the template's side")
    if in_conflict(Path("Cargo.toml").read_text(encoding="utf-8")):
        print("Cargo.toml is still in conflict: resolve it, then run `cargo update --workspace`")
        return 0
    cargo = shutil.which("cargo")
    if cargo is None:
        print("cargo is not on PATH: run `cargo update --workspace` to lock your own crates")
        return 0
    result = subprocess.run([cargo, "update", "--workspace"], check=False)
    if result.returncode != 0:
        print("`cargo update --workspace` failed: run it again once Cargo.toml is right")
    mark_resolved(lock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
