"""Cloud KMS API v1 routes: a project's KMS locations, key rings per location, keys per ring, and
the IAM policy of a ring or key.

A scenario writes the rings under `kms.keyRings` (KeyRing, named
`projects/P/locations/L/keyRings/R`), each carrying its `iamPolicy` and its `cryptoKeys`
(CryptoKey, each with its `iamPolicy`); listing leaves the nested parts out. The locations
listed are `global` and every location a ring of the scenario sits in (real KMS lists
about forty, most of them empty). A ring or key without a policy has KMS's empty one.
A project without the `kms` group has the API disabled.
"""

from __future__ import annotations

from typing import Any

from monitor.standin import crm
from monitor.standin.groups import own_fields, page_size, paged, project_group
from monitor.standin.replies import ApiError, Reply
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Project, Resource

API = "cloudkms"
GROUP = "kms"
DEFAULT_PAGE, MAX_PAGE = 1000, 1000
ALWAYS = "global"  # KMS offers the global location everywhere
EMPTY_ETAG = "ACAB"


def _rings(call: Call) -> tuple[Project, tuple[Resource, ...]]:
    project, parts = project_group(call, call.params["projectsId"], API, GROUP)
    return project, parts.get("keyRings", ())


def _location_of(ring: Resource) -> str:
    parts = str(ring.get("name", "")).split("/")
    return parts[3] if len(parts) > 3 else ""


def _locations(call: Call) -> Reply:
    project, rings = _rings(call)
    names = sorted({ALWAYS, *(_location_of(r) for r in rings if _location_of(r))})
    locations = [
        {"name": f"projects/{project.project_id}/locations/{name}", "locationId": name, "displayName": name}
        for name in names
    ]
    return Reply(200, paged(call, locations, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), "locations", {}))


def _in(call: Call, prefix: str, items: tuple[Resource, ...], schema: str, field: str) -> Reply:
    chosen = sorted(
        (own_fields(API, schema, item) for item in items if str(item.get("name", "")).startswith(prefix)),
        key=lambda item: str(item.get("name", "")),
    )
    body = paged(call, chosen, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), field, {})
    body["totalSize"] = len(chosen)
    return Reply(200, body)


def _ring_name(call: Call, project: Project) -> str:
    return f"projects/{project.project_id}/locations/{call.params['locationsId']}/keyRings/{call.params['keyRingsId']}"


def _find_ring(call: Call) -> tuple[str, Resource]:
    project, rings = _rings(call)
    name = _ring_name(call, project)
    for ring in rings:
        if ring.get("name") == name:
            return name, ring
    raise ApiError(404, f"KeyRing {name} not found.", reason="notFound")


def _key_rings(call: Call) -> Reply:
    project, rings = _rings(call)
    prefix = f"projects/{project.project_id}/locations/{call.params['locationsId']}/keyRings/"
    return _in(call, prefix, rings, "KeyRing", "keyRings")


def _crypto_keys(call: Call) -> Reply:
    name, ring = _find_ring(call)
    return _in(call, f"{name}/cryptoKeys/", tuple(ring.get("cryptoKeys", ())), "CryptoKey", "cryptoKeys")


def _policy(call: Call, stored: Resource | None) -> Reply:
    policy: dict[str, Any] = crm.policy_view(stored, call.int_query("options.requestedPolicyVersion", 1))
    policy.setdefault("etag", EMPTY_ETAG)
    return Reply(200, policy)


def _ring_policy(call: Call) -> Reply:
    return _policy(call, _find_ring(call)[1].get("iamPolicy"))


def _key_policy(call: Call) -> Reply:
    name, ring = _find_ring(call)
    key_name = f"{name}/cryptoKeys/{call.params['cryptoKeysId']}"
    for key in ring.get("cryptoKeys", ()):
        if key.get("name") == key_name:
            return _policy(call, key.get("iamPolicy"))
    raise ApiError(404, f"CryptoKey {key_name} not found.", reason="notFound")


def handlers() -> dict[str, Handler]:
    return {
        "cloudkms.projects.locations.list": _locations,
        "cloudkms.projects.locations.keyRings.list": _key_rings,
        "cloudkms.projects.locations.keyRings.getIamPolicy": _ring_policy,
        "cloudkms.projects.locations.keyRings.cryptoKeys.list": _crypto_keys,
        "cloudkms.projects.locations.keyRings.cryptoKeys.getIamPolicy": _key_policy,
    }
