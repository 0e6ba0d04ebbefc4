"""Rungs 1 and 2: every answer combination renders cleanly and lands in the files as given."""

from __future__ import annotations

import itertools
import re

import pytest
import tomlkit
import yaml

from tests.helpers import leftover_template_syntax
from tooling.image import MUSL_TARGETS
from tooling.questions import REPO_ROOT, choice_matrix, choices, combination_id, questions

CHOICE_MATRIX = choice_matrix()


# The only pairs the rules refuse: the GitHub update workflow needs GitHub CI.
IMPOSSIBLE_PAIRS = {
    ("ci", "gitlab", "template_updates", "workflow"),
    ("ci", "none", "template_updates", "workflow"),
}


def test_matrix_pairs_every_choice_with_every_choice_of_every_other_question():
    options = choices()
    for first, second in itertools.combinations(options, 2):
        seen = {(combo[first], combo[second]) for combo in CHOICE_MATRIX}
        possible = {
            (a, b)
            for a, b in itertools.product(options[first], options[second])
            if (first, a, second, b) not in IMPOSSIBLE_PAIRS
        }
        assert seen == possible, (first, second)


@pytest.mark.parametrize("answers", CHOICE_MATRIX, ids=combination_id)
def test_every_choice_combination_renders_its_answers(render, answers):
    project = render(answers)

    assert leftover_template_syntax(project) == []
    manifest = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8")).unwrap()
    package = manifest["package"]
    if answers["license"] == "proprietary":
        assert "license" not in package
    else:
        assert package["license"] == answers["license"]
    profile = manifest["profile"]["release"]
    expected_opt_level = (
        int(answers["opt_level"]) if answers["opt_level"].isdigit() else answers["opt_level"]
    )
    assert profile["opt-level"] == expected_opt_level
    assert profile["panic"] == answers["panic_strategy"]
    expected_default = [
        *(["mimalloc"] if answers["allocator"] == "mimalloc" else []),
        *(["metrics"] if answers["metrics"] == "prometheus" else []),
    ]
    assert manifest["features"]["default"] == expected_default

    # The musl targets the image builds link statically, relocations packed (ASLR kept).
    config = tomlkit.parse((project / ".cargo" / "config.toml").read_text(encoding="utf-8"))
    targets = config.unwrap()["target"]
    assert set(targets) == {MUSL_TARGETS[arch] for arch in answers["target_arches"].split("+")}
    for table in targets.values():
        flags = list(zip(table["rustflags"][::2], table["rustflags"][1::2], strict=True))
        assert flags == [
            ("-C", "target-feature=+crt-static"),
            ("-C", "link-arg=-zpack-relative-relocs"),
        ]
    containerfile = (project / "Containerfile").read_text(encoding="utf-8")
    nightly = re.findall(r"^ARG RUST_NIGHTLY=nightly-\d{4}-\d{2}-\d{2}$", containerfile, re.M)
    assert len(nightly) == (answers["toolchain"] == "nightly-size")
    assert not re.search(r"\bRUSTFLAGS=", containerfile), "would replace the config's flags"


def test_default_answers_give_a_rustls_only_size_optimised_service(render):
    project = render()
    manifest = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8")).unwrap()

    package = manifest["package"]
    assert package["name"] == "my-service"
    assert package["edition"] == "2024"
    assert package["rust-version"] == "1.85"
    assert package["publish"] is False

    # The runtime is the vendored crate, a member of the service's workspace.
    assert manifest["dependencies"]["service-runtime"] == {"path": "runtime"}
    assert manifest["workspace"]["members"] == ["runtime"]
    assert manifest["features"]["metrics"] == ["service-runtime/metrics"]
    assert manifest["dependencies"]["mimalloc"]["optional"] is True

    runtime = tomlkit.parse((project / "runtime" / "Cargo.toml").read_text("utf-8")).unwrap()
    dependencies = runtime["dependencies"]
    reqwest = dependencies["reqwest"]
    assert reqwest["default-features"] is False
    assert sorted(reqwest["features"]) == ["json", "rustls-no-provider"]
    rustls = dependencies["rustls"]
    assert rustls["default-features"] is False
    assert "ring" in rustls["features"]
    assert "aws-lc-rs" not in rustls["features"]
    assert "webpki-roots" in dependencies
    prometheus = dependencies["prometheus-client"]
    assert prometheus["optional"] is True
    assert prometheus["default-features"] is False
    assert runtime["features"]["metrics"] == ["dep:prometheus-client", "axum/matched-path"]

    profile = manifest["profile"]["release"]
    assert profile == {
        "opt-level": "z",
        "lto": True,
        "codegen-units": 1,
        "panic": "unwind",
        "strip": True,
    }
    main_rs = (project / "src" / "main.rs").read_text(encoding="utf-8")
    assert "        .default_port(8080)\n" in main_rs


def test_the_runtime_folder_is_the_crate_in_this_repository_byte_for_byte(render):
    """Rendering never changes the vendored crate, so its tests here test what services build."""
    project = render({"project_slug": "zz-other", "http_port": "9000", "metrics": "none"})
    source = REPO_ROOT / "template" / "runtime"
    files = sorted(path.relative_to(source) for path in source.rglob("*") if path.is_file())
    rendered = project / "runtime"
    assert files == sorted(p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file())
    for relative in files:
        assert (rendered / relative).read_bytes() == (source / relative).read_bytes(), relative


def test_answers_file_records_every_answer_for_copier_update(render):
    answers = {"project_slug": "billing-api", "http_port": "9000", "opt_level": "s"}
    project = render(answers)

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["_src_path"]
    assert recorded["_commit"]
    assert {name: recorded[name] for name in answers} == answers
    # allow_low_port is asked, and so recorded, only for a port below 1024.
    assert set(questions()) - {"allow_low_port"} <= set(recorded)
    assert "cookiecutter" not in recorded


def test_free_text_with_quotes_and_backslashes_stays_exact_in_cargo_toml(render):
    description = 'Says "hello" to C:\\Users\\me — naïve café'
    author = "O'Brien \\ Ops"
    project = render({"description": description, "author_name": author})

    package = tomlkit.parse((project / "Cargo.toml").read_text(encoding="utf-8")).unwrap()[
        "package"
    ]
    assert package["description"] == description
    assert package["authors"] == [f"{author} <platform@example.com>"]
