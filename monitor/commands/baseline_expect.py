"""`baseline approve --expect FILE`: read and check the intended state of a change.

The file holds the full state the DRIFT controls of a scope are meant to have once the
change is made, in one of the shapes controlwatch already prints:

- what `controlwatch baseline show --format json` prints (`{"baselines": [{"scope",
  "controls": [{"control", "state"}]}]}`): edit the state of the current baseline;
- one scope's document, as `GET /baseline/live` answers (`{"scope", "controls": {control:
  state}}`);
- the bare states `{control: state}`, for the one `--scope` given.

A state is `{area: {key: item}}` as the normaliser writes it (`checks.driftstate`); the lists
it keeps as sets (source ranges, tags, service accounts, storage locations, …) may be written
in any order, and are sorted here as it sorts them, so that an edit by hand compares. Every
problem is an error naming the file, the scope, the control and the item: a pre-approval
is only as good as the state it names, and a typo would otherwise approve nothing, silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from checks.driftstate import CONTROL_AREAS, DISKS, FIREWALLS, GRANTS, STATE_VERSION, firewall_state, policy_state
from monitor.commands.common import fail

_RULE_FIELDS = frozenset(firewall_state([{"name": "x"}])["x"])
_POLICY_FIELDS = frozenset(policy_state([{"name": "x"}])["global/firewallPolicies/x"])
_GRANT_FIELDS = frozenset({"role", "member"})
#: The fields the normaliser keeps as sorted sets of strings, and whether it lower-cases them.
_RULE_SETS = {"sourceRanges": False, "destinationRanges": False, "sourceTags": False, "targetTags": False,
              "sourceServiceAccounts": True, "targetServiceAccounts": True}  # fmt: skip
_POLICY_RULE_SETS = {
    **dict.fromkeys(("srcIpRanges", "destIpRanges", "srcRegionCodes", "destRegionCodes", "srcThreatIntelligences",
                     "destThreatIntelligences", "srcFqdns", "destFqdns", "srcAddressGroups", "destAddressGroups",
                     "targetResources", "srcSecureTags", "targetSecureTags"), False),
    "targetServiceAccounts": True,
}  # fmt: skip


def read_expected(path: str, scopes: Sequence[str], controls: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """`{scope: {control: state}}` from the file at `path`, for `scopes` (all the file holds when
    none) and `controls` (all the file holds when none); exit 2 on any problem."""
    where = f"--expect {path}"
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{where}: cannot read it: {exc.strerror or exc}")
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{where}: not JSON: {exc}")
    by_scope = _by_scope(document, scopes, where)
    chosen = list(scopes) or list(by_scope)
    missing = [scope for scope in chosen if scope not in by_scope]
    if missing:
        fail(f"{where}: holds no state for scope {', '.join(missing)} (it holds {', '.join(by_scope) or 'none'})")
    expected: dict[str, dict[str, dict[str, Any]]] = {}
    for scope in chosen:
        states = by_scope[scope]
        wanted = list(controls) or list(states)
        absent = [control for control in wanted if control not in states]
        if absent:
            fail(f"{where}: scope {scope} has no state for {', '.join(absent)} (it has {', '.join(states) or 'none'})")
        if not wanted:
            fail(f"{where}: scope {scope} names no DRIFT control")
        expected[scope] = {c: _state(states[c], f"{where}: {scope} {c}", c) for c in wanted}
    return expected


def _by_scope(document: Any, scopes: Sequence[str], where: str) -> dict[str, dict[str, Any]]:
    """The file's states per scope, whichever of the three shapes it has."""
    if not isinstance(document, dict):
        fail(f"{where}: must be a JSON object (`baseline show --format json`, or {{control: state}}), "
             f"not {type(document).__name__}")  # fmt: skip
    if "baselines" in document:
        return _from_show(document["baselines"], where)
    if "scope" in document and "controls" in document:
        controls = document["controls"]
        if not isinstance(controls, dict):
            fail(f"{where}: `controls` must be an object {{control: state}}")
        return {str(document["scope"]): _parts(controls, f"{where}: {document['scope']}")}
    if len(scopes) != 1:
        fail(f"{where}: holds states without a scope: pass exactly one --scope for them")
    return {scopes[0]: _parts(document, where)}


def _from_show(baselines: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(baselines, list):
        fail(f"{where}: `baselines` must be a list, as `baseline show --format json` prints it")
    by_scope: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(baselines):
        if not isinstance(entry, dict) or not isinstance(entry.get("scope"), str):
            fail(f"{where}: baselines[{index}] must be an object with a `scope`")
        scope, controls = entry["scope"], entry.get("controls")
        if not isinstance(controls, list):
            fail(f"{where}: {scope}: `controls` must be a list, as `baseline show --format json` prints it")
        states: dict[str, Any] = {}
        for part in controls:
            if not isinstance(part, dict) or not isinstance(part.get("control"), str):
                fail(f"{where}: {scope}: every entry of `controls` must be an object naming its `control`")
            version = part.get("state_version", STATE_VERSION)
            if version != STATE_VERSION:
                fail(f"{where}: {scope} {part['control']}: state version {version!r}, this controlwatch compares "
                     f"{STATE_VERSION}: print it again with `controlwatch baseline show --format json`")  # fmt: skip
            if "state" not in part:
                fail(f"{where}: {scope} {part['control']}: no `state` (print it with `controlwatch baseline show "
                     "--format json`, which includes each control's state)")  # fmt: skip
            states[part["control"]] = part["state"]
        by_scope[scope] = _parts(states, f"{where}: {scope}")
    return by_scope


def _parts(states: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = [control for control in states if control not in CONTROL_AREAS]
    if unknown:
        fail(f"{where}: {', '.join(map(str, unknown))} is not a DRIFT control ({', '.join(CONTROL_AREAS)})")
    return dict(states)


def _state(state: Any, where: str, control: str) -> dict[str, Any]:
    """One control's state, checked item by item against what the normaliser writes."""
    area = CONTROL_AREAS[control]
    if not isinstance(state, dict) or set(state) != {area}:
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        fail(f"{where}: the state must be {{{area!r}: {{...}}}}, not {keys}")
    items = state[area]
    if not isinstance(items, dict):
        fail(f"{where}: {area} must be an object {{key: item}}, not {type(items).__name__}")
    for key, item in items.items():
        if not isinstance(item, dict):
            fail(f"{where}: {area} {key!r} must be an object, not {type(item).__name__}")
        _fields(area, key, item, f"{where}: {area} {key!r}")
    return {area: {key: _sorted_sets(area, key, item) for key, item in items.items()}}


def _sets(values: Any, lower: bool) -> Any:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        return values  # not a list of strings: compared as written (and so, most likely, not matched)
    return sorted({value.strip().lower() if lower else value.strip() for value in values})


def _sorted_sets(area: str, key: str, item: dict[str, Any]) -> dict[str, Any]:
    """The item with its set-like lists in the normaliser's order."""
    item = dict(item)
    if area == FIREWALLS and "/firewallPolicies/" not in key:
        item.update({name: _sets(item[name], lower) for name, lower in _RULE_SETS.items()})
    elif area == FIREWALLS:
        item["associations"] = _sets(item["associations"], False)
        rules = item["rules"]
        if isinstance(rules, dict):
            item["rules"] = {
                priority: {**rule, **{n: _sets(rule[n], lower) for n, lower in _POLICY_RULE_SETS.items() if n in rule}}
                if isinstance(rule, dict) else rule
                for priority, rule in rules.items()
            }  # fmt: skip
    elif area == DISKS and isinstance(item.get("schedules"), dict):
        item["schedules"] = {
            name: {**settings, "storageLocations": _sets(settings["storageLocations"], True)}
            if isinstance(settings, dict) and "storageLocations" in settings else settings
            for name, settings in item["schedules"].items()
        }  # fmt: skip
    return item


def _fields(area: str, key: str, item: Mapping[str, Any], where: str) -> None:
    if area == FIREWALLS:
        wanted = _POLICY_FIELDS if "/firewallPolicies/" in key else _RULE_FIELDS
        optional: frozenset[str] = frozenset()
    elif area == GRANTS:
        wanted, optional = _GRANT_FIELDS, frozenset({"condition"})
    else:  # DISKS
        wanted, optional = frozenset({"schedules"}), frozenset()
        if not isinstance(item.get("schedules"), dict):
            fail(f"{where}: `schedules` must be an object {{schedule name: settings}}")
    missing = sorted(wanted - set(item))
    extra = sorted(set(item) - wanted - optional)
    if missing:
        fail(f"{where}: missing field {', '.join(missing)} (an item holds {', '.join(sorted(wanted | optional))})")
    if extra:
        fail(f"{where}: unknown field {', '.join(extra)} (an item holds {', '.join(sorted(wanted | optional))})")
