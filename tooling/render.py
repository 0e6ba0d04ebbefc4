"""Render the template with copier from this working tree (dirty changes included)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import copier

from tooling.questions import REPO_ROOT


def render_with_copier(destination: Path, answers: Mapping[str, Any] | None = None) -> Path:
    """Generate a project at `destination` from the template's current state.

    `vcs_ref="HEAD"` makes copier render the working tree instead of the newest tag, so tests
    exercise the code under review. Unanswered questions take their defaults.
    """
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data=dict(answers or {}),
        defaults=True,
        vcs_ref="HEAD",
        quiet=True,
        unsafe=False,
    )
    return destination
