"""Render the questions and their rules for every front door.

Usage: python scripts/sync_cookiecutter.py [--check]

Sources: copier.yml's questions (help, defaults, choices) and tooling/answer_rules.py's rules.
Written: copier.yml's validators, the rule data of hooks/pre_gen_project.py, cookiecutter.json
(cookiecutter and cruft) and template.yaml (the Backstage Software Template). With --check,
write nothing and exit 1 when any is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.backstage_template import TEMPLATE_YAML, render_template_yaml
from tooling.cookiecutter_json import COOKIECUTTER_JSON, render_cookiecutter_json
from tooling.questions import COPIER_YML
from tooling.rule_outputs import HOOK, render_copier_yml_file, render_hook_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether they are current")
    args = parser.parse_args()

    # template.yaml takes its derived defaults from cookiecutter.json: that one first.
    generated = [
        (COPIER_YML, render_copier_yml_file),
        (HOOK, render_hook_file),
        (COOKIECUTTER_JSON, render_cookiecutter_json),
        (TEMPLATE_YAML, render_template_yaml),
    ]
    stale = []
    for path, render in generated:
        expected = render()
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == expected:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(expected, encoding="utf-8")
            print(f"wrote {path.name}")
    if args.check and stale:
        print(f"{', '.join(stale)} out of date: run python scripts/sync_cookiecutter.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
