"""One tree, three engines: copier, cookiecutter and cruft give byte-identical services."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cruft
import pytest
import tomlkit
import yaml

from tests.engines_cli import cookiecutter_cli, copier_cli, cruft_cli, generated_project
from tests.readme import rendered_readme
from tests.trees import differences
from tooling.cookiecutter_json import COOKIECUTTER_JSON, render_cookiecutter_json
from tooling.questions import REPO_ROOT, choice_matrix, combination_id

# Free text that must arrive exactly as typed: quotes, backslashes, shell and GitHub-expression
# look-alikes that are not Jinja, and Unicode well beyond Latin. Invisible code points are
# escaped: ZWJ (U+200D), variation selector 16 (U+FE0F), combining marks (U+0301, U+0308,
# U+0323) and the tag characters of a subdivision flag (plane 14).
TRICKY_TEXT = {
    # Astral: emoji, a musical symbol and a hieroglyph (plane 1), CJK extension B (plane 2).
    "project_name": 'Zoë\'s "Quoted" Service \\ ☃ 🚀 𝄞 𓀀 𠜎𠜱',
    # Right-to-left scripts between left-to-right text, and combining marks.
    "description": (
        'Says "hi" to C:\\Users\\me, $HOME, ${ env.X }, `id`, 100% <b>naïf</b> 日本語, '
        "שלום עולם 42, مرحبا بالعالم, cafe\u0301 a\u0308\u0323 नमस्ते"
    ),
    # Emoji sequences: ZWJ, skin tone, regional-indicator flag, tag flag, variation selector.
    "author_name": (
        "O'Brien & Søn \\ Ops 👩\u200d💻 👨\u200d👩\u200d👧\u200d👦 👋🏽 🇳🇴 "
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f ❤\ufe0f"
    ),
}
TRICKY_ANSWERS = {**TRICKY_TEXT, "project_slug": "zoe-service"}


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


def test_free_text_arrives_exactly_in_every_engine(tmp_path, template_repo):
    """Through each command line: identical trees, and every file the text reaches holds it."""
    runs = {
        "copier": copier_cli(tmp_path / "copier", TRICKY_ANSWERS),
        "cookiecutter": cookiecutter_cli(tmp_path / "cookiecutter", TRICKY_ANSWERS),
        "cruft": cruft_cli(template_repo, tmp_path / "cruft", TRICKY_ANSWERS),
    }
    assert {engine: run.returncode for engine, run in runs.items()} == dict.fromkeys(runs, 0), {
        engine: run.stderr[-2000:] for engine, run in runs.items()
    }
    from_copier = tmp_path / "copier"
    from_cookiecutter = generated_project(tmp_path / "cookiecutter")
    from_cruft = generated_project(tmp_path / "cruft")
    assert differences(from_copier, from_cookiecutter) == []
    assert differences(from_copier, from_cruft) == []

    package = tomlkit.parse((from_copier / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    assert package["description"] == TRICKY_TEXT["description"]
    assert package["authors"] == [f"{TRICKY_TEXT['author_name']} <platform@example.com>"]
    assert rendered_readme(from_copier) == (TRICKY_TEXT["project_name"], TRICKY_TEXT["description"])
    assert containerfile_label(from_copier, "description") == TRICKY_TEXT["description"]
    chart = yaml.safe_load((from_copier / "chart" / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["description"] == TRICKY_TEXT["description"]
    entity = yaml.safe_load((from_copier / "catalog-info.yaml").read_text(encoding="utf-8"))
    assert entity["metadata"]["description"] == TRICKY_TEXT["description"]
    recorded = yaml.safe_load((from_copier / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert {name: recorded[name] for name in TRICKY_TEXT} == TRICKY_TEXT
    cruft_context = json.loads((from_cruft / ".cruft.json").read_text(encoding="utf-8"))
    recorded = cruft_context["context"]["cookiecutter"]
    assert {name: recorded[name] for name in TRICKY_TEXT} == TRICKY_TEXT


def containerfile_label(project: Path, name: str) -> str:
    """An OCI label's value as the Containerfile states it, with its escapes undone."""
    text = (project / "Containerfile").read_text(encoding="utf-8")
    match = re.search(rf'org[.]opencontainers[.]image[.]{name}="((?:[^"\\]|\\.)*)"', text)
    assert match, f"no {name} label"
    return re.sub(r"\\(.)", r"\1", match.group(1))


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
