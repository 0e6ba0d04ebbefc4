"""Read a service's /metrics with the Prometheus project's reference Python client: its parser
of the Prometheus text format and its strict OpenMetrics parser (which refuses, among other
things, a missing `# EOF` and histogram buckets out of order)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as prometheus_families
from prometheus_client.samples import Sample

Series = tuple[str, frozenset[tuple[str, str]]]


def parse(text: str, *, openmetrics: bool) -> list:
    """Every metric family in `text`; raises ValueError on anything the parser refuses."""
    parser = openmetrics_families if openmetrics else prometheus_families
    return list(parser(text))


def samples(families: list) -> dict[Series, float]:
    """Each sample's value by its name and labels."""
    found: dict[Series, float] = {}
    for family in families:
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in found, f"duplicate series {key}"
            found[key] = sample.value
    return found


def value(found: dict[Series, float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def series_of(found: dict[Series, float], name: str) -> list[dict[str, str]]:
    """The label sets of every sample called `name`."""
    return [dict(labels) for sample_name, labels in found if sample_name == name]


def histogram_problems(families: list, name: str) -> list[str]:
    """What is inconsistent in histogram `name`: per label set, cumulative buckets that
    decrease, a missing +Inf bucket, a +Inf bucket that differs from _count, a negative sum."""
    by_labels: dict[frozenset, list[Sample]] = defaultdict(list)
    for family in families:
        if family.name != name:
            continue
        for sample in family.samples:
            labels = frozenset((k, v) for k, v in sample.labels.items() if k != "le")
            by_labels[labels].append(sample)
    problems = []
    for labels, group in by_labels.items():
        buckets = sorted(
            (float(s.labels["le"]), s.value) for s in group if s.name == f"{name}_bucket"
        )
        counts = [s.value for s in group if s.name == f"{name}_count"]
        sums = [s.value for s in group if s.name == f"{name}_sum"]
        where = dict(labels)
        if any(later < earlier for (_, earlier), (_, later) in itertools.pairwise(buckets)):
            problems.append(f"{where}: buckets decrease")
        if not buckets or buckets[-1][0] != float("inf"):
            problems.append(f"{where}: no +Inf bucket")
        elif counts != [buckets[-1][1]]:
            problems.append(f"{where}: _count {counts} is not the +Inf bucket {buckets[-1][1]}")
        if len(sums) != 1 or sums[0] < 0:
            problems.append(f"{where}: _sum {sums}")
    return problems
