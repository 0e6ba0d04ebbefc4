"""scripts/benchmark.py writes the docs page of results from bench-results/, not by hand: a small
results file in, its tables on the page, in the order the page promises."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tooling.questions import REPO_ROOT

spec = importlib.util.spec_from_file_location("benchmark", REPO_ROOT / "scripts" / "benchmark.py")
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def cpu_results(day: str, microseconds: float) -> dict:
    figure = {"median": microseconds, "spread": 0.5}
    return {
        "machine": "2 cores, test",
        "date": day,
        "runs": 3,
        "cpu": {
            "connections": 16,
            "rows": [
                {
                    "variant": benchmark.DEFAULTS,
                    "log": benchmark.LOGS_ON,
                    "microseconds": figure,
                    "times_bare": 2.0,
                    "requests_per_second": {"median": 34000, "spread": 600},
                }
            ],
        },
    }


def test_results_page_holds_each_results_files_tables_latest_first(tmp_path):
    for name, day, microseconds in [("partial", "2026-12-06", 29.2), ("latest", "2026-12-20", 25)]:
        results = cpu_results(day, microseconds)
        (tmp_path / f"{name}.json").write_text(json.dumps(results), encoding="utf-8")
    page = tmp_path / "results.md"

    benchmark.write_results_page(tmp_path, page)

    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Results\n")
    assert "Written by scripts/benchmark.py" in text
    latest = text.index("## `bench-results/latest.json`")
    partial = text.index("## `bench-results/partial.json`")
    assert latest < text.index("2026-12-20") < partial < text.index("2026-12-06")
    assert f"| {benchmark.DEFAULTS} | on | 25 (±0.5) | 2.00x | 34000 (±600) |" in text
    # The tables are exactly what the run printed and wrote to its .md file.
    assert benchmark.markdown(cpu_results("2026-12-06", 29.2)).rstrip("\n") in text


def test_control_no_results_file_no_page(tmp_path):
    page = tmp_path / "results.md"
    with pytest.raises(FileNotFoundError, match=r"no latest\.json or partial\.json"):
        benchmark.write_results_page(tmp_path, page)
    assert not page.exists()
