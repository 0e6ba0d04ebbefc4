"""Copier migration (before updating to 0.2.0): stop when the service already has a module of
its own where the new version adds one.

0.2.0 adds `src/server.rs` (the accept loop) and `src/api.rs` (the team's route tree), both
declared in `src/lib.rs`. A service whose team already wrote a module of either name would get
the template's file merged into its own and a second `pub mod` line: a crate that does not
compile, or worse, one that compiles with the template's code in place of the team's. No
merge can tell them apart, so this stops the update before anything changes and says what to
rename. Runs before the update (copier.yml's `_migrations`, `copier update --trust`) only when
crossing 0.2.0, where no such file came from the template; cruft users run it by hand before
`cruft update` (CHANGELOG).
"""

from __future__ import annotations

import sys
from pathlib import Path

NEW_MODULES = ["api", "server"]


def clashes(project: Path) -> list[str]:
    found = []
    for name in NEW_MODULES:
        for path in (f"src/{name}.rs", f"src/{name}/mod.rs", f"src/{name}"):
            if (project / path).exists():
                found.append(path)
                break
    return found


def main() -> int:
    found = clashes(Path.cwd())
    if not found:
        return 0
    names = ", ".join(f"`{path}`" for path in found)
    print(
        f"template update stopped: this service has its own {names}, a module name the template "
        "now uses; rename the module (file and `mod` line), commit, and update again",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
