"""What the 0.4.0 before-migration takes out of the old runtime files, for the after-migrations
to put back where it now belongs: a JSON file in the service's git directory, outside the tree
the update rewrites, so copier and cruft (whose teams run the scripts by hand) both keep it.
Also where the after-migrations read what the service's last commit had.

Imported by the migration scripts beside it.
"""

from __future__ import annotations

import json
import re
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


REQUEST_TIMEOUT = re.compile(
    r"^const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs\((\d+)\);$", re.M
)


def at_head(relative: str) -> str:
    """The file as the service's last commit has it ("" when it had none)."""
    shown = subprocess.run(
        ["git", "show", f"HEAD:{relative}"], capture_output=True, text=True, check=False
    )
    return shown.stdout if shown.returncode == 0 else ""


def team_request_timeout(config: Path = Path("src/config.rs")) -> int | None:
    """The request timeout the service's config.rs sets: as runtime_files_prepare.py took it
    out, else from the file, else (once an update to 0.4.0 took the file into the runtime
    crate) as the last commit had it."""
    carried = read_handoff().get("request_timeout")
    if carried is not None:
        return int(carried)
    text = config.read_text(encoding="utf-8") if config.is_file() else at_head(config.as_posix())
    found = REQUEST_TIMEOUT.search(text)
    return int(found[1]) if found else None
