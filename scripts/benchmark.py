"""Measure what the answers cost: size, build time, start-up, memory, throughput and latency.

Usage: python scripts/benchmark.py [--runs N] [--seconds S] [--skip-images] [--skip-load] [--musl]

Sizes: the defaults and each size-relevant answer changed alone, built static with cargo
auditable as the Containerfile does, and (as root, with buildah) the Containerfile's runtime
stage around each binary; gzip -9 of the image archive stands for what a registry stores.
Builds of the defaults (sources already downloaded): cold and after touching src/main.rs, both
as the Containerfile builds (release, static, cargo auditable) and as a developer does (plain
`cargo build`, dev profile). Load (wrk on loopback): the defaults, allocator=system, opt_level=3
and a reference build (Cargo's default release profile, dynamic glibc): start-up to the first
200 on /healthz, resident memory idle and at its peak under load, requests per second and
p50/p99 latency on /healthz and /readyz (both answer JSON) at 1 and 64 connections. Every timed
figure is the median of N runs with the spread (max - min) beside it.

Writes bench-results/latest.json and bench-results/latest.md and prints the Markdown. Binaries
are glibc with +crt-static (rustup has no musl standard library here); with --musl (after
`bash scripts/musl_toolchain`) the defaults and allocator=system are also built for
x86_64-unknown-linux-musl with Debian's rustc-web, sized, imaged and loaded like the others.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling import loadtest, musl
from tooling.cargo import HOST_TARGET, STATIC_RUSTFLAGS, package_name, tree_packages
from tooling.image import Buildah
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier
from tooling.sbom import embedded_dependencies

RESULTS_DIR = REPO_ROOT / "bench-results"
MIB = 1024 * 1024
# The size target for the default image, SBOM and unwinding included.
TARGET_IMAGE_MIB = 1.5
SIZE_VARIANTS = {
    "defaults (z, unwind, mimalloc)": {},
    "opt_level=s": {"opt_level": "s"},
    "opt_level=3": {"opt_level": "3"},
    "panic_strategy=abort": {"panic_strategy": "abort"},
    "allocator=system": {"allocator": "system"},
}
# The answers that change speed: the allocator, and optimising for speed instead of size.
LOAD_VARIANTS = ["defaults (z, unwind, mimalloc)", "allocator=system", "opt_level=3"]
MUSL_VARIANTS = {
    "musl: defaults (mimalloc)": [],
    "musl: allocator=system": ["--no-default-features"],
}
REFERENCE = "reference: Cargo's default release profile, dynamic glibc"
# Published figures of the blog recipe this template grew from; not measured here.
BLOG_RECIPE_IMAGES_MIB = {"blog recipe, panic = unwind": 2.1, "blog recipe, panic = abort": 1.89}
# Build timings: key in the results file, and its row in the Markdown table.
BUILD_MEASURES = {
    "cold_release": "cold release build (cargo auditable, static; sources downloaded)",
    "touched_release": "release rebuild after touching src/main.rs",
    "cold_dev": "cold `cargo build` (dev profile)",
    "touched_dev": "`cargo build` after touching src/main.rs",
}
ROUTES = ["/healthz", "/readyz"]
CONNECTIONS = [1, 64]


def cargo_build(
    project: Path, target_dir: Path, *, release: bool = True, static_auditable: bool = True
) -> float:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    env.pop("RUSTFLAGS", None)
    command = ["cargo", "build", "--quiet", "--locked", "--target", HOST_TARGET]
    if release:
        command.append("--release")
    if static_auditable:
        env["RUSTFLAGS"] = STATIC_RUSTFLAGS
        command.insert(1, "auditable")
    started = time.perf_counter()
    subprocess.run(command, cwd=project, env=env, check=True)
    return time.perf_counter() - started


def binary_path(project: Path, target_dir: Path) -> Path:
    return target_dir / HOST_TARGET / "release" / package_name(project)


def without_release_profile(project: Path) -> Path:
    manifest_path = project / "Cargo.toml"
    manifest = tomlkit.parse(manifest_path.read_text(encoding="utf-8"))
    del manifest["profile"]
    manifest_path.write_text(tomlkit.dumps(manifest), encoding="utf-8")
    return project


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def median_and_spread(values: list[float], digits: int = 1) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "spread": round(max(values) - min(values), digits),
    }


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def build_binaries(workdir: Path, with_musl: bool) -> dict[str, Path]:
    """Every variant's binary, copied aside (later builds reuse the target folder)."""
    target_dir = workdir / "target"
    binaries = {}
    for index, (label, answers) in enumerate(SIZE_VARIANTS.items()):
        slug = f"bench-{index}"
        project = render_with_copier(workdir / slug, {**answers, "project_slug": slug})
        cargo_build(project, target_dir)
        binaries[label] = Path(shutil.copy2(binary_path(project, target_dir), workdir / slug))
    reference = without_release_profile(
        render_with_copier(workdir / "bench-reference", {"project_slug": "bench-reference"})
    )
    cargo_build(reference, target_dir, static_auditable=False)
    binaries[REFERENCE] = Path(shutil.copy2(binary_path(reference, target_dir), workdir / "ref"))
    if with_musl:
        project = render_with_copier(workdir / "bench-musl", {"project_slug": "bench-musl"})
        for index, (label, cargo_args) in enumerate(MUSL_VARIANTS.items()):
            built = musl.build(project, workdir / "musl-target", *cargo_args)
            binaries[label] = Path(shutil.copy2(built, workdir / f"musl-{index}"))
    return binaries


def measure_sizes(binaries: dict[str, Path], workdir: Path, with_images: bool) -> list[dict]:
    buildah = Buildah(workdir / "buildah") if with_images else None
    containerfile = render_with_copier(workdir / "containerfile", {}) / "Containerfile"
    rows = []
    for index, (label, binary) in enumerate(binaries.items()):
        sbom = embedded_dependencies(binary)
        row: dict[str, object] = {
            "variant": label,
            "binary_bytes": binary.stat().st_size,
            "sbom_packages": len(sbom["packages"]) if sbom else 0,
        }
        # The reference is dynamically linked: it would not run from a scratch image.
        if buildah and label != REFERENCE:
            tag = buildah.build_runtime_stage(
                containerfile, binary, workdir / f"image-{index}", f"localhost/bench-{index}"
            )
            archive = buildah.save(tag, workdir / f"image-{index}.tar")
            row["image_archive_bytes"] = archive.stat().st_size
            row["image_gzip_bytes"] = gzip_size(archive)
        rows.append(row)
    return rows


def measure_build_times(workdir: Path, runs: int) -> dict[str, object]:
    """Release builds as the Containerfile runs them, and a developer's plain `cargo build`."""
    project = render_with_copier(workdir / "timed-service", {"project_slug": "timed-service"})
    subprocess.run(["cargo", "fetch", "--locked", "--quiet"], cwd=project, check=True)
    target_dir = workdir / "timed-target"
    main_rs = project / "src" / "main.rs"

    def release_build() -> float:
        return cargo_build(project, target_dir)

    def dev_build() -> float:
        return cargo_build(project, target_dir, release=False, static_auditable=False)

    figures: dict[str, list[float]] = {name: [] for name in BUILD_MEASURES}
    for _ in range(runs):
        shutil.rmtree(target_dir, ignore_errors=True)
        figures["cold_release"].append(release_build())
        figures["cold_dev"].append(dev_build())
    for _ in range(runs):
        main_rs.touch()
        figures["touched_release"].append(release_build())
        main_rs.touch()
        figures["touched_dev"].append(dev_build())
    lock_text = (project / "Cargo.lock").read_text(encoding="utf-8")
    normal_graph = tree_packages(project, edges="normal", target=HOST_TARGET)
    return {
        "crates_in_lock": lock_text.count("[[package]]"),
        "crates_compiled": len({name for name, _ in normal_graph}),
        "seconds": {name: median_and_spread(values) for name, values in figures.items()},
    }


def repeat(runs: int, measure: Callable[[], float]) -> dict[str, float]:
    return median_and_spread([measure() for _ in range(runs)], digits=2)


def measure_load(binary: Path, runs: int, seconds: int) -> dict[str, object]:
    def startup_ms() -> float:
        service = loadtest.start(binary)
        service.stop()
        return service.startup_seconds * 1000

    result: dict[str, object] = {"startup_ms": repeat(runs, startup_ms)}
    service = loadtest.start(binary)
    try:
        time.sleep(0.5)
        result["rss_idle_kib"] = service.rss_kib()
        for route in ROUTES:
            for connections in CONNECTIONS:
                loads = [loadtest.load(service, route, connections, seconds) for _ in range(runs)]
                result[f"{route} c{connections}"] = {
                    "requests_per_second": median_and_spread(
                        [load.requests_per_second for load in loads], digits=0
                    ),
                    "p50_ms": median_and_spread([load.p50_ms for load in loads], digits=3),
                    "p99_ms": median_and_spread([load.p99_ms for load in loads], digits=3),
                }
        result["rss_peak_kib"] = service.rss_kib("VmHWM")
    finally:
        service.stop()
    return result


def mib(value: object) -> str:
    return f"{int(value) / MIB:.2f}" if isinstance(value, int) else "-"


def spread(figure: dict[str, float], unit: str = "") -> str:
    return f"{figure['median']:g}{unit} (±{figure['spread']:g})"


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; {results['date']}.", ""]
    lines += [
        "| variant | binary bytes | binary MiB | image archive MiB | image gzip MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results["sizes"]:
        lines.append(
            f"| {row['variant']} | {row['binary_bytes']} | {mib(row['binary_bytes'])} "
            f"| {mib(row.get('image_archive_bytes'))} | {mib(row.get('image_gzip_bytes'))} |"
        )
    lines += [
        f"| {label} (published) | | | {size} | |" for label, size in BLOG_RECIPE_IMAGES_MIB.items()
    ]
    lines += ["", f"Target for the default image: {TARGET_IMAGE_MIB} MiB.", ""]
    build = results["build"]
    lines += ["| build measure (defaults) | value |", "| --- | --- |"]
    lines += [
        f"| crates in Cargo.lock / compiled for the target | {build['crates_in_lock']} / "
        f"{build['crates_compiled']} |",
        *(
            f"| {label} | {spread(build['seconds'][name], ' s')} |"
            for name, label in BUILD_MEASURES.items()
        ),
    ]
    if results.get("load"):
        header = "| variant | start-up ms | RSS idle / peak KiB |"
        rule = "| --- | ---: | ---: |"
        for route in ROUTES:
            for connections in CONNECTIONS:
                header += f" {route} c{connections} req/s | p50 / p99 ms |"
                rule += " ---: | ---: |"
        lines += ["", header, rule]
        for label, figures in results["load"].items():
            row = (
                f"| {label} | {spread(figures['startup_ms'])} "
                f"| {figures['rss_idle_kib']} / {figures['rss_peak_kib']} |"
            )
            for route in ROUTES:
                for connections in CONNECTIONS:
                    load = figures[f"{route} c{connections}"]
                    row += (
                        f" {spread(load['requests_per_second'])} "
                        f"| {load['p50_ms']['median']:g} / {load['p99_ms']['median']:g} |"
                    )
            lines.append(row)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repeats of each timed figure")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--skip-images", action="store_true", help="binaries only (no buildah)")
    parser.add_argument("--skip-load", action="store_true", help="no wrk runs")
    parser.add_argument(
        "--musl", action="store_true", help="add musl rows (scripts/musl_toolchain)"
    )
    args = parser.parse_args()
    if args.musl and not musl.available():
        parser.error("the musl toolchain is missing: run bash scripts/musl_toolchain")
    with_images = not args.skip_images and os.geteuid() == 0 and bool(shutil.which("buildah"))
    if not args.skip_load and not shutil.which("wrk"):
        parser.error("wrk is missing: apt-get install wrk (or pass --skip-load)")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        binaries = build_binaries(workdir, args.musl)
        results = {
            "machine": f"{os.cpu_count()} cores, {cpu_model()}",
            "date": date.today().isoformat(),
            "runs": args.runs,
            "sizes": measure_sizes(binaries, workdir, with_images),
            "build": measure_build_times(workdir, args.runs),
            "load": {}
            if args.skip_load
            else {
                label: measure_load(binaries[label], args.runs, args.seconds)
                for label in [*LOAD_VARIANTS, REFERENCE, *(MUSL_VARIANTS if args.musl else [])]
            },
        }

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    table = markdown(results)
    (RESULTS_DIR / "latest.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
