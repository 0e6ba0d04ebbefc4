"""Both engines refuse bad answers before writing anything, naming the question and the rule.

One corpus goes to the copier CLI (validators in copier.yml) and to the cookiecutter CLI
(hooks/pre_gen_project.py). Where cookiecutter's own checks fire before the hook (a value
outside a choice list, Jinja it cannot render), the corpus says what cookiecutter prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from hooks import pre_gen_project
from tests.engines_cli import cookiecutter_cli, copier_cli, cruft_cli, generated_project
from tests.trees import differences
from tooling import answer_rules
from tooling.cookiecutter_json import COOKIECUTTER_JSON
from tooling.questions import REPO_ROOT, choices


@dataclass(frozen=True)
class Bad:
    answers: dict[str, str]
    question: str
    rule: str
    # What cookiecutter prints instead, when its own check refuses the answer first.
    cookiecutter_says: str | None = None
    # What copier prints instead, when its own check refuses the answer first.
    copier_says: str | None = None

    def __str__(self) -> str:
        return answers_id(self.answers)


def answers_id(answers: dict[str, str]) -> str:
    """A short test id: each answer's repr cut to 18 characters."""
    return "-".join(f"{q}={a!r:.18}" for q, a in answers.items())


def bad(
    question: str,
    answer: str,
    rule: str,
    cookiecutter_says: str | None = None,
    copier_says: str | None = None,
) -> Bad:
    return Bad({question: answer}, question, rule, cookiecutter_says, copier_says)


# Questions cookiecutter asks from a list; a choice whose default copier derives is asked as text.
CHOICE_LISTS = {
    name
    for name, value in json.loads(COOKIECUTTER_JSON.read_text(encoding="utf-8")).items()
    if isinstance(value, list)
}

# Slugs that cannot name one new folder: cookiecutter creates the project folder before its hook
# runs, so these once left folders behind, reached outside the output folder or stopped on the
# output folder itself ("directory already exists") instead of naming the rule.
BAD_FOLDER_SLUGS = ["", "a/b", "..", "../made/here", "/etc/cron.d/x", "a" * 300]

BAD_ANSWERS = [
    # The slug derived from an empty name is empty too; the name's rule comes first.
    Bad({"project_name": ""}, "project_name", "must not be empty"),
    Bad({"project_name": "a/b"}, "project_slug", "must be a Cargo package name"),
    Bad(
        {"project_name": "two\nlines", "project_slug": "svc"},
        "project_name",
        "one line without control characters",
    ),
    bad("project_slug", "My Service", "must be a Cargo package name"),
    bad("project_slug", "9lives", "must be a Cargo package name"),
    *(bad("project_slug", slug, "must be a Cargo package name") for slug in BAD_FOLDER_SLUGS),
    bad("project_slug", "a" * 65, "at most 64 characters"),
    bad("project_slug", "self", "must not be a Rust keyword"),
    bad("project_slug", "async", "must not be a Rust keyword"),
    bad("project_slug", "std", "must not be a name Cargo or Rust reserves"),
    bad("project_slug", "proc-macro", "must not be a name Cargo or Rust reserves"),
    bad("project_slug", "nul", "must not be a name Cargo or Rust reserves"),
    # A crate of the shipped Cargo.lock: `cargo build --locked` fails, some do not compile.
    *(
        bad("project_slug", slug, "must not be the name of a crate the service depends on")
        for slug in ["tokio", "axum", "bytes", "serde-json", "hyper_util", "tower-http"]
    ),
    # A module of the service's own code: `use <crate>::...` becomes ambiguous.
    *(
        bad("project_slug", slug, "must not be the name of a module of the service's own code")
        for slug in ["helpers", "startup", "settings"]
    ),
    # URLs the chart's Helm and Backstage's URL parser refuse.
    *(
        bad("repository_url", url, "must be an http(s) URL")
        for url in [
            "https://example.com/50%off",
            "https://example.com:99999/x",
            "https://1.2.3.4.5/repo",
            "https://example.123/repo",
            "https://exa_mple.com/repo",
        ]
    ),
    bad("description", "", "must not be empty"),
    bad("description", "x" * 201, "at most 200 characters"),
    # Both count code points: not UTF-16 units (402 here) and not bytes (804).
    bad("description", "🚀" * 201, "at most 200 characters"),
    bad("description", "tab\there", "one line without control characters"),
    # YAML (the chart, the catalog entry) breaks lines at these, or cannot hold them at all.
    bad("description", "next\x85line", "one line without control characters"),
    bad("description", "C1\x9bcontrol", "one line without control characters"),
    bad("project_name", "line\u2028separator", "one line without control characters"),
    bad("author_name", "Ops\uffff", "one line without control characters"),
    bad(
        "description",
        "{{ nope }}",
        "must not contain template syntax",
        cookiecutter_says="Unable to render variable 'description'",
    ),
    bad("author_name", " ", "must not be empty"),
    bad("author_name", "Ops <ops@example.com>", "one line without control characters or < >"),
    # Bytes that are not UTF-8 on the command line (here é in Latin-1) reach Python as lone
    # surrogates, which no file can hold.
    Bad({"project_name": "Caf\udce9"}, "project_name", "must be valid UTF-8 text"),
    bad("description", "caf\udce9", "must be valid UTF-8 text"),
    bad("author_name", "Caf\udce9", "must be valid UTF-8 text"),
    bad("author_email", "caf\udce9@example.com", "must be an e-mail address"),
    # What TOML, YAML or a shell would need escaped, and what a browser's e-mail field refuses.
    *(
        bad("author_email", email, "must be an e-mail address")
        for email in [r"o\\ps@example.com", '"ops"@example.com', "café@example.com", "a@-b.com"]
    ),
    bad(
        "author_email",
        "a{{b@example.com",
        "must not contain template syntax",
        cookiecutter_says="TemplateSyntaxError",
    ),
    bad(
        "repository_url",
        "https://example.com/{{x}}",
        "must be an http(s) URL",
        cookiecutter_says="Unable to render variable 'repository_url'",
    ),
    # Leading spaces would start a Markdown code block; Cargo and YAML would keep or trim them.
    *(
        bad(question, text, "must not start or end with a space")
        for question, text in [
            ("description", "    indented"),
            ("description", "trailing "),
            ("author_name", "\u00a0Ops"),
        ]
    ),
    Bad(
        {"project_name": "Padded ", "project_slug": "svc"},
        "project_name",
        "must not start or end with a space",
    ),
    bad("author_name", "", "must not be empty"),
    bad("author_email", "not-an-email", "must be an e-mail address"),
    bad("author_email", "a@b", "must be an e-mail address"),
    bad("author_email", "a b@example.com", "must be an e-mail address"),
    *(
        bad("rust_version", version, "must be a Rust release from 1.85")
        for version in ["1.84", "latest", "1.090", "1.85.00", "1.85.2", "1.200", "1.100", "01.85"]
    ),
    bad("http_port", "0", "must be a whole number from 1 to 65535"),
    bad("http_port", "65536", "must be a whole number from 1 to 65535"),
    bad("http_port", "http", "must be a whole number from 1 to 65535"),
    *(
        bad("http_port", port, "must be a whole number from 1 to 65535")
        for port in ["09090", "+8080", "-80", "8080 ", "0x50", "8_080"]
    ),
    Bad({"http_port": "80"}, "allow_low_port", "a port below 1024 needs it"),
    bad("repository_url", "ftp://example.com/repo", "must be an http(s) URL"),
    bad("repository_url", 'https://example.com/a"b', "must be an http(s) URL"),
    bad("repository_url", "https://example.com/repo?x=1", "must be an http(s) URL"),
    bad("image_name", "ghcr.io/Org/Service", "must be a lowercase image name without tag"),
    bad("image_name", "ghcr.io/org/service:latest", "must be a lowercase image name without tag"),
    bad("image_name", "service", "must be a lowercase image name without tag"),
    # A path component starts and ends with a letter or digit, and `___` is no separator.
    bad("image_name", "ghcr.io/org/svc_", "must be a lowercase image name without tag"),
    bad("image_name", "ghcr.io/org/-svc", "must be a lowercase image name without tag"),
    bad("image_name", "ghcr.io/org/a___b", "must be a lowercase image name without tag"),
    Bad({"ci": "gitlab", "template_updates": "workflow"}, "template_updates", "needs ci github"),
    Bad({"ci": "none", "template_updates": "workflow"}, "template_updates", "needs ci github"),
    bad("image_size_budget_kib", "1.5", "must be a whole number of KiB"),
    bad("image_size_budget_kib", "0", "must be a whole number of KiB"),
    bad("image_size_budget_kib", "03328", "must be a whole number of KiB"),
    # A final newline, which a pattern ending in $ would let through.
    *(
        bad(question, f"{answer}\n", rule)
        for question, answer, rule in [
            ("project_slug", "svc", "must be a Cargo package name"),
            ("author_email", "a@example.com", "must be an e-mail address"),
            ("rust_version", "1.85", "must be a Rust release from 1.85"),
            ("http_port", "8080", "must be a whole number from 1 to 65535"),
            ("repository_url", "https://example.com/repo", "must be an http(s) URL"),
            ("image_name", "ghcr.io/org/service", "must be a lowercase image name without tag"),
            ("image_size_budget_kib", "4096", "must be a whole number of KiB"),
        ]
    ),
    *(
        bad(
            question,
            "nonsense",
            "must be one of",
            # Cookiecutter refuses an answer outside its own choice lists before the hook runs.
            cookiecutter_says=f"choice variable {question}" if question in CHOICE_LISTS else None,
            # Copier checks an answer against the choices before its validator runs.
            copier_says="is not in",
        )
        for question in choices()
    ),
]

GOOD_ANSWERS = [
    {"project_slug": "a"},
    {"project_slug": "billing_api-v2"},
    {"project_slug": "a" * 64},
    {"project_slug": "self-service"},
    {"rust_version": "1.85.1"},
    {"rust_version": "1.99.0"},
    {"rust_version": "1.91.1"},
    {"http_port": "1024"},
    {"http_port": "65535"},
    {"http_port": "80", "allow_low_port": "true"},
    # Asked only below 1024: above, the answer is ignored, not refused.
    {"http_port": "8080", "allow_low_port": "true"},
    {"author_email": "first.last+ops@mail.example.co.uk"},
    {"repository_url": "https://gitlab.example.com:8443/group/sub-group/svc"},
    {"repository_url": "http://10.0.0.1:8080/a%20b/c~d"},
    {"image_name": "registry.example.com:5000/team/billing_api.v2"},
    # Separators the distribution spec allows: `__` and runs of dashes.
    {"image_name": "ghcr.io/org/billing__api--v2"},
    # Slugs ending in a separator or doubling one still derive a valid default image name.
    {"project_slug": "svc_"},
    {"project_slug": "svc-"},
    {"project_slug": "a_-b__c"},
    {"target_arches": "amd64+arm64"},
    # template_updates is derived from ci (renovate, none) in both engines, or given.
    {"ci": "gitlab"},
    {"ci": "none"},
    {"ci": "gitlab", "template_updates": "none"},
    {"ci": "none", "template_updates": "renovate"},
    {"image_size_budget_kib": "1536"},
    {"description": "Ünïcödé, quotes \" ' and {braces} }} %}"},
    # Free text beyond the Basic Multilingual Plane and beyond left-to-right Latin; a name that
    # is not ASCII derives a slug the rules refuse, so the slug is given.
    {"project_name": "Rocket 🚀 𝄞 𓀀 𠜎𠜱", "project_slug": "svc"},
    {"description": "👩\u200d💻 👨\u200d👩\u200d👧\u200d👦 👋🏽 🇳🇴 ❤\ufe0f"},
    {"description": "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"},
    {"author_name": "שלום עולם 42, مرحبا بالعالم"},
    {"author_name": "cafe\u0301 a\u0308\u0323 नमस्ते"},
    {"description": "🚀" * 200},
]


# cruft create generates through cookiecutter and its hooks; it gets the answers that once broke
# parity between the engines, and one ordinary rule.
CRUFT_BAD_ANSWERS = [
    case
    for case in BAD_ANSWERS
    if case.answers
    in (
        {"project_name": ""},
        {"project_name": "a/b"},
        {"project_slug": ""},
        {"project_slug": "a/b"},
        {"project_slug": "../made/here"},
        {"description": "🚀" * 201},
        {"description": "caf\udce9"},
        {"ci": "none", "template_updates": "workflow"},
        {"http_port": "0"},
    )
]
# Free text beyond Latin goes through cruft in test_engines.py.
CRUFT_GOOD_ANSWERS = [{"ci": "gitlab"}, {"ci": "none"}]


@pytest.mark.parametrize("case", BAD_ANSWERS, ids=str)
def test_copier_refuses_with_question_and_rule_and_writes_nothing(tmp_path, case):
    destination = tmp_path / "service"
    result = copier_cli(destination, case.answers)

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert f"'{case.question}'" in last_line
    if case.copier_says:
        assert case.copier_says in last_line
    else:
        assert f"{case.question}: " in last_line
        assert case.rule in last_line
    assert not destination.exists()


@pytest.mark.parametrize("case", BAD_ANSWERS, ids=str)
def test_cookiecutter_refuses_with_question_and_rule_and_writes_nothing(tmp_path, case):
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    result = cookiecutter_cli(output_dir, case.answers)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    if case.cookiecutter_says:
        assert case.cookiecutter_says in output
    else:
        assert f"error: {case.question}: " in output
        assert case.rule in output
    assert list(output_dir.iterdir()) == []
    assert list(tmp_path.iterdir()) == [output_dir], "left something beside the output folder"


@pytest.mark.parametrize("case", BAD_ANSWERS, ids=str)
def test_hook_rules_name_the_same_question_and_rule(case):
    """The hook's rule set, called directly: the first problem is the corpus's."""
    # Answers cookiecutter refuses itself are laid over its defaults instead.
    given = {} if case.cookiecutter_says else case.answers
    answers = {**answers_as_cookiecutter_gives_them(given), **case.answers}
    problems = pre_gen_project.problems(answers)
    assert problems
    assert problems[0].startswith(f"{case.question}: ")
    assert case.rule in problems[0]


@pytest.mark.parametrize("answers", GOOD_ANSWERS, ids=answers_id)
def test_both_engines_accept_good_answers_and_give_identical_trees(tmp_path, answers):
    copier_result = copier_cli(tmp_path / "copier", answers)
    cookiecutter_result = cookiecutter_cli(tmp_path / "cookiecutter", answers)

    assert copier_result.returncode == 0, copier_result.stderr
    assert cookiecutter_result.returncode == 0, cookiecutter_result.stderr
    assert (tmp_path / "copier" / "Cargo.toml").is_file()
    from_cookiecutter = generated_project(tmp_path / "cookiecutter")
    assert differences(tmp_path / "copier", from_cookiecutter) == []


@pytest.mark.parametrize(
    "slug",
    list(
        dict.fromkeys(
            [
                *(
                    case.answers["project_slug"]
                    for case in BAD_ANSWERS
                    if "project_slug" in case.answers
                ),
                *(answers["project_slug"] for answers in GOOD_ANSWERS if "project_slug" in answers),
                *("A", "-a", "_a", "a.b", "a b", "a\\b", "é", "a\n", ".", "a" * 64, "a" * 65),
            ]
        )
    ),
    ids=ascii,
)
def test_cookiecutter_names_the_project_folder_by_the_slug_only_when_it_is_a_cargo_name(slug):
    """The folder cookiecutter creates before the hook runs: the slug, or a new throwaway name."""
    context = generate_context(
        context_file=str(REPO_ROOT / "cookiecutter.json"), extra_context={"project_slug": slug}
    )
    folder = prompt_for_config(context, no_input=True)["__project_folder"]
    if re.fullmatch(answer_rules.CARGO_NAME, slug):
        assert folder == slug
    else:
        assert re.fullmatch("refused-project-slug-[A-Za-z]{12}", folder)


@pytest.mark.parametrize("case", CRUFT_BAD_ANSWERS, ids=str)
def test_cruft_refuses_with_question_and_rule_and_writes_nothing(tmp_path, template_repo, case):
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    result = cruft_cli(template_repo, output_dir, case.answers)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"error: {case.question}: " in output
    assert case.rule in output
    assert list(tmp_path.iterdir()) == [output_dir]
    assert list(output_dir.iterdir()) == []


@pytest.mark.parametrize("answers", CRUFT_GOOD_ANSWERS, ids=answers_id)
def test_cruft_and_copier_accept_good_answers_and_give_identical_trees(
    tmp_path, template_repo, answers
):
    copier_result = copier_cli(tmp_path / "copier", answers)
    cruft_result = cruft_cli(template_repo, tmp_path / "cruft", answers)

    assert copier_result.returncode == 0, copier_result.stderr
    assert cruft_result.returncode == 0, cruft_result.stderr
    assert differences(tmp_path / "copier", generated_project(tmp_path / "cruft")) == []


def test_hook_choices_match_copier_yml():
    offered = {
        rule["question"]: rule["values"]
        for rule in pre_gen_project.RULES
        if rule["kind"] == "one_of"
    }
    assert {name: offered[name] for name in choices()} == choices()


def answers_as_cookiecutter_gives_them(given: dict[str, str]) -> dict[str, object]:
    """The answers, defaults derived from them, rendered by cookiecutter as its hook gets them."""
    context = generate_context(
        context_file=str(REPO_ROOT / "cookiecutter.json"), extra_context=given
    )
    return dict(prompt_for_config(context, no_input=True))


def test_cookiecutter_s_command_line_renders_what_its_own_user_types(tmp_path):
    """Documented, not prevented: cookiecutter renders an answer given on its command line
    before the hook sees it, so the hook checks the result. On the user's own machine only:
    Backstage hands answers over raw (test_backstage.py)."""
    output = tmp_path / "out"
    output.mkdir()
    result = cookiecutter_cli(output, {"description": "{{ 7 * 7 }} ways"})
    assert result.returncode == 0, result.stderr
    cargo = (generated_project(output) / "Cargo.toml").read_text(encoding="utf-8")
    assert 'description = "49 ways"' in cargo
