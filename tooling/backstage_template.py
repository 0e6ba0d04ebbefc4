"""Derive template.yaml, a Backstage Software Template, from copier.yml and the shared rules.

Backstage's `fetch:cookiecutter` action never copies `hooks/`, so the pre-generation hook
cannot refuse anything there: the form's JSON Schema states the rules instead, rendered from
tooling/answer_rules.py like the hook's and copier's, and parity tests feed all of them one
corpus. Each rule is a subschema whose `description` is the hook's message, so a refusal names
the question and the rule.

JSON Schema patterns are ECMAScript regular expressions searched anywhere in the text, with the
`u` flag in both validators Backstage uses (ajv in the form, `jsonschema` in the backend):
they are anchored with ^ and $ (which, unlike Python's, never matches before a final newline),
and lengths count code points as Python does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from tooling.answer_rules import ASKED_ONLY_IF, Condition, Rule, rules
from tooling.cookiecutter_json import COMPUTED, COOKIECUTTER_JSON, constants
from tooling.questions import COPIER_YML, REPO_ROOT, choice_titles, choice_values, questions

TEMPLATE_YAML = REPO_ROOT / "template.yaml"
# The backend's `scaffolder.defaultEnvironment.parameters` that become the answers file's
# `_src_path` and `_commit`: a template's steps cannot see where it was registered from.
TEMPLATE_URL_PARAMETER = "rust_service_template_url"
TEMPLATE_VERSION_PARAMETER = "rust_service_template_version"
HEADER = "# Generated from copier.yml by scripts/sync_cookiecutter.py: do not edit by hand.\n"

# Form pages (the questions of a rule between answers share a page: Backstage validates each
# page on its own).
PAGES = {
    "The service": [
        *("project_name", "project_slug", "description", "author_name", "author_email"),
        *("license", "repository_url"),
    ],
    "Runtime and build": [
        *("rust_version", "http_port", "allow_low_port", "allocator", "panic_strategy"),
        *("opt_level", "toolchain", "target_arches", "metrics", "image_name"),
        "image_size_budget_kib",
    ],
    "Delivery": ["ci", "template_updates", "deploy"],
}
# The page that also asks where to publish: its rule follows `ci`, so they share the page.
PUBLISHING_PAGE = "Delivery"
# The organisation's GitLab, where a service with ci gitlab is published (publish:gitlab); a
# fork sets its own host here and runs scripts/sync_cookiecutter.py.
GITLAB_HOST = "gitlab.com"
# Prefix of the raw copies of text answers in fetch:cookiecutter's values (see
# cookiecutter_values).
RAW_PREFIX = "_raw_"


def _literally(text: str) -> str:
    """A pattern that matches `text` itself, in both Python's and ECMAScript's (`u`) syntax."""
    return "".join(
        c if c.isalnum() else ("[\\" + c + "]" if c in "\\]^-" else f"[{c}]") for c in text
    )


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def schema_rule(rule: Rule) -> dict[str, Any]:
    """One rule as a JSON Schema subschema whose `description` is the hook's message."""
    if rule.kind == "none_of" and rule.crate_ident:
        forbidden = sorted({spelling for name in rule.values for spelling in _spellings(name)})
    else:
        forbidden = list(rule.values)
    # A list of values as a pattern: an `enum` inside a text question's allOf makes the form
    # (rjsf) replace whatever is typed with the default.
    alternatives = "|".join(map(_literally, rule.values))
    schemas = {
        "matches": lambda: {"pattern": _anchored(rule.pattern)},
        "contains": lambda: {"pattern": rule.pattern},
        "excludes": lambda: {"not": {"pattern": rule.pattern}},
        "max_length": lambda: {"maxLength": rule.limit},
        "one_of": lambda: {"pattern": _anchored(alternatives)},
        "none_of": lambda: {"not": {"enum": forbidden}},
        "is_true": lambda: {"const": True},
    }
    return {
        "description": f"{rule.question}: {rule.message}",
        **schemas[rule.kind](),
        # What the form shows under the field (ajv-errors, which the scaffolder's form loads);
        # the field's name is already beside it.
        "errorMessage": rule.message,
    }


def _spellings(name: str) -> list[str]:
    """Every slug whose crate name (`-` as `_`) is `name`."""
    variants = [""]
    for character in name:
        options = "_-" if character == "_" else character
        variants = [variant + option for variant in variants for option in options]
    return variants


def _if(condition: Condition) -> dict[str, Any]:
    return {
        "properties": {condition.question: {"pattern": _anchored(condition.pattern)}},
        "required": [condition.question],
    }


@cache
def _defaults() -> dict[str, Any]:
    """Every answer as the defaults give it, derived ones included (`my-service`).

    A form's defaults are fixed values: one derived from earlier answers (the slug from the
    name) is the defaults' value, so a user who changes the name changes the slug too.
    """
    context = generate_context(context_file=str(COOKIECUTTER_JSON))
    return dict(prompt_for_config(context, no_input=True))


def _property(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": name,
        "description": spec["help"],
        "type": "boolean" if spec.get("type") == "bool" else "string",
        "default": _defaults()[name],
    }
    own = [rule for rule in rules() if rule.question == name and not rule.only_if]
    if "choices" in spec:
        schema["enum"] = [str(choice) for choice in choice_values(spec["choices"])]
        # The form's labels (rjsf's enumNames); validation reads `enum` only.
        schema["enumNames"] = choice_titles(spec["choices"])
        own = [rule for rule in own if rule.kind != "one_of"]
    if own:
        schema["allOf"] = [schema_rule(rule) for rule in own]
    return schema


def _conditionals(names: list[str]) -> list[dict[str, Any]]:
    """The page's rules that hold only while another answer matches, as `if`/`then`; a question
    asked only then (allow_low_port) is declared only in its `then`, so the form shows it only
    then."""
    by_condition: dict[Condition, dict[str, Any]] = {}
    for name in names:
        for rule in rules():
            if rule.question == name and rule.only_if:
                then = by_condition.setdefault(rule.only_if, {"properties": {}})
                then["properties"].setdefault(name, {"allOf": []})["allOf"].append(
                    schema_rule(rule)
                )
    for name, condition in ASKED_ONLY_IF.items():
        if name in names:
            then = by_condition.setdefault(condition, {"properties": {}})
            rules_of = then["properties"].pop(name, {})
            then["properties"][name] = {**_property(name, questions()[name]), **rules_of}
            then["required"] = [name]
    for condition in by_condition:
        if condition.question not in names:
            raise ValueError(f"{condition.question} must share a page with the rules it governs")
    return [{"if": _if(condition), "then": then} for condition, then in by_condition.items()]


def _repository_rule() -> dict[str, Any]:
    """Where the service is published follows its CI: GitLab CI to the organisation's GitLab."""
    return {
        "if": {"properties": {"ci": {"const": "gitlab"}}, "required": ["ci"]},
        "then": {
            "properties": {
                "repoUrl": {
                    "description": f"repoUrl: ci gitlab publishes to {GITLAB_HOST}; choose it",
                    "pattern": f"^{_literally(GITLAB_HOST)}[?]",
                    "errorMessage": f"ci gitlab publishes to {GITLAB_HOST}; choose it",
                }
            }
        },
        "else": {
            "properties": {
                "repoUrl": {
                    "description": "repoUrl: this ci publishes to github.com; choose it",
                    "pattern": "^github[.]com[?]",
                    "errorMessage": "this ci publishes to github.com; choose it",
                }
            }
        },
    }


def parameters() -> list[dict[str, Any]]:
    asked = questions()
    placed = [name for names in PAGES.values() for name in names]
    if sorted(placed) != sorted(asked):
        raise ValueError(f"PAGES must place every question once: {sorted(placed)}")
    pages = []
    for title, names in PAGES.items():
        shown = [name for name in names if name not in ASKED_ONLY_IF]
        page: dict[str, Any] = {
            "title": title,
            "required": shown,
            "properties": {name: _property(name, asked[name]) for name in shown},
        }
        conditionals = _conditionals(names)
        if title == PUBLISHING_PAGE:
            page["required"].append("repoUrl")
            page["properties"]["repoUrl"] = {
                "title": "Repository location",
                "description": (
                    "Where the new service is published (host, owner, name): github.com, or "
                    f"{GITLAB_HOST} for ci gitlab. repository_url is the address the service "
                    "names in its labels and catalog entry, usually the same repository"
                ),
                "type": "string",
                "ui:field": "RepoUrlPicker",
                "ui:options": {"allowedHosts": ["github.com", GITLAB_HOST]},
            }
            conditionals.append(_repository_rule())
        # One condition is stated on the page itself (rjsf shows a field declared in `then`
        # from there); several go into allOf.
        if len(conditionals) == 1:
            page.update(conditionals[0])
        elif conditionals:
            page["allOf"] = conditionals
        pages.append(page)
    return pages


def cookiecutter_values() -> dict[str, Any]:
    """fetch:cookiecutter's `values`: every key of cookiecutter.json, as Backstage delivers it.

    Cookiecutter renders every value as Jinja, so a form answer handed to it as a value would
    run as code on the portal's host. Each text answer goes in raw instead (cookiecutter copies
    a `_` key untouched) and its question's value only names it (`{{ cookiecutter._raw_x }}`):
    Jinja prints the answer without reading it. Choices and yes/no answers pass as they are.
    Computed values are cookiecutter's own expressions, which Backstage passes through (its
    templating is `${{ }}`); the project folder is the action's own. `__answers` names copier's
    answers file, which the template writes for cookiecutter from these values and `_src_path`
    and `_commit`, so that `copier update` and Renovate can update the service.
    """
    asked = questions()
    text = [name for name, spec in asked.items() if spec.get("type") != "bool"]
    raw = {f"{RAW_PREFIX}{name}": f"${{{{ parameters.{name} }}}}" for name in text}
    values: dict[str, Any] = {
        name: (
            f"{{{{ cookiecutter.{RAW_PREFIX}{name} }}}}"
            if name in text
            else f"${{{{ parameters.{name} }}}}"
        )
        for name in asked
    }
    computed = {name: value for name, value in COMPUTED.items() if name != "__project_folder"}
    computed["__answers"] = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))["_answers_file"]
    source = {
        "_src_path": f"${{{{ environment.parameters.{TEMPLATE_URL_PARAMETER} }}}}",
        "_commit": f"${{{{ environment.parameters.{TEMPLATE_VERSION_PARAMETER} }}}}",
    }
    # Raw answers first: cookiecutter fills its context in this order.
    return {**raw, **values, **computed, **constants(), **source}


def steps() -> list[dict[str, Any]]:
    on_gitlab = "${{ parameters.ci == 'gitlab' }}"
    on_github = "${{ parameters.ci != 'gitlab' }}"
    return [
        {
            "id": "generate",
            "name": "Generate the service",
            "action": "fetch:cookiecutter",
            "input": {"url": "./template", "values": cookiecutter_values()},
        },
        {
            "id": "publish-github",
            "name": "Publish to GitHub",
            "if": on_github,
            "action": "publish:github",
            "input": {
                "repoUrl": "${{ parameters.repoUrl }}",
                "description": "${{ parameters.description }}",
                "defaultBranch": "main",
            },
        },
        {
            "id": "publish-gitlab",
            "name": "Publish to GitLab",
            "if": on_gitlab,
            "action": "publish:gitlab",
            "input": {"repoUrl": "${{ parameters.repoUrl }}", "defaultBranch": "main"},
        },
        {
            "id": "register",
            "name": "Register in the catalog",
            "action": "catalog:register",
            "input": {
                "repoContentsUrl": _published("repoContentsUrl"),
                "catalogInfoPath": "/catalog-info.yaml",
            },
        },
    ]


def _published(output: str) -> str:
    """An output of whichever publishing step ran."""
    return (
        f"${{{{ steps['publish-gitlab'].output.{output} if parameters.ci == 'gitlab' "
        f"else steps['publish-github'].output.{output} }}}}"
    )


def template_entity() -> dict[str, Any]:
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": "rust-service",
            "title": "Rust HTTP service",
            "description": (
                "A Rust HTTP service that ships as a FROM scratch image with an embedded SBOM, "
                "the same tree copier and cookiecutter write"
            ),
            "tags": ["rust", "service"],
        },
        "spec": {
            "type": "service",
            "parameters": parameters(),
            "steps": steps(),
            "output": {
                "links": [
                    {"title": "Repository", "url": _published("remoteUrl")},
                    {
                        "title": "Open in catalog",
                        "icon": "catalog",
                        "entityRef": "${{ steps['register'].output.entityRef }}",
                    },
                ]
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Writes a list used twice out twice: no `&id001` anchors in a file people read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_template_yaml() -> str:
    body = yaml.dump(template_entity(), Dumper=_Dumper, sort_keys=False, width=100)
    return HEADER + body
