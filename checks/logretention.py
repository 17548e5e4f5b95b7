"""LOG-04: exported logs cannot be deleted early, judged per sink that LOG-02 counts.

An export is only evidence while nobody can delete it: a Cloud Storage bucket whose
retention policy is locked (`retentionPolicy.isLocked: true`) keeps every object for the
whole period, and a locked Logging bucket (`locked: true`) can neither be shortened nor
deleted. Unlocked, either is one edit from gone. BigQuery and Pub/Sub are not storage
destinations (a dataset's tables, a topic's subscribers): they pass, saying so.

Decisions the catalogue settles: a project judges its own counted sinks; an
organisation's or folder's sink is judged at its own level (its destination read once per
sweep) and reported in each scope it covers with "judged at organizations/N". A locked
retention passes whatever its length (BKP-style length checks are not this control's).
A destination that cannot be read (another project the role is not granted on, a bucket
gone) is `error` naming it; so is a destination of a form LOG-04 cannot judge, and a
sink that cannot be read at all (it might count).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from checks.kernel import JSON, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.rules.log_sinks import LOGGING, NOT_STORAGE, STORAGE, Sink, candidates, destination_of, read_all
from checks.rules.network import flag
from checks.snapshot import Kind, Snapshot

_SECONDS_A_DAY = 86_400


def _sink_resource(sink: str) -> str:
    return f"//logging.googleapis.com/{sink}"


def _period(policy: JSON) -> str:
    """`retentionPeriod 2592000 s (30 days)`, or that it has none."""
    raw = policy.get("retentionPeriod")
    if raw is None:
        return "no retentionPeriod"
    try:
        seconds = int(str(raw))
    except ValueError:
        raise Unjudgeable("retentionPolicy.retentionPeriod", f"{raw!r} is not a number of seconds") from None
    return f"retentionPeriod {seconds} s ({seconds / _SECONDS_A_DAY:g} days)"


def _storage(bucket: object) -> tuple[Verdict, str]:
    if not isinstance(bucket, dict):
        raise Unjudgeable("bucket", f"{bucket!r} is not an object")
    name = bucket.get("name", "?")
    policy = bucket.get("retentionPolicy")
    if policy is None:
        return Verdict.FAIL, f"bucket {name} has no retention policy: any object can be deleted at any time"
    if not isinstance(policy, dict):
        raise Unjudgeable("retentionPolicy", f"{policy!r} is not an object")
    locked, period = flag(policy, "isLocked", "retentionPolicy.isLocked"), _period(policy)
    if locked:
        return Verdict.PASS, f"bucket {name} has a locked retention policy (isLocked: true, {period})"
    state = "false" if "isLocked" in policy else "absent"
    return Verdict.FAIL, (
        f"bucket {name}'s retention policy is not locked (isLocked: {state}, {period}): "
        "whoever can edit the bucket can shorten or remove it, then delete the logs"
    )


def _logging(bucket: object) -> tuple[Verdict, str]:
    if not isinstance(bucket, dict):
        raise Unjudgeable("logBucket", f"{bucket!r} is not an object")
    name, days = bucket.get("name", "?"), bucket.get("retentionDays")
    kept = f"retentionDays {days}" if days is not None else "retentionDays absent (the default, 30)"
    if flag(bucket, "locked"):
        return Verdict.PASS, f"Logging bucket {name} is locked (locked: true, {kept})"
    state = "false" if "locked" in bucket else "absent"
    return Verdict.FAIL, (
        f"Logging bucket {name} is not locked (locked: {state}, {kept}): its retention can be shortened "
        "and the bucket deleted"
    )


def _judge(sink: Sink, entry: JSON | None) -> tuple[Verdict, str]:
    """(verdict, reason) for one counted sink and its collected destination entry."""
    where = destination_of(sink.destination)
    if where.service == NOT_STORAGE:
        return Verdict.PASS, f"{sink.destination} is not a storage destination (BigQuery or Pub/Sub)"
    if where.service not in (STORAGE, LOGGING):
        return Verdict.ERROR, (
            f"cannot judge destination {sink.destination}: neither a Cloud Storage bucket, a Logging bucket, "
            "BigQuery nor Pub/Sub"
        )
    if entry is None:
        return Verdict.ERROR, f"cannot judge destination {sink.destination}: it was not collected"
    error = entry.get("error")
    if error is not None:
        return Verdict.ERROR, f"cannot judge destination {sink.destination}: {error}"
    field = "bucket" if where.service == STORAGE else "logBucket"
    judge = _storage if where.service == STORAGE else _logging
    judged = attempt(judge, entry.get(field))
    if isinstance(judged, Unjudgeable):
        return Verdict.ERROR, f"cannot judge {where.name} {judged.field}: {judged.message}"
    return judged


def _entries(snapshot: Snapshot) -> Mapping[str, JSON]:
    """The collected destination entries, by the name of their sink."""
    return {str(e.get("sink")): e for e in snapshot.get(Kind.SINK_DESTINATIONS) if isinstance(e, dict)}


@control(
    id="LOG-04", title="Exported logs can't be deleted early", area=Area.LOG, severity=Severity.HIGH,
    kinds=(Kind.SINKS, Kind.ANCESTOR_SINKS, Kind.SINK_DESTINATIONS), unit="sink",
    references=References(cis=(("4.0", "2.3"), ("5.0", "2.4")), soc2=("CC7.2", "A1.2"),
                          sha="LOCKED_RETENTION_POLICY_NOT_SET"),
    rationale="An export is evidence only while nobody can delete it. Whoever compromises the project, or "
    "the team owning the archive, can otherwise shorten a bucket's retention or delete the logs that record "
    "what they did. A locked retention policy (Cloud Storage) or a locked Logging bucket cannot be shortened "
    "or removed by anyone, owners included, until the period ends.",
    remediation="Lock the destination's retention: `gcloud storage buckets update gs://BUCKET "
    "--retention-period=400d` then `gcloud storage buckets update gs://BUCKET --lock-retention-period` "
    "(irreversible), or for a Logging bucket `gcloud logging buckets update BUCKET --location=LOCATION "
    "--project=PROJECT --retention-days=400 --locked`.",
    holds="Every sink that exports all of the project's logs writes to a destination whose retention is "
        'locked.',
    logic='One result per sink LOG-02 counts (none when no sink counts: LOG-02 fails then). A Cloud Storage '
        'bucket passes when its `retentionPolicy.isLocked` is true (whatever the period), and fails with '
        'no retention policy or an unlocked one. A Logging bucket passes when `locked` is true and fails '
        'otherwise. A BigQuery or Pub/Sub destination passes, saying it is not a storage destination. An '
        "organisation's or folder's sink is judged once at its own level and reported in each project it "
        'covers.',
    unknown='A destination of any other form, one that was not collected or could not be read (another '
        'project the role is not granted on, a bucket gone), a `retentionPolicy` that is not an object, '
        'an unparseable `retentionPeriod`, a flag that is not true or false, and a sink that cannot be '
        'read at all (it might count) give an `error` naming the sink and the field.',
)
def log04_locked_destination(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """One finding per sink LOG-02 counts: passes on a locked bucket retention or a locked Logging bucket,
    and on a BigQuery or Pub/Sub destination; an unreadable sink or destination is `error`."""
    own, inherited = snapshot.get(Kind.SINKS), snapshot.get(Kind.ANCESTOR_SINKS)
    entries = _entries(snapshot)
    for candidate, sink in read_all(candidates(snapshot.scope, own, inherited)):
        if isinstance(sink, Unjudgeable):
            reason = f"cannot judge {candidate.label} {sink.field}: {sink.message} (it might export every log)"
            yield Finding(project_name(snapshot.scope), Verdict.ERROR, reason, candidate.label)
            continue
        if not sink.counts:
            continue
        verdict, reason = _judge(sink, entries.get(sink.name))
        at = f"judged at {sink.parent}: " if sink.inherited else ""
        yield Finding(_sink_resource(sink.name), verdict, f"{at}sink {sink.name}: {reason}", sink.destination)
