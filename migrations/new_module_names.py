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

0.3.0 adds two files the team owns from then on, `src/settings.rs` (the service's own `APP_*`
settings, declared in `src/lib.rs`) and `tests/api/api.rs` (the tests of its routes, declared in
`tests/api/main.rs`). A team file of either name would be kept as it is (`_skip_if_exists`) while
the template's `mod` line joins the team's own: the same stop, with the version as argument
(`new_module_names.py 0.3.0`; without one, 0.2.0's names, as CHANGELOG's manual step runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Per release: the module paths (without `.rs`) it adds, each of which a team may have written.
NEW_MODULES = {
    "0.2.0": ["src/api", "src/server"],
    "0.3.0": ["src/settings", "tests/api/api"],
}


# How the template's own copy of a file begins (and the README's whole-file versions of it): a
# service that already has it from the template (a history where an earlier tag held it, a rerun)
# is no clash.
TEMPLATE_OPENINGS = {
    "src/settings.rs": "//! The service's own settings",
    "tests/api/api.rs": "//! Tests of the service's own routes",
}


def from_template(file: Path, path: str) -> bool:
    opening = TEMPLATE_OPENINGS.get(path)
    return opening is not None and file.is_file() and file.read_text().startswith(opening)


def clashes(project: Path, version: str = "0.2.0") -> list[str]:
    found = []
    for module in NEW_MODULES[version]:
        for path in (f"{module}.rs", f"{module}/mod.rs", module):
            if (project / path).exists():
                if not from_template(project / path, path):
                    found.append(path)
                break
    return found


def main() -> int:
    found = clashes(Path.cwd(), *sys.argv[1:2])
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
