"""The fleet update's report: one JSON document and the Markdown tables the README quotes."""

from __future__ import annotations

import platform
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tooling.accepted_conflicts import ACCEPTED_CONFLICTS
from tooling.fleet import FleetResult, ServiceResult
from tooling.release_history import RELEASES, template_changes, template_file_changes
from tooling.team_edits import CATALOGUE


def conflict_keys(service: ServiceResult) -> list[tuple[str, str]]:
    """(file, team edit) for every conflict the update left in `service`."""
    keys = []
    for file in sorted(service.conflicts):
        edits = service.conflict_edits(file) or ["(no team edit)"]
        keys += [(file, edit) for edit in edits]
    return keys


def observed_conflicts(fleet: FleetResult) -> set[tuple[str, str]]:
    return {key for service in fleet.services for key in conflict_keys(service)}


def conflict_changes(service: ServiceResult, file: str, edit: str, release: str) -> set[str]:
    """The template changes since `release` on the other side of the conflicts in `file` that
    hold `edit`."""
    hunks = service.conflicts[file]
    held = next((e.conflict_hunks.get(file) for e in service.edits if e.kind == edit), None)
    chosen = [hunks[index] for index in held] if held else hunks
    changes: set[str] = set()
    for hunk in chosen:
        changes |= set(template_changes(file, hunk.template, release))
    return changes or {f"{change} (file)" for change in template_file_changes(file, release)[:2]}


def conflict_rows(fleet: FleetResult) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for service in fleet.services:
        for file, edit in conflict_keys(service):
            row = rows.setdefault(
                (file, edit),
                {"file": file, "edit": edit, "services": [], "template_changes": set()},
            )
            row["services"].append(service.slug)
            row["template_changes"] |= conflict_changes(
                service, file, edit.split(" ")[0], fleet.old_version
            )
    return [
        {
            **row,
            "template_changes": sorted(row["template_changes"]),
            "accepted": (row["file"], row["edit"]) in ACCEPTED_CONFLICTS,
        }
        for _, row in sorted(rows.items())
    ]


def edit_rows(fleet: FleetResult) -> list[dict[str, Any]]:
    outcomes = Counter(
        (edit.kind, edit.outcome) for service in fleet.services for edit in service.edits
    )
    return [
        {
            "edit": kind.kind,
            "summary": kind.summary,
            "applied": sum(outcomes[(kind.kind, o)] for o in ("kept", "conflict", "lost")),
            "kept": outcomes[(kind.kind, "kept")],
            "conflict": outcomes[(kind.kind, "conflict")],
            "lost": outcomes[(kind.kind, "lost")],
        }
        for kind in CATALOGUE
    ]


def summary(fleet: FleetResult) -> dict[str, Any]:
    services = fleet.services
    built = [service for service in services if service.build]
    edits = [edit for service in services for edit in service.edits]
    return {
        "services": len(services),
        "by_engine": dict(Counter(service.engine for service in services)),
        "update_failed": sum(
            service.update_exit_code != 0 and not service.stopped for service in services
        ),
        "update_stopped": sum(bool(service.stopped) for service in services),
        "no_conflict": sum(
            not service.conflicts and service.update_exit_code == 0 for service in services
        ),
        "only_lock_conflict": sum(
            bool(service.conflicts) and not service.blocking_conflicts() for service in services
        ),
        "files_with_conflicts": sum(len(service.conflicts) for service in services),
        "edits": len(edits),
        "edits_kept": sum(edit.outcome == "kept" for edit in edits),
        "edits_in_conflict": sum(edit.outcome == "conflict" for edit in edits),
        "edits_lost": sum(edit.outcome == "lost" for edit in edits),
        "make_check_tried": len(built),
        "make_check_passed": sum(service.build.passed for service in built),
    }


def to_json(fleet: FleetResult) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "from": fleet.old_version,
        "from_commit": RELEASES[fleet.old_version],
        "to": fleet.new_version,
        "seed": fleet.seed,
        "summary": summary(fleet),
        "phase_seconds": {name: round(value, 1) for name, value in fleet.phase_seconds.items()},
        "edits": edit_rows(fleet),
        "conflicts": conflict_rows(fleet),
        "accepted_but_not_seen": sorted(
            f"{file}: {edit}" for file, edit in set(ACCEPTED_CONFLICTS) - observed_conflicts(fleet)
        ),
        "services": [service_json(service) for service in fleet.services],
    }


def service_json(service: ServiceResult) -> dict[str, Any]:
    build = service.build
    return {
        "slug": service.slug,
        "engine": service.engine,
        "answers": service.answers,
        "update_exit_code": service.update_exit_code,
        "stopped": service.stopped,
        "update_seconds": round(service.update_seconds, 1),
        "edits": [
            {
                "kind": edit.kind,
                "details": edit.details,
                "files": edit.files,
                "outcome": edit.outcome,
                "conflict_hunks": edit.conflict_hunks,
            }
            for edit in service.edits
        ],
        "conflicts": {
            file: [
                {"team": hunk.team, "template": hunk.template, "rejected": hunk.rejected}
                for hunk in hunks
            ]
            for file, hunks in service.conflicts.items()
        },
        "make_check": None
        if build is None
        else {
            "passed": build.passed,
            "seconds": round(build.seconds, 1),
            "lock_taken_from_template": build.lock_taken_from_template,
            "failed_step": build.failed_step,
            "output_tail": build.output_tail,
        },
    }


def to_markdown(report: dict[str, Any]) -> str:
    """The tables, from the JSON report (so a stored report renders the same)."""
    s = report["summary"]
    engines = ", ".join(f"{n} {engine}" for engine, n in sorted(s["by_engine"].items()))
    lines = [
        f"Fleet update {report['from']} -> {report['to']}: {s['services']} services "
        f"({engines}), seed {report['seed']}; {report['machine']}; {report['date'][:10]}.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| services updated (update exited 0) | "
        f"{s['services'] - s['update_failed'] - s['update_stopped']} |",
        f"| services a migration's check stopped (one line, nothing changed) | "
        f"{s['update_stopped']} |",
        f"| services updated with no conflict | {s['no_conflict']} |",
        f"| services whose only conflict is `Cargo.lock` | {s['only_lock_conflict']} |",
        f"| files with conflicts | {s['files_with_conflicts']} |",
        f"| team edits applied | {s['edits']} |",
        f"| edits kept, clean merge | {s['edits_kept']} |",
        f"| edits kept, in a conflict to resolve | {s['edits_in_conflict']} |",
        f"| **edits lost** | **{s['edits_lost']}** |",
        f"| `make check` passed after the update | {s['make_check_passed']} of "
        f"{s['make_check_tried']} tried |",
    ]
    lines += [
        f"| time: {name} | {seconds} s |" for name, seconds in report["phase_seconds"].items()
    ]
    lines += [
        "",
        "| team edit | applied | kept | in conflict | lost |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {row['summary']} (`{row['edit']}`) | {row['applied']} | {row['kept']} | "
        f"{row['conflict']} | {row['lost']} |"
        for row in report["edits"]
    ]
    if report["conflicts"]:
        lines += [
            "",
            "| file in conflict | team edit | services | template change on the other side |",
            "| --- | --- | ---: | --- |",
        ]
        lines += [
            f"| `{row['file']}` | {row['edit']} | {len(row['services'])} | "
            f"{'; '.join(row['template_changes']) or '-'} |"
            for row in report["conflicts"]
        ]
    stopped = sorted({service["stopped"] for service in report["services"] if service["stopped"]})
    if stopped:
        lines += ["", "Updates stopped by a check, with the line the team sees:", ""]
        lines += [f"- {line}" for line in stopped]
    built = [service for service in report["services"] if service["make_check"]]
    if built:
        lines += [
            "",
            "| service (`make check`) | engine | edits | lock from template | result | seconds |",
            "| --- | --- | --- | --- | --- | ---: |",
        ]
        for service in built:
            check = service["make_check"]
            result = "passed" if check["passed"] else f"failed: {check['failed_step']}"
            edits = ", ".join(edit["kind"] for edit in service["edits"])
            taken = "yes" if check["lock_taken_from_template"] else "no"
            lines.append(
                f"| {service['slug']} | {service['engine']} | {edits} | {taken} | {result} | "
                f"{check['seconds']} |"
            )
    return "\n".join(lines) + "\n"
