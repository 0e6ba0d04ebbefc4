"""Update simulated fleets of edited services from each earlier release to the working tree.

Usage: .venv/bin/python scripts/fleet_update.py [--from VERSION] [--services N] [--seed S]
                                                [--cargo-check K] [--report PATH] [--keep DIR]

In a throwaway clone of this repository, each release is tagged at its released commit and the
working tree is committed on top as the new version. For each release a fleet starts from
(`--from`, default every one: 0.1.0 and 0.2.0), N services are generated at it (the pairwise
matrix of its choices with varied free text; every third with cruft, the rest with copier),
each gets a seeded selection of the team edits that release invited (tooling/team_edits.py)
and is updated with `copier update` or `cruft update`. K of the services of each fleet a team
could build straight away (no conflict other than Cargo.lock, which takes the template's side)
then run `cargo update --workspace` where the team added a dependency, and `make check`.

Writes PATH (JSON, one report per fleet under "fleets"; default
bench-results/fleet-update.json) and the same name with .md (each fleet's tables), prints the
Markdown, and exits 1 when any edit was lost or any update failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.fleet import run_fleet
from tooling.fleet_report import to_json, to_markdown
from tooling.questions import REPO_ROOT
from tooling.release_history import SOURCE_RELEASES, build_release_history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from",
        dest="releases",
        action="append",
        choices=SOURCE_RELEASES,
        help="the release a fleet starts from (repeatable; default every one)",
    )
    parser.add_argument("--services", type=int, default=24, help="fleet size (default 24)")
    parser.add_argument("--seed", type=int, default=17, help="seed of answers and edits")
    parser.add_argument(
        "--cargo-check", type=int, default=0, metavar="K", help="services to `make check`"
    )
    parser.add_argument(
        "--report", type=Path, default=REPO_ROOT / "bench-results" / "fleet-update.json"
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep the services there")
    args = parser.parse_args()

    progress = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    reports = []
    with tempfile.TemporaryDirectory(prefix="fleet-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        # One history for every fleet: the same tags, the same new version.
        template = build_release_history(workdir / "template")
        for release in args.releases or SOURCE_RELEASES:
            fleet = run_fleet(
                workdir,
                args.services,
                args.seed,
                args.cargo_check,
                progress,
                release=release,
                template=template,
            )
            reports.append(to_json(fleet))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        json.dumps({"fleets": reports}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = "\n".join(to_markdown(report) for report in reports)
    args.report.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    failed = any(
        report["summary"]["edits_lost"] or report["summary"]["update_failed"] for report in reports
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
