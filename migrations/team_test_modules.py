"""Copier migration (updating to 0.3.0): test modules a team declared at the end of
`tests/api/main.rs` join the team's list instead of conflicting with the template's block.

0.1.0's main.rs ended with its list of test modules, where teams added theirs in alphabetical
order. 0.2.0 appended a block of its own runtime tests (a comment and its `mod` lines) at the
end, so a team module that sorts after the last example (`mod tls;`) was inserted at the same
place, and the merge cannot order two insertions. Here a conflict whose team side is nothing
but `mod` lines (with their attributes) takes the team's lines, then the template's: the team's
list, then the template's block. Any other conflict is left alone. Safe to run more than once;
cruft users run it by hand after `cruft update` (CHANGELOG).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conflict_blocks import resolve_blocks

MOD_LINE = re.compile(r"^(#\[[^\]]*\]|(pub )?mod [a-z_][a-z0-9_]*;)$")


def resolve(text: str) -> str:
    def team_modules_first(team: list[str], template: list[str]) -> list[str] | None:
        if team and all(MOD_LINE.match(line.rstrip("\n")) for line in team):
            return team + template
        return None

    return resolve_blocks(text, team_modules_first)


def main() -> int:
    path = Path("tests/api/main.rs")
    if not path.is_file():
        return 0
    text = path.read_text(encoding="utf-8")
    resolved = resolve(text)
    if resolved != text:
        path.write_text(resolved, encoding="utf-8")
        print("tests/api/main.rs: the team's test modules stay in its list, above the template's")
        if "<<<<<<< " not in resolved:
            subprocess.run(["git", "add", "--", str(path)], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
