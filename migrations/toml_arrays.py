"""TOML arrays of strings in Cargo.toml, read and rewritten in place, with the standard library.

Migrations run in the Python copier runs in, and Renovate's copier has only copier's own
dependencies: no tomlkit, and `tomllib` only from Python 3.11 (copier supports 3.9), which
reads but cannot write. Cargo.toml's feature lists are simple arrays of basic or literal strings,
on one line or several, perhaps with comments; that is all this reads. Each string is replaced
where it stands, so the file keeps its layout and comments. Imported by the migration scripts
beside it (a script's own folder is on Python's path).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

# A table header (`[features]`, `[dependencies.reqwest]`) or a `key = ` at the start of a line.
HEADER = re.compile(r"[ \t]*\[\[?[ \t]*([^\]\n]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$")
KEY = re.compile(r"[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_.-]+)[ \t]*=[ \t]*")
BASIC_ESCAPE = re.compile(r"\\(.)")


class NotSimple(ValueError):
    """Something this reader does not handle (a multi-line string, an unclosed array)."""


@dataclass
class Item:
    """One string of an array: its span in the text, its value and its quote."""

    start: int
    end: int
    value: str
    quote: str


@dataclass
class Array:
    """An array value: its key, the table it is in, its span and its strings."""

    table: str
    key: str
    start: int
    end: int
    items: list[Item]


def read_string(text: str, at: int) -> Item:
    quote = text[at]
    if text.startswith(quote * 3, at):
        raise NotSimple("multi-line string")
    end = at + 1
    while end < len(text) and text[end] != quote:
        if text[end] == "\n":
            raise NotSimple("unclosed string")
        end += 2 if quote == '"' and text[end] == "\\" else 1
    if end >= len(text):
        raise NotSimple("unclosed string")
    raw = text[at + 1 : end]
    value = json.loads(f'"{raw}"') if quote == '"' and "\\" in raw else raw
    return Item(at, end + 1, value, quote)


def read_array(text: str, at: int) -> tuple[list[Item], int]:
    """The strings of the array opening at `text[at] == "["`, and the index after its `]`."""
    items: list[Item] = []
    depth, i = 0, at
    while i < len(text):
        char = text[i]
        if char == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if char in "\"'":
            item = read_string(text, i)
            items.append(item)
            i = item.end
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return items, i + 1
        i += 1
    raise NotSimple("unclosed array")


def unquoted(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def arrays(text: str) -> Iterator[Array]:
    """Every `key = [...]` in `text`, and `features = [...]` inside an inline table
    (`reqwest = { ..., features = [...] }`, keyed `reqwest.features`)."""
    table, i = "", 0
    while i < len(text):
        newline = text.find("\n", i)
        line_end = len(text) if newline < 0 else newline
        line = text[i:line_end]
        header, key = HEADER.match(line), KEY.match(line)
        if header and not key:
            table = header[1].replace(" ", "")
        elif key:
            value = i + key.end()
            name = unquoted(key[1])
            if text.startswith("[", value):
                items, end = read_array(text, value)
                yield Array(table, name, value, end, items)
                i = end
                continue
            if text.startswith("{", value):
                inner = re.compile(r"\bfeatures[ \t]*=[ \t]*\[").search(text, value, line_end)
                if inner:
                    start = inner.end() - 1
                    items, end = read_array(text, start)
                    yield Array(table, f"{name}.features", start, end, items)
                    i = end
                    continue
            if text.startswith(('"""', "'''"), value):
                # Skip a multi-line string: its lines may look like headers or keys.
                close = text.find(text[value : value + 3], value + 3)
                if close < 0:
                    raise NotSimple("unclosed multi-line string")
                i = close + 3
                continue
        i = line_end + 1


def render(value: str, quote: str = '"') -> str:
    if quote == "'" and "'" not in value and "\n" not in value:
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def render_array(values: list[str]) -> str:
    """A one-line array as Cargo.toml writes them: `["a", "b"]`."""
    return "[" + ", ".join(render(value) for value in values) + "]"


def parse_array(text: str) -> list[str]:
    """The strings of the one array that starts `text` (after any spaces)."""
    at = text.index("[")
    items, _ = read_array(text, at)
    return [item.value for item in items]


def rewrite(text: str, array: Array, new: list[str | None]) -> str:
    """`text` with each string of `array` replaced by its value in `new` (None drops it). A
    kept string stays where it was; a dropped one goes with its comma, and with its line when
    it was alone on it."""
    if len(new) != len(array.items):
        raise ValueError("one new value per string")
    out, cursor = [], array.start
    # Indexing, not zip(strict=True): migrations run on Python 3.9 too.
    for index, item in enumerate(array.items):
        value = new[index]
        out.append(text[cursor : item.start])
        cursor = item.end
        if value == item.value:
            out.append(text[item.start : item.end])
            continue
        if value is not None:
            out.append(render(value, item.quote))
            continue
        comma = re.compile(r"[ \t]*,[ \t]*").match(text, cursor)
        if comma:
            cursor = comma.end()
        else:
            # The last string: its separator is the comma before it.
            out[-1] = re.sub(r",\s*$", "", out[-1])
        head = "".join(out)
        line_start = head.rfind("\n") + 1
        if not head[line_start:].strip() and text.startswith("\n", cursor):
            out, cursor = [head[:line_start]], cursor + 1
    out.append(text[cursor : array.end])
    return text[: array.start] + "".join(out) + text[array.end :]
