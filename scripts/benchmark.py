"""Measure what the answers cost: size and where it goes, build time, start-up, memory, throughput.

Usage: .venv/bin/python scripts/benchmark.py [--only PART,...] [--variants VARIANT ...]
       [--runs N] [--seconds S] [--skip-load]
       (as root; PART: sizes, breakdown, levers, builds, cpu, load; default all)

sizes: the defaults, each size-relevant answer changed alone, and the defaults for arm64, each
built into its image from its own Containerfile with scripts/build_image's code (real musl,
cargo auditable, FROM scratch): the binary, the image as `docker save` writes it, its one layer
gzip-compressed at level 6 and as buildah compresses it for a registry (the measure of the blog
recipe's published figures), each with its ratio to the blog recipe's layer of the same panic
strategy by the same measure, and the binary's bytes by kind of ELF section.
breakdown: cargo-bloat's account of the code of each amd64 variant on the stable toolchain, by
crate, and the largest functions of the defaults (a host build for the same musl target with the
same profile and `.cargo/config.toml`, symbols kept).
levers: each way to shrink the defaults in tooling/size_levers.py, one change per build: a kept
lever taken away, a rejected one added (host musl builds, measured against a host build of the
defaults), each build's throughput at 64 connections and idle memory, and the crates compiled
for the target in more than one version.
builds: image builds of the defaults, cold (a new service; the builder stand-in and the cargo
tools layer already built) and after touching src/main.rs (cargo-chef's dependency layer
reused); and a developer's plain `cargo build` on the host, cold and after touching.
cpu: CPU time per request, the main speed figure: each binary pinned to one core, wrk (one
thread, 16 connections) pinned to the other, the service's user and system time over the requests
it answered on /healthz, rounds interleaved across the rows, medians with their spread. Rows: the
image binaries of the defaults with the request log on (`APP_LOG=info`, to /dev/null) and off
(`warn`), metrics=none, opt_level=3 and allocator=system with logs on, the previous release's
defaults (0.2.0, built on the host for the image's target with its own profile), the reference
below, and a bare axum hello world built by the benchmark (tooling/bare_axum: glibc, opt-level 3)
that every row is divided by.
load (wrk on loopback): the image binaries of the defaults, allocator=system, opt_level=3 and
metrics=none (what /metrics costs: the defaults serve it), and a reference (Cargo's default
release profile, dynamic glibc, built on the host): start-up to the first 200 on /healthz,
resident memory idle and at its peak under load, requests per second and p50/p99 latency on
/healthz and /readyz (both answer JSON) and on /nope (a 404, which the metrics count) at 1 and
64 connections. Host-built timings and load figures are the median of N runs with the spread
(max - min) beside them; image builds run once each.

Writes bench-results/latest.json and bench-results/latest.md and prints the Markdown.
`--variants` builds and loads only the named size variants, without the reference, and writes
bench-results/partial.json and partial.md instead. Either way it then rewrites the docs page
docs/measurements/results.md from the results files in bench-results/ (latest.json, then
partial.json); `--page-only` rewrites that page from the files already there and measures nothing.
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
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import copier
import tomlkit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tooling import loadtest
from tooling.binary_size import (
    MEASURES,
    OTHER,
    PANIC_STRATEGIES,
    SECTION_GROUPS,
    blog_ratio,
    blog_recipe_layer,
    cargo_bloat,
    host_musl_build,
    image_layer_sizes,
    section_groups,
    tar_gzip_bytes,
)
from tooling.cargo import HOST_TARGET, tree_packages
from tooling.image import MUSL_TARGETS, Buildah, build_image, build_row_image
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier
from tooling.sbom import embedded_dependencies
from tooling.size_levers import LEVERS, MUSL_TARGET, Lever

RESULTS_DIR = REPO_ROOT / "bench-results"
RESULTS_PAGE = REPO_ROOT / "docs" / "measurements" / "results.md"
# The results files the page shows, in this order, with what each holds.
PAGE_SOURCES = {
    "latest": "the last full run",
    "partial": "the last run of chosen variants (`--variants`)",
}
MIB = 1024 * 1024
PARTS = ("sizes", "breakdown", "levers", "builds", "cpu", "load")
DEFAULTS = "defaults (z, unwind, mimalloc)"
SIZE_VARIANTS = {
    DEFAULTS: {},
    "opt_level=s": {"opt_level": "s"},
    "opt_level=3": {"opt_level": "3"},
    "panic_strategy=abort": {"panic_strategy": "abort"},
    "allocator=system": {"allocator": "system"},
    "target_arches=arm64": {"target_arches": "arm64"},
    "toolchain=nightly-size": {"toolchain": "nightly-size"},
    # The smallest image the answers make: compared with the blog recipe's own abort build.
    "toolchain=nightly-size, panic_strategy=abort": {
        "toolchain": "nightly-size",
        "panic_strategy": "abort",
    },
    "metrics=none": {"metrics": "none"},
}
# cargo-bloat builds on the host with the stable toolchain, for the amd64 variants.
BREAKDOWN_VARIANTS = [
    label
    for label, answers in SIZE_VARIANTS.items()
    if answers.get("target_arches", "amd64") == "amd64" and "toolchain" not in answers
]
CRATE_ROWS = 12
SERVICE_CRATE = "(the service's own code)"
FUNCTION_ROWS = 15
# The answers that change speed: the allocator, optimising for speed instead of size, and the
# per-request cost of metrics (every request is counted and timed).
LOAD_VARIANTS = [DEFAULTS, "allocator=system", "opt_level=3", "metrics=none"]
REFERENCE = "reference: Cargo's default release profile, dynamic glibc"
# The release the CPU rows compare with, by commit (this repository has no tags).
PREVIOUS_RELEASE = ("0.2.0", "796d552013ddb35ac27f9a0a9748a50b1e454a2f")
# CPU per request: the rows' binaries with the log level each runs at; every row is divided by
# the bare axum service's figure of the same run.
LOGS_ON, LOGS_OFF = "info", "warn"
CPU_ROWS = [
    (DEFAULTS, LOGS_ON),
    (DEFAULTS, LOGS_OFF),
    ("metrics=none", LOGS_ON),
    ("opt_level=3", LOGS_ON),
    ("allocator=system", LOGS_ON),
    (f"release {PREVIOUS_RELEASE[0]}, defaults", LOGS_ON),
    (f"release {PREVIOUS_RELEASE[0]}, defaults", LOGS_OFF),
    (REFERENCE, LOGS_ON),
    (REFERENCE, LOGS_OFF),
]
BARE_AXUM = "bare axum 0.8 hello world (glibc, opt-level 3)"
SERVICE_CPU, WRK_CPU = {0}, {1}
CPU_CONNECTIONS = 16
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


def render_variant(workdir: Path, index: int, answers: dict[str, str]) -> Path:
    slug = f"bench-{index}"
    return render_with_copier(workdir / slug, {**answers, "project_slug": slug})


def build_images(
    buildah: Buildah, workdir: Path, variants: dict[str, dict], with_reference: bool = True
) -> tuple[list[dict], dict[str, Path]]:
    """Each variant's image: size rows, and the binaries copied out of the images."""
    rows, binaries = [], {}
    for index, (label, answers) in enumerate(variants.items()):
        project = render_variant(workdir, index, answers)
        variant_dir = workdir / f"{project.name}-image"
        variant_dir.mkdir()
        # The image tests' own build: the Containerfile's first platform, binary and archive.
        image = build_row_image(buildah, project, variant_dir)
        panic = answers.get("panic_strategy", "unwind")
        layers = image_layer_sizes(buildah, image.tag, image.archive, variant_dir)
        rows.append(
            {
                "variant": label,
                "binary_bytes": image.binary.stat().st_size,
                "sbom_packages": len(embedded_dependencies(image.binary)["packages"]),
                "image_archive_bytes": image.archive.stat().st_size,
                # Each figure with its own measure, and its ratio to the blog's by that measure.
                "layers": {
                    layer.measure: {"bytes": layer.bytes, "blog_ratio": blog_ratio(layer, panic)}
                    for layer in layers
                },
                "sections": section_groups(image.binary),
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


def measure_breakdown(workdir: Path) -> dict[str, object]:
    """cargo-bloat per crate for each amd64 stable variant; the defaults' largest functions."""
    crates = {}
    for index, (label, answers) in enumerate(SIZE_VARIANTS.items()):
        if label not in BREAKDOWN_VARIANTS:
            continue
        project = render_variant(workdir / "breakdown", index, answers)
        target_dir = workdir / "breakdown-target" / project.name
        by_crate = cargo_bloat(project, MUSL_TARGET, target_dir, by="crates", rows=CRATE_ROWS)
        own = project.name.replace("-", "_")  # each variant's crate has its own name
        crates[label] = {
            "text_bytes": by_crate["text-section-size"],
            "crates": {
                SERVICE_CRATE if crate["name"] == own else crate["name"]: crate["size"]
                for crate in by_crate["crates"]
            },
        }
        if label == DEFAULTS:
            functions = cargo_bloat(
                project, MUSL_TARGET, target_dir, by="functions", rows=FUNCTION_ROWS
            )["functions"]
        shutil.rmtree(target_dir)
    return {"crates": crates, "functions": functions}


def duplicate_crates(project: Path) -> list[str]:
    """Crates compiled for the image's target in more than one version."""
    packages = tree_packages(project, edges="normal", target=MUSL_TARGET)
    counts = Counter(name for name, _ in packages)
    return sorted(name for name, count in counts.items() if count > 1)


def lever_build(workdir: Path, name: str, lever: Lever | None) -> Path:
    """The defaults built on the host for the image's target, with `lever`'s one change."""
    project = render_with_copier(workdir / name, {"project_slug": "lever"})
    if lever is not None:
        lever.edit(project)
    # A target folder per build, removed at once: each lever changes the flags every crate is
    # compiled with, and ten full release builds would not fit on a small disk.
    target_dir = workdir / f"{name}-target"
    binary = host_musl_build(project, MUSL_TARGET, target_dir, locked=lever is None or lever.locked)
    kept = Path(shutil.copy2(binary, workdir / f"{name}.bin"))
    shutil.rmtree(target_dir)
    return kept


def quick_load(binary: Path, runs: int, seconds: int) -> dict[str, object]:
    """Requests per second at 64 connections on each route, and resident memory when idle."""
    service = loadtest.start(binary)
    try:
        time.sleep(0.5)
        figures: dict[str, object] = {"rss_idle_kib": service.rss_kib()}
        for route in ROUTES:
            rates = [
                loadtest.load(service, route, 64, seconds).requests_per_second for _ in range(runs)
            ]
            figures[route] = median_and_spread(rates, digits=0)
        return figures
    finally:
        service.stop()


def measure_levers(workdir: Path, runs: int, seconds: int, load: bool) -> dict[str, object]:
    """Each lever of tooling/size_levers.py measured by one build against the defaults; with
    `load`, each built binary's throughput and idle memory too (same run, same machine)."""
    baseline = lever_build(workdir, "lever-baseline", None)
    baseline_gzip = tar_gzip_bytes(baseline)
    rows = []
    for index, lever in enumerate(LEVERS):
        row: dict[str, object] = {"lever": lever.name, "kept": lever.kept, "reason": lever.reason}
        if lever.edit is not None:
            binary = lever_build(workdir, f"lever-{index}", lever)
            # The lever's effect on the defaults: a kept one's is the defaults minus the defaults
            # without it.
            sign = -1 if lever.kept else 1
            row["binary_delta"] = sign * (binary.stat().st_size - baseline.stat().st_size)
            row["layer_gzip_delta"] = sign * (tar_gzip_bytes(binary) - baseline_gzip)
            if load:
                row["load"] = quick_load(binary, runs, seconds)
        rows.append(row)
    return {
        "baseline_binary_bytes": baseline.stat().st_size,
        "baseline_layer_gzip_bytes": baseline_gzip,
        "baseline_load": quick_load(baseline, runs, seconds) if load else None,
        "duplicate_crates": duplicate_crates(workdir / "lever-baseline"),
        "levers": rows,
    }


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


def previous_release_binary(workdir: Path) -> Path:
    """The previous release's defaults, built on the host exactly as its image builds them."""
    version, commit = PREVIOUS_RELEASE
    project = workdir / f"release-{version}"
    copier.run_copy(
        str(REPO_ROOT),
        project,
        data={"project_slug": "bench-previous"},
        defaults=True,
        vcs_ref=commit,
        quiet=True,
    )
    binary = host_musl_build(project, MUSL_TARGET, workdir / "previous-target")
    return Path(shutil.copy2(binary, workdir / f"release-{version}.bin"))


def bare_axum_binary(workdir: Path, lock_from: Path) -> Path:
    """tooling/bare_axum built with Cargo's default release profile for the host, its crates
    at the versions of a generated service's lock (cargo keeps those it can, offline)."""
    project = Path(shutil.copytree(REPO_ROOT / "tooling" / "bare_axum", workdir / "bare-axum"))
    shutil.copy2(lock_from / "Cargo.lock", project / "Cargo.lock")
    env = dict(os.environ, CARGO_TARGET_DIR=str(workdir / "bare-target"))
    env.pop("RUSTFLAGS", None)
    command = ["cargo", "build", "--quiet", "--release", "--offline", "--target", HOST_TARGET]
    subprocess.run(command, cwd=project, env=env, check=True)
    return workdir / "bare-target" / HOST_TARGET / "release" / "bare-axum"


def measure_cpu(binaries: dict[str, Path], runs: int, seconds: int) -> dict[str, object]:
    """µs of CPU per request on /healthz for each row, rounds interleaved across the rows."""
    rows = [(BARE_AXUM, LOGS_OFF), *((label, log) for label, log in CPU_ROWS if label in binaries)]
    samples: dict[tuple[str, str], list[loadtest.CpuResult]] = {row: [] for row in rows}
    for _ in range(runs):
        for label, log in rows:
            service = loadtest.start(binaries[label], env={"APP_LOG": log}, cpus=SERVICE_CPU)
            try:
                loadtest.cpu_per_request(service, "/healthz", 1, CPU_CONNECTIONS, WRK_CPU)
                samples[label, log].append(
                    loadtest.cpu_per_request(service, "/healthz", seconds, CPU_CONNECTIONS, WRK_CPU)
                )
            finally:
                service.stop()
    micros = {row: [s.microseconds_per_request for s in samples[row]] for row in rows}
    bare = statistics.median(micros[BARE_AXUM, LOGS_OFF])
    return {
        "connections": CPU_CONNECTIONS,
        "rows": [
            {
                "variant": label,
                "log": log,
                "microseconds": median_and_spread(micros[label, log], digits=2),
                "times_bare": round(statistics.median(micros[label, log]) / bare, 2),
                "requests_per_second": median_and_spread(
                    [s.requests_per_second for s in samples[label, log]], digits=0
                ),
            }
            for label, log in rows
        ],
    }


def cpu_table(cpu: dict) -> list[str]:
    lines = [
        "",
        f"| build (GET /healthz, {cpu['connections']} connections) | request log | µs of CPU per "
        "request | times bare axum | requests/s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in cpu["rows"]:
        log = {LOGS_ON: "on", LOGS_OFF: "off"}[row["log"]]
        log = "-" if row["variant"] == BARE_AXUM else log
        lines.append(
            f"| {row['variant']} | {log} | {spread(row['microseconds'])} "
            f"| {row['times_bare']:.2f}x | {spread(row['requests_per_second'])} |"
        )
    return lines


def mib(value: object) -> str:
    return f"{int(value) / MIB:.2f}" if isinstance(value, int) else "-"


def spread(figure: dict[str, float], unit: str = "") -> str:
    return f"{figure['median']:g}{unit} (±{figure['spread']:g})"


def kib(value: int) -> str:
    return f"{value / 1024:,.0f}"


def signed_kib(value: int) -> str:
    return f"{value / 1024:+,.1f}"


def ratio_cell(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def size_tables(sizes: list[dict]) -> list[str]:
    header = "| variant | binary bytes | image archive MiB |"
    for measure in MEASURES:
        header += f" layer, {measure}: MiB | ratio to the blog recipe's, same measure |"
    lines = [header, "| --- | ---: | ---: |" + " ---: | ---: |" * len(MEASURES)]
    for row in sizes:
        archive = mib(row.get("image_archive_bytes"))
        cells = f"| {row['variant']} | {row['binary_bytes']:,} | {archive} |"
        for measure in MEASURES:
            layer = row.get("layers", {}).get(measure, {})
            ratio = ratio_cell(layer["blog_ratio"]) if layer else "-"
            cells += f" {mib(layer.get('bytes'))} | {ratio} |"
        lines.append(cells)
    for panic in PANIC_STRATEGIES:
        cells = f"| blog recipe, panic = {panic} (fixed figure, rebuilt once) | | |"
        for measure in MEASURES:
            blog = blog_recipe_layer(panic, measure)
            cells += f" {mib(blog.bytes if blog else None)} | |"
        lines.append(cells)
    lines += [
        "",
        "Each ratio divides a layer by the blog recipe's of the same panic strategy, measured the "
        "same way; no byte figure was kept of the blog's abort build as buildah gzips it.",
    ]
    groups = [*SECTION_GROUPS, OTHER]
    lines += [
        "",
        "| binary KiB by section | " + " | ".join(groups) + " |",
        "| --- |" + " ---: |" * len(groups),
    ]
    for row in sizes:
        if "sections" in row:
            cells = " | ".join(kib(row["sections"][group]) for group in groups)
            lines.append(f"| {row['variant']} | {cells} |")
    return lines


def breakdown_tables(breakdown: dict) -> list[str]:
    crates = breakdown["crates"]
    labels = list(crates)
    lines = [
        "",
        "| code KiB by crate (cargo-bloat) | " + " | ".join(labels) + " |",
        "| --- |" + " ---: |" * len(labels),
    ]
    for name in crates[DEFAULTS]["crates"]:
        cells = " | ".join(
            kib(crates[label]["crates"][name]) if name in crates[label]["crates"] else "-"
            for label in labels
        )
        lines.append(f"| {name} | {cells} |")
    totals = " | ".join(kib(crates[label]["text_bytes"]) for label in labels)
    lines += [f"| all code (.text) | {totals} |", ""]
    lines += ["| largest functions of the defaults | crate | bytes |", "| --- | --- | ---: |"]
    for function in breakdown["functions"]:
        name = function["name"].replace("|", "\\|")
        lines.append(f"| `{name}` | {function.get('crate', '?')} | {function['size']:,} |")
    return lines


def lever_tables(levers: dict) -> list[str]:
    lines = [
        "",
        "Levers, measured on the defaults built on this machine "
        f"({levers['baseline_binary_bytes']:,} bytes, layer gzip "
        f"{levers['baseline_layer_gzip_bytes']:,}): a kept lever's figures are what it saves "
        "(negative), a rejected one's what it would change. Crates compiled for the target in "
        "two versions: " + (", ".join(levers["duplicate_crates"]) or "none") + ".",
        "",
        "| lever | verdict | binary KiB | layer gzip KiB | why |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for row in levers["levers"]:
        verdict = "kept" if row["kept"] else "rejected"
        if "binary_delta" in row:
            sizes = f"{signed_kib(row['binary_delta'])} | {signed_kib(row['layer_gzip_delta'])}"
        else:
            sizes = "not built | not built"
        lines.append(f"| {row['lever']} | {verdict} | {sizes} | {row['reason']} |")
    if levers["baseline_load"] is not None:
        lines += [
            "",
            "| build (64 connections) | /healthz req/s | /readyz req/s | RSS idle KiB |",
            "| --- | ---: | ---: | ---: |",
        ]
        loads = [("defaults", levers["baseline_load"])] + [
            (f"{'without' if row['kept'] else 'with'} {row['lever']}", row["load"])
            for row in levers["levers"]
            if "load" in row
        ]
        for label, figures in loads:
            lines.append(
                f"| {label} | {spread(figures['/healthz'])} | {spread(figures['/readyz'])} "
                f"| {figures['rss_idle_kib']} |"
            )
    return lines


def load_table(load: dict) -> list[str]:
    header = "| variant | start-up ms | RSS idle / peak KiB |"
    rule = "| --- | ---: | ---: |"
    for route in ROUTES:
        for connections in CONNECTIONS:
            header += f" {route} c{connections} req/s | p50 / p99 ms |"
            rule += " ---: | ---: |"
    lines = ["", header, rule]
    for label, figures in load.items():
        row = (
            f"| {label} | {spread(figures['startup_ms'])} "
            f"| {figures['rss_idle_kib']} / {figures['rss_peak_kib']} |"
        )
        for route in ROUTES:
            for connections in CONNECTIONS:
                figure = figures[f"{route} c{connections}"]
                row += (
                    f" {spread(figure['requests_per_second'])} "
                    f"| {figure['p50_ms']['median']:g} / {figure['p99_ms']['median']:g} |"
                )
        lines.append(row)
    return lines


def build_table(build: dict) -> list[str]:
    return [
        "",
        "| build measure (defaults) | value |",
        "| --- | --- |",
        f"| crates in Cargo.lock / compiled for the target | {build['crates_in_lock']} / "
        f"{build['crates_compiled']} |",
        *(
            f"| {label} | {spread(build['seconds'][name], ' s')} |"
            for name, label in BUILD_MEASURES.items()
        ),
    ]


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; {results['date']}.", ""]
    if "sizes" in results:
        lines += size_tables(results["sizes"])
    if "breakdown" in results:
        lines += breakdown_tables(results["breakdown"])
    if "levers" in results:
        lines += lever_tables(results["levers"])
    if "build" in results:
        lines += build_table(results["build"])
    if "cpu" in results:
        lines += cpu_table(results["cpu"])
    if results.get("load"):
        lines += load_table(results["load"])
    return "\n".join(lines) + "\n"


def results_page(results_dir: Path) -> str:
    """The docs page of every results file in `results_dir`, each as its Markdown tables."""
    found = {
        name: json.loads((results_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in PAGE_SOURCES
        if (results_dir / f"{name}.json").is_file()
    }
    if not found:
        names = " or ".join(f"{name}.json" for name in PAGE_SOURCES)
        raise FileNotFoundError(f"no {names} in {results_dir}")
    lines = [
        "# Results",
        "",
        "<!-- Written by scripts/benchmark.py from bench-results/: edit the script, not this page."
        " -->",
        "",
        "The tables of the benchmark's results files, as `scripts/benchmark.py` writes them after "
        "each run (`--page-only` rewrites this page from the files alone). What each row and "
        "measure means, and what the figures say: [The benchmark](benchmark.md).",
    ]
    for name, results in found.items():
        lines += ["", f"## `bench-results/{name}.json`: {PAGE_SOURCES[name]}", ""]
        lines.append(markdown(results).rstrip("\n"))
    return "\n".join(lines) + "\n"


def write_results_page(results_dir: Path = RESULTS_DIR, page: Path = RESULTS_PAGE) -> None:
    page.write_text(results_page(results_dir), encoding="utf-8")


def parts(text: str) -> set[str]:
    chosen = {part.strip() for part in text.split(",")}
    if unknown := chosen - set(PARTS):
        raise argparse.ArgumentTypeError(f"unknown part {', '.join(sorted(unknown))}")
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=parts, default=set(PARTS), help=", ".join(PARTS))
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(SIZE_VARIANTS),
        metavar="VARIANT",
        help=f"only these size variants, no reference (of: {', '.join(SIZE_VARIANTS)})",
    )
    parser.add_argument("--runs", type=int, default=3, help="repeats of each timed figure")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--skip-load", action="store_true", help="no wrk runs")
    parser.add_argument(
        "--page-only", action="store_true", help=f"only rewrite {RESULTS_PAGE.name} from results"
    )
    args = parser.parse_args()
    if args.page_only:
        try:
            write_results_page()
        except FileNotFoundError as missing:
            parser.exit(1, f"benchmark: {missing}; run the benchmark first\n")
        return 0
    load = not args.skip_load and bool({"load", "levers", "cpu"} & args.only)
    if os.geteuid() != 0 or not shutil.which("buildah"):
        parser.error("the images are built with buildah as root: run bash scripts/bootstrap")
    if load and not shutil.which("wrk"):
        parser.error("wrk is missing: apt-get install wrk (or pass --skip-load)")
    if {"breakdown"} & args.only and not shutil.which("cargo-bloat"):
        parser.error("cargo-bloat is missing: run bash scripts/bootstrap")

    buildah = Buildah()
    variants = {label: SIZE_VARIANTS[label] for label in args.variants or SIZE_VARIANTS}
    loaded = [label for label in LOAD_VARIANTS if label in variants]
    results: dict[str, object] = {
        "machine": f"{os.cpu_count()} cores, {cpu_model()}",
        "date": date.today().isoformat(),
        "runs": args.runs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # The load and CPU runs use the image binaries, so they need the images too.
        if {"sizes", "load", "cpu"} & args.only:
            results["sizes"], binaries = build_images(
                buildah, workdir, variants, with_reference=not args.variants
            )
        if "breakdown" in args.only:
            results["breakdown"] = measure_breakdown(workdir)
        if "levers" in args.only:
            levers_load = load and "levers" in args.only
            results["levers"] = measure_levers(workdir, args.runs, args.seconds, levers_load)
        if "builds" in args.only:
            results["build"] = measure_build_times(buildah, workdir, args.runs)
        if "cpu" in args.only and not args.skip_load:
            # Any generated service's lock: the crates are the same.
            binaries[BARE_AXUM] = bare_axum_binary(workdir, workdir / "bench-0")
            label = f"release {PREVIOUS_RELEASE[0]}, defaults"
            binaries[label] = previous_release_binary(workdir)
            results["cpu"] = measure_cpu(binaries, args.runs, args.seconds)
        if load and "load" in args.only:
            results["load"] = {
                label: measure_load(binaries[label], args.runs, args.seconds)
                for label in [*loaded, *([] if args.variants else [REFERENCE])]
            }

    RESULTS_DIR.mkdir(exist_ok=True)
    name = "partial" if args.variants else "latest"
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    table = markdown(results)
    (RESULTS_DIR / f"{name}.md").write_text(table, encoding="utf-8")
    write_results_page()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
