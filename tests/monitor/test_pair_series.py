"""A scrape joined from each scope's kept text says exactly what encoding the registry says."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from checks.model import Verdict
from monitor.sinks.metrics import Metrics
from monitor.sinks.pair_series import PROMETHEUS_ACCEPT
from monitor.sinks.store import ResultStore
from tests.monitor.test_store import FW01, FW10, IAM02, res

SCOPES = ("shop-prod", "shop-dev", "data-lab")
Samples = list[tuple[str, list[tuple[str, tuple[tuple[str, str], ...], float]]]]


def filled() -> tuple[ResultStore, Metrics]:
    store = ResultStore()
    store.configure([(meta, scope, 900.0) for meta in (FW01, FW10, IAM02) for scope in SCOPES])
    metrics = Metrics(store, version="0.1.0")
    store.record("shop-prod", FW01, [res(FW01, "shop-prod", Verdict.PASS)], 10.0)
    mixed = [res(FW01, "shop-prod", Verdict.FAIL), res(FW01, "shop-prod", Verdict.PASS, "b")]
    store.record("shop-prod", FW01, mixed, 20.0)  # a transition: verdict_changes
    store.record("shop-prod", FW10, [res(FW10, "shop-prod", Verdict.FAIL, excepted=True)], 20.0)
    store.record("shop-dev", IAM02, [res(IAM02, "shop-dev", Verdict.ERROR)], 30.0)
    for scope in ("shop-prod", "shop-dev"):
        metrics.pair_series.draw(scope)  # what the metrics sink does after each run
    metrics.request("compute", "compute.firewalls.list", "200")
    return store, metrics


# The process and Python runtime families move between two encodings (CPU time, memory, collections):
# their series are compared, not their values.
RUNTIME = ("process_", "python_gc_")


def samples(families: Iterable[Metric]) -> Samples:
    """Each family with its samples, samples sorted (the order of series in a family means nothing)."""
    return [
        (
            f.name,
            sorted(
                (s.name, tuple(sorted(s.labels.items())), 0.0 if f.name.startswith(RUNTIME) else s.value)
                for s in f.samples
            ),
        )
        for f in families
    ]


@pytest.mark.parametrize("accept", ["", PROMETHEUS_ACCEPT, "text/plain;version=1.0.0;escaping=underscores"])
def test_the_joined_scrape_has_the_registrys_families_and_samples(accept: str) -> None:
    store, metrics = filled()
    encoder, content_type = choose_encoder(accept)
    parse = parse_openmetrics if content_type.startswith("application/openmetrics-text") else parse_text
    joined = metrics.exposition(content_type, encoder).decode()
    expected = samples(parse(encoder(metrics.registry).decode()))
    assert samples(parse(joined)) == expected
    names = [name for name, _ in expected]
    assert "controlwatch_control_status" in names and "controlwatch_api_requests" in " ".join(names)
    # A run recorded since (no draw yet) is in the next scrape: the scope is drawn again first.
    store.record("data-lab", FW01, [res(FW01, "data-lab", Verdict.FAIL)], 40.0)
    again = samples(parse(metrics.exposition(content_type, encoder).decode()))
    assert again == samples(parse(encoder(metrics.registry).decode())) != expected


def test_a_scope_removed_by_a_reload_leaves_the_scrape() -> None:
    store, metrics = filled()
    encoder, content_type = choose_encoder("")
    store.configure([(meta, "shop-dev", 900.0) for meta in (FW01, FW10, IAM02)])
    joined = metrics.exposition(content_type, encoder).decode()
    assert 'scope="shop-dev"' in joined and 'scope="shop-prod"' not in joined
    assert samples(parse_text(joined)) == samples(parse_text(encoder(metrics.registry).decode()))
