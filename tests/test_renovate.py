"""Rung 10 for updates: Renovate's own code (the pinned npm package, on Node 24) takes services
generated at 0.1.0, 0.2.0 and 0.3.0, edited by their teams, to this release, and a service of
this release to a later one that changes only the runtime crate, with the hosted app's
settings.

tooling/renovate/update.mjs runs what a Renovate runner runs for one repository: the service's
renovate.json over Renovate's defaults and the runner's settings, the copier manager's
extraction and lookup of the template's tags, its file update and artifact step (`copier update`
from a virtual environment holding only copier, as Renovate installs it), and postUpgradeTasks.
The files Renovate would commit are committed to a branch of the service and checked there.

Runner settings: SELF_HOSTED is what the README asks of a self-hosted runner (allowScripts, the
`make template-lock` post-upgrade task); HOSTED is Renovate's defaults, which the hosted app runs.
Controls: without the repository's `ignoreScripts: false` a runner that allows scripts still
passes no --trust; a team edit the template's next release changes too is reported by Renovate
and by `make check`, not committed silently; an update that did not run fails `make check`.
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tooling.accepted_conflicts import ACCEPTED_CONFLICTS
from tooling.cargo import cargo, make
from tooling.fleet import OFFLINE_DENY_CHECKS, find_conflicts
from tooling.release_history import NEW_VERSION, build_release_history
from tooling.renovate import HOSTED, SELF_HOSTED, RenovateBranch, commit_branch, renovate_update
from tooling.team_edits import (
    CATALOGUE,
    ApiHandler,
    DependencyFeature,
    ReadmeSections,
    TeamEdit,
    TeamTest,
)
from tooling.template_repo import git

pytestmark = pytest.mark.slow

UNSAFE = "Template uses potentially unsafe feature: migrations"
# CHANGELOG's step for a service older than 0.3.0 whose runner allows scripts: the line 0.3.0's
# renovate.json has, in the same place, so the update merges it as a change both sides made.
EXTENDS_LINE = '  "extends": ["config:recommended"],\n'
IGNORE_SCRIPTS_LINE = '  "ignoreScripts": false,\n'
# A release after this one, for the checks of services made at this one: with a migration of
# its own, or with none.
LATER_VERSION = "0.4.1"


ANSWERS = {"project_slug": "svc", "ci": "gitlab", "template_updates": "renovate"}


def natural_edits(version: str) -> list[TeamEdit]:
    """Every edit of the fleet's catalogue a service of `version` invites, but those that stop
    the update from it with one line (tests/test_migrations.py) and those whose conflict the
    fleet accepts with its cause (tooling/accepted_conflicts.py)."""
    rng = random.Random(f"renovate/{version}")
    accepted = {kind for _, kind in ACCEPTED_CONFLICTS}
    return [
        edit.choose(rng, ANSWERS)
        for edit in CATALOGUE
        if edit.made_at(ANSWERS, version)
        and version not in edit.stops_update_from
        and edit.kind not in accepted
    ]


@dataclass
class Service:
    path: Path
    edits: list[TeamEdit]
    branches: list[RenovateBranch]

    @property
    def branch(self) -> RenovateBranch:
        assert len(self.branches) == 1, [branch.name for branch in self.branches]
        return self.branches[0]


def generate(template: Path, version: str, destination: Path) -> Path:
    """A service generated at `version` from the template's git URL, committed on `main`."""
    url = f"git+{template.as_uri()}"
    command = [sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--trust"]
    command += ["--vcs-ref", version, "--data", f"project_slug={destination.name}"]
    command += ["--data", f"ci={ANSWERS['ci']}", url, str(destination)]
    subprocess.run(command, check=True, capture_output=True)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--message", f"Generate from the template {version}")
    return destination


def commit_edits(service: Path, edits: list[TeamEdit], ignore_scripts: bool) -> None:
    for edit in edits:
        edit.apply(service)
    if any(edit.changes_dependencies for edit in edits):
        cargo(service, "update", "--workspace")
    if ignore_scripts:
        renovate_json = service / "renovate.json"
        text = renovate_json.read_text(encoding="utf-8")
        assert IGNORE_SCRIPTS_LINE not in text
        renovate_json.write_text(text.replace(EXTENDS_LINE, EXTENDS_LINE + IGNORE_SCRIPTS_LINE))
    git(service, "add", "--all")
    git(service, "commit", "--quiet", "--allow-empty", "--message", "Team edits")


def renovate(
    template: Path,
    version: str,
    workdir: Path,
    runner: dict,
    edits: list[TeamEdit],
    ignore_scripts: bool,
) -> Service:
    service = generate(template, version, workdir / "svc")
    commit_edits(service, edits, ignore_scripts)
    branches = renovate_update(service, workdir / "renovate", runner)
    for branch in branches:
        commit_branch(service, branch)
    return Service(service, edits, branches)


def answers(service: Path) -> dict:
    return yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))


def template_state(service: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "template-state"],
        cwd=service,
        capture_output=True,
        text=True,
        check=False,
    )


def add_release(template: Path, version: str, readme_title: str, migration: bool) -> None:
    """Commit and tag a release on top of the history: a new README title and, if asked, a
    migration (which makes copier ask for --trust)."""
    if migration:
        config = template / "copier.yml"
        text = config.read_text(encoding="utf-8")
        entry = (
            f'  - version: "{version}"\n'
            '    command: ["{{ _copier_python }}", "-c", "pass"]\n'
            "    when: \"{{ _stage == 'after' }}\"\n"
        )
        config.write_text(text.replace("_migrations:\n", "_migrations:\n" + entry, 1))
    readme = template / "template" / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    # The title: the first line the README renders (Jinja macros stand before it).
    [title] = [index for index, line in enumerate(lines) if line.startswith("# {{")][:1]
    lines[title] = readme_title + "\n"
    readme.write_text("".join(lines), encoding="utf-8")
    git(template, "commit", "--quiet", "--all", "--message", f"{version}: a migration")
    git(template, "tag", version)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release_history(tmp_path_factory.mktemp("renovate-history") / "template")


def later_history(history: Path, destination: Path, migration: bool) -> Path:
    """A clone of `history` with a release after this one."""
    subprocess.run(["git", "clone", "--quiet", str(history), str(destination)], check=True)
    git(destination, "checkout", "--quiet", "-B", "releases", NEW_VERSION)
    title = "# {{ markdown(cookiecutter.project_name) }} (service)"
    add_release(destination, LATER_VERSION, title, migration)
    return destination


@pytest.fixture(scope="module")
def later_with_migration(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return later_history(history, tmp_path_factory.mktemp("later-migration") / "template", True)


@pytest.fixture(scope="module")
def later_without_migration(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return later_history(history, tmp_path_factory.mktemp("later-plain") / "template", False)


@pytest.fixture(scope="module", params=["0.1.0", "0.2.0", "0.3.0"])
def self_hosted(
    request: pytest.FixtureRequest, history: Path, tmp_path_factory: pytest.TempPathFactory
) -> Service:
    version = request.param
    workdir = tmp_path_factory.mktemp(f"self-hosted-{version}")
    # 0.3.0's renovate.json has `ignoreScripts: false` already; older ones get it by hand.
    by_hand = version in ("0.1.0", "0.2.0")
    return renovate(history, version, workdir, SELF_HOSTED, natural_edits(version), by_hand)


def test_self_hosted_renovate_applies_the_release_with_no_problem(self_hosted):
    branch = self_hosted.branch
    assert branch.new_value == NEW_VERSION
    assert branch.artifact_errors == []
    assert answers(self_hosted.path)["_commit"] == NEW_VERSION
    assert template_state(self_hosted.path).returncode == 0


def test_self_hosted_renovate_keeps_every_edit_and_leaves_no_marker(self_hosted):
    assert find_conflicts(self_hosted.path) == {}
    lost = [edit.kind for edit in self_hosted.edits if not edit.survived(self_hosted.path)]
    assert lost == []


def test_the_service_renovate_updated_passes_make_check(self_hosted):
    result = make(self_hosted.path, "check", OFFLINE_DENY_CHECKS, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.3.0"])
def test_the_hosted_app_cannot_apply_a_release_with_migrations_and_says_so(
    history, tmp_path, version
):
    # Each crosses a migration (0.2.0's, 0.3.0's, 0.4.0's): copier refuses without --trust, and
    # Renovate reports an artifact problem (its renovate/artifacts check goes red) on a pull
    # request whose only change is its own `#copier updated` line.
    service = renovate(history, version, tmp_path, HOSTED, [], False)
    branch = service.branch
    assert [file for file, message in branch.artifact_errors if UNSAFE in message] == [
        ".copier-answers.yml"
    ]
    assert list(branch.files) == [".copier-answers.yml"]
    assert branch.files[".copier-answers.yml"].endswith("\n#copier updated")
    assert answers(service.path)["_commit"] == version


def test_the_hosted_app_applies_a_release_without_migrations(later_without_migration, tmp_path):
    # Copier asks for --trust only when the update crosses a migration.
    edits: list[TeamEdit] = [DependencyFeature("itoa", "1", "team-itoa", on_by_default=True)]
    service = renovate(later_without_migration, NEW_VERSION, tmp_path, HOSTED, edits, False)
    assert service.branch.artifact_errors == []
    assert answers(service.path)["_commit"] == LATER_VERSION
    assert find_conflicts(service.path) == {}
    assert [edit.kind for edit in edits if not edit.survived(service.path)] == []
    assert template_state(service.path).returncode == 0


def test_without_the_repository_setting_no_trust_is_passed(history, tmp_path):
    service = renovate(history, "0.1.0", tmp_path, SELF_HOSTED, [], False)
    assert any(UNSAFE in message for _, message in service.branch.artifact_errors)
    assert answers(service.path)["_commit"] == "0.1.0"


def test_an_update_the_hosted_app_could_not_run_fails_make_check(later_with_migration, tmp_path):
    service = renovate(later_with_migration, NEW_VERSION, tmp_path, HOSTED, [], False)
    branch = service.branch
    assert branch.new_value == LATER_VERSION
    assert any(UNSAFE in message for _, message in branch.artifact_errors)
    assert any("make template-update COPIER_FLAGS=--trust" in note for note in branch.pr_body_notes)
    result = template_state(service.path)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0].startswith("the template update did not run")


class RetitledReadme(TeamEdit):
    """A team's own README title, on the line the later release changes too."""

    kind = "retitled_readme"

    def apply(self, project: Path) -> list[str]:
        readme = project / "README.md"
        lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
        readme.write_text("# Our service\n" + "".join(lines[1:]), encoding="utf-8")
        return ["README.md"]


def test_a_conflict_is_reported_by_renovate_and_fails_make_check(later_without_migration, tmp_path):
    service = renovate(
        later_without_migration, NEW_VERSION, tmp_path, SELF_HOSTED, [RetitledReadme()], False
    )
    branch = service.branch
    assert branch.new_value == LATER_VERSION
    problems = [message for _, message in branch.artifact_errors]
    assert any("merge conflicts" in message and "README.md" in message for message in problems)
    assert "README.md" in find_conflicts(service.path)
    result = template_state(service.path)
    assert result.returncode != 0
    assert "README.md" in result.stderr.splitlines()[0]


RUNTIME_RELEASE_VERSION = "0.1.1"


@pytest.fixture(scope="module")
def runtime_release(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of `history` with a release after this one that changes only the runtime crate:
    its version, its lock entry and a line of its code."""
    destination = tmp_path_factory.mktemp("runtime-release") / "template"
    subprocess.run(["git", "clone", "--quiet", str(history), str(destination)], check=True)
    git(destination, "checkout", "--quiet", "-B", "releases", NEW_VERSION)
    tree = destination / "template"
    edits = [
        ("runtime/Cargo.toml", 'version = "0.1.0"', f'version = "{RUNTIME_RELEASE_VERSION}"'),
        (
            "Cargo.lock",
            'name = "service-runtime"\nversion = "0.1.0"',
            f'name = "service-runtime"\nversion = "{RUNTIME_RELEASE_VERSION}"',
        ),
        (
            "runtime/src/healthcheck.rs",
            "/// How long the whole check may take.",
            "/// How long the whole check may take, connection included.",
        ),
    ]
    for relative, old, new in edits:
        path = tree / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, (relative, old)
        path.write_text(text.replace(old, new), encoding="utf-8")
    git(destination, "commit", "--quiet", "--all", "--message", "runtime 0.1.1 only")
    git(destination, "tag", LATER_VERSION)
    return destination


def test_the_hosted_app_applies_a_runtime_only_release_with_team_edits_kept(
    runtime_release, tmp_path
):
    """The runtime is a folder of the template's: its release merges with no conflict whatever
    the team did in its own files, needs no --trust, and the service builds and passes."""
    rng = random.Random("runtime-release")
    edits = [
        kind.choose(rng, ANSWERS)
        for kind in (ApiHandler, DependencyFeature, ReadmeSections, TeamTest)
    ]
    service = renovate(runtime_release, NEW_VERSION, tmp_path, HOSTED, edits, False)

    assert service.branch.artifact_errors == []
    assert answers(service.path)["_commit"] == LATER_VERSION
    assert find_conflicts(service.path) == {}
    assert [edit.kind for edit in edits if not edit.survived(service.path)] == []
    runtime = (service.path / "runtime" / "Cargo.toml").read_text(encoding="utf-8")
    assert f'version = "{RUNTIME_RELEASE_VERSION}"' in runtime
    changed = set(service.branch.files)
    assert changed <= {".copier-answers.yml", "Cargo.lock", "runtime/Cargo.toml"} | {
        "runtime/src/healthcheck.rs"
    }
    result = make(service.path, "check", OFFLINE_DENY_CHECKS, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
