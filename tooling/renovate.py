"""Renovate's own code updating a generated service's template (tooling/renovate/update.mjs).

The driver runs the pinned `renovate` npm package on Node 24, as a Renovate runner would: the
service's renovate.json over Renovate's defaults and the runner's settings, the copier
manager's extraction, lookup, file update and artifact step (`copier update`), then
postUpgradeTasks. The copier it runs is the one on PATH, here a virtual environment holding
only copier and its own dependencies, as Renovate installs it. Renovate would commit the files
to a branch; `commit_branch` does that in the service's repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.copier_only import copier_only_bin
from tooling.questions import REPO_ROOT
from tooling.template_repo import git

RENOVATE_DIR = REPO_ROOT / "tooling" / "renovate"
NODE = RENOVATE_DIR / "node_modules" / ".bin" / "node"

# The hosted Renovate app (and any runner on Renovate's defaults): no scripts, so copier never
# gets --trust, and no post-upgrade commands.
HOSTED: dict[str, Any] = {}
# A self-hosted runner set up as the README says: scripts allowed, and the post-upgrade task
# that re-locks a Cargo.lock the update left in conflict.
SELF_HOSTED: dict[str, Any] = {
    "allowScripts": True,
    "allowedCommands": ["^make template-lock$"],
    "packageRules": [
        {
            "matchManagers": ["copier"],
            "postUpgradeTasks": {
                "commands": ["make template-lock"],
                "fileFilters": ["Cargo.lock"],
                "executionMode": "branch",
            },
        }
    ],
}


@dataclass
class RenovateBranch:
    name: str
    title: str
    current_value: str
    new_value: str
    pr_body_notes: list[str]
    # path -> contents (None: deleted), as Renovate would commit them.
    files: dict[str, str | None]
    # What Renovate posts as "Artifact update problem": (file, message).
    artifact_errors: list[tuple[str, str]]


def renovate_update(service: Path, workdir: Path, runner: dict[str, Any]) -> list[RenovateBranch]:
    """The branches Renovate proposes for `service` (a git repository on `main`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = {"repository": service.resolve().as_uri(), "workDir": str(workdir), "global": runner}
    env = dict(os.environ)
    env["PATH"] = f"{copier_only_bin()}{os.pathsep}{env['PATH']}"
    env["LOG_LEVEL"] = "warn"
    result = subprocess.run(
        [str(NODE), str(RENOVATE_DIR / "update.mjs"), json.dumps(settings)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"Renovate's driver failed:\n{result.stderr[-4000:]}")
    output = json.loads(result.stdout.splitlines()[-1])
    return [
        RenovateBranch(
            branch["branchName"],
            branch["prTitle"],
            branch["upgrades"][0]["currentValue"],
            branch["upgrades"][0]["newValue"],
            [note for upgrade in branch["upgrades"] for note in upgrade["prBodyNotes"]],
            {path: file["contents"] for path, file in branch["files"].items()},
            [(error["file"], error["message"]) for error in branch["artifactErrors"]],
        )
        for branch in output["branches"]
    ]


def commit_branch(service: Path, branch: RenovateBranch) -> None:
    """Check out Renovate's branch in `service`: its files committed on top of main."""
    git(service, "checkout", "--quiet", "-B", branch.name, "main")
    for path, contents in branch.files.items():
        target = service / path
        if contents is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(contents, encoding="utf-8")
    git(service, "add", "--all")
    git(service, "commit", "--quiet", "--allow-empty", "--message", branch.title)
