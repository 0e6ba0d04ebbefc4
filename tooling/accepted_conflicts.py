"""The conflicts a fleet update from 0.1.0 is known to leave, each with its cause: the one list.

Keyed by (file, team edit) as the fleet report names them; "(touched)" marks a file the edit
changed without writing lines of its own into the conflict (the lock cargo rewrote). The fleet
test fails on any conflict not listed here, so a template change that collides with a common
edit is noticed, and an entry goes when a boundary change in the template removes its cause.
"""

from __future__ import annotations

ACCEPTED_CONFLICTS: dict[tuple[str, str], str] = {
    ("Cargo.toml", "dependency_feature"): (
        "the service runtime (0cfb063) adds hyper, hyper-util and libc to [dependencies] "
        "where the team's alphabetical entry goes"
    ),
    ("Cargo.lock", "dependency_feature (touched)"): (
        "the same change adds hyper, hyper-util, libc and tower-http to the root package's "
        "list next to the team's crate; the README's rule: take the template's lock, then "
        "`cargo update --workspace`"
    ),
    ("src/config.rs", "config_default"): (
        "the strict configuration (0cfb063) rewrites the settings table and replaces the "
        "DEFAULT_REQUEST_TIMEOUT constant the team changed"
    ),
    ("README.md", "config_default"): (
        "the generated README's settings table (ab71a7a) rewrites the rows around the "
        "timeout row the team changed"
    ),
    ("tests/api/main.rs", "deleted_example_test"): (
        "the runtime's new test modules (0cfb063) are declared next to the `mod` line the "
        "team deleted"
    ),
    ("src/lib.rs", "route_module"): (
        "metrics and trace context (#14) declare `mod metrics` and `mod trace_context` in the "
        "alphabetical module list where the team's route module is declared; the planned fix "
        "is a team-owned module tree the template never edits"
    ),
}
