"""LOG-01 (effective audit configuration) and LOG-02 (a sink exporting every log), one row per
case, in the Resource Manager v3 and Logging v2 REST shapes."""

from __future__ import annotations

from typing import Any

import pytest

from checks import auditlog
from checks.model import Finding, Verdict
from checks.params import Params
from checks.registry import Control
from checks.snapshot import Kind, KindData, Snapshot
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ORG, FOLDER, PROJECT = "organizations/4242", "folders/55", "projects/shop-prod"
RESOURCE = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
ALL3 = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
SA = "serviceAccount:etl@shop-prod.iam.gserviceaccount.com"
Configs = list[dict[str, Any]]


def audit(service: str = "allServices", *types: str, exempt: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An AuditConfig; `exempt` maps a log type to its exemptedMembers."""
    exempt = exempt or {}
    entries = [{"logType": t, **({"exemptedMembers": exempt[t]} if t in exempt else {})} for t in types]
    return {"service": service, "auditLogConfigs": entries}


def policy(configs: Configs) -> dict[str, Any]:
    body: dict[str, Any] = {"version": 3, "etag": "BwYR", "bindings": [{"role": "roles/viewer", "members": [SA]}]}
    return {**body, "auditConfigs": configs} if configs else body


def node(name: str, configs: Configs) -> dict[str, Any]:
    """An ANCESTRY entry: the v3 Folder or Organization and its policy."""
    resource = {"name": name, "displayName": "prod", "state": "ACTIVE"}
    if name.startswith("folders/"):
        resource["parent"] = ORG
    return {"resource": resource, "iamPolicy": policy(configs)}


def only(control: Control, fragment: dict[str, Any], **kinds: Any) -> Finding:
    (found,) = list(control(make_snapshot(fragment, **kinds), Params()))
    assert found.resource == RESOURCE
    return found


# --- LOG-01 ---------------------------------------------------------------------------------------

LEVELS = f"effective audit config ({ORG} + {FOLDER} + {PROJECT})"
ORG_ALL = f"ADMIN_READ ({ORG}), DATA_READ ({ORG}), DATA_WRITE ({ORG})"
NONE_EXEMPT = "; no exemptedMembers"

LOG01: dict[str, tuple[Configs, Configs, Configs, Verdict, str, str]] = {
    "org-complete": ([audit("allServices", *ALL3)], [], [], PASS, "allServices",
                     f"{LEVELS}: allServices logs {ORG_ALL}{NONE_EXEMPT}"),
    "folder-complete": ([], [audit("allServices", *ALL3)], [], PASS, "allServices",
                        f"{LEVELS}: allServices logs ADMIN_READ ({FOLDER}), DATA_READ ({FOLDER}), "
                        f"DATA_WRITE ({FOLDER}){NONE_EXEMPT}"),
    "project-complete": ([], [], [audit("allServices", *ALL3)], PASS, "allServices",
                         f"{LEVELS}: allServices logs ADMIN_READ ({PROJECT}), DATA_READ ({PROJECT}), "
                         f"DATA_WRITE ({PROJECT}){NONE_EXEMPT}"),
    "union-of-three-levels": ([audit("allServices", "ADMIN_READ")], [audit("allServices", "DATA_READ")],
                              [audit("allServices", "DATA_WRITE")], PASS, "allServices",
                              f"{LEVELS}: allServices logs ADMIN_READ ({ORG}), DATA_READ ({FOLDER}), "
                              f"DATA_WRITE ({PROJECT}){NONE_EXEMPT}"),
    "union-org-and-project": ([audit("allServices", "ADMIN_READ")], [],
                              [audit("allServices", "DATA_READ", "DATA_WRITE")], PASS, "allServices",
                              f"{LEVELS}: allServices logs ADMIN_READ ({ORG}), DATA_READ ({PROJECT}), "
                              f"DATA_WRITE ({PROJECT}){NONE_EXEMPT}"),
    "restated-everywhere": ([audit("allServices", *ALL3)], [], [audit("allServices", *ALL3)], PASS, "allServices",
                            f"{LEVELS}: allServices logs ADMIN_READ ({ORG}, {PROJECT}), DATA_READ ({ORG}, {PROJECT}), "
                            f"DATA_WRITE ({ORG}, {PROJECT}){NONE_EXEMPT}"),
    "partial-project-completed-by-org": ([audit("allServices", *ALL3)], [],
                                         [audit("storage.googleapis.com", "DATA_WRITE")], PASS, "allServices",
                                         f"{LEVELS}: allServices logs {ORG_ALL}{NONE_EXEMPT}"),
    "empty-exemption-list": ([audit("allServices", *ALL3, exempt={"DATA_READ": []})], [], [], PASS, "allServices",
                             f"{LEVELS}: allServices logs {ORG_ALL}{NONE_EXEMPT}"),
    "unspecified-type-adds-nothing": ([audit("allServices", *ALL3)], [], [audit("allServices", "LOG_TYPE_UNSPECIFIED")],
                                      PASS, "allServices", f"{LEVELS}: allServices logs {ORG_ALL}{NONE_EXEMPT}"),
    "nothing-anywhere": ([], [], [], FAIL, "ADMIN_READ, DATA_READ, DATA_WRITE",
                         f"{LEVELS}: allServices misses ADMIN_READ, DATA_READ, DATA_WRITE at every level; "
                         f"no level logs any type for allServices{NONE_EXEMPT}"),
    "empty-allservices-entry": ([audit("allServices")], [], [], FAIL, "ADMIN_READ, DATA_READ, DATA_WRITE",
                                f"{LEVELS}: allServices misses ADMIN_READ, DATA_READ, DATA_WRITE at every level; "
                                f"no level logs any type for allServices{NONE_EXEMPT}"),
    "missing-data-read": ([audit("allServices", "ADMIN_READ", "DATA_WRITE")], [], [], FAIL, "DATA_READ",
                          f"{LEVELS}: allServices misses DATA_READ at every level; it logs ADMIN_READ ({ORG}), "
                          f"DATA_WRITE ({ORG}){NONE_EXEMPT}"),
    "per-service-does-not-count": ([audit("allServices", "ADMIN_READ")], [],
                                   [audit("storage.googleapis.com", "DATA_READ", "DATA_WRITE")], FAIL,
                                   "DATA_READ, DATA_WRITE",
                                   f"{LEVELS}: allServices misses DATA_READ, DATA_WRITE at every level; it logs "
                                   f"ADMIN_READ ({ORG}); per-service entries do not cover allServices "
                                   f"(storage.googleapis.com at {PROJECT}){NONE_EXEMPT}"),
    "exemption-at-org": ([audit("allServices", *ALL3, exempt={"DATA_READ": [SA]})], [], [], FAIL, SA,
                         f"{LEVELS}: allServices logs {ORG_ALL}; exemptedMembers: {SA} from DATA_READ of "
                         f"allServices at {ORG}"),
    "exemption-at-folder": ([audit("allServices", *ALL3)], [audit("allServices", "DATA_WRITE", exempt={
                            "DATA_WRITE": ["user:bulk@example.be"]})], [], FAIL, "user:bulk@example.be",
                            f"{LEVELS}: allServices logs ADMIN_READ ({ORG}), DATA_READ ({ORG}), DATA_WRITE ({ORG}, "
                            f"{FOLDER}); exemptedMembers: user:bulk@example.be from DATA_WRITE of allServices at "
                            f"{FOLDER}"),
    "exemption-at-project": ([audit("allServices", *ALL3)], [], [audit("allServices", "DATA_READ", exempt={
                             "DATA_READ": [SA]})], FAIL, SA,
                             f"{LEVELS}: allServices logs ADMIN_READ ({ORG}), DATA_READ ({ORG}, {PROJECT}), "
                             f"DATA_WRITE ({ORG}); exemptedMembers: {SA} from DATA_READ of allServices at {PROJECT}"),
    "exemption-per-service": ([audit("allServices", *ALL3)], [], [audit("bigquery.googleapis.com", "DATA_READ",
                              exempt={"DATA_READ": [SA, "group:bi@example.be"]})], FAIL, f"group:bi@example.be, {SA}",
                              f"{LEVELS}: allServices logs {ORG_ALL}; exemptedMembers: {SA} from DATA_READ of "
                              f"bigquery.googleapis.com at {PROJECT}; group:bi@example.be from DATA_READ of "
                              f"bigquery.googleapis.com at {PROJECT}"),
    "missing-and-exempt": ([audit("allServices", "ADMIN_READ", exempt={"ADMIN_READ": [SA]})], [], [], FAIL,
                           "DATA_READ, DATA_WRITE",
                           f"{LEVELS}: allServices misses DATA_READ, DATA_WRITE at every level; it logs ADMIN_READ "
                           f"({ORG}); exemptedMembers: {SA} from ADMIN_READ of allServices at {ORG}"),
    "no-service": ([], [], [{"auditLogConfigs": [{"logType": "DATA_READ"}]}], ERROR, "auditConfigs[0].service",
                   f"cannot judge {PROJECT} auditConfigs[0].service: absent"),
    "empty-service": ([{"service": "", "auditLogConfigs": []}], [], [], ERROR, "auditConfigs[0].service",
                      f"cannot judge {ORG} auditConfigs[0].service: '' is not a service"),
    "unknown-log-type": ([audit("allServices", "ADMIN_READ", "DATA_READS")], [], [], ERROR,
                         "auditConfigs[0].auditLogConfigs[1].logType",
                         f"cannot judge {ORG} auditConfigs[0].auditLogConfigs[1].logType: 'DATA_READS' is not a log "
                         "type (ADMIN_READ, DATA_READ, DATA_WRITE)"),
    "log-type-absent": ([], [{"service": "allServices", "auditLogConfigs": [{}]}], [], ERROR,
                        "auditConfigs[0].auditLogConfigs[0].logType",
                        f"cannot judge {FOLDER} auditConfigs[0].auditLogConfigs[0].logType: None is not a log type "
                        "(ADMIN_READ, DATA_READ, DATA_WRITE)"),
    "exemptions-not-a-list": ([audit("allServices", *ALL3, exempt={"DATA_READ": SA})], [], [], ERROR,  # type: ignore[dict-item]
                              "auditConfigs[0].auditLogConfigs[1].exemptedMembers",
                              f"cannot judge {ORG} auditConfigs[0].auditLogConfigs[1].exemptedMembers: "
                              f"'{SA}' is not a list of strings"),
}  # fmt: skip


@pytest.mark.parametrize(("org", "folder", "project", "verdict", "subject", "reason"), LOG01.values(), ids=LOG01.keys())
def test_log01_audit_config(
    org: Configs, folder: Configs, project: Configs, verdict: Verdict, subject: str, reason: str
) -> None:
    found = only(auditlog.log01_audit_config, {"iamPolicy": policy(project)}, ancestry=[node(FOLDER, folder),
                                                                                         node(ORG, org)])
    assert (found.verdict, found.subject, found.latent) == (verdict, subject, False), found.reason
    assert found.reason == reason


ANCESTRY: dict[str, tuple[list[Any], Verdict, str]] = {
    "directly-under-org": ([node(ORG, [audit("allServices", *ALL3)])], PASS,
                           f"effective audit config ({ORG} + {PROJECT}): allServices logs {ORG_ALL}{NONE_EXEMPT}"),
    "nested-folders-org-first": ([node("folders/56", [audit("allServices", "DATA_READ")]), node(FOLDER, []),
                                  node(ORG, [audit("allServices", "ADMIN_READ", "DATA_WRITE")])], PASS,
                                 f"effective audit config ({ORG} + {FOLDER} + folders/56 + {PROJECT}): allServices "
                                 f"logs ADMIN_READ ({ORG}), DATA_READ (folders/56), DATA_WRITE ({ORG}){NONE_EXEMPT}"),
    "no-organisation": ([], FAIL, f"effective audit config ({PROJECT}): allServices misses ADMIN_READ, DATA_READ, "
                        f"DATA_WRITE at every level; no level logs any type for allServices{NONE_EXEMPT}"),
    "policy-without-audit-configs": ([{"resource": {"name": ORG}, "iamPolicy": {"etag": "ACAB"}}], FAIL, "…"),
    "ancestor-without-name": ([{"resource": {"displayName": "x"}, "iamPolicy": {}}], ERROR,
                              "cannot judge ancestry[0].resource.name: None is not a folder or organization name"),
    "ancestor-without-policy": ([{"resource": {"name": ORG}}], ERROR, "cannot judge ancestry[0].iamPolicy: absent"),
    "ancestor-policy-not-object": ([{"resource": {"name": ORG}, "iamPolicy": []}], ERROR,
                                   f"cannot judge {ORG} iamPolicy: [] is not an object"),
    "audit-configs-not-a-list": ([{"resource": {"name": ORG}, "iamPolicy": {"auditConfigs": {}}}], ERROR,
                                 f"cannot judge {ORG} auditConfigs: {{}} is not a list"),
}  # fmt: skip


@pytest.mark.parametrize(("ancestry", "verdict", "reason"), ANCESTRY.values(), ids=ANCESTRY.keys())
def test_log01_ancestry(ancestry: list[Any], verdict: Verdict, reason: str) -> None:
    found = only(auditlog.log01_audit_config, {"iamPolicy": policy([])}, ancestry=ancestry)
    assert found.verdict is verdict, found.reason
    assert reason == "…" or found.reason == reason


def test_log01_needs_exactly_one_project_policy() -> None:
    base = make_snapshot({}, ancestry=[])
    kinds = {**base.kinds, Kind.IAM_POLICY: KindData(resources=(policy([]), policy([])))}
    (found,) = list(auditlog.log01_audit_config(Snapshot(scope="shop-prod", now=base.now, kinds=kinds), Params()))
    assert (found.verdict, found.subject) == (ERROR, "iamPolicy")
    assert found.reason == f"cannot judge {PROJECT} iamPolicy: 2 policies collected, expected one"


# --- LOG-02 ---------------------------------------------------------------------------------------

BUCKET = "storage.googleapis.com/example-be-logs"
DEFAULT_FILTER = (
    'NOT LOG_ID("cloudaudit.googleapis.com/activity") AND NOT LOG_ID("externalaudit.googleapis.com/activity")'
)


def sink(name: str | None = "all-logs", **fields: Any) -> dict[str, Any]:
    """A LogSink; a field given as None is left out."""
    writer = "serviceAccount:s@gcp-sa-logging.iam.gserviceaccount.com"
    body = {"name": name, "destination": BUCKET, "writerIdentity": writer, **fields}
    return {key: value for key, value in body.items() if value is not None}


def up(parent: str, name: str = "all-logs", **fields: Any) -> dict[str, Any]:
    """An ANCESTOR_SINKS entry."""
    return {"parent": parent, "sink": sink(name, **fields)}


OK = "enabled, no filter, no exclusions"
NO = "no sink exports every log: "
P = f"{PROJECT}/sinks"
DEST = "has no destination (destination"

LOG02: dict[str, tuple[list[Any], list[Any], Verdict, str, str]] = {
    "project-no-filter": ([sink()], [], PASS, f"{P}/all-logs",
                          f"sink {P}/all-logs exports every log to {BUCKET}: {OK}"),
    "project-empty-filter": ([sink(filter="")], [], PASS, f"{P}/all-logs", "…"),
    "project-whitespace-filter": ([sink(filter=" \n\t ")], [], PASS, f"{P}/all-logs", "…"),
    "project-empty-exclusions": ([sink(exclusions=[])], [], PASS, f"{P}/all-logs", "…"),
    "project-disabled-false": ([sink(disabled=False)], [], PASS, f"{P}/all-logs", "…"),
    "project-include-children-irrelevant": ([sink(includeChildren=False)], [], PASS, f"{P}/all-logs", "…"),
    "full-sink-name-kept": ([sink(f"{P}/archive")], [], PASS, f"{P}/archive", "…"),
    "org-include-children": ([], [up(ORG, includeChildren=True)], PASS, f"{ORG}/sinks/all-logs",
                             f"sink {ORG}/sinks/all-logs exports every log to {BUCKET}: {OK}, includeChildren: true"),
    "folder-include-children": ([], [up(FOLDER, includeChildren=True)], PASS, f"{FOLDER}/sinks/all-logs", "…"),
    "first-of-several": ([sink("a"), sink("b")], [up(ORG, includeChildren=True)], PASS, f"{P}/a",
                         f"sink {P}/a exports every log to {BUCKET}: {OK}; also {P}/b, {ORG}/sinks/all-logs"),
    "one-good-among-bad": ([sink("_Default", filter=DEFAULT_FILTER), sink("x", disabled=True)],
                           [up(FOLDER, includeChildren=True)], PASS, f"{FOLDER}/sinks/all-logs", "…"),
    "filtered": ([sink(filter="severity>=ERROR")], [], FAIL, "", f"{NO}{P}/all-logs has a filter (severity>=ERROR)"),
    "long-filter-cut": ([sink("_Default", filter=DEFAULT_FILTER)], [], FAIL, "",
                        f'{NO}{P}/_Default has a filter (NOT LOG_ID("cloudaudit.googleapis.com/activity") AND NOT '
                        'LOG_ID("externalaudit.…)'),
    "exclusions": ([sink(exclusions=[{"name": "no-debug", "filter": "severity<INFO"}])], [], FAIL, "",
                   f"{NO}{P}/all-logs has exclusions (no-debug)"),
    "exclusions-all-disabled": ([sink(exclusions=[{"name": "a", "filter": "x", "disabled": True},
                                                  {"name": "b", "filter": "y", "disabled": True}])], [], FAIL, "",
                                f"{NO}{P}/all-logs has exclusions (a, b; all disabled, one click from live)"),
    "exclusions-some-disabled": ([sink(exclusions=[{"name": "a", "filter": "x", "disabled": True},
                                                   {"name": "b", "filter": "y"}])], [], FAIL, "",
                                 f"{NO}{P}/all-logs has exclusions (a, b)"),
    "disabled": ([sink(disabled=True)], [], FAIL, "", f"{NO}{P}/all-logs is disabled (disabled: true)"),
    "empty-destination": ([sink(destination="")], [], FAIL, "", f"{NO}{P}/all-logs {DEST} empty)"),
    "blank-destination": ([sink(destination="  ")], [], FAIL, "", f"{NO}{P}/all-logs {DEST} empty)"),
    "no-destination": ([sink(destination=None)], [], FAIL, "", f"{NO}{P}/all-logs {DEST} absent)"),
    "every-shortfall": ([sink(disabled=True, destination="", filter="a", exclusions=[{"name": "e", "filter": "b"}])],
                        [], FAIL, "", f"{NO}{P}/all-logs is disabled (disabled: true), has no destination (destination "
                        "empty), has a filter (a), has exclusions (e)"),
    "folder-without-children": ([], [up(FOLDER, includeChildren=False)], FAIL, "",
                                f"{NO}{FOLDER}/sinks/all-logs does not include children (includeChildren: false)"),
    "org-children-absent": ([], [up(ORG)], FAIL, "",
                            f"{NO}{ORG}/sinks/all-logs does not include children (includeChildren: absent)"),
    "org-children-but-filtered": ([], [up(ORG, includeChildren=True, filter='logName:"cloudaudit.googleapis.com"')],
                                  FAIL, "",
                                  f'{NO}{ORG}/sinks/all-logs has a filter (logName:"cloudaudit.googleapis.com")'),
    "org-children-but-disabled": ([], [up(ORG, includeChildren=True, disabled=True)], FAIL, "",
                                  f"{NO}{ORG}/sinks/all-logs is disabled (disabled: true)"),
    "no-sinks-anywhere": ([], [], FAIL, "", f"{NO}the project and its ancestors have none"),
    "every-candidate-named": ([sink("s", filter="severity>=ERROR")], [up(FOLDER), up(ORG, "o", filter="x")], FAIL, "",
                              f"{NO}{P}/s has a filter (severity>=ERROR); {FOLDER}/sinks/all-logs does not include "
                              f"children (includeChildren: absent); {ORG}/sinks/o does not include children "
                              "(includeChildren: absent), has a filter (x)"),
    "sink-without-name": ([sink(None)], [], ERROR, "name", f"cannot judge {PROJECT} sinks[0] name: absent"),
    "unreadable-but-another-counts": ([sink(None), sink("ok")], [], PASS, f"{P}/ok", "…"),
    "unreadable-and-the-rest-fail": ([sink(disabled="yes"), sink("f", filter="x")], [], ERROR, "disabled",
                                     f"cannot judge {P}/all-logs disabled: 'yes' is not a boolean; and no other "
                                     f"sink counts: {P}/f has a filter (x)"),
    "include-children-not-boolean": ([], [up(ORG, includeChildren="true")], ERROR, "includeChildren",
                                     f"cannot judge {ORG}/sinks/all-logs includeChildren: 'true' is not a boolean"),
    "filter-not-a-string": ([sink(filter=["x"])], [], ERROR, "filter",
                            f"cannot judge {P}/all-logs filter: ['x'] is not a string"),
    "exclusions-not-a-list": ([sink(exclusions={"name": "e"})], [], ERROR, "exclusions",
                              f"cannot judge {P}/all-logs exclusions: {{'name': 'e'}} is not a list"),
    "ancestor-bad-parent": ([], [{"parent": "projects/other", "sink": sink()}], ERROR, "parent",
                            "cannot judge ancestorSinks[0] parent: 'projects/other' is not a folder or organization"),
    "ancestor-sink-not-object": ([], [{"parent": ORG, "sink": None}], ERROR, "sink",
                                 f"cannot judge {ORG} sinks (ancestorSinks[0]) sink: None is not an object"),
}  # fmt: skip


@pytest.mark.parametrize(("sinks", "ancestors", "verdict", "subject", "reason"), LOG02.values(), ids=LOG02.keys())
def test_log02_export(sinks: list[Any], ancestors: list[Any], verdict: Verdict, subject: str, reason: str) -> None:
    found = only(auditlog.log02_export, {"logging": {"sinks": sinks}}, ancestor_sinks=ancestors)
    assert (found.verdict, found.subject, found.latent) == (verdict, subject, False), found.reason
    assert reason == "…" or found.reason == reason
