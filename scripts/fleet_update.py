"""Update a simulated fleet of edited services from release 0.1.0 to the working tree.

Usage: .venv/bin/python scripts/fleet_update.py [--services N] [--seed S] [--cargo-check K]
                                                [--report PATH] [--keep DIR]

In a throwaway clone of this repository, 0.1.0 is tagged at its released commit and the working
tree is committed on top as the new version. N services are generated at 0.1.0 (the pairwise
matrix of 0.1.0's choices with varied free text; every third with cruft, the rest with copier),
each gets a seeded selection of team edits (tooling/team_edits.py) and is updated with
`copier update` or `cruft update`. K of the services a team could build straight away (no
conflict other than Cargo.lock, which takes the template's side) then run
`cargo update --workspace` where the team added a dependency, and `make check`.

Writes PATH (JSON; default bench-results/fleet-update.json) and the same name with .md, prints
the Markdown, and exits 1 when any edit was lost or any update failed.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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

    with tempfile.TemporaryDirectory(prefix="fleet-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        fleet = run_fleet(
            workdir,
            args.services,
            args.seed,
            args.cargo_check,
            progress=lambda message: print(message, file=sys.stderr, flush=True),
        )
        report = to_json(fleet)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = to_markdown(report)
    args.report.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)
    summary = report["summary"]
    return 1 if summary["edits_lost"] or summary["update_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
