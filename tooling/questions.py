"""The template's questions, read from copier.yml: the single source of defaults and choices."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = REPO_ROOT / "copier.yml"


@cache
def questions() -> dict[str, dict[str, Any]]:
    """Asked questions in order; copier settings (`_…`) and computed ones are left out."""
    data = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    return {
        name: spec
        for name, spec in data.items()
        if not name.startswith("_") and spec.get("when") is not False
    }


def choice_values(choices: list[Any] | dict[str, Any]) -> list[Any]:
    """A question's values: copier.yml gives them as title -> value (older releases: a list)."""
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


def choice_titles(choices: list[Any] | dict[str, Any]) -> list[str]:
    """What a form shows for each value: its title (older releases: the value itself)."""
    return list(choices) if isinstance(choices, dict) else [str(choice) for choice in choices]


def choices() -> dict[str, list[str]]:
    """Every question that offers a fixed list, with its choices' values."""
    return {
        name: choice_values(spec["choices"])
        for name, spec in questions().items()
        if "choices" in spec
    }


def choice_matrix(options: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """Answer sets in which every pair of choices of any two questions occurs at least once.

    The full product grows with every question (144 sets for five); pairwise coverage still
    puts every choice of every question next to every choice of every other, in a dozen sets.
    Greedy and deterministic: each row is the first combination covering the most new pairs.
    Combinations the shared rules refuse (a GitHub workflow without GitHub CI) are left out,
    and so are the pairs only they contain. `options` defaults to this version's choices; an
    older release's choices give the matrix its services were generated with.
    """
    from hooks.pre_gen_project import RULES, broken

    options = choices() if options is None else options
    names = list(options)

    def refused(combo: dict[str, str]) -> bool:
        return any(
            rule["question"] in options
            and (not rule.get("only_if") or rule["only_if"]["question"] in options)
            and broken(rule, combo)
            for rule in RULES
        )

    everything = (
        dict(zip(names, values, strict=True)) for values in itertools.product(*options.values())
    )
    combos = [combo for combo in everything if not refused(combo)]

    def pairs(combo: dict[str, str]) -> set[tuple[str, str, str, str]]:
        return {(a, combo[a], b, combo[b]) for a, b in itertools.combinations(names, 2)}

    uncovered = set().union(*(pairs(combo) for combo in combos))
    matrix = []
    while uncovered:
        best = max(combos, key=lambda combo: len(pairs(combo) & uncovered))
        matrix.append(best)
        uncovered -= pairs(best)
    return matrix


def combination_id(answers: dict[str, Any]) -> str:
    """A short readable test id such as `MIT-mimalloc-unwind-z`."""
    return "-".join(str(value).replace(" ", "") for value in answers.values()) or "defaults"
