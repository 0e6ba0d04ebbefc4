"""template.yaml's pages in Backstage's frontend form, the check a user meets before any other.

Backstage's backend validates a task's parameters with the `jsonschema` package
(test_backstage.py). Before that, the form in the browser (scaffolder-react's Stepper: rjsf
5.24.13 with @rjsf/validator-ajv8 and ajv-errors) compiles each page's schema with ajv 8 and
validates the page when the user presses Next. ajv refuses schemas `jsonschema` takes (an empty
`allOf`, for one): a page that does not compile refuses every answer, so nobody can create a
service. tooling/backstage/form.mjs walks the pages as the form does.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from hooks import pre_gen_project
from tests.test_backstage import compare, corpus_views, form_values, form_view
from tooling.backstage_form import form_verdicts_with_templates
from tooling.backstage_template import TEMPLATE_YAML

# Answer sets that take each page's conditions both ways: the defaults, a low port with its
# capability granted, and GitLab CI with the update method it allows.
BRANCHES = [
    {},
    {"project_slug": "svc-low", "http_port": "443", "allow_low_port": "true"},
    {"ci": "gitlab", "template_updates": "renovate"},
]


def branch_values() -> list[dict[str, Any]]:
    return [form_values(form_view(answers)) for answers in BRANCHES]


def template_entity() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE_YAML.read_text(encoding="utf-8"))


def write_entity(entity: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(entity, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def without_empty_lists(node: Any) -> Any:
    """`node` with every empty allOf, anyOf and oneOf taken out (ajv 8 refuses them)."""
    if isinstance(node, dict):
        return {
            key: without_empty_lists(value)
            for key, value in node.items()
            if not (key in ("allOf", "anyOf", "oneOf") and value == [])
        }
    if isinstance(node, list):
        return [without_empty_lists(item) for item in node]
    return node


def page_titles(entity: dict[str, Any]) -> list[str]:
    return [page["title"] for page in entity["spec"]["parameters"]]


def test_every_page_compiles_under_the_forms_validator(tmp_path):
    entity = template_entity()
    repaired = write_entity(without_empty_lists(entity), tmp_path / "repaired.yaml")
    current, control = form_verdicts_with_templates(branch_values(), [TEMPLATE_YAML, repaired])

    # Control: the same pages without empty lists compile, every page is walked, and the
    # form takes these answers: the check itself sees a good schema as good.
    assert {title for verdict in control for title in verdict["pages"]} == set(page_titles(entity))
    assert [verdict["compileErrors"] for verdict in control] == [[]] * len(BRANCHES)
    assert [verdict["errors"] for verdict in control] == [[]] * len(BRANCHES)

    assert [verdict["compileErrors"] for verdict in current] == [[]] * len(BRANCHES)
    assert [verdict["errors"] for verdict in current] == [[]] * len(BRANCHES)


def test_control_a_page_that_does_not_compile_is_reported(tmp_path):
    """Broken copies of the repaired template: an invalid pattern on a question of the first
    page and an empty allOf (both refuse every answer in the form); an invalid pattern inside
    a page's condition, and a rule of the page (in its own allOf) that rjsf cannot merge with
    the question's schema: the form lets both pass, silently (rjsf takes a condition it
    cannot compile as false, and drops an allOf it cannot merge). Each is reported."""
    base = without_empty_lists(template_entity())
    first = base["spec"]["parameters"][0]
    question = next(iter(first["properties"]))
    conditional = next(page for page in base["spec"]["parameters"] if "if" in page)

    bad_pattern = copy.deepcopy(base)
    bad_pattern["spec"]["parameters"][0]["properties"][question]["pattern"] = "("
    empty_all_of = copy.deepcopy(base)
    empty_all_of["spec"]["parameters"][0]["properties"][question]["allOf"] = []
    bad_condition = copy.deepcopy(base)
    index = base["spec"]["parameters"].index(conditional)
    condition = bad_condition["spec"]["parameters"][index]["if"]
    tested = next(iter(condition["properties"]))
    condition["properties"][tested] = {"pattern": "("}

    unmergeable = copy.deepcopy(base)
    page = unmergeable["spec"]["parameters"][0]
    page["properties"][question]["errorMessage"] = "one text"
    page["allOf"] = [{"properties": {question: {"errorMessage": "another text"}}}]

    variants = [base, bad_pattern, empty_all_of, bad_condition, unmergeable]
    files = [write_entity(entity, tmp_path / f"{n}.yaml") for n, entity in enumerate(variants)]
    [good], [pattern], [empty], [hidden], [dropped] = form_verdicts_with_templates(
        branch_values()[:1], files
    )

    assert good["compileErrors"] == [] and not good["refused"]
    for verdict, said in [
        (pattern, "Invalid regular expression"),
        (empty, "allOf must NOT have fewer than 1 items"),
    ]:
        assert verdict["refused"]
        assert {error["page"] for error in verdict["compileErrors"]} == {first["title"]}
        # What the form lists at the top of the page: ajv's own words, for no question.
        [shown] = [error for error in verdict["errors"] if error["question"] is None]
        assert shown["page"] == first["title"]
        assert said in shown["message"]
    # rjsf keeps the page it last checked a condition against in its one ajv: a later page's
    # conditions can fail to compile too, so those pages may be named as well.
    assert not hidden["refused"]
    assert conditional["title"] in {error["page"] for error in hidden["compileErrors"]}
    assert not dropped["refused"]
    [merge] = dropped["compileErrors"]
    assert merge["page"] == first["title"]
    assert "could not merge subschemas in allOf" in merge["message"]


@pytest.fixture(scope="module")
def corpus_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The corpus of test_backstage.py through the form: template.yaml, and a copy without
    the slug's Rust-keyword rule as the parity check's control (and without empty lists, so
    that it does not depend on the compile check's outcome); one Node process."""
    entity = without_empty_lists(template_entity())
    for page in entity["spec"]["parameters"]:
        slug = page["properties"].get("project_slug", {})
        if "allOf" in slug:
            slug["allOf"] = [rule for rule in slug["allOf"] if "Rust keyword" not in str(rule)]
    weakened = write_entity(entity, tmp_path_factory.mktemp("form") / "weakened.yaml")
    values = [form_values(view) for view in corpus_views()]
    current, control = form_verdicts_with_templates(values, [TEMPLATE_YAML, weakened])
    return {"current": current, "weakened": control}


def as_refusal(verdict: dict[str, Any]) -> dict[str, Any]:
    """The form's verdict with the answers it never submits counted as refused: rjsf puts a
    question's default in place of a choice that is not in its list (the form shows the
    default chosen), so that answer never reaches the backend, refused or not."""
    replaced = [
        {
            "question": change["question"],
            "message": f"{change['given']!r} replaced by {change['submitted']!r}",
        }
        for change in verdict["replaced"]
    ]
    errors = verdict["errors"] + replaced
    return {**verdict, "refused": bool(errors), "errors": errors}


def test_form_and_hook_refuse_exactly_the_same_answers(corpus_verdicts):
    """The hook's verdict for every corpus answer, and a refusal names the hook's question."""
    views = corpus_views()
    found = compare(views, [as_refusal(verdict) for verdict in corpus_verdicts["current"]])
    # Control: without the slug's keyword rule, the check sees the keywords get through.
    weakened = compare(views, [as_refusal(verdict) for verdict in corpus_verdicts["weakened"]])
    added = [line for line in weakened if line not in found]
    assert added and all("project_slug" in line for line in added)
    assert any("'self'" in line for line in added)

    assert found == []


def test_form_shows_the_rule_the_hook_names(corpus_verdicts):
    """A refused answer reads as the rule it breaks (the hook's words), not ajv's ("must NOT
    be valid", a pattern). Exceptions: an emptied field, which the form holds as no answer and
    reports as a missing one, and a choice not in the list, which it replaces."""
    unreadable = []
    for view, verdict in zip(corpus_views(), corpus_verdicts["current"], strict=True):
        problems = pre_gen_project.problems(view)
        if not problems:
            continue
        question, rule = problems[0].split(": ", 1)
        shown = [error for error in verdict["errors"] if error["question"] == question]
        replaced = any(change["question"] == question for change in verdict["replaced"])
        if replaced or any(error["keyword"] == "required" for error in shown):
            continue
        if not any(rule in (error["fieldMessage"] or "") for error in shown):
            said = [error["message"] for error in shown or verdict["errors"]]
            unreadable.append(f"{view.get(question)!r}: hook says {rule!r}, form {said}")
    assert unreadable == []
