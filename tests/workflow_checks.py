"""The checkers every GitHub workflow here must pass, the generated ones and the repository's own.

actionlint (with shellcheck for `run:` scripts), zizmor and check-jsonschema run offline; the
two functions below them read the rules those linters leave to us: pins by commit with their
version beside them, one pin per action, and nothing granted by default.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

import yaml

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)$")
SHA = re.compile(r"[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+\.\d+\.\d+(\s+# zizmor: ignore\[[a-z-]+\])?$")


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck on PATH makes actionlint check every `run:` script too.
    return run("actionlint", "-no-color", *files)


def zizmor(*files: Path) -> subprocess.CompletedProcess[str]:
    # Offline: no GitHub API. The auditor persona is the strictest: even likely false positives
    # count, so every suppression is a visible `# zizmor: ignore[...]` with its reason beside it.
    return run(
        *("zizmor", "--offline", "--persona", "auditor", "--no-config", "--color", "never"),
        *files,
    )


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    # GitLab's YAML may use tags such as !reference, which the transform resolves.
    transform = ["--data-transform", "gitlab-ci"] if schema == "vendor.gitlab-ci" else []
    return run("check-jsonschema", "--builtin-schema", schema, *transform, *files)


def linter_findings(*files: Path) -> list[str]:
    """What actionlint, zizmor and the GitHub-workflow schema report on `files`; empty: clean."""
    findings = []
    linted = actionlint(*files)
    if (linted.returncode, linted.stdout) != (0, ""):
        findings.append(f"actionlint: {linted.stdout}{linted.stderr}")
    audited = zizmor(*files)
    if audited.returncode != 0 or "No findings to report" not in audited.stdout + audited.stderr:
        findings.append(f"zizmor: {audited.stdout}{audited.stderr}")
    validated = check_jsonschema("vendor.github-workflows", *files)
    if validated.returncode != 0:
        findings.append(f"check-jsonschema: {validated.stdout}{validated.stderr}")
    return findings


def action_pins(*files: Path) -> dict[str, set[str]]:
    """owner/repo -> every `SHA # vX.Y.Z` it is used at; asserts each use is pinned that way."""
    pins: dict[str, set[str]] = defaultdict(set)
    for workflow in files:
        for line in workflow.read_text(encoding="utf-8").splitlines():
            if (match := USES.match(line)) and not match["action"].startswith("./"):
                assert SHA.fullmatch(match["ref"]), line
                assert VERSION_COMMENT.match(match["comment"]), line
                # owner/repo: sub-actions such as codeql-action/upload-sarif share its pin.
                repository = "/".join(match["action"].split("/")[:2])
                pins[repository].add(match["ref"] + match["comment"])
    return pins


def hardening_gaps(path: Path) -> list[str]:
    """What a workflow grants or keeps beyond least privilege: empty when it is hardened."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = workflow[True]  # PyYAML reads the key `on` as a boolean
    gaps = []
    if "pull_request_target" in triggers:
        gaps.append("pull_request_target runs with the base repository's token")
    if workflow.get("permissions") != {}:
        gaps.append("top-level permissions are not {}")
    if "concurrency" not in workflow:
        gaps.append("no concurrency group")
    for name, job in workflow["jobs"].items():
        if "permissions" not in job:
            gaps.append(f"job {name} states no permissions")
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@") and (
                step.get("with", {}).get("persist-credentials") is not False
            ):
                gaps.append(f"job {name} keeps the checkout's credentials")
    return gaps
