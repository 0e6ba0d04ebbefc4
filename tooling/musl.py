"""Build a generated service as a real static x86_64-unknown-linux-musl binary.

Needs `bash scripts/musl_toolchain` first (Debian's rustc-web with std sources, musl-tools, and
the self-contained objects it assembles). Debian's cargo and rustc are used, not rustup's, with
RUSTC_BOOTSTRAP for -Zbuild-std; C code is compiled by musl-gcc, and plain gcc links, because
musl-gcc's specs force a dynamic loader into static-pie executables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tooling.cargo import package_name
from tooling.questions import REPO_ROOT

MUSL_TARGET = "x86_64-unknown-linux-musl"
SELF_CONTAINED = REPO_ROOT / "build" / "musl-self-contained"
DEBIAN_CARGO = Path("/usr/bin/cargo")
DEBIAN_RUSTC = Path("/usr/bin/rustc")


def available() -> bool:
    return (
        DEBIAN_RUSTC.exists()
        and (SELF_CONTAINED / "libunwind.a").exists()
        and shutil.which("musl-gcc") is not None
    )


def build(project: Path, target_dir: Path, *cargo_args: str, auditable: bool = True) -> Path:
    """`cargo [auditable] build --release --locked` for musl; returns the binary's path."""
    cargo_auditable = Path.home() / ".cargo" / "bin"
    env = {
        **os.environ,
        # Debian's cargo and rustc first; cargo-auditable is found after them.
        "PATH": f"/usr/bin:/bin:{cargo_auditable}",
        "RUSTC": str(DEBIAN_RUSTC),
        "RUSTDOC": "/usr/bin/rustdoc",
        "RUSTC_BOOTSTRAP": "1",
        "CARGO_TARGET_DIR": str(target_dir),
        "CC_x86_64_unknown_linux_musl": "musl-gcc",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER": "gcc",
        "RUSTFLAGS": f"-L native={SELF_CONTAINED}",
    }
    env.pop("RUSTUP_TOOLCHAIN", None)
    command = [str(DEBIAN_CARGO), *(["auditable"] if auditable else []), "build"]
    command += ["-Zbuild-std=std,panic_unwind", "--target", MUSL_TARGET, "--release", "--locked"]
    subprocess.run([*command, "--quiet", *cargo_args], cwd=project, env=env, check=True)
    return target_dir / MUSL_TARGET / "release" / package_name(project)
