"""The template repository's own workflows: as hardened as the generated ones, checked by the
same linters, and running the commands the maintainer's guide gives; the release's notes come
from CHANGELOG.md through scripts/release_notes.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.workflow_checks import (
    action_pins,
    hardening_gaps,
    linter_findings,
    workflows,
    zizmor,
)
from tooling.questions import REPO_ROOT

ROOT_WORKFLOWS = workflows(REPO_ROOT)
RELEASE_NOTES = REPO_ROOT / "scripts" / "release_notes.py"


def load(name: str) -> dict:
    return yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def step_runs(job: dict) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def test_repository_has_its_ci_full_suite_and_release_workflows():
    assert [path.name for path in ROOT_WORKFLOWS] == ["ci.yml", "full-suite.yml", "release.yml"]


def test_repository_workflows_pass_actionlint_zizmor_and_schema():
    assert linter_findings(*ROOT_WORKFLOWS) == []


@pytest.mark.parametrize("path", ROOT_WORKFLOWS, ids=lambda path: path.name)
def test_repository_workflows_grant_nothing_by_default(path):
    assert hardening_gaps(path) == []


def test_repository_actions_share_one_pin_each_with_the_generated_workflows(render):
    ours = action_pins(*ROOT_WORKFLOWS)
    generated = action_pins(*workflows(render({"ci": "github", "template_updates": "workflow"})))

    assert {action: refs for action, refs in ours.items() if len(refs) > 1} == {}
    # An action both use is pinned alike, so Renovate moves the two together.
    shared = set(ours) & set(generated)
    assert "actions/checkout" in shared
    assert {action: ours[action] for action in shared} == {
        action: generated[action] for action in shared
    }


def test_pull_requests_get_the_lint_and_the_quick_tests():
    ci = load("ci.yml")

    assert "pull_request" in ci[True]
    assert step_runs(ci["jobs"]["lint"])[-2:] == ["ruff check .", "ruff format --check ."]
    (tests,) = step_runs(ci["jobs"]["quick-tests"])
    assert tests.endswith('bash scripts/test -m "not slow"')


def test_full_suite_runs_nightly_on_demand_and_for_a_release():
    suite = load("full-suite.yml")

    assert set(suite[True]) == {"schedule", "workflow_dispatch", "workflow_call"}
    (tests,) = step_runs(suite["jobs"]["full-suite"])
    assert tests.endswith("bash scripts/test")
    release = load("release.yml")
    assert release["jobs"]["full-suite"]["uses"] == "./.github/workflows/full-suite.yml"


def test_release_publishes_only_after_its_notes_the_full_suite_and_the_fleet():
    release = load("release.yml")
    jobs = release["jobs"]

    assert list(release[True]) == ["push"]
    assert list(release[True]["push"]) == ["tags"]
    assert jobs["publish"]["needs"] == ["notes", "full-suite", "fleet"]
    assert jobs["publish"]["permissions"] == {"contents": "write"}
    # Only the job that publishes may write.
    assert [name for name, job in jobs.items() if "write" in job["permissions"].values()] == [
        "publish"
    ]
    assert any("scripts/fleet_update.py" in run for run in step_runs(jobs["fleet"]))
    (publish,) = step_runs(jobs["publish"])
    assert "--notes-file release-notes.md" in publish


def notes_step(tmp_path: Path, changelog: str, tag: str) -> subprocess.CompletedProcess[str]:
    """The release workflow's notes step, run as written in a checkout holding `changelog`."""
    (step,) = step_runs(load("release.yml")["jobs"]["notes"])
    (tmp_path / "scripts").mkdir()
    shutil.copy(RELEASE_NOTES, tmp_path / "scripts")
    (tmp_path / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    return subprocess.run(
        ["bash", "-e", "-c", step],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TAG": tag},
    )


CHANGELOG = """# Changelog

Intro.

## 0.3.0 (2026-12-20)

Three things.

- one

## 0.2.0 (2026-11-29)

Two things.
"""


def test_release_notes_are_the_tags_changelog_section(tmp_path):
    ran = notes_step(tmp_path, CHANGELOG, "0.3.0")

    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "release-notes.md").read_text() == "Three things.\n\n- one\n"


def test_release_notes_of_this_repository_hold_each_release_and_only_it():
    def notes(version: str) -> str:
        return subprocess.run(
            [sys.executable, RELEASE_NOTES, version], capture_output=True, text=True, check=True
        ).stdout

    assert notes("0.2.0").startswith("A service runtime that survives hostile clients")
    assert "## 0.1.0" not in notes("0.2.0")
    assert notes("0.1.0").strip()


@pytest.mark.parametrize(
    ("changelog", "tag", "reason"),
    [
        (CHANGELOG.replace("## 0.3.0", "## Unreleased"), "0.3.0", "has no '## 0.3.0' section"),
        (CHANGELOG, "v0.3.0", "not a plain PEP 440 version"),
        (CHANGELOG.replace("Three things.\n\n- one\n", ""), "0.3.0", "section is empty"),
        # A heading that only starts with the version is another release's.
        (CHANGELOG.replace("## 0.3.0", "## 0.3.0rc1"), "0.3.0", "has no '## 0.3.0' section"),
    ],
    ids=["still-unreleased", "v-prefix", "empty", "prerelease-only"],
)
def test_control_release_stops_with_one_line_when_notes_are_missing(
    tmp_path, changelog, tag, reason
):
    ran = notes_step(tmp_path, changelog, tag)

    assert ran.returncode == 1
    assert len(ran.stderr.splitlines()) == 1
    assert reason in ran.stderr


def test_control_linters_refuse_a_root_workflow_that_keeps_credentials(tmp_path):
    text = (REPO_ROOT / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace("persist-credentials: false", "persist-credentials: true"))

    assert "artipacked" in zizmor(broken).stdout
    assert "job lint keeps the checkout's credentials" in hardening_gaps(broken)
