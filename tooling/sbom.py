"""Read the dependency list cargo-auditable embeds in a binary's `.dep-v0` section."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile

SECTION = ".dep-v0"


def embedded_dependencies(binary: Path) -> dict[str, Any] | None:
    """The decoded SBOM (`{"packages": [...]}`), or None when the binary carries none."""
    with binary.open("rb") as stream:
        section = ELFFile(stream).get_section_by_name(SECTION)
        if section is None:
            return None
        return json.loads(zlib.decompress(section.data()))


def runtime_package_names(sbom: dict[str, Any]) -> set[str]:
    """Packages compiled into the binary: build-only ones (`"kind": "build"`) left out."""
    return {
        package["name"]
        for package in sbom["packages"]
        if package.get("kind", "runtime") == "runtime"
    }
