"""Render tooling/answer_rules.py for copier (validators in copier.yml) and for cookiecutter
(the data of hooks/pre_gen_project.py). Backstage's schema is rendered in backstage_template.py.
"""

from __future__ import annotations

import json
import re

from tooling.answer_rules import ASKED_ONLY_IF, Condition, Rule, rules
from tooling.questions import COPIER_YML, REPO_ROOT

HOOK = REPO_ROOT / "hooks" / "pre_gen_project.py"
_HOOK_DATA = re.compile(
    r"(?<=# BEGIN GENERATED RULES \(scripts/sync_cookiecutter.py from tooling/answer_rules.py\)\n)"
    r".*?(?=# END GENERATED RULES\n)",
    re.DOTALL,
)
GENERATED_NOTE = "# generated from tooling/answer_rules.py by scripts/sync_cookiecutter.py"


def hook_rules_json() -> str:
    """The rules as JSON that Jinja leaves alone: a `{` before `{`, `%` or `#` (always inside a
    string: JSON's own braces are followed by `"` or `}`) is written as its escape."""
    data = json.dumps([rule.as_data() for rule in rules()], ensure_ascii=True, indent=1)
    return re.sub(r"\{(?=[{%#])", r"\\u007b", data)


def render_hook(text: str) -> str:
    block = f'RULES_JSON = r"""{hook_rules_json()}"""\n'
    if not _HOOK_DATA.search(text):
        raise ValueError("hooks/pre_gen_project.py lost its GENERATED RULES markers")
    return _HOOK_DATA.sub(lambda _: block, text)


def _literal(text: str) -> str:
    """A Jinja string literal (Jinja reads backslash escapes as Python does)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(map(_literal, values)) + "]"


def _fullmatch(question: str, pattern: str) -> str:
    # copier's regex_search is Python's re.search; \Z, unlike $, never matches before a newline.
    return f"(({question} | string) | regex_search({_literal(f'^(?:{pattern})' + chr(92) + 'Z')}))"


def _condition(condition: Condition) -> str:
    return f"{_fullmatch(condition.question, condition.pattern)} is not none"


def _broken(rule: Rule) -> str:
    """A Jinja test that is true when the answer breaks `rule`."""
    text = f"({rule.question} | string)"
    tests = {
        "matches": lambda: f"{_fullmatch(rule.question, rule.pattern)} is none",
        "contains": lambda: f"({text} | regex_search({_literal(rule.pattern)})) is none",
        "excludes": lambda: f"({text} | regex_search({_literal(rule.pattern)})) is not none",
        "max_length": lambda: f"({text} | length) > {rule.limit}",
        "one_of": lambda: f"{text} not in {_list(rule.values)}",
        "none_of": lambda: (
            (f"({text} | replace('-', '_'))" if rule.crate_ident else text)
            + f" in {_list(rule.values)}"
        ),
        "is_true": lambda: f"not {rule.question}",
    }
    test = tests[rule.kind]()
    return f"({_condition(rule.only_if)}) and ({test})" if rule.only_if else test


def _message(rule: Rule) -> str:
    text = f"{rule.question}: {rule.message}"
    # Template markers in a message are printed by an expression, not read as Jinja.
    return f"{{{{ {_literal(text)} }}}}" if re.search(r"\{[{%#]", text) else text


def copier_validator(question: str) -> str | None:
    """The question's rules as one copier validator: the first broken rule's message."""
    own = [rule for rule in rules() if rule.question == question]
    if not own:
        return None
    lines = []
    for index, rule in enumerate(own):
        keyword = "if" if index == 0 else "elif"
        lines += [f"{{%- {keyword} {_broken(rule)} -%}}", _message(rule)]
    return "\n".join([*lines, "{%- endif -%}"])


def copier_when(question: str) -> str | None:
    condition = ASKED_ONLY_IF.get(question)
    return f"{{{{ {_condition(condition)} }}}}" if condition else None


def _question_spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Each top-level key's lines: from its own line to its last indented line (a comment or
    another key at the top level ends it)."""
    spans: dict[str, tuple[int, int]] = {}
    for start, line in enumerate(lines):
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*):\s*", line)
        if not match:
            continue
        end = start
        for index in range(start + 1, len(lines)):
            if lines[index].startswith(" "):
                end = index
            elif lines[index].strip():
                break
        spans[match.group(1)] = (start, end)
    return spans


def _without_generated_keys(block: list[str]) -> list[str]:
    """A question's lines without its generated `validator`/`when` keys and their comment."""
    kept: list[str] = []
    skipping = False
    for line in block:
        if re.match(r"  (validator|when):", line) or line.strip() == GENERATED_NOTE:
            skipping = True
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        kept.append(line)
    return kept


def render_copier_yml(text: str) -> str:
    """copier.yml with each question's `validator` (and a conditional `when`) as generated."""
    lines = text.split("\n")
    spans = _question_spans(lines)
    # From the last question up, so that earlier spans keep their line numbers.
    for question, (start, end) in sorted(spans.items(), key=lambda item: -item[1][0]):
        if question.startswith("_") or question == "cookiecutter":
            continue
        validator, when = copier_validator(question), copier_when(question)
        block = _without_generated_keys(lines[start + 1 : end + 1])
        generated = []
        if when or validator:
            generated.append(f"  {GENERATED_NOTE}")
        if when:
            generated.append(f"  when: {json.dumps(when)}")
        if validator:
            generated.append("  validator: |-")
            generated += [f"    {line}" for line in validator.split("\n")]
        lines[start + 1 : end + 1] = block + generated
    return "\n".join(lines)


def render_copier_yml_file() -> str:
    return render_copier_yml(COPIER_YML.read_text(encoding="utf-8"))


def render_hook_file() -> str:
    return render_hook(HOOK.read_text(encoding="utf-8"))
