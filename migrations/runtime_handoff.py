"""What the 0.4.0 before-migration takes out of the old runtime files, for the after-migrations
to put back where it now belongs: a JSON file in the service's git directory, outside the tree
the update rewrites, so copier and cruft (whose teams run the scripts by hand) both keep it.

Imported by the migration scripts beside it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def _path() -> Path | None:
    found = subprocess.run(
        ["git", "rev-parse", "--git-path", "template-update-0.4.0.json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def read_handoff() -> dict[str, Any]:
    path = _path()
    if path is None or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def write_handoff(carried: dict[str, Any]) -> None:
    path = _path()
    if path is not None:
        path.write_text(json.dumps({**read_handoff(), **carried}, indent=2), encoding="utf-8")
