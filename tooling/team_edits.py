"""What teams do to a generated service in its first months: a catalogue of realistic edits.

Each edit is applied to a service as generated at one of the releases it lists (`releases`;
each edit is what that release's code invited), by `apply`, which returns the files it touched,
and checked after a template update (`survived`, which reads only the files).
`survived` never sees conflict markers: the fleet simulation asks it about the service with
every conflict resolved to the team's side (did the edit survive at all?) and to the template's
side (was the edit part of a conflict?). Edits pick their details (a route's name, a timeout)
from a seeded random generator, so a fleet is varied and repeatable.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import tomlkit
import yaml


class EditDoesNotApply(RuntimeError):
    """The generated file no longer looks the way the edit expects (the catalogue is stale)."""


def read(project: Path, relative: str) -> str:
    path = project / relative
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def replace_once(project: Path, relative: str, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise EditDoesNotApply(f"{relative}: expected exactly one {old!r}")
    path.write_text(text.replace(old, new), encoding="utf-8")


def on_the_runtime_crate(project: Path) -> bool:
    """The service has the runtime as a crate in runtime/ (0.4.0 on), not in src/."""
    return (project / "runtime" / "Cargo.toml").is_file()


def has_lines(text: str, block: str) -> bool:
    """Every line of `block` appears, in order and adjacent, among the lines of `text`."""
    return f"\n{block.strip(chr(10))}\n" in f"\n{text}\n"


@dataclass(frozen=True)
class TeamEdit:
    """One edit with its chosen details; subclasses say what it does and how to see it."""

    kind: ClassVar[str]
    summary: ClassVar[str]
    # The team refreshes Cargo.lock after this edit (`cargo update --workspace`).
    changes_dependencies: ClassVar[bool] = False
    # The releases whose services a team makes this edit in.
    releases: ClassVar[tuple[str, ...]] = ("0.1.0", "0.2.0", "0.3.0")
    # The share of services whose team makes it.
    share: ClassVar[float] = 0.5
    # Releases from which a service with this edit has its update stopped by a migration's
    # check (one line, nothing changed): the edit is never merged from there.
    stops_update_from: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def applies_to(answers: dict[str, Any]) -> bool:
        return True

    @classmethod
    def made_at(cls, answers: dict[str, Any], release: str) -> bool:
        """A service of `release` with these answers invites this edit."""
        return release in cls.releases and cls.applies_to(answers)

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls()

    def apply(self, project: Path) -> list[str]:
        raise NotImplementedError

    def survived(self, project: Path) -> bool:
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


ROUTE_NAMES = ["orders", "invoices", "quotas", "reports", "tenants", "webhooks"]


@dataclass(frozen=True)
class Endpoint(TeamEdit):
    """An edit that adds one endpoint of the team's, `/name`."""

    name: str = "orders"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(ROUTE_NAMES))


@dataclass(frozen=True)
class RouteModule(Endpoint):
    """A module of the team's own handlers, declared in lib.rs and routed in routes.rs (0.1.0
    had no src/api.rs; from 0.2.0 on, ApiHandler)."""

    kind: ClassVar[str] = "route_module"
    summary: ClassVar[str] = "new route module and its router line"
    releases: ClassVar[tuple[str, ...]] = ("0.1.0",)

    def module(self) -> str:
        return (
            f"//! `/{self.name}`: the team's own endpoint.\n"
            "\n"
            "use axum::Json;\n"
            "use serde_json::{Value, json};\n"
            "\n"
            f"/// Lists the {self.name} this service knows about.\n"
            "pub async fn list() -> Json<Value> {\n"
            f'    Json(json!({{ "{self.name}": [] }}))\n'
            "}\n"
        )

    def declaration(self) -> str:
        return f"pub mod {self.name};"

    def router_line(self) -> str:
        return f'        .route("/{self.name}", get(crate::{self.name}::list))'

    def apply(self, project: Path) -> list[str]:
        (project / "src" / f"{self.name}.rs").write_text(self.module(), encoding="utf-8")
        lib = project / "src" / "lib.rs"
        lines = lib.read_text(encoding="utf-8").splitlines(keepends=True)
        modules = [i for i, line in enumerate(lines) if line.startswith("pub mod ")]
        # Where a person puts it: in alphabetical order among the other modules.
        after = [i for i in modules if lines[i].strip() > self.declaration()]
        lines.insert(after[0] if after else modules[-1] + 1, self.declaration() + "\n")
        lib.write_text("".join(lines), encoding="utf-8")
        upstream = '        .route("/upstream", get(upstream))\n'
        replace_once(project, "src/routes.rs", upstream, upstream + self.router_line() + "\n")
        return [f"src/{self.name}.rs", "src/lib.rs", "src/routes.rs"]

    def survived(self, project: Path) -> bool:
        """Routed in routes.rs, or in src/api.rs once 0.4.0 took routes.rs into the runtime
        crate (where rustfmt may have joined the chain onto one line)."""
        route = re.compile(rf'\.route\(\s*"/{self.name}",\s*get\(crate::{self.name}::list\)\s*\)')
        return (
            read(project, f"src/{self.name}.rs") == self.module()
            and has_lines(read(project, "src/lib.rs"), self.declaration())
            and (
                has_lines(read(project, "src/routes.rs"), self.router_line())
                or route.search(read(project, "src/api.rs")) is not None
            )
        )


# Crates already in the template's lock graph at 0.1.0 and now, so no new crate is resolved.
DEPENDENCIES = [("itoa", "1"), ("bytes", "1"), ("percent-encoding", "2"), ("smallvec", "1")]


@dataclass(frozen=True)
class DependencyFeature(TeamEdit):
    """An optional dependency behind a feature of the team's, sometimes switched on by default."""

    crate: str = "itoa"
    version: str = "1"
    feature: str = "fast-format"
    on_by_default: bool = False
    kind: ClassVar[str] = "dependency_feature"
    summary: ClassVar[str] = "new dependency and feature"
    changes_dependencies: ClassVar[bool] = True

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        crate, version = rng.choice(DEPENDENCIES)
        return cls(crate, version, f"team-{crate}", rng.random() < 0.5)

    def dependency_line(self) -> str:
        return f'{self.crate} = {{ version = "{self.version}", optional = true }}'

    def feature_lines(self) -> str:
        return f'# The team\'s own feature.\n{self.feature} = ["dep:{self.crate}"]'

    def apply(self, project: Path) -> list[str]:
        path = project / "Cargo.toml"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        start = lines.index("[dependencies]\n") + 1
        end = next(i for i in range(start, len(lines)) if lines[i].startswith("["))
        # Alphabetical among the entries; an entry's comment lines stay above it.
        at = end
        for i in range(start, end):
            name = lines[i].split("=")[0].strip()
            if not lines[i].startswith("#") and "=" in lines[i] and name > self.crate:
                at = i
                while at > start and lines[at - 1].startswith("#"):
                    at -= 1
                break
        while at == end and not lines[at - 1].strip():
            at -= 1
        lines.insert(at, self.dependency_line() + "\n")
        text = "".join(lines)
        feature_anchor = 'mimalloc = ["dep:mimalloc"]\n'
        if text.count(feature_anchor) != 1:
            raise EditDoesNotApply(f"Cargo.toml: expected one {feature_anchor!r}")
        text = text.replace(feature_anchor, feature_anchor + self.feature_lines() + "\n")
        if self.on_by_default:
            text, count = re.subn(
                r"^default = \[(.*)\]$",
                lambda m: (
                    f"default = [{m[1]}, {json.dumps(self.feature)}]"
                    if m[1]
                    else f"default = [{json.dumps(self.feature)}]"
                ),
                text,
                flags=re.MULTILINE,
            )
            if count != 1:
                raise EditDoesNotApply("Cargo.toml: expected one `default = [...]` line")
        path.write_text(text, encoding="utf-8")
        return ["Cargo.toml", "Cargo.lock"]

    def survived(self, project: Path) -> bool:
        manifest = tomlkit.parse(read(project, "Cargo.toml"))
        dependency = manifest.get("dependencies", {}).get(self.crate)
        features = manifest.get("features", {})
        return (
            dependency is not None
            and dependency.get("version") == self.version
            and dependency.get("optional") is True
            and list(features.get(self.feature, [])) == [f"dep:{self.crate}"]
            and (not self.on_by_default or self.feature in features.get("default", []))
        )


@dataclass(frozen=True)
class ConfigDefault(TeamEdit):
    """The outbound request timeout's default, changed where it is set, documented and tested."""

    seconds: int = 30
    kind: ClassVar[str] = "config_default"
    summary: ClassVar[str] = "changed configuration default"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice([20, 30, 45, 60]))

    def replacements(self) -> list[tuple[str, str, str]]:
        """(file, line as generated, the team's line): where it is set and tested."""
        old, new = "10", str(self.seconds)
        constant = "const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs({});"
        assertion = "assert_eq!(config.request_timeout, Duration::from_secs({}));"
        return [
            ("src/config.rs", line.format(old), line.format(new)) for line in (constant, assertion)
        ]

    def apply(self, project: Path) -> list[str]:
        for relative, old, new in self.replacements():
            replace_once(project, relative, old, new)
        # The tables' rows, their padding as each release wrote it (0.2.0 widened them).
        row = re.compile(r"^((?://! )?\| `APP_REQUEST_TIMEOUT_SECS` +\| )`10`( *)\|", re.M)
        for relative in ("src/config.rs", "README.md"):
            path = project / relative
            # Every choice of seconds has two digits, as `10` has: the padding stays.
            text, count = row.subn(
                lambda m: f"{m[1]}`{self.seconds}`{m[2]}|",
                path.read_text(encoding="utf-8"),
            )
            if count != 1:
                raise EditDoesNotApply(f"{relative}: expected one APP_REQUEST_TIMEOUT_SECS row")
            path.write_text(text, encoding="utf-8")
        return ["src/config.rs", "README.md"]

    def survived(self, project: Path) -> bool:
        """The value is set and tested in the code, and both settings tables document it. A
        table row is read by its cells: a release that widens the table or rewrites the rule
        column (0.2.0 does both) still shows the team's value."""
        if on_the_runtime_crate(project):
            # The runtime's config.rs and its test are the crate's: the service sets its
            # default where it starts the runtime.
            main = read(project, "src/main.rs")
            call = f".default_request_timeout(Duration::from_secs({self.seconds}))"
            return call in main and self.documented(read(project, "README.md"), "|")
        code = read(project, "src/config.rs")
        constant, assertion = self.replacements()[:2]
        set_and_tested = constant[2] in code and assertion[2] in code
        return (
            set_and_tested
            and self.documented(code, "//! |")
            and self.documented(read(project, "README.md"), "|")
        )

    def documented(self, text: str, row_start: str) -> bool:
        for line in text.splitlines():
            if line.startswith(row_start):
                cells = [cell.strip() for cell in line.removeprefix("//!").split("|")[1:-1]]
                if cells[:2] == ["`APP_REQUEST_TIMEOUT_SECS`", f"`{self.seconds}`"]:
                    return True
        return False


@dataclass(frozen=True)
class ReadmeSections(TeamEdit):
    """An ownership section in the middle of the README and a runbook at its end."""

    team: str = "payments"
    kind: ClassVar[str] = "readme_sections"
    summary: ClassVar[str] = "README sections"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(["payments", "identity", "search", "logistics"]))

    def ownership(self) -> str:
        return (
            "## Ownership\n\n"
            f"The {self.team} team owns this service; page #{self.team}-oncall before "
            "changing its SLOs.\n"
        )

    def runbook(self) -> str:
        return (
            "## Runbook\n\n"
            f"- Dashboards: https://grafana.example.com/d/{self.team}\n"
            f"- Alerts go to #{self.team}-oncall; escalate after 15 minutes.\n"
        )

    def apply(self, project: Path) -> list[str]:
        replace_once(project, "README.md", "## Configure\n", f"{self.ownership()}\n## Configure\n")
        readme = project / "README.md"
        text = readme.read_text(encoding="utf-8").rstrip("\n")
        readme.write_text(f"{text}\n\n{self.runbook()}", encoding="utf-8")
        return ["README.md"]

    def survived(self, project: Path) -> bool:
        text = read(project, "README.md")
        return has_lines(text, self.ownership()) and has_lines(text, self.runbook())


@dataclass(frozen=True)
class DeletedExampleTest(TeamEdit):
    """An example test module the team does not want, deleted with its `mod` line."""

    module: str = "healthcheck"
    kind: ClassVar[str] = "deleted_example_test"
    summary: ClassVar[str] = "deleted example test"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(["healthcheck", "shutdown"]))

    def apply(self, project: Path) -> list[str]:
        (project / "tests" / "api" / f"{self.module}.rs").unlink()
        replace_once(project, "tests/api/main.rs", f"mod {self.module};\n", "")
        return [f"tests/api/{self.module}.rs", "tests/api/main.rs"]

    def survived(self, project: Path) -> bool:
        gone = not (project / "tests" / "api" / f"{self.module}.rs").exists()
        main = read(project, "tests/api/main.rs")
        return gone and f"mod {self.module};" not in main.splitlines()


DOC_STEP = (
    "      - name: Documentation builds without warnings\n"
    "        run: cargo doc --no-deps --locked\n"
    "        env:\n"
    "          RUSTDOCFLAGS: -D warnings\n"
)
DOC_SCRIPT_LINE = "    - RUSTDOCFLAGS='-D warnings' cargo doc --no-deps --locked\n"


@dataclass(frozen=True)
class CiStep(TeamEdit):
    """One more check in the code job, after `make check`."""

    kind: ClassVar[str] = "ci_step"
    summary: ClassVar[str] = "extra CI step"

    @staticmethod
    def applies_to(answers: dict[str, Any]) -> bool:
        return answers.get("ci", "github") != "none"

    @staticmethod
    def workflow(project: Path) -> str:
        github = ".github/workflows/ci.yml"
        return github if (project / github).exists() else ".gitlab-ci.yml"

    def apply(self, project: Path) -> list[str]:
        workflow = self.workflow(project)
        if workflow == ".gitlab-ci.yml":
            replace_once(
                project, workflow, "    - make check\n", "    - make check\n" + DOC_SCRIPT_LINE
            )
        else:
            run = "      - run: make check\n"
            replace_once(project, workflow, run, run + DOC_STEP)
        return [workflow]

    def survived(self, project: Path) -> bool:
        workflow = self.workflow(project)
        text = read(project, workflow)
        if workflow == ".gitlab-ci.yml":
            return DOC_SCRIPT_LINE.strip()[2:] in yaml.safe_load(text)["code"]["script"]
        steps = yaml.safe_load(text)["jobs"]["code"]["steps"]
        return any(step.get("name") == "Documentation builds without warnings" for step in steps)


@dataclass(frozen=True)
class ImageLabel(TeamEdit):
    """A label of the team's on the image: in the template's LABEL block or one of its own."""

    placement: str = "block"
    team: str = "payments"
    kind: ClassVar[str] = "image_label"
    summary: ClassVar[str] = "extra image label"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(["block", "own"]), rng.choice(["payments", "identity", "search"]))

    def line(self) -> str:
        if self.placement == "block":
            return f'      org.opencontainers.image.vendor="Example Corp, {self.team}" \\'
        return f'LABEL com.example.team="{self.team}"'

    def apply(self, project: Path) -> list[str]:
        if self.placement == "block":
            path = project / "Containerfile"
            text = path.read_text(encoding="utf-8")
            title = re.findall(r"^LABEL org\.opencontainers\.image\.title=.*\\\n", text, re.M)
            if len(title) != 1:
                raise EditDoesNotApply("Containerfile: expected one LABEL ...title= line")
            path.write_text(text.replace(title[0], title[0] + self.line() + "\n"), encoding="utf-8")
        else:
            copy = "COPY --from=builder /out/app /app\n"
            replace_once(project, "Containerfile", copy, copy + self.line() + "\n")
        return ["Containerfile"]

    def survived(self, project: Path) -> bool:
        return has_lines(read(project, "Containerfile"), self.line())


@dataclass(frozen=True)
class DenyException(TeamEdit):
    """A cargo-deny exception: an advisory the team accepts, or a licence for one crate."""

    exception: str = "advisory"
    kind: ClassVar[str] = "deny_exception"
    summary: ClassVar[str] = "cargo-deny exception"

    ADVISORY: ClassVar[str] = (
        "# paste is unmaintained; nothing replaces it yet (reviewed by the team).\n"
        'ignore = [{ id = "RUSTSEC-2024-0436", reason = "unmaintained, no fix available" }]\n'
    )
    LICENCE: ClassVar[str] = (
        "# Legal reviewed unicode-ident's Unicode-3.0 data tables for this crate.\n"
        'exceptions = [{ allow = ["Unicode-3.0"], crate = "unicode-ident" }]\n'
    )

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(["advisory", "licence"]))

    def apply(self, project: Path) -> list[str]:
        if self.exception == "advisory":
            replace_once(
                project, "deny.toml", 'yanked = "deny"\n', 'yanked = "deny"\n' + self.ADVISORY
            )
        else:
            anchor = '    "Unicode-3.0",\n]\n'
            replace_once(project, "deny.toml", anchor, anchor + self.LICENCE)
        return ["deny.toml"]

    def survived(self, project: Path) -> bool:
        policy = tomlkit.parse(read(project, "deny.toml"))
        if self.exception == "advisory":
            ignored = policy.get("advisories", {}).get("ignore", [])
            return any(entry.get("id") == "RUSTSEC-2024-0436" for entry in ignored)
        exceptions = policy.get("licenses", {}).get("exceptions", [])
        return any(entry.get("crate") == "unicode-ident" for entry in exceptions)


RENOVATE_RULE = {
    "description": "Patch updates of Cargo dependencies merge themselves once CI passes.",
    "matchManagers": ["cargo"],
    "matchUpdateTypes": ["patch"],
    "automerge": True,
}


@dataclass(frozen=True)
class RenovateRule(TeamEdit):
    """A package rule of the team's in renovate.json."""

    kind: ClassVar[str] = "renovate_rule"
    summary: ClassVar[str] = "Renovate rule"

    @staticmethod
    def applies_to(answers: dict[str, Any]) -> bool:
        # renovate.json exists under these answers (its file name's condition).
        ci = answers.get("ci", "github")
        return ci != "none" or answers.get("template_updates") == "renovate"

    @staticmethod
    def lines() -> str:
        rule = json.dumps(RENOVATE_RULE, indent=2).replace("\n", "\n    ")
        return f'  "packageRules": [\n    {rule}\n  ],'

    def apply(self, project: Path) -> list[str]:
        anchor = '  "lockFileMaintenance": { "enabled": true },\n'
        replace_once(project, "renovate.json", anchor, anchor + self.lines() + "\n")
        return ["renovate.json"]

    def survived(self, project: Path) -> bool:
        text = read(project, "renovate.json")
        return bool(text) and RENOVATE_RULE in json.loads(text).get("packageRules", [])


def routed(text: str, name: str) -> bool:
    """`text` routes `/name` to the handler `name` (on its own line or in a one-line chain)."""
    return re.search(rf'\.route\(\s*"/{name}",\s*get\({name}\)\s*\)', text) is not None


@dataclass(frozen=True)
class RoutesHandler(TeamEdit):
    """A handler written in src/routes.rs next to the template's, and its `.route(...)` line:
    0.1.0 had no src/api.rs, so its routes.rs was where a handler went. Placed directly below
    a template handler whose doc comment and body 0.2.0 rewrote."""

    name: str = "orders"
    below: str = "readyz"
    kind: ClassVar[str] = "routes_handler"
    summary: ClassVar[str] = "handler and route added in src/routes.rs"
    releases: ClassVar[tuple[str, ...]] = ("0.1.0",)

    BELOW: ClassVar[dict[str, str]] = {
        "healthz": '    Json(json!({ "status": "ok" }))\n}\n',
        "readyz": '    Json(json!({ "status": "ready" }))\n}\n',
    }

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(ROUTE_NAMES), rng.choice(sorted(cls.BELOW)))

    def handler(self) -> str:
        return (
            f"/// Lists the {self.name} this service knows about.\n"
            f"async fn {self.name}() -> Json<serde_json::Value> {{\n"
            f'    Json(json!({{ "{self.name}": [] }}))\n'
            "}\n"
        )

    def router_line(self) -> str:
        return f'        .route("/{self.name}", get({self.name}))'

    def apply(self, project: Path) -> list[str]:
        anchor = self.BELOW[self.below]
        replace_once(project, "src/routes.rs", anchor, f"{anchor}\n{self.handler()}")
        upstream = '        .route("/upstream", get(upstream))\n'
        replace_once(project, "src/routes.rs", upstream, upstream + self.router_line() + "\n")
        return ["src/routes.rs"]

    def survived(self, project: Path) -> bool:
        """In routes.rs, or in src/api.rs where an update moved it (the team's own file)."""
        return any(
            has_lines(text, self.handler()) and routed(text, self.name)
            for text in (read(project, "src/routes.rs"), read(project, "src/api.rs"))
        )


@dataclass(frozen=True)
class ApiHandler(Endpoint):
    """A handler in src/api.rs, routed in its router: where 0.2.0's code and README invite
    the team's routes."""

    kind: ClassVar[str] = "api_handler"
    summary: ClassVar[str] = "handler and route added in src/api.rs"
    releases: ClassVar[tuple[str, ...]] = ("0.2.0", "0.3.0")

    def handler(self) -> str:
        return (
            f"/// Lists the {self.name} this service knows about.\n"
            f"async fn {self.name}() -> Json<Value> {{\n"
            f'    Json(json!({{ "{self.name}": [] }}))\n'
            "}\n"
        )

    def apply(self, project: Path) -> list[str]:
        replace_once(
            project,
            "src/api.rs",
            "use axum::Router;\n",
            "use axum::routing::get;\nuse axum::{Json, Router};\nuse serde_json::{Value, json};\n",
        )
        replace_once(
            project,
            "src/api.rs",
            "    Router::new()\n}\n",
            f'    Router::new().route("/{self.name}", get({self.name}))\n}}\n\n{self.handler()}',
        )
        return ["src/api.rs"]

    def survived(self, project: Path) -> bool:
        text = read(project, "src/api.rs")
        return has_lines(text, self.handler()) and routed(text, self.name)


# (variable, field, default, largest value): a limit of the team's own.
SETTINGS = [
    ("APP_PAGE_SIZE", "page_size", 100, 1000),
    ("APP_BATCH_SIZE", "batch_size", 50, 500),
    ("APP_MAX_ITEMS", "max_items", 200, 10_000),
]


@dataclass(frozen=True)
class ConfigSetting(TeamEdit):
    """A setting of the team's own in src/config.rs, read and validated like the template's:
    its row in the module's table, a field, a default and a rule (0.2.0: also a name in
    VARIABLES, since unknown `APP_*` names are refused)."""

    variable: str = "APP_PAGE_SIZE"
    field: str = "page_size"
    default: int = 100
    largest: int = 1000
    kind: ClassVar[str] = "config_setting"
    summary: ClassVar[str] = "setting added in src/config.rs"
    # From 0.3.0 on, a team's settings go in src/settings.rs.
    releases: ClassVar[tuple[str, ...]] = ("0.1.0", "0.2.0")
    # Rarer than a route; and a 0.1.0 service with one stops its update (team_settings_check),
    # so at one in two most of a 0.1.0 fleet would measure nothing else.
    share: ClassVar[float] = 0.2
    # 0.4.0 takes config.rs into the runtime crate: from 0.2.0 too the update stops
    # (runtime_config_check) rather than delete the setting with the file.
    stops_update_from: ClassVar[tuple[str, ...]] = ("0.1.0", "0.2.0")

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(*rng.choice(SETTINGS))

    def rule(self) -> str:
        return f"an integer from 1 to {self.largest}"

    def apply(self, project: Path) -> list[str]:
        text = read(project, "src/config.rs")
        at_0_2_0 = "pub const VARIABLES: [&str; " in text
        ca_row = re.search(r"^//! \| `APP_EXTRA_CA_FILE` *\|.*\n", text, re.M)
        if ca_row is None:
            raise EditDoesNotApply("src/config.rs: no APP_EXTRA_CA_FILE row")
        cells = ca_row[0].split("|")
        row = [
            f" `{self.variable}`".ljust(len(cells[1])),
            f" `{self.default}`".ljust(len(cells[2])),
            f" {self.rule()}".ljust(len(cells[3])),
        ]
        edits = [
            (ca_row[0], ca_row[0] + "//! |" + "|".join(row) + "|\n"),
            (
                "    pub extra_ca_file: Option<PathBuf>,\n",
                "    pub extra_ca_file: Option<PathBuf>,\n"
                "    /// Most items one listing returns.\n"
                f"    pub {self.field}: usize,\n",
            ),
            (
                "            extra_ca_file: None,\n",
                f"            extra_ca_file: None,\n            {self.field}: {self.default},\n",
            ),
        ]
        read_line = '            extra_ca_file: get("APP_EXTRA_CA_FILE").map(PathBuf::from),\n'
        if at_0_2_0:
            count = re.search(r"pub const VARIABLES: \[&str; (\d+)\]", text)
            assert count is not None
            edits += [
                (count[0], f"pub const VARIABLES: [&str; {int(count[1]) + 1}]"),
                (
                    '    "APP_EXTRA_CA_FILE",\n];\n',
                    f'    "APP_EXTRA_CA_FILE",\n    "{self.variable}",\n];\n',
                ),
                (
                    read_line,
                    read_line + f"            {self.field}: "
                    f'count("{self.variable}", d.{self.field}, {self.largest:_})?,\n',
                ),
            ]
        else:
            edits += [
                (
                    read_line,
                    read_line + f"            {self.field}: parse_or(\n"
                    f'                "{self.variable}",\n'
                    f'                get("{self.variable}"),\n'
                    f"                defaults.{self.field},\n"
                    f"                parse_{self.field},\n"
                    "            )?,\n",
                ),
                (
                    "/// Same as `APP_LOG=info`",
                    self.parse_function() + "\n/// Same as `APP_LOG=info`",
                ),
            ]
        for old, new in edits:
            replace_once(project, "src/config.rs", old, new)
        return ["src/config.rs"]

    def parse_function(self) -> str:
        return (
            f"fn parse_{self.field}(value: &str) -> Result<usize, String> {{\n"
            "    match value.parse::<usize>() {\n"
            f"        Ok(value) if (1..={self.largest:_}).contains(&value) => Ok(value),\n"
            f'        _ => Err("{self.rule()}".to_owned()),\n'
            "    }\n"
            "}\n"
        )

    def survived(self, project: Path) -> bool:
        """Declared, defaulted, read by its name and documented; a release that refuses
        unknown `APP_*` names must list it too."""
        text = read(project, "src/config.rs")
        code = "\n".join(line for line in text.splitlines() if not line.startswith("//!"))
        listed = "pub const VARIABLES" not in code or re.search(
            rf"VARIABLES: \[&str; \d+\] = \[[^\]]*\"{self.variable}\"", code
        )
        documented = re.search(rf"^//! \| `{self.variable}` +\| `{self.default}` ", text, re.M)
        return bool(
            f"    pub {self.field}: usize,\n" in text
            and f"            {self.field}: {self.default},\n" in text
            and code.count(f'"{self.variable}"') >= (2 if "pub const VARIABLES" in code else 1)
            and listed
            and documented
        )


TEST_NAMES = ["contract", "probes", "smoke", "warmup"]


@dataclass(frozen=True)
class TeamTest(TeamEdit):
    """An integration test file of the team's beside the template's, with its `mod` line in
    tests/api/main.rs (alphabetical in the first list) and the template's test helpers."""

    name: str = "smoke"
    kind: ClassVar[str] = "team_test"
    summary: ClassVar[str] = "test file beside the template's"

    @classmethod
    def choose(cls, rng: random.Random, answers: dict[str, Any]) -> TeamEdit:
        return cls(rng.choice(TEST_NAMES))

    def module(self) -> str:
        return (
            "use reqwest::StatusCode;\n"
            "\n"
            "use crate::helpers::{TestApp, test_config};\n"
            "\n"
            "#[tokio::test]\n"
            f"async fn {self.name}_healthz_and_readyz_answer() {{\n"
            "    let app = TestApp::spawn(test_config()).await;\n"
            "\n"
            '    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);\n'
            '    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);\n'
            "}\n"
        )

    def apply(self, project: Path) -> list[str]:
        (project / "tests" / "api" / f"{self.name}.rs").write_text(self.module(), encoding="utf-8")
        main = project / "tests" / "api" / "main.rs"
        lines = main.read_text(encoding="utf-8").splitlines(keepends=True)
        # The first `mod` list: where the template's examples are and teams add theirs.
        first = next(i for i, line in enumerate(lines) if line.startswith("mod "))
        end = next(
            (i for i in range(first, len(lines)) if not lines[i].startswith("mod ")), len(lines)
        )
        line = f"mod {self.name};\n"
        at = next((i for i in range(first, end) if lines[i] > line), end)
        lines.insert(at, line)
        main.write_text("".join(lines), encoding="utf-8")
        return [f"tests/api/{self.name}.rs", "tests/api/main.rs"]

    def survived(self, project: Path) -> bool:
        main = read(project, "tests/api/main.rs").splitlines()
        return read(project, f"tests/api/{self.name}.rs") == self.module() and (
            f"mod {self.name};" in main
        )


CATALOGUE: list[type[TeamEdit]] = [
    RouteModule,
    RoutesHandler,
    ApiHandler,
    ConfigSetting,
    TeamTest,
    DependencyFeature,
    ConfigDefault,
    ReadmeSections,
    DeletedExampleTest,
    CiStep,
    ImageLabel,
    DenyException,
    RenovateRule,
]
EDIT_KINDS = {edit.kind: edit for edit in CATALOGUE}


def choose_edits(rng: random.Random, answers: dict[str, Any], release: str) -> list[TeamEdit]:
    """Each edit a service of `release` with these answers invites, with its share (about half
    of them), at least two."""
    possible = [edit for edit in CATALOGUE if edit.made_at(answers, release)]
    chosen = [edit for edit in possible if rng.random() < edit.share]
    for extra in rng.sample(possible, len(possible)):
        if len(chosen) >= 2:
            break
        if extra not in chosen:
            chosen.append(extra)
    return [edit.choose(rng, answers) for edit in CATALOGUE if edit in chosen]
