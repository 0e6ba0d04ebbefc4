"""The rules of the answers are written once (tooling/answer_rules.py) and rendered for every
front door: copier's validators, the cookiecutter hook's data and Backstage's form. What each
door then refuses is compared on one corpus in test_validation.py and test_backstage.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tooling import answer_rules, backstage_template, rule_outputs
from tooling.answer_rules import Rule
from tooling.questions import COPIER_YML, REPO_ROOT


def test_every_generated_file_is_current():
    """copier.yml's validators, the hook's rules, cookiecutter.json and template.yaml."""
    check = subprocess.run(
        [sys.executable, "scripts/sync_cookiecutter.py", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_control_a_validator_edited_by_hand_is_put_back():
    current = COPIER_YML.read_text(encoding="utf-8")
    edited = current.replace("must be at most 200 characters", "must be short", 1)
    assert edited != current
    assert rule_outputs.render_copier_yml(edited) == current


@pytest.fixture
def one_more_rule(monkeypatch: pytest.MonkeyPatch) -> str:
    """The rule table with one rule added, as a maintainer would add it."""
    message = "must not mention flux capacitors"
    added = Rule("description", "excludes", message, pattern="flux capacitor")
    extended = (*answer_rules.rules(), added)
    for module in (answer_rules, rule_outputs, backstage_template):
        monkeypatch.setattr(module, "rules", lambda: extended)
    return f"description: {message}"


def test_one_rule_added_in_one_place_reaches_every_front_door(one_more_rule):
    assert one_more_rule in rule_outputs.render_copier_yml_file()
    assert one_more_rule.split(": ", 1)[1] in rule_outputs.render_hook_file()
    assert one_more_rule in backstage_template.render_template_yaml()


def test_the_hook_holds_no_template_markers_for_cookiecutter_to_read():
    """Cookiecutter renders the hook with Jinja before running it."""
    text = rule_outputs.HOOK.read_text(encoding="utf-8")
    assert text.count("{" + "{") == 1  # its one marker: ANSWERS_JSON
    assert "{" + "%" not in text
    assert "{" + "#" not in text


def test_rust_versions_end_at_the_image_s_toolchain():
    minor, patch = answer_rules.image_toolchain()
    versions = answer_rules.rust_versions()
    assert versions[0] == "1.85"
    assert versions[-1] == f"1.{minor}.{patch}"
    assert "1.85.1" in versions
    assert "1.85.2" not in versions
