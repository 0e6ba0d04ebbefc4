"""Measure what the answers cost: binary and image size per size-relevant answer, build times.

Usage: python scripts/benchmark.py [--warm-runs N] [--skip-images]

For the defaults and for each size-relevant answer changed alone (opt-level, panic strategy,
allocator) it builds the static release binary with cargo auditable, as the Containerfile does,
and (as root, with buildah) the Containerfile's runtime stage around it. For the defaults it also
times a cold build (empty target folder, sources already downloaded) and warm rebuilds after
touching src/main.rs. Prints Markdown tables and writes the figures to bench-results/latest.json.

Binaries here are glibc with +crt-static (this machine has no musl standard library); the
Containerfile builds musl ones, whose size differs somewhat.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling.cargo import HOST_TARGET, STATIC_RUSTFLAGS, tree_packages
from tooling.image import Buildah
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier
from tooling.sbom import embedded_dependencies

RESULTS = REPO_ROOT / "bench-results" / "latest.json"
MIB = 1024 * 1024
# The README's size target for the default image, SBOM included.
TARGET_IMAGE_MIB = 1.5
VARIANTS = {
    "defaults (z, unwind, mimalloc)": {},
    "opt_level=s": {"opt_level": "s"},
    "opt_level=3": {"opt_level": "3"},
    "panic_strategy=abort": {"panic_strategy": "abort"},
    "allocator=system": {"allocator": "system"},
}


def static_auditable_build(project: Path, target_dir: Path) -> float:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir), RUSTFLAGS=STATIC_RUSTFLAGS)
    command = ["cargo", "auditable", "build", "--quiet", "--release", "--locked"]
    started = time.perf_counter()
    subprocess.run([*command, "--target", HOST_TARGET], cwd=project, env=env, check=True)
    return time.perf_counter() - started


def binary_path(project: Path, target_dir: Path) -> Path:
    package = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8"))["package"]
    return target_dir / HOST_TARGET / "release" / str(package["name"])


def crates_compiled(project: Path) -> int:
    """Crates in the normal dependency graph for this machine's target, proc-macros included."""
    return len({name for name, _ in tree_packages(project, edges="normal", target=HOST_TARGET)})


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def measure_sizes(workdir: Path, with_images: bool) -> list[dict[str, object]]:
    target_dir = workdir / "target"
    buildah = Buildah(workdir / "buildah") if with_images else None
    rows = []
    for label, answers in VARIANTS.items():
        slug = "bench-" + str(len(rows))
        project = render_with_copier(workdir / slug, {**answers, "project_slug": slug})
        static_auditable_build(project, target_dir)
        binary = binary_path(project, target_dir)
        sbom = embedded_dependencies(binary)
        row: dict[str, object] = {
            "variant": label,
            "binary_bytes": binary.stat().st_size,
            "sbom_packages": len(sbom["packages"]) if sbom else 0,
        }
        if buildah:
            tag = buildah.build_runtime_stage(
                project / "Containerfile", binary, workdir / f"{slug}-image", f"localhost/{slug}"
            )
            archive = buildah.save(tag, workdir / f"{slug}.tar")
            row["image_archive_bytes"] = archive.stat().st_size
        rows.append(row)
    return rows


def measure_build_times(workdir: Path, warm_runs: int) -> dict[str, object]:
    project = render_with_copier(workdir / "timed-service", {"project_slug": "timed-service"})
    subprocess.run(["cargo", "fetch", "--locked", "--quiet"], cwd=project, check=True)
    target_dir = workdir / "timed-target"
    cold = static_auditable_build(project, target_dir)
    warm = []
    for _ in range(warm_runs):
        (project / "src" / "main.rs").touch()
        warm.append(static_auditable_build(project, target_dir))
    lock_text = (project / "Cargo.lock").read_text(encoding="utf-8")
    return {
        "crates_in_lock": lock_text.count("[[package]]"),
        "crates_compiled": crates_compiled(project),
        "cold_build_seconds": round(cold, 1),
        "warm_build_seconds_median": round(statistics.median(warm), 2),
        "warm_build_seconds_spread": round(max(warm) - min(warm), 2),
        "warm_runs": warm_runs,
    }


def mib(value: object) -> str:
    return f"{int(value) / MIB:.2f}" if isinstance(value, int) else "-"


def markdown(results: dict[str, object]) -> str:
    lines = [f"Machine: {results['machine']}", ""]
    lines += ["| variant | binary bytes | binary MiB | image archive bytes | image MiB |"]
    lines += ["| --- | ---: | ---: | ---: | ---: |"]
    for row in results["sizes"]:
        image = row.get("image_archive_bytes", "-")
        lines.append(
            f"| {row['variant']} | {row['binary_bytes']} | {mib(row['binary_bytes'])} "
            f"| {image} | {mib(image)} |"
        )
    lines += ["", f"Target for the default image: {TARGET_IMAGE_MIB} MiB.", ""]
    lines += ["| build measure | value |", "| --- | --- |"]
    lines += [f"| {name.replace('_', ' ')} | {value} |" for name, value in results["build"].items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--skip-images", action="store_true", help="binaries only (no buildah)")
    args = parser.parse_args()
    with_images = not args.skip_images and os.geteuid() == 0 and shutil.which("buildah")

    with tempfile.TemporaryDirectory() as workdir:
        results = {
            "machine": f"{os.cpu_count()} cores, {cpu_model()}",
            "sizes": measure_sizes(Path(workdir), bool(with_images)),
            "build": measure_build_times(Path(workdir), args.warm_runs),
        }

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
