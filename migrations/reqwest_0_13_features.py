"""Copier migration: rename reqwest 0.12 feature names in the service's Cargo.toml to 0.13's.

A 3-way merge updates the template's own reqwest line, but not the team's lines that name
reqwest features, such as `tls = ["reqwest/rustls-tls"]` in `[features]`; with reqwest 0.13
those stop resolving. This rewrites every such name where it stands (toml_arrays.py), keeping
the file's formatting and comments, and leaves everything else alone. Safe to run more than once.

Runs from copier.yml's `_migrations` (hence `copier update --trust`), in the service's folder,
with copier's Python: the standard library and copier's own dependencies are all it needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from toml_arrays import Array, NotSimple, arrays, rewrite

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


def renamed(features: list[str], prefix: str = "") -> list[str | None]:
    """Each feature with its 0.12 name replaced (None: a duplicate of an earlier one, dropped)."""
    result: list[str | None] = []
    for feature in features:
        name = feature[len(prefix) :] if feature.startswith(prefix) else None
        new = prefix + RENAMED.get(name, name) if name is not None else feature
        result.append(None if new in result else new)
    return result


def reqwest_features(array: Array) -> bool:
    """reqwest's own `features = [...]`, inline or in a `[dependencies.reqwest]` table."""
    return (array.table, array.key) in {
        ("dependencies", "reqwest.features"),
        ("dependencies.reqwest", "features"),
    }


def migrate(text: str) -> str:
    # Rewriting moves what follows: the last array first, so the others keep their offsets.
    for array in reversed(list(arrays(text))):
        values = [item.value for item in array.items]
        if reqwest_features(array):
            new = renamed(values)
        elif array.table == "features":
            new = renamed_in_features(values)
        else:
            continue
        if new != values:
            text = rewrite(text, array, new)
    return text


def renamed_in_features(values: list[str]) -> list[str | None]:
    """A `[features]` list: its `reqwest/...` and `reqwest?/...` names."""
    new = renamed(values, prefix="reqwest/")
    kept = [value for value in new if value is not None]
    weak = iter(renamed(kept, prefix="reqwest?/"))
    return [None if value is None else next(weak) for value in new]


def main() -> int:
    path = Path("Cargo.toml")
    text = path.read_text(encoding="utf-8")
    if "<<<<<<< " in text:
        # The update's conflict markers: leave them for the team to resolve.
        print("migration skipped: Cargo.toml is in conflict; after resolving it, run the")
        print("template's migrations/reqwest_0_13_features.py in this folder")
        return 0
    try:
        migrated = migrate(text)
    except NotSimple as error:
        print(f"migration skipped: Cargo.toml has {error}; rename reqwest 0.12 features by hand")
        return 0
    if migrated != text:
        path.write_text(migrated, encoding="utf-8")
        print("migration: renamed reqwest 0.12 features in Cargo.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
