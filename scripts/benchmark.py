"""Measure what the default answers cost: static binary size, crate count and build times.

Usage: python scripts/benchmark.py [--warm-runs N] [--set question=answer ...]

Prints a Markdown table and writes the same figures as JSON to bench-results/latest.json.
Cold means an empty target folder with the sources already downloaded; warm means a rebuild
after touching src/main.rs, with every dependency already compiled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.cargo import HOST_TARGET, STATIC_RUSTFLAGS
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier

RESULTS = REPO_ROOT / "bench-results" / "latest.json"


def timed_static_build(project: Path, target_dir: Path) -> float:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir), RUSTFLAGS=STATIC_RUSTFLAGS)
    started = time.perf_counter()
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "--locked", "--target", HOST_TARGET],
        cwd=project,
        env=env,
        check=True,
    )
    return time.perf_counter() - started


def crates_compiled_for_target(project: Path) -> int:
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "--edges", "normal", "--prefix", "none", "--format", "{p}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len({line.split()[0] for line in tree.splitlines() if line.strip()})


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def parse_answers(pairs: list[str]) -> dict[str, str]:
    answers = {}
    for pair in pairs:
        question, _, answer = pair.partition("=")
        answers[question] = answer
    return answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="QUESTION=ANSWER")
    args = parser.parse_args()
    answers = parse_answers(args.set)

    with tempfile.TemporaryDirectory() as workdir:
        project = render_with_copier(Path(workdir) / "bench-service", answers)
        subprocess.run(["cargo", "fetch", "--locked", "--quiet"], cwd=project, check=True)
        target_dir = Path(workdir) / "target"

        cold = timed_static_build(project, target_dir)
        warm = []
        for _ in range(args.warm_runs):
            (project / "src" / "main.rs").touch()
            warm.append(timed_static_build(project, target_dir))
        package = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8"))["package"]
        binary = target_dir / HOST_TARGET / "release" / str(package["name"])
        lock_text = (project / "Cargo.lock").read_text(encoding="utf-8")
        figures = {
            "answers": answers or "defaults",
            "machine": f"{os.cpu_count()} cores, {cpu_model()}",
            "binary_bytes": binary.stat().st_size,
            "crates_in_lock": lock_text.count("[[package]]"),
            "crates_compiled": crates_compiled_for_target(project),
            "cold_build_seconds": round(cold, 1),
            "warm_build_seconds_median": round(statistics.median(warm), 2),
            "warm_build_seconds_spread": round(max(warm) - min(warm), 2),
        }

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(markdown_table(figures))
    return 0


def markdown_table(figures: dict[str, object]) -> str:
    rows = ["| measure | value |", "| --- | --- |"]
    rows += [f"| {name.replace('_', ' ')} | {value} |" for name, value in figures.items()]
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
