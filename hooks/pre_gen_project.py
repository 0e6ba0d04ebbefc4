"""Refuse bad answers before cookiecutter (or cruft) writes anything.

The rules are the ones copier.yml's validators state, with the same messages; the tests feed
one corpus of answers to both engines. Cookiecutter renders this file with Jinja, which puts
the answers into ANSWERS_JSON; the tests import the module unrendered and call `problems()`.
This file must therefore hold no Jinja markers of its own.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""

Answers = dict[str, Any]

BRACE = "{"  # Jinja markers are built from pieces: written whole, cookiecutter would parse them.
JINJA_MARKERS = (BRACE + BRACE, BRACE + "%", BRACE + "#")
# C0 and C1 controls, the line and paragraph separators and two noncharacters: free text reaches
# YAML files, which cannot hold C1 or the noncharacters and break lines at the separators.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# How Python reads command-line bytes that are not UTF-8; no file can hold them.
SURROGATES = re.compile(r"[\ud800-\udfff]")
CARGO_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
EMAIL = re.compile(
    r'[^@\x00-\x20\x7f<>"\ud800-\udfff]+@[^@\x00-\x20\x7f<>"\ud800-\udfff]+'
    r'[.][^@\x00-\x20\x7f<>".\ud800-\udfff]+'
)
RUST_VERSION = re.compile(r"1[.]([0-9]+)([.][0-9]+)?")
PORT = re.compile(r"[0-9]{1,5}")
URL = re.compile(r"https?://[a-zA-Z0-9.-]+(:[0-9]+)?(/[a-zA-Z0-9._~%+-]+)*/?")
IMAGE_NAME = re.compile(r"[a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)+")
KIB = re.compile(r"[1-9][0-9]{0,6}")
MIN_RUST_MINOR = 85  # edition 2024

RUST_KEYWORDS = frozenset(
    [
        *("as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum"),
        *("extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match"),
        *("mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super"),
        *("trait", "true", "try", "type", "unsafe", "use", "where", "while", "abstract"),
        *("become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized"),
        *("virtual", "yield"),
    ]
)
RESERVED_NAMES = frozenset(
    ["std", "core", "alloc", "test", "proc_macro", "build", "deps", "examples", "incremental"]
    + ["con", "prn", "aux", "nul"]
    + [f"{device}{n}" for device in ("com", "lpt") for n in range(1, 10)]
)
CHOICES = {
    "license": ["MIT OR Apache-2.0", "MIT", "Apache-2.0", "proprietary"],
    "allocator": ["mimalloc", "system"],
    "panic_strategy": ["unwind", "abort"],
    "opt_level": ["z", "s", "3"],
    "toolchain": ["stable", "nightly-size"],
    "target_arches": ["amd64", "arm64", "amd64+arm64"],
    "ci": ["github", "gitlab", "none"],
    "template_updates": ["workflow", "renovate", "none"],
    "metrics": ["prometheus", "none"],
    "deploy": ["helm", "none"],
}


class Rule(NamedTuple):
    question: str
    broken_by: Callable[[Answers], bool]
    message: Callable[[Answers], str]


def _text(answers: Answers, question: str) -> str:
    return str(answers.get(question, ""))


def _free_text_rules(question: str, max_length: int, extra_forbidden: str = "") -> list[Rule]:
    forbidden = re.compile(CONTROL_CHARACTERS.pattern[:-1] + re.escape(extra_forbidden) + "]")
    one_line = "one line without control characters" + (
        f" or {' '.join(extra_forbidden)}" if extra_forbidden else ""
    )
    markers = ", ".join(JINJA_MARKERS[:-1]) + f" or {JINJA_MARKERS[-1]}"
    return [
        Rule(question, lambda a: not _text(a, question).strip(), lambda a: "must not be empty"),
        Rule(
            question,
            lambda a: len(_text(a, question)) > max_length,
            lambda a: f"must be at most {max_length} characters",
        ),
        Rule(
            question,
            lambda a: any(marker in _text(a, question) for marker in JINJA_MARKERS),
            lambda a: (
                f"must not contain Jinja syntax ({markers}), which cookiecutter would evaluate"
            ),
        ),
        Rule(
            question,
            lambda a: bool(forbidden.search(_text(a, question))),
            lambda a: f"must be {one_line}",
        ),
        Rule(
            question,
            lambda a: bool(SURROGATES.search(_text(a, question))),
            lambda a: "must be valid UTF-8 text",
        ),
    ]


def _crate_ident(answers: Answers) -> str:
    return _text(answers, "project_slug").replace("-", "_")


def _port(answers: Answers) -> int:
    text = _text(answers, "http_port")
    return int(text) if PORT.fullmatch(text) else 0


def _rust_minor(answers: Answers) -> int:
    match = RUST_VERSION.fullmatch(_text(answers, "rust_version"))
    return int(match.group(1)) if match else 0


# In the order copier asks: the first broken rule is the one reported.
RULES: list[Rule] = [
    *_free_text_rules("project_name", 100),
    Rule(
        "project_slug",
        lambda a: not CARGO_NAME.fullmatch(_text(a, "project_slug")),
        lambda a: (
            "must be a Cargo package name: lowercase ASCII letters, digits, - or _, "
            "starting with a letter, at most 64 characters"
        ),
    ),
    Rule(
        "project_slug",
        lambda a: _crate_ident(a) in RUST_KEYWORDS,
        lambda a: f'must not be a Rust keyword ("{a["project_slug"]}")',
    ),
    Rule(
        "project_slug",
        lambda a: _crate_ident(a) in RESERVED_NAMES,
        lambda a: f'must not be a name Cargo or Rust reserves ("{a["project_slug"]}")',
    ),
    *_free_text_rules("description", 200),
    *_free_text_rules("author_name", 100, extra_forbidden="<>"),
    Rule(
        "author_email",
        lambda a: not EMAIL.fullmatch(_text(a, "author_email")),
        lambda a: "must look like an e-mail address (name@domain.tld)",
    ),
    Rule(
        "rust_version",
        lambda a: not RUST_VERSION.fullmatch(_text(a, "rust_version")),
        lambda a: "must be a Rust version such as 1.85 or 1.85.1",
    ),
    Rule(
        "rust_version",
        lambda a: _rust_minor(a) < MIN_RUST_MINOR,
        lambda a: "must be 1.85 or newer (edition 2024 needs it)",
    ),
    Rule(
        "http_port",
        lambda a: not 1 <= _port(a) <= 65535,
        lambda a: "must be an integer from 1 to 65535",
    ),
    Rule(
        "allow_low_port",
        lambda a: _port(a) < 1024 and not a.get("allow_low_port"),
        lambda a: (
            f"port {a['http_port']} is below 1024, which the image's non-root user can bind "
            "only with CAP_NET_BIND_SERVICE; grant it or choose a port from 1024"
        ),
    ),
    Rule(
        "repository_url",
        lambda a: not URL.fullmatch(_text(a, "repository_url")),
        lambda a: (
            "must be an http(s) URL without spaces, quotes or query, "
            "such as https://github.com/org/repo"
        ),
    ),
    Rule(
        "image_name",
        lambda a: not IMAGE_NAME.fullmatch(_text(a, "image_name")),
        lambda a: "must be a lowercase image name without tag, such as ghcr.io/org/service",
    ),
    Rule(
        "template_updates",
        # An unknown ci is reported by its own choice rule.
        lambda a: a.get("template_updates") == "workflow" and a.get("ci") in ("gitlab", "none"),
        lambda a: "workflow runs on GitHub Actions, so it needs ci github; choose renovate or none",
    ),
    Rule(
        "image_size_budget_kib",
        lambda a: not KIB.fullmatch(_text(a, "image_size_budget_kib")),
        lambda a: "must be a whole number of KiB from 1 to 9999999",
    ),
    *(
        Rule(
            question,
            lambda a, q=question, c=choices: a.get(q) not in c,
            lambda a, q=question, c=choices: f"{a.get(q)!r} is not in {c}",
        )
        for question, choices in CHOICES.items()
    ),
]


def problems(answers: Answers) -> list[str]:
    """Every broken rule as `question: rule`, in the order the questions are asked."""
    broken = [rule for rule in RULES if rule.broken_by(answers)]
    return [f"{rule.question}: {rule.message(answers)}" for rule in broken]


def main() -> int:
    found = problems(json.loads(ANSWERS_JSON))
    if found:
        # Only the first, like copier: a later rule may only restate the same mistake.
        print(f"error: {found[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
