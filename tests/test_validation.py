"""Bad answers are refused before anything is written, with one line naming question and rule."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tooling.questions import REPO_ROOT

# (question, bad answer, the rule the message must state)
BAD_ANSWERS = [
    ("project_name", "", "must not be empty"),
    ("project_name", "two\nlines", "one line"),
    ("project_slug", "My Service", "must be a Cargo package name"),
    ("project_slug", "9lives", "must be a Cargo package name"),
    ("project_slug", "../escape", "must be a Cargo package name"),
    ("project_slug", "a" * 65, "at most 64 characters"),
    ("project_slug", "self", "must not be a Rust keyword"),
    ("project_slug", "async", "must not be a Rust keyword"),
    ("project_slug", "std", "must not be a name Cargo or Rust reserves"),
    ("project_slug", "proc-macro", "must not be a name Cargo or Rust reserves"),
    ("description", "", "must not be empty"),
    ("description", "x" * 201, "at most 200 characters"),
    ("author_name", " ", "must not be empty"),
    ("author_email", "not-an-email", "must look like an e-mail address"),
    ("author_email", "a@b", "must look like an e-mail address"),
    ("license", "GPL-3.0", "is not in"),
    ("rust_version", "1.84", "must be 1.85 or newer"),
    ("rust_version", "latest", "must be a Rust version"),
    ("http_port", "0", "must be an integer from 1 to 65535"),
    ("http_port", "65536", "must be an integer from 1 to 65535"),
    ("http_port", "http", "must be an integer from 1 to 65535"),
    ("allocator", "jemalloc", "is not in"),
    ("panic_strategy", "halt", "is not in"),
    ("opt_level", "2", "is not in"),
]

GOOD_ANSWERS = [
    ("project_slug", "a"),
    ("project_slug", "billing_api-v2"),
    ("project_slug", "a" * 64),
    ("project_slug", "self-service"),
    ("rust_version", "1.85.1"),
    ("rust_version", "1.100"),
    ("http_port", "1"),
    ("http_port", "65535"),
    ("author_email", "first.last+ops@mail.example.co.uk"),
    ("description", "Ünïcödé, quotes \" ' and {braces}"),
]


def _copier_copy(destination, question, answer):
    """Run the real copier CLI non-interactively with one answer given."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data",
            f"{question}={answer}",
            str(REPO_ROOT),
            str(destination),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("question", "answer", "rule"), BAD_ANSWERS, ids=[f"{q}={a!r:.20}" for q, a, _ in BAD_ANSWERS]
)
def test_copier_refuses_bad_answer_and_writes_nothing(tmp_path, question, answer, rule):
    destination = tmp_path / "service"
    result = _copier_copy(destination, question, answer)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"'{question}'" in last_line
    assert rule in last_line
    assert not destination.exists()


@pytest.mark.parametrize(("question", "answer"), GOOD_ANSWERS, ids=[q for q, _ in GOOD_ANSWERS])
def test_copier_accepts_good_answer(render, question, answer):
    project = render({question: answer})
    assert (project / "Cargo.toml").is_file()
