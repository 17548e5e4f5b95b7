"""LOG-05 (Cloud Asset Inventory API enabled) and LOG-06 (Access Approval enabled): one row per
case, in the Service Usage v1 and Access Approval v1 REST shapes."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, oversight
from checks.model import Verdict
from checks.params import Params
from checks.snapshot import Kind
from monitor.run.runner import run_control
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
PROJECT = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
ASSET = "cloudasset.googleapis.com"


def service(name: str, state: str | None = "ENABLED") -> dict[str, Any]:
    body = {"name": f"projects/482913570164/services/{name}", "parent": "projects/482913570164",
            "config": {"name": name, "title": name}, "state": state}  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


SERVICES: dict[str, tuple[list[Any], Verdict, str]] = {
    "enabled": ([service("compute.googleapis.com"), service(ASSET)], PASS, f"{ASSET} is enabled (state: ENABLED)"),
    "absent": ([service("compute.googleapis.com"), service("logging.googleapis.com")], FAIL,
               f"{ASSET} is not among the 2 services enabled on the project"),
    "no-services-at-all": ([], FAIL, f"{ASSET} is not among the 0 services enabled on the project"),
    "listed-disabled": ([service(ASSET, "DISABLED")], FAIL, f"{ASSET} is listed with state: DISABLED, not ENABLED"),
    "a-longer-name": ([service("cloudasset.googleapis.com.evil")], FAIL, "…"),
    "unreadable-but-found": ([{"state": "ENABLED"}, service(ASSET)], PASS, "…"),
    "unreadable-and-not-found": ([{"state": "ENABLED"}, service("compute.googleapis.com")], ERROR,
                                 f"cannot judge services[0].name: absent; and {ASSET} is not among the 1 readable "
                                 "services"),
    "state-absent": ([service(ASSET, None)], ERROR,
                     f"cannot judge service {ASSET} state: absent; and {ASSET} is not among the 0 readable services"),
    "not-an-object": (["x"], ERROR, f"cannot judge services[0]: 'x' is not an object; and {ASSET} is not among the 0 "
                      "readable services"),
}  # fmt: skip


@pytest.mark.parametrize(("services", "verdict", "reason"), SERVICES.values(), ids=SERVICES.keys())
def test_log05_asset_inventory(services: list[Any], verdict: Verdict, reason: str) -> None:
    snapshot = make_snapshot({"serviceUsage": {"services": services}})
    (found,) = oversight.log05_asset_inventory(snapshot, Params())
    assert (found.resource, found.verdict) == (PROJECT, verdict), found.reason
    assert reason == "…" or found.reason == reason


def test_log05_a_disabled_service_usage_api_cannot_tell() -> None:
    snapshot = make_snapshot({"serviceUsage": {"services": []}}, notes={Kind.ENABLED_SERVICES: "Service Usage API not "
                             "enabled"})  # fmt: skip
    (found,) = oversight.log05_asset_inventory(snapshot, Params())
    assert (found.verdict, found.reason) == (ERROR, "cannot judge enabledServices: Service Usage API not enabled, so "
                                             "which services are enabled is not known")  # fmt: skip


def settings(**fields: Any) -> dict[str, Any]:
    return {"name": "projects/shop-prod/accessApprovalSettings", "notificationEmails": ["sec@example.be"], **fields}


ALL = [{"cloudProduct": "all", "enrollmentLevel": "BLOCK_ALL"}]
APPROVAL: dict[str, tuple[list[Any], Verdict, str]] = {
    "all-services": ([settings(enrolledServices=ALL)], PASS, "Access Approval enrols all"),
    "some-services": ([settings(enrolledServices=[{"cloudProduct": "compute.googleapis.com"},
                                                  {"cloudProduct": "storage.googleapis.com"}])], PASS,
                      "Access Approval enrols compute.googleapis.com, storage.googleapis.com"),
    "through-an-ancestor": ([settings(enrolledAncestor=True)], PASS,
                            "Access Approval is enabled through an ancestor (enrolledAncestor: true; none enrolled "
                            "on the project)"),
    "never-configured": ([], FAIL,
                         "Access Approval is not enabled: the project has no Access Approval settings "
                         "(never configured)"),
    "enrols-nothing": ([settings(enrolledServices=[], enrolledAncestor=False)], FAIL,
                       "Access Approval is not enabled: its settings enrol no service, here or on an ancestor"),
    "no-enrolled-field": ([settings()], FAIL, "…"),
    "services-not-a-list": ([settings(enrolledServices="all")], ERROR,
                            "cannot judge enrolledServices: 'all' is not a list"),
    "service-without-product": ([settings(enrolledServices=[{"enrollmentLevel": "BLOCK_ALL"}])], ERROR,
                                "cannot judge enrolledServices[0].cloudProduct: absent"),
    "ancestor-not-boolean": ([settings(enrolledAncestor="yes")], ERROR,
                             "cannot judge enrolledAncestor: 'yes' is not a boolean"),
    "two-settings": ([settings(enrolledServices=ALL), settings(enrolledServices=ALL)], ERROR,
                     "cannot judge accessApprovalSettings: 2 settings collected, expected one"),
    "not-an-object": (["x"], ERROR, "cannot judge accessApprovalSettings: 'x' is not an object"),
}  # fmt: skip


@pytest.mark.parametrize(("found", "verdict", "reason"), APPROVAL.values(), ids=APPROVAL.keys())
def test_log06_access_approval(found: list[Any], verdict: Verdict, reason: str) -> None:
    snapshot = make_snapshot({"accessApproval": {"settings": found}})
    (result,) = oversight.log06_access_approval(snapshot, Params())
    assert (result.resource, result.verdict) == (PROJECT, verdict), result.reason
    assert reason == "…" or result.reason == reason


def test_log06_a_disabled_access_approval_api_is_not_enabled() -> None:
    note = {Kind.ACCESS_APPROVAL_SETTINGS: "Access Approval API not enabled"}
    snapshot = make_snapshot({"accessApproval": {"settings": []}}, notes=note)
    (result,) = oversight.log06_access_approval(snapshot, Params())
    assert (result.verdict, result.reason) == (FAIL, "Access Approval is not enabled: Access Approval API not enabled")


@pytest.mark.parametrize("control_id", ["LOG-05", "LOG-06"])
def test_an_uncollected_kind_is_an_error_not_a_pass(control_id: str) -> None:
    results = run_control(default_registry().get(control_id), make_snapshot({}), Params())
    assert results and all(r.verdict is ERROR for r in results)
