"""The fourth front door: Backstage's Software Template (template.yaml), run by Backstage's code.

Backstage's `fetch:cookiecutter` never runs the template's hooks, so template.yaml's JSON
Schema must refuse exactly what the pre-generation hook refuses: one corpus goes to both (the
validation corpus, the free text that must arrive exactly, and edge cases of the translation
to ECMAScript patterns). Then the template's own steps run through Backstage's workflow runner
and write the tree copier writes.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from hooks import pre_gen_project
from tests.engines_cli import cookiecutter_cli, generated_project
from tests.test_engines import TRICKY_ANSWERS
from tests.test_validation import BAD_ANSWERS, GOOD_ANSWERS, answers_as_cookiecutter_gives_them
from tests.trees import differences
from tooling.backstage_template import (
    TEMPLATE_URL_PARAMETER,
    TEMPLATE_VERSION_PARAMETER,
    TEMPLATE_YAML,
    render_template_yaml,
)
from tooling.chart import backstage_entity_check
from tooling.questions import choice_matrix, choices, combination_id, questions
from tooling.render import render_with_copier
from tooling.scaffolder import (
    ENVIRONMENT,
    GITLAB_REPO_URL,
    REPO_URL,
    run_templates,
    validate_parameters,
    validate_with_templates,
)
from tooling.template_repo import git, snapshot_template

# Where Python's and ECMAScript's regular expressions, or their ideas of a number, a length or
# whitespace, could part: each was checked against the hook, not assumed.
EDGE_ANSWERS = [
    {"http_port": "08080"},
    {"http_port": "00080"},
    {"http_port": "00080", "allow_low_port": "true"},
    {"http_port": "1023"},
    {"http_port": "+8080"},
    {"http_port": " 8080"},
    {"http_port": "٨٠٨٠"},  # Arabic-Indic digits: Python's int() reads them, [0-9] does not.
    {"rust_version": "1.085"},
    {"rust_version": "1.84.9"},
    {"rust_version": "1.0100"},
    {"image_size_budget_kib": "9999999"},
    {"image_size_budget_kib": "10000000"},
    {"project_slug": "proc_macro"},
    {"project_slug": "self_"},
    {"project_slug": "a" * 64 + "\n"},
    # Whitespace Python's strip() removes and ECMAScript's \s does not, and the reverse.
    {"description": "\ufeff"},
    {"description": "\u3000"},
    {"author_name": "\u200b"},
    {"description": "x" * 200},
    {"description": "𝄞" * 200},
    {"description": "a {# b"},
    {"project_name": "x" * 101, "project_slug": "svc"},
    {"project_name": "{{ nope }}", "project_slug": "svc"},
    {"author_name": "x" * 101},
    {"author_name": "{% nope %}"},
    {"description": "100 %} done"},
    {"author_email": "a@b.c"},
    {"author_email": "a@b.c."},
    {"repository_url": "http://example.com/"},
    {"repository_url": "https://example.com//x"},
    {"image_name": "a.b/c"},
    {"image_name": "a/b/c__d--e.f"},
]

CORPUS = [
    *(case.answers for case in BAD_ANSWERS),
    *GOOD_ANSWERS,
    TRICKY_ANSWERS,
    *EDGE_ANSWERS,
]


def hook_view(answers: dict[str, str]) -> dict[str, Any]:
    """The answers with the defaults they derive, as the hook gets them from cookiecutter.

    An answer cookiecutter cannot take (outside its choice list, Jinja it cannot render) is
    laid over the defaults instead, as test_validation does.
    """
    try:
        return answers_as_cookiecutter_gives_them(answers)
    except Exception:  # cookiecutter's own refusals have several types
        return {**answers_as_cookiecutter_gives_them({}), **answers}


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    """The questions' answers as the Backstage form submits them (no computed `__` keys)."""
    return {name: view[name] for name in questions()}


def form_view(answers: dict[str, str]) -> dict[str, Any]:
    """`hook_view` with allow_low_port as the form sends it, a boolean (the corpus gives it as
    cookiecutter's command line does)."""
    view = hook_view(answers)
    view["allow_low_port"] = view["allow_low_port"] in (True, "true")
    return view


@cache
def corpus_views() -> tuple[dict[str, Any], ...]:
    return tuple(form_view(answers) for answers in CORPUS)


def disagreements(template: Path) -> list[str]:
    """Every corpus answer that the hook and the template's schema judge differently, and every
    refusal whose schema error does not name the question the hook names first."""
    views = corpus_views()
    return compare(views, validate_parameters([form_values(view) for view in views], template))


def compare(views: tuple[dict[str, Any], ...], verdicts: list[dict[str, Any]]) -> list[str]:
    found = []
    for answers, view, verdict in zip(CORPUS, views, verdicts, strict=True):
        problems = pre_gen_project.problems(view)
        if bool(problems) != verdict["refused"]:
            said = problems[:1] or [e["message"] for e in verdict["errors"]]
            found.append(f"{answers!r}: hook {bool(problems)}, schema {verdict['refused']}: {said}")
        elif problems:
            question = problems[0].split(":")[0]
            named = {error["question"] for error in verdict["errors"]}
            if question not in named:
                found.append(f"{answers!r}: hook names {question}, schema {sorted(named)}")
    return found


def without_each_rule(entity: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The entity once per rule of its form, with that rule taken out: each rule of a question
    (its `allOf` items and its choice list), also where it holds only while another answer
    matches (inside `then`)."""
    variants = {}

    def remove(label: str, path: list[Any]) -> None:
        variant = copy.deepcopy(entity)
        *parents, last = path
        holder = variant
        for key in parents:
            holder = holder[key]
        del holder[last]
        variants[label] = variant

    def walk(schema: dict[str, Any], path: list[Any]) -> None:
        for name, question in schema.get("properties", {}).items():
            here = [*path, "properties", name]
            for index, rule in enumerate(question.get("allOf", [])):
                remove(rule["description"], [*here, "allOf", index])
            if "enum" in question:
                remove(f"{name}: choices", [*here, "enum"])
        # The rules inside a rule between answers; where to publish is the form's own rule,
        # which the hook never sees (test_the_form_publishes_gitlab_ci_to_gitlab_only).
        for branch in ("then", "else"):
            if branch in schema and "repoUrl" not in schema[branch]["properties"]:
                walk(schema[branch], [*path, branch])
        for index, conditional in enumerate(schema.get("allOf", [])):
            walk(conditional, [*path, "allOf", index])

    for page_index, page in enumerate(entity["spec"]["parameters"]):
        walk(page, ["spec", "parameters", page_index])
    return variants


def test_template_yaml_is_derived_from_copier_yml():
    assert TEMPLATE_YAML.read_text(encoding="utf-8") == render_template_yaml(), (
        "run: python scripts/sync_cookiecutter.py"
    )


def test_backstage_accepts_template_yaml_as_a_software_template():
    """Catalog-model's entity policies, then scaffolder-common's Template validator."""
    checked = backstage_entity_check(TEMPLATE_YAML)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Template:default/rust-service: valid" in checked.stdout


def test_control_backstage_refuses_a_template_without_steps(tmp_path):
    entity = yaml.safe_load(TEMPLATE_YAML.read_text(encoding="utf-8"))
    entity["spec"]["steps"] = [{"id": "generate"}]  # a step without its action
    broken = tmp_path / "template.yaml"
    broken.write_text(yaml.safe_dump(entity), encoding="utf-8")
    checked = backstage_entity_check(broken)
    assert checked.returncode == 1
    assert "action" in checked.stdout


def test_schema_and_hook_refuse_exactly_the_same_answers():
    assert disagreements(TEMPLATE_YAML) == []


def test_control_parity_fails_when_the_schema_loses_one_rule(tmp_path):
    """The Rust-keyword rule removed from the slug: the parity check must see `self`."""
    text = TEMPLATE_YAML.read_text(encoding="utf-8")
    entity = yaml.safe_load(text)
    slug = entity["spec"]["parameters"][0]["properties"]["project_slug"]
    slug["allOf"] = [rule for rule in slug["allOf"] if "Rust keyword" not in rule["description"]]
    weakened = tmp_path / "template.yaml"
    weakened.write_text(yaml.safe_dump(entity), encoding="utf-8")

    found = disagreements(weakened)
    assert found
    assert all("project_slug" in line for line in found)
    assert any("'self'" in line for line in found)


def test_every_rule_of_the_schema_is_one_the_corpus_needs(tmp_path):
    """Each rule taken out in turn (each pattern, length, word list, choice list and rule
    between answers): the corpus must catch every one, so 0 disagreements means something."""
    entity = yaml.safe_load(TEMPLATE_YAML.read_text(encoding="utf-8"))
    variants = without_each_rule(entity)
    files = []
    for index, variant in enumerate(variants.values()):
        files.append(tmp_path / f"{index}.yaml")
        files[-1].write_text(yaml.safe_dump(variant), encoding="utf-8")
    views = corpus_views()
    all_verdicts = validate_with_templates([form_values(view) for view in views], files)
    uncaught = [
        rule
        for rule, verdicts in zip(variants, all_verdicts, strict=True)
        if not compare(views, verdicts)
    ]
    assert len(variants) > 30
    assert uncaught == []


def test_a_refusal_names_the_question_and_the_rule():
    [verdict] = validate_parameters([form_values(form_view({"project_slug": "async"}))])
    assert verdict["refused"]
    assert {"question": "project_slug", "rule": "project_slug: must not be a Rust keyword"} in [
        {"question": e["question"], "rule": e["rule"]} for e in verdict["errors"]
    ]
    [low_port] = validate_parameters([form_values(form_view({"http_port": "80"}))])
    [error] = low_port["errors"]
    assert error["question"] == "allow_low_port"
    assert error["rule"].startswith("allow_low_port: a port below 1024 needs it")


def test_control_without_the_schema_cookiecutter_renders_a_port_the_hook_refuses(tmp_path):
    """Backstage runs no hook: port 99999 goes straight into the service unless the form
    refuses it, which it does."""
    values = form_values(form_view({"http_port": "99999"}))
    [verdict] = validate_parameters([values])
    assert verdict["refused"]
    assert {error["question"] for error in verdict["errors"]} == {"http_port"}

    [run] = run_templates([(values, tmp_path / "published")])
    assert "error" not in run, run
    main_rs = (tmp_path / "published" / "src" / "main.rs").read_text(encoding="utf-8")
    assert ".default_port(99999)" in main_rs


def backstage_matrix() -> list[dict[str, Any]]:
    """Rows of the choice matrix until every choice of every question has been given once,
    the free text that must arrive exactly, and a low port. The pairwise matrix itself goes
    through copier and cookiecutter (test_engines.py); what Backstage adds is how the values
    arrive, which each choice exercises."""
    rows, unseen = [], {(name, value) for name, values in choices().items() for value in values}
    for row in choice_matrix():
        if unseen & set(row.items()):
            rows.append(row)
            unseen -= set(row.items())
    return [
        *rows,
        TRICKY_ANSWERS,
        {"project_slug": "svc-low", "http_port": "443", "allow_low_port": "true"},
    ]


BACKSTAGE_MATRIX = backstage_matrix()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, Any]]]:
    """Every matrix row through template.yaml's steps, in one run of Backstage's workflow
    runner with its real fetch:cookiecutter action; the local publishing step receives what a
    push would publish."""
    root = tmp_path_factory.mktemp("backstage")
    runs = []
    for index, answers in enumerate(BACKSTAGE_MATRIX):
        runs.append((form_values(form_view(answers)), root / str(index)))
    results = run_templates(runs)
    return [(output, result) for (_, output), result in zip(runs, results, strict=True)]


@pytest.mark.parametrize(
    "row", range(len(BACKSTAGE_MATRIX)), ids=lambda row: combination_id(BACKSTAGE_MATRIX[row])
)
def test_backstage_writes_the_tree_copier_and_cookiecutter_write(tmp_path, published, row):
    answers = BACKSTAGE_MATRIX[row]
    project, result = published[row]
    assert "error" not in result, result
    from_copier = render_with_copier(tmp_path / "copier", answers)
    assert differences(from_copier, project) == []
    # Through cookiecutter's command line, with its hooks: the same values another way.
    assert cookiecutter_cli(tmp_path / "cookiecutter", answers).returncode == 0
    assert differences(generated_project(tmp_path / "cookiecutter"), project) == []
    # The answers copier records, and where the platform team says the template lives.
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    expected = yaml.safe_load((from_copier / ".copier-answers.yml").read_text(encoding="utf-8"))
    source = {"_src_path": ENVIRONMENT[TEMPLATE_URL_PARAMETER]}
    source["_commit"] = ENVIRONMENT[TEMPLATE_VERSION_PARAMETER]
    assert recorded == {**expected, **source}

    assert result["registered"]["catalogInfoPath"] == "/catalog-info.yaml"
    assert [link["title"] for link in result["output"]["links"]] == [
        "Repository",
        "Open in catalog",
    ]
    # Only folders can differ, and only empty ones, which git (and so publishing) does not keep.
    empty = sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_dir() and not any(path.iterdir())
    )
    expected_empty = {
        "chart/templates": answers.get("deploy") == "none",
        ".github/workflows": answers.get("ci") in ("gitlab", "none"),
    }
    assert empty == sorted(name for name, is_empty in expected_empty.items() if is_empty)


def test_form_accepts_every_row_of_the_matrix():
    verdicts = validate_parameters([form_values(form_view(a)) for a in BACKSTAGE_MATRIX])
    assert [verdict["errors"] for verdict in verdicts] == [[]] * len(BACKSTAGE_MATRIX)


def published_repository(workspace: Path, clone: Path) -> Path:
    """What publishing pushes from `workspace`, as a clone of it: publish:github commits the
    workspace with `git add .` (isomorphic-git), and git records files, never folders."""
    git(workspace, "init", "--quiet", "--initial-branch=main")
    git(workspace, "add", "--all")
    git(workspace, "commit", "--quiet", "--message", "Initial commit")
    git(workspace.parent, "clone", "--quiet", str(workspace), str(clone))
    return clone


def test_answers_leave_nothing_of_an_unchosen_option_in_any_engine(tmp_path, published):
    """deploy=none and ci=none: no chart and no CI folder from copier, from cookiecutter with
    its hook, or from Backstage as published. Backstage's workspace keeps the empty folders
    cookiecutter creates (no hook runs there, and fs:delete cannot remove a folder: it deletes
    what globby lists, files only); the repository it publishes has none of them."""
    [(workspace, answers)] = [
        (project, answers)
        for (project, _), answers in zip(published, BACKSTAGE_MATRIX, strict=True)
        if answers.get("deploy") == "none" and answers.get("ci") == "none"
    ]
    assert (workspace / "chart").is_dir() and (workspace / ".github").is_dir()
    hooked = cookiecutter_cli(tmp_path / "cookiecutter", answers)
    assert hooked.returncode == 0, hooked.stderr
    projects = {
        "copier": render_with_copier(tmp_path / "copier", answers),
        "cookiecutter": generated_project(tmp_path / "cookiecutter"),
        "backstage": published_repository(
            shutil.copytree(workspace, tmp_path / "workspace", symlinks=True),
            tmp_path / "backstage",
        ),
    }
    folders = {}
    for engine, generated in projects.items():
        assert not (generated / "chart").exists(), engine
        assert not (generated / ".github").exists(), engine
        assert not (generated / ".gitlab-ci.yml").exists(), engine
        folders[engine] = sorted(
            path.relative_to(generated).as_posix()
            for path in generated.rglob("*")
            if path.is_dir() and ".git" not in path.relative_to(generated).parts
        )
    assert folders["backstage"] == folders["copier"] == folders["cookiecutter"]
    assert differences(projects["copier"], projects["backstage"]) == []


def test_a_backstage_service_updates_with_copier_to_a_later_release(tmp_path):
    """The service Backstage publishes records copier's answers, the template's git URL and the
    release registered: `copier update` takes it to the next release without a conflict, and
    its answers are the ones `copier copy` records for the same answers and release."""
    template = snapshot_template(tmp_path / "template", tag="0.3.0")
    readme = template / "template" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nAdded in 0.4.0.\n", "utf-8")
    git(template, "commit", "--quiet", "--all", "--message", "a change for 0.4.0")
    git(template, "tag", "0.4.0")
    answers = {"project_slug": "svc-low", "http_port": "443", "allow_low_port": "true"}
    environment = {
        # A git URL copier fetches here; Renovate wants the https one a real host has.
        TEMPLATE_URL_PARAMETER: f"git+{template.as_uri()}",
        TEMPLATE_VERSION_PARAMETER: "0.3.0",
    }
    service = tmp_path / "published"
    [run] = run_templates([(form_values(form_view(answers)), service)], environment=environment)
    assert "error" not in run, run
    git(service, "init", "--quiet", "--initial-branch=main")
    git(service, "add", "--all")
    git(service, "commit", "--quiet", "--message", "created by Backstage")

    from_copier = tmp_path / "copier"
    copier_copy = [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet"]
    data = [f"--data={name}={value}" for name, value in answers.items()]
    run_copier = [
        *copier_copy,
        *data,
        "--vcs-ref=0.3.0",
        environment[TEMPLATE_URL_PARAMETER],
        str(from_copier),
    ]
    subprocess.run(run_copier, check=True, capture_output=True)
    recorded = yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))
    copier_recorded = from_copier / ".copier-answers.yml"
    assert recorded == yaml.safe_load(copier_recorded.read_text(encoding="utf-8"))

    update = [sys.executable, "-m", "copier", "update", "--defaults", "--trust", "--quiet"]
    updated = subprocess.run(
        [*update, "--vcs-ref=0.4.0"], cwd=service, capture_output=True, text=True, check=False
    )
    assert updated.returncode == 0, updated.stderr
    assert "Added in 0.4.0." in (service / "README.md").read_text(encoding="utf-8")
    changed = git(service, "status", "--porcelain").splitlines()
    assert sorted(line[3:] for line in changed) == [".copier-answers.yml", "README.md"]
    # Only those two changed (no .rej file); a conflict would have left markers in them.
    assert "<<<<<<<" not in (service / "README.md").read_text(encoding="utf-8")
    assert yaml.safe_load((service / ".copier-answers.yml").read_text("utf-8"))["_commit"] == (
        "0.4.0"
    )


def test_the_form_publishes_gitlab_ci_to_gitlab_only():
    """ci gitlab is published with publish:gitlab to the organisation's GitLab, every other ci
    with publish:github: the form refuses a repository location on the other host."""
    cases = [
        ({"ci": "gitlab"}, GITLAB_REPO_URL, False),
        ({"ci": "gitlab"}, REPO_URL, True),
        ({"ci": "github"}, REPO_URL, False),
        ({"ci": "github"}, GITLAB_REPO_URL, True),
        ({"ci": "none"}, GITLAB_REPO_URL, True),
    ]
    answer_sets = [{**form_values(form_view(a)), "repoUrl": url} for a, url, _ in cases]
    verdicts = validate_parameters(answer_sets)
    assert [verdict["refused"] for verdict in verdicts] == [refused for *_, refused in cases]
    for verdict in verdicts:
        assert {error["question"] for error in verdict["errors"]} <= {"repoUrl"}


def test_each_ci_is_published_by_its_own_action(published):
    for answers, (_, result) in zip(BACKSTAGE_MATRIX, published, strict=True):
        expected = "publish:gitlab" if answers.get("ci") == "gitlab" else "publish:github"
        assert result["published"]["action"] == expected, answers
        assert result["registered"]["repoContentsUrl"].startswith(
            "https://gitlab.com/" if expected == "publish:gitlab" else "https://github.com/"
        )


# Template code that runs a shell command where it is rendered: it creates the file it names.
def payload(marker: Path) -> str:
    return "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"


def test_control_the_payload_runs_when_cookiecutter_renders_it(tmp_path):
    """Given to cookiecutter as a value, as a Backstage template that passes answers straight
    through would give it, the payload runs (cookiecutter's own command line does the same)."""
    marker = tmp_path / "ran"
    output = tmp_path / "out"
    output.mkdir()
    cookiecutter_cli(output, {"description": payload(marker)})
    assert marker.exists()


def test_template_code_in_any_text_answer_never_runs_through_backstage(tmp_path):
    """The form and the router refuse template syntax; when that check is bypassed (a task
    created with edited parameters), Backstage's runner still only copies the text: no answer
    reaches cookiecutter as a template, so nothing runs and the service holds the text as typed."""
    text_questions = [name for name, spec in questions().items() if spec.get("type") != "bool"]
    markers = {name: tmp_path / f"ran-{name}" for name in text_questions}
    answers = {name: payload(marker) for name, marker in markers.items()}
    refusals = validate_parameters([{**form_values(form_view({})), **answers}])[0]["errors"]
    assert {error["question"] for error in refusals} >= set(text_questions)

    defaults = form_values(form_view({}))
    runs = [({**defaults, name: answers[name]}, tmp_path / name) for name in text_questions]
    results = run_templates(runs)
    assert sorted(marker.name for marker in markers.values() if marker.exists()) == []
    for name, result in zip(text_questions, results, strict=True):
        assert "error" not in result, (name, result)
        written = "\n".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in (tmp_path / name).rglob("*")
            if path.is_file()
        )
        assert str(markers[name]) in written, name
