"""The organisation-scale benchmark's own logic (the benchmark itself runs under `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from benchmarks import org_scale, synthetic_org
from monitor.config.model import load_config


def test_the_minimum_is_one_listing_per_kind_per_scope_and_each_ancestor_once() -> None:
    one = org_scale.minimum_requests(1)
    # project get + IAM policy + Compute's project get + Access Approval settings + 12 listings + Cloud
    # SQL's listing and backup runs + buckets (listing, 4 IAM policies) + accounts (listing, 2 key
    # listings) + 9 effective policies + alert policies and enabled services (a listing each) + the
    # sinks' bucket + backend services, managed zones and DNS policies (one listing each) + KMS (its
    # locations, the rings of `global` and europe-west1, the ring's policy and keys, the key's policy), API
    # keys and Essential Contacts (one listing each) + BigQuery's datasets listing, 2 dataset gets, 2 table
    # listings and 4 table gets, and Dataproc's one regional listing;
    # the leaf folder, its parent and the organisation, each read four times (get, IAM policy, sinks,
    # firewall policies), and their sinks' one destination
    assert one == {"per_scope": 59, "ancestors": 12, "total": 59 + 12 + 1}
    many = org_scale.minimum_requests(1000)
    assert many["ancestors"] == 4 * 25 and many["total"] == 59 * 1000 + 100 + 1
    big = dict(synthetic_org.DEFAULT_MIX) | {("compute", "firewalls"): 1001}
    assert org_scale.minimum_requests(1, big)["per_scope"] == 61  # 1,001 rules take three pages




def test_the_rate_floor_is_the_slowest_apis_calls_over_its_default_rate() -> None:
    calls = {"compute.firewalls.list": 200, "cloudresourcemanager.projects.get": 40, "logging.projects.sinks.list": 8}
    assert org_scale.rate_floor(calls) == pytest.approx(10.0)  # compute: 200 at 20/s
    assert org_scale.rate_floor({"cloudresourcemanager.folders.get": 80}) == pytest.approx(10.0)  # 80 at 8/s


@pytest.mark.parametrize("rates", ["unlimited", "default"])
def test_the_daemons_config_is_valid_and_watches_the_organisation(tmp_path: Path, rates: str) -> None:
    path = tmp_path / "cw.yaml"
    document = org_scale.config_document("http://127.0.0.1:8085", tmp_path / "ev.sqlite3", rates)
    path.write_text(yaml.safe_dump(document))
    config = load_config(path)
    assert config.scopes.organization == str(synthetic_org.ORG_NUMBER) and config.scopes.discovering
    assert config.gcp.rate_limits["compute"] == (10000 if rates == "unlimited" else 20)
    assert config.schedule.interval.total_seconds() == 15 * 60


def test_sizes_come_from_the_environment_and_a_bad_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTROLWATCH_BENCH_SIZES", raising=False)
    assert org_scale.sizes() == [1, 10, 100, 1000]
    monkeypatch.setenv("CONTROLWATCH_BENCH_SIZES", "2, 5")
    assert org_scale.sizes() == [2, 5]
    monkeypatch.setenv("CONTROLWATCH_BENCH_SIZES", "ten")
    with pytest.raises(SystemExit, match="CONTROLWATCH_BENCH_SIZES"):
        org_scale.sizes()


def test_requests_are_split_into_sweep_discovery_and_ancestors() -> None:
    stats = {
        "by_method": {
            "compute.firewalls.list": 10,
            "cloudresourcemanager.folders.get": 6,
            "cloudresourcemanager.folders.list": 25,
            "logging.entries.list": 3,
        },
        "statuses": {"200": 44},
    }
    found = org_scale._requests(stats, {"total": 8, "ancestors": 3, "per_scope": 1})
    assert (found["requests"], found["discovery_requests"], found["ancestor_reads"]) == (16, 25, 6)
    assert found["requests_ratio"] == 2.0 and found["ancestor_ratio"] == 2.0 and found["non_2xx"] == {}


def test_the_naive_collector_reads_every_resource_from_the_stand_in_process(tmp_path: Path) -> None:
    from benchmarks.naive_collector import NaiveCollector
    from benchmarks.standin_process import StandInProcess

    export = tmp_path / "org.json"
    with StandInProcess(2, per_project=60, export=export, timeout=120) as standin:
        assert standin.url.startswith("http://127.0.0.1:") and export.stat().st_size > 0
        standin.reset()
        collector = NaiveCollector(standin.url, synthetic_org.ZONE_LIST, synthetic_org.REGION_LIST)
        swept = collector.sweep([synthetic_org.project_id(0), synthetic_org.project_id(1)], budget=60)
        stats = standin.stats()
    expected = synthetic_org.resource_count(synthetic_org.organisation(2, per_project=60))
    assert swept.errors == [] and swept.projects == 2 and swept.resources == expected
    assert sum(stats["by_method"].values()) == stats["handled"] == swept.calls
    assert stats["by_method"]["compute.instances.list"] == 2 * len(synthetic_org.ZONE_LIST)
    assert stats["handler_seconds"] > 0 and stats["statuses"] == {"200": swept.calls}


def test_the_scopes_that_ran_are_read_off_the_exposition() -> None:
    exposition = (
        b"# HELP controlwatch_control_last_run_timestamp_seconds x\n"
        b'controlwatch_control_last_run_timestamp_seconds{control="FW-01",scope="synth-0000"} 1.7e9\n'
        b'controlwatch_control_last_run_timestamp_seconds{control="FW-02",scope="synth-0000"} 1.7e9\n'
        b'controlwatch_control_interval_seconds{control="FW-01",scope="synth-0001"} 900\n'
    )
    assert org_scale.scopes_run(exposition) == {"synth-0000"}


def test_the_latency_pass_and_its_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTROLWATCH_BENCH_LATENCY", raising=False)
    monkeypatch.delenv("CONTROLWATCH_BENCH_NAIVE_SAMPLE", raising=False)
    assert org_scale.latency() == 0.05 and org_scale.naive_sample() == 20
    monkeypatch.setenv("CONTROLWATCH_BENCH_LATENCY", "0")
    assert org_scale.latency() == 0.0
    for bad in ("fast", "-1", "9"):
        monkeypatch.setenv("CONTROLWATCH_BENCH_LATENCY", bad)
        with pytest.raises(SystemExit, match="CONTROLWATCH_BENCH_LATENCY"):
            org_scale.latency()
    monkeypatch.setenv("CONTROLWATCH_BENCH_NAIVE_SAMPLE", "0")
    with pytest.raises(SystemExit, match="CONTROLWATCH_BENCH_NAIVE_SAMPLE"):
        org_scale.naive_sample()


def test_with_latency_every_answer_waits_and_the_naive_sample_is_scaled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.standin_process import StandInProcess

    monkeypatch.setenv("CONTROLWATCH_BENCH_NAIVE_SAMPLE", "1")
    late = 0.03
    with StandInProcess(3, per_project=60, timeout=120) as standin:
        found = org_scale.with_latency(standin, tmp_path, 3, late, timeout=120, rates="unlimited")
        left = standin.stats()
    assert found["latency_naive_sample"] == 1 and found["latency_naive_errors"] == [], found
    assert found["naive_latency_s"] == pytest.approx(3 * found["latency_naive_sample_s"])
    # one project read one call at a time: at least one wait per call (the collector makes 30-odd)
    assert found["latency_naive_sample_s"] >= 30 * late, found
    assert found["latency_sweep_s"] > late and found["latency_ratio"] > 0, found
    assert left["handled"] == 0, left  # the stand-in is left reset for what is measured next
