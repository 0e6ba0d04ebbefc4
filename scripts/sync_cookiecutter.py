"""Write cookiecutter.json from copier.yml (the single source of the questions).

Usage: python scripts/sync_cookiecutter.py [--check]

With --check, write nothing and exit 1 when cookiecutter.json is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.cookiecutter_json import COOKIECUTTER_JSON, render_cookiecutter_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    args = parser.parse_args()

    expected = render_cookiecutter_json()
    current = COOKIECUTTER_JSON.read_text(encoding="utf-8") if COOKIECUTTER_JSON.exists() else ""
    if args.check:
        if current != expected:
            print("cookiecutter.json is out of date: run python scripts/sync_cookiecutter.py")
            return 1
        return 0
    COOKIECUTTER_JSON.write_text(expected, encoding="utf-8")
    print(f"wrote {COOKIECUTTER_JSON.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
