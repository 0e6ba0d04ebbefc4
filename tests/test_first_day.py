"""A service team's first day, by the generated README's "Your code" section: its blocks (a
setting, a crate and a feature, an endpoint, tests) are applied to a freshly generated default
service exactly where they say they go; `make check` must pass, and after an update to a later
release that changes the template's lines right next to every place they touch, the team's
files must be as they were, nothing in conflict, `make check` green again and `GET /orders`
answered by the built binary. Control: a block that does not compile fails the check.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.service import running_service
from tooling.cargo import SHARED_TARGET_DIR, cargo, make
from tooling.fleet import OFFLINE_DENY_CHECKS, find_conflicts
from tooling.readme_snippets import apply, snippets
from tooling.render import render_with_copier
from tooling.template_repo import git, snapshot_template

SLUG = "my-service"

# The later release: template-owned lines next to each place the README's blocks touch, as
# (file in the template, text in 0.3.0, text in 0.3.1); each text is on one line, once.
RELEASE_0_3_1 = [
    (
        "runtime/src/config.rs",
        "/// Every variable the runtime reads; anything else named `APP_*` is refused",
        "/// Every variable the runtime reads; other `APP_*` names are refused (0.3.1)",
    ),
    (
        "src/lib.rs",
        "//! The service's own code: its routes (`api`) and settings (`settings`),",
        "//! The service's own code (0.3.1): its routes (`api`) and settings (`settings`),",
    ),
    (
        "src/main.rs",
        "// The chart's grace period and the Containerfile's stop timeout cover this timeline.",
        "// The chart's grace period and the Containerfile's stop timeout cover it (0.3.1).",
    ),
    ("Cargo.toml", "in static builds.", "in static musl builds (0.3.1)."),
    ("Cargo.toml", "# The runtime: server, shutdown,", "# The runtime (0.3.1): server, shutdown,"),
    (
        "tests/api/main.rs",
        "// The tests of your own routes:",
        "// The tests of your routes (0.3.1):",
    ),
    ("README.md", "Then run `make check`.", "Then run `make check` (0.3.1)."),
]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


def release_0_3_1(template: Path) -> None:
    for path, old, new in RELEASE_0_3_1:
        file = template / "template" / path
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, (path, old)
        file.write_text(text.replace(old, new), encoding="utf-8")
    git(template, "commit", "--quiet", "--all", "--message", "0.3.1: lines next to the team's")
    git(template, "tag", "0.3.1")


def generate(engine: str, template: Path, services: Path) -> Path:
    if engine == "copier":
        command = [sys.executable, "-m", "copier", "copy", "--quiet", "--trust", "--defaults"]
        run([*command, "--vcs-ref", "0.3.0", str(template), str(services / SLUG)], services)
    else:
        command = [sys.executable, "-m", "cruft", "create", "--no-input", "--checkout", "0.3.0"]
        run([*command, "--output-dir", str(services), str(template)], services)
    project = services / SLUG
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Generate from the template 0.3.0")
    return project


def update(engine: str, project: Path) -> None:
    if engine == "copier":
        command = [sys.executable, "-m", "copier", "update", "--quiet", "--trust", "--defaults"]
        run([*command, "--skip-answered", "--vcs-ref", "0.3.1"], project)
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        assert answers["_commit"] == "0.3.1"
    else:
        command = [sys.executable, "-m", "cruft", "update", "--skip-apply-ask"]
        run([*command, "--checkout", "0.3.1"], project)


def first_day(project: Path) -> dict[str, str]:
    """Apply the README's blocks and lock the new crate, as the README says; commit."""
    applied = apply(project, snippets((project / "README.md").read_text(encoding="utf-8")))
    cargo(project, "update", "--workspace")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Team: GET /orders, its setting and tests")
    return {path: (project / path).read_text(encoding="utf-8") for path in applied}


def test_the_readme_says_where_each_block_goes_and_every_place_exists(tmp_path):
    project = render_with_copier(tmp_path / SLUG)
    found = snippets((project / "README.md").read_text(encoding="utf-8"))

    assert [(s.path, s.kind) for s in found] == [
        ("src/settings.rs", "the whole file"),
        ("Cargo.toml", "after"),
        ("Cargo.toml", "after"),
        ("src/api/orders.rs", "new file"),
        ("src/api.rs", "the whole file"),
        ("tests/api/api.rs", "the whole file"),
    ]
    # The whole files replaced are the team's: an update never touches them.
    owned = yaml.safe_load(Path("copier.yml").read_text())["_skip_if_exists"]
    assert {s.path for s in found if s.kind == "the whole file"} <= set(owned)
    apply(project, found)
    assert "{{" not in (project / "tests/api/api.rs").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["copier", "cruft"])
def test_a_first_day_by_the_readme_passes_make_check_and_survives_an_update(tmp_path, engine):
    template = snapshot_template(tmp_path / "template", tag="0.3.0")
    services = tmp_path / "services"
    services.mkdir()
    project = generate(engine, template, services)

    team = first_day(project)
    assert set(team) == {
        "Cargo.toml",
        "src/api.rs",
        "src/api/orders.rs",
        "src/settings.rs",
        "tests/api/api.rs",
    }
    # Both engines write the same tree (test_engines), so the builds need not run twice:
    # cruft's service is held to the same merge and files, and builds after its update.
    if engine == "copier":
        make(project, "check", OFFLINE_DENY_CHECKS)

    release_0_3_1(template)
    update(engine, project)

    assert find_conflicts(project) == {}
    for path, text in team.items():
        now = (project / path).read_text(encoding="utf-8")
        if path == "Cargo.toml":
            # The team's lines kept, the template's next to them updated.
            for line in ['thiserror = "2"\n', "sample-orders = []\n"]:
                assert line in now
            assert "static musl builds (0.3.1)" in now
        else:
            assert now == text, path
    assert "(0.3.1)" in (project / "runtime/src/config.rs").read_text()
    if engine == "cruft":
        cargo(project, "check", "--locked", "--all-targets")
        return
    make(project, "check", OFFLINE_DENY_CHECKS)

    cargo(project, "build", "--locked")
    # The shared target folder is used by other checkouts too: run a copy.
    binary = shutil.copy(SHARED_TARGET_DIR / "debug" / SLUG, tmp_path / SLUG)
    with running_service([binary], extra_env={"APP_ORDERS_PAGE_SIZE": "5"}) as service:
        assert service.get("/orders") == (200, b"[]")
        status, body = service.get("/orders/7")
        assert status == 404 and b'"error":"no order 7"' in body


@pytest.mark.slow
def test_a_block_that_does_not_compile_fails_the_check(tmp_path):
    project = render_with_copier(tmp_path / SLUG)
    readme = (project / "README.md").read_text(encoding="utf-8")
    broken = readme.replace("Json(all_orders().into_iter()", "Json(all_order().into_iter()", 1)
    assert broken != readme

    apply(project, snippets(broken))

    result = cargo(project, "check", check=False)
    assert result.returncode != 0
    assert "all_order" in result.stderr


def test_an_update_to_0_3_0_stops_on_a_team_module_where_it_adds_a_team_file(tmp_path):
    """0.3.0 creates src/settings.rs and tests/api/api.rs; a team file of that name would be
    kept (`_skip_if_exists`) next to the template's new `mod` line: the migration stops first."""
    script = Path(__file__).resolve().parent.parent / "migrations/new_module_names.py"
    (tmp_path / "src").mkdir()
    (tmp_path / "src/settings.rs").write_text("// the team's\n")

    def migrate(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(script), *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)

    stopped = migrate("0.3.0")
    assert stopped.returncode == 1 and "`src/settings.rs`" in stopped.stderr
    # 0.2.0's names are not 0.3.0's: crossing 0.2.0 alone does not stop for it.
    assert migrate("0.2.0").returncode == 0 and migrate().returncode == 0
