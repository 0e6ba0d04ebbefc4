"""Turn a real Cargo.lock into the template's Cargo.lock, whose only rendered part is the root name.

Cargo sorts `[[package]]` entries by name and rewrites a lock whose root entry sits elsewhere
(`--locked` still passes, but the first plain `cargo build` would dirty the fresh repository). So
the root entry is a macro, and a guard between each pair of neighbouring packages emits it where
the rendered name sorts. Jinja compares strings like Cargo does for ASCII names.
"""

from __future__ import annotations

import json

PACKAGE_SEPARATOR = "\n\n[[package]]\n"
SLUG = "cookiecutter.project_slug"


def _name_of(block: str) -> str:
    first_line = block.split("\n", 1)[0]
    if not first_line.startswith('name = "'):
        raise ValueError(f"unexpected Cargo.lock entry: {first_line!r}")
    return first_line.removeprefix('name = "').removesuffix('"')


def _is_root(block: str, root_name: str) -> bool:
    return _name_of(block) == root_name and "\nsource = " not in block


def to_template(lock_text: str, root_name: str) -> str:
    """Return the template text for `lock_text`, whose root package is called `root_name`."""
    header, *blocks = lock_text.rstrip("\n").split(PACKAGE_SEPARATOR)
    roots = [block for block in blocks if _is_root(block, root_name)]
    if len(roots) != 1:
        raise ValueError(f"expected one root package {root_name!r}, found {len(roots)}")
    root_body = roots[0].split("\n", 1)[1]
    others = [block for block in blocks if not _is_root(block, root_name)]
    names = [_name_of(block) for block in others]
    if names != sorted(names):
        raise ValueError("Cargo.lock entries are not sorted by name")

    parts = [
        header,
        "\n{%- macro root_package() %}" + PACKAGE_SEPARATOR,
        f'name = "{{{{ {SLUG} }}}}"\n',
        root_body,
        "\n{%- endmacro %}",
    ]
    previous = None
    for block, name in zip(others, names, strict=True):
        parts.append("\n" + _guard(previous, name) + PACKAGE_SEPARATOR + block)
        previous = name
    parts.append("\n" + _guard(previous, None) + "\n")
    return "".join(parts)


def _guard(before: str | None, after: str | None) -> str:
    """A line that emits the root entry when the rendered name sorts between two neighbours."""
    condition = f"{json.dumps(before)} < {SLUG}" if before else SLUG
    if after:
        # `<=` so that a name equal to a dependency's still renders the root entry once.
        condition += f" <= {json.dumps(after)}"
    return "{%- if " + condition + " %}{{ root_package() }}{% endif %}"
