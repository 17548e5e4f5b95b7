"""Cloud KMS key rings of every location, each with its keys and the IAM policy of each.

KMS has no listing across locations, so the kind reads the project's KMS locations once,
then each location's key rings, and for each ring its IAM policy and its keys, and for
each key its IAM policy: 1 + L + 2R + K calls for L locations, R rings and K keys (about
40 locations today, most of them empty), sequential inside the kind's worker, each
observed and bound by the run's deadline. A key inherits its ring's policy, so both are
read: IAM-10 judges a key public when either grants `allUsers` or `allAuthenticatedUsers`.
Policies are read at version 3 (conditional bindings shown as they are).

A disabled Cloud KMS API answers the first call: the kind is empty (no keys can exist).
Any later failure fails the kind, naming the location, ring or key it was about, and so
does a listing of no location at all (KMS offers `global` and every region everywhere).
"""

from __future__ import annotations

import functools
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller, CallFailed
from monitor.collect.gapiclists import list_json, read_json
from monitor.collect.hierarchy import POLICY_VERSION, about

SERVICE = "cloudkms"
RINGS_METHOD = "cloudkms.projects.locations.keyRings.list"
RING_POLICY_METHOD = "cloudkms.projects.locations.keyRings.getIamPolicy"
KEYS_METHOD = "cloudkms.projects.locations.keyRings.cryptoKeys.list"
KEY_POLICY_METHOD = "cloudkms.projects.locations.keyRings.cryptoKeys.getIamPolicy"
#: the fields a ring carries its policy and keys in, and a key its policy (the scenario's nesting)
POLICY, KEYS = "iamPolicy", "cryptoKeys"


def _policy(client: Any, call: Caller, resource: str) -> JSON:
    request = {"resource": resource, "options": {"requested_policy_version": POLICY_VERSION}}
    return read_json(call, lambda timeout: client.get_iam_policy(request=request, retry=None, timeout=timeout))


def key_rings(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every KeyRing of the project, with `iamPolicy` and `cryptoKeys` (each CryptoKey with `iamPolicy`)."""
    locations = list_json(call, client.list_locations, {"name": f"projects/{project_id}"}, "locations", page_size)
    if not locations:  # KMS offers `global` and every region to every project: none is a broken answer
        raise CallFailed(f"{call.method}: no KMS location listed for projects/{project_id}, refused", status="200")
    rings_call, ring_policy = call.derive(RINGS_METHOD, SERVICE), call.derive(RING_POLICY_METHOD, SERVICE)
    keys_call, key_policy = call.derive(KEYS_METHOD, SERVICE), call.derive(KEY_POLICY_METHOD, SERVICE)
    found: list[JSON] = []
    for location in locations:
        parent = f"projects/{project_id}/locations/{location.get('locationId')}"
        list_rings = functools.partial(list_json, rings_call, client.list_key_rings, {"parent": parent})
        for ring in about(f"location {parent}", functools.partial(list_rings, "keyRings", page_size)):
            name = str(ring.get("name") or "")
            ring[POLICY] = about(f"key ring {name}", functools.partial(_policy, client, ring_policy, name))
            list_keys = functools.partial(list_json, keys_call, client.list_crypto_keys, {"parent": name})
            keys = about(f"key ring {name}", functools.partial(list_keys, "cryptoKeys", page_size))
            for key in keys:
                key_name = str(key.get("name") or "")
                key[POLICY] = about(f"key {key_name}", functools.partial(_policy, client, key_policy, key_name))
            ring[KEYS] = keys
            found.append(ring)
    return found
