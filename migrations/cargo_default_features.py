"""Copier migration (updating to 0.2.0): a `default = [...]` feature list both sides changed
takes both sides' changes.

0.2.0 switches its new `metrics` feature on in `[features] default`; a team that put a feature
of its own there changed the same line, which no line-based merge can combine. The merge is
simple on the list itself: the template's list, without what the team removed from 0.1.0's, plus
what the team added. 0.1.0's list follows from the `allocator` answer (`["mimalloc"]` or `[]`).
Only a conflict whose team side is that one line is resolved; the line is rewritten as
Cargo.toml writes arrays (`["a", "b"]`), with the standard library only (toml_arrays.py), as
Renovate's copier has no other packages than its own. Runs before cargo_lock_from_template.py, whose
`cargo update` needs a manifest without conflicts. Cruft users run it by hand after `cruft
update` (CHANGELOG); the answer then comes from `.cruft.json`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conflict_blocks import resolve_blocks
from toml_arrays import parse_array, render_array

DEFAULT_LINE = re.compile(r"^default = \[.*\]$")


def features(line: str) -> list[str]:
    return parse_array(line.split("=", 1)[1])


def merged(base: list[str], team: list[str], template: list[str]) -> list[str]:
    removed = [name for name in base if name not in team]
    added = [name for name in team if name not in base and name not in template]
    return [name for name in template if name not in removed] + added


def resolve(text: str, base: list[str]) -> str:
    def default_line(team: list[str], template: list[str]) -> list[str] | None:
        if not (
            len(team) == 1
            and DEFAULT_LINE.match(team[0].rstrip("\n"))
            and template
            and DEFAULT_LINE.match(template[0].rstrip("\n"))
        ):
            return None
        array = render_array(merged(base, features(team[0]), features(template[0])))
        return [f"default = {array}\n", *template[1:]]

    return resolve_blocks(text, default_line)


def allocator() -> str:
    """The `allocator` answer, from copier's answers file or cruft's state."""
    copier_answers, cruft_state = Path(".copier-answers.yml"), Path(".cruft.json")
    if copier_answers.is_file():
        answers = yaml.safe_load(copier_answers.read_text(encoding="utf-8")) or {}
    elif cruft_state.is_file():
        state = json.loads(cruft_state.read_text(encoding="utf-8"))
        answers = state.get("context", {}).get("cookiecutter", {})
    else:
        answers = {}
    return str(answers.get("allocator", "mimalloc"))


def main() -> int:
    manifest = Path("Cargo.toml")
    if not manifest.is_file() or "<<<<<<< " not in manifest.read_text(encoding="utf-8"):
        return 0
    text = manifest.read_text(encoding="utf-8")
    base = ["mimalloc"] if allocator() == "mimalloc" else []
    resolved = resolve(text, base)
    if resolved != text:
        manifest.write_text(resolved, encoding="utf-8")
        print("Cargo.toml: merged the team's and the template's default features")
        if "<<<<<<< " not in resolved:
            subprocess.run(["git", "add", "--", "Cargo.toml"], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
