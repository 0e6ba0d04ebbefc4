"""The code blocks of a generated README's "Your code" section, applied to a service as the
section tells a reader to: each block's first line names a file and says where the rest goes.

    // src/api/orders.rs (new file)
    // src/api.rs (the whole file)
    # Cargo.toml, after the line: serde_json = "1"

The marker line itself is not written. A block without a marker, a new file that exists, a
whole file that does not, or an anchor that is not exactly one line of the file is an error:
the README would be telling its reader something the service contradicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SECTION = "## Your code"
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARKER = re.compile(
    r"^(?://|#) (?P<path>[\w./-]+)"
    r"(?: \((?P<kind>new file|the whole file)\)|, after the line: (?P<anchor>.+))$"
)


@dataclass(frozen=True)
class Snippet:
    path: str
    # "new file", "the whole file" or "after"
    kind: str
    text: str
    anchor: str | None = None


def section(readme: str, title: str = SECTION) -> str:
    """The text of the `## ` section named `title`, up to the next `## ` heading."""
    start = readme.index(f"\n{title}\n")
    end = readme.find("\n## ", start + len(title) + 2)
    return readme[start : end if end != -1 else len(readme)]


def snippets(readme: str) -> list[Snippet]:
    found = []
    for match in FENCE.finditer(section(readme)):
        first, _, rest = match.group(1).partition("\n")
        marker = MARKER.match(first)
        if marker is None:
            raise ValueError(f"a block of {SECTION!r} does not say where it goes: {first!r}")
        kind = marker["kind"] or "after"
        found.append(Snippet(marker["path"], kind, rest, marker["anchor"]))
    return found


def apply(project: Path, found: list[Snippet]) -> list[str]:
    """Apply `found` in order; returns the paths written."""
    for snippet in found:
        target = project / snippet.path
        if snippet.kind == "new file":
            if target.exists():
                raise ValueError(f"{snippet.path} is said to be new but exists")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(snippet.text, encoding="utf-8")
        elif snippet.kind == "the whole file":
            if not target.is_file():
                raise ValueError(f"{snippet.path} is said to exist but does not")
            target.write_text(snippet.text, encoding="utf-8")
        else:
            lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
            at = [i for i, line in enumerate(lines) if line.rstrip("\n") == snippet.anchor]
            if len(at) != 1:
                raise ValueError(f"{snippet.path}: {len(at)} lines are {snippet.anchor!r}")
            lines[at[0] + 1 : at[0] + 1] = [snippet.text]
            target.write_text("".join(lines), encoding="utf-8")
    return sorted({snippet.path for snippet in found})
