"""Rung 8 for a fleet: services generated at each earlier release (0.1.0, 0.2.0) with varied
answers, some by copier and some by cruft, edited by their teams as that release invited, take
the new version (this working tree) with no team edit lost and only the conflicts
tooling/accepted_conflicts.py lists; a service the update left clean passes `make check`.

The fleets are small here (the benchmark-sized run is `scripts/fleet_update.py`) and share one
template history and the cargo target; each still makes every edit its release invites at
least once. Controls: every survival check fails on a service without its edit, a reverted
edit is reported lost, and `make check` fails on a service whose conflicts are left unresolved.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import tomlkit
import yaml

from tooling.accepted_conflicts import ACCEPTED_CONFLICTS
from tooling.cargo import cargo, make
from tooling.fleet import (
    OFFLINE_DENY_CHECKS,
    FleetResult,
    ServicePlan,
    ServiceResult,
    build_candidates,
    check_build,
    conflict_hunks,
    find_conflicts,
    generate,
    inspect,
    resolve_conflicts,
    run_fleet,
    stopped_by_a_check,
    update,
)
from tooling.fleet_report import observed_conflicts, to_json, to_markdown
from tooling.release_history import NEW_VERSION, SOURCE_RELEASES, build_release_history
from tooling.team_edits import (
    CATALOGUE,
    SETTINGS,
    ApiHandler,
    CiStep,
    ConfigDefault,
    ConfigSetting,
    DeletedExampleTest,
    DenyException,
    DependencyFeature,
    ImageLabel,
    ReadmeSections,
    RenovateRule,
    RouteModule,
    RoutesHandler,
    TeamEdit,
    TeamTest,
)
from tooling.template_repo import git

FLEET_SIZE = 6
SEED = 19


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's releases and this tree as the next one, shared by both fleets."""
    return build_release_history(tmp_path_factory.mktemp("history") / "template")


@pytest.fixture(scope="module", params=SOURCE_RELEASES, ids=lambda release: f"from-{release}")
def fleet(request, history, tmp_path_factory) -> FleetResult:
    workdir = tmp_path_factory.mktemp(f"fleet-{request.param}")
    return run_fleet(workdir, FLEET_SIZE, SEED, release=request.param, template=history)


def plan_of(fleet: FleetResult, slug: str) -> ServicePlan:
    return next(plan for plan in fleet.plans if plan.slug == slug)


def updated_by_copier(
    fleet: FleetResult, clean: bool = False, without: str | None = None
) -> ServiceResult:
    """A copier service the update went through (not one a check stopped), without
    conflicts if `clean`, and without the edit of kind `without`."""
    return next(
        s
        for s in fleet.services
        if s.engine == "copier"
        and s.update_exit_code == 0
        and not (clean and s.conflicts)
        and without not in {edit.kind for edit in s.edits}
    )


def test_the_fleet_uses_both_engines_and_every_edit_of_the_catalogue(fleet):
    assert {service.engine for service in fleet.services} == {"copier", "cruft"}
    applied = {edit.kind for service in fleet.services for edit in service.edits}
    assert applied == {kind.kind for kind in CATALOGUE if fleet.old_version in kind.releases}


def settings_in_config(fleet: FleetResult, service: ServiceResult) -> bool:
    """The one case a check stops: a service with settings of its own in config.rs, which
    0.4.0 takes into the runtime crate."""
    edits = {edit.kind for edit in plan_of(fleet, service.slug).edits}
    stops = stopped_by_a_check(plan_of(fleet, service.slug))
    assert stops == ("config_setting" in edits)
    return stops


def test_only_the_settings_check_stops_an_update_and_it_changes_nothing(fleet):
    for service in fleet.services:
        if settings_in_config(fleet, service):
            assert service.stopped is not None, service.update_output
            assert service.stopped.startswith(
                "template update stopped: src/config.rs reads this service's own APP_"
            )
            assert git(service.project, "status", "--porcelain") == ""
        else:
            assert service.update_exit_code == 0, service.update_output


def test_every_service_records_the_new_version_and_its_answers(fleet):
    """Questions new since the fleet's release take their defaults; the others keep the
    team's answers."""
    new_commit = git(fleet.template, "rev-parse", f"{NEW_VERSION}^{{commit}}").strip()
    for service in fleet.services:
        if settings_in_config(fleet, service):
            continue
        assert service.update_exit_code == 0, service.update_output
        if service.engine == "copier":
            answers = yaml.safe_load((service.project / ".copier-answers.yml").read_text())
            assert answers["_commit"] == NEW_VERSION
        else:
            state = json.loads((service.project / ".cruft.json").read_text())
            assert state["commit"] == new_commit
            answers = state["context"]["cookiecutter"]
        if fleet.old_version == "0.1.0":
            # Both asked first by 0.2.0.
            assert (answers["metrics"], answers["deploy"]) == ("prometheus", "helm")
        else:
            asked = plan_of(fleet, service.slug).answers
            assert (answers["metrics"], answers["deploy"]) == (asked["metrics"], asked["deploy"])
        assert answers["project_slug"] == service.slug


def test_no_team_edit_is_lost(fleet):
    lost = [
        (service.slug, edit.kind, edit.details)
        for service in fleet.services
        for edit in service.edits
        if edit.outcome == "lost"
    ]
    assert lost == []


def test_the_update_leaves_only_accepted_conflicts(fleet):
    # A new conflict fails here: move the template's boundary, or list it with its cause. The
    # six-service fleet need not meet every listed one (the 24-service run in the README does).
    assert observed_conflicts(fleet) <= set(ACCEPTED_CONFLICTS)


def test_the_report_counts_what_the_services_show(fleet):
    report = json.loads(json.dumps(to_json(fleet)))
    summary = report["summary"]
    assert summary["services"] == FLEET_SIZE
    assert summary["edits_lost"] == 0
    assert summary["no_conflict"] == sum(
        not service.conflicts and service.update_exit_code == 0 for service in fleet.services
    )
    markdown = to_markdown(report)
    for file, edit in observed_conflicts(fleet):
        assert f"| `{file}` | {edit} |" in markdown


# One instance of every edit and variant, for a GitHub and a GitLab service of each release the
# edit is made at.
EVERY_EDIT: list[TeamEdit] = [
    RouteModule("orders"),
    RouteModule("webhooks"),
    RoutesHandler("invoices", "healthz"),
    RoutesHandler("quotas", "readyz"),
    ApiHandler("tenants"),
    ConfigSetting(*SETTINGS[0]),
    TeamTest("contract"),
    TeamTest("warmup"),
    DependencyFeature("itoa", "1", "team-itoa", on_by_default=True),
    DependencyFeature("smallvec", "1", "team-smallvec", on_by_default=False),
    ConfigDefault(45),
    ReadmeSections("search"),
    DeletedExampleTest("healthcheck"),
    DeletedExampleTest("shutdown"),
    CiStep(),
    ImageLabel("block", "search"),
    ImageLabel("own", "search"),
    DenyException("advisory"),
    DenyException("licence"),
    RenovateRule(),
]


@pytest.fixture(scope="module")
def unedited(history, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Services generated at each release and left as generated, one per CI system."""
    services = tmp_path_factory.mktemp("unedited")
    projects = {}
    for release in SOURCE_RELEASES:
        for ci in ("github", "gitlab"):
            slug = f"plain-{ci}-{release.replace('.', '-')}"
            answers = {"project_slug": slug, "ci": ci, "template_updates": "renovate"}
            plan = ServicePlan(0, slug, "copier", answers, [], release)
            projects[(release, ci)] = generate(plan, history, services)
    return projects


def test_every_kind_of_edit_is_in_the_control_list():
    assert {type(edit) for edit in EVERY_EDIT} == set(CATALOGUE)


@pytest.mark.parametrize("ci", ["github", "gitlab"])
@pytest.mark.parametrize(
    ("release", "edit"),
    [(release, edit) for edit in EVERY_EDIT for release in edit.releases],
    ids=lambda value: value if isinstance(value, str) else f"{value.kind}-{value.details()}",
)
def test_survival_check_fails_without_the_edit_and_passes_with_it(
    unedited, tmp_path, ci, release, edit
):
    project = tmp_path / "svc"
    shutil.copytree(unedited[(release, ci)], project, symlinks=True)

    assert edit.survived(project) is False

    edit.apply(project)
    assert edit.survived(project) is True


def test_an_edit_the_update_dropped_is_reported_lost(fleet, tmp_path):
    # Every edit is merged in at least one service (plan_fleet).
    service = next(
        s
        for s in fleet.services
        if s.update_exit_code == 0 and any(e.kind == "team_test" for e in s.edits)
    )
    project = tmp_path / service.slug
    shutil.copytree(service.project, project, symlinks=True)
    # What a bad merge would do: the test list as the template wrote it, the team's line gone.
    test = next(e for e in plan_of(fleet, service.slug).edits if isinstance(e, TeamTest))
    main = project / "tests" / "api" / "main.rs"
    main.write_text(main.read_text().replace(f"mod {test.name};\n", ""))
    touched = {edit.kind: edit.files for edit in service.edits}

    results = inspect(plan_of(fleet, service.slug), project, touched, find_conflicts(project))

    outcomes = {result.kind: result.outcome for result in results}
    assert outcomes["team_test"] == "lost"


def test_conflicts_are_found_by_markers_unmerged_paths_and_rejects(tmp_path):
    git(tmp_path, "init", "--quiet")
    (tmp_path / "clean.txt").write_text("a\n")
    (tmp_path / "marked.txt").write_text(
        "a\n<<<<<<< before updating\nteam\n=======\ntemplate\n>>>>>>> after updating\nz\n"
    )
    (tmp_path / "file.toml.rej").write_text("diff a/file.toml b/file.toml\n@@ -1 +1 @@\n-x\n+y\n")

    conflicts = find_conflicts(tmp_path)

    assert set(conflicts) == {"marked.txt", "file.toml"}
    assert (conflicts["marked.txt"][0].team, conflicts["marked.txt"][0].template) == (
        ["team"],
        ["template"],
    )
    assert conflicts["file.toml"][0].rejected


def test_conflict_sides_resolve_one_hunk_at_a_time():
    text = (
        "a\n<<<<<<< ours\nt1\n=======\nn1\n>>>>>>> theirs\n"
        "b\n<<<<<<< ours\nt2\n=======\nn2\n>>>>>>> theirs\n"
    )
    assert len(conflict_hunks(text)) == 2
    assert resolve_conflicts(text, "team") == "a\nt1\nb\nt2\n"
    assert resolve_conflicts(text, "template") == "a\nn1\nb\nn2\n"
    assert resolve_conflicts(text, "team", frozenset({1})) == "a\nt1\nb\nn2\n"
    # A line that only looks like a separator, outside any conflict, is content.
    assert conflict_hunks("=======\n") == []
    assert resolve_conflicts("title\n=======\n", "team") == "title\n=======\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("release", "deleted"), [("0.1.0", "healthcheck"), ("0.1.0", "shutdown"), ("0.2.0", "shutdown")]
)
def test_every_edit_passes_make_check_at_its_release(unedited, tmp_path, release, deleted):
    """The catalogue writes working code: a failure after an update is the update's doing.
    One deletion per service, as in the fleet: both together leave `TestApp::stop` unused."""
    project = tmp_path / "svc"
    shutil.copytree(unedited[(release, "github")], project, symlinks=True)
    for edit in EVERY_EDIT:
        if release not in edit.releases:
            continue
        if not isinstance(edit, DeletedExampleTest) or edit.module == deleted:
            edit.apply(project)
    cargo(project, "update", "--workspace")

    result = make(project, "check", OFFLINE_DENY_CHECKS)

    # cargo-deny only warns about an exception it never needed: the team's must be needed.
    assert "not encountered" not in result.stderr


@pytest.mark.slow
def test_a_service_the_update_left_clean_passes_make_check(fleet):
    candidates = build_candidates(fleet)
    assert candidates, "no service came through the update without a conflict"
    service = candidates[0]

    result = check_build(service, plan_of(fleet, service.slug))

    assert result.passed, result.output_tail


@pytest.mark.slow
def test_make_check_fails_while_conflicts_are_unresolved(fleet, tmp_path):
    """Control for the build verdict: conflict markers in Rust code fail `make check`. The
    update leaves few such services now, so one is made from a clean one."""
    if fleet.old_version != SOURCE_RELEASES[0]:
        pytest.skip("one control build is enough: it runs for the first fleet")
    clean = build_candidates(fleet)[0]
    project = tmp_path / clean.slug
    shutil.copytree(clean.project, project, symlinks=True)
    config = project / "runtime" / "src" / "config.rs"
    host = "const DEFAULT_HOST: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);\n"
    team_host = host.replace("UNSPECIFIED", "LOCALHOST")
    text = config.read_text()
    assert text.count(host) == 1
    config.write_text(
        text.replace(
            host, f"<<<<<<< before updating\n{team_host}=======\n{host}>>>>>>> after updating\n"
        )
    )
    service = replace(clean, project=project, conflicts={"runtime/src/config.rs": []})

    result = check_build(service, plan_of(fleet, clean.slug))

    assert not result.passed
    # The first step of `make check`: it refuses conflict markers before anything compiles.
    assert result.failed_step == "make template-state"


def generate_at_0_1_0(
    history: Path, root: Path, slug: str, engine: str = "copier"
) -> tuple[ServicePlan, Path]:
    plan = ServicePlan(0, slug, engine, {"project_slug": slug}, [], "0.1.0")
    return plan, generate(plan, history, root)


def test_update_stops_before_merging_when_the_team_has_a_module_the_template_now_adds(
    history, tmp_path
):
    """The 0.2.0 migration: a team's own `server` module would be merged with the template's
    accept loop; copier update stops first, says what to rename, and changes nothing."""
    plan, project = generate_at_0_1_0(history, tmp_path, "own-server")
    (project / "src" / "server.rs").write_text("//! The team's own server module.\n")
    lib = project / "src" / "lib.rs"
    lib.write_text(
        lib.read_text().replace("pub mod routes;\n", "pub mod routes;\npub mod server;\n")
    )
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Team: a server module")

    result = update(plan, project)

    assert result.returncode != 0
    assert "template update stopped" in result.stderr and "`src/server.rs`" in result.stderr
    assert git(project, "status", "--porcelain") == ""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "0.1.0"


def test_an_update_creates_the_team_owned_api_module_and_the_service_routes_it(fleet):
    service = updated_by_copier(fleet)
    api = (service.project / "src" / "api.rs").read_text()
    assert "pub fn router() -> Router<AppState>" in api
    assert "pub mod api;" in (service.project / "src" / "lib.rs").read_text()


def conflicted_lock(project: Path) -> None:
    """Cargo.lock as a whole-file conflict (a stale lock on the team's side, the update's lock on
    the template's) and a crate of the team's in Cargo.toml that neither side has locked."""
    lock = project / "Cargo.lock"
    current = lock.read_text()
    stale = current.replace('name = "serde"', 'name = "serde-team-side"')
    lock.write_text(f"<<<<<<< before updating\n{stale}=======\n{current}>>>>>>> after updating\n")
    manifest = project / "Cargo.toml"
    team_crate = 'smallvec = { version = "1", optional = true }\n'
    manifest.write_text(
        manifest.read_text().replace("[dependencies]\n", f"[dependencies]\n{team_crate}", 1)
    )


@pytest.mark.parametrize("resolver", ["make template-update", "copier migration"])
def test_a_lock_in_conflict_takes_the_templates_side_and_locks_the_teams_crates(
    fleet, tmp_path, resolver
):
    clean = updated_by_copier(fleet, clean=True)
    project = tmp_path / clean.slug
    shutil.copytree(clean.project, project, symlinks=True)
    conflicted_lock(project)
    # Control: the conflicted lock does not load.
    assert cargo(project, "metadata", "--locked", "--format-version=1", check=False).returncode

    if resolver == "make template-update":
        # The update itself is stubbed (`true update ...`): this checks what the target does
        # with a lock the update left in conflict, for a cruft service here.
        (project / ".cruft.json").write_text("{}\n")
        result = make(project, "template-update", "CRUFT=true", check=False)
    else:
        script = Path(__file__).resolve().parent.parent / "migrations/cargo_lock_from_template.py"
        result = subprocess.run(
            [sys.executable, str(script)], cwd=project, capture_output=True, text=True
        )

    assert result.returncode == 0, result.stdout + result.stderr
    lock = (project / "Cargo.lock").read_text()
    assert "<<<<<<<" not in lock and "serde-team-side" not in lock
    cargo(project, "metadata", "--locked", "--format-version=1")
    root = next(
        package for package in tomlkit.parse(lock)["package"] if package["name"] == clean.slug
    )
    assert "smallvec" in root["dependencies"]


# A release after the one the fleet updates to.
LATER = NEW_VERSION.rsplit(".", 1)[0] + ".1"
COPIER_UPDATE = [sys.executable, "-m", "copier", "update", "--quiet", "--defaults", "--trust"]


def test_copier_update_keeps_the_teams_api_module_even_when_the_template_changes_it(
    fleet, tmp_path
):
    """`_skip_if_exists` on src/api.rs: a later release that did edit the template's copy (it
    promises not to) still leaves the team's routes as they are, with no conflict."""
    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(fleet.template), str(template))
    api = template / "template" / "src" / "api.rs"
    api.write_text(api.read_text() + "// A later release's comment.\n")
    git(template, "commit", "--quiet", "--all", "--message", f"{LATER}: edits api.rs")
    git(template, "tag", LATER)
    clean = updated_by_copier(fleet, clean=True, without="api_handler")
    project = tmp_path / clean.slug
    shutil.copytree(clean.project, project, symlinks=True)
    answers_file = project / ".copier-answers.yml"
    answers = answers_file.read_text()
    answers_file.write_text(answers.replace(str(fleet.template), str(template)))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", f"Update to {NEW_VERSION}, from the clone")
    team_api = (
        (project / "src" / "api.rs")
        .read_text()
        .replace(
            "    Router::new()\n",
            '    Router::new().route("/orders", axum::routing::get(|| async { "[]" }))\n',
        )
    )
    (project / "src" / "api.rs").write_text(team_api)
    git(project, "commit", "--quiet", "--all", "--message", "Team: the orders route")

    result = subprocess.run(
        [*COPIER_UPDATE, "--vcs-ref", LATER],
        cwd=project,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == LATER
    assert (project / "src" / "api.rs").read_text() == team_api
    assert find_conflicts(project) == {}


@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_team_handlers_in_routes_rs_move_to_api_rs_before_the_merge(history, tmp_path, engine):
    """The 0.3.0 migration: a 0.1.0 team's handler below a doc comment 0.2.0 rewrote would
    end in conflict markers; it moves to src/api.rs with its route first, and the update
    leaves no conflict in routes.rs."""
    plan, project = generate_at_0_1_0(history, tmp_path, f"handlers-{engine}", engine)
    edit = RoutesHandler("quotas", "readyz")
    plan.edits.append(edit)
    edit.apply(project)
    git(project, "commit", "--quiet", "--all", "--message", "Team: the quotas handler")

    result = update(plan, project, history)

    assert result.returncode == 0, result.stdout + result.stderr
    assert find_conflicts(project) == {}
    # routes.rs itself went into the runtime crate with 0.4.0.
    assert not (project / "src" / "routes.rs").exists()
    assert "async fn quotas()" in (project / "src" / "api.rs").read_text()
    assert edit.survived(project)
    assert "pub mod api;" in (project / "src" / "lib.rs").read_text()


def test_a_handler_that_uses_routes_rs_private_items_stops_the_update_with_one_line(
    history, tmp_path
):
    plan, project = generate_at_0_1_0(history, tmp_path, "private-handler")
    routes = project / "src" / "routes.rs"
    anchor = '    Json(json!({ "status": "ready" }))\n}\n'
    handler = (
        "\nasync fn teapot() -> Result<Json<serde_json::Value>, ApiError> {\n"
        '    Err(ApiError::new(StatusCode::IM_A_TEAPOT, "no coffee"))\n}\n'
    )
    routes.write_text(routes.read_text().replace(anchor, anchor + handler))
    git(project, "commit", "--quiet", "--all", "--message", "Team: a teapot")

    result = update(plan, project)

    assert result.returncode != 0
    stopped = [line for line in result.stderr.splitlines() if "template update stopped" in line]
    assert stopped == [
        "template update stopped: src/routes.rs: this service's `teapot` uses `ApiError`, which "
        "only routes.rs can see; move it to a module of your own (routed from routes.rs), "
        "commit, and update again"
    ]
    assert git(project, "status", "--porcelain") == ""
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "0.1.0"
