"""Where a service binary's bytes are: its ELF sections by purpose, and cargo-bloat's account of
the code by crate and by function.

Sections are read from the very binary an image ships (stripped; pyelftools). cargo-bloat needs
symbols, so it builds the project again for the same musl target with the same release profile
and `.cargo/config.toml`, only without `strip`; the code it attributes is the same code.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import tomlkit
from elftools.elf.elffile import ELFFile

if TYPE_CHECKING:
    from tooling.image import Buildah

# What each kind of section is for, in the order the benchmark lists them.
SECTION_GROUPS = {
    "code": (".text", ".init", ".fini", ".plt", ".plt.got"),
    "constants": (".rodata",),
    "unwind tables": (".eh_frame", ".eh_frame_hdr", ".gcc_except_table"),
    "data with addresses": (".data.rel.ro", ".got", ".data", ".tdata", ".init_array"),
    "relocations (ASLR)": (".rela.dyn", ".relr.dyn"),
    "SBOM": (".dep-v0",),
}
OTHER = "headers, padding, small sections"


def section_sizes(binary: Path) -> dict[str, int]:
    """File bytes of each ELF section; .bss and .tbss take memory only and are left out."""
    with binary.open("rb") as stream:
        return {
            section.name: section["sh_size"]
            for section in ELFFile(stream).iter_sections()
            if section.name and section["sh_type"] != "SHT_NOBITS"
        }


def section_groups(binary: Path) -> dict[str, int]:
    """Bytes of the file per purpose; what no group names (ELF headers, alignment) is OTHER."""
    sections = section_sizes(binary)
    sizes = {
        group: sum(sections.get(name, 0) for name in names)
        for group, names in SECTION_GROUPS.items()
    }
    sizes[OTHER] = binary.stat().st_size - sum(sizes.values())
    return sizes


def cargo_bloat(
    project: Path,
    target: str,
    target_dir: Path,
    *,
    by: str,
    rows: int,
    env: Mapping[str, str] | None = None,
) -> dict:
    """cargo-bloat's JSON for the release build of `project` for `target`, `by` "crates" or
    "functions", the `rows` largest. Symbols are kept for it (`strip` off); nothing else changes.
    """
    command = ["cargo", "bloat", "--release", "--locked", "--target", target]
    command += ["--crates"] if by == "crates" else []
    command += ["-n", str(rows), "--message-format", "json"]
    full_env = {
        **os.environ,
        "CARGO_TARGET_DIR": str(target_dir),
        "CARGO_PROFILE_RELEASE_STRIP": "false",
        "CARGO_TERM_COLOR": "never",
        **(env or {}),
    }
    full_env.pop("RUSTFLAGS", None)  # would replace .cargo/config.toml's target flags
    result = subprocess.run(
        command, cwd=project, env=full_env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {project}:\n{result.stderr}")
    return json.loads(result.stdout)


def layer_gzip_bytes(archive: Path) -> int:
    """The one layer tar of a `docker save` archive, gzip level 6, as a registry would store it."""
    with tarfile.open(archive) as image:
        manifest = json.load(image.extractfile("manifest.json"))
        (layer,) = manifest[0]["Layers"]
        return len(gzip.compress(image.extractfile(layer).read(), compresslevel=6))


# The two ways a layer's compressed size is measured here. They differ by about 6 % for the same
# layer (buildah's gzip compresses less), so a ratio divides a figure only by one of its measure.
GZIP_6 = "gzip level 6"
BUILDAH_GZIP = "buildah's gzip"
MEASURES = (GZIP_6, BUILDAH_GZIP)
PANIC_STRATEGIES = ("unwind", "abort")

# The blog recipe this template grew from, rebuilt once with rustc 1.95 for musl (size profile,
# cargo-auditable, crt-static), in bytes by (panic strategy, measure). Its published 2.1 / 1.89
# MiB are buildah's figures. The abort build as buildah gzips it was kept only as "1.89 MiB", no
# byte count, so abort images get no buildah ratio rather than a rounded or mixed one.
BLOG_RECIPE_LAYER_BYTES = {
    ("unwind", GZIP_6): 2_064_064,
    ("unwind", BUILDAH_GZIP): 2_195_067,
    ("abort", GZIP_6): 1_858_205,
}


@dataclass(frozen=True)
class LayerSize:
    """A compressed layer's size in bytes, and the measure that gave it."""

    bytes: int
    measure: str


def blog_recipe_layer(panic_strategy: str, measure: str) -> LayerSize | None:
    """The blog recipe's layer of `panic_strategy` by `measure`, if it was measured so."""
    size = BLOG_RECIPE_LAYER_BYTES.get((panic_strategy, measure))
    return None if size is None else LayerSize(size, measure)


def ratio(ours: LayerSize, theirs: LayerSize) -> float:
    """`ours` over `theirs`, refused unless both sides were measured the same way."""
    if ours.measure != theirs.measure:
        raise ValueError(f"cannot divide a layer by {ours.measure} by one by {theirs.measure}")
    return round(ours.bytes / theirs.bytes, 3)


def blog_ratio(ours: LayerSize, panic_strategy: str) -> float | None:
    """`ours` against the blog recipe's layer of the same panic strategy and the same measure;
    None where the blog's was not measured that way."""
    theirs = blog_recipe_layer(panic_strategy, ours.measure)
    return None if theirs is None else ratio(ours, theirs)


def image_layer_sizes(
    buildah: Buildah, image: str, archive: Path, workdir: Path
) -> list[LayerSize]:
    """An image's one layer by each measure: `archive` (its `docker save`) gives the layer tar
    for gzip level 6; buildah gives the layer it would push."""
    return [
        LayerSize(layer_gzip_bytes(archive), GZIP_6),
        LayerSize(buildah.compressed_layer_bytes(image, workdir), BUILDAH_GZIP),
    ]


def tar_gzip_bytes(binary: Path) -> int:
    """`binary` as the one file of a layer tar, gzip level 6: a host build's layer_gzip_bytes."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        tar.add(binary, arcname="app")
    return len(gzip.compress(layer.getvalue(), compresslevel=6))


def host_musl_build(project: Path, target: str, target_dir: Path, *, locked: bool = True) -> Path:
    """The image's release build on this machine: `cargo auditable build` for the musl target
    with the project's `.cargo/config.toml` (the Containerfile's own command, bar `--frozen`)."""
    env = {**os.environ, "CARGO_TARGET_DIR": str(target_dir), "CARGO_TERM_COLOR": "never"}
    env.pop("RUSTFLAGS", None)
    command = ["cargo", "auditable", "build", "--release", "--target", target, "--quiet"]
    # A lever that adds a dependency feature changes the lock; everything is fetched already.
    command.append("--locked" if locked else "--offline")
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {project}:\n{result.stderr}")
    manifest = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8"))
    return target_dir / target / "release" / str(manifest["package"]["name"])
