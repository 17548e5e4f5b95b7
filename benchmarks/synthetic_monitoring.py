"""The synthetic estate's logging-and-monitoring parts: alert policies, enabled services and
Access Approval settings, few per project as in a real one (beside the 600, like the second
catalogue's). Every project passes LOG-05 and LOG-06; its alert policies watch its first metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: per project, by (group, kind): a listing (or read) each, one page
MIX: Mapping[tuple[str, str], int] = {
    ("monitoring", "alertPolicies"): 2,
    ("serviceUsage", "services"): 3,
    ("accessApproval", "settings"): 1,
}
_SERVICES = ("cloudasset.googleapis.com", "compute.googleapis.com", "logging.googleapis.com")


def parts(pid: str, number: str, mix: Mapping[tuple[str, str], int] = MIX) -> dict[str, Any]:
    """The three groups of project `pid` (number `number`)."""
    policies = [
        {
            "name": f"projects/{pid}/alertPolicies/{i + 1}",
            "displayName": f"metric-{i} changes",
            "combiner": "OR",
            "enabled": True,
            "conditions": [
                {
                    "name": f"projects/{pid}/alertPolicies/{i + 1}/conditions/1",
                    "displayName": "any entry",
                    "conditionThreshold": {
                        "filter": f'metric.type="logging.googleapis.com/user/metric-{i}"',
                        "comparison": "COMPARISON_GT",
                        "duration": "0s",
                    },
                }
            ],
        }
        for i in range(mix["monitoring", "alertPolicies"])
    ]
    services = [
        {"name": f"projects/{number}/services/{name}", "parent": f"projects/{number}", "state": "ENABLED"}
        for name in _SERVICES[: mix["serviceUsage", "services"]]
    ]
    settings = [
        {"name": f"projects/{pid}/accessApprovalSettings", "enrolledServices": [{"cloudProduct": "all"}]}
        for _ in range(mix["accessApproval", "settings"])
    ]
    return {
        "monitoring": {"alertPolicies": policies},
        "serviceUsage": {"services": services},
        "accessApproval": {"settings": settings},
    }
