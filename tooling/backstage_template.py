"""Derive template.yaml, a Backstage Software Template, from copier.yml and the shared rules.

Backstage's `fetch:cookiecutter` action never copies `hooks/`, so the pre-generation hook's
rules cannot refuse anything there: the form's JSON Schema states them instead, built here from
the hook's own constants (hooks/pre_gen_project.py) so that both say the same thing, and a
parity test feeds both one corpus. Each rule is a subschema whose `description` is the hook's
message, so a refusal names the question and the rule.

JSON Schema patterns are ECMAScript regular expressions searched anywhere in the text, with the
`u` flag in both validators Backstage uses (ajv in the form, `jsonschema` in the backend):
they are anchored with ^ and $ (which, unlike Python's, never matches before a final newline),
and lengths count code points as Python does.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from hooks import pre_gen_project as hook
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

# Python's str.isspace() characters: `.strip()` of the hook removes exactly these.
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
# Digits without a sign or spaces: what the hook's int() of a `[0-9]+` match reads as a number.
PORT_PATTERN = (
    "^(?=[0-9]{1,5}$)0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}"
    "|655[0-2][0-9]|6553[0-5])$"
)
LOW_PORT_PATTERN = "^0*([0-9]{1,3}|10[01][0-9]|102[0-3])$"
# rust_version's minor version, 85 or more, leading zeros allowed as int() allows them; a
# version of another shape is left to the format's rule, so that each rule is needed.
RUST_MINOR_PATTERN = (
    "^(?!1[.][0-9]+([.][0-9]+)?$)|^1[.]0*(8[5-9]|9[0-9]|[1-9][0-9]{2,})([.][0-9]+)?$"
)


def _char_class(characters: str, negated: bool = False) -> str:
    r"""A character class of `characters`, written with \u escapes (runs as ranges)."""
    codes = sorted(set(map(ord, characters)))
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    if codes and codes[-1] > 0xFFFF:
        raise ValueError("\\u escapes reach U+FFFF only")
    parts = [f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs]
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


def _rule(question: str, message: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": f"{question}: {message}", **schema}


def _free_text(question: str, max_length: int, extra_forbidden: str = "") -> list[dict[str, Any]]:
    """The hook's `_free_text_rules`, one subschema each, with its messages."""
    rules = hook._free_text_rules(question, max_length, extra_forbidden)
    messages = [rule.message({}) for rule in rules]
    forbidden = hook.CONTROL_CHARACTERS.pattern[:-1] + extra_forbidden + "]"
    # `{` needs its escape; `%` and `#` must not have one (the `u` flag refuses it).
    jinja = "|".join(marker.replace("{", "\\{") for marker in hook.JINJA_MARKERS)
    return [
        _rule(question, messages[0], {"pattern": _char_class(_WHITESPACE, negated=True)}),
        _rule(question, messages[1], {"maxLength": max_length}),
        _rule(question, messages[2], {"not": {"pattern": jinja}}),
        _rule(question, messages[3], {"not": {"pattern": forbidden}}),
        _rule(question, messages[4], {"not": {"pattern": hook.SURROGATES.pattern}}),
    ]


def _spellings(names: frozenset[str]) -> list[str]:
    """Every slug whose crate name (`-` as `_`) is one of `names`."""
    spelled: set[str] = set()
    for name in names:
        variants = [""]
        for character in name:
            options = "_-" if character == "_" else character
            variants = [variant + option for variant in variants for option in options]
        spelled.update(variants)
    return sorted(spelled)


def _slug_message(index: int) -> str:
    """The hook's message without the answer it quotes (`must not be a Rust keyword`)."""
    return hook.RULES[index].message({"project_slug": ""}).split(" (")[0]


def question_rules() -> dict[str, list[dict[str, Any]]]:
    """Each question's rules as JSON Schema subschemas, in the hook's order."""
    slug_rules = [i for i, rule in enumerate(hook.RULES) if rule.question == "project_slug"]
    rules: dict[str, list[dict[str, Any]]] = {
        "project_name": _free_text("project_name", 100),
        "project_slug": [
            _rule(
                "project_slug",
                _slug_message(slug_rules[0]),
                {"pattern": _anchored(hook.CARGO_NAME.pattern)},
            ),
            _rule(
                "project_slug",
                _slug_message(slug_rules[1]),
                {"not": {"enum": _spellings(hook.RUST_KEYWORDS)}},
            ),
            _rule(
                "project_slug",
                _slug_message(slug_rules[2]),
                {"not": {"enum": _spellings(hook.RESERVED_NAMES)}},
            ),
        ],
        "description": _free_text("description", 200),
        "author_name": _free_text("author_name", 100, extra_forbidden="<>"),
    }
    by_pattern = {
        "author_email": hook.EMAIL.pattern,
        "rust_version": hook.RUST_VERSION.pattern,
        "http_port": None,
        "repository_url": hook.URL.pattern,
        "image_name": hook.IMAGE_NAME.pattern,
        "image_size_budget_kib": hook.KIB.pattern,
    }
    for question, pattern in by_pattern.items():
        [first, *others] = [rule for rule in hook.RULES if rule.question == question]
        if question == "http_port":
            rules[question] = [_rule(question, first.message({}), {"pattern": PORT_PATTERN})]
        else:
            rules[question] = [_rule(question, first.message({}), {"pattern": _anchored(pattern)})]
        if question == "rust_version":
            rules[question].append(
                _rule(question, others[0].message({}), {"pattern": RUST_MINOR_PATTERN})
            )
    for question, options in hook.CHOICES.items():
        rules[question] = [_rule(question, f"must be one of {options}", {"enum": options})]
    return rules


def cross_rules() -> dict[str, dict[str, Any]]:
    """Rules between answers (`if`, `then`), by the page that holds their questions."""
    low_port = next(rule for rule in hook.RULES if rule.question == "allow_low_port")
    workflow = next(rule for rule in hook.RULES if rule.question == "template_updates")
    low_port_message = low_port.message({"http_port": ""}).replace("port  is", "the port is")
    return {
        "Runtime and build": {
            "if": {
                "properties": {"http_port": {"pattern": LOW_PORT_PATTERN}},
                "required": ["http_port"],
            },
            "then": {
                "properties": {
                    "allow_low_port": _rule("allow_low_port", low_port_message, {"const": True})
                },
                "required": ["allow_low_port"],
            },
        },
        # Stated on template_updates, which the hook names; an unknown ci is its own refusal.
        "Delivery": {
            "if": {"properties": {"ci": {"not": {"const": "github"}}}, "required": ["ci"]},
            "then": {
                "properties": {
                    "template_updates": _rule(
                        "template_updates",
                        workflow.message({}),
                        {"not": {"const": "workflow"}},
                    )
                }
            },
        },
    }


@cache
def _defaults() -> dict[str, Any]:
    """Every answer as the defaults give it, derived ones included (`my-service`).

    A form's defaults are fixed values: one derived from earlier answers (the slug from the
    name) is the defaults' value, so a user who changes the name changes the slug too.
    """
    context = generate_context(context_file=str(COOKIECUTTER_JSON))
    return dict(prompt_for_config(context, no_input=True))


def _property(name: str, spec: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": name,
        "description": spec["help"],
        "type": "boolean" if spec.get("type") == "bool" else "string",
        "default": _defaults()[name],
    }
    if "choices" in spec:
        schema["enum"] = [str(choice) for choice in choice_values(spec["choices"])]
        # The form's labels (rjsf's enumNames); validation reads `enum` only.
        schema["enumNames"] = choice_titles(spec["choices"])
    else:
        schema["allOf"] = rules
    return schema


def parameters() -> list[dict[str, Any]]:
    asked = questions()
    placed = [name for names in PAGES.values() for name in names]
    if sorted(placed) != sorted(asked):
        raise ValueError(f"PAGES must place every question once: {sorted(placed)}")
    rules = question_rules()
    between = cross_rules()
    pages = []
    for title, names in PAGES.items():
        page: dict[str, Any] = {
            "title": title,
            "required": names,
            "properties": {
                name: _property(name, asked[name], rules.get(name, [])) for name in names
            },
        }
        if title in between:
            page.update(between[title])
        pages.append(page)
    pages.append(
        {
            "title": "Repository",
            "required": ["repoUrl"],
            "properties": {
                "repoUrl": {
                    "title": "Repository location",
                    "description": "Where the new service is published (host, owner, name)",
                    "type": "string",
                    "ui:field": "RepoUrlPicker",
                    "ui:options": {"allowedHosts": ["github.com"]},
                }
            },
        }
    )
    return pages


def cookiecutter_values() -> dict[str, Any]:
    """fetch:cookiecutter's `values`: every key of cookiecutter.json, as Backstage delivers it.

    Answers come from the form; computed values are cookiecutter's own expressions, which
    Backstage passes through (its templating is `${{ }}`); the project folder is the action's
    own. `__answers` names copier's answers file, which the template writes for cookiecutter
    from these values and `_src_path` and `_commit` (raw: cookiecutter renders no `_` value),
    so that `copier update` and Renovate can update the service.
    """
    values: dict[str, Any] = {name: f"${{{{ parameters.{name} }}}}" for name in questions()}
    computed = {name: value for name, value in COMPUTED.items() if name != "__project_folder"}
    computed["__answers"] = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))["_answers_file"]
    source = {
        "_src_path": f"${{{{ environment.parameters.{TEMPLATE_URL_PARAMETER} }}}}",
        "_commit": f"${{{{ environment.parameters.{TEMPLATE_VERSION_PARAMETER} }}}}",
    }
    return {**values, **computed, **constants(), **source}


def steps() -> list[dict[str, Any]]:
    return [
        {
            "id": "generate",
            "name": "Generate the service",
            "action": "fetch:cookiecutter",
            "input": {"url": "./template", "values": cookiecutter_values()},
        },
        {
            "id": "publish",
            "name": "Publish",
            "action": "publish:github",
            "input": {
                "repoUrl": "${{ parameters.repoUrl }}",
                "description": "${{ parameters.description }}",
                "defaultBranch": "main",
            },
        },
        {
            "id": "register",
            "name": "Register in the catalog",
            "action": "catalog:register",
            "input": {
                "repoContentsUrl": "${{ steps['publish'].output.repoContentsUrl }}",
                "catalogInfoPath": "/catalog-info.yaml",
            },
        },
    ]


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
                    {"title": "Repository", "url": "${{ steps['publish'].output.remoteUrl }}"},
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
