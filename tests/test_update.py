"""copier update (and cruft update) bring a service generated from an older template version,
and then edited by its team, to the newest version: every edit kept, every template change in.

The template's history is built for each test run in a throwaway repository: the current tree
with three changes undone (reqwest back at 0.12 among them) is tagged 0.0.1, the current tree is
tagged 0.0.2: states before the first release, 0.1.0, whose migration stays a test of its own.
Tests never rely on tags in this checkout. Updating across 0.0.2 runs a migration,
so these updates need --trust (`unsafe=True`).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import copier
import cruft
import pytest
import yaml

from tooling.cargo import cargo, make
from tooling.template_repo import git, snapshot_template

OLD, NEW = "0.0.1", "0.0.2"
CONFLICT_MARKERS = ("<<<<<<<", ">>>>>>>")

# Two changes between the versions, in places a team rarely edits.
NEW_README_SECTION = "## Keep up to date with the template"
NEW_PROFILE_COMMENT = "# Small static binaries for FROM scratch images"
OLD_PROFILE_COMMENT = "# Release profile tuned for size.\n"
NEW_REQWEST = (
    'version = "0.13", default-features = false, features = ["rustls-no-provider", "json"]'
)
OLD_REQWEST = 'version = "0.12", default-features = false, features = ["rustls-tls", "json"]'
TEAM_FEATURE_COMMENT = "# Team: trust the OS roots in the on-prem build."
TEAM_FEATURE = 'os-roots = ["reqwest/rustls-tls-native-roots"]'

TEAM_PARAGRAPH = "Billing owns this service; page #billing-oncall before changing its SLOs."
TEAM_ROUTE_MODULE = (
    '//! Invoice numbering, added by the team.\n\npub const PREFIX: &str = "billing";\n'
)


def undo_template_changes(repo: Path) -> None:
    """Turn the current template into what version 0.0.1 looked like."""
    readme = repo / "template" / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text[: text.index(NEW_README_SECTION)].rstrip("\n") + "\n", encoding="utf-8")
    manifest = repo / "template" / "Cargo.toml"
    text = manifest.read_text(encoding="utf-8")
    start = text.index(NEW_PROFILE_COMMENT)
    end = text.index("[profile.release]")
    manifest.write_text(text[:start] + OLD_PROFILE_COMMENT + text[end:], encoding="utf-8")
    # reqwest is the runtime crate's, and the service's for its tests.
    for with_reqwest in (repo / "template" / "runtime" / "Cargo.toml", manifest):
        text = with_reqwest.read_text(encoding="utf-8")
        assert NEW_REQWEST in text
        # Cargo.lock stays at 0.13: the old state is rendered and updated here, never built.
        with_reqwest.write_text(text.replace(NEW_REQWEST, OLD_REQWEST), encoding="utf-8")


@pytest.fixture(scope="module")
def template_history(tmp_path_factory) -> Path:
    repo = snapshot_template(tmp_path_factory.mktemp("history") / "template")
    current = git(repo, "rev-parse", "HEAD").strip()
    undo_template_changes(repo)
    git(repo, "commit", "--quiet", "--all", "--message", OLD)
    git(repo, "tag", OLD)
    git(repo, "checkout", "--quiet", current, "--", ".")
    git(repo, "commit", "--quiet", "--all", "--message", f"{NEW}: README update section, comment")
    git(repo, "tag", NEW)
    return repo


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", message)


def make_team_edits(project: Path) -> None:
    """What a team does in its first weeks: a module, a dependency and a feature, prose, a
    deletion. (Its Cargo.lock catches up after the update, with `cargo update --workspace`.)"""
    (project / "src" / "invoices.rs").write_text(TEAM_ROUTE_MODULE, encoding="utf-8")
    lib = project / "src" / "lib.rs"
    lib.write_text(lib.read_text().replace("pub mod api;\n", "pub mod api;\npub mod invoices;\n"))

    manifest = project / "Cargo.toml"
    text = manifest.read_text()
    text = text.replace('serde_json = "1"\n', 'serde_json = "1"\nitoa = "1"\n')
    text = text.replace(
        'mimalloc = ["dep:mimalloc"]\n',
        f'mimalloc = ["dep:mimalloc"]\n{TEAM_FEATURE_COMMENT}\n{TEAM_FEATURE}\n',
    )
    manifest.write_text(text)

    readme = project / "README.md"
    readme.write_text(
        readme.read_text().replace("## Configure\n", f"{TEAM_PARAGRAPH}\n\n## Configure\n")
    )

    (project / "tests" / "api" / "startup.rs").unlink()
    tests_main = project / "tests" / "api" / "main.rs"
    tests_main.write_text(tests_main.read_text().replace("mod startup;\n", ""))


def assert_team_edits_kept(project: Path) -> None:
    assert (project / "src" / "invoices.rs").read_text() == TEAM_ROUTE_MODULE
    assert "pub mod invoices;" in (project / "src" / "lib.rs").read_text()
    manifest = (project / "Cargo.toml").read_text()
    assert 'itoa = "1"' in manifest
    assert TEAM_FEATURE_COMMENT in manifest
    assert TEAM_PARAGRAPH in (project / "README.md").read_text()
    assert not (project / "tests" / "api" / "startup.rs").exists()
    assert "mod startup;" not in (project / "tests" / "api" / "main.rs").read_text()


def assert_template_changes_applied(project: Path) -> None:
    assert NEW_README_SECTION in (project / "README.md").read_text()
    manifest = (project / "Cargo.toml").read_text()
    assert NEW_PROFILE_COMMENT in manifest
    assert OLD_PROFILE_COMMENT not in manifest
    assert NEW_REQWEST in (project / "runtime" / "Cargo.toml").read_text()


def leftovers_of_a_bad_merge(project: Path) -> list[str]:
    found = [str(path.relative_to(project)) for path in project.rglob("*.rej")]
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts and "target" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(project)}: {m}" for m in CONFLICT_MARKERS if m in text]
    return found


def generate_with_copier(template: Path, project: Path, answers: dict[str, str]) -> Path:
    copier.run_copy(str(template), project, data=answers, defaults=True, vcs_ref=OLD, quiet=True)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Generate from the template")
    return project


def copier_check_update(project: Path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "copier", "check-update", "--quiet"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    ).returncode


@dataclass
class CopierUpdate:
    project: Path
    check_update_before: int
    check_update_after: int


@pytest.fixture(scope="module")
def copier_update(template_history, tmp_path_factory) -> CopierUpdate:
    """Generate at 0.0.1, make the team's edits, then update to 0.0.2 changing one answer."""
    project = tmp_path_factory.mktemp("copier") / "billing"
    generate_with_copier(template_history, project, {"project_slug": "billing"})
    make_team_edits(project)
    commit_all(project, "Team edits")
    before = copier_check_update(project)
    copier.run_update(
        project, data={"opt_level": "s"}, defaults=True, overwrite=True, quiet=True, unsafe=True
    )
    return CopierUpdate(project, before, copier_check_update(project))


def test_check_update_sees_the_new_version_before_and_none_after(copier_update):
    # copier check-update --quiet exits 2 when a newer version exists.
    assert (copier_update.check_update_before, copier_update.check_update_after) == (2, 0)


def test_copier_update_keeps_edits_applies_changes_and_records_the_version(copier_update):
    project = copier_update.project

    assert leftovers_of_a_bad_merge(project) == []
    assert_team_edits_kept(project)
    assert_template_changes_applied(project)
    assert 'opt-level = "s"' in (project / "Cargo.toml").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["_commit"], answers["opt_level"]) == (NEW, "s")
    assert "UU" not in git(project, "status", "--porcelain")


def test_migration_renamed_the_teams_reqwest_012_feature_and_kept_the_rest(copier_update):
    manifest = (copier_update.project / "Cargo.toml").read_text()

    assert 'os-roots = ["reqwest/rustls-no-provider"]' in manifest
    assert "rustls-tls" not in manifest
    assert TEAM_FEATURE_COMMENT in manifest
    assert 'itoa = "1"' in manifest


def test_update_across_a_migration_refuses_without_trust(template_history, tmp_path):
    project = generate_with_copier(template_history, tmp_path / "svc", {"project_slug": "svc"})
    result = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.slow
def test_updated_service_builds_and_passes_its_tests(copier_update):
    # The one command after an update that changed dependencies: record the team's own
    # additions in the template's lock without upgrading anything else.
    cargo(copier_update.project, "update", "--workspace")
    cargo(copier_update.project, "build", "--locked")
    result = cargo(copier_update.project, "test", "--locked")
    assert " 0 failed" in result.stdout


TEAM_PROFILE_COMMENT = "# Tuned by the team: keep LTO, we measured it.\n"


def generated_with_conflicting_edit(template: Path, project: Path) -> Path:
    """A service whose team rewrote the profile comment that the new version rewrites too."""
    generate_with_copier(template, project, {"project_slug": project.name})
    manifest = project / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace(OLD_PROFILE_COMMENT, TEAM_PROFILE_COMMENT))
    commit_all(project, "Team rewrites the profile comment")
    return project


def test_conflicting_edit_is_reported_and_both_sides_are_kept(template_history, tmp_path):
    project = generated_with_conflicting_edit(template_history, tmp_path / "svc")
    manifest = project / "Cargo.toml"

    copier.run_update(project, defaults=True, overwrite=True, quiet=True, unsafe=True)

    text = manifest.read_text()
    assert all(marker in text for marker in CONFLICT_MARKERS)
    assert TEAM_PROFILE_COMMENT.strip() in text
    assert NEW_PROFILE_COMMENT in text
    # What automation looks for: git sees the file as unmerged.
    assert "UU Cargo.toml" in git(project, "status", "--porcelain")


def make_template_update(project: Path) -> subprocess.CompletedProcess[str]:
    """The generated Makefile's target, which the scheduled template-update workflow runs."""
    return make(
        project,
        "template-update",
        f"COPIER={sys.executable} -m copier",
        "COPIER_FLAGS=--trust",
        check=False,
    )


def test_make_template_update_brings_the_edited_service_current(template_history, tmp_path):
    project = generate_with_copier(template_history, tmp_path / "svc", {"project_slug": "svc"})
    make_team_edits(project)
    commit_all(project, "Team edits")

    result = make_template_update(project)

    assert result.returncode == 0, result.stdout + result.stderr
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == NEW
    assert leftovers_of_a_bad_merge(project) == []
    assert_team_edits_kept(project)
    assert_template_changes_applied(project)


def test_make_template_update_fails_when_copier_refuses_the_update(template_history, tmp_path):
    """The README's update command: without --trust, copier refuses an update that crosses a
    migration (exit 4), and the target fails with it instead of reading as no conflicts."""
    project = generate_with_copier(template_history, tmp_path / "svc", {"project_slug": "svc"})

    result = make(project, "template-update", f"COPIER={sys.executable} -m copier", check=False)

    assert result.returncode != 0
    assert "--trust" in result.stderr
    assert git(project, "status", "--porcelain") == ""


def test_make_template_update_fails_and_names_the_conflicted_files(template_history, tmp_path):
    project = generated_with_conflicting_edit(template_history, tmp_path / "svc")

    result = make_template_update(project)

    assert result.returncode != 0
    assert "the template update left conflicts to resolve by hand" in result.stderr
    assert "Cargo.toml" in result.stderr.splitlines()


def test_cruft_update_keeps_edits_and_applies_changes(template_history, tmp_path):
    project = cruft.create(
        str(template_history),
        output_dir=tmp_path,
        checkout=OLD,
        no_input=True,
        extra_context={"project_slug": "billing-cruft"},
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Generate with cruft")
    make_team_edits(project)
    commit_all(project, "Team edits")

    assert cruft.update(project, skip_apply_ask=True, checkout=NEW) is True

    assert leftovers_of_a_bad_merge(project) == []
    assert_team_edits_kept(project)
    assert_template_changes_applied(project)
