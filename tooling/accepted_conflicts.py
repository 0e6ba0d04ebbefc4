"""The conflicts a fleet update from 0.1.0 is known to leave, each with its cause: the one list.

Keyed by (file, team edit) as the fleet report names them; "(touched)" marks a file the edit
changed without writing lines of its own into the conflict (the lock cargo rewrote). The fleet
test fails on any conflict not listed here, so a template change that collides with a common
edit is noticed, and an entry goes when a boundary change in the template removes its cause.

Empty since the boundary changes of 0.2.0 (README, "Updating a fleet"). What it held, and what
removed each:

- `src/lib.rs` / route_module: the new `mod metrics`, `mod trace_context` and `mod server` among
  the team's modules. Metrics and trace context moved under `telemetry`; `server` and the new
  team-owned `api` are declared in a block of their own.
- `tests/api/main.rs` / deleted_example_test: the new test modules next to a deleted `mod`
  line; they are declared below the example ones now.
- `Cargo.toml` / dependency_feature: the new crates where a team's crate sorts, and the changed
  `tokio` line. The runtime's crates are a block after the team's list and `tokio` is as in
  0.1.0; the one line both sides still change, `default = [...]`, is merged by the
  cargo_default_features.py migration.
- `Cargo.lock` / dependency_feature (touched): taken from the template and re-locked by the
  cargo_lock_from_template.py migration (and, from 0.2.0 on, `make template-update`).
- `src/config.rs` and `README.md` / config_default: `DEFAULT_REQUEST_TIMEOUT` stays where 0.1.0
  had it; the rewritten settings tables take the team's value through the
  request_timeout_default.py migration.

Cruft runs no migrations; the fleet runs the release's scripts by hand for cruft services, as
CHANGELOG asks of their teams.
"""

from __future__ import annotations

ACCEPTED_CONFLICTS: dict[tuple[str, str], str] = {}
