"""Copier migration (before updating to 0.3.0): handlers a team wrote in `src/routes.rs` move to
`src/api.rs`, the team's own file, before the merge can put them in conflict.

0.1.0 had no `src/api.rs`, so its routes.rs was where a team wrote a handler and its
`.route(...)` line. 0.2.0 rewrote the template's handlers there (their doc comments and bodies),
so a team handler next to one of them ends in conflict markers. Here, before the update merges
anything, every top-level item of routes.rs that 0.1.0's routes.rs did not have (0.1.0 rendered
it the same for every answer; its items are listed below, so later template changes to
routes.rs do not matter) moves to a new `src/api.rs` with the `.route(...)` lines that name it
and the imports it uses; the update then keeps that file (`_skip_if_exists`; for cruft, the
`skip` list in `.cruft.json`) and adds `pub mod api;` to lib.rs.

What cannot move without breaking the crate stops the update with one line, before anything
changes: a team item that uses one of routes.rs's private items, or one that code left in
routes.rs still uses. Runs only for a service without `src/api.rs` (made before 0.2.0); with
copier from `_migrations` (`copier update --trust`); cruft users run it by hand before `cruft
update` and commit what it changed (CHANGELOG).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# The top-level items of 0.1.0's src/routes.rs, and the paths its router served.
TEMPLATE_ITEMS = {"AppState", "router", "healthz", "readyz", "UpstreamStatus", "upstream"}
TEMPLATE_ITEMS |= {"redacted", "ApiError", "tests"}
TEMPLATE_PATHS = {"/healthz", "/readyz", "/upstream"}
# Of those, the ones only routes.rs can see: team code that uses them cannot leave it.
PRIVATE = TEMPLATE_ITEMS - {"AppState", "router", "tests"}

ITEM = re.compile(
    r"^(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe|extern\s+\"C\")\s+)*"
    r"(fn|struct|enum|const|static|type|trait|mod|union|use|impl|macro_rules!)\b\s*(.*)$"
)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ROUTE_PATH = re.compile(r"\.route\(\s*\"([^\"]*)\"")

HEADER = """\
//! The team's own routes. This file, and the modules you declare in it, are
//! yours: the template creates it once and never changes it afterwards, so a
//! template update cannot collide with what you add here.
//!
//! The handlers below were written in `src/routes.rs`, where the template's
//! 0.1.0 invited them; the update to 0.3.0 moved them here.
"""
ROUTER_DOC = """\
/// The service's own API, merged with the template's routes by `app.rs`,
/// behind the same layers: request log, trace context, timeouts, metrics.
"""
# rustfmt's `chain_width`: a shorter chain stays on one line.
CHAIN_WIDTH = 60


class Stop(Exception):
    """The team's code cannot move without breaking the crate."""


class Item:
    def __init__(self, lines: list[str], start: int, end: int, kind: str, name: str):
        self.lines, self.start, self.end, self.kind, self.name = lines, start, end, kind, name

    @property
    def text(self) -> str:
        return "".join(self.lines[self.start : self.end])


def item_name(kind: str, rest: str) -> str:
    if kind == "impl":
        # `impl Trait for Type` or `impl Type`: the type it is for names it.
        target = rest.split(" for ", 1)[-1]
        target = re.sub(r"^<[^>]*>\s*", "", target)
        found = IDENTIFIER.search(target.split("<")[0].split("::")[-1])
        return found[0] if found else ""
    if kind == "use":
        return rest
    found = IDENTIFIER.match(rest)
    return found[0] if found else ""


def top_level_items(text: str) -> list[Item]:
    """The items at the top level of a rustfmt-formatted file, each with the doc comments
    and attributes above it: an item ends at its head's `;` or at the next line that starts
    with a closing bracket and ends the item (`}`, `};`, `];`)."""
    lines = text.splitlines(keepends=True)
    items, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("//!") or line[0] in " \t":
            i += 1
            continue
        start = i
        while i < len(lines) and lines[i].startswith(("///", "#[", "//")):
            i += 1
        if i >= len(lines):
            break
        head = lines[i]
        match = ITEM.match(head)
        end = i + 1
        if not head.rstrip().endswith(";"):
            while end < len(lines) and not (
                lines[end][:1] in "}])" and lines[end].rstrip()[-1:] in "};"
            ):
                end += 1
            end += 1
        kind = match[1] if match else "other"
        name = item_name(kind, match[2]) if match else ""
        items.append(Item(lines, start, min(end, len(lines)), kind, name))
        i = end
    return items


def code_words(text: str) -> set[str]:
    """The identifiers `text` uses, comments and string contents left out."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    return set(IDENTIFIER.findall(text))


def expand_use(tree: str, prefix: str = "") -> list[tuple[str, str]]:
    """`a::{B, c::D as E}` -> [("a::B", "B"), ("a::c::D as E", "E")]."""
    tree = tree.strip()
    if tree.endswith("}"):
        head, _, inner = tree.partition("{")
        parts, depth, current = [], 0, ""
        for char in inner[:-1]:
            depth += char == "{"
            depth -= char == "}"
            if char == "," and depth == 0:
                parts.append(current)
                current = ""
            else:
                current += char
        parts.append(current)
        return [pair for part in parts if part.strip() for pair in expand_use(part, prefix + head)]
    if tree.endswith("*"):
        raise Stop(f"`use {prefix}{tree}` (a glob) hides what it imports")
    name = tree.split(" as ")[-1].split("::")[-1].strip()
    path = prefix + tree
    return [(path if name != "self" else path.rsplit("::", 1)[0], name)]


def imports(items: list[Item]) -> dict[str, str]:
    """Name -> path, for every `use` in the file."""
    found = {}
    for item in items:
        if item.kind == "use":
            tree = re.sub(r"\s+", " ", item.text.strip())
            tree = re.sub(r"^(pub(\([^)]*\))? )?use ", "", tree).rstrip(";")
            found.update({name: path for path, name in expand_use(tree)})
    return found


def router_routes(router: Item) -> list[tuple[int, int, str]]:
    """(first line, end line, text) of each `.route(...)` call in the template's router."""
    routes, i = [], router.start
    while i < router.end:
        if router.lines[i].lstrip().startswith(".route("):
            end, depth = i, 0
            while True:
                depth += router.lines[end].count("(") - router.lines[end].count(")")
                end += 1
                if depth <= 0 or end >= router.end:
                    break
            routes.append((i, end, "".join(router.lines[i:end])))
            i = end
        else:
            i += 1
    return routes


def use_line(path: str) -> str:
    return f"use {path};\n"


def import_block(paths: list[str]) -> str:
    """One `use` per name, grouped std / other crates / this crate, sorted as rustfmt does."""
    groups: list[list[str]] = [[], [], []]
    for path in sorted(set(paths)):
        root = path.split("::")[0]
        groups[0 if root in ("std", "core", "alloc") else 2 if root == "crate" else 1].append(path)
    return "\n".join("".join(use_line(path) for path in group) for group in groups if group)


def chain(routes: list[str]) -> str:
    calls = [route.strip() for route in routes]
    one_line = "Router::new()" + "".join(calls)
    if "\n" not in one_line and len(one_line) <= CHAIN_WIDTH:
        return f"    {one_line}\n"
    return "    Router::new()\n" + "".join(
        route if route.endswith("\n") else route + "\n" for route in routes
    )


def move(routes_text: str) -> tuple[str, str, list[str]] | None:
    """(routes.rs without the team's handlers, the new api.rs, their names), or None when
    routes.rs has nothing of the team's to move."""
    items = top_level_items(routes_text)
    team = [
        item
        for item in items
        if item.kind not in ("use", "other") and item.name and item.name not in TEMPLATE_ITEMS
    ]
    if not team:
        return None
    names = {item.name for item in team}
    router = next((item for item in items if item.kind == "fn" and item.name == "router"), None)
    routes = router_routes(router) if router else []
    moved_routes = [
        route
        for route in routes
        if (path := ROUTE_PATH.search(route[2]))
        and path[1] not in TEMPLATE_PATHS
        and code_words(route[2]) & names
    ]
    moved_text = "".join(item.text for item in team) + "".join(r[2] for r in moved_routes)
    for item in team:
        private = sorted(code_words(item.text) & PRIVATE)
        if private:
            raise Stop(
                f"this service's `{item.name}` uses `{private[0]}`, which only routes.rs can see"
            )
    moved_lines = {i for item in team for i in range(item.start, item.end)}
    moved_lines |= {i for start, end, _ in moved_routes for i in range(start, end)}
    lines = routes_text.splitlines(keepends=True)
    left = "".join(line for i, line in enumerate(lines) if i not in moved_lines)
    still_used = sorted(code_words(left) & names)
    if still_used:
        raise Stop(f"code left in routes.rs uses this service's `{still_used[0]}`")
    known = imports(items)
    needed = code_words(moved_text) | {"Router"}
    paths = [known[name] for name in sorted(needed) if name in known and name != "AppState"]
    paths.append("crate::routes::AppState")
    api = (
        f"{HEADER}\n{import_block(paths)}\n{ROUTER_DOC}"
        f"pub fn router() -> Router<AppState> {{\n{chain([r[2] for r in moved_routes])}}}\n"
        + "".join(f"\n{item.text.rstrip()}\n" for item in team)
    )
    return remove_lines(lines, moved_lines, items, code_words(left)), api, sorted(names)


def remove_lines(lines: list[str], moved: set[int], items: list[Item], words_left: set[str]) -> str:
    """routes.rs without the moved lines, the blank line above each moved item, and the
    team's own `use` lines that nothing left uses."""
    drop = set(moved)
    for item in items:
        if item.start in moved and item.start > 0 and not lines[item.start - 1].strip():
            drop.add(item.start - 1)
    for item in items:
        if item.kind == "use" and item.name not in USES_0_1_0:
            tree = re.sub(r"^(pub(\([^)]*\))? )?use ", "", re.sub(r"\s+", " ", item.text.strip()))
            if not {name for _, name in expand_use(tree.rstrip(";"))} & words_left:
                drop |= set(range(item.start, item.end))
    return "".join(line for i, line in enumerate(lines) if i not in drop)


# 0.1.0's `use` lines (as `item_name` gives them: the text after `use `).
USES_0_1_0 = {
    "std::sync::Arc;",
    "axum::extract::State;",
    "axum::http::StatusCode;",
    "axum::response::{IntoResponse, Response};",
    "axum::routing::get;",
    "axum::{Json, Router};",
    "reqwest::Url;",
    "serde::Serialize;",
    "serde_json::json;",
    "crate::config::Config;",
}


def git_add(*paths: str) -> None:
    # copier takes the project's state from git's index (`git write-tree`) after this runs.
    subprocess.run(["git", "add", "--", *paths], check=False, capture_output=True)


def main() -> int:
    routes, api = Path("src/routes.rs"), Path("src/api.rs")
    if api.exists() or not routes.is_file():
        return 0
    try:
        moved = move(routes.read_text(encoding="utf-8"))
    except Stop as reason:
        print(
            f"template update stopped: src/routes.rs: {reason}; move it to a module of your "
            "own (routed from routes.rs), commit, and update again",
            file=sys.stderr,
        )
        return 1
    if moved is None:
        return 0
    new_routes, api_text, names = moved
    routes.write_text(new_routes, encoding="utf-8")
    api.write_text(api_text, encoding="utf-8")
    changed = ["src/routes.rs", "src/api.rs"]
    cruft_state = Path(".cruft.json")
    if cruft_state.is_file():
        # cruft has no `_skip_if_exists`: its own skip list keeps the team's api.rs.
        state = json.loads(cruft_state.read_text(encoding="utf-8"))
        state["skip"] = sorted({*state.get("skip", []), "src/api.rs"})
        cruft_state.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", "utf-8")
        changed.append(".cruft.json")
    git_add(*changed)
    print(f"src/routes.rs: moved this service's {', '.join(names)} to src/api.rs, its own file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
