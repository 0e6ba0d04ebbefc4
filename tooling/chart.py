"""Check a generated service's Helm chart and catalog entry with the tools a platform team runs.

Each function runs one real tool and returns its completed process, so tests read the tool's
own words: Helm (lint, template), kubernetes-validate (Kubernetes' JSON schemas, strict),
admission-check (apimachinery's metadata validation and the PodSecurity admission plugin's
evaluator, tooling/admission-check), checkov (its Kubernetes policies) and Backstage's catalog
model (tooling/backstage). scripts/bootstrap installs them all.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tooling.questions import REPO_ROOT

# The Kubernetes version charts are rendered for and validated against: the one Helm 3.22's
# Kubernetes libraries (v0.37) speak, and the newest kubernetes-validate 1.37 knows.
KUBERNETES_VERSION = "1.37.0"
BACKSTAGE_CHECK = REPO_ROOT / "tooling" / "backstage" / "validate-entities.mjs"
# Node 22 from the npm registry, which Backstage's packages ask for (scripts/bootstrap).
NODE = REPO_ROOT / "tooling" / "backstage" / "node_modules" / ".bin" / "node"


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )


def _set_flags(values: dict[str, Any] | None) -> list[str]:
    # --set-json keeps every value's type (a port stays a number, a flag a boolean).
    return [
        argument
        for name, value in (values or {}).items()
        for argument in ("--set-json", f"{name}={json.dumps(value)}")
    ]


def helm_lint(
    chart: Path, values: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """`helm lint --strict`: warnings fail too, and values are checked against the schema."""
    return run(
        "helm", "lint", "--strict", "--kube-version", KUBERNETES_VERSION, chart, *_set_flags(values)
    )


def helm_template(
    chart: Path,
    release: str = "svc",
    namespace: str = "services",
    values: dict[str, Any] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The manifests `helm install` would send, rendered offline."""
    return run(
        *("helm", "template", release, chart, "--namespace", namespace),
        *("--kube-version", KUBERNETES_VERSION),
        *_set_flags(values),
    )


def kubernetes_validate(manifests: Path) -> subprocess.CompletedProcess[str]:
    """Every object against the Kubernetes JSON schemas; --strict refuses unknown fields."""
    return run(
        "kubernetes-validate", "--strict", "--kubernetes-version", KUBERNETES_VERSION, manifests
    )


def admission_check(
    manifests: Path, level: str = "restricted", version: str = "latest"
) -> subprocess.CompletedProcess[str]:
    """What kube-apiserver's validation of names and labels and its PodSecurity admission refuse,
    the standard as of Kubernetes `version` (`latest` or `v1.30`, say)."""
    return run("admission-check", "-level", level, "-version", version, manifests)


def checkov(folder: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """checkov's Kubernetes checks on every manifest file in `folder`, in one run (it takes
    seconds to start): per file name, its `passed_checks`, `failed_checks` and `skipped_checks`.

    Skips come from `checkov.io/skip*` annotations in the manifests, each with its reason there.
    """
    scanned = run(
        *("checkov", "--framework", "kubernetes", "--directory", folder),
        *("--output", "json", "--skip-download"),
    )
    if scanned.returncode not in (0, 1):
        raise RuntimeError(f"checkov could not scan {folder}:\n{scanned.stderr}")
    report = json.loads(scanned.stdout)
    outcomes = ("passed_checks", "failed_checks", "skipped_checks")
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = {
        path.name: {outcome: [] for outcome in outcomes} for path in folder.glob("*.yaml")
    }
    # With nothing to check checkov prints an empty list instead of a report.
    results = report["results"] if isinstance(report, dict) else {}
    for outcome in outcomes:
        for check in results.get(outcome, []):
            by_file[Path(check["file_path"]).name][outcome].append(check)
    unchecked = [name for name, found in by_file.items() if not any(found.values())]
    if unchecked:
        raise RuntimeError(f"checkov checked nothing in {unchecked}: that must not pass")
    return by_file


def backstage_entity_check(catalog_file: Path) -> subprocess.CompletedProcess[str]:
    """The entity as Backstage's catalog would read it (its policies and kind validators)."""
    return run(NODE, BACKSTAGE_CHECK, catalog_file)
