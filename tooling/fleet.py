"""A fleet of services generated at an earlier release, edited by their teams, updated to the
new one.

What a platform team lives through at each release: services generated months apart with
different answers, some with copier and some with cruft, each edited by its team, all updated
to the new version. For every service the simulation records which edits survived, which files
the merge left in conflict (and whose edit met which template change there), and, for some,
whether the updated service passes `make check`. A fleet starts from one release (0.1.0 or
0.2.0); fleets from several share one template history. `scripts/fleet_update.py` runs them and
writes the reports (tooling/fleet_report.py); tests/test_fleet_update.py runs a small fleet from
each release.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tooling.cargo import cargo, make
from tooling.questions import choice_matrix
from tooling.release_history import (
    NEW_VERSION,
    build_release_history,
    release_choices,
)
from tooling.team_edits import CATALOGUE, TeamEdit, choose_edits
from tooling.template_repo import git

CONFLICT_MARKER = re.compile(r"^(<<<<<<<|=======|>>>>>>>)( |$)")
# How a migration's check begins the one line with which it stops an update, changing nothing.
STOPPED = "template update stopped: "
# Every third service is made with cruft, the rest with copier.
CRUFT_EVERY = 3
# `git status --porcelain` codes of paths a merge left unmerged.
UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}
# The README's rule for a conflicting lock: take the template's side, then `cargo update
# --workspace` records the team's own dependencies; so the lock alone does not block a build.
LOCKFILE = "Cargo.lock"
# Advisories need the RustSec database, which is fetched from the network.
OFFLINE_DENY_CHECKS = "DENY_CHECKS=bans licenses sources"

WORDS = ["billing", "ledger", "catalog", "search", "notify", "ingest", "quotes", "audit"]
NAMES = [
    "Billing",
    "Zahlungsverkehr Zürich",
    'Catalog "Core"',
    "Señales de búsqueda",
    "Notifier",
    "Почтовый шлюз",
    "Quotes & Rates",
    "Audit Trail",
]
DESCRIPTIONS = [
    "A Rust HTTP service",
    'Settles "instant" payments',
    r"Reads C:\exports into the ledger",
    "Données de référence pour l'équipe",
]
AUTHORS = ["Platform Team", "Équipe Paiements", "O'Brien & Co", "Team Ω"]


@dataclass
class ServicePlan:
    index: int
    slug: str
    engine: str
    answers: dict[str, Any]
    edits: list[TeamEdit]
    # The release the service is generated at.
    release: str = "0.1.0"


def free_text_answers(rng: random.Random, index: int) -> dict[str, Any]:
    """Names, contacts, ports and budgets as teams answer them, one service in twelve with the
    longest slug allowed (64 characters)."""
    word = rng.choice(WORDS)
    slug = f"{word}-{index:02d}"
    if index % 12 == 1:
        slug = f"{slug}-{'x' * 64}"[:64]
    answers: dict[str, Any] = {
        "project_name": rng.choice(NAMES),
        "project_slug": slug,
        "description": rng.choice(DESCRIPTIONS),
        "author_name": rng.choice(AUTHORS),
        "author_email": f"team+{word}@example.org",
        "rust_version": rng.choice(["1.85", "1.85", "1.88"]),
        "http_port": rng.choice(["8080", "8080", "3000", "9090", "443"]),
        "image_size_budget_kib": rng.choice(["4096", "4096", "8192"]),
    }
    if int(answers["http_port"]) < 1024:
        answers["allow_low_port"] = True
    if rng.random() < 0.5:
        answers["repository_url"] = f"https://git.example.com/{word}/{slug}"
        answers["image_name"] = f"registry.example.com/{word}/{slug}"
    return answers


def plan_fleet(size: int, seed: int, release: str) -> list[ServicePlan]:
    """`size` services cycling through the pairwise matrix of `release`'s choices, with seeded
    free text and edits; every edit of the catalogue that a service of `release` can make is
    made in at least one service it applies to."""
    matrix = choice_matrix(release_choices(release))
    plans = []
    for index in range(size):
        rng = random.Random(f"{seed}/{release}/{index}")
        answers = {**matrix[index % len(matrix)], **free_text_answers(rng, index)}
        engine = "cruft" if index % CRUFT_EVERY == CRUFT_EVERY - 1 else "copier"
        plans.append(ServicePlan(index, answers["project_slug"], engine, answers, [], release))
        plans[-1].edits = choose_edits(rng, answers, release)
    # Every edit is made at least once; one that no check stops, in a service whose update no
    # check stops, so that it is merged.
    merged = [plan for plan in plans if not stopped_by_a_check(plan)]
    for kind in CATALOGUE:
        pool = plans if release in kind.stops_update_from else merged
        if any(isinstance(edit, kind) for plan in pool for edit in plan.edits):
            continue
        takers = [plan for plan in pool if kind.made_at(plan.answers, release)]
        if takers:
            taker = takers[CATALOGUE.index(kind) % len(takers)]
            rng = random.Random(f"{seed}/{release}/{taker.index}/{kind.kind}")
            taker.edits.append(kind.choose(rng, taker.answers))
    return plans


def stopped_by_a_check(plan: ServicePlan) -> bool:
    """An edit of the plan makes a migration's check stop its update (by design)."""
    return any(plan.release in edit.stops_update_from for edit in plan.edits)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def generate(plan: ServicePlan, template: Path, services: Path) -> Path:
    """The service as its team generated it at its plan's release, committed."""
    project = services / plan.slug
    if plan.engine == "copier":
        data = services / f"{plan.slug}.answers.yml"
        data.write_text(yaml.safe_dump(plan.answers, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-m", "copier", "copy", "--quiet", "--defaults"]
        command += ["--vcs-ref", plan.release, "--data-file", str(data), str(template)]
        result = run([*command, str(project)], services)
    else:
        command = [sys.executable, "-m", "cruft", "create", "--no-input", "--checkout"]
        command += [plan.release, "--output-dir", str(services)]
        command += ["--extra-context", json.dumps(plan.answers), str(template)]
        result = run(command, services)
    if result.returncode != 0 or not project.is_dir():
        raise RuntimeError(f"{plan.engine} could not generate {plan.slug}:\n{result.stderr}")
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", f"Generate from the template {plan.release}")
    return project


def make_team_edits(plan: ServicePlan, project: Path) -> dict[str, list[str]]:
    """Apply the plan's edits and commit them; returns the files each edit touched."""
    touched = {edit.kind: edit.apply(project) for edit in plan.edits}
    if any(edit.changes_dependencies for edit in plan.edits):
        # What the team's first build did: record the new dependency in Cargo.lock.
        cargo(project, "update", "--workspace")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Team edits")
    return touched


def update(
    plan: ServicePlan, project: Path, template: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The update each engine's users run, non-interactive, to the new version. Cruft runs no
    migrations: with `template` (a checkout of the new version), cruft services also get the
    release's migration scripts run by hand around `cruft update`, as CHANGELOG asks of them."""
    if plan.engine == "copier":
        # As `make template-update COPIER_FLAGS=--trust` runs it (--trust lets migrations run).
        command = [sys.executable, "-m", "copier", "update", "--quiet", "--defaults"]
        command += ["--skip-answered", "--trust", "--vcs-ref", NEW_VERSION]
        return run(command, project)
    command = [sys.executable, "-m", "cruft", "update", "--skip-apply-ask"]
    command += ["--checkout", NEW_VERSION]
    if template is None:
        return run(command, project)
    before = release_migrations(template, "before", plan.release)
    after = release_migrations(template, "after", plan.release)
    # cruft refuses a dirty tree: what the before-migrations changed is committed first, as
    # CHANGELOG asks of cruft teams (a commit with nothing to commit only fails, harmlessly).
    commit = ["git", "commit", "--quiet", "--all", "--message", "Template migrations"]
    outputs = []
    for step in [*before, commit, command, *after]:
        result = run(step, project)
        outputs.append(result)
        if result.returncode != 0 and step is not commit:
            break
    return subprocess.CompletedProcess(
        [*before, command, *after],
        result.returncode,
        "".join(output.stdout for output in outputs),
        "".join(output.stderr for output in outputs),
    )


def release_number(version: str) -> tuple[int, ...]:
    """`0.2.0` -> (0, 2, 0): this template's releases are plain dotted numbers."""
    return tuple(int(part) for part in version.split("."))


def release_migrations(template: Path, stage: str, release: str) -> list[list[str]]:
    """The commands of copier.yml's `_migrations` for `stage` of an update from `release` to
    NEW_VERSION, as a person runs them: with this Python, from a checkout of the template."""
    config = yaml.safe_load((template / "copier.yml").read_text(encoding="utf-8"))
    commands = []
    for migration in config.get("_migrations", []):
        version = release_number(str(migration["version"]))
        if not release_number(release) < version <= release_number(NEW_VERSION):
            continue
        if f"_stage == '{stage}'" not in migration.get("when", "_stage == 'after'"):
            continue
        commands.append(
            [
                part.replace("{{ _copier_python }}", sys.executable).replace(
                    "{{ _copier_conf.src_path }}", str(template)
                )
                for part in migration["command"]
            ]
        )
    return commands


@dataclass
class Hunk:
    """One conflict: the team's lines and the template's lines for the same place."""

    team: list[str]
    template: list[str]
    # From a .rej file: the template's change was not applied, so no side can be taken.
    rejected: bool = False


def conflict_hunks(text: str) -> list[Hunk]:
    """The conflicts marked in `text`, in order; a marker-like line outside one is content."""
    hunks: list[Hunk] = []
    side: list[str] | None = None
    for line in text.splitlines():
        marker = CONFLICT_MARKER.match(line)
        opened = side is not None and bool(hunks)
        if marker and marker[1] == "<<<<<<<" and side is None:
            hunks.append(Hunk([], []))
            side = hunks[-1].team
        elif marker and marker[1] == "=======" and opened and side is hunks[-1].team:
            side = hunks[-1].template
        elif marker and marker[1] == ">>>>>>>" and opened:
            side = None
        elif side is not None:
            side.append(line)
    return hunks


def reject_hunks(text: str) -> list[Hunk]:
    """A `.rej` file's hunks: what the update wanted to remove and add (the template's side)."""
    hunks = []
    for chunk in text.split("\n@@")[1:]:
        lines = chunk.splitlines()[1:]
        removed = [line[1:] for line in lines if line.startswith("-")]
        added = [line[1:] for line in lines if line.startswith("+")]
        hunks.append(Hunk(removed, added, rejected=True))
    return hunks


def find_conflicts(project: Path) -> dict[str, list[Hunk]]:
    """Files the update left unmerged, with conflict markers, or with a `.rej` file."""
    entries = git(project, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    conflicts: dict[str, list[Hunk]] = {}
    for entry in filter(None, entries):
        code, path = entry[:2], entry[3:]
        if code in UNMERGED:
            conflicts.setdefault(path, [])
        if code == "??" and path.endswith(".rej"):
            text = (project / path).read_text(encoding="utf-8", errors="replace")
            conflicts.setdefault(path.removesuffix(".rej"), []).extend(reject_hunks(text))
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for path in sorted(set(filter(None, listed.split("\0")))):
        file = project / path
        if file.is_file() and not file.is_symlink():
            hunks = conflict_hunks(file.read_text(encoding="utf-8", errors="replace"))
            if hunks:
                conflicts.setdefault(path, []).extend(hunks)
    return conflicts


@dataclass
class EditResult:
    kind: str
    details: dict[str, Any]
    files: list[str]
    # kept: survived, and no conflict holds its lines; conflict: survived on the team's side
    # of a conflict; lost: gone even on the team's side.
    outcome: str
    # File -> the conflicts in it (numbered from 0) that hold this edit's lines: the template
    # changed the same place. An empty list: the file is in conflict as a whole (.rej, unmerged).
    conflict_hunks: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class BuildResult:
    passed: bool
    seconds: float
    lock_taken_from_template: bool
    failed_step: str | None = None
    output_tail: str = ""


@dataclass
class ServiceResult:
    slug: str
    engine: str
    answers: dict[str, Any]
    project: Path
    update_exit_code: int
    update_seconds: float
    edits: list[EditResult]
    conflicts: dict[str, list[Hunk]]
    update_output: str = ""
    build: BuildResult | None = None

    @property
    def stopped(self) -> str | None:
        """The line a migration's check stopped the update with, if it did."""
        if self.update_exit_code == 0:
            return None
        lines = self.update_output.splitlines()
        return next((line for line in lines if line.startswith(STOPPED)), None)

    def conflict_edits(self, file: str) -> list[str]:
        """The team edits whose lines the conflict in `file` holds; failing that, those that
        touched the file (a lock the team's dependency changed holds no line the team wrote)."""
        held = [edit.kind for edit in self.edits if file in edit.conflict_hunks]
        return held or [f"{edit.kind} (touched)" for edit in self.edits if file in edit.files]

    def blocking_conflicts(self) -> list[str]:
        return sorted(file for file in self.conflicts if file != LOCKFILE)


def resolve_conflicts(text: str, side: str, flipped: frozenset[int] = frozenset()) -> str:
    """`text` with every conflict replaced by one side's lines ("team" or "template"); the
    conflicts numbered in `flipped` (counting from 0) take the other side."""
    other = {"team": "template", "template": "team"}
    kept, current, index = [], "both", -1
    for line in text.splitlines(keepends=True):
        marker = CONFLICT_MARKER.match(line)
        if marker and marker[1] == "<<<<<<<" and current == "both":
            index += 1
            current = "team"
        elif marker and marker[1] == "=======" and current == "team":
            current = "template"
        elif marker and marker[1] == ">>>>>>>" and current != "both":
            current = "both"
        elif current == "both" or current == (other[side] if index in flipped else side):
            kept.append(line)
    return "".join(kept)


def survives(edit: TeamEdit, project: Path) -> bool:
    """The edit's own check; a file it cannot read any more counts as a lost edit."""
    try:
        return edit.survived(project)
    except Exception:  # a parse error or a missing key: what the team wrote is not there
        return False


def inspect(
    plan: ServicePlan,
    project: Path,
    touched: dict[str, list[str]],
    conflicts: dict[str, list[Hunk]],
) -> list[EditResult]:
    """Each edit's fate. In a copy of the service with every conflict resolved to the team's
    side the edit must still be there (else it is lost); resolving one of its files to the
    template's side instead shows whether that file's conflict holds the edit's lines."""
    with tempfile.TemporaryDirectory(prefix="team-view-") as scratch:
        return judge_edits(plan, project, touched, conflicts, Path(scratch) / plan.slug)


def judge_edits(
    plan: ServicePlan,
    project: Path,
    touched: dict[str, list[str]],
    conflicts: dict[str, list[Hunk]],
    team_view: Path,
) -> list[EditResult]:
    shutil.copytree(
        project, team_view, symlinks=True, ignore=shutil.ignore_patterns(".git", "target")
    )
    for file, hunks in conflicts.items():
        path = team_view / file
        if hunks and path.is_file():
            text = resolve_conflicts(path.read_text(encoding="utf-8"), "team")
            path.write_text(text, encoding="utf-8")
    results = []
    for edit in plan.edits:
        files = touched[edit.kind]
        if not survives(edit, team_view):
            results.append(EditResult(edit.kind, edit.details(), files, "lost"))
            continue
        held: dict[str, list[int]] = {}
        for file in sorted(set(files) & set(conflicts)):
            path, hunks = team_view / file, conflicts[file]
            if not hunks or any(hunk.rejected for hunk in hunks) or not path.is_file():
                # Unmerged without markers, or a .rej file: no side to take, so the edit
                # that touched the file is part of its conflict.
                held[file] = []
                continue
            team_text = path.read_text(encoding="utf-8")
            original = (project / file).read_text(encoding="utf-8")
            for index in range(len(hunks)):
                flipped = resolve_conflicts(original, "team", frozenset({index}))
                path.write_text(flipped, encoding="utf-8")
                if not survives(edit, team_view):
                    held.setdefault(file, []).append(index)
            path.write_text(team_text, encoding="utf-8")
        outcome = "conflict" if held else "kept"
        results.append(EditResult(edit.kind, edit.details(), files, outcome, held))
    return results


def take_template_side(path: Path) -> None:
    """Resolve every conflict in `path` with the template's (the update's) lines."""
    text = resolve_conflicts(path.read_text(encoding="utf-8"), "template")
    path.write_text(text, encoding="utf-8")


def check_build(service: ServiceResult, plan: ServicePlan) -> BuildResult:
    """What the team does after a clean update: `cargo update --workspace` where it added
    dependencies (after taking the template's lock on a lock conflict), then `make check`."""
    start = time.monotonic()
    project = service.project
    lock_taken = LOCKFILE in service.conflicts
    if lock_taken:
        take_template_side(project / LOCKFILE)
    steps: list[tuple[str, Callable[[], subprocess.CompletedProcess[str]]]] = []
    if any(edit.changes_dependencies for edit in plan.edits):
        steps.append(("cargo update", lambda: cargo(project, "update", "--workspace", check=False)))
    steps.append(("make check", lambda: make(project, "check", OFFLINE_DENY_CHECKS, check=False)))
    for name, step in steps:
        result = step()
        if result.returncode != 0:
            output = (result.stdout + result.stderr).splitlines()
            return BuildResult(
                False,
                time.monotonic() - start,
                lock_taken,
                failed_make_target(result.stderr) or name,
                "\n".join(output[-40:]),
            )
    return BuildResult(True, time.monotonic() - start, lock_taken)


def failed_make_target(stderr: str) -> str | None:
    """`make check` names the target that failed: `make: *** [Makefile:24: lint] Error 101`."""
    for line in stderr.splitlines():
        if line.startswith("make: ***") and "Makefile:" in line:
            return "make " + line.split("Makefile:", 1)[1].split(":", 1)[1].split("]")[0].strip()
    return None


@dataclass
class FleetResult:
    seed: int
    template: Path
    services: list[ServiceResult]
    plans: list[ServicePlan]
    phase_seconds: dict[str, float] = field(default_factory=dict)
    old_version: str = "0.1.0"
    new_version: str = NEW_VERSION


def run_fleet(
    workdir: Path,
    size: int,
    seed: int,
    cargo_checks: int = 0,
    progress: Callable[[str], None] = lambda message: None,
    release: str = "0.1.0",
    template: Path | None = None,
) -> FleetResult:
    """Generate `size` services at `release` in `workdir`, edit them and update them;
    `make check` on `cargo_checks`. `template` is a history from build_release_history, which
    fleets from several releases share; without it one is built in `workdir`."""
    phases: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.monotonic()
        value = work()
        phases[name] = phases.get(name, 0.0) + time.monotonic() - start
        return value

    if template is None:
        template = timed("template history", lambda: build_release_history(workdir / "template"))
    services_dir = workdir / f"services-{release}"
    services_dir.mkdir()
    plans = plan_fleet(size, seed, release)
    projects, touched = {}, {}
    for plan in plans:
        progress(f"generate {plan.slug} ({plan.engine})")
        projects[plan.slug] = timed(
            f"generate at {release}", lambda p=plan: generate(p, template, services_dir)
        )
        touched[plan.slug] = timed(
            "team edits", lambda p=plan: make_team_edits(p, projects[p.slug])
        )
    results = []
    for plan in plans:
        progress(f"update {plan.slug}")
        project = projects[plan.slug]
        start = time.monotonic()
        outcome = update(plan, project, template)
        seconds = time.monotonic() - start
        phases["update"] = phases.get("update", 0.0) + seconds
        conflicts = find_conflicts(project)
        edits = timed(
            "survival checks",
            lambda p=plan, d=project, c=conflicts: inspect(p, d, touched[p.slug], c),
        )
        output = (outcome.stdout + outcome.stderr)[-4000:]
        results.append(
            ServiceResult(
                plan.slug,
                plan.engine,
                plan.answers,
                project,
                outcome.returncode,
                seconds,
                edits,
                conflicts,
                output,
            )
        )
    fleet = FleetResult(seed, template, results, plans, phases, release)
    if cargo_checks:
        check_builds(fleet, cargo_checks, progress)
    return fleet


def build_candidates(fleet: FleetResult) -> list[ServiceResult]:
    """Services a team could build right after the update (no conflict but the lock's), the
    ones with the most edits first."""
    ready = [
        service
        for service in fleet.services
        if not service.blocking_conflicts() and service.update_exit_code == 0
    ]
    return sorted(ready, key=lambda service: -len(service.edits))


def check_builds(
    fleet: FleetResult, count: int, progress: Callable[[str], None] = lambda message: None
) -> None:
    plans = {plan.slug: plan for plan in fleet.plans}
    start = time.monotonic()
    for service in build_candidates(fleet)[:count]:
        progress(f"make check {service.slug}")
        service.build = check_build(service, plans[service.slug])
    fleet.phase_seconds["make check"] = time.monotonic() - start
