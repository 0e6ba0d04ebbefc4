"""Copier migration (before updating to 0.4.0): the old runtime files are made exactly what the
update expects to delete, and what the team had written in them is kept for the after-migration.

0.4.0 deletes the runtime's files from `src/` and `tests/api/` (they moved into the crate in
`runtime/`). Copier deletes them whatever they hold; cruft applies a patch, and `git apply -3`
refuses the whole patch when it deletes a file that is not there or not as expected, then falls
back to `--reject`, leaving `.rej` files across the tree. So, before the update:

- a runtime file the team deleted (an example test it did not want) comes back as the service's
  history last had it;
- `.route(...)` lines the team added to `src/routes.rs` for handlers of its own are taken out;
- a default the team gave `APP_REQUEST_TIMEOUT_SECS` in `src/config.rs` (the constant, its test
  and its table row) goes back to the template's 10.

What was taken out is handed to runtime_crate_layout.py (runtime_handoff.py), which puts it in
`src/api.rs` and `src/main.rs`. Changed files are staged. Runs with copier from `_migrations`
(`copier update --trust`); cruft users run it by hand before `cruft update` and commit (CHANGELOG).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from runtime_handoff import write_handoff

# Files the releases before 0.4.0 put in a service and 0.4.0 removes.
RUNTIME_FILES = [
    *(f"src/{name}.rs" for name in ("app", "client", "config", "healthcheck", "routes")),
    *(f"src/{name}.rs" for name in ("server", "shutdown", "telemetry")),
    *(f"src/telemetry/{name}.rs" for name in ("json_lines", "log_buffer", "metrics")),
    "src/telemetry/trace_context.rs",
    *(f"tests/api/{name}.rs" for name in ("healthcheck", "limits", "logs", "metrics")),
    *(f"tests/api/{name}.rs" for name in ("routes", "shutdown", "tls", "trace_context")),
]
# One `.route(...)` call on its own line, and the paths the runtime serves itself.
ROUTE_LINE = re.compile(r'^ *\.route\("([^"]*)", *(get|post|put|patch|delete)\(.*\)\)$')
RUNTIME_PATHS = {"/healthz", "/readyz", "/upstream", "/metrics"}
RUNTIME_REQUEST_TIMEOUT = 10
TIMEOUT_LINES = [
    re.compile(r"^(const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs\()(\d+)(\);)$"),
    re.compile(r"^( *assert_eq!\(config\.request_timeout, Duration::from_secs\()(\d+)(\)\);)$"),
]
TIMEOUT_ROW = re.compile(r"^(//! \| `APP_REQUEST_TIMEOUT_SECS` *\| )`(\d+)`( *)(\|.*)$")


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def last_content(relative: str) -> str | None:
    """The file as it was just before the commit that deleted it, if one did."""
    deleted_in = git("log", "-1", "--format=%H", "--diff-filter=D", "--", relative).stdout.strip()
    if not deleted_in:
        return None
    shown = git("show", f"{deleted_in}^:{relative}")
    return shown.stdout if shown.returncode == 0 else None


def restore_deleted() -> list[str]:
    restored = []
    for relative in RUNTIME_FILES:
        path = Path(relative)
        content = None if path.exists() else last_content(relative)
        if content is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        restored.append(relative)
    return restored


def take_routes() -> list[str]:
    """The team's route lines, out of routes.rs."""
    path = Path("src/routes.rs")
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    team = [
        line
        for line in lines
        if (m := ROUTE_LINE.match(line.rstrip("\n"))) and m[1] not in RUNTIME_PATHS
    ]
    if team:
        path.write_text("".join(line for line in lines if line not in team), encoding="utf-8")
    return [line.strip() for line in team]


def take_request_timeout() -> int | None:
    """The team's request timeout, with config.rs set back to the template's: the constant,
    and the test and table row that state the same value."""
    path = Path("src/config.rs")
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    constant, assertion = TIMEOUT_LINES
    found = next((int(m[2]) for line in lines if (m := constant.match(line.rstrip("\n")))), None)
    if found in (None, RUNTIME_REQUEST_TIMEOUT):
        return None
    for i, line in enumerate(lines):
        text = line.rstrip("\n")
        for pattern in (constant, assertion):
            if (m := pattern.match(text)) and int(m[2]) == found:
                lines[i] = f"{m[1]}{RUNTIME_REQUEST_TIMEOUT}{m[3]}\n"
        if (m := TIMEOUT_ROW.match(text)) and int(m[2]) == found:
            width = len(f"`{m[2]}`{m[3]}")
            cell = f"`{RUNTIME_REQUEST_TIMEOUT}`".ljust(width)
            lines[i] = f"{m[1]}{cell}{m[4]}\n"
    path.write_text("".join(lines), encoding="utf-8")
    return found


def main() -> int:
    changed = restore_deleted()
    routes = take_routes()
    if routes:
        changed.append("src/routes.rs")
    timeout = take_request_timeout()
    if timeout is not None:
        changed.append("src/config.rs")
    if routes or timeout is not None:
        write_handoff({"routes": routes, "request_timeout": timeout})
    for relative in changed:
        # In the index too: `git apply -3` works on both.
        git("add", "--", relative)
        print(f"{relative}: as the template wrote it, for the update to delete (runtime/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
