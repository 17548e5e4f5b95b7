"""Region pinning controls (REG-01 to REG-06), as the README's controls table states them: every location of a
resource within `region.allowed`, one result per resource, severity high.

Locations are read and judged by `checks.rules.locations` (zone -> region, multi- and dual-regions
only where listed verbatim, all of a resource's locations must be allowed). Per kind:
instances `zone`; disks `zone`, or `region` and every `replicaZones[]`; subnetworks `region`
(auto-mode networks' subnetworks like any other; networks get no result); addresses
`region`, a global one passing as not region-bound; snapshots every `storageLocations[]`
(none listed cannot be judged: Google always fills it); snapshot schedules `region` and every
`snapshotSchedulePolicy.snapshotProperties.storageLocations[]` (none listed fails: Google then
stores the snapshots in a multi-region). Other resource policies get no result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial

from checks.kernel import JSON, Judgement, Unjudgeable, per_resource
from checks.model import Area, Finding, Severity, Verdict
from checks.names import last_segment
from checks.params import Params
from checks.registry import References, control
from checks.rules.locations import Location, field_location, judge_locations, list_locations
from checks.rules.schedules import is_schedule
from checks.snapshot import Kind, Snapshot

_REFS = References(soc2=("C1.1", "CC6.7"))
_PARAMS = ("region.allowed",)
_RATIONALE = (
    "The estate is pinned to Belgium (europe-west1) for data residency: customer data and its copies "
    "must stay in the regions the organisation has committed to, in contracts and under the GDPR. The "
    "organisation policy constraints/gcp.resourceLocations only stops new resources; this detective "
    "control finds what already sits elsewhere, or was created before the policy or under an exemption."
)
Locate = Callable[[JSON], tuple[list[Location], list[tuple[str, str]]]]
# How REG-01..REG-06 compare a location with the allowed list (their `logic=` ends with it).
_COMPARED = (
    " Each location is the last segment of the field's URL or name; a zone (`REGION-x`) stands for its region "
    "(`europe-west1-b` is `europe-west1`). It is compared case-insensitively with `region.allowed` (default "
    "`europe-west1`): a multi-region (`eu`, `us`, `asia`) or dual-region (`eur4`, `nam4`, ...) passes only where "
    "it is listed itself, and listing `eu` admits neither `europe-west1` nor the other way round. The resource "
    "passes only when every location is allowed, and fails naming those that are not."
)


def _required(resource: JSON, key: str, *, zonal: bool = False) -> Location:
    found = field_location(resource, key, zonal=zonal)
    if found is None:
        raise Unjudgeable(key, "absent")
    return found


def _judge_all(snapshot: Snapshot, params: Params, resources: Iterable[JSON], collection: str, noun: str,
               locate: Locate) -> Iterator[Finding]:  # fmt: skip
    """One finding per resource: `locate` gives its locations and any extra failures."""

    def judge(raw: JSON, who: str) -> Judgement:
        locations, failures = locate(raw)
        return judge_locations(who, locations, params.region.allowed, failures=failures)

    return per_resource(resources, snapshot.scope, collection, noun, judge)


@control(
    id="REG-01", title="Instances run in an allowed region", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.INSTANCES,), params=_PARAMS, unit="instance", references=_REFS, rationale=_RATIONALE,
    remediation="Move the instance into an allowed zone (from a snapshot or machine image of its disks, "
    "then delete the original): `gcloud compute instances create NAME --zone=europe-west1-b "
    "--source-machine-image=IMAGE`; enforce with `gcloud resource-manager org-policies allow "
    "gcp.resourceLocations in:europe-west1-locations --project=PROJECT`.",
    holds="Every instance runs in a zone of a region listed in `region.allowed`.",
    logic="The one location of an instance is its `zone`, which must name a zone; its disks, addresses and "
    "subnetworks are judged by their own controls." + _COMPARED,
    unknown="An `error`, naming the field, when `zone` is absent or empty, not a string, or not a zone "
    "(`REGION-x`, e.g. `europe-west1-b`); a listing that failed makes the whole control `error`.",
)
def reg01_instances(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance whose `zone` is not in a region of `region.allowed`."""
    return _judge_all(snapshot, params, snapshot.get(Kind.INSTANCES), "instances", "instance",
                      lambda raw: ([_required(raw, "zone", zonal=True)], []))  # fmt: skip


def _disk_locations(disk: JSON) -> tuple[list[Location], list[tuple[str, str]]]:
    zone = field_location(disk, "zone", zonal=True)
    region = field_location(disk, "region")
    if zone is None and region is None:
        raise Unjudgeable("zone", "absent, and no region either")
    found = [loc for loc in (zone, region) if loc is not None]
    return found + list_locations(disk, "replicaZones", zonal=True), []


@control(
    id="REG-02", title="Disks stay in an allowed region", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.DISKS,), params=_PARAMS, unit="disk", references=_REFS, rationale=_RATIONALE,
    remediation="Copy the disk into an allowed region through a snapshot stored there, then delete the "
    "original: `gcloud compute snapshots create SNAP --source-disk=DISK --source-disk-zone=ZONE "
    "--storage-location=europe-west1` and `gcloud compute disks create DISK --source-snapshot=SNAP "
    "--zone=europe-west1-b` (regional disks: `--region=europe-west1 "
    "--replica-zones=europe-west1-b,europe-west1-c`).",
    holds="Every location a disk's data lives in (its zone, or its region and replica zones) is in "
    "`region.allowed`.",
    logic="The locations of a disk are its `zone` (a zonal disk), and its `region` with every `replicaZones[]` "
    "entry (a regional disk); whichever of `zone` and `region` is present is judged, both if both are." + _COMPARED,
    unknown="An `error`, naming the field, when the disk has neither `zone` nor `region`, when `zone` or a "
    "`replicaZones[]` entry is not a zone, when `region` is not a string, or `replicaZones` is not a "
    "list; a listing that failed makes the whole control `error`.",
)
def reg02_disks(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a disk whose `zone`, or (regional) `region` or any `replicaZones[]` entry, is not in
    a region of `region.allowed`."""
    return _judge_all(snapshot, params, snapshot.get(Kind.DISKS), "disks", "disk", _disk_locations)


@control(
    id="REG-03", title="Subnetworks exist only in allowed regions", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.SUBNETWORKS,), params=_PARAMS, unit="subnetwork", references=_REFS, rationale=_RATIONALE,
    remediation="Delete the subnetwork outside the allowed regions: `gcloud compute networks subnets delete "
    "SUBNET --region=REGION`; an auto-mode network creates one in every region, so convert it first: "
    "`gcloud compute networks update NETWORK --switch-to-custom-subnet-mode`.",
    holds="Every subnetwork is in a region listed in `region.allowed`.",
    logic="The one location of a subnetwork is its `region`; the subnetworks an auto-mode network creates in "
    "every region are judged like any other, and networks themselves get no result." + _COMPARED,
    unknown="An `error`, naming the field, when `region` is absent, empty or not a string; a listing that failed "
    "makes the whole control `error`.",
)
def reg03_subnetworks(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a subnetwork whose `region` is not in `region.allowed` (auto-mode networks' too)."""
    return _judge_all(snapshot, params, snapshot.get(Kind.SUBNETWORKS), "subnetworks", "subnetwork",
                      lambda raw: ([_required(raw, "region")], []))  # fmt: skip


def _address(raw: JSON, who: str, allowed: tuple[str, ...]) -> Judgement:
    region = raw.get("region")
    link = str(raw.get("selfLink") or "")
    if (region is None or region == "") and not link:  # nothing says where it is: global or not is unknown
        raise Unjudgeable("selfLink", "and region are both absent: whether the address is global or regional "
                          "is unknown")  # fmt: skip
    if (region is None or region == "" or last_segment(str(region)) == "global") and "/regions/" not in link:
        shown = "region absent" if region is None or region == "" else f"region {last_segment(str(region))}"
        return Judgement(Verdict.PASS, f"{who}: global address, not region-bound ({shown})", "global")
    try:
        locations = [_required(raw, "region")]
    except Unjudgeable as error:  # said with what makes it regional
        raise Unjudgeable(error.field, f"{error.message}, but its selfLink is regional ({link})") from None
    return judge_locations(who, locations, allowed)


@control(
    id="REG-04", title="Addresses are reserved only in allowed regions", area=Area.REG, severity=Severity.HIGH,
    logic_version=2, kinds=(Kind.ADDRESSES,), params=_PARAMS, unit="address", references=_REFS, rationale=_RATIONALE,
    remediation="Release the address outside the allowed regions and reserve one where the workload "
    "belongs: `gcloud compute addresses delete ADDRESS --region=REGION` and `gcloud compute addresses "
    "create ADDRESS --region=europe-west1`.",
    holds="Every regional static address is reserved in a region listed in `region.allowed`.",
    logic="A global address passes as not region-bound: one whose `region` is absent, empty or names `global` "
    "(the aggregated listing's scope) and whose `selfLink` has no `/regions/` segment. Any other address "
    "is judged by its `region`." + _COMPARED,
    unknown="An `error`, naming the field, when `region` is absent although the address's `selfLink` is "
    "regional, or when `region` does not name a location (e.g. not a string); a listing that failed "
    "makes the whole control `error`, and when both `region` and `selfLink` are absent (global or not is "
    "unknown).",
)
def reg04_addresses(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a regional address whose `region` is not in `region.allowed`; a global address
    (no region, or the aggregated `global` scope) passes as not region-bound."""
    judge = partial(_address, allowed=params.region.allowed)
    return per_resource(snapshot.get(Kind.ADDRESSES), snapshot.scope, "addresses", "address", judge)


def _snapshot_locations(snap: JSON) -> tuple[list[Location], list[tuple[str, str]]]:
    found = list_locations(snap, "storageLocations")
    if not found:
        raise Unjudgeable("storageLocations", "none listed (Google always fills it): where it is stored is unknown")
    return found, []


@control(
    id="REG-05", logic_version=2,
    title="Snapshots are stored only in allowed regions", area=Area.REG, severity=Severity.HIGH,
    kinds=(Kind.SNAPSHOTS,), params=_PARAMS, unit="snapshot", references=_REFS, rationale=_RATIONALE,
    remediation="Store a new snapshot in an allowed region and delete the misplaced one: `gcloud compute "
    "snapshots create SNAP --source-disk=DISK --source-disk-zone=ZONE --storage-location=europe-west1` "
    "and `gcloud compute snapshots delete SNAPSHOT`; fix the schedule that made it (REG-06).",
    holds="Every location a snapshot is stored in is listed in `region.allowed`.",
    logic="The locations of a snapshot are every entry of its `storageLocations[]` (a multi-region such as "
    "`eu` included, which is where Google stores a snapshot when none is chosen); the snapshot's status "
    "and source disk do not matter." + _COMPARED,
    unknown="An `error`, naming the field, when `storageLocations` is absent or empty (Google always fills it, "
    "so where the snapshot is stored is unknown), not a list, or holds an entry that is not a non-empty "
    "string; a listing that failed makes the whole control `error`.",
)
def reg05_snapshots(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a snapshot with a `storageLocations[]` entry (a multi-region such as `eu` included)
    outside `region.allowed`; none listed is an error."""
    return _judge_all(snapshot, params, snapshot.get(Kind.SNAPSHOTS), "snapshots", "snapshot", _snapshot_locations)


_STORAGE = "snapshotSchedulePolicy.snapshotProperties.storageLocations"


def _schedule_locations(policy: JSON) -> tuple[list[Location], list[tuple[str, str]]]:
    region = _required(policy, "region")
    schedule = policy["snapshotSchedulePolicy"]
    if not isinstance(schedule, dict):
        raise Unjudgeable("snapshotSchedulePolicy", f"{schedule!r} is not an object")
    properties = schedule.get("snapshotProperties") or {}
    if not isinstance(properties, dict):
        raise Unjudgeable("snapshotSchedulePolicy.snapshotProperties", f"{properties!r} is not an object")
    stored = list_locations(properties, "storageLocations", _STORAGE)
    if stored:
        return [region, *stored], []
    why = f"no storage location ({_STORAGE} absent or empty: Google then stores its snapshots in a multi-region)"
    return [region], [("no storage location", why)]


@control(
    id="REG-06", logic_version=2, title="Snapshot schedules store snapshots only in allowed regions", area=Area.REG,
    severity=Severity.HIGH, kinds=(Kind.RESOURCE_POLICIES,), params=_PARAMS, unit="snapshot schedule",
    references=_REFS, rationale=_RATIONALE,
    remediation="Create the schedule in an allowed region with an explicit storage location, and attach it "
    "instead: `gcloud compute resource-policies create snapshot-schedule POLICY --region=europe-west1 "
    "--storage-location=europe-west1 --daily-schedule --start-time=02:00 --max-retention-days=14` "
    "(a schedule's storage location cannot be changed in place).",
    holds="Every snapshot schedule is in a region listed in `region.allowed` and stores its snapshots only in "
    "locations listed there.",
    logic="Only resource policies with a `snapshotSchedulePolicy` are judged (other resource policies get no "
    "result), whatever their `status` and whether any disk uses them. Their locations are `region` and "
    "every `snapshotSchedulePolicy.snapshotProperties.storageLocations[]` entry; a schedule naming no "
    "storage location (the list absent or empty, or no `snapshotProperties`) fails as `no storage "
    "location`, since Google then stores its snapshots in a multi-region." + _COMPARED,
    unknown="An `error`, naming the field, when `region` is absent, empty or not a string, when "
    "`snapshotSchedulePolicy` or `snapshotSchedulePolicy.snapshotProperties` is not an object, or the "
    "storage locations are not a list or hold an entry that is not a non-empty string; a listing that "
    "failed makes the whole control `error`.",
)
def reg06_snapshot_schedules(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a snapshot schedule whose `region` or any storage location is outside `region.allowed`,
    or that names no storage location (Google then picks a multi-region)."""
    schedules = [policy for policy in snapshot.get(Kind.RESOURCE_POLICIES) if is_schedule(policy)]
    return _judge_all(snapshot, params, schedules, "resourcePolicies", "snapshot schedule", _schedule_locations)
