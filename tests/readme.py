"""A generated README as a reader sees it: rendered by CommonMark with GitHub's extensions."""

from __future__ import annotations

import html
import re
from pathlib import Path

from markdown_it import MarkdownIt


def rendered_readme(project: Path) -> tuple[str, str]:
    """The README's title and first paragraph as text, after CommonMark with GitHub's tables
    and strikethrough renders it to HTML."""
    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    page = renderer.render((project / "README.md").read_text(encoding="utf-8"))
    title = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL)
    first = re.search(r"</h1>\s*<(\w+)>(.*?)</\1>", page, re.DOTALL)
    assert title and first, page[:500]
    assert first.group(1) == "p", f"the description became a <{first.group(1)}>"
    return html.unescape(title.group(1)), html.unescape(first.group(2))
