"""Copier migration (before updating to 0.4.0): stop, with one line, the update of a service
whose `src/config.rs` reads settings of the team's own.

0.4.0 moves config.rs into the runtime crate (runtime/): the update deletes the service's copy,
and a setting the team added there would go with it. From 0.3.0 on a team's settings belong in
`src/settings.rs`, which the update keeps; a 0.2.0 team had no such file and added its settings
to config.rs's `VARIABLES` list. No merge can move a setting between files, so the update stops
before anything changes and says what to do. (A 0.1.0 config.rs, which had no `VARIABLES` list,
is stopped by the 0.3.0 check.) Runs with copier from `_migrations` (`copier update --trust`);
cruft users run it by hand before `cruft update` (CHANGELOG).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The variables config.rs read from 0.2.0 to 0.3.0, for every answer.
RUNTIME_SETTINGS = {
    "APP_HOST",
    "APP_PORT",
    "APP_LOG",
    "APP_REQUEST_TIMEOUT_SECS",
    "APP_HANDLER_TIMEOUT_SECS",
    "APP_HEADER_READ_TIMEOUT_SECS",
    "APP_MAX_CONNECTIONS",
    "APP_UPSTREAM_CONCURRENCY",
    "APP_SHUTDOWN_DRAIN_SECS",
    "APP_SHUTDOWN_TIMEOUT_SECS",
    "APP_UPSTREAM_URL",
    "APP_EXTRA_CA_FILE",
}
VARIABLES_LIST = re.compile(r"pub const VARIABLES: \[&str; \d+\] = \[(.*?)\];", re.S)
VARIABLE = re.compile(r'"(APP_[A-Z0-9_]+)"')


def own_settings(config: str) -> list[str]:
    """The team's names in the `VARIABLES` list of a 0.2.0 or 0.3.0 config.rs."""
    listed = VARIABLES_LIST.search(config)
    if listed is None:
        return []
    return sorted(set(VARIABLE.findall(listed[1])) - RUNTIME_SETTINGS)


def main() -> int:
    config = Path("src/config.rs")
    found = own_settings(config.read_text(encoding="utf-8")) if config.is_file() else []
    if not found:
        return 0
    names, them = ", ".join(found), "it" if len(found) == 1 else "them"
    # settings.rs came with 0.3.0: a 0.2.0 service takes that release first.
    first = "" if Path("src/settings.rs").is_file() else "update to 0.3.0 first, then "
    print(
        f"template update stopped: src/config.rs reads this service's own {names}, and 0.4.0 "
        f"moves that file into the runtime crate; {first}move {them} to src/settings.rs "
        '(README, "Your code"), commit, and update again',
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
