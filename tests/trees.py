"""Compare generated trees file by file: content, executable bit and symlinks."""

from __future__ import annotations

from pathlib import Path

ENGINE_RECORDS = {".copier-answers.yml", ".cruft.json"}


def tree_snapshot(project: Path) -> dict[str, object]:
    """Every file below `project` (engine records left out) mapped to what identifies it."""
    snapshot: dict[str, object] = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if relative in ENGINE_RECORDS or ".git" in path.relative_to(project).parts:
            continue
        if path.is_symlink():
            snapshot[relative] = ("symlink", str(path.readlink()))
        elif path.is_file():
            snapshot[relative] = (path.read_bytes(), path.stat().st_mode & 0o111)
    return snapshot


def differences(left: Path, right: Path) -> list[str]:
    """Paths whose content differs, or that exist on one side only."""
    a, b = tree_snapshot(left), tree_snapshot(right)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
