"""Rungs 6 and 7 for the image: built with buildah from the service's own Containerfile, every
stage as generated (only the builder base image is a local stand-in for the pinned official
one), it runs as a non-root user, passes its healthcheck, stops on SIGTERM, fits its size
budget, and Trivy reads the SBOM inside it. arm64 images run under qemu user-mode emulation.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomlkit
import yaml

from tests.conftest import IMAGE_ROWS
from tests.exposition import parse, samples, series_of
from tests.helpers import commit_everything
from tests.service import free_port
from tooling.cargo import make, package_name
from tooling.image import Buildah
from tooling.render import render_with_copier
from tooling.sbom import SECTION, embedded_dependencies, runtime_package_names
from tooling.trivy import cargo_packages_in_image

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah without a daemon needs root here"),
]

SERVICE_USER = 65532
SS_LISTENERS = ("ss", "--listening", "--tcp", "--numeric", "--processes", "--no-header")
OCI = "org.opencontainers.image."


@contextlib.contextmanager
def serving_in_image(buildah, image, port=None):
    """Run the image's entrypoint on the host network; yields the running service.

    Without `port`, the service listens on the port the image was generated with.
    """
    container = buildah("from", "--pull=never", image).stdout.strip()
    env = ("--env", "APP_HOST=127.0.0.1", *(("--env", f"APP_PORT={port}") if port else ()))
    run_in_image = ("run", "--isolation", "chroot", "--network", "host", *env, container)
    server = buildah.popen(*run_in_image, "/app")
    try:
        yield ServedImage(buildah, server, run_in_image, port or exposed_port(buildah, image))
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

    def listening_pid(self, timeout=30):
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


def image_config(buildah, image):
    return json.loads(buildah("inspect", "--type", "image", image).stdout)


def exposed_port(buildah, image):
    (port,) = image_config(buildah, image)["Docker"]["config"]["ExposedPorts"]
    return int(port.split("/")[0])


def uids_of(pid):
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return {int(uid) for uid in line.split()[1:]}


def recorded_answers(project):
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_image_config_is_the_containerfiles_runtime_stage(buildah, built_image):
    inspected = image_config(buildah, built_image.tag)
    config = inspected["Docker"]["config"]
    answers = recorded_answers(built_image.project)

    assert inspected["Docker"]["architecture"] == built_image.arch
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
    # FROM scratch: the binary is the image's only file.
    layers = inspected["Docker"]["rootfs"]["diff_ids"]
    assert len(layers) == 1


def test_image_runs_as_non_root_passes_healthcheck_and_stops_on_sigterm(buildah, built_image):
    """A low port is the image's own (the builder's setcap makes it work); others run on a free
    one, so a service already on the machine's 8080 cannot interfere."""
    low_port = int(recorded_answers(built_image.project)["http_port"]) < 1024
    with serving_in_image(buildah, built_image.tag, None if low_port else free_port()) as served:
        pid = served.listening_pid()
        assert uids_of(pid) == {SERVICE_USER}
        with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/healthz", timeout=10) as reply:
            assert (reply.status, json.loads(reply.read())) == (200, {"status": "ok"})
        healthcheck = served.run("/app", "healthcheck")
        assert healthcheck.returncode == 0, healthcheck.stderr
        os.kill(pid, signal.SIGTERM)
        assert served.server.wait(timeout=20) == 0


@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_low_port_is_refused_without_the_capability(buildah, built_image):
    """Control for allow_low_port: an image built without setcap cannot bind port 81 as 65532."""
    # Asked only for ports below 1024, so the defaults' answers file does not record it.
    assert not recorded_answers(built_image.project).get("allow_low_port", False)
    with (
        serving_in_image(buildah, built_image.tag, port=81) as served,
        pytest.raises(ServiceExited) as exited,
    ):
        served.listening_pid()
    assert "Permission denied" in exited.value.output


def test_image_fits_the_size_budget_its_ci_checks(built_image, record_property):
    """`make image-size` is the CI step; the budget is the image_size_budget_kib answer."""
    archive = built_image.archive
    record_property("image_archive_bytes", archive.stat().st_size)

    within = make(built_image.project, "image-size", f"IMAGE_ARCHIVE={archive}")
    assert f"image: {archive.stat().st_size} bytes" in within.stdout

    over = make(
        built_image.project,
        "image-size",
        f"IMAGE_ARCHIVE={archive}",
        "IMAGE_SIZE_BUDGET_KIB=1",
        check=False,
    )
    assert over.returncode != 0
    assert "image is over its size budget of 1 KiB" in over.stderr


def test_trivy_lists_the_services_crates_from_the_image(built_image, tmp_path):
    found = cargo_packages_in_image(built_image.archive, tmp_path / "trivy-cache")

    assert {"reqwest", "rustls", "tokio", package_name(built_image.project)} <= found
    # Trivy reports the SBOM's runtime packages, the runtime crate among them.
    sbom = embedded_dependencies(built_image.binary)
    assert found == runtime_package_names(sbom)
    runtime = tomlkit.parse((built_image.project / "runtime" / "Cargo.toml").read_text("utf-8"))
    versions = {package["name"]: package["version"] for package in sbom["packages"]}
    assert versions["service-runtime"] == runtime["package"]["version"]


# The host's objcopy edits x86-64 binaries only.
@pytest.mark.parametrize("built_image", ["defaults"], indirect=True)
def test_trivy_finds_no_crates_in_an_image_without_sbom(buildah, built_image, tmp_path):
    """Control: without the SBOM section, Trivy passes an image silently, knowing nothing.

    The control is the image's binary less its `.dep-v0` section, alone in a one-layer image
    like the real one (a second layer would leave the original binary visible below it)."""
    stripped = tmp_path / "app"
    shutil.copy2(built_image.binary, stripped)
    subprocess.run(["objcopy", "--remove-section", SECTION, str(stripped)], check=True)
    assert embedded_dependencies(stripped) is None
    container = buildah("from", "scratch").stdout.strip()
    try:
        buildah("copy", "--quiet", container, str(stripped), "/app")
        buildah("commit", "--quiet", container, "localhost/no-sbom:test")
    finally:
        buildah("rm", container)
    archive = buildah.save("localhost/no-sbom:test", tmp_path / "image.tar")

    assert cargo_packages_in_image(archive, tmp_path / "trivy-cache") == set()


# The service as a team builds it: committed to git, built by scripts/build_image itself.
COMMIT_TIME = 1767323045  # 2026-01-02T03:04:05Z
BUILD_IMAGE = Path(__file__).resolve().parent.parent / "scripts" / "build_image"


@dataclass(frozen=True)
class CommittedBuild:
    project: Path
    revision: str
    tag: str
    archive: Path
    output: str  # what build_image told the user


def run_build_image(project, *args):
    return subprocess.run(
        [sys.executable, str(BUILD_IMAGE), str(project), *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture(scope="module")
def committed_build(tmp_path_factory):
    """The defaults' answers, so the build reuses the defaults row's layers up to the service's
    compile; a folder name of its own gives the image a tag of its own."""
    workdir = tmp_path_factory.mktemp("committed")
    project = render_with_copier(workdir / "svc-committed", IMAGE_ROWS["defaults"])
    revision = commit_everything(project, COMMIT_TIME)
    built = run_build_image(project, "--output", workdir / "image.tar")
    return CommittedBuild(
        project, revision, built.stdout.strip(), workdir / "image.tar", built.stderr
    )


def archive_config(archive):
    """The image configuration inside a docker archive (docker-archive) or an OCI archive."""
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        if "manifest.json" in names:
            (manifest,) = json.load(tar.extractfile("manifest.json"))
            return json.load(tar.extractfile(manifest["Config"]))

        def blob(digest):
            return json.load(tar.extractfile("blobs/" + digest.replace(":", "/")))

        (entry,) = json.load(tar.extractfile("index.json"))["manifests"]
        return blob(blob(entry["digest"])["config"]["digest"])


def test_build_image_output_keeps_the_whole_configuration_and_the_commit(committed_build):
    config = archive_config(committed_build.archive)
    answers = recorded_answers(committed_build.project)

    assert config["config"]["User"] == f"{SERVICE_USER}:{SERVICE_USER}"
    assert config["config"]["Entrypoint"] == ["/app"]
    assert list(config["config"]["ExposedPorts"]) == [f"{answers['http_port']}/tcp"]
    assert config["config"]["Healthcheck"]["Test"] == ["CMD", "/app", "healthcheck"]
    labels = config["config"]["Labels"]
    assert labels[OCI + "title"] == answers["project_slug"]
    assert labels[OCI + "revision"] == committed_build.revision
    # The commit's time, not the build's: SOURCE_DATE_EPOCH through buildah's --timestamp.
    assert config["created"] == "2026-01-02T03:04:05Z"
    assert f"REVISION={committed_build.revision} SOURCE_DATE_EPOCH={COMMIT_TIME}" in (
        committed_build.output
    )


def test_an_oci_archive_is_asked_for_and_loses_the_healthcheck(committed_build, tmp_path):
    """Control for the default: the OCI image configuration has no HEALTHCHECK field."""
    archive = tmp_path / "image.oci.tar"
    built = run_build_image(committed_build.project, "--output", archive, "--oci")

    config = archive_config(archive)["config"]
    assert "Healthcheck" not in config
    assert config["Entrypoint"] == ["/app"]  # the rest is kept
    assert "no HEALTHCHECK" in built.stderr


def test_the_commit_reaches_the_build_info_metric(buildah, committed_build):
    with serving_in_image(buildah, committed_build.tag, free_port()) as served:
        served.listening_pid()
        url = f"http://127.0.0.1:{served.port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            found = samples(parse(reply.read().decode(), openmetrics=False))
    (build,) = series_of(found, "service_build_info")
    assert build["revision"] == committed_build.revision


def images_built_from_the_compile_on(buildah, revision):
    """The images a build of `revision` made from the service's compile on: the compile's
    (its history names the revision) and the runtime stage's from its labels on."""
    found = []
    for entry in json.loads(buildah("images", "--all", "--json").stdout):
        inspected = image_config(buildah, entry["id"])["Docker"]
        history = inspected.get("history") or []
        labels = inspected["config"].get("Labels") or {}
        if labels.get(OCI + "revision") == revision or any(
            f"REVISION={revision}" in step.get("created_by", "") for step in history
        ):
            found.append(entry["id"])
    return found


# What buildah 1.28 writes about how it built an image: its build container's id and host name,
# and the intermediate images of --layers. They differ from build to build.
BUILD_BOOKKEEPING = ("container", "parent")


def without_build_bookkeeping(config):
    kept = {key: value for key, value in config.items() if key not in BUILD_BOOKKEEPING}
    for section in ("config", "container_config"):
        kept[section] = {k: v for k, v in config[section].items() if k != "Hostname"}
    kept["history"] = [
        {k: v for k, v in step.items() if k != "comment"} for step in config["history"]
    ]
    return kept


def test_a_rebuild_of_the_commit_compiles_the_same_layer(buildah, committed_build, tmp_path):
    """Runs last: it deletes the first build's compile and runtime stage, so that the second
    build compiles the service and commits the image again rather than reusing them."""
    first = archive_config(committed_build.archive)
    removed = images_built_from_the_compile_on(buildah, committed_build.revision)
    assert removed
    buildah("rmi", "--force", *removed)

    archive = tmp_path / "rebuilt.tar"
    rebuilt = run_build_image(committed_build.project, "--output", archive)

    assert "Compiling svc-defaults" in rebuilt.stderr  # the compile ran again
    second = archive_config(archive)
    # The same binary with the same file times, the same configuration and created times.
    assert second["rootfs"]["diff_ids"] == first["rootfs"]["diff_ids"]
    assert without_build_bookkeeping(second) == without_build_bookkeeping(first)
    # Not the same image id: buildah 1.28 records its build containers (README, "The two
    # commands").
    assert second != first
