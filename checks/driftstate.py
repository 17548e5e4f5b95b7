"""The drift-watched state of a scope, normalised, and the differences between two states.

A baseline is compared by meaning, not by bytes: the APIs rewrite `fingerprint`, `etag`,
ids and timestamps on every update (a no-op `gcloud ... update` included), return lists in
whatever order they were written, and omit fields that hold their default. So each area
keeps an allow-list of meaningful fields, with the API's defaults filled in and sets
sorted (README, "Drift and approved baselines"); anything not listed can never be drift.

- **firewalls**, keyed by rule name: network (last path segment; the API's default network
  when absent), direction (INGRESS), priority (1000), disabled (false), `allowed`/`denied`
  as sorted `proto[:ports]` strings (protocol numbers named, ranges merged: `tcp:80` +
  `tcp:81` is `tcp:80-81`, `tcp:0-65535` is `tcp`), the sorted range, tag and
  service-account lists (an ingress rule without any source, and an egress rule without
  destination, match `0.0.0.0/0`: filled in), `logConfig.enable` (false).
  The project's network firewall policies, global and regional, join them keyed
  `global/firewallPolicies/NAME` (`regions/R/...`): each rule by priority (action,
  direction, disabled, `enableLogging`, its match lists sorted, `layer4Configs` as
  `proto[:ports]` strings, its targets sorted) and the networks it is associated with.
- **grants**, keyed `ROLE MEMBER` (+ ` if TITLE` for a conditional binding), from the
  project policy's bindings: emails and domains lower-cased (they compare case-insensitively),
  the condition's title, expression and description kept; `etag` and `version` ignored.
- **disks**, keyed `LOCATION/NAME` (zone or region): the snapshot schedules attached, by
  name, each with its cycle (one readable string), retention days, `onSourceDiskDelete`
  (KEEP_AUTO_SNAPSHOTS when absent) and storage locations. Labels are not drift.

The normalisers never raise on odd data: a value they cannot read is kept as written, so
it still compares (and shows) as itself. Everything here is pure and JSON-serialisable:
a state is stored as a baseline and compared on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from checks.kernel import JSON, Unjudgeable, attempt
from checks.names import last_segment
from checks.rules.network import FULL, PORTED, PortRanges, merge_ranges, parse_ports, protocol_name, protocol_number
from checks.rules.schedules import DAYS, KEEP, attachments, is_schedule, policy_index
from checks.snapshot import Kind, Snapshot

FIREWALLS, GRANTS, DISKS = "firewalls", "grants", "disks"
#: Bumped whenever a normaliser changes what it keeps: a baseline stored in another
#: version would show differences that are not changes, so it must be re-approved.
STATE_VERSION = 1
#: Which area each DRIFT control compares, the kinds it needs, and its item's name.
CONTROL_AREAS: Mapping[str, str] = {"DRIFT-01": FIREWALLS, "DRIFT-02": GRANTS, "DRIFT-03": DISKS}
AREA_KINDS: Mapping[str, tuple[str, ...]] = {
    FIREWALLS: (Kind.FIREWALLS, Kind.NETWORK_FIREWALL_POLICIES, Kind.REGION_NETWORK_FIREWALL_POLICIES),
    GRANTS: (Kind.IAM_POLICY,),
    DISKS: (Kind.DISKS, Kind.RESOURCE_POLICIES),
}
AREA_ITEM: Mapping[str, str] = {FIREWALLS: "firewall", GRANTS: "grant", DISKS: "disk"}

State = dict[str, dict[str, Any]]  # area -> item key -> normalised item
ChangeKind = Literal["added", "removed", "changed"]
_DEFAULT_RANGE = ["0.0.0.0/0"]
_LISTS = ("sourceRanges", "destinationRanges", "sourceTags", "targetTags")
_ACCOUNTS = ("sourceServiceAccounts", "targetServiceAccounts")
_EMAIL_MEMBERS = ("user", "group", "serviceAccount", "domain", "deleted")


class StateError(ValueError):
    """The live data cannot give a state at all (e.g. not exactly one IAM policy)."""


# --- firewalls -------------------------------------------------------------------------------


def firewall_state(rules: Iterable[JSON]) -> dict[str, Any]:
    """Each rule's meaningful fields, by rule name."""
    return {str(rule.get("name", "?")): _rule(rule) for rule in rules}


def _rule(rule: JSON) -> dict[str, Any]:
    direction = rule.get("direction", "INGRESS")
    direction = direction.upper() if isinstance(direction, str) else direction
    priority = rule.get("priority", 1000)
    if isinstance(priority, str) and priority.isdigit():
        priority = int(priority)
    network = rule.get("network")
    state: dict[str, Any] = {
        "network": last_segment(network) if isinstance(network, str) and network.strip() else "default",
        "direction": direction,
        "priority": priority,
        "disabled": rule.get("disabled", False),
        "allowed": _entries(rule.get("allowed")),
        "denied": _entries(rule.get("denied")),
    }
    for key in _LISTS:
        state[key] = _sorted_set(rule.get(key), lower=False)
    for key in _ACCOUNTS:
        state[key] = _sorted_set(rule.get(key), lower=True)
    if direction == "INGRESS" and not (state["sourceRanges"] or state["sourceTags"] or state["sourceServiceAccounts"]):
        state["sourceRanges"] = list(_DEFAULT_RANGE)
    if direction == "EGRESS" and not state["destinationRanges"]:
        state["destinationRanges"] = list(_DEFAULT_RANGE)
    log_config = rule.get("logConfig")
    log_config = {} if log_config is None else log_config
    state["logConfig"] = {"enable": log_config.get("enable", False) if isinstance(log_config, dict) else log_config}
    return state


_MATCH_LISTS = ("srcIpRanges", "destIpRanges", "srcRegionCodes", "destRegionCodes", "srcThreatIntelligences",
                "destThreatIntelligences", "srcFqdns", "destFqdns", "srcAddressGroups", "destAddressGroups")


def policy_key(policy: JSON) -> str:
    """A network firewall policy's key among the firewall rules: `global/firewallPolicies/NAME` or
    `regions/R/firewallPolicies/NAME` (a `/` no VPC rule name holds)."""
    region = policy.get("region")
    where = f"regions/{last_segment(region)}" if isinstance(region, str) and region else "global"
    return f"{where}/firewallPolicies/{policy.get('name', '?')}"


def policy_state(policies: Iterable[JSON]) -> dict[str, Any]:
    """Each network firewall policy's meaningful fields, by `policy_key`: its rules by priority
    and the networks it is associated with; ids, fingerprints and rule tuple counts left out."""
    return {policy_key(policy): _policy(policy) for policy in policies}


def _policy(policy: JSON) -> dict[str, Any]:
    rules = policy.get("rules")
    associations = policy.get("associations")
    targets = [a.get("attachmentTarget") for a in associations] if isinstance(associations, list) else associations
    return {
        "rules": {str(r.get("priority", "?")): _policy_rule(r) for r in rules if isinstance(r, dict)}
        if isinstance(rules, list) else rules,
        "associations": sorted(last_segment(t) for t in targets if isinstance(t, str))
        if isinstance(targets, list) else targets,
    }  # fmt: skip


def _policy_rule(rule: JSON) -> dict[str, Any]:
    match = _object(rule.get("match"))
    configs = match.get("layer4Configs")
    entries = (
        [{"IPProtocol": c.get("ipProtocol"), **({"ports": c["ports"]} if "ports" in c else {})} for c in configs]
        if isinstance(configs, list) and all(isinstance(c, dict) for c in configs) else configs
    )  # fmt: skip
    state: dict[str, Any] = {
        "action": rule.get("action"),
        "direction": rule.get("direction", "INGRESS"),
        "disabled": rule.get("disabled", False),
        "enableLogging": rule.get("enableLogging", False),
        "layer4Configs": _entries(entries),
        "srcNetworkType": match.get("srcNetworkType"),
        "targetResources": _sorted_set(rule.get("targetResources"), lower=False),
        "targetServiceAccounts": _sorted_set(rule.get("targetServiceAccounts"), lower=True),
    }
    for key in _MATCH_LISTS:
        state[key] = _sorted_set(match.get(key), lower=False)
    state["srcSecureTags"] = _sorted_set(_tag_names(match.get("srcSecureTags")), lower=False)
    state["targetSecureTags"] = _sorted_set(_tag_names(rule.get("targetSecureTags")), lower=False)
    return state


def _tag_names(value: Any) -> Any:
    """Secure tags (`[{name: tagValues/N, state}]`) by name: their `state` is Google's, not a change."""
    if isinstance(value, list) and all(isinstance(tag, dict) for tag in value):
        return [tag.get("name") for tag in value]
    return value


def _sorted_set(value: Any, *, lower: bool) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return value
    return sorted({item.strip().lower() if lower else item.strip() for item in value})


def _entries(value: Any) -> Any:
    """`allowed[]`/`denied[]` as sorted `proto[:ports]` strings, one per protocol and range;
    entries of one protocol merged, `all` standing alone. Unreadable entries are kept raw."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        return value
    every_port: set[int | None] = set()  # protocols open on every port; None is `all`
    ranges: dict[int, list[tuple[int, int]]] = {}
    odd: list[str] = []
    for entry in value:
        read = attempt(_entry, entry)
        if isinstance(read, Unjudgeable):
            odd.append(json.dumps(entry, sort_keys=True))
            continue
        number, parsed = read
        if number is None or number not in PORTED or not parsed or parsed == FULL:
            every_port.add(number)
        else:
            ranges.setdefault(number, []).extend(parsed)
    if None in every_port:
        return ["all", *sorted(odd)]
    named: list[str] = []
    for number in sorted({n for n in every_port if n is not None} | set(ranges)):
        name = protocol_name(number)
        if number in every_port:
            named.append(name)
        else:
            named.extend(f"{name}:{lo}" if lo == hi else f"{name}:{lo}-{hi}" for lo, hi in merge_ranges(ranges[number]))
    return named + sorted(odd)


def _entry(entry: JSON) -> tuple[int | None, PortRanges]:
    """An `allowed[]`/`denied[]` entry's protocol (None: `all`) and ports; raises Unjudgeable."""
    given = entry.get("ports") or []
    number = protocol_number(entry.get("IPProtocol"))
    if not isinstance(given, list):
        raise Unjudgeable("ports", "not a list")
    return number, parse_ports(given, "ports")


# --- IAM grants ------------------------------------------------------------------------------


def grant_state(policies: Sequence[JSON]) -> dict[str, Any]:
    """Each (role, member, condition) of the one project policy, by `ROLE MEMBER[ if TITLE]`."""
    if len(policies) != 1 or not isinstance(policies[0], dict):
        raise StateError(f"expected one IAM policy, got {len(policies)}")
    bindings = policies[0].get("bindings") or []
    if not isinstance(bindings, list):
        raise StateError(f"the IAM policy's bindings are not a list ({bindings!r})")
    found: list[tuple[str, str, str, dict[str, Any]]] = []  # (role, member, title, item)
    for index, binding in enumerate(bindings):
        if not isinstance(binding, dict):  # dropping it could hide a grant: the state is unknown
            raise StateError(f"the IAM policy's bindings[{index}] is not an object ({binding!r})")
        role, members, condition = binding.get("role"), binding.get("members") or [], binding.get("condition")
        cond = _condition(condition)
        title = cond.get("title") or cond.get("expression") or ""
        for text in members if isinstance(members, list) else [members]:
            member = member_key(text)
            item: dict[str, Any] = {"role": role, "member": member}
            if condition is not None:
                item["condition"] = cond
            found.append((str(role), member, str(title), item))
    # Two bindings of one role and member under the same title but with different
    # expressions would share a key: such keys name the expression too.
    expressions: dict[tuple[str, str, str], set[str]] = {}
    for role, member, title, item in found:
        expressions.setdefault((role, member, title), set()).add(str(item.get("condition", {}).get("expression")))
    grants: dict[str, Any] = {}
    for role, member, title, item in found:
        key = f"{role} {member}" + (f" if {title}" if title else "")
        if len(expressions[(role, member, title)]) > 1:
            key += f" [{item.get('condition', {}).get('expression', '')}]"
        grants[key] = item
    return grants


def member_key(text: object) -> str:
    """A member as it compares: the type prefix kept, an email or domain lower-cased."""
    if not isinstance(text, str):
        return json.dumps(text)
    text = text.strip()
    kind, colon, value = text.partition(":")
    if colon and kind in _EMAIL_MEMBERS and not text.startswith(("principal://", "principalSet://")):
        return f"{kind}:{value.lower()}"
    return text


def _condition(condition: Any) -> dict[str, Any]:
    if not isinstance(condition, dict):
        return {} if condition is None else {"raw": condition}
    return {k: condition[k].strip() if isinstance(condition[k], str) else condition[k]
            for k in ("title", "expression", "description") if condition.get(k) not in (None, "")}


# --- disks and their snapshot schedules ------------------------------------------------------


def disk_state(disks: Iterable[JSON], policies: Iterable[JSON], scope: str) -> dict[str, Any]:
    """Each disk's attached snapshot schedules and their settings, by `LOCATION/NAME`."""
    index = policy_index(policies, scope)
    state: dict[str, Any] = {}
    for disk in disks:
        location = disk.get("zone") or disk.get("region") or "?"
        key = f"{last_segment(str(location))}/{disk.get('name', '?')}"
        attached = attempt(attachments, disk, index, scope)
        if isinstance(attached, Unjudgeable):
            state[key] = {"schedules": {"?": {"resourcePolicies": disk.get("resourcePolicies")}}}
            continue
        schedules: dict[str, Any] = {}
        for item in attached:
            if item.policy is None:
                schedules[item.name] = {"unresolved": item.path}
            elif is_schedule(item.policy):
                schedules[item.name] = schedule_settings(item.policy)
        state[key] = {"schedules": schedules}
    return state


def schedule_settings(policy: JSON) -> dict[str, Any]:
    """A snapshot schedule's meaningful settings; labels, guestFlush, status not included."""
    body = _object(policy.get("snapshotSchedulePolicy"))
    kept, props = _object(body.get("retentionPolicy")), _object(body.get("snapshotProperties"))
    days = kept.get("maxRetentionDays")
    return {
        "cycle": cycle(body.get("schedule")),
        "retentionDays": int(days) if isinstance(days, str) and days.isdigit() else days,
        "onSourceDiskDelete": kept.get("onSourceDiskDelete") or KEEP,
        "storageLocations": _sorted_set(props.get("storageLocations"), lower=True),
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def cycle(schedule: Any) -> str:
    """`every 4 hours from 00:00`, `every day at 03:00`, `weekly on SUNDAY 02:00`; the
    schedule's JSON when it is none of these. `duration` is set by Google, not compared."""
    if isinstance(schedule, dict):
        hourly, daily, weekly = (schedule.get(k) for k in ("hourlySchedule", "dailySchedule", "weeklySchedule"))
        if isinstance(hourly, dict) and daily is None and weekly is None:
            start = f" from {hourly['startTime']}" if hourly.get("startTime") else ""
            return f"every {_count(hourly.get('hoursInCycle'), 'hour')}{start}"
        if isinstance(daily, dict) and hourly is None and weekly is None:
            start = f" at {daily['startTime']}" if daily.get("startTime") else ""
            return f"every {_count(daily.get('daysInCycle'), 'day')}{start}"
        days = weekly.get("dayOfWeeks") if isinstance(weekly, dict) and hourly is None and daily is None else None
        if isinstance(days, list) and all(isinstance(d, dict) for d in days):
            runs = {(str(d.get("day")), str(d.get("startTime"))) for d in days}
            order = sorted(runs, key=lambda run: (DAYS.index(run[0]) if run[0] in DAYS else 7, run))
            return "weekly on " + ", ".join(f"{day} {start}" for day, start in order)
    return json.dumps(schedule, sort_keys=True)


def _count(value: Any, unit: str) -> str:
    return unit if value in (1, "1") else f"{value} {unit}s"


# --- the state of a snapshot -------------------------------------------------------------------


def area_state(snapshot: Snapshot, area: str) -> dict[str, Any]:
    """The normalised items of one area (raises `KindUnavailable` / `StateError`)."""
    if area == FIREWALLS:
        policies = [p for kind in AREA_KINDS[FIREWALLS][1:] if kind in snapshot.kinds for p in snapshot.get(kind)]
        return {**firewall_state(snapshot.get(Kind.FIREWALLS)), **policy_state(policies)}
    if area == GRANTS:
        return grant_state(snapshot.get(Kind.IAM_POLICY))
    if area == DISKS:
        return disk_state(snapshot.get(Kind.DISKS), snapshot.get(Kind.RESOURCE_POLICIES), snapshot.scope)
    raise ValueError(f"unknown drift area {area!r}")


def watched_state(snapshot: Snapshot, controls: Iterable[str] = tuple(CONTROL_AREAS)) -> dict[str, State]:
    """Per DRIFT control, its state `{area: items}`: what `BaselineStore.approve` stores."""
    return {control: {CONTROL_AREAS[control]: area_state(snapshot, CONTROL_AREAS[control])} for control in controls}


def kinds_for(controls: Iterable[str]) -> tuple[str, ...]:
    """The snapshot kinds the given DRIFT controls read."""
    return tuple(sorted({kind for control in controls for kind in AREA_KINDS[CONTROL_AREAS[control]]}))


# --- differences --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field that differs; `None` stands for absent."""

    path: str
    before: Any
    after: Any

    def describe(self) -> str:
        return f"{self.path} {show(self.before)} → {show(self.after)}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class Change:
    """An item added, removed or changed since the baseline, field by field."""

    area: str
    key: str
    change: ChangeKind
    fields: tuple[FieldDiff, ...]

    def describe(self) -> str:
        """`firewall allow-ssh changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0']`."""
        head = f"{AREA_ITEM.get(self.area, self.area)} {self.key} {self.change}"
        if self.change == "changed":
            return f"{head}: " + "; ".join(field.describe() for field in self.fields)
        values = [(f.path, f.after if self.change == "added" else f.before) for f in self.fields]
        return f"{head} ({', '.join(f'{path} {show(value)}' for path, value in values)})" if values else head

    def to_json(self) -> dict[str, Any]:
        return {"area": self.area, "key": self.key, "change": self.change,
                "fields": [field.to_json() for field in self.fields]}


def diff(baseline: Mapping[str, Mapping[str, Any]], live: Mapping[str, Mapping[str, Any]]) -> list[Change]:
    """Items added, removed or changed from `baseline` to `live` (both `{area: {key: item}}`),
    by area and key. Items equal after normalisation are not listed."""
    changes: list[Change] = []
    for area in sorted(set(baseline) | set(live)):
        before, after = baseline.get(area, {}), live.get(area, {})
        for key in sorted(set(before) | set(after)):
            if key not in after:
                gone = tuple(FieldDiff(path, value, None) for path, value in _leaves(before[key]))
                changes.append(Change(area, key, "removed", gone))
            elif key not in before:
                new = tuple(FieldDiff(path, None, value) for path, value in _leaves(after[key]))
                changes.append(Change(area, key, "added", new))
            elif before[key] != after[key]:
                changes.append(Change(area, key, "changed", tuple(_fields(before[key], after[key], ""))))
    return changes


def _fields(before: Any, after: Any, path: str) -> Iterable[FieldDiff]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            if before.get(key) != after.get(key):
                yield from _fields(before.get(key), after.get(key), sub)
    else:
        yield FieldDiff(path, before, after)


def _leaves(item: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(item, dict) and item:
        for key in sorted(item):
            yield from _leaves(item[key], f"{path}.{key}" if path else str(key))
    else:
        yield path, item


def show(value: Any) -> str:
    """A value as a diff shows it: lists and strings as Python writes them, absent as `(absent)`."""
    if value is None:
        return "(absent)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {show(value[key])}" for key in sorted(value)) + "}"
    return repr(value)
