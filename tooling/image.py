"""Build a generated service's image from its own Containerfile with buildah, as a user would.

Every stage and instruction runs as generated. The one substitution is the builder base image
(the Containerfile's RUST_IMAGE argument): a local stand-in for the pinned official image, which
cannot be pulled here (see tooling/builder_standin.py).

Root and chroot isolation are what work on this machine without a daemon. One store with the
overlay driver, under build/, is shared by the tests, the benchmark and scripts/build_image, so
layers that do not change (the cargo tools, cargo-chef's dependency layer) are built once.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tooling.builder_standin import REPO_ROOT, OfficialImage, ensure_standin

STORE = REPO_ROOT / "build" / "buildah"
MUSL_TARGETS = {"amd64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}
ARCHES = tuple(MUSL_TARGETS)
# The build machine's own platform; macOS calls aarch64 "arm64".
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine(), "amd64"
)


class Buildah:
    def __init__(self, store: Path = STORE) -> None:
        self.base = [
            "buildah",
            *("--storage-driver", "overlay"),
            *("--root", str(store / "root"), "--runroot", str(store / "run")),
        ]

    def __call__(
        self, *args: str, check: bool = True, echo: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run buildah; with `echo`, its output goes to the terminal as it comes."""
        result = subprocess.run(
            [*self.base, *args],
            stdout=sys.stderr if echo else subprocess.PIPE,
            stderr=None if echo else subprocess.PIPE,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"buildah {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout or ''}{result.stderr or ''}"
            )
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """Start buildah in a session of its own: killing the group also ends what it runs."""
        return subprocess.Popen(
            [*self.base, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def copy_out(self, image: str, path: str, destination: Path) -> Path:
        """Copy one file out of an image, keeping its mode and file capabilities."""
        container = self("from", "--pull=never", image).stdout.strip()
        try:
            root = Path(self("mount", container).stdout.strip())
            # copy2 copies extended attributes too, security.capability among them.
            shutil.copy2(root / path.lstrip("/"), destination)
        finally:
            self("rm", container)
        return destination

    def compressed_layer_bytes(self, image: str, workdir: Path) -> int:
        """The image's one layer as buildah compresses it for a registry (gzip, its own level)."""
        layout = workdir / "oci-layout"
        shutil.rmtree(layout, ignore_errors=True)
        self("push", "--quiet", "--compression-format", "gzip", image, f"oci:{layout}")
        index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
        algorithm, digest = index["manifests"][0]["digest"].split(":")
        manifest = json.loads((layout / "blobs" / algorithm / digest).read_text(encoding="utf-8"))
        (layer,) = manifest["layers"]
        return int(layer["size"])

    def save(self, image: str, archive: Path, transport: str = "docker-archive") -> Path:
        """Write the image as `docker save` (docker-archive) or as an OCI layout tarball."""
        archive.unlink(missing_ok=True)
        self("push", "--quiet", image, f"{transport}:{archive}:{image}")
        return archive


@dataclass(frozen=True)
class SourceCommit:
    """The git commit a project's image is built from."""

    revision: str  # the full hash; "-dirty" added when the project's files differ from it
    epoch: int  # the commit time, seconds since 1970: SOURCE_DATE_EPOCH

    @property
    def dirty(self) -> bool:
        return self.revision.endswith("-dirty")


def source_commit(project: Path) -> SourceCommit | None:
    """The commit checked out in `project`'s git repository; None when it is in none."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(project), *args], capture_output=True, text=True, check=False
        )

    head = git("log", "-1", "--format=%H %ct")
    if head.returncode != 0:  # not a repository, or one without a commit yet
        return None
    revision, epoch = head.stdout.split()
    # Untracked files count: they may be in the build context.
    if git("status", "--porcelain", "--", ".").stdout.strip():
        revision += "-dirty"
    return SourceCommit(revision, int(epoch))


def commit_build_args(commit: SourceCommit | None) -> list[str]:
    """The arguments that put `commit` into the image: its revision as REVISION, and its time
    as SOURCE_DATE_EPOCH and as every created time buildah writes (`--timestamp`; buildah 1.28
    does not read SOURCE_DATE_EPOCH itself), so a rebuild of the commit is the same image."""
    if commit is None:
        return []
    return [
        *("--build-arg", f"REVISION={commit.revision}"),
        *("--build-arg", f"SOURCE_DATE_EPOCH={commit.epoch}"),
        *("--timestamp", str(commit.epoch)),
    ]


def build_image(
    project: Path, arch: str = HOST_ARCH, *, buildah: Buildah | None = None, echo: bool = False
) -> str:
    """Build `project`'s image for `arch` from its Containerfile; returns the image's tag.

    In a git repository the image carries the checked-out commit (commit_build_args); with
    `echo`, says which commit, or that there is none."""
    if arch not in ARCHES:
        raise ValueError(f"arch must be one of {', '.join(ARCHES)}, not {arch!r}")
    buildah = buildah or Buildah()
    standin = ensure_standin(buildah, OfficialImage.pinned_in(project / "Containerfile"))
    tag = f"localhost/{project.name}:{arch}"
    commit = source_commit(project)
    if echo:
        print(commit_message(project, commit), file=sys.stderr)
    buildah(
        "bud",
        *("--isolation", "chroot", "--layers", "--pull=never"),
        # Docker format keeps HEALTHCHECK, which the OCI image format has no field for.
        *("--format", "docker", "--platform", f"linux/{arch}"),
        "--build-arg",
        f"RUST_IMAGE={standin}",
        # buildah 1.28 leaves BUILDPLATFORM unset for a local base image when --platform names
        # another architecture, and then tries to pull; it is the machine's own platform anyway.
        *("--build-arg", f"BUILDPLATFORM=linux/{HOST_ARCH}"),
        *commit_build_args(commit),
        *("--tag", tag, str(project)),
        echo=echo,
    )
    return tag


def commit_message(project: Path, commit: SourceCommit | None) -> str:
    if commit is None:
        return (
            f"{project} is not in a git repository with a commit: the image's revision is "
            "'unknown' and its created time is now"
        )
    message = f"REVISION={commit.revision} SOURCE_DATE_EPOCH={commit.epoch} (the commit's time)"
    if commit.dirty:
        message += "; uncommitted changes, so the image is not the commit's"
    return message


def containerfile_arches(project: Path) -> list[str]:
    """The image platforms the project's Containerfile builds, in its order."""
    text = (project / "Containerfile").read_text(encoding="utf-8")
    return re.findall(r"^\s+(amd64|arm64)\) echo \S+-unknown-linux-musl", text, re.MULTILINE)


@dataclass(frozen=True)
class BuiltImage:
    """A generated service's image, built once and shared by every check on it."""

    project: Path
    arch: str
    tag: str
    binary: Path  # /app, copied out of the image
    archive: Path  # the image as `docker save` writes it

    @property
    def musl_target(self) -> str:
        return MUSL_TARGETS[self.arch]


def build_row_image(
    buildah: Buildah, project: Path, workdir: Path, arch: str | None = None
) -> BuiltImage:
    """Build `project`'s image for `arch`, by default the first platform its Containerfile names."""
    arch = arch or containerfile_arches(project)[0]
    tag = build_image(project, arch, buildah=buildah)
    binary = buildah.copy_out(tag, "/app", workdir / "app")
    archive = buildah.save(tag, workdir / "image.tar")
    return BuiltImage(project, arch, tag, binary, archive)
