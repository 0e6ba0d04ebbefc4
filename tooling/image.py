"""Build and run the runtime stage of a generated Containerfile with buildah, without a daemon.

Root, vfs storage and chroot isolation are what works on this machine (and in CI); images stay
in a storage folder of their own, so tests never touch the host's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tooling.containerfile import runtime_stage

BINARY_IN_CONTEXT = "app"


class Buildah:
    def __init__(self, storage: Path) -> None:
        self.base = [
            "buildah",
            "--storage-driver",
            "vfs",
            "--root",
            str(storage / "root"),
            "--runroot",
            str(storage / "run"),
        ]

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self.base, *args], capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"buildah {' '.join(args)} failed:\n{result.stderr}")
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

    def build_runtime_stage(
        self, containerfile: Path, binary: Path, workdir: Path, tag: str
    ) -> str:
        """Build the Containerfile's final stage with `binary` as the builder's output."""
        context = workdir / "context"
        context.mkdir(parents=True)
        # copy2 keeps extended attributes, so file capabilities survive into the image.
        shutil.copy2(binary, context / BINARY_IN_CONTEXT)
        stage = runtime_stage(containerfile.read_text(encoding="utf-8"), BINARY_IN_CONTEXT)
        (context / "Containerfile").write_text(stage, encoding="utf-8")
        # Docker format keeps HEALTHCHECK, which the OCI image format has no field for.
        self(
            "bud",
            "--isolation",
            "chroot",
            "--format",
            "docker",
            "--file",
            str(context / "Containerfile"),
            "--tag",
            tag,
            str(context),
        )
        return tag

    def save(self, tag: str, archive: Path) -> Path:
        """Write the image as a docker-archive tarball (what `docker save` writes)."""
        self("push", tag, f"docker-archive:{archive}:{tag}")
        return archive
