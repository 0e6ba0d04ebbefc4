"""Measure what the answers cost: size, build time, start-up, memory, throughput and latency.

Usage: .venv/bin/python scripts/benchmark.py [--runs N] [--seconds S] [--skip-load]
       [--only VARIANT ...]   (as root)

Sizes: the defaults, each size-relevant answer changed alone, and the defaults for arm64, each
built into its image from its own Containerfile with scripts/build_image's code (real musl,
cargo auditable, FROM scratch): the binary, the image as `docker save` writes it, and its one
layer gzip-compressed at level 6, as registries store it and as the blog recipe's published
figures are. Image builds of the defaults: cold (a new service; the builder stand-in and the
cargo tools layer already built) and after touching src/main.rs (cargo-chef's dependency layer
reused); and a developer's plain `cargo build` on the host, cold and after touching. Load (wrk
on loopback): the image binaries of the defaults, allocator=system, opt_level=3 and
metrics=none (what /metrics costs: the defaults serve it), and a reference (Cargo's default
release profile, dynamic glibc, built on the host): start-up to the first 200 on /healthz,
resident memory idle and at its peak under load, requests per second and p50/p99 latency on
/healthz and /readyz (both answer JSON) and on /nope (a 404, which the metrics count) at 1 and
64 connections. Host-built timings and load figures are the median of N runs with the spread
(max - min) beside them; image builds run once each.

Writes bench-results/latest.json and bench-results/latest.md and prints the Markdown. `--only`
measures the named variants' sizes and load alone (no build timings, no reference) and writes
bench-results/partial.json and partial.md instead.
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
import tarfile
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling import loadtest
from tooling.cargo import HOST_TARGET, tree_packages
from tooling.image import MUSL_TARGETS, Buildah, build_image, build_row_image
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier
from tooling.sbom import embedded_dependencies

RESULTS_DIR = REPO_ROOT / "bench-results"
MIB = 1024 * 1024
DEFAULTS = "defaults (z, unwind, mimalloc)"
SIZE_VARIANTS = {
    DEFAULTS: {},
    "opt_level=s": {"opt_level": "s"},
    "opt_level=3": {"opt_level": "3"},
    "panic_strategy=abort": {"panic_strategy": "abort"},
    "allocator=system": {"allocator": "system"},
    "target_arches=arm64": {"target_arches": "arm64"},
    "metrics=none": {"metrics": "none"},
}
# The answers that change speed: the allocator, optimising for speed instead of size, and the
# per-request cost of metrics (every request is counted and timed).
LOAD_VARIANTS = [DEFAULTS, "allocator=system", "opt_level=3", "metrics=none"]
REFERENCE = "reference: Cargo's default release profile, dynamic glibc"
# The blog recipe this template grew from, rebuilt with rustc 1.95 for musl (size profile,
# cargo-auditable, crt-static); gzip-compressed layer MiB, which match its published figures.
BLOG_RECIPE_LAYER_GZIP_MIB = {
    "blog recipe, panic = unwind": 2.09,
    "blog recipe, panic = abort": 1.89,
}
# Build timings: key in the results file, and its row in the Markdown table.
BUILD_MEASURES = {
    "cold_image": "cold `scripts/build_image` of a new service (stand-in, cargo tools cached)",
    "touched_image": "`scripts/build_image` after touching src/main.rs",
    "cold_dev": "cold `cargo build` on the host (dev profile)",
    "touched_dev": "`cargo build` after touching src/main.rs",
}
# /healthz and /readyz are probes, which the metrics leave uncounted; /nope is a 404 that every
# variant with metrics counts and times (route "unmatched"), so it shows their per-request cost.
ROUTES = ["/healthz", "/readyz", "/nope"]
CONNECTIONS = [1, 64]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def host_build(project: Path, target_dir: Path, *, release: bool) -> float:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    env.pop("RUSTFLAGS", None)
    command = ["cargo", "build", "--quiet", "--locked", "--target", HOST_TARGET]
    command += ["--release"] if release else []
    return timed(lambda: subprocess.run(command, cwd=project, env=env, check=True))


def without_release_profile(project: Path) -> Path:
    manifest_path = project / "Cargo.toml"
    manifest = tomlkit.parse(manifest_path.read_text(encoding="utf-8"))
    del manifest["profile"]
    manifest_path.write_text(tomlkit.dumps(manifest), encoding="utf-8")
    return project


def layer_gzip_bytes(archive: Path) -> int:
    """The image's one layer tar, gzip level 6, as a registry would store it."""
    with tarfile.open(archive) as image:
        manifest = json.load(image.extractfile("manifest.json"))
        (layer,) = manifest[0]["Layers"]
        return len(gzip.compress(image.extractfile(layer).read(), compresslevel=6))


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


def build_images(
    buildah: Buildah, workdir: Path, variants: dict[str, dict], with_reference: bool = True
) -> tuple[list[dict], dict[str, Path]]:
    """Each variant's image: size rows, and the binaries copied out of the images."""
    rows, binaries = [], {}
    for index, (label, answers) in enumerate(variants.items()):
        slug = f"bench-{index}"
        variant_dir = workdir / f"{slug}-image"
        variant_dir.mkdir()
        project = render_with_copier(workdir / slug, {**answers, "project_slug": slug})
        # The image tests' own build: the Containerfile's first platform, binary and archive.
        image = build_row_image(buildah, project, variant_dir)
        rows.append(
            {
                "variant": label,
                "binary_bytes": image.binary.stat().st_size,
                "sbom_packages": len(embedded_dependencies(image.binary)["packages"]),
                "image_archive_bytes": image.archive.stat().st_size,
                "layer_gzip_bytes": layer_gzip_bytes(image.archive),
            }
        )
        binaries[label] = image.binary
    if not with_reference:
        return rows, binaries
    reference = without_release_profile(
        render_with_copier(workdir / "bench-reference", {"project_slug": "bench-reference"})
    )
    host_build(reference, workdir / "target", release=True)
    built = workdir / "target" / HOST_TARGET / "release" / "bench-reference"
    binaries[REFERENCE] = Path(shutil.copy2(built, workdir / "reference"))
    rows.append({"variant": REFERENCE, "binary_bytes": binaries[REFERENCE].stat().st_size})
    return rows, binaries


def measure_build_times(buildah: Buildah, workdir: Path, runs: int) -> dict[str, object]:
    """The image build as users run it, and a developer's plain `cargo build`."""
    project = render_with_copier(workdir / "timed-service", {"project_slug": "timed-service"})
    main_rs = project / "src" / "main.rs"
    target_dir = workdir / "timed-target"
    seconds: dict[str, list[float]] = {name: [] for name in BUILD_MEASURES}
    seconds["cold_image"].append(timed(lambda: build_image(project, buildah=buildah)))
    main_rs.write_text(main_rs.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    seconds["touched_image"].append(timed(lambda: build_image(project, buildah=buildah)))
    subprocess.run(["cargo", "fetch", "--locked", "--quiet"], cwd=project, check=True)
    for _ in range(runs):
        shutil.rmtree(target_dir, ignore_errors=True)
        seconds["cold_dev"].append(host_build(project, target_dir, release=False))
    for _ in range(runs):
        main_rs.touch()
        seconds["touched_dev"].append(host_build(project, target_dir, release=False))
    lock_text = (project / "Cargo.lock").read_text(encoding="utf-8")
    normal_graph = tree_packages(project, edges="normal", target=MUSL_TARGETS["amd64"])
    return {
        "crates_in_lock": lock_text.count("[[package]]"),
        "crates_compiled": len({name for name, _ in normal_graph}),
        "seconds": {name: median_and_spread(values) for name, values in seconds.items()},
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
        "| variant | binary bytes | binary MiB | image archive MiB | layer gzip MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in results["sizes"]:
        lines.append(
            f"| {row['variant']} | {row['binary_bytes']} | {mib(row['binary_bytes'])} "
            f"| {mib(row.get('image_archive_bytes'))} | {mib(row.get('layer_gzip_bytes'))} |"
        )
    lines += [
        f"| {label} (fixed figure, rebuilt once) | | | | {size} |"
        for label, size in BLOG_RECIPE_LAYER_GZIP_MIB.items()
    ]
    build = results.get("build")
    if build:
        lines += ["", "| build measure (defaults) | value |", "| --- | --- |"]
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
    parser.add_argument("--skip-load", action="store_true", help="no wrk runs")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SIZE_VARIANTS),
        metavar="VARIANT",
        help=f"only these variants' sizes and load (one of: {', '.join(SIZE_VARIANTS)})",
    )
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("buildah"):
        parser.error("the images are built with buildah as root: run bash scripts/bootstrap")
    if not args.skip_load and not shutil.which("wrk"):
        parser.error("wrk is missing: apt-get install wrk (or pass --skip-load)")

    buildah = Buildah()
    variants = {label: SIZE_VARIANTS[label] for label in args.only or SIZE_VARIANTS}
    loaded = [label for label in LOAD_VARIANTS if label in variants]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sizes, binaries = build_images(buildah, workdir, variants, with_reference=not args.only)
        results = {
            "machine": f"{os.cpu_count()} cores, {cpu_model()}",
            "date": date.today().isoformat(),
            "runs": args.runs,
            "sizes": sizes,
            "build": None if args.only else measure_build_times(buildah, workdir, args.runs),
            "load": {}
            if args.skip_load
            else {
                label: measure_load(binaries[label], args.runs, args.seconds)
                for label in [*loaded, *([] if args.only else [REFERENCE])]
            },
        }

    RESULTS_DIR.mkdir(exist_ok=True)
    name = "partial" if args.only else "latest"
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    table = markdown(results)
    (RESULTS_DIR / f"{name}.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
