"""The conflicts a fleet update from an earlier release (0.1.0 or 0.2.0) is known to leave, each
with its cause: the one list.

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

Measured again from 0.1.0 and from 0.2.0 to 0.3.0 with the edits 0.1.0's code invited; 0.3.0's
migrations and boundaries removed these:

- `src/routes.rs` / routes_handler: a handler written below a template handler 0.2.0 rewrote.
  team_routes_to_api.py moves the team's handlers and their routes to src/api.rs first (one
  that uses routes.rs's private items stops the update with one line).
- `src/config.rs` / config_setting: a 0.1.0 team's setting (table row, rule, read) against the
  rewritten file. team_settings_check.py stops the update with one line before the merge.
- `tests/api/main.rs` / team_test: a team test module sorting after `tls` against 0.2.0's
  block appended there; team_test_modules.py keeps it in the team's list.
- `src/config.rs` / config_setting from 0.2.0: a team's field, default and read appended after
  `extra_ca_file`, where 0.3.0 first added its `settings`; `settings` comes first instead.
- `README.md` / readme_sections from 0.2.0: the team's Ownership section before `## Configure`
  met 0.3.0's "Your code" section placed right after Run, and its runbook appended at the end
  met 0.3.0's new closing paragraph on Renovate. "Your code" follows Configure instead, and the
  README's last line stays 0.2.0's.

Cruft runs no migrations; the fleet runs the release's scripts by hand for cruft services, as
CHANGELOG asks of their teams.
"""

from __future__ import annotations

ACCEPTED_CONFLICTS: dict[tuple[str, str], str] = {}
