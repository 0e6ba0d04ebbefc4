"""Regenerate template/Cargo.lock from a project rendered with the default answers.

Usage: python scripts/refresh_lockfile.py [--upgrade]

Without --upgrade, cargo keeps every locked version it can and only adds or drops what
Cargo.toml changes require. With --upgrade, every dependency moves to its newest version that
the template's minimum Rust version allows (Cargo's MSRV-aware resolver, edition 2024).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.cargo import cargo
from tooling.lockfile import to_template
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier

TEMPLATE_LOCK = REPO_ROOT / "template" / "Cargo.lock"
ROOT_NAME = "lockfile-refresh"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="move every dependency forward")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        project = render_with_copier(Path(workdir) / ROOT_NAME, {"project_slug": ROOT_NAME})
        if args.upgrade:
            cargo(project, "update")
        else:
            cargo(project, "metadata", "--format-version", "1")
        lock_text = (project / "Cargo.lock").read_text(encoding="utf-8")

    TEMPLATE_LOCK.write_text(to_template(lock_text, ROOT_NAME), encoding="utf-8")
    print(f"wrote {TEMPLATE_LOCK.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
