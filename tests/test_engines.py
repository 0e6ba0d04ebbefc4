"""One tree, three engines: copier, cookiecutter and cruft give byte-identical services."""

from __future__ import annotations

import cruft
import pytest
import tomlkit
import yaml

from tests.engines_cli import cookiecutter_cli, copier_cli
from tests.trees import differences
from tooling.cookiecutter_json import COOKIECUTTER_JSON, render_cookiecutter_json
from tooling.questions import REPO_ROOT, choice_matrix, combination_id
from tooling.template_repo import snapshot_template

# Free text that must arrive exactly as typed: quotes, backslashes, non-ASCII, shell and
# GitHub-expression look-alikes that are not Jinja.
TRICKY_TEXT = {
    "project_name": 'Zoë\'s "Quoted" Service \\ ☃',
    "description": 'Says "hi" to C:\\Users\\me, $HOME, ${ env.X }, `id`, 100% <b>naïf</b> 日本語',
    "author_name": "O'Brien & Søn \\ Ops",
}
TRICKY_ANSWERS = {**TRICKY_TEXT, "project_slug": "zoe-service"}


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory):
    """The template as it is now, committed to a throwaway repository for cruft."""
    return snapshot_template(tmp_path_factory.mktemp("template") / "repo")


def bake(cookies, answers):
    result = cookies.bake(template=str(REPO_ROOT), extra_context=answers)
    assert result.exit_code == 0, result.exception
    return result.project_path


def test_cookiecutter_json_is_derived_from_copier_yml():
    assert COOKIECUTTER_JSON.read_text(encoding="utf-8") == render_cookiecutter_json(), (
        "run: python scripts/sync_cookiecutter.py"
    )


@pytest.mark.parametrize("answers", choice_matrix(), ids=combination_id)
def test_cookiecutter_and_copier_give_identical_trees(render, cookies, answers):
    assert differences(render(answers), bake(cookies, answers)) == []


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"project_slug": "zz-cruft", "license": "proprietary", "allocator": "system"},
        {"http_port": "443", "allow_low_port": True, "panic_strategy": "abort"},
    ],
    ids=["defaults", "proprietary-system", "low-port"],
)
def test_cruft_create_and_copier_give_identical_trees(render, tmp_path, template_repo, answers):
    from_cruft = cruft.create(
        str(template_repo), output_dir=tmp_path / "cruft", extra_context=answers, no_input=True
    )
    assert differences(render(answers), from_cruft) == []
    assert (from_cruft / ".cruft.json").is_file()


def test_free_text_arrives_exactly_in_both_engines(render, cookies):
    from_copier = render(TRICKY_ANSWERS)
    from_cookiecutter = bake(cookies, TRICKY_ANSWERS)

    assert differences(from_copier, from_cookiecutter) == []
    package = tomlkit.parse((from_copier / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    assert package["description"] == TRICKY_TEXT["description"]
    assert package["authors"] == [f"{TRICKY_TEXT['author_name']} <platform@example.com>"]
    readme = (from_copier / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# {TRICKY_TEXT['project_name']}\n\n{TRICKY_TEXT['description']}\n")
    recorded = yaml.safe_load((from_copier / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert {name: recorded[name] for name in TRICKY_TEXT} == TRICKY_TEXT


def test_both_engines_print_the_same_next_steps(tmp_path):
    answers = {"project_slug": "svc"}
    copier_run = copier_cli(tmp_path / "copier" / "svc", answers)
    cookiecutter_run = cookiecutter_cli(tmp_path / "cookiecutter", answers)
    assert (copier_run.returncode, cookiecutter_run.returncode) == (0, 0)

    def next_steps(output: str, engine: str) -> str:
        text = output[output.index("Your service") :].replace(str(tmp_path / engine), "<dir>")
        return "\n".join(line.rstrip() for line in text.strip().splitlines())

    copier_steps = next_steps(copier_run.stderr + copier_run.stdout, "copier")
    assert copier_steps == next_steps(cookiecutter_run.stdout, "cookiecutter")
    assert "cargo run" in copier_steps
