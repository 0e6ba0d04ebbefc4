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
from pathlib import Path

import tomlkit
from elftools.elf.elffile import ELFFile

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
