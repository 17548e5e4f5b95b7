"""The Essential Contacts Google notifies about the project: its own and those it inherits.

CIS audits the organisation's contacts; Google notifies the contacts *computed* for a
resource: those set on it and on every folder and the organisation above it. One
`contacts:compute` of the project asked for `ALL` categories returns every contact
subscribed to any category there (each with its full subscription list), so one call
per project answers for the organisation as the project sees it. A disabled Essential
Contacts API answers that call: the kind is empty, and the control says so.
"""

from __future__ import annotations

from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.gapiclists import list_json

#: the category that asks for the contacts of every category
EVERY_CATEGORY = "ALL"


def contacts(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every Contact notified about the project, its own and its ancestors' (nearest first as Google lists them)."""
    request = {"parent": f"projects/{project_id}", "notification_categories": [EVERY_CATEGORY]}
    return list_json(call, client.compute_contacts, request, "contacts", page_size)
