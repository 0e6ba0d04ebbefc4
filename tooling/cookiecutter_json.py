"""Derive cookiecutter.json from copier.yml, so both engines ask the same questions.

copier.yml is the source: its defaults, choices and help texts become cookiecutter's variables,
choice lists (default first) and `__prompts__`. Defaults that refer to earlier answers get the
`cookiecutter.` prefix cookiecutter needs; a choice whose default is derived that way is asked
as text (see `_cookiecutter_value`). Computed values the tree uses (`__crate_name`,
`__kubernetes_name`, `__answers`) and the project folder's name are added as cookiecutter
private variables, and so are the constants of copier's `cookiecutter` mapping
(`"__shutdown_drain_secs": 3`): copier.yml is the one place they are set.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

import yaml

from tooling.questions import COPIER_YML, REPO_ROOT, choice_values, questions

COOKIECUTTER_JSON = REPO_ROOT / "cookiecutter.json"

# The name of the folder cookiecutter generates into: its template folder is the symlink
# `{{cookiecutter.__project_folder}}`. Cookiecutter creates that folder before the pre-generation
# hook can refuse anything, so a bad slug must not name it: `a/b` would leave `a/` behind, `..`
# or `/x` would reach outside the output folder, and an empty slug names the output folder
# itself ("directory already exists", before the hook). The folder is the slug only when it has
# the shape of a Cargo package name (the hook's CARGO_NAME); any other slug gets a throwaway name,
# random so that it never meets an existing folder, which cookiecutter removes when the hook
# refuses the slug.
_LOWER, _NAME_CHARACTERS = string.ascii_lowercase, string.ascii_lowercase + string.digits + "_-"
PROJECT_FOLDER = (
    "{% set slug = cookiecutter.project_slug | string %}"
    f"{{{{ slug if slug and slug | length <= 64 and slug[0] in '{_LOWER}'"
    f" and not slug.strip('{_NAME_CHARACTERS}')"
    " else 'refused-project-slug-' ~ random_ascii_string(12) }}"
)

# Values copier computes in its `cookiecutter` mapping, in cookiecutter's own words, and the
# project folder, which only cookiecutter names.
COMPUTED = {
    "__crate_name": "{{ cookiecutter.project_slug | replace('-', '_') }}",
    # As copier.yml computes it: the slug as a DNS label (Kubernetes names, Backstage's entity).
    "__kubernetes_name": (
        "{{ ((cookiecutter.project_slug | replace('_', '-')).split('-') | select | join('-'))"
        "[:63].rstrip('-') }}"
    ),
    # Renders the answers file's name empty, so cookiecutter skips copier's answers file.
    "__answers": "",
    "__project_folder": PROJECT_FOLDER,
}


def constants() -> dict[str, int]:
    """Whole-number constants of copier's computed `cookiecutter` mapping (`"__name": 3`)."""
    data = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    mapping = data["cookiecutter"]["default"]
    return {
        match.group(1): int(match.group(2))
        for match in re.finditer(r'^\s*"(__\w+)": ([0-9]+),?$', mapping, re.MULTILINE)
    }


def _with_cookiecutter_prefix(default: str, names: list[str]) -> str:
    """`{{ project_name | lower }}` -> `{{ cookiecutter.project_name | lower }}`."""
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")\b")

    def prefix_inside(expression: re.Match[str]) -> str:
        return pattern.sub(r"cookiecutter.\1", expression.group(0))

    return re.sub(r"\{\{.*?\}\}", prefix_inside, default)


def _derived(spec: dict[str, Any]) -> bool:
    """A default copier computes from earlier answers."""
    return "{{" in str(spec.get("default"))


def _cookiecutter_value(spec: dict[str, Any], names: list[str]) -> Any:
    default = spec.get("default")
    if "choices" in spec and not _derived(spec):
        choices = [str(choice) for choice in choice_values(spec["choices"])]
        # Cookiecutter's default is the first choice.
        if choices[0] != str(default):
            raise ValueError(f"copier's default {default!r} must be the first choice")
        return choices
    if spec.get("type") == "bool":
        return bool(default)
    # A derived choice becomes text with a rendered default: a choice list's default is its
    # first entry, and an answer given on the command line must equal an entry as written, so
    # no list can both follow earlier answers and accept every choice. The prompt names the
    # choices and the pre-generation hook refuses any other answer.
    return _with_cookiecutter_prefix(str(default), names)


def _prompt(spec: dict[str, Any]) -> str:
    if "choices" in spec and _derived(spec):
        *others, last = [str(choice) for choice in choice_values(spec["choices"])]
        return f"{spec['help']} ({', '.join(others)} or {last})"
    return spec["help"]


def cookiecutter_context() -> dict[str, Any]:
    asked = questions()
    names = list(asked)
    context: dict[str, Any] = {
        name: _cookiecutter_value(spec, names) for name, spec in asked.items()
    }
    context.update(COMPUTED)
    context.update(constants())
    context["__prompts__"] = {name: _prompt(spec) for name, spec in asked.items()}
    return context


def render_cookiecutter_json() -> str:
    return json.dumps(cookiecutter_context(), indent=2, ensure_ascii=False) + "\n"
