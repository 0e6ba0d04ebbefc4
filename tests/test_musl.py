"""Opt-in (`bash scripts/musl_toolchain`, then `pytest -m musl`): the default service built as a
real x86_64-unknown-linux-musl binary, as the Containerfile's builder makes it, is static, carries
its SBOM and serves from an empty root.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import elf_headers, is_fully_static
from tests.service import can_chroot, chroot_command, empty_root_with, running_service
from tooling import musl
from tooling.questions import REPO_ROOT
from tooling.render import render_with_copier
from tooling.sbom import embedded_dependencies

pytestmark = [pytest.mark.musl, pytest.mark.slow]


@pytest.fixture(scope="module")
def musl_binary(tmp_path_factory):
    if not musl.available():
        pytest.fail("the musl toolchain is missing: run bash scripts/musl_toolchain")
    project = render_with_copier(
        tmp_path_factory.mktemp("musl") / "svc-musl", {"project_slug": "svc-musl"}
    )
    return musl.build(project, REPO_ROOT / "target" / "musl")


def test_musl_binary_is_static_musl_with_its_sbom(musl_binary):
    headers = elf_headers(musl_binary)
    assert is_fully_static(headers)
    # glibc stamps an ABI tag note into what it links; musl does not.
    assert "NT_GNU_ABI_TAG" not in headers
    sbom = embedded_dependencies(musl_binary)
    assert sbom is not None
    assert {"reqwest", "rustls", "mimalloc", "svc-musl"} <= {p["name"] for p in sbom["packages"]}


@pytest.mark.skipif(not can_chroot(), reason="chroot into an empty root needs root")
def test_musl_binary_serves_from_an_empty_root_and_stops_on_sigterm(musl_binary, tmp_path):
    root = empty_root_with(musl_binary, tmp_path / "root")

    with running_service(chroot_command(root)) as service:
        status, body = service.get("/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert service.stop(timeout=5) == 0
