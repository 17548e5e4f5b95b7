"""Which Cloud Monitoring alert policies watch which logs-based metrics: LOG-03's reading.

CIS 2.4-2.11 audit an alert on a metric by one field: an `enabled` policy with a condition
whose `conditionThreshold.filter` says `metric.type="logging.googleapis.com/user/NAME"`.
That is what counts here. The other condition types are read only to explain a failure:
`conditionAbsent` fires when the metric stops reporting (never on a change), and an MQL or
PromQL query (`conditionMonitoringQueryLanguage`, `conditionPrometheusQueryLanguage`) is not
parsed, so a query naming the metric does not count (it is named in the reason instead).

`enabled` is a wrapped boolean: Monitoring's reference says to assume nothing when it is
absent on read, so a policy without it cannot count and cannot be dismissed (`Unjudgeable`
when it is the policy deciding). Thresholds, the combiner and notification channels are not
judged (CIS leaves them to the organisation). As with the metrics' filters this is matching,
not a parser of the filter language: a `NOT` before the `metric.type` clause is not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from checks.kernel import Unjudgeable

#: the metric type of a user-defined logs-based metric
USER_METRIC = "logging.googleapis.com/user/"
# `metric.type = "logging.googleapis.com/user/NAME"`, quoted or not; the name runs to the quote,
# a space or a parenthesis (a metric name has none of them)
_METRIC_TYPE = re.compile(r'metric\.type\s*=\s*"?' + re.escape(USER_METRIC) + r'([^"\s()]+)"?', re.IGNORECASE)
_QUERIES = {"conditionMonitoringQueryLanguage": "an MQL", "conditionPrometheusQueryLanguage": "a PromQL"}


def metric_type(metric_name: str) -> str:
    """`logging.googleapis.com/user/NAME`: the type Cloud Monitoring gives a user logs-based metric."""
    return USER_METRIC + metric_name


def watched_by_threshold(text: str) -> frozenset[str]:
    """The user logs-based metrics a threshold condition's `filter` selects by `metric.type`."""
    return frozenset(match.group(1) for match in _METRIC_TYPE.finditer(text))


@dataclass(frozen=True, slots=True)
class Policy:
    """One alert policy as LOG-03 reads it."""

    name: str  # projects/P/alertPolicies/ID
    label: str  # its displayName, else the last part of its name
    enabled: bool | None  # None: absent (unknown)
    watches: frozenset[str]  # metric names its threshold conditions select
    mentions: tuple[tuple[str, str], ...]  # (metric name, how) of conditions that name it but do not count


def _condition(policy: str, index: int, raw: object) -> tuple[frozenset[str], list[tuple[str, str]]]:
    where = f"alert policy {policy} conditions[{index}]"
    if not isinstance(raw, dict):
        raise Unjudgeable(where, f"{raw!r} is not an object")
    watched: frozenset[str] = frozenset()
    mentions: list[tuple[str, str]] = []
    threshold = raw.get("conditionThreshold")
    if threshold is not None:
        text = threshold.get("filter") if isinstance(threshold, dict) else None
        if not isinstance(text, str):
            problem = "absent" if text is None else f"{text!r} is not a string"
            raise Unjudgeable(f"{where}.conditionThreshold.filter", problem)
        watched = watched_by_threshold(text)
    absent = raw.get("conditionAbsent")
    if isinstance(absent, dict) and isinstance(absent.get("filter"), str):
        mentions += [(name, "an absence condition (fires when it stops reporting)") for name in
                     watched_by_threshold(absent["filter"])]  # fmt: skip
    for field, language in _QUERIES.items():
        query = raw.get(field)
        text = query.get("query") if isinstance(query, dict) else None
        if isinstance(text, str):
            mentions += [(name, f"{language} query (not read)") for name in _named_in_query(text)]
    return watched, mentions


def _named_in_query(text: str) -> list[str]:
    """User metric names a query spells out: `logging.googleapis.com/user/NAME`, or PromQL's
    `logging_googleapis_com:user_NAME`."""
    found = re.findall(re.escape(USER_METRIC) + r"([A-Za-z0-9_.,+!*%/-]+)", text)
    found += re.findall(r"logging_googleapis_com:user_([A-Za-z0-9_]+)", text)
    return found


def read_policy(index: int, raw: object) -> Policy:
    """One AlertPolicy of the listing; Unjudgeable naming the field it cannot read."""
    if not isinstance(raw, dict):
        raise Unjudgeable(f"alertPolicies[{index}]", f"{raw!r} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise Unjudgeable(f"alertPolicies[{index}].name", "absent" if name is None else f"{name!r} is not a name")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise Unjudgeable(f"alert policy {name} enabled", f"{enabled!r} is not a boolean")
    conditions = raw.get("conditions", [])
    if not isinstance(conditions, list):
        raise Unjudgeable(f"alert policy {name} conditions", f"{conditions!r} is not a list")
    watches: set[str] = set()
    mentions: list[tuple[str, str]] = []
    for i, condition in enumerate(conditions):
        watched, named = _condition(name, i, condition)
        watches |= watched
        mentions += named
    label = raw.get("displayName")
    label = label if isinstance(label, str) and label.strip() else name.rsplit("/", 1)[-1]
    return Policy(name, label, enabled, frozenset(watches), tuple(mentions))


@dataclass(frozen=True, slots=True)
class Alerting:
    """What the policies say about one metric: the enabled ones watching it, and why others do not count."""

    enabled: tuple[Policy, ...]
    disabled: tuple[Policy, ...]
    unknown: tuple[Policy, ...]  # watching it, `enabled` absent
    mentions: tuple[str, ...]  # "policy P: an absence condition …"


def alerting_on(metric_name: str, policies: Iterable[Policy]) -> Alerting:
    """Sort the policies that watch (or only mention) the metric `metric_name`."""
    enabled: list[Policy] = []
    disabled: list[Policy] = []
    unknown: list[Policy] = []
    mentions: list[str] = []
    for policy in policies:
        if metric_name in policy.watches:
            {True: enabled, False: disabled, None: unknown}[policy.enabled].append(policy)
        mentions += [f"policy {policy.label}: {how}" for name, how in policy.mentions if name == metric_name]
    return Alerting(tuple(enabled), tuple(disabled), tuple(unknown), tuple(dict.fromkeys(mentions)))
