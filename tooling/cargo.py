"""Run cargo in generated projects with one shared target folder, so dependencies build once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import tomlkit

from tooling.questions import REPO_ROOT

SHARED_TARGET_DIR = REPO_ROOT / "target" / "generated"
# The host's own target: developers' builds and the benchmark's dynamic reference. Static musl
# binaries are built by the generated Containerfile (tooling/image.py).
HOST_TARGET = "x86_64-unknown-linux-gnu"


def cargo_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(SHARED_TARGET_DIR)
    env["CARGO_TERM_COLOR"] = "never"
    env.pop("RUSTFLAGS", None)
    env.update(overrides)
    return env


def _run_in(
    project: Path, command: list[str], check: bool, env_overrides: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        cwd=project,
        env=cargo_env(**env_overrides),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}) in {project}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def cargo(
    project: Path, *args: str, check: bool = True, **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    """Run `cargo <args>` in `project`; on failure the exception carries cargo's output."""
    return _run_in(project, ["cargo", *args], check, env_overrides)


def make(
    project: Path, *args: str, check: bool = True, **env_overrides: str
) -> subprocess.CompletedProcess[str]:
    """Run a target of the generated project's Makefile, the entry point its CI uses too."""
    return _run_in(project, ["make", "--no-print-directory", *args], check, env_overrides)


def package_name(project: Path) -> str:
    """The generated crate's package name, which is also its binary's name."""
    manifest = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8"))
    return str(manifest["package"]["name"])


def tree_packages(
    project: Path, *, edges: str, target: str, locked: bool = True
) -> set[tuple[str, str]]:
    """(name, version) of every package `cargo tree` shows for `target` along `edges`."""
    result = cargo(
        project,
        "tree",
        *(["--locked"] if locked else []),
        *("--target", target, "--edges", edges),
        *("--prefix", "none", "--format", "{p}"),
    )
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    return {(row[0], row[1].removeprefix("v")) for row in rows}


def package_names(project: Path, *, locked: bool = True) -> set[str]:
    """Names of every package in the dependency graph for all targets, dev and build included."""
    packages = tree_packages(project, edges="normal,build,dev", target="all", locked=locked)
    return {name for name, _ in packages}
