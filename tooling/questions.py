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


def choices() -> dict[str, list[str]]:
    """Every question that offers a fixed list, with its choices."""
    return {name: list(spec["choices"]) for name, spec in questions().items() if "choices" in spec}


def choice_matrix() -> list[dict[str, str]]:
    """Every combination of every choice question (the other answers stay at their defaults)."""
    names = list(choices())
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices().values())
    ]


def combination_id(answers: dict[str, Any]) -> str:
    """A short readable test id such as `MIT-mimalloc-unwind-z`."""
    return "-".join(str(value).replace(" ", "") for value in answers.values()) or "defaults"
