"""Where a service binary's bytes are, read from the very binary an image ships."""

from __future__ import annotations

from pathlib import Path

from elftools.elf.elffile import ELFFile


def section_sizes(binary: Path) -> dict[str, int]:
    """File bytes of each ELF section; .bss and .tbss take memory only and are left out."""
    with binary.open("rb") as stream:
        return {
            section.name: section["sh_size"]
            for section in ELFFile(stream).iter_sections()
            if section.name and section["sh_type"] != "SHT_NOBITS"
        }
