"""Rung 4 for the generated CI: valid, hardened, pinned, and running what the tests run.

actionlint (with shellcheck for `run:` scripts), zizmor and check-jsonschema run offline on the
files of every matrix row; a few controls break a file on purpose to show each linter can fail.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.workflow_checks import (
    action_pins,
    actionlint,
    check_jsonschema,
    hardening_gaps,
    linter_findings,
    run,
    workflows,
    zizmor,
)
from tooling.cargo import make
from tooling.questions import choice_matrix, combination_id
from tooling.trivy import OFFLINE_FLAGS

CHOICE_MATRIX = choice_matrix()
GITHUB_ROWS = [answers for answers in CHOICE_MATRIX if answers["ci"] == "github"]
GITLAB_ROWS = [answers for answers in CHOICE_MATRIX if answers["ci"] == "gitlab"]
RENOVATE_ROWS = [
    answers
    for answers in CHOICE_MATRIX
    if answers["ci"] != "none" or answers["template_updates"] == "renovate"
]
CI_FILES = [".github", ".gitlab-ci.yml", ".trivyignore.yaml"]


def test_matrix_covers_every_ci_choice_and_update_mechanism():
    assert {answers["ci"] for answers in CHOICE_MATRIX} == {"github", "gitlab", "none"}
    assert {(answers["ci"], answers["template_updates"]) for answers in CHOICE_MATRIX} == {
        ("github", "workflow"),
        ("github", "renovate"),
        ("github", "none"),
        ("gitlab", "renovate"),
        ("gitlab", "none"),
        ("none", "renovate"),
        ("none", "none"),
    }


def test_ci_none_generates_no_ci_files(render):
    project = render({"ci": "none", "template_updates": "none"})

    assert [name for name in [*CI_FILES, "renovate.json"] if (project / name).exists()] == []
    # The checks themselves stay: people run them without CI.
    assert (project / "Makefile").is_file()


def test_each_ci_choice_generates_only_its_own_files(render):
    github = render({"ci": "github"}, name="github")
    gitlab = render({"ci": "gitlab"}, name="gitlab")

    assert [path.name for path in workflows(github)] == ["ci.yml", "template-update.yml"]
    assert not (github / ".gitlab-ci.yml").exists()
    assert (gitlab / ".gitlab-ci.yml").is_file()
    assert not (gitlab / ".github").exists()


@pytest.mark.parametrize("answers", GITHUB_ROWS, ids=combination_id)
def test_github_workflows_pass_actionlint_zizmor_and_schema(render, answers):
    files = workflows(render(answers))
    assert files

    assert linter_findings(*files) == []


@pytest.mark.parametrize("answers", GITLAB_ROWS, ids=combination_id)
def test_gitlab_pipeline_matches_gitlabs_schema(render, answers):
    pipeline = render(answers) / ".gitlab-ci.yml"
    validated = check_jsonschema("vendor.gitlab-ci", pipeline)
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize("answers", RENOVATE_ROWS, ids=combination_id)
def test_renovate_config_matches_renovates_schema(render, answers):
    config = render(answers) / "renovate.json"
    validated = check_jsonschema("vendor.renovate", config)
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize("answers", GITHUB_ROWS, ids=combination_id)
def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment(render, answers):
    pins = action_pins(*workflows(render(answers)))
    assert pins
    # One pin per action across all workflows, so one Renovate update moves them together.
    assert {action: len(refs) for action, refs in pins.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("answers", GITHUB_ROWS, ids=combination_id)
def test_workflows_grant_nothing_by_default_and_each_job_states_its_permissions(render, answers):
    for path in workflows(render(answers)):
        assert hardening_gaps(path) == [], path.name


def test_ci_code_checks_are_the_makefile_targets_the_template_tests_run(render):
    github = yaml.safe_load(
        (render({"ci": "github"}, name="gh") / ".github/workflows/ci.yml").read_text()
    )
    gitlab = yaml.safe_load(
        (
            render({"ci": "gitlab", "template_updates": "none"}, name="gl") / ".gitlab-ci.yml"
        ).read_text()
    )

    github_runs = [step.get("run") for step in github["jobs"]["code"]["steps"]]
    assert "make check" in github_runs
    assert gitlab["code"]["script"] == ["make check"]
    # The MSRV job runs the target tests/test_service_build.py runs, and gates publishing.
    assert "make msrv" in [step.get("run") for step in github["jobs"]["msrv"]["steps"]]
    assert gitlab["msrv"]["script"] == ["make msrv"]
    assert "msrv" in github["jobs"]["publish"]["needs"]
    assert "msrv" in gitlab["publish"]["needs"]
    # The chart job runs the target tests/test_chart.py runs, and gates publishing too.
    assert "make deploy-check" in [step.get("run") for step in github["jobs"]["chart"]["steps"]]
    assert gitlab["chart"]["script"][-1] == "make deploy-check HELM=./helm"
    assert "chart" in github["jobs"]["publish"]["needs"]
    assert "chart" in gitlab["publish"]["needs"]
    image_runs = [step.get("run", "") for step in github["jobs"]["image"]["steps"]]
    assert any(run.startswith("make image-size") for run in image_runs)
    assert gitlab["image-size"]["script"] == ["make image-size IMAGE_ARCHIVE=image.tar"]


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_pipelines_lint_the_chart_only_when_there_is_one(render, ci):
    for deploy in ("helm", "none"):
        answers = {"ci": ci, "template_updates": "none", "deploy": deploy}
        project = render(answers, name=f"{ci}-{deploy}")
        if ci == "github":
            jobs = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]
        else:
            jobs = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
        assert ("chart" in jobs) == (deploy == "helm")
        assert ("chart" in jobs["publish"]["needs"]) == (deploy == "helm")


def test_trivy_gate_fails_on_high_and_critical_and_honours_the_ignore_file(render):
    project = render({"ci": "github"})
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    trivy_steps = [
        step
        for step in workflow["jobs"]["image"]["steps"]
        if step.get("uses", "").startswith("aquasecurity/trivy-action@")
    ]
    gate = next(step["with"] for step in trivy_steps if step["with"].get("exit-code") == "1")

    assert workflow["env"]["TRIVY_SEVERITY"] == "CRITICAL,HIGH"
    assert gate["severity"] == "${{ env.TRIVY_SEVERITY }}"
    assert gate["ignore-unfixed"] is True
    assert gate["trivyignores"] == ".trivyignore.yaml"
    assert yaml.safe_load((project / ".trivyignore.yaml").read_text()) == {"vulnerabilities": []}
    assert len(workflow["env"]["TRIVY_DB_REPOSITORY"].split(",")) >= 2


# Controls: the linters above can fail, and fail for the reason they are there.


def broken_ci_workflow(render, tmp_path: Path, old: str, new: str) -> Path:
    """The default CI workflow with one change made, written beside the test."""
    text = (render({"ci": "github"}) / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    broken = tmp_path / "ci.yml"
    broken.write_text(re.sub(old, new, text), encoding="utf-8")
    assert broken.read_text(encoding="utf-8") != text
    return broken


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        (r"(actions/checkout)@[0-9a-f]{40}", r"\1@v7", "unpinned-uses"),
        (
            r"run: make check",
            'run: echo "${{ github.event.pull_request.title }}" && make check',
            "template-injection",
        ),
        (r"persist-credentials: false", "persist-credentials: true", "artipacked"),
    ],
    ids=["tag-pin", "untrusted-input", "persisted-credentials"],
)
def test_control_zizmor_refuses_what_it_is_there_to_refuse(render, tmp_path, old, new, finding):
    audited = zizmor(broken_ci_workflow(render, tmp_path, old, new))
    assert audited.returncode != 0
    assert finding in audited.stdout


def test_control_actionlint_refuses_an_unknown_expression(render, tmp_path):
    broken = broken_ci_workflow(
        render, tmp_path, r"\$\{\{ env\.TRIVY_SEVERITY \}\}", "${{ envs.TRIVY_SEVERITY }}"
    )
    linted = actionlint(broken)
    assert linted.returncode != 0
    assert "envs" in linted.stdout


def test_control_gitlab_schema_refuses_an_unknown_job_keyword(render, tmp_path):
    pipeline = render({"ci": "gitlab", "template_updates": "none"}) / ".gitlab-ci.yml"
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(
        pipeline.read_text().replace("  script:\n    - make check", "  scripts:\n    - make check")
    )

    assert check_jsonschema("vendor.gitlab-ci", broken).returncode != 0


@pytest.mark.parametrize("answers", GITLAB_ROWS, ids=combination_id)
def test_gitlab_job_scripts_pass_shellcheck(render, answers, tmp_path):
    """GitLab runs each job's lines with sh; shellcheck reads them as one POSIX script each."""
    pipeline = yaml.safe_load((render(answers) / ".gitlab-ci.yml").read_text())
    jobs = {
        name: job
        for name, job in pipeline.items()
        if isinstance(job, dict) and ("script" in job or "before_script" in job)
    }
    assert {"code", "build-image", "trivy-report", "trivy-gate", "publish"} <= set(jobs)
    for name, job in jobs.items():
        script = tmp_path / f"{name.lstrip('.')}.sh"
        lines = job.get("before_script", []) + job.get("script", [])
        script.write_text("#!/bin/sh\nset -e\n" + "\n".join(lines) + "\n", encoding="utf-8")
        checked = run("shellcheck", "--shell", "sh", script)
        assert checked.returncode == 0, f"{name}:\n{checked.stdout}"


def trivy_secret_gate(folder: Path, ignorefile: Path, cache: Path):
    """Trivy's gate flags on a folder, scanning for secrets: a scanner that needs no database."""
    return run(
        *("trivy", "rootfs", "--scanners", "secret", "--exit-code", "1", "--quiet"),
        *("--cache-dir", cache, *OFFLINE_FLAGS),
        *("--ignorefile", ignorefile, folder),
    )


def test_trivy_reads_the_shipped_ignore_file_and_honours_entries_in_its_format(render, tmp_path):
    shipped = render({"ci": "github"}) / ".trivyignore.yaml"
    scanned = tmp_path / "rootfs"
    scanned.mkdir()
    (scanned / "settings.env").write_text("aws_access_key_id = AKIAZ7Q4N2X8K3L5M9P1\n")

    # As shipped it ignores nothing: the finding fails the gate.
    assert trivy_secret_gate(scanned, shipped, tmp_path / "cache").returncode == 1
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text(
        shipped.read_text()
        + "secrets:\n  - id: aws-access-key-id\n    statement: a test fixture, not a key\n"
    )
    assert trivy_secret_gate(scanned, accepted, tmp_path / "cache").returncode == 0
    # Control: Trivy refuses an ignore file it cannot parse rather than ignoring nothing.
    broken = tmp_path / "broken.yaml"
    broken.write_text("vulnerabilities: [\n")
    refused = trivy_secret_gate(scanned, broken, tmp_path / "cache")
    assert refused.returncode != 0
    assert "parse error" in refused.stderr


@pytest.mark.parametrize(
    ("src_path", "accepted"),
    [
        ("https://git.example.com/platform/rust-service-template.git", True),
        ("git@github.com:example/rust-service-template.git", True),
        ("/home/someone/rust-service-template", False),
        ("gh:example/rust-service-template", False),
    ],
)
def test_update_workflow_needs_the_template_named_by_url(render, tmp_path, src_path, accepted):
    """Renovate and later updates clone `_src_path`: the workflow's first step insists on a URL."""
    workflow = yaml.safe_load(
        (render({"ci": "github"}) / ".github/workflows/template-update.yml").read_text()
    )
    steps = workflow["jobs"]["update"]["steps"]
    script = next(step["run"] for step in steps if "by URL" in step.get("name", ""))
    service = tmp_path / "service"
    service.mkdir()
    (service / ".copier-answers.yml").write_text(f"_commit: 0.1.0\n_src_path: {src_path}\n")

    result = subprocess.run(
        ["bash", "-e", "-c", script], cwd=service, capture_output=True, text=True, check=False
    )
    assert (result.returncode == 0) == accepted, result.stderr
    if not accepted:
        assert "_src_path must be the template's git URL" in result.stderr


def renovate_custom_matches(project: Path) -> dict[str, list[str]]:
    """What renovate.json's regex managers extract from the project's files: file -> depNames.

    Renovate's patterns are JavaScript regular expressions; these use only syntax Python shares,
    apart from the spelling of named groups.
    """
    config = json.loads((project / "renovate.json").read_text())
    found: dict[str, list[str]] = defaultdict(list)
    for manager in config["customManagers"]:
        file_patterns = [
            re.compile(pattern.strip("/")) for pattern in manager["managerFilePatterns"]
        ]
        match_strings = [
            re.compile(text.replace("(?<", "(?P<")) for text in manager["matchStrings"]
        ]
        for path in sorted(project.rglob("*")):
            relative = path.relative_to(project).as_posix()
            if path.is_file() and any(pattern.search(relative) for pattern in file_patterns):
                text = path.read_text(encoding="utf-8")
                for match_string in match_strings:
                    found[relative] += [match["depName"] for match in match_string.finditer(text)]
    return found


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_renovate_finds_every_version_marked_for_it(render, ci):
    project = render({"ci": ci, "template_updates": "renovate" if ci == "gitlab" else "workflow"})
    found = renovate_custom_matches(project)

    assert found["Containerfile"] == ["cargo-chef", "cargo-auditable"]
    if ci == "github":
        assert sorted(found[".github/workflows/ci.yml"]) == [
            "aquasecurity/trivy",
            "cargo-deny",
            "helm/helm",
            "sigstore/cosign",
        ]
        assert found[".github/workflows/template-update.yml"] == ["copier", "tomlkit"]
    else:
        assert sorted(found[".gitlab-ci.yml"]) == [
            "cargo-deny",
            "docker.io/aquasec/trivy",
            "docker.io/library/docker",
            "docker.io/library/docker",
            "docker.io/library/rust",
            "docker.io/tonistiigi/binfmt",
            "helm/helm",
        ]
    # No marker is left without a match: each `# renovate:` line is followed by what it names.
    marker_line = re.compile(r"^\s*# renovate:", re.MULTILINE)
    markers = sum(
        len(marker_line.findall(path.read_text(encoding="utf-8")))
        for path in project.rglob("*")
        if path.is_file()
    )
    assert markers == sum(len(names) for names in found.values())


PLATFORMS = {
    "amd64": "linux/amd64",
    "arm64": "linux/arm64",
    "amd64+arm64": "linux/amd64,linux/arm64",
}


@pytest.mark.parametrize("answers", GITHUB_ROWS + GITLAB_ROWS, ids=combination_id)
def test_pipelines_carry_the_image_name_platforms_and_budget_answered(render, answers):
    answers = {
        **answers,
        "image_name": "registry.example.com/team/svc",
        "image_size_budget_kib": "3000",
    }
    project = render(answers)
    if answers["ci"] == "github":
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        settings = workflow["env"]
        runner = workflow["jobs"]["image"]["runs-on"]
        assert runner == (
            "ubuntu-24.04-arm" if answers["target_arches"] == "arm64" else "ubuntu-24.04"
        )
        login = next(
            step["with"]
            for step in workflow["jobs"]["publish"]["steps"]
            if step.get("uses", "").startswith("docker/login-action@")
        )
        assert login["registry"] == "registry.example.com"
        assert "packages" not in workflow["jobs"]["publish"]["permissions"]
    else:
        settings = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["variables"]
    assert settings["IMAGE_NAME"] == "registry.example.com/team/svc"
    assert settings["PLATFORMS"] == PLATFORMS[answers["target_arches"]]
    budget = make(project, "--just-print", "image-size").stdout
    assert "budget=$(( 3000 * 1024 ))" in budget
