"""The shipped Cargo.lock fits Cargo.toml for any service name, so `--locked` works at once."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from tooling.cargo import cargo
from tooling.lockfile import to_template

# Names that sort before, between and after the dependencies in Cargo.lock.
SLUGS = ["a", "my-service", "reqwest-gateway", "zz_top"]


@pytest.mark.parametrize("slug", SLUGS)
def test_shipped_lockfile_is_current_and_left_untouched_by_cargo(render, slug):
    project = render({"project_slug": slug})
    lock = project / "Cargo.lock"
    shipped = lock.read_text(encoding="utf-8")

    # Fails with "needs to be updated" when Cargo.toml changed and the lock was not refreshed:
    # run `python scripts/refresh_lockfile.py`.
    cargo(project, "metadata", "--format-version", "1", "--locked")
    # Without --locked cargo rewrites a lock whose entries are out of order.
    cargo(project, "metadata", "--format-version", "1")

    assert lock.read_text(encoding="utf-8") == shipped


def test_lockfile_template_places_root_where_cargo_sorts_it():
    lock = "\n".join(
        [
            "version = 4",
            "",
            "[[package]]",
            'name = "bytes"',
            'version = "1.0.0"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
            "",
            "[[package]]",
            'name = "root"',
            'version = "0.1.0"',
            'dependencies = ["bytes", "tokio"]',
            "",
            "[[package]]",
            'name = "tokio"',
            'version = "1.0.0"',
            'source = "registry+https://github.com/rust-lang/crates.io-index"',
            "",
        ]
    )
    template = Environment(keep_trailing_newline=True).from_string(to_template(lock, "root"))

    for slug, expected_order in [
        ("aaa", ["aaa", "bytes", "tokio"]),
        ("my-svc", ["bytes", "my-svc", "tokio"]),
        ("zed", ["bytes", "tokio", "zed"]),
        ("tokio", ["bytes", "tokio", "tokio"]),
    ]:
        rendered = template.render(cookiecutter={"project_slug": slug})
        names = [line.split('"')[1] for line in rendered.splitlines() if line.startswith("name = ")]
        assert names == expected_order, slug
    assert template.render(cookiecutter={"project_slug": "root"}) == lock
