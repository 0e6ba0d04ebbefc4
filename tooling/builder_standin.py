"""A local stand-in for the official Rust image that a generated Containerfile's builder pins.

No image registry is reachable here, so `rust:<version>-slim-<suite>@sha256:...` cannot be pulled.
The stand-in is built from what is reachable: a debootstrap root of the same Debian suite, then
the official slim recipe replayed on it (`builder_standin.Containerfile`) with rustup's toolchain
of the same Rust version. It is kept in the buildah store, labelled with a key of everything
that made it, and rebuilt only when that key changes.
"""

from __future__ import annotations

import hashlib
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Standard library only, so scripts/build_image runs with any Python 3.11.
REPO_ROOT = Path(__file__).resolve().parent.parent
RECIPE = Path(__file__).with_name("builder_standin.Containerfile")
CACHE_DIR = REPO_ROOT / "build" / "builder-standin"
# rustup-init as the official image's recipe fetches it (docker-library's rust, rustup 1.29.1).
RUSTUP_VERSION = "1.29.1"
RUSTUP_INIT_SHA256 = {
    "x86_64-unknown-linux-gnu": "dda7234360b7f578ca8b0ddcb80145646fa61a67c1720a5abc7051b35c9fcb71",
    "aarch64-unknown-linux-gnu": "15f6e4ce9f583b929c996c91562bad6d4454f3281de858b02cdfdef615fac433",
}
RUST_HOSTS = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu"}
# Where the host keeps CA certificates of its own (an intercepting proxy's, here).
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
OFFICIAL_IMAGE = re.compile(
    r"^ARG RUST_IMAGE=(?:\S+/)?rust:(?P<version>\d+\.\d+\.\d+)-slim-(?P<suite>[a-z]+)"
    r"@sha256:[0-9a-f]{64}$",
    re.MULTILINE,
)
KEY_LABEL = "template.builder-standin.key"


@dataclass(frozen=True)
class OfficialImage:
    """The official image a Containerfile pins, by what the stand-in must reproduce."""

    rust_version: str
    debian_suite: str

    @classmethod
    def pinned_in(cls, containerfile: Path) -> OfficialImage:
        found = OFFICIAL_IMAGE.search(containerfile.read_text(encoding="utf-8"))
        if not found:
            raise ValueError(f"{containerfile}: no ARG RUST_IMAGE=rust:X.Y.Z-slim-SUITE@sha256:...")
        return cls(found["version"], found["suite"])

    @property
    def standin_tag(self) -> str:
        return f"localhost/rust-standin:{self.rust_version}-slim-{self.debian_suite}"


def ensure_standin(buildah, official: OfficialImage) -> str:
    """The stand-in's tag, building it first unless the store already holds this recipe's."""
    host = RUST_HOSTS[platform.machine()]
    key = _recipe_key(official, host)
    inspected = buildah("inspect", "--type", "image", official.standin_tag, check=False)
    if inspected.returncode == 0 and f'"{KEY_LABEL}": "{key}"' in inspected.stdout:
        return official.standin_tag

    with tempfile.TemporaryDirectory(dir=_cache_dir()) as scratch:
        context = Path(scratch)
        (context / "rootfs.tar").hardlink_to(_debian_root_archive(official.debian_suite))
        local_ca = context / "local-ca"
        local_ca.mkdir()
        for certificate in LOCAL_CA_DIR.glob("**/*.crt"):
            shutil.copy2(certificate, local_ca / certificate.name)
        buildah(
            "bud",
            *("--isolation", "chroot", "--layers=false", "--pull=never"),
            *("--file", str(RECIPE), "--label", f"{KEY_LABEL}={key}"),
            *("--build-arg", f"RUST_VERSION={official.rust_version}"),
            *("--build-arg", f"RUSTUP_VERSION={RUSTUP_VERSION}"),
            *("--build-arg", f"RUSTUP_SHA256={RUSTUP_INIT_SHA256[host]}"),
            *("--build-arg", f"RUST_ARCH={host}"),
            *("--tag", official.standin_tag, str(context)),
        )
    return official.standin_tag


def _recipe_key(official: OfficialImage, host: str) -> str:
    """What decides the stand-in's content; not this module's code, so a reformat of it does
    not throw away every layer built on the stand-in."""
    digest = hashlib.sha256(RECIPE.read_bytes())
    parts = (official.rust_version, official.debian_suite, host, RUSTUP_VERSION)
    digest.update(" ".join((*parts, RUSTUP_INIT_SHA256[host], "minbase")).encode())
    return digest.hexdigest()[:16]


def _cache_dir() -> Path:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return CACHE_DIR


def _debian_root_archive(suite: str) -> Path:
    """A minimal Debian root of `suite` as a tar archive, made once by debootstrap."""
    archive = _cache_dir() / f"debian-{suite}-minbase.tar"
    if archive.exists():
        return archive
    with tempfile.TemporaryDirectory(dir=_cache_dir()) as scratch:
        root = Path(scratch) / "rootfs"
        made = subprocess.run(
            ["debootstrap", "--variant=minbase", suite, str(root), _debian_mirror()],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            log = root / "debootstrap" / "debootstrap.log"
            details = log.read_text(errors="replace")[-2000:] if log.exists() else made.stderr
            raise RuntimeError(f"debootstrap {suite} failed ({made.returncode}):\n{details}")
        partial = archive.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(archive)
    return archive


def _debian_mirror() -> str:
    """The Debian mirror apt uses on this machine (debootstrap reaches it the same way)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        found = re.search(r"^URIs:\s*(\S+)", sources.read_text(encoding="utf-8"), re.MULTILINE)
        if found:
            return found[1]
    return "http://deb.debian.org/debian"
