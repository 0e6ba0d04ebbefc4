"""Copier migration (before updating to 0.4.0): stop, with one line, the update of a service
whose recorded answers 0.4.0's rules refuse.

0.4.0 refuses answers earlier releases took (a port written `09090`, an e-mail beyond what a
browser's e-mail field takes, a description ending in a space, a slug named like a crate the
service depends on). `copier update --defaults` does not stop on such a recorded answer: it
quietly puts the question's default in its place, which renames a package, moves a port or
drops a description. So the update stops before anything changes and names each answer and the
rule. The rules are the new template's own (its hooks/pre_gen_project.py, imported by path).
Runs with copier from `_migrations` (`copier update --trust`); cruft runs the hook itself,
which refuses with the same words.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

HOOK = Path(__file__).resolve().parent.parent / "hooks" / "pre_gen_project.py"
ANSWERS = Path(".copier-answers.yml")


def refused(answers: dict[str, object]) -> list[str]:
    """`question: rule (recorded: value)` for each recorded answer the rules refuse."""
    spec = importlib.util.spec_from_file_location("answer_rules_hook", HOOK)
    assert spec and spec.loader
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    found = []
    for rule in hook.RULES:
        question, condition = rule["question"], rule.get("only_if")
        # Only what is recorded: a question asked since, or asked only under a condition that
        # is not recorded, takes its default as usual.
        recorded = question in answers and (not condition or condition["question"] in answers)
        if recorded and hook.broken(rule, answers):
            found.append(f"{question}: {rule['message']} (recorded: {answers[question]!r})")
    return found


def main() -> int:
    if not ANSWERS.is_file():
        return 0
    answers = yaml.safe_load(ANSWERS.read_text(encoding="utf-8")) or {}
    found = refused({k: v for k, v in answers.items() if not k.startswith("_")})
    if not found:
        return 0
    print(
        "template update stopped: this release refuses answers .copier-answers.yml records, "
        "and copier would silently replace them with defaults; write each as the rule says in "
        ".copier-answers.yml (and the files that use it), commit, and update again: "
        + "; ".join(found),
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
