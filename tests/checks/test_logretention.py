"""LOG-04 (exported logs can't be deleted early), one row per case: each sink LOG-02 counts is
judged by its destination, a Bucket (storage v1) or LogBucket (logging v2) as collected."""

from __future__ import annotations

from typing import Any

import pytest

from checks import logretention
from checks.model import Finding, Verdict
from checks.params import Params
from checks.snapshot import Kind, KindUnavailable
from monitor.run.runner import run_control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ORG, FOLDER = "organizations/4242", "folders/55"
GCS, ARCHIVE = "storage.googleapis.com/shop-log-archive", "shop-log-archive"
LOG_BUCKET = "projects/shop-prod/locations/europe-west1/buckets/audit"
LOGS = f"logging.googleapis.com/{LOG_BUCKET}"
OTHER = "projects/sec-logs/locations/europe-west1/buckets/central"
BQ = "bigquery.googleapis.com/projects/shop-prod/datasets/all_logs"
PUBSUB = "pubsub.googleapis.com/projects/sec-siem/topics/all-logs"
LOG04 = logretention.log04_locked_destination
SINK = "projects/shop-prod/sinks/all"
MONTH = "2592000"


def bucket(**retention: Any) -> dict[str, Any]:
    """A Bucket; `retention` is its retentionPolicy (none when empty)."""
    found: dict[str, Any] = {"kind": "storage#bucket", "name": ARCHIVE, "location": "EUROPE-WEST1"}
    return {**found, "retentionPolicy": retention} if retention else found


def log_bucket(**fields: Any) -> dict[str, Any]:
    return {"name": LOG_BUCKET, "retentionDays": 400, **fields}


def entry(destination: str, sink: str = SINK, **read: Any) -> dict[str, Any]:
    """A sinkDestinations entry: `bucket=`, `logBucket=` or `error=`."""
    return {"sink": sink, "destination": destination, **read}


def judge(destination: str, *read: dict[str, Any]) -> Finding:
    sinks = [{"name": "all", "destination": destination}]
    (found,) = LOG04(make_snapshot({"logging": {"sinks": sinks}}, ancestor_sinks=[], sink_destinations=list(read)),
                     Params())
    assert found.resource == f"//logging.googleapis.com/{SINK}" and found.subject == destination
    return found


CASES: dict[str, tuple[str, list[dict[str, Any]], Verdict, str]] = {
    "bucket-locked": (GCS, [entry(GCS, bucket=bucket(retentionPeriod=MONTH, isLocked=True))], PASS,
                      f"bucket {ARCHIVE} has a locked retention policy (isLocked: true, retentionPeriod "
                      f"{MONTH} s (30 days))"),
    "bucket-locked-any-length": (GCS, [entry(GCS, bucket=bucket(retentionPeriod="3600", isLocked=True))], PASS,
                                 "isLocked: true, retentionPeriod 3600 s (0.0416667 days)"),
    "bucket-unlocked": (GCS, [entry(GCS, bucket=bucket(retentionPeriod=MONTH))], FAIL,
                        f"bucket {ARCHIVE}'s retention policy is not locked (isLocked: absent, retentionPeriod "
                        f"{MONTH} s (30 days)): whoever can edit the bucket can shorten or remove it"),
    "bucket-unlocked-false": (GCS, [entry(GCS, bucket=bucket(retentionPeriod=MONTH, isLocked=False))], FAIL,
                              "is not locked (isLocked: false"),
    "bucket-no-retention": (GCS, [entry(GCS, bucket=bucket())], FAIL,
                            f"bucket {ARCHIVE} has no retention policy: any object can be deleted at any time"),
    "bucket-lock-not-boolean": (GCS, [entry(GCS, bucket=bucket(retentionPeriod=MONTH, isLocked="yes"))], ERROR,
                                f"cannot judge {ARCHIVE} retentionPolicy.isLocked: 'yes' is not a boolean"),
    "bucket-period-not-number": (GCS, [entry(GCS, bucket=bucket(retentionPeriod="30d", isLocked=True))], ERROR,
                                 "retentionPolicy.retentionPeriod: '30d' is not a number of seconds"),
    "log-bucket-locked": (LOGS, [entry(LOGS, logBucket=log_bucket(locked=True))], PASS,
                          f"Logging bucket {LOG_BUCKET} is locked (locked: true, retentionDays 400)"),
    "log-bucket-locked-default-retention": (LOGS, [entry(LOGS, logBucket={"name": LOG_BUCKET, "locked": True})],
                                            PASS, "retentionDays absent (the default, 30)"),
    "log-bucket-unlocked": (LOGS, [entry(LOGS, logBucket=log_bucket())], FAIL,
                            f"Logging bucket {LOG_BUCKET} is not locked (locked: absent, retentionDays 400)"),
    "log-bucket-unlocked-false": (LOGS, [entry(LOGS, logBucket=log_bucket(locked=False))], FAIL,
                                  "is not locked (locked: false"),
    "bigquery": (BQ, [entry(BQ)], PASS, f"{BQ} is not a storage destination (BigQuery or Pub/Sub)"),
    "pubsub": (PUBSUB, [], PASS, f"{PUBSUB} is not a storage destination (BigQuery or Pub/Sub)"),
    "other-project-denied": (f"logging.googleapis.com/{OTHER}", [entry(
        f"logging.googleapis.com/{OTHER}", error=f"Logging bucket {OTHER} (project sec-logs) cannot be read: "
        "logging.projects.locations.buckets.get: HTTP 403: denied")], ERROR, "(project sec-logs) cannot be read"),
    "bucket-gone": (GCS, [entry(GCS, error=f"bucket {ARCHIVE} cannot be read: HTTP 404")], ERROR,
                    f"cannot judge destination {GCS}: bucket {ARCHIVE} cannot be read: HTTP 404"),
    "not-collected": (GCS, [], ERROR, f"cannot judge destination {GCS}: it was not collected"),
    "another-sinks-entry": (GCS, [entry(GCS, sink="projects/shop-prod/sinks/x", bucket=bucket(isLocked=True))],
                            ERROR, "it was not collected"),
    "unknown-destination": ("logging.googleapis.com/projects/sec-logs", [], ERROR,
                            "cannot judge destination logging.googleapis.com/projects/sec-logs: neither a Cloud "
                            "Storage bucket, a Logging bucket, BigQuery nor Pub/Sub"),
}  # fmt: skip


@pytest.mark.parametrize(("destination", "read", "verdict", "reason"), CASES.values(), ids=CASES)
def test_log04_judges_each_counted_sinks_destination(
    destination: str, read: list[dict[str, Any]], verdict: Verdict, reason: str
) -> None:
    found = judge(destination, *read)
    assert (found.verdict, found.reason.startswith(f"sink {SINK}: ")) == (verdict, True), found.reason
    assert reason in found.reason


def test_an_ancestors_sink_is_judged_at_its_own_level_and_reported_in_the_scope() -> None:
    org_sink = {"name": "org-archive", "destination": GCS, "includeChildren": True}
    folder_sink = {"name": "folder-archive", "destination": LOGS, "includeChildren": True}
    snapshot = make_snapshot(
        {"logging": {"sinks": []}},
        ancestor_sinks=[{"parent": FOLDER, "sink": folder_sink}, {"parent": ORG, "sink": org_sink}],
        sink_destinations=[
            entry(LOGS, sink=f"{FOLDER}/sinks/folder-archive", logBucket=log_bucket(locked=True)),
            entry(GCS, sink=f"{ORG}/sinks/org-archive", bucket=bucket(retentionPeriod=MONTH)),
        ],
    )
    folder, org = LOG04(snapshot, Params())
    assert folder.verdict is PASS
    assert folder.reason.startswith(f"judged at {FOLDER}: sink {FOLDER}/sinks/folder-archive: Logging bucket")
    assert org.verdict is FAIL and org.reason.startswith(f"judged at {ORG}: sink {ORG}/sinks/org-archive: bucket")
    assert org.resource == f"//logging.googleapis.com/{ORG}/sinks/org-archive"


def test_only_the_sinks_that_count_are_judged() -> None:
    sinks = [
        {"name": "filtered", "destination": GCS, "filter": "severity>=ERROR"},
        {"name": "off", "destination": GCS, "disabled": True},
        {"name": "excluding", "destination": GCS, "exclusions": [{"name": "x", "filter": "a"}]},
        {"name": "all", "destination": BQ},
    ]
    no_children = {"parent": FOLDER, "sink": {"name": "mine-only", "destination": GCS, "includeChildren": False}}
    snapshot = make_snapshot({"logging": {"sinks": sinks}}, ancestor_sinks=[no_children], sink_destinations=[])
    assert [(f.resource, f.verdict) for f in LOG04(snapshot, Params())] == [(f"//logging.googleapis.com/{SINK}", PASS)]


def test_no_counted_sink_leaves_nothing_in_scope_for_log02_to_fail() -> None:
    snapshot = make_snapshot({"logging": {"sinks": []}}, ancestor_sinks=[], sink_destinations=[])
    [result] = run_control(LOG04, snapshot, Params())
    assert result.verdict is PASS and result.reason == "nothing in scope: no sink to judge"


def test_an_unreadable_sink_is_an_error_since_it_might_count() -> None:
    snapshot = make_snapshot({"logging": {"sinks": [{"destination": GCS}]}}, ancestor_sinks=[], sink_destinations=[])
    [found] = LOG04(snapshot, Params())
    assert found.verdict is ERROR and "name: absent (it might export every log)" in found.reason


@pytest.mark.parametrize("kind", [Kind.SINKS, Kind.ANCESTOR_SINKS, Kind.SINK_DESTINATIONS], ids=str)
def test_a_kind_not_collected_is_an_error_never_a_pass(kind: Kind) -> None:
    collected = make_snapshot({"logging": {"sinks": []}}, ancestor_sinks=[], sink_destinations=[],
                              errors={kind: "HTTP 403: denied"})  # fmt: skip
    with pytest.raises(KindUnavailable):
        list(LOG04(collected, Params()))
    [result] = run_control(LOG04, collected, Params())
    assert result.verdict is ERROR and "HTTP 403: denied" in result.reason
