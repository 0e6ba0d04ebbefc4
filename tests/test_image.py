"""Rungs 6 and 7 for the image: the Containerfile's runtime stage, built for real with buildah
from the static binary, runs as a non-root user and passes its healthcheck; the SBOM inside
lists exactly what was compiled in, and Trivy reads it from the image.

This machine cannot pull the Rust builder image, so the binary is built here (glibc with
+crt-static, not musl) and only the COPY --from=builder source of the final stage is swapped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.service import free_port
from tooling.cargo import HOST_TARGET, make, package_name, tree_packages
from tooling.image import Buildah
from tooling.sbom import embedded_dependencies, runtime_package_names
from tooling.trivy import cargo_packages_in_image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah without a daemon needs root here"),
]

SERVICE_USER = 65532
SS_LISTENERS = ("ss", "--listening", "--tcp", "--numeric", "--processes", "--no-header")
OCI = "org.opencontainers.image."


@pytest.fixture(scope="session")
def buildah(tmp_path_factory):
    return Buildah(tmp_path_factory.mktemp("buildah-storage"))


@pytest.fixture(scope="session")
def runtime_image(buildah, built_project, static_binary, tmp_path_factory):
    tag = f"localhost/{package_name(built_project)}:test"
    workdir = tmp_path_factory.mktemp("image")
    return buildah.build_runtime_stage(built_project / "Containerfile", static_binary, workdir, tag)


@contextlib.contextmanager
def serving_in_image(buildah, image, port):
    """Run the image's entrypoint on the host network; yields the server's host pid."""
    container = buildah("from", image).stdout.strip()
    env = ("--env", f"APP_PORT={port}", "--env", "APP_HOST=127.0.0.1")
    run_in_image = ("run", "--isolation", "chroot", "--network", "host", *env, container)
    server = buildah.popen(*run_in_image, "/app")
    try:
        yield ServedImage(buildah, server, run_in_image, port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        buildah("rm", container, check=False)


@dataclass
class ServedImage:
    buildah: Buildah
    server: subprocess.Popen
    run_in_image: tuple[str, ...]
    port: int

    def listening_pid(self, timeout=15):
        """The host pid of the process listening on the port, once it listens."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise ServiceExited(self.server.returncode, "".join(self.server.communicate()))
            listing = subprocess.run(
                [*SS_LISTENERS, f"sport = :{self.port}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if "pid=" in listing:
                return int(listing.split("pid=")[1].split(",")[0])
            time.sleep(0.1)
        raise AssertionError(f"nothing listened on port {self.port} within {timeout}s")

    def run(self, *command):
        return self.buildah(*self.run_in_image, *command, check=False)


class ServiceExited(Exception):
    def __init__(self, code, output):
        super().__init__(f"the service exited with {code}: {output}")
        self.code, self.output = code, output


def uids_of(pid):
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return {int(uid) for uid in line.split()[1:]}


def recorded_answers(project):
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def crates_in_tree(project, edges):
    """(name, version) of the crates `cargo tree` shows for the build's target along `edges`."""
    return tree_packages(project, edges=edges, target=HOST_TARGET)


def test_sbom_lists_exactly_the_crates_built_for_the_target(built_project, static_binary):
    sbom = embedded_dependencies(static_binary)

    assert sbom is not None, "no .dep-v0 section: the binary was not built by cargo auditable"
    packages = {(package["name"], package["version"]): package for package in sbom["packages"]}
    # Everything compiled for this build, build scripts' dependencies included; no dev-dependencies.
    assert set(packages) == crates_in_tree(built_project, "normal,build")
    assert "rcgen" not in {name for name, _ in packages}, "a dev-dependency is listed"

    runtime = {key for key, package in packages.items() if package.get("kind") != "build"}
    linked = crates_in_tree(built_project, "normal,no-proc-macro")
    # Every crate linked into the binary is listed as runtime. cargo-auditable 0.7.7 also calls
    # a few proc-macros runtime (displaydoc, zerofrom-derive and their syn/quote), but never a
    # build script's dependency.
    assert linked <= runtime <= crates_in_tree(built_project, "normal")
    roots = [name for (name, _), package in packages.items() if package.get("root")]
    assert roots == [package_name(built_project)]


def test_binary_built_without_cargo_auditable_has_no_sbom(binary_without_sbom):
    assert embedded_dependencies(binary_without_sbom) is None


def test_image_config_is_the_containerfiles_runtime_stage(buildah, built_project, runtime_image):
    config = json.loads(buildah("inspect", "--type", "image", runtime_image).stdout)
    config = config["Docker"]["config"]
    answers = recorded_answers(built_project)

    assert config["User"] == f"{SERVICE_USER}:{SERVICE_USER}"
    assert config["Entrypoint"] == ["/app"]
    assert config["Healthcheck"]["Test"] == ["CMD", "/app", "healthcheck"]
    assert list(config["ExposedPorts"]) == [f"{answers['http_port']}/tcp"]
    labels = config["Labels"]
    assert labels[OCI + "title"] == answers["project_slug"]
    assert labels[OCI + "description"] == answers["description"]
    assert labels[OCI + "source"] == answers["repository_url"]
    assert labels[OCI + "licenses"] == answers["license"]
    assert labels[OCI + "version"] == "0.1.0"


def test_image_runs_as_non_root_passes_healthcheck_and_stops_on_sigterm(
    buildah, runtime_image, tmp_path, record_property
):
    with serving_in_image(buildah, runtime_image, free_port()) as served:
        pid = served.listening_pid()
        assert uids_of(pid) == {SERVICE_USER}
        assert served.run("/app", "healthcheck").returncode == 0
        os.kill(pid, signal.SIGTERM)
        assert served.server.wait(timeout=10) == 0

    archive = buildah.save(runtime_image, tmp_path / "image.tar")
    record_property("image_archive_bytes", archive.stat().st_size)
    print(f"{runtime_image}: image archive {archive.stat().st_size} bytes")


def test_image_fits_the_size_budget_its_ci_checks(buildah, built_project, runtime_image, tmp_path):
    """`make image-size` is the CI step; the budget is the image_size_budget_kib answer."""
    archive = buildah.save(runtime_image, tmp_path / "image.tar")

    within = make(built_project, "image-size", f"IMAGE_ARCHIVE={archive}")
    assert f"image: {archive.stat().st_size} bytes" in within.stdout

    over = make(
        built_project,
        "image-size",
        f"IMAGE_ARCHIVE={archive}",
        "IMAGE_SIZE_BUDGET_KIB=1",
        check=False,
    )
    assert over.returncode != 0
    assert "image is over its size budget of 1 KiB" in over.stderr


def test_trivy_lists_the_services_crates_from_the_image(
    buildah, built_project, static_binary, runtime_image, tmp_path
):
    archive = buildah.save(runtime_image, tmp_path / "image.tar")

    found = cargo_packages_in_image(archive, tmp_path / "trivy-cache")

    assert {"reqwest", "rustls", "tokio", package_name(built_project)} <= found
    # Trivy reports the SBOM's runtime packages.
    sbom = embedded_dependencies(static_binary)
    assert found == runtime_package_names(sbom)


def test_trivy_finds_no_crates_in_an_image_without_sbom(
    buildah, render, binary_without_sbom, tmp_path
):
    """Control: without cargo-auditable, Trivy passes an image silently, knowing nothing."""
    project = render()
    tag = buildah.build_runtime_stage(
        project / "Containerfile", binary_without_sbom, tmp_path, "localhost/no-sbom:test"
    )
    archive = buildah.save(tag, tmp_path / "image.tar")

    assert cargo_packages_in_image(archive, tmp_path / "trivy-cache") == set()


def test_low_port_needs_the_capability_the_builder_grants(
    buildah, render, binary_without_sbom, tmp_path
):
    """allow_low_port: setcap in the builder lets the non-root user bind a port below 1024,
    and the capability survives COPY --from into the scratch image. Without it, binding fails."""
    project = render({"http_port": "81", "allow_low_port": "true"})
    assert "setcap cap_net_bind_service=+ep /out/app" in (project / "Containerfile").read_text()
    with_capability = tmp_path / "with-capability" / "app"
    with_capability.parent.mkdir()
    shutil.copy2(binary_without_sbom, with_capability)
    # What the builder stage does to /out/app.
    subprocess.run(["setcap", "cap_net_bind_service=+ep", str(with_capability)], check=True)

    granted = buildah.build_runtime_stage(
        project / "Containerfile", with_capability, tmp_path / "granted", "localhost/low:granted"
    )
    with serving_in_image(buildah, granted, 81) as served:
        assert uids_of(served.listening_pid()) == {SERVICE_USER}

    refused = buildah.build_runtime_stage(
        project / "Containerfile", binary_without_sbom, tmp_path / "refused", "localhost/low:plain"
    )
    with serving_in_image(buildah, refused, 81) as served, pytest.raises(ServiceExited) as exited:
        served.listening_pid()
    # The service logs why it could not start, as JSON on standard output.
    assert "Permission denied" in exited.value.output
