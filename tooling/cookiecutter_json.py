"""Derive cookiecutter.json from copier.yml, so both engines ask the same questions.

copier.yml is the source: its defaults, choices and help texts become cookiecutter's variables,
choice lists (default first) and `__prompts__`. Defaults that refer to earlier answers get the
`cookiecutter.` prefix cookiecutter needs. Computed values the tree uses (`__crate_name`,
`__answers`) are added as cookiecutter private variables, and so are the constants of copier's
`cookiecutter` mapping (`__shutdown_drain_secs: 3`): copier.yml is the one place they are set.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from tooling.questions import COPIER_YML, REPO_ROOT, questions

COOKIECUTTER_JSON = REPO_ROOT / "cookiecutter.json"

# Values copier computes in its `cookiecutter` mapping, in cookiecutter's own words.
COMPUTED = {
    "__crate_name": "{{ cookiecutter.project_slug | replace('-', '_') }}",
    # Renders the answers file's name empty, so cookiecutter skips copier's answers file.
    "__answers": "",
}


def constants() -> dict[str, int]:
    """Whole-number constants of copier's computed `cookiecutter` mapping (`__name: 3`)."""
    data = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    mapping = data["cookiecutter"]["default"]
    return {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^\s*(__\w+): ([0-9]+)$", mapping, re.MULTILINE)
    }


def _with_cookiecutter_prefix(default: str, names: list[str]) -> str:
    """`{{ project_name | lower }}` -> `{{ cookiecutter.project_name | lower }}`."""
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")\b")

    def prefix_inside(expression: re.Match[str]) -> str:
        return pattern.sub(r"cookiecutter.\1", expression.group(0))

    return re.sub(r"\{\{.*?\}\}", prefix_inside, default)


def _cookiecutter_value(spec: dict[str, Any], names: list[str]) -> Any:
    default = spec.get("default")
    if "choices" in spec:
        choices = [str(choice) for choice in spec["choices"]]
        # Cookiecutter's default is the first choice. A default copier computes from earlier
        # answers cannot be followed; the first choice must then fit the other defaults.
        if choices[0] != str(default) and "{{" not in str(default):
            raise ValueError(f"copier's default {default!r} must be the first choice")
        return choices
    if spec.get("type") == "bool":
        return bool(default)
    return _with_cookiecutter_prefix(str(default), names)


def cookiecutter_context() -> dict[str, Any]:
    asked = questions()
    names = list(asked)
    context: dict[str, Any] = {
        name: _cookiecutter_value(spec, names) for name, spec in asked.items()
    }
    context.update(COMPUTED)
    context.update(constants())
    context["__prompts__"] = {name: spec["help"] for name, spec in asked.items()}
    return context


def render_cookiecutter_json() -> str:
    return json.dumps(cookiecutter_context(), indent=2, ensure_ascii=False) + "\n"
