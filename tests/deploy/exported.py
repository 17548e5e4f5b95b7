"""What the daemon exports: metric names from a `Metrics` registry built in-process, their labels and
the closed sets of label values from the README's "Metrics and the metrics port" section."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"

# Added with the drift alerting issue (1 when the scope has an approved baseline, 0 when not; only for
# scopes with DRIFT controls). The README row wins; this keeps the rules' gauge known without it.
PENDING = {"controlwatch_baseline_approved": {"scope"}}

# Written by Prometheus itself for every target.
PROMETHEUS = {"up": set[str]()}
TARGET_LABELS = {"job", "instance"}
# Labels whose README values are a closed set: a matcher on them must use those values.
CLOSED = ("status", "from", "to", "severity", "area", "event", "reason", "result", "change", "mode")


def _metrics_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Metrics and the metrics port")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@cache
def readme_families() -> dict[str, set[str]]:
    """README metric tables: family name (counters with `_total`) -> label names."""
    families: dict[str, set[str]] = {}
    row = r"^\| `((?:controlwatch|process|python)_\w+)` \| (\w+) \|([^|]*)\|"  # process_*, python_*: runtime
    for m in re.finditer(row, _metrics_section(), re.MULTILINE):
        families[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(3)))
    return families


@cache
def closed_label_values() -> dict[str, set[str]]:
    """README "Label values" table, for the labels in CLOSED."""
    values: dict[str, set[str]] = {}
    for m in re.finditer(r"^\| ((?:`\w+`(?:, )?)+)(?: \([^)]*\))? \| (.*) \|$", _metrics_section(), re.MULTILINE):
        names = re.findall(r"`(\w+)`", m.group(1))
        words = set(re.findall(r"`([\w.-]+)`", re.sub(r"\([^)]*\)", "", m.group(2))))  # not the (explanations)
        for name in names:
            if name in CLOSED:
                values.setdefault(name, set()).update(words)
    return values


@cache
def exported_samples() -> dict[str, set[str]]:
    """Every sample name the daemon can export (plus `up` and the pending gauge) -> its label names."""
    metrics = Metrics(ResultStore(), version="t")
    families = list(metrics.registry.collect()) + list(metrics.store_collector.describe())
    documented = {**PENDING, **readme_families()}
    samples: dict[str, set[str]] = {}
    for family in families:
        name = family.name + ("_total" if family.type == "counter" else "")
        if name not in documented:
            raise AssertionError(f"{name} is exported but not in the README metrics tables")
        labels = documented[name]
        if family.type == "histogram":
            samples[name + "_bucket"] = labels | {"le"}
            samples[name + "_sum"] = set(labels)
            samples[name + "_count"] = set(labels)
        else:
            samples[name] = set(labels)
    for name, labels in {**PENDING, **PROMETHEUS}.items():
        samples.setdefault(name, set(labels))
    return {name: labels | TARGET_LABELS for name, labels in samples.items()}
