"""Copier migration (before updating to 0.3.0): stop, with one line, the update of a service
made before 0.2.0 whose `src/config.rs` reads settings of the team's own.

0.2.0 rewrote config.rs (a `VARIABLES` list that refuses unknown `APP_*` names, new settings,
new rules, a wider table) around the places where a 0.1.0 team added a setting: its table row,
its rule function and its read all end in conflict markers, and even a clean merge would leave
the setting out of `VARIABLES`, so the service would refuse it at start-up. No merge can do
this right, so the update stops before anything changes and says what to do. A 0.1.0
config.rs is told by what 0.1.0 had (no `VARIABLES` list) and its own settings by their names:
any `"APP_..."` 0.1.0 did not read. Runs with copier from `_migrations` (`copier update
--trust`); cruft users run it by hand before `cruft update` (CHANGELOG).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The variables 0.1.0's config.rs read, for every answer.
SETTINGS_0_1_0 = {
    "APP_HOST",
    "APP_PORT",
    "APP_LOG",
    "APP_REQUEST_TIMEOUT_SECS",
    "APP_UPSTREAM_URL",
    "APP_EXTRA_CA_FILE",
}
VARIABLE = re.compile(r'"(APP_[A-Z0-9_]+)"')


def own_settings(config: str) -> list[str]:
    """The team's `APP_*` names in a config.rs as 0.1.0 wrote it (none in a later one)."""
    if "pub const VARIABLES" in config:
        return []
    code = "\n".join(line for line in config.splitlines() if not line.lstrip().startswith("//"))
    return sorted(set(VARIABLE.findall(code)) - SETTINGS_0_1_0)


def main() -> int:
    config = Path("src/config.rs")
    found = own_settings(config.read_text(encoding="utf-8")) if config.is_file() else []
    if not found:
        return 0
    names, them = ", ".join(found), "it" if len(found) == 1 else "them"
    print(
        f"template update stopped: src/config.rs reads this service's own {names}, and the "
        f"template rewrote that file since 0.1.0; move {them} to a module of your own (read "
        f"with std::env::var), commit, and update again, then list {them} in src/settings.rs, "
        'the team\'s place for settings from 0.3.0 on (README, "Your code")',
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
