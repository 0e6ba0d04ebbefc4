"""Copier migration (updating to 0.2.0): a team's own default for `APP_REQUEST_TIMEOUT_SECS`
carries over into the new settings tables.

0.1.0 set the default in `DEFAULT_REQUEST_TIMEOUT` (src/config.rs) and listed it in two
settings tables, the module's doc comment and the README. 0.2.0 keeps the constant where it was,
so a team's value merges cleanly there, but rewrites both tables (new settings, each rule with
its bound); a team that documented its value in them gets conflicts no merge can resolve, since
both sides changed the same rows. Here a conflict whose team side is nothing but 0.1.0's table,
with the team's timeout, takes the template's table, and the timeout row gets the value the code
now has. Any other conflict is left alone, so nothing the team wrote is dropped. Safe to run
more than once; cruft users run it by hand after `cruft update` (CHANGELOG).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conflict_blocks import resolve_blocks
from runtime_handoff import team_request_timeout

ANY = r"\d+"
# The 0.1.0 tables as the team saw them; the timeout's default and the port are the team's.
TABLES_0_1_0 = {
    "src/config.rs": [
        "//! | Variable                   | Default   | Rule                                  |",
        "//! |----------------------------|-----------|---------------------------------------|",
        "//! | `APP_HOST`                 | `0.0.0.0` | an IP address (`::` for IPv6)         |",
        "//! | `APP_PORT`                 | see below | an integer from 1 to 65535            |",
        "//! | `APP_LOG`                  | `info`    | a `tracing` target filter             |",
        "//! | `APP_REQUEST_TIMEOUT_SECS` | `{timeout}` *| whole seconds, greater than 0         |",
        "//! | `APP_UPSTREAM_URL`         | unset     | an absolute `http`/`https` URL        |",
        "//! | `APP_EXTRA_CA_FILE`        | unset     | path to a PEM bundle of extra roots   |",
    ],
    "README.md": [
        "| Variable | Default | Rule |",
        "| --- | --- | --- |",
        "| `APP_HOST` | `0.0.0.0` | an IP address to listen on (`::` for IPv6) |",
        "| `APP_PORT` | `{port}` | an integer from 1 to 65535 |",
        "| `APP_LOG` | `info` | a log filter: a level, or `target=level` pairs such as "
        "`info,hyper=warn` |",
        "| `APP_REQUEST_TIMEOUT_SECS` | `{timeout}` | whole seconds, greater than 0, for each "
        "outbound request |",
        "| `APP_UPSTREAM_URL` | unset | an absolute `http` or `https` URL for `GET /upstream` |",
        "| `APP_EXTRA_CA_FILE` | unset | a PEM file of CA certificates trusted besides the "
        "built-in roots |",
    ],
}
# The timeout's row in 0.2.0's tables: its default cell (padding kept in the doc comment).
NEW_ROW = re.compile(r"^((?://! )?\| `APP_REQUEST_TIMEOUT_SECS` *\| )`(\d+)`( *)(\|.*)$")


def pattern(line: str) -> re.Pattern[str]:
    escaped = re.escape(line).replace(r"\{timeout\}", ANY).replace(r"\{port\}", ANY)
    return re.compile(escaped.replace(r"\ \*", " *") + "$")


def only_old_table(lines: list[str], old_rows: list[re.Pattern[str]]) -> bool:
    return bool(lines) and all(any(row.match(line) for row in old_rows) for line in lines)


def resolve(text: str, old_rows: list[re.Pattern[str]], timeout: int) -> str:
    """Conflicts whose team side is only the old table take the template's side, and the
    timeout row there takes `timeout`; other conflicts stay as they are."""

    def old_table(team: list[str], template: list[str]) -> list[str] | None:
        if not only_old_table([line.rstrip("\n") for line in team], old_rows):
            return None
        return [with_timeout(line, timeout) for line in template]

    return resolve_blocks(text, old_table)


def with_timeout(line: str, timeout: int) -> str:
    match = NEW_ROW.match(line.rstrip("\n"))
    if not match:
        return line
    cell = f"`{timeout}`"
    padding = max(1, len(f"`{match[2]}`") + len(match[3]) - len(cell)) if match[3] else 0
    return f"{match[1]}{cell}{' ' * padding}{match[4]}\n"


def main() -> int:
    config = Path("src/config.rs")
    timeout = team_request_timeout(config)
    if timeout is None:
        return 0
    for relative, rows in TABLES_0_1_0.items():
        path = Path(relative)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        resolved = resolve(text, [pattern(row) for row in rows], timeout)
        if resolved != text:
            path.write_text(resolved, encoding="utf-8")
            print(
                f"{relative}: the settings table now documents APP_REQUEST_TIMEOUT_SECS={timeout}"
            )
            if "<<<<<<< " not in resolved:
                subprocess.run(["git", "add", "--", relative], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
