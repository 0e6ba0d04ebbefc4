"""Every migration copier.yml runs works in the Python Renovate gives copier: copier and its
own dependencies, nothing else (no tomlkit).

Renovate's copier manager installs copier alone and runs `copier update --trust`, which runs
each migration with `{{ _copier_python }}`. Here each script runs with such a Python (a virtual
environment with only the pinned copier, made once per test run) on the situation it exists
for, and must do its job there. The control: that Python cannot import tomlkit.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomlkit
import yaml

from tooling.copier_only import copier_only_python
from tooling.questions import REPO_ROOT
from tooling.release_history import NEW_VERSION, build_release_history
from tooling.template_repo import git

MIGRATIONS = REPO_ROOT / "migrations"


@pytest.fixture(scope="session")
def renovate_python() -> Path:
    return copier_only_python()


def run_migration(python: Path, script: str, project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(MIGRATIONS / script)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def conflict(team: str, template: str) -> str:
    return f"<<<<<<< before updating\n{team}=======\n{template}>>>>>>> after updating\n"


def test_the_python_renovate_gives_copier_has_copier_and_not_tomlkit(renovate_python):
    def imports(module: str) -> bool:
        probe = [str(renovate_python), "-c", f"import {module}"]
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0

    assert imports("copier") and imports("yaml")
    assert not imports("tomlkit")


def test_every_migration_in_copier_yml_is_exercised_here():
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    scripts = {
        Path(part).name
        for m in config["_migrations"]
        for part in m["command"]
        if part.endswith(".py")
    }
    assert scripts == set(CASES)


def reqwest_012(project: Path) -> None:
    (project / "Cargo.toml").write_text(
        '[package]\nname = "svc"\n\n[dependencies]\n'
        'reqwest = { version = "0.13", default-features = false, features = '
        '["rustls-tls", "json", "rustls-tls-webpki-roots"] }\n\n'
        '[features]\ndefault = ["mimalloc"]\n# Team: trust the OS roots.\n'
        'os-roots = [\n    "reqwest/rustls-tls-native-roots",  # on-prem\n'
        '    "reqwest?/rustls-tls",\n]\n'
    )


def reqwest_renamed(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    text = (project / "Cargo.toml").read_text()
    manifest = tomlkit.parse(text)
    assert manifest["dependencies"]["reqwest"]["features"] == ["rustls-no-provider", "json"]
    assert manifest["features"]["os-roots"] == [
        "reqwest/rustls-no-provider",
        "reqwest?/rustls-no-provider",
    ]
    assert "# Team: trust the OS roots." in text and "# on-prem" in text


def default_features_in_conflict(project: Path) -> None:
    (project / ".copier-answers.yml").write_text("allocator: mimalloc\n")
    (project / "Cargo.toml").write_text(
        '[package]\nname = "svc"\n\n[features]\n'
        + conflict('default = ["mimalloc", "team-itoa"]\n', 'default = ["metrics", "mimalloc"]\n')
        + "metrics = []\nmimalloc = []\nteam-itoa = []\n"
    )


def default_features_merged(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    text = (project / "Cargo.toml").read_text()
    assert "<<<<<<<" not in text
    assert tomlkit.parse(text)["features"]["default"] == ["metrics", "mimalloc", "team-itoa"]
    assert 'default = ["metrics", "mimalloc", "team-itoa"]\n' in text


def timeout_table_in_conflict(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "config.rs").write_text(
        "const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(45);\n"
    )
    team = (
        "| Variable | Default | Rule |\n| --- | --- | --- |\n"
        "| `APP_HOST` | `0.0.0.0` | an IP address to listen on (`::` for IPv6) |\n"
        "| `APP_PORT` | `8080` | an integer from 1 to 65535 |\n"
        "| `APP_LOG` | `info` | a log filter: a level, or `target=level` pairs such as "
        "`info,hyper=warn` |\n"
        "| `APP_REQUEST_TIMEOUT_SECS` | `45` | whole seconds, greater than 0, for each "
        "outbound request |\n"
        "| `APP_UPSTREAM_URL` | unset | an absolute `http` or `https` URL for `GET /upstream` |\n"
        "| `APP_EXTRA_CA_FILE` | unset | a PEM file of CA certificates trusted besides the "
        "built-in roots |\n"
    )
    template = "| `APP_REQUEST_TIMEOUT_SECS` | `10` | whole seconds, 1 to 300 |\n"
    (project / "README.md").write_text("## Configure\n\n" + conflict(team, template))


def timeout_table_taken(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    readme = (project / "README.md").read_text()
    assert (
        readme
        == "## Configure\n\n| `APP_REQUEST_TIMEOUT_SECS` | `45` | whole seconds, 1 to 300 |\n"
    )


def own_server_module(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "server.rs").write_text("//! The team's own.\n")


def update_stopped(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1
    assert "template update stopped" in result.stderr and "`src/server.rs`" in result.stderr


def lock_in_conflict(project: Path) -> None:
    (project / "Cargo.toml").write_text('[package]\nname = "svc"\nversion = "0.1.0"\n')
    (project / "src").mkdir()
    (project / "src" / "lib.rs").write_text("")
    lock = '# generated\nversion = 4\n\n[[package]]\nname = "svc"\nversion = "0.1.0"\n'
    (project / "Cargo.lock").write_text(conflict(lock.replace("svc", "stale"), lock))


def lock_resolved(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    lock = tomlkit.parse((project / "Cargo.lock").read_text())
    assert [package["name"] for package in lock["package"]] == ["svc"]


ROUTES_0_1_0 = (
    "use axum::routing::get;\nuse axum::{Json, Router};\nuse serde_json::json;\n\n"
    "pub fn router(state: AppState) -> Router {\n    Router::new()\n"
    '        .route("/healthz", get(healthz))\n        .with_state(state)\n}\n\n'
    "/// Liveness.\nasync fn healthz() -> Json<serde_json::Value> {\n"
    '    Json(json!({ "status": "ok" }))\n}\n'
)
TEAM_HANDLER = (
    "/// The team's orders.\nasync fn orders() -> Json<serde_json::Value> {\n"
    '    Json(json!({ "orders": [] }))\n}\n'
)


def handler_in_routes(project: Path) -> None:
    (project / "src").mkdir()
    routes = ROUTES_0_1_0.replace(
        "        .with_state(state)\n",
        '        .route("/orders", get(orders))\n        .with_state(state)\n',
    )
    (project / "src" / "routes.rs").write_text(routes + "\n" + TEAM_HANDLER)


def handler_moved(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert (project / "src" / "routes.rs").read_text() == ROUTES_0_1_0
    api = (project / "src" / "api.rs").read_text()
    assert TEAM_HANDLER in api
    assert '    Router::new().route("/orders", get(orders))\n' in api
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"], cwd=project, capture_output=True, text=True
    )
    assert staged.stdout.split() == ["src/api.rs", "src/routes.rs"]


def setting_in_0_1_0_config(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "config.rs").write_text(
        "//! | `APP_HOST` | `0.0.0.0` | an IP address |\n"
        'fn read() {\n    get("APP_HOST");\n    get("APP_PAGE_SIZE");\n}\n'
    )


def stopped_naming_the_setting(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1
    assert result.stderr.startswith(
        "template update stopped: src/config.rs reads this service's own APP_PAGE_SIZE,"
    )
    assert len(result.stderr.splitlines()) == 1


def team_module_in_conflict(project: Path) -> None:
    (project / "tests" / "api").mkdir(parents=True)
    (project / "tests" / "api" / "main.rs").write_text(
        "mod shutdown;\nmod tls;\n"
        + conflict("mod warmup;\n", "\n// The template's runtime tests.\nmod limits;\n")
    )


def team_module_first(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert (project / "tests" / "api" / "main.rs").read_text() == (
        "mod shutdown;\nmod tls;\nmod warmup;\n\n// The template's runtime tests.\nmod limits;\n"
    )


def new_file_staged(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "api.rs").write_text("//! The team's routes.\n")
    subprocess.run(["git", "add", "src/api.rs"], cwd=project, check=True)


def new_file_untracked(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert status.stdout == "?? src/\n"
    assert (project / "src" / "api.rs").read_text() == "//! The team's routes.\n"


def answers_0_4_0_refuses(project: Path) -> None:
    (project / ".copier-answers.yml").write_text(
        "_commit: 0.3.0\n_src_path: https://example.com/t.git\nhttp_port: '09090'\n"
        "project_slug: svc\ndescription: 'trailing '\nauthor_email: caf\u00e9@example.com\n",
        encoding="utf-8",
    )


def stopped_naming_each_answer(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("template update stopped: this release refuses answers")
    assert "http_port: must be a whole number from 1 to 65535" in line
    assert "(recorded: '09090')" in line
    assert "description: must not start or end with a space" in line
    assert "author_email: must be an e-mail address" in line
    assert "project_slug" not in line


def setting_in_0_2_0_config(project: Path) -> None:
    (project / "src").mkdir()
    (project / "src" / "config.rs").write_text(
        'pub const VARIABLES: [&str; 3] = [\n    "APP_HOST",\n    "APP_PORT",\n'
        '    "APP_BATCH_SIZE",\n];\nfn read() {\n    get("APP_BATCH_SIZE");\n}\n'
    )


def stopped_naming_the_0_2_0_setting(
    project: Path, result: subprocess.CompletedProcess[str]
) -> None:
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        "template update stopped: src/config.rs reads this service's own APP_BATCH_SIZE,"
    )
    # No src/settings.rs yet: a 0.2.0 service.
    assert "update to 0.3.0 first, then move it to src/settings.rs" in line


# A 0.3.0 service as its team left it (committed), then the tree an update to 0.4.0 merged.
SERVICE_AT_0_3_0 = {
    "Cargo.toml": '[package]\nname = "svc"\n',
    "src/lib.rs": "pub mod app;\npub mod config;\npub mod orders;\npub mod routes;\n",
    "src/config.rs": "const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);\n",
    "src/routes.rs": (
        "pub fn router(state: AppState) -> Router {\n    Router::new()\n"
        '        .route("/healthz", get(healthz))\n'
        '        .route("/orders", get(crate::orders::list))\n        .with_state(state)\n}\n'
    ),
    "src/orders.rs": 'pub async fn list() -> &\'static str {\n    "[]"\n}\n',
    "tests/api/main.rs": "mod contract;\nmod helpers;\nmod tls;\n\nmod api;\n",
}
MERGED_INTO_0_4_0 = {
    "runtime/Cargo.toml": '[package]\nname = "service-runtime"\n',
    "Cargo.toml": '[package]\nname = "svc"\n',
    "src/main.rs": (
        "use std::time::Duration;\n\nfn main() {\n    Service::new()\n"
        "        .default_port(8080)\n        .run(routes)\n}\n"
    ),
    "src/lib.rs": conflict(
        "pub mod app;\npub mod config;\npub mod orders;\n", "pub mod api;\npub mod settings;\n"
    ),
    "src/api.rs": (
        "use axum::Router;\n\nuse crate::routes::AppState;\n\n"
        "pub fn router() -> Router<AppState> {\n    Router::new()\n}\n"
    ),
    "src/settings.rs": (
        "use crate::config::ConfigError;\n\npub const VARIABLES: &[&str] = &[];\n\n"
        "#[derive(Debug, Clone, Default)]\npub struct Settings {}\n\nimpl Settings {\n"
        "    pub fn from_lookup(_get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError>"
        " {\n        Ok(Self {})\n    }\n}\n"
    ),
    "src/orders.rs": SERVICE_AT_0_3_0["src/orders.rs"],
    "tests/api/main.rs": (
        'mod helpers;\n#[cfg(feature = "tls")]\nmod tls;\nmod startup;\n\nmod api;\n'
    ),
    "tests/api/contract.rs": "use crate::helpers::{TestApp, test_config};\n",
    "tests/api/helpers.rs": "",
    "tests/api/startup.rs": "",
    "tests/api/api.rs": "",
}


def write_tree(project: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text, encoding="utf-8")


def merged_at_0_4_0(project: Path) -> None:
    write_tree(project, SERVICE_AT_0_3_0)
    git(project, "add", "--all")
    git(project, "commit", "-qm", "0.3.0")
    for relative in ("src/config.rs", "src/routes.rs"):
        (project / relative).unlink()
    write_tree(project, MERGED_INTO_0_4_0)


def on_the_runtime_crate(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    def read(relative: str) -> str:
        return (project / relative).read_text(encoding="utf-8")

    # The release's lib.rs (the merge left it in conflict) with the team's module added.
    released = (REPO_ROOT / "template" / "src" / "lib.rs").read_text(encoding="utf-8")
    # In rustfmt's order, as `cargo fmt --check` wants it.
    assert read("src/lib.rs") == released.replace(
        "pub mod settings;\n", "pub mod orders;\npub mod settings;\n"
    )
    assert read("tests/api/main.rs") == "mod contract;\nmod helpers;\nmod startup;\n\nmod api;\n"
    assert "use crate::AppState;" in read("src/api.rs")
    assert '.route("/orders", get(crate::orders::list))' in read("src/api.rs")
    assert "use axum::routing::get;" in read("src/api.rs")
    settings = read("src/settings.rs")
    assert "use service_runtime::config::ConfigError;" in settings
    assert "impl service_runtime::Settings for Settings {" in settings
    assert ".default_port(8080)\n        .default_request_timeout(Duration::from_secs(30))\n" in (
        read("src/main.rs")
    )
    assert read("tests/api/contract.rs") == MERGED_INTO_0_4_0["tests/api/contract.rs"]
    # Run again: nothing left to do.
    again = subprocess.run(
        [sys.executable, str(MIGRATIONS / "runtime_crate_layout.py")],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stdout == ""


def example_test_deleted(project: Path) -> None:
    write_tree(project, {"tests/api/shutdown.rs": "// the template's example test\n"})
    git(project, "add", "--all")
    git(project, "commit", "-qm", "generated")
    git(project, "rm", "--quiet", "tests/api/shutdown.rs")
    git(project, "commit", "-qm", "team")


def example_test_restored(project: Path, result: subprocess.CompletedProcess[str]) -> None:
    restored = project / "tests" / "api" / "shutdown.rs"
    assert restored.read_text(encoding="utf-8") == "// the template's example test\n"
    assert git(project, "status", "--porcelain") == "A  tests/api/shutdown.rs\n"


# Script -> (the situation it exists for, what it must leave), for every migration.
CASES = {
    "reqwest_0_13_features.py": (reqwest_012, reqwest_renamed),
    "new_module_names.py": (own_server_module, update_stopped),
    "cargo_default_features.py": (default_features_in_conflict, default_features_merged),
    "request_timeout_default.py": (timeout_table_in_conflict, timeout_table_taken),
    "cargo_lock_from_template.py": (lock_in_conflict, lock_resolved),
    "team_routes_to_api.py": (handler_in_routes, handler_moved),
    "team_settings_check.py": (setting_in_0_1_0_config, stopped_naming_the_setting),
    "team_test_modules.py": (team_module_in_conflict, team_module_first),
    "unstage_new_files.py": (new_file_staged, new_file_untracked),
    "recorded_answers_check.py": (answers_0_4_0_refuses, stopped_naming_each_answer),
    "runtime_config_check.py": (setting_in_0_2_0_config, stopped_naming_the_0_2_0_setting),
    "runtime_crate_layout.py": (merged_at_0_4_0, on_the_runtime_crate),
    "runtime_files_prepare.py": (example_test_deleted, example_test_restored),
}


@pytest.mark.parametrize("script", list(CASES))
def test_migration_does_its_job_with_only_copier_installed(renovate_python, tmp_path, script):
    project = tmp_path / "svc"
    project.mkdir()
    subprocess.run(["git", "init", "--quiet", str(project)], check=True)
    prepare, check = CASES[script]
    prepare(project)

    result = run_migration(renovate_python, script, project)

    assert "Traceback" not in result.stderr, result.stderr
    stops = ("new_module_names.py", "team_settings_check.py", "recorded_answers_check.py")
    if script not in (*stops, "runtime_config_check.py"):
        assert result.returncode == 0, result.stdout + result.stderr
    check(project, result)


def test_an_update_to_0_4_0_stops_on_a_recorded_answer_it_refuses(tmp_path):
    """A service made at 0.3.0 with port `09090` (copier took it then): the update stops with
    the migration's line and changes nothing. The control: the same update from a template
    without the migration, where copier quietly puts the default port in its place."""
    template = build_release_history(tmp_path / "template")
    copier = [sys.executable, "-m", "copier"]
    service = tmp_path / "svc"
    data = ["--data", "http_port=09090", "--data", "project_slug=svc"]
    subprocess.run(
        [
            *copier,
            "copy",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "0.3.0",
            *data,
            str(template),
            str(service),
        ],
        check=True,
        capture_output=True,
    )
    git(service, "init", "--quiet", "--initial-branch=main")
    git(service, "add", "--all")
    git(service, "commit", "--quiet", "--message", "generated at 0.3.0")

    def update(version: str) -> subprocess.CompletedProcess[str]:
        command = [*copier, "update", "--defaults", "--trust", "--vcs-ref", version]
        return subprocess.run(command, cwd=service, capture_output=True, text=True, check=False)

    stopped = update(NEW_VERSION)
    assert stopped.returncode != 0
    assert "http_port: must be a whole number from 1 to 65535" in stopped.stderr
    assert git(service, "status", "--porcelain") == ""

    copier_yml = template / "copier.yml"
    text = copier_yml.read_text(encoding="utf-8")
    without = re.sub(r"  - version: \"0\.4\.0\"\n(    .*\n)+", "", text)
    assert without != text
    copier_yml.write_text(without, encoding="utf-8")
    git(template, "commit", "--quiet", "--all", "--message", "no answers check")
    git(template, "tag", "0.4.1")
    quiet = update("0.4.1")
    assert quiet.returncode == 0, quiet.stderr
    recorded = yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["http_port"] == "8080"
