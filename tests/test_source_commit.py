"""What scripts/build_image puts into an image about the sources it built: the checked-out
commit and its time, read with git; a changed tree is marked, and no repository is said."""

from __future__ import annotations

from tests.helpers import commit_everything
from tooling.image import SourceCommit, commit_build_args, commit_message, source_commit

COMMIT_TIME = 1767323045  # 2026-01-02T03:04:05Z


def committed_folder(tmp_path):
    project = tmp_path / "svc"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.rs").write_text("fn main() {}\n", encoding="utf-8")
    return project, commit_everything(project, COMMIT_TIME)


def test_a_committed_project_gives_its_commit_and_commit_time(tmp_path):
    project, head = committed_folder(tmp_path)

    commit = source_commit(project)

    assert commit == SourceCommit(head, COMMIT_TIME)
    assert commit_build_args(commit) == [
        *("--build-arg", f"REVISION={head}"),
        *("--build-arg", f"SOURCE_DATE_EPOCH={COMMIT_TIME}"),
        *("--timestamp", str(COMMIT_TIME)),
    ]
    assert commit_message(project, commit) == (
        f"REVISION={head} SOURCE_DATE_EPOCH={COMMIT_TIME} (the commit's time)"
    )


def test_changed_or_new_files_mark_the_revision_dirty(tmp_path):
    project, head = committed_folder(tmp_path)
    (project / "src" / "extra.rs").write_text("\n", encoding="utf-8")

    commit = source_commit(project)

    assert commit == SourceCommit(f"{head}-dirty", COMMIT_TIME)
    assert "uncommitted changes" in commit_message(project, commit)


def test_a_folder_outside_git_gives_no_commit_and_says_so(tmp_path):
    assert source_commit(tmp_path) is None
    assert commit_build_args(None) == []
    assert "not in a git repository" in commit_message(tmp_path, None)
