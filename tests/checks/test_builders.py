"""The test snapshot builder reads every kind's part the way the kind table says."""

from __future__ import annotations

import json

import pytest

from checks.kinds import Holder, Kind
from monitor.standin.parts import PARTS
from tests.builders import make_snapshot
from tests.standin.conftest import MINIMAL, SHOP


def test_make_snapshot_reads_every_project_kinds_part() -> None:
    shop = next(p for p in json.loads(MINIMAL.read_text())["projects"] if p["projectId"] == SHOP)

    snapshot = make_snapshot(shop, scope=SHOP)

    # The sinks' destinations are a walk, given as collected (see the next test), like the ancestors' kinds.
    project_kinds = [kind for kind in Kind if kind.spec.holder is Holder.PROJECT and kind is not Kind.SINK_DESTINATIONS]
    assert set(snapshot.kinds) == set(project_kinds)
    for kind in project_kinds:
        spec = kind.spec
        if kind is Kind.SQL_INSTANCES:  # each primary with its backup runs, newest first, as collected
            primary, replica = snapshot.get(kind)
            assert [r["id"] for r in primary["backupRuns"]] == ["1732586400000", "1732500000000"]
            assert "backupRuns" not in replica and replica["instanceType"] == "READ_REPLICA_INSTANCE"
            expected = [{k: v for k, v in primary.items() if k != "backupRuns"}, replica]
            assert expected == shop["sql"]["instances"]
        elif spec.group:
            expected = shop[spec.group][spec.key]
        elif spec.part:
            expected = [shop[spec.part]]
        else:
            parts = PARTS[Holder.PROJECT].keys
            expected = [{k: v for k, v in shop.items() if k not in parts}]
        if kind is not Kind.SQL_INSTANCES:
            assert list(snapshot.get(kind)) == expected, kind


def test_the_walks_are_given_as_collected_and_errors_and_notes_apply() -> None:
    sink = {"parent": "folders/1", "sink": {"name": "s", "destination": "storage.googleapis.com/b"}}
    destination = {"sink": "folders/1/sinks/s", "destination": "storage.googleapis.com/b", "bucket": {"name": "b"}}
    snapshot = make_snapshot(
        {"compute": {"firewalls": []}, "logging": {"buckets": [{"name": "projects/p/locations/global/buckets/x"}]}},
        ancestor_sinks=[sink],
        sink_destinations=[destination],
        ancestry=[],
        errors={"disks": "HTTP 403: denied"},
        notes={"firewalls": "Compute Engine API not enabled"},
    )
    assert snapshot.get(Kind.ANCESTOR_SINKS) == (sink,) and snapshot.get(Kind.ANCESTRY) == ()
    assert snapshot.get(Kind.SINK_DESTINATIONS) == (destination,)  # not the scenario's LogBuckets
    assert snapshot.note(Kind.FIREWALLS) == "Compute Engine API not enabled"
    assert snapshot.failed_kinds((Kind.DISKS,)) == {"disks": "HTTP 403: denied"}


def test_a_part_no_kind_reads_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'compute\.routers' of a project \(known: compute\.firewalls, "):
        make_snapshot({"compute": {"routers": []}})
