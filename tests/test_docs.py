"""The documentation: README.md is a short front door, the rest is an MkDocs site in docs/ that
builds with --strict (a broken link, a missing page or a page left out of the navigation
fails), and nothing of the README as it was until 0.2.0 was lost in the move.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tooling.questions import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
# Every heading of README.md up to 0.2.0 (1,108 lines), each now a heading in docs/ or README.
OLD_README_HEADINGS = [
    "Rust service template",
    "The two commands",
    "Generate a service yourself",
    "With cookiecutter or cruft",
    "Create from Backstage",
    "The questions",
    "Update a service",
    "Keeping many services current",
    "When an update conflicts",
    "Updating a fleet",
    "Files you own, files the template owns",
    "Before and after",
    "Resolving a conflict by hand",
    "What you get",
    "The service runtime",
    "Metrics and tracing",
    "Deploy on Kubernetes",
    "How it is tested",
    "The one substitution the image tests make",
    "What is not verified here",
    "Measure",
    "CPU per request",
    "Sizes and the rest",
    "Layout",
]
HEADING = re.compile(r"^#{1,6} (.+)$")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def headings(path: Path) -> list[str]:
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        if not fenced and (match := HEADING.match(line)):
            found.append(match[1].strip())
    return found


def docs_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": str(Path(shutil.which("mkdocs")).parent), "NO_MKDOCS_2_WARNING": "1"},
    )


def test_readme_is_a_front_door_of_at_most_200_lines():
    sections = {"The two commands", "Generate a service", "Update a service", "Where to read on"}

    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200
    assert sections <= set(headings(README))


def test_every_section_of_the_old_readme_is_a_heading_in_the_docs_or_the_readme():
    found = set(headings(README)).union(*(headings(page) for page in docs_pages()))
    assert [heading for heading in OLD_README_HEADINGS if heading not in found] == []


def test_readme_links_to_every_docs_page_and_every_link_resolves():
    targets = LINK.findall(README.read_text(encoding="utf-8"))
    local = {target for target in targets if not target.startswith(("http://", "https://"))}

    assert [target for target in sorted(local) if not (REPO_ROOT / target).is_file()] == []
    pages = {page.relative_to(REPO_ROOT).as_posix() for page in docs_pages()}
    assert sorted(pages - local - {"docs/index.md"}) == []


def test_contributing_guide_links_resolve():
    targets = LINK.findall((REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8"))

    assert targets
    assert [target for target in targets if not (REPO_ROOT / target).is_file()] == []


def test_docs_build_strictly(tmp_path):
    built = mkdocs_build(REPO_ROOT / "mkdocs.yml", tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "platform" / "release" / "index.html").is_file()


@pytest.mark.parametrize(
    ("page", "text", "finding"),
    [
        ("platform/release.md", "\nSee [the steps](steps.md).\n", "steps.md"),
        ("service-teams/update.md", "\nSee [below](#no-such-heading).\n", "no-such-heading"),
        ("orphan.md", "# Not in the navigation\n", "orphan.md"),
    ],
    ids=["broken-link", "broken-anchor", "page-not-in-nav"],
)
def test_control_strict_build_fails_on_a_broken_link_or_a_page_left_out(
    tmp_path, page, text, finding
):
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(REPO_ROOT / "mkdocs.yml", tmp_path)
    with (tmp_path / "docs" / page).open("a", encoding="utf-8") as changed:
        changed.write(text)

    built = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert built.returncode != 0
    assert finding in built.stderr
