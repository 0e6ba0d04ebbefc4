"""Run Backstage's own scaffolder code on template.yaml (tooling/backstage/scaffolder.mjs).

Node comes from the npm registry's `node` package pinned in tooling/backstage's lockfile:
Backstage's packages want Node 22 or newer. The workflow runner calls `cookiecutter` from
PATH, as a Backstage backend does; this Python's own (the pinned 2.7.1) comes first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tooling.backstage_template import (
    GITLAB_HOST,
    TEMPLATE_URL_PARAMETER,
    TEMPLATE_VERSION_PARAMETER,
    TEMPLATE_YAML,
)
from tooling.questions import REPO_ROOT

BACKSTAGE = REPO_ROOT / "tooling" / "backstage"
NODE = BACKSTAGE / "node_modules" / ".bin" / "node"
SCAFFOLDER = BACKSTAGE / "scaffolder.mjs"
# Where the form publishes to (the host follows ci); the local publishing step only records it.
REPO_URL = "github.com?owner=example&repo=svc"
GITLAB_REPO_URL = f"{GITLAB_HOST}?owner=example&repo=svc"


def repo_url(answers: dict[str, Any]) -> str:
    """The repository location a person picks for these answers: GitLab for ci gitlab."""
    return GITLAB_REPO_URL if answers.get("ci") == "gitlab" else REPO_URL


# What a platform team puts in app-config's scaffolder.defaultEnvironment.parameters: where
# the template lives and the release registered (README, "Create from Backstage").
ENVIRONMENT = {
    TEMPLATE_URL_PARAMETER: "https://github.com/example/rust-service-template.git",
    TEMPLATE_VERSION_PARAMETER: "0.3.0",
}


def _scaffolder(*args: str | Path, data: Any) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(NODE), str(SCAFFOLDER), *map(str, args)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )


def validate_parameters(
    answer_sets: list[dict[str, Any]], template: Path = TEMPLATE_YAML
) -> list[dict[str, Any]]:
    """For each answer set: `refused`, and `errors` as [{question, rule, message}].

    The last page's repository location is filled in: the rules are the questions'.
    """
    [verdicts] = validate_with_templates(answer_sets, [template])
    return verdicts


def validate_with_templates(
    answer_sets: list[dict[str, Any]], templates: list[Path]
) -> list[list[dict[str, Any]]]:
    """`validate_parameters` for several templates in one Node process: a list per template."""
    data = [{"repoUrl": repo_url(answers), **answers} for answers in answer_sets]
    run = _scaffolder("validate", *templates, data=data)
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    verdicts = json.loads(run.stdout)
    return verdicts if len(templates) > 1 else [verdicts]


def run_templates(
    runs: list[tuple[dict[str, Any], Path]],
    template: Path = TEMPLATE_YAML,
    environment: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each (parameters, output) through Backstage's workflow runner, in one Node process;
    publishing copies the workspace to `output`. `environment` is the backend's
    `scaffolder.defaultEnvironment.parameters`, ENVIRONMENT unless given. Each result holds the
    template's `output` and what the publishing and catalog steps got, or the step's `error`
    and the task's log."""
    data = [
        {
            "parameters": {"repoUrl": repo_url(parameters), **parameters},
            "environment": ENVIRONMENT if environment is None else environment,
            "output": str(output),
        }
        for parameters, output in runs
    ]
    run = _scaffolder("run", template, data=data)
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    return json.loads(run.stdout)
