"""Inline conflict blocks as `copier update` leaves them, for migrations that resolve some.

Imported by the migration scripts beside it (a script's own folder is on Python's path, for
copier and for cruft users who run the scripts by hand).
"""

from __future__ import annotations

from collections.abc import Callable

# Given the team's lines (before `=======`) and the template's (after it), newline-terminated,
# the lines to put in the block's place, or None to leave the block as it is.
Resolver = Callable[[list[str], list[str]], "list[str] | None"]


def resolve_blocks(text: str, resolve: Resolver) -> str:
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if not lines[i].startswith("<<<<<<< "):
            out.append(lines[i])
            i += 1
            continue
        middle = next(j for j in range(i, len(lines)) if lines[j].rstrip("\n") == "=======")
        end = next(j for j in range(middle, len(lines)) if lines[j].startswith(">>>>>>> "))
        resolved = resolve(lines[i + 1 : middle], lines[middle + 1 : end])
        out.extend(lines[i : end + 1] if resolved is None else resolved)
        i = end + 1
    return "".join(out)
