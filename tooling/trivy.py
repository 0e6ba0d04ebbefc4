"""Ask Trivy which packages it finds in an image archive, without any vulnerability database.

`--format cyclonedx` turns vulnerability scanning off (as long as --scanners is not given), so
no database is downloaded; the skip flags make sure nothing else is fetched either.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

OFFLINE_FLAGS = (
    "--offline-scan",
    "--skip-db-update",
    "--skip-java-db-update",
    "--skip-version-check",
    "--disable-telemetry",
    "--no-progress",
)


def cargo_packages_in_image(archive: Path, cache_dir: Path) -> set[str]:
    """Names of the Rust crates Trivy lists for a docker-archive image tarball."""
    command = ["trivy", "image", "--input", str(archive), "--format", "cyclonedx"]
    result = subprocess.run(
        [*command, "--cache-dir", str(cache_dir), *OFFLINE_FLAGS],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"trivy failed ({result.returncode}):\n{result.stderr}")
    components = json.loads(result.stdout).get("components", [])
    return {
        component["name"]
        for component in components
        if component.get("purl", "").startswith("pkg:cargo/")
    }
