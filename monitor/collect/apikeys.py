"""The project's API keys: one listing of `projects/P/locations/global` (API keys are global).

The listing leaves out deleted keys (`showDeleted` false) and never carries the key
string itself. A disabled API Keys API answers the listing: the kind is empty, since no
key can exist in a project that has never enabled it.
"""

from __future__ import annotations

from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.gapiclists import list_json


def api_keys(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every V2Key of the project."""
    parent = f"projects/{project_id}/locations/global"
    return list_json(call, client.list_keys, {"parent": parent}, "keys", page_size)
