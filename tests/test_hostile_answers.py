"""Answers every front door accepts, chosen to be hostile to the files they reach.

Quotes, backslashes, `$`, Markdown and HTML markup, template-like text that is not template
syntax (`}}`, `%}`, a single `{`), characters beyond the Basic Multilingual Plane and an e-mail
address with every character a browser's e-mail field allows: copier, cookiecutter and
Backstage write the same service from them; each file that holds one gives it back exactly
when read as its own format reads it (TOML, YAML, the Containerfile's quoting, the README as
CommonMark renders it); and the service passes its own `make check`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from hooks import pre_gen_project
from tests.engines_cli import cookiecutter_cli, copier_cli, generated_project
from tests.readme import rendered_readme
from tests.test_backstage import form_values, form_view
from tests.test_engines import containerfile_label
from tests.test_validation import answers_as_cookiecutter_gives_them
from tests.trees import differences
from tooling.cargo import make
from tooling.fleet import OFFLINE_DENY_CHECKS
from tooling.render import render_with_copier
from tooling.scaffolder import run_templates, validate_parameters
from tooling.template_repo import git

HOSTILE = {
    "project_name": "C# & <Rust> *tools* | ~~q~~ `x` [a](b) \\ 'q' \"Q\" $HOME ${x} %} }} 🚀",
    "project_slug": "svc-hostile",
    "description": (
        "1. \"quoted\" \\back\\slash 'single' # <b>html</b> *em* _u_ `code` [l](u) | & $PATH "
        "${x} %{y} } }} %} #} é 𝄞 \\n"
    ),
    "author_name": 'O\'Brien "Ops" \\ Team & Co #1 ${x} 🚀',
    "author_email": "o'brien+ops&{x}|~!#$%*/=?^_`@mail.example.co.uk",
    "repository_url": "https://example.com/a_b/c~d%20e+f",
    "image_name": "registry.example.com:5000/team/a__b--c.d",
    "http_port": "65535",
    "rust_version": "1.85.1",
}

# First characters and sequences CommonMark reads as blocks or inline markup.
MARKDOWN_TEXT = [
    "- a list item?",
    "+ another",
    "= not a heading",
    "2024) a year",
    "1. first",
    "### three hashes",
    "> a quote",
    "<img src=x onerror=alert(1)>",
    "***",
    "---",
    "&amp; an entity",
    "[x]: https://example.com/ a link definition",
    "a trailing backslash \\",
    "| a | table |",
    "__strong__ and ~~struck~~",
]


@pytest.fixture(scope="module")
def copier_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("hostile") / "copier"
    result = copier_cli(destination, HOSTILE)
    assert result.returncode == 0, result.stderr
    return destination


def test_every_rule_accepts_the_hostile_answers():
    assert pre_gen_project.problems(answers_as_cookiecutter_gives_them(HOSTILE)) == []
    [verdict] = validate_parameters([form_values(form_view(HOSTILE))])
    assert verdict["errors"] == []


def test_cookiecutter_and_backstage_write_copier_s_tree(tmp_path, copier_service):
    output = tmp_path / "cookiecutter"
    output.mkdir()
    result = cookiecutter_cli(output, HOSTILE)
    assert result.returncode == 0, result.stderr
    assert differences(copier_service, generated_project(output)) == []

    [run] = run_templates([(form_values(form_view(HOSTILE)), tmp_path / "backstage")])
    assert "error" not in run, run
    assert differences(copier_service, tmp_path / "backstage") == []


def test_each_file_gives_each_answer_back_as_its_format_reads_it(copier_service):
    cargo = tomllib.loads((copier_service / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    assert cargo["description"] == HOSTILE["description"]
    assert cargo["authors"] == [f"{HOSTILE['author_name']} <{HOSTILE['author_email']}>"]
    assert cargo["rust-version"] == HOSTILE["rust_version"]

    catalog = yaml.safe_load((copier_service / "catalog-info.yaml").read_text(encoding="utf-8"))
    assert catalog["metadata"]["title"] == HOSTILE["project_name"]
    assert catalog["metadata"]["description"] == HOSTILE["description"]
    chart = yaml.safe_load((copier_service / "chart" / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["description"] == HOSTILE["description"]
    assert chart["maintainers"][0]["name"] == HOSTILE["author_name"]
    values = yaml.safe_load((copier_service / "chart" / "values.yaml").read_text("utf-8"))
    assert values["containerPort"] == int(HOSTILE["http_port"])
    answers = yaml.safe_load((copier_service / ".copier-answers.yml").read_text("utf-8"))
    assert {name: answers[name] for name in HOSTILE} == HOSTILE

    assert containerfile_label(copier_service, "description") == HOSTILE["description"]


def test_the_readme_shows_the_name_and_description_as_typed(copier_service):
    assert rendered_readme(copier_service) == (HOSTILE["project_name"], HOSTILE["description"])


# Two texts a service: one as its name, the other as its description.
MARKDOWN_PAIRS = list(zip(MARKDOWN_TEXT[::2], [*MARKDOWN_TEXT[1::2], "plain"], strict=True))


@pytest.mark.parametrize(("name", "description"), MARKDOWN_PAIRS)
def test_the_readme_shows_markdown_like_text_as_typed(tmp_path, name, description):
    answers = {"project_name": name, "project_slug": "svc", "description": description}
    project = render_with_copier(tmp_path / "service", answers)
    assert rendered_readme(project) == (name, description)


def test_control_unescaped_markdown_is_read_as_markup(tmp_path):
    renderer = MarkdownIt("commonmark")
    assert "<li>" in renderer.render("- a list item?")
    assert "<img" in renderer.render("<img src=x onerror=alert(1)>")


@pytest.mark.slow
def test_the_hostile_service_passes_make_check(copier_service):
    git(copier_service, "init", "--quiet", "--initial-branch=main")
    git(copier_service, "add", "--all")
    git(copier_service, "commit", "--quiet", "--message", "generated")
    make(copier_service, "check", OFFLINE_DENY_CHECKS)


@pytest.mark.parametrize("slug", ["null", "true_", "no", "off"])
def test_names_yaml_reads_as_keywords_stay_names(tmp_path, slug):
    """The slug's Kubernetes name in the chart and the catalog entry: a string, whatever YAML
    1.1 would make of it unquoted (`null`, `true`, `no`)."""
    project = render_with_copier(tmp_path / "service", {"project_slug": slug})
    name = slug.rstrip("_")
    chart = yaml.safe_load((project / "chart" / "Chart.yaml").read_text(encoding="utf-8"))
    catalog = yaml.safe_load((project / "catalog-info.yaml").read_text(encoding="utf-8"))
    assert chart["name"] == name
    assert catalog["metadata"]["name"] == name
    assert catalog["metadata"]["annotations"]["backstage.io/kubernetes-id"] == name
