"""Copier migration (after updating to 0.4.0): the team's code compiles against the runtime
crate, with every module, test and default of the team's kept.

0.4.0 moves the runtime out of `src/` and `tests/api/` into the `service-runtime` crate in
`runtime/`. The update deletes the old runtime files and merges the rest; what no merge can do
is done here, from the service's own last commit (`git show HEAD:...`, the state before the
update), so it is safe to run more than once:

1. `src/lib.rs` and `tests/api/main.rs`: one left in conflict (markers, or a `.rej` file from
   cruft) starts again from the release's file; a module the team declared keeps its line; a
   line whose file the update deleted goes.
2. The team's Rust files (`src/`, `tests/`) name the runtime's items where they now live:
   `crate::routes::AppState` is `crate::AppState`, `crate::config::...` is
   `service_runtime::config::...`, and so on.
3. `src/settings.rs` as 0.3.0 wrote it (an inherent `from_lookup`) gets the
   `service_runtime::Settings` implementation the runtime reads it through.
4. A default the team set for `APP_REQUEST_TIMEOUT_SECS` in the old `src/config.rs` becomes
   `.default_request_timeout(...)` in `src/main.rs` (from what runtime_files_prepare.py took
   out of it, or the last commit's config.rs).
5. Conflicts inside `runtime/` take the template's side: the folder is the template's, and
   git's rename detection can carry a team edit of an old runtime file (`src/config.rs`)
   into the crate's file of the same name.
6. `Cargo.toml`: where the release removed the runtime's crates next to a crate the team added
   (alphabetical order puts them together), the team's lines stay and the runtime's go.
7. A `.route(...)` line the team added to the old `src/routes.rs` for a handler of its own
   (0.1.0 invited that; the 0.3.0 update moved only handlers written in routes.rs itself) joins
   the router in `src/api.rs`, which is then formatted with rustfmt when it is installed.

cruft users run it by hand after `cruft update` (CHANGELOG).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conflict_blocks import resolve_blocks
from runtime_files_prepare import ROUTE_LINE, RUNTIME_FILES, RUNTIME_PATHS, RUNTIME_REQUEST_TIMEOUT
from runtime_handoff import at_head, read_handoff, team_request_timeout

# The release's tree, beside this script in the template's checkout.
TEMPLATE_TREE = Path(__file__).resolve().parent.parent / "template"

# Modules of the runtime that services carried before 0.4.0, by the file declaring them.
RUNTIME_MODULES = {
    declaring: {Path(file).stem for file in RUNTIME_FILES if Path(file).parent.as_posix() == folder}
    for declaring, folder in (("src/lib.rs", "src"), ("tests/api/main.rs", "tests/api"))
}
MOD_LINE = re.compile(r"^(?:pub )?mod ([a-z_][a-z0-9_]*);$")
ATTRIBUTE = re.compile(r"^#\[[^\]]*\]$")
SETTINGS_IMPL = """
// Added by the 0.4.0 update: the runtime reads the settings through this trait.
impl service_runtime::Settings for Settings {
    const VARIABLES: &'static [&'static str] = VARIABLES;

    fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // The inherent `from_lookup` above.
        Self::from_lookup(get)
    }
}
"""


def module_file_exists(folder: Path, name: str) -> bool:
    return (folder / f"{name}.rs").is_file() or (folder / name / "mod.rs").is_file()


def declared(lines: list[str]) -> dict[str, int]:
    return {m[1]: i for i, line in enumerate(lines) if (m := MOD_LINE.match(line.rstrip("\n")))}


def in_mod_group(line: str) -> bool:
    text = line.rstrip("\n")
    return bool(MOD_LINE.match(text) or ATTRIBUTE.match(text))


def sorted_mod_groups(lines: list[str]) -> list[str]:
    """Each group of `mod` lines (until a blank line or a comment; attributes go with the line
    below them) in rustfmt's order, by name, as `cargo fmt --check` wants it."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not in_mod_group(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        items: list[tuple[str, list[str]]] = []
        pending: list[str] = []
        while i < len(lines) and in_mod_group(lines[i]):
            pending.append(lines[i])
            if found := MOD_LINE.match(lines[i].rstrip("\n")):
                items.append((found[1], pending))
                pending = []
            i += 1
        out.extend(line for _, item in sorted(items, key=lambda item: item[0]) for line in item)
        out.extend(pending)
    return out


def settle_modules(relative: str) -> bool:
    """Conflicts resolved, the team's modules declared, deleted modules' lines gone."""
    path = Path(relative)
    if not path.is_file():
        return False
    folder = path.parent
    text = path.read_text(encoding="utf-8")
    rejected = Path(f"{relative}.rej")
    released = TEMPLATE_TREE / relative
    start = text
    if ("<<<<<<< " in text or rejected.is_file()) and released.is_file():
        start = released.read_text(encoding="utf-8")
        rejected.unlink(missing_ok=True)
    lines = start.splitlines(keepends=True)
    # Declarations the team had before the update, for modules whose files are still here.
    runtime = RUNTIME_MODULES[relative]
    modules = declared(lines)
    team_lines = [
        line
        for line in at_head(relative).splitlines(keepends=True)
        if (m := MOD_LINE.match(line.rstrip("\n")))
        and m[1] not in runtime
        and m[1] not in modules
        and module_file_exists(folder, m[1])
    ]
    if team_lines and modules:
        at = max(i for name, i in modules.items() if name != "api") + 1
        lines[at:at] = team_lines
    # A declaration of a module the update deleted, with the attributes above it.
    kept: list[str] = []
    for line in lines:
        m = MOD_LINE.match(line.rstrip("\n"))
        if m and m[1] in runtime and not module_file_exists(folder, m[1]):
            while kept and ATTRIBUTE.match(kept[-1].rstrip("\n")):
                kept.pop()
            continue
        kept.append(line)
    settled = "".join(sorted_mod_groups(kept))
    if settled == text:
        return False
    path.write_text(settled, encoding="utf-8")
    return True


def crate_name() -> str:
    manifest = Path("Cargo.toml").read_text(encoding="utf-8")
    name = re.search(r'^name = "([^"]+)"$', manifest, re.M)
    return name[1].replace("-", "_") if name else "crate"


def new_paths(text: str, own_crate: str) -> str:
    """Paths into the old in-service runtime, pointed at the runtime crate."""
    runtime = "app|client|config|healthcheck|server|shutdown|telemetry"
    items = "Application|Config|StartupError|Stopped|error_chain"
    for owner in ("crate", own_crate):
        # The state and the error answer are re-exported by the service's lib.rs.
        text = re.sub(rf"\b{owner}::routes::(AppState|ApiError)\b", rf"{owner}::\1", text)
        text = re.sub(rf"\b{owner}::routes::\{{", f"{owner}::{{", text)
        text = re.sub(rf"\b{owner}::({runtime}|{items})\b", r"service_runtime::\1", text)
    return text


def rewrite_paths() -> list[str]:
    own_crate = crate_name()
    changed = []
    for folder in (Path("src"), Path("tests")):
        for path in sorted(folder.rglob("*.rs")) if folder.is_dir() else []:
            text = path.read_text(encoding="utf-8")
            rewritten = new_paths(text, own_crate)
            if rewritten != text:
                path.write_text(rewritten, encoding="utf-8")
                changed.append(str(path))
    return changed


def implement_settings() -> bool:
    path = Path("src/settings.rs")
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if "service_runtime::Settings for Settings" in text or "impl Settings {" not in text:
        return False
    path.write_text(text.rstrip("\n") + "\n" + SETTINGS_IMPL, encoding="utf-8")
    return True


def carry_request_timeout() -> bool:
    timeout = team_request_timeout()
    main = Path("src/main.rs")
    if timeout in (None, RUNTIME_REQUEST_TIMEOUT) or not main.is_file():
        return False
    text = main.read_text(encoding="utf-8")
    port = re.search(r"^( +)\.default_port\(\d+\)\n", text, re.M)
    if port is None or ".default_request_timeout(" in text:
        return False
    line = f"{port[1]}.default_request_timeout(Duration::from_secs({timeout}))\n"
    main.write_text(text[: port.end()] + line + text[port.end() :], encoding="utf-8")
    return True


def carry_routes() -> bool:
    api = Path("src/api.rs")
    if Path("src/routes.rs").is_file() or not api.is_file():
        return False
    text = api.read_text(encoding="utf-8")
    lines = read_handoff().get("routes") or at_head("src/routes.rs").splitlines()
    routes = [
        (m[0].strip(), m[2])
        for line in lines
        if (m := ROUTE_LINE.match(line)) and m[1] not in RUNTIME_PATHS
    ]
    routes = [(route, method) for route, method in routes if route not in text]
    start = text.find("pub fn router()")
    chain = text.find("Router::new()", start)
    if not routes or start < 0 or chain < 0:
        return False
    at = chain + len("Router::new()")
    text = text[:at] + "".join(f"\n        {route}" for route, _ in routes) + text[at:]
    methods = sorted({method for _, method in routes} - imported_methods(text))
    if methods:
        names = methods[0] if len(methods) == 1 else "{" + ", ".join(methods) + "}"
        text = text.replace("use axum::", f"use axum::routing::{names};\nuse axum::", 1)
    api.write_text(text, encoding="utf-8")
    # rustfmt decides whether the chain fits on one line; without it the team runs `cargo fmt`.
    subprocess.run(["rustfmt", "--edition", "2024", str(api)], capture_output=True, check=False)
    return True


def imported_methods(text: str) -> set[str]:
    found: set[str] = set()
    for names in re.findall(r"^use axum::routing::\{?([^};]*)\}?;$", text, re.M):
        found |= {name.strip() for name in names.split(",")}
    return found


# Dependencies of the service before 0.4.0 that are the runtime crate's since.
RUNTIME_CRATES = {"hyper", "hyper-util", "libc", "prometheus-client", "reqwest", "rustls"}
RUNTIME_CRATES |= {"tower-http", "tracing-subscriber", "webpki-roots"}
DEPENDENCY = re.compile(r"^([A-Za-z0-9_-]+) = ")


def without_runtime_crates(team: list[str], template: list[str]) -> list[str] | None:
    """A conflict where the release only removed lines: the team's side without the runtime's
    crates (and the comment lines right above each)."""
    if not all(line in team for line in template):
        return None
    kept: list[str] = []
    for line in team:
        entry = DEPENDENCY.match(line)
        if entry and entry[1] in RUNTIME_CRATES:
            while kept and kept[-1].startswith("#"):
                kept.pop()
            continue
        kept.append(line)
    return kept


def settle_manifest() -> bool:
    path = Path("Cargo.toml")
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    settled = resolve_blocks(text, without_runtime_crates)
    if settled == text:
        return False
    path.write_text(settled, encoding="utf-8")
    return True


def runtime_as_released() -> list[str]:
    taken = []
    for path in sorted(Path("runtime").rglob("*")):
        if path.suffix == ".rej":
            path.unlink()
            continue
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "<<<<<<< " in text:
            path.write_text(resolve_blocks(text, lambda _team, template: template), "utf-8")
            taken.append(str(path))
    return taken


def main() -> int:
    if not Path("runtime/Cargo.toml").is_file():
        return 0
    touched = runtime_as_released()
    if settle_manifest():
        touched.append("Cargo.toml")
    touched += [relative for relative in RUNTIME_MODULES if settle_modules(relative)]
    touched += rewrite_paths()
    if implement_settings():
        touched.append("src/settings.rs")
    if carry_request_timeout():
        touched.append("src/main.rs")
    if carry_routes():
        touched.append("src/api.rs")
    # The update deleted the old runtime files from the tree; the index follows, also for one
    # the before-migration restored and staged.
    for relative in RUNTIME_FILES:
        if not Path(relative).exists():
            git_rm = ["git", "rm", "--cached", "--quiet", "--ignore-unmatch", "--", relative]
            subprocess.run(git_rm, check=False, capture_output=True)
    # A file the merge left unmerged and that is settled now is marked resolved; nothing else
    # is staged, so a new file stays untracked and Renovate's pull request carries it.
    unmerged = subprocess.run(
        ["git", "diff", "--name-only", "--diff-filter=U"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for relative in dict.fromkeys(touched):
        print(f"{relative}: moved onto the runtime crate (runtime/)")
        settled = "<<<<<<< " not in Path(relative).read_text(encoding="utf-8")
        if relative in unmerged and settled:
            subprocess.run(["git", "add", "--", relative], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
