"""API Keys API v2 routes: a project's keys (global, the only location API keys have).

A scenario writes the keys under `apiKeys.keys` (V2Key, named
`projects/NUMBER/locations/global/keys/UID`, as Google names them). The listing never
carries `keyString`, and leaves out keys with a `deleteTime` unless `showDeleted`. A
project without the `apiKeys` group has the API disabled.
"""

from __future__ import annotations

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import ApiError, Reply
from monitor.standin.routes import Call, Handler

API = "apikeys"
DEFAULT_PAGE, MAX_PAGE = 300, 300


def _keys(call: Call) -> Reply:
    _, parts = project_group(call, call.params["projectsId"], API, "apiKeys")
    if call.params["locationsId"] != "global":
        raise ApiError(400, f"Location {call.params['locationsId']!r} is not supported; use 'global'.")
    deleted = call.query.get("showDeleted") == "true"
    keys = sorted(
        ({k: v for k, v in key.items() if k != "keyString"} for key in parts.get("keys", ())
         if deleted or "deleteTime" not in key),
        key=lambda key: str(key.get("name", "")),
    )  # fmt: skip
    return Reply(200, paged(call, keys, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), "keys", {}))


def handlers() -> dict[str, Handler]:
    return {"apikeys.projects.locations.keys.list": _keys}
