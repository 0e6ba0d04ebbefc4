"""template.yaml's parameter pages as Backstage's frontend form checks them (backstage/form.mjs).

The form (scaffolder-react 3.0.0's Stepper: @rjsf/core with @rjsf/validator-ajv8 5.24.13, ajv 8
and ajv-errors) is a second validator besides the backend's (`jsonschema`, tooling/scaffolder.py):
a user only reaches the backend through it, and it refuses schemas the backend takes. Node is
the one tooling/scaffolder.py runs (tooling/backstage's lockfile, Node 22).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tooling.backstage_template import TEMPLATE_YAML
from tooling.scaffolder import BACKSTAGE, NODE, repo_url

FORM = BACKSTAGE / "form.mjs"


def form_verdicts(
    answer_sets: list[dict[str, Any]], template: Path = TEMPLATE_YAML
) -> list[dict[str, Any]]:
    """For each answer set: `refused`, `pages` (the visible pages, in order), `compileErrors`
    as [{page, message}], `warnings` (the rest of what rjsf logs), `replaced` as [{page,
    question, given, submitted}] (answers the form holds as something else: a choice not in
    the list becomes the default) and `errors` as [{page, question, keyword, message,
    fieldMessage, schemaDescription}]: `message` is the error list's line, `fieldMessage` the
    text under the question, `schemaDescription` the failing (sub)schema's description, which
    the form never shows. A page that does not compile refuses with question None.

    The repository location is filled in as tooling/scaffolder.py does (its host follows ci):
    the rules are the questions'.
    """
    [verdicts] = form_verdicts_with_templates(answer_sets, [template])
    return verdicts


def form_verdicts_with_templates(
    answer_sets: list[dict[str, Any]], templates: list[Path]
) -> list[list[dict[str, Any]]]:
    """`form_verdicts` for several templates in one Node process: a list per template."""
    data = [{"repoUrl": repo_url(answers), **answers} for answers in answer_sets]
    run = subprocess.run(
        [str(NODE), str(FORM), "validate", *map(str, templates)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    verdicts = json.loads(run.stdout)
    return verdicts if len(templates) > 1 else [verdicts]
