"""Every rule an answer must keep, written once.

`scripts/sync_cookiecutter.py` renders this table three ways: copier's validators (and the one
`when` that depends on another answer) into copier.yml, the rule data of cookiecutter's
pre-generation hook (hooks/pre_gen_project.py), and the JSON Schema of Backstage's form
(template.yaml). Each rule is one of a few kinds that all three can state exactly:

- `matches`: the whole answer matches a regular expression;
- `contains` / `excludes`: the answer does / does not contain a match anywhere;
- `max_length`: at most N characters (code points, as Python, Jinja and ajv count them);
- `one_of` / `none_of`: the answer is / is not one of a list (`crate_ident` compares the
  answer with `-` read as `_`, as Rust names the crate);
- `is_true`: a yes/no answer is yes.

A rule with `only_if` holds only while another answer matches a pattern (a port below 1024).
Patterns are written in the common ground of Python's `re` and ECMAScript's `u` mode: classes,
groups, alternation, counted repeats, `\\xNN` and `\\uNNNN` escapes; no `\\s`, `\\w`, `\\d` (they
differ) and nothing beyond U+FFFF. Messages say the rule, never the answer.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache

from tooling.questions import REPO_ROOT, choice_values, questions


@dataclass(frozen=True)
class Condition:
    """Another answer, matched whole against a pattern."""

    question: str
    pattern: str


@dataclass(frozen=True)
class Rule:
    question: str
    kind: str
    message: str
    pattern: str = ""
    limit: int = 0
    values: tuple[str, ...] = ()
    crate_ident: bool = False
    only_if: Condition | None = None

    def as_data(self) -> dict[str, object]:
        data: dict[str, object] = {"question": self.question, "kind": self.kind}
        data["message"] = self.message
        for name in ("pattern", "limit", "values", "crate_ident"):
            value = getattr(self, name)
            if value:
                data[name] = list(value) if isinstance(value, tuple) else value
        if self.only_if:
            data["only_if"] = {"question": self.only_if.question, "pattern": self.only_if.pattern}
        return data


# Template syntax: cookiecutter renders every answer as Jinja before writing it, and Backstage's
# fetch:cookiecutter hands the form's answers to cookiecutter, so `{{ ... }}` in an answer would
# run on the machine that renders it (the portal's host). Refused in every free-text answer.
TEMPLATE_MARKERS = r"\{\{|\{%|\{#"
# C0 and C1 controls, the line and paragraph separators and two noncharacters: free text reaches
# YAML files (the chart, the catalog entry, the answers file), which cannot hold C1 (but \x85)
# or the noncharacters, and which break lines at the separators and \x85.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]"
# How Python reads command-line bytes that are not UTF-8 (lone surrogates); no file holds them.
SURROGATES = r"[\ud800-\udfff]"
# A number as written once: no sign, no spaces, no leading zero (copier would write 9090 for
# 09090 and cookiecutter 09090; YAML 1.1 reads 0443 as octal; clippy refuses 09090 in Rust).
PORT = r"[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
LOW_PORT = r"[1-9][0-9]{0,2}|10[01][0-9]|102[0-3]"
KIB = r"[1-9][0-9]{0,6}"
CARGO_NAME = r"[a-z][a-z0-9_-]{0,63}"
# The address as a browser's e-mail field accepts it (HTML's valid e-mail address), with a dot in
# the domain: ASCII without quotes, backslashes or spaces, so it is safe in TOML, YAML and JSON.
EMAIL = (
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"([.][a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*[.][a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
# A host as browsers and Helm parse it: DNS labels whose last starts with a letter (a number
# there makes it an IPv4 address to a URL parser), or a dotted-quad IPv4 address; a port from
# the port rule; path segments of unreserved characters and well-formed %-escapes.
_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_TOP_LABEL = r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
URL = (
    rf"https?://(({_LABEL}[.])*{_TOP_LABEL}|{_OCTET}([.]{_OCTET}){{3}})(:({PORT}))?"
    r"(/([a-zA-Z0-9._~+-]|%[0-9a-fA-F]{2})+)*/?"
)
# Path components as the distribution spec has them: separated by `.`, `_`, `__` or dashes.
IMAGE_NAME = r"[a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)+"

RUST_KEYWORDS = (
    *("as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum"),
    *("extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match"),
    *("mod", "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super"),
    *("trait", "true", "try", "type", "unsafe", "use", "where", "while", "abstract"),
    *("become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized"),
    *("virtual", "yield"),
)
RESERVED_NAMES = (
    *("std", "core", "alloc", "test", "proc_macro", "build", "deps", "examples", "incremental"),
    *("con", "prn", "aux", "nul"),
    *(f"{device}{n}" for device in ("com", "lpt") for n in range(1, 10)),
)

# Rust's stable releases from edition 2024 on: minor version -> its last patch release (checked
# against rustup's channel files). Extend it when the image's toolchain moves.
RUST_RELEASES = {
    **{85: 1, 86: 0, 87: 0, 88: 0, 89: 0, 90: 0, 91: 1, 92: 0, 93: 1, 94: 1, 95: 0},
    **{96: 1, 97: 1, 98: 1, 99: 1, 100: 0},
}
CONTAINERFILE = REPO_ROOT / "template" / "Containerfile"
CARGO_LOCK = REPO_ROOT / "template" / "Cargo.lock"

# Python's str.isspace() characters: the hook's `.strip()` removes exactly these.
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def char_class(characters: str, negated: bool = False) -> str:
    r"""A character class of `characters`, written with \u escapes (runs as ranges)."""
    codes = sorted(set(map(ord, characters)))
    if codes and codes[-1] > 0xFFFF:
        raise ValueError("\\u escapes reach U+FFFF only")
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    parts = [f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs]
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


_SPACE = char_class(_WHITESPACE)


def image_toolchain() -> tuple[int, int]:
    """The (minor, patch) of the Rust version the Containerfile's builder image pins."""
    text = CONTAINERFILE.read_text(encoding="utf-8")
    match = re.search(r"^ARG RUST_IMAGE=\S+:1\.([0-9]+)\.([0-9]+)-", text, re.MULTILINE)
    if not match:
        raise ValueError("no rust:1.X.Y image in the Containerfile's RUST_IMAGE")
    return int(match.group(1)), int(match.group(2))


def rust_versions() -> tuple[str, ...]:
    """`rust-version` values a service may declare: every release from 1.85 up to the image's
    toolchain, as `1.N` and `1.N.P` (Cargo takes both)."""
    top_minor, top_patch = image_toolchain()
    if top_minor not in RUST_RELEASES:
        raise ValueError(f"RUST_RELEASES does not list 1.{top_minor}, the image's toolchain")
    versions: list[str] = []
    for minor, last_patch in RUST_RELEASES.items():
        patches = range(last_patch + 1) if minor < top_minor else range(top_patch + 1)
        if minor <= top_minor:
            versions += [f"1.{minor}", *(f"1.{minor}.{patch}" for patch in patches)]
    return tuple(versions)


def lock_crates() -> tuple[str, ...]:
    """Crate names (as Rust spells them) of every package in the shipped Cargo.lock but the
    service's own: a service named like one cannot be built with `--locked`, and some do not
    compile at all."""
    # The template's lock is Jinja (the root entry is a macro); the others are plain entries.
    text = CARGO_LOCK.read_text(encoding="utf-8")
    names = set(re.findall(r'^\[\[package\]\]\nname = "([^"{]+)"$', text, re.MULTILINE))
    if not names:
        raise ValueError("no packages found in template/Cargo.lock")
    return tuple(sorted(name.replace("-", "_") for name in names))


def own_modules() -> tuple[str, ...]:
    """Top-level module names of the service's own code (src/ and its tests): a crate named
    like one makes `use <crate>::...` ambiguous in main.rs and the tests, which then do not
    compile. The test target `api` counts too."""
    root = REPO_ROOT / "template"
    files = [*(root / "src").glob("*.rs"), *(root / "tests" / "api").glob("*.rs")]
    names = {path.stem for path in files} - {"main", "lib", "mod"}
    return tuple(sorted(names | {"api"}))


def _free_text(question: str, max_length: int, extra_forbidden: str = "") -> list[Rule]:
    forbidden = CONTROL_CHARACTERS[:-1] + re.escape(extra_forbidden) + "]"
    also = f" or {' '.join(extra_forbidden)}" if extra_forbidden else ""
    return [
        Rule(
            question,
            "contains",
            "must not be empty",
            pattern=char_class(_WHITESPACE, negated=True),
        ),
        Rule(question, "max_length", f"must be at most {max_length} characters", limit=max_length),
        *_text_safety(question, f"must be one line without control characters{also}", forbidden),
        # Markdown, YAML and Cargo would trim or misread them (four spaces start a code block).
        Rule(
            question,
            "excludes",
            "must not start or end with a space",
            pattern=f"^{_SPACE}|{_SPACE}$",
        ),
    ]


def _text_safety(question: str, one_line: str, forbidden: str) -> list[Rule]:
    """What every free-text answer must not hold: template syntax, controls, broken UTF-8."""
    return [
        Rule(
            question,
            "excludes",
            "must not contain template syntax ({{, {% or {#): cookiecutter and Backstage would "
            "run it as code",
            pattern=TEMPLATE_MARKERS,
        ),
        Rule(question, "excludes", one_line, pattern=forbidden),
        Rule(question, "excludes", "must be valid UTF-8 text", pattern=SURROGATES),
    ]


def _choice_rules() -> list[Rule]:
    return [
        Rule(
            name,
            "one_of",
            f"must be one of {', '.join(map(str, choice_values(spec['choices'])))}",
            values=tuple(str(value) for value in choice_values(spec["choices"])),
        )
        for name, spec in questions().items()
        if "choices" in spec
    ]


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule, in the order copier asks the questions: the first broken one is reported."""
    top_minor, top_patch = image_toolchain()
    by_question: dict[str, list[Rule]] = {
        "project_name": _free_text("project_name", 100),
        "project_slug": [
            Rule(
                "project_slug",
                "matches",
                "must be a Cargo package name: lowercase ASCII letters, digits, - or _, "
                "starting with a letter, at most 64 characters",
                pattern=CARGO_NAME,
            ),
            Rule(
                "project_slug",
                "none_of",
                "must not be a Rust keyword",
                values=RUST_KEYWORDS,
                crate_ident=True,
            ),
            Rule(
                "project_slug",
                "none_of",
                "must not be a name Cargo or Rust reserves",
                values=RESERVED_NAMES,
                crate_ident=True,
            ),
            Rule(
                "project_slug",
                "none_of",
                "must not be the name of a crate the service depends on (template/Cargo.lock)",
                values=lock_crates(),
                crate_ident=True,
            ),
            Rule(
                "project_slug",
                "none_of",
                "must not be the name of a module of the service's own code (src/, tests/api/)",
                values=own_modules(),
                crate_ident=True,
            ),
        ],
        "description": _free_text("description", 200),
        "author_name": _free_text("author_name", 100, extra_forbidden="<>"),
        "author_email": [
            Rule(
                "author_email",
                "matches",
                "must be an e-mail address as a browser's e-mail field takes it "
                "(name@domain.tld; ASCII, no quotes, backslashes or spaces)",
                pattern=EMAIL,
            ),
            _text_safety("author_email", "", "")[0],
        ],
        "rust_version": [
            Rule(
                "rust_version",
                "one_of",
                f"must be a Rust release from 1.85 (edition 2024) to 1.{top_minor}.{top_patch} "
                "(the image's toolchain), such as 1.85 or 1.85.1",
                values=rust_versions(),
            )
        ],
        "http_port": [
            Rule(
                "http_port",
                "matches",
                "must be a whole number from 1 to 65535, without sign or leading zero",
                pattern=PORT,
            )
        ],
        "allow_low_port": [
            Rule(
                "allow_low_port",
                "is_true",
                "a port below 1024 needs it: the image's non-root user binds such a port only "
                "with CAP_NET_BIND_SERVICE; grant it or choose a port from 1024",
                only_if=Condition("http_port", LOW_PORT),
            )
        ],
        "repository_url": [
            Rule(
                "repository_url",
                "matches",
                "must be an http(s) URL without spaces, quotes or query, with a valid host, "
                "port and %-escapes, such as https://github.com/org/repo",
                pattern=URL,
            )
        ],
        "image_name": [
            Rule(
                "image_name",
                "matches",
                "must be a lowercase image name without tag, such as ghcr.io/org/service",
                pattern=IMAGE_NAME,
            )
        ],
        "template_updates": [
            Rule(
                "template_updates",
                "none_of",
                "workflow runs on GitHub Actions, so it needs ci github; choose renovate or none",
                values=("workflow",),
                only_if=Condition("ci", "gitlab|none"),
            )
        ],
        "image_size_budget_kib": [
            Rule(
                "image_size_budget_kib",
                "matches",
                "must be a whole number of KiB from 1 to 9999999, without leading zero",
                pattern=KIB,
            )
        ],
    }
    for rule in _choice_rules():
        by_question.setdefault(rule.question, []).insert(0, rule)
    order = list(questions())
    unknown = set(by_question) - set(order)
    if unknown:
        raise ValueError(f"rules for questions copier.yml does not ask: {sorted(unknown)}")
    return tuple(rule for name in order for rule in by_question.get(name, []))


# A question copier asks only while another answer matches (copier's `when`), and the form shows
# only then; elsewhere its answer is ignored (the tree tests the same condition).
ASKED_ONLY_IF = {"allow_low_port": Condition("http_port", LOW_PORT)}
