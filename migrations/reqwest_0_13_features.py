"""Copier migration: rename reqwest 0.12 feature names in the service's Cargo.toml to 0.13's.

A 3-way merge updates the template's own reqwest line, but not the team's lines that name
reqwest features, such as `tls = ["reqwest/rustls-tls"]` in `[features]`; with reqwest 0.13
those stop resolving. This rewrites every such name with tomlkit, which keeps the file's
formatting and comments, and leaves everything else alone. Safe to run more than once.

Runs from copier.yml's `_migrations` (hence `copier update --trust`), in the service's folder,
with copier's Python, which needs tomlkit (`pipx inject copier tomlkit`).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomlkit
except ImportError:
    sys.exit("migration needs tomlkit in copier's environment: pipx inject copier tomlkit")

# reqwest 0.13 dropped the root-store features and renamed rustls-tls; the template's policy is
# rustls with the ring provider chosen by the service, so every rustls variant becomes this.
RENAMED = {
    "rustls-tls": "rustls-no-provider",
    "rustls-tls-no-provider": "rustls-no-provider",
    "rustls-tls-webpki-roots": "rustls-no-provider",
    "rustls-tls-webpki-roots-no-provider": "rustls-no-provider",
    "rustls-tls-native-roots": "rustls-no-provider",
    "rustls-tls-native-roots-no-provider": "rustls-no-provider",
    "rustls-tls-manual-roots": "rustls-no-provider",
    "rustls-tls-manual-roots-no-provider": "rustls-no-provider",
}


def renamed(features: list[str], prefix: str = "") -> list[str]:
    """Features with 0.12 names replaced, order kept, duplicates dropped."""
    result: list[str] = []
    for feature in features:
        name = feature.removeprefix(prefix)
        new = prefix + RENAMED.get(name, name) if feature.startswith(prefix) else feature
        if new not in result:
            result.append(new)
    return result


def rewrite_array(array, new_items: list[str]) -> bool:
    """Replace an array's items in place (tomlkit keeps its comments and layout)."""
    if list(array) == new_items:
        return False
    array.clear()
    array.extend(new_items)
    return True


def migrate(manifest: tomlkit.TOMLDocument) -> bool:
    changed = False
    reqwest = manifest.get("dependencies", {}).get("reqwest")
    if isinstance(reqwest, dict) and "features" in reqwest:
        changed |= rewrite_array(reqwest["features"], renamed(list(reqwest["features"])))
    for name, enables in manifest.get("features", {}).items():
        new = renamed(list(enables), prefix="reqwest/")
        new = renamed(new, prefix="reqwest?/")
        if rewrite_array(manifest["features"][name], new):
            changed = True
    return changed


def main() -> int:
    path = Path("Cargo.toml")
    try:
        manifest = tomlkit.parse(path.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as error:
        # Most likely the update's conflict markers: leave them for the team to resolve.
        print(f"migration skipped: Cargo.toml does not parse ({error}); after resolving the")
        print("conflicts, run the template's migrations/reqwest_0_13_features.py in this folder")
        return 0
    if migrate(manifest):
        path.write_text(tomlkit.dumps(manifest), encoding="utf-8")
        print("migration: renamed reqwest 0.12 features in Cargo.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
