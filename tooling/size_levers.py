"""Ways to make the default service's binary smaller, each with its verdict and its reason.

A lever the defaults use is measured by taking it away from a service generated with the
default answers; a rejected one by adding it. `edit` makes that one change to the generated
project; levers without an edit cannot be tried by a change to the project (the reason says
why). scripts/benchmark.py builds each edited project and reports the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomlkit

MUSL_TARGET = "x86_64-unknown-linux-musl"
RELR = "link-arg=-zpack-relative-relocs"


@dataclass(frozen=True)
class Lever:
    name: str
    kept: bool
    reason: str
    edit: Callable[[Path], None] | None = None
    # False when the edit adds a dependency feature, so the lock must change (offline).
    locked: bool = True


def _edit_toml(path: Path, change: Callable[[tomlkit.TOMLDocument], None]) -> None:
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def _musl_target(project: Path, change: Callable[[dict], None]) -> None:
    """Edit the `[target.x86_64-unknown-linux-musl]` table of the project's cargo config."""
    _edit_toml(project / ".cargo" / "config.toml", lambda doc: change(doc["target"][MUSL_TARGET]))


def _add_rustflags(*flags: str) -> Callable[[Path], None]:
    return lambda project: _musl_target(project, lambda table: table["rustflags"].extend(flags))


def _without_rustflag(flag: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        def remove(table: dict) -> None:
            flags = list(table["rustflags"])
            index = flags.index(flag)
            del flags[index - 1 : index + 1]  # the flag and its "-C"
            table["rustflags"] = flags

        _musl_target(project, remove)

    return edit


def _rust_lld(*link_args: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        def change(table: dict) -> None:
            table["linker"] = "rust-lld"
            for arg in link_args:
                table["rustflags"].extend(["-C", f"link-arg={arg}"])

        _musl_target(project, change)

    return edit


def _mimalloc_feature(feature: str) -> Callable[[Path], None]:
    def edit(project: Path) -> None:
        def change(manifest: tomlkit.TOMLDocument) -> None:
            mimalloc = manifest["dependencies"]["mimalloc"]
            mimalloc["features"] = [*mimalloc.get("features", []), feature]

        _edit_toml(project / "Cargo.toml", change)

    return edit


def _log_calls_compiled_out(project: Path) -> None:
    def change(manifest: tomlkit.TOMLDocument) -> None:
        manifest["dependencies"]["log"] = {
            "version": "0.4",
            "features": ["release_max_level_off"],
        }

    _edit_toml(project / "Cargo.toml", change)


LEVERS = [
    Lever(
        "RELR: packed relocations (`-zpack-relative-relocs`)",
        kept=True,
        reason="the 130 KB of relocations ASLR needs become a 2 KB table; same code, same ASLR",
        edit=_without_rustflag(RELR),
    ),
    Lever(
        "rust-lld instead of GNU ld for x86_64",
        kept=False,
        reason="alone a little smaller, but not once relocations are packed",
        edit=_rust_lld(),
    ),
    Lever(
        "rust-lld with identical code folding (`--icf=safe`)",
        kept=False,
        reason="rustc's objects carry no address-significance table, so safe folding "
        "must leave Rust's functions alone",
        edit=_rust_lld("--icf=safe"),
    ),
    Lever(
        "rust-lld with identical code folding (`--icf=all`)",
        kept=False,
        reason="not free: distinct functions and constants may then share an address, which "
        "C and Rust code may compare",
        edit=_rust_lld("--icf=all"),
    ),
    Lever(
        "mimalloc 2 instead of mimalloc 3 (`v2` feature)",
        kept=False,
        reason="about 6 KiB compressed is not worth leaving mimalloc 3, the crate's default "
        "and upstream's current line, for the older one (same idle memory, below)",
        edit=_mimalloc_feature("v2"),
    ),
    Lever(
        "log calls compiled out (`log/release_max_level_off`)",
        kept=False,
        reason="no logger is ever installed, so fat LTO already drops reqwest's log calls",
        edit=_log_calls_compiled_out,
        locked=False,
    ),
    Lever(
        "LLVM's machine outliner (`-enable-machine-outliner=always`)",
        kept=False,
        reason="larger on x86_64: outlined calls compress worse than the code they replace",
        edit=_add_rustflags("-C", "llvm-args=-enable-machine-outliner=always"),
    ),
    Lever(
        "non-relocatable executable (`-C relocation-model=static`)",
        kept=False,
        reason="not free: the executable loads at a fixed address, no ASLR",
        edit=_add_rustflags("-C", "relocation-model=static"),
    ),
    Lever(
        "no rustls-platform-verifier, rustls-native-certs, openssl-probe",
        kept=False,
        reason="reqwest 0.13 calls the platform verifier under every rustls feature; only a "
        "[patch] of reqwest drops it (about 13 KB of code)",
    ),
    Lever(
        "TLS 1.3 only (rustls without `tls12`)",
        kept=False,
        reason="reqwest 0.13 switches rustls' `tls12` on itself; and upstreams that speak only "
        "TLS 1.2 would become unreachable",
    ),
    Lever(
        "std without its backtrace symbolizer, built for size, without panic locations",
        kept=False,
        reason="needs a nightly toolchain (-Zbuild-std): the `toolchain` answer `nightly-size`",
    ),
    Lever(
        "debug and trace events compiled out (`tracing/release_max_level_info`)",
        kept=False,
        reason="not free: APP_LOG=debug would show nothing from the service or hyper-util",
    ),
    Lever(
        "UPX-compressed binary",
        kept=False,
        reason="not free: UPX drops the section headers, and with them the SBOM Trivy reads",
    ),
    Lever(
        "opt-level per dependency (`[profile.release.package.*]`)",
        kept=False,
        reason="every crate already builds at `z`, the smallest level; per-crate levels can "
        "only trade size for speed (useful for `opt_level=3`, not for the defaults)",
    ),
]
