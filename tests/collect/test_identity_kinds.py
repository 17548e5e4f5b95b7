"""The identity kinds through the real GAPIC REST clients and the stand-in: what is read, how often.

keyRings: the KMS locations once, each location's rings, each ring's policy and keys, each key's
policy (1 + L + 2R + K calls, plus a call per further page). apiKeys: one listing, deleted keys
left out. essentialContacts: one `contacts:compute` of the project, which holds its own contacts
and those its folder and organisation set.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from checks.snapshot import Kind
from monitor.collect import GcpClients, collect_snapshot, make_clients
from monitor.standin import StandIn, load_scenario
from tests.collect.conftest import MINIMAL, NOW, PROJECT, Recorder, fast

RING = f"projects/{PROJECT}/locations/europe-west1/keyRings/shop-keys"
KMS = "cloudkms.projects.locations"


def _scenario() -> dict[str, Any]:
    """The minimal scenario, plus a second ring and key, a ring in another location, and more API keys."""
    data: dict[str, Any] = json.loads(MINIMAL.read_text())
    project = data["projects"][0]
    (ring,) = project["kms"]["keyRings"]
    key = ring["cryptoKeys"][0]
    ring["cryptoKeys"].append({**copy.deepcopy(key), "name": f"{RING}/cryptoKeys/second"})
    empty = {"name": f"projects/{PROJECT}/locations/europe-west1/keyRings/empty", "createTime": ring["createTime"]}
    far = f"projects/{PROJECT}/locations/us-east1/keyRings/far"
    far_key = {k: v for k, v in key.items() if k != "iamPolicy"} | {"name": f"{far}/cryptoKeys/k"}
    project["kms"]["keyRings"] += [empty, {"name": far, "createTime": ring["createTime"], "cryptoKeys": [far_key]}]
    keys = project["apiKeys"]["keys"]
    base = keys[0]
    keys.append({**copy.deepcopy(base), "name": base["name"][:-1] + "7", "uid": base["uid"][:-1] + "7"})
    keys.append({**copy.deepcopy(base), "name": base["name"][:-1] + "8", "uid": base["uid"][:-1] + "8",
                 "deleteTime": "2026-11-01T00:00:00Z"})  # fmt: skip
    data["folders"][0]["essentialContacts"] = {"contacts": [{
        "name": "folders/5501/contacts/5", "email": "prod-legal@example.com",
        "notificationCategorySubscriptions": ["LEGAL"], "languageTag": "en", "validationState": "VALID"}]}  # fmt: skip
    return data


@pytest.fixture(scope="module")
def served() -> Iterator[StandIn]:
    standin = StandIn(load_scenario(_scenario()))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def identity(served: StandIn) -> Iterator[tuple[StandIn, GcpClients]]:
    served.reset()
    yield served, make_clients(served.url)
    served.reset()


def _collect(clients: GcpClients, kind: Kind, page_size: int | None = None) -> tuple[Any, Recorder]:
    recorder = Recorder()
    collection = collect_snapshot(PROJECT, [kind], clients, settings=fast(page_size=page_size), observer=recorder,
                                  now=NOW)  # fmt: skip
    data = collection.snapshot.kinds[kind]
    assert data.ok, data.error
    return collection.snapshot.get(kind), recorder


def test_key_rings_of_every_location_with_their_keys_and_both_policies(identity: tuple[StandIn, GcpClients]) -> None:
    standin, clients = identity
    rings, _ = _collect(clients, Kind.KEY_RINGS)

    assert [r["name"].rsplit("/", 1)[-1] for r in rings] == ["empty", "shop-keys", "far"]  # by location, then name
    shop = rings[1]
    assert shop["iamPolicy"]["bindings"][0]["role"] == "roles/cloudkms.admin"
    assert [k["name"].rsplit("/", 1)[-1] for k in shop["cryptoKeys"]] == ["orders-cmek", "second"]
    first = shop["cryptoKeys"][0]
    assert first["rotationPeriod"] == "7776000s" and first["purpose"] == "ENCRYPT_DECRYPT"
    assert shop["cryptoKeys"][0]["iamPolicy"]["bindings"][0]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert rings[0]["cryptoKeys"] == [] and rings[0]["iamPolicy"]["etag"] == "ACAB"  # KMS's empty policy
    assert rings[2]["cryptoKeys"][0]["iamPolicy"] == {"version": 1, "etag": "ACAB"}
    # 1 location listing + 3 locations' rings + 3 rings' policies and keys + 3 keys' policies
    calls = Counter(r.method for r in standin.requests)
    assert calls == {f"{KMS}.list": 1, f"{KMS}.keyRings.list": 3, f"{KMS}.keyRings.getIamPolicy": 3,
                     f"{KMS}.keyRings.cryptoKeys.list": 3, f"{KMS}.keyRings.cryptoKeys.getIamPolicy": 3}  # fmt: skip
    asked = {r.query.get("options.requestedPolicyVersion") for r in standin.requests if r.method.endswith("Policy")}
    assert asked == {"3"}


def test_every_kms_listing_pages_one_call_a_page(identity: tuple[StandIn, GcpClients]) -> None:
    standin, clients = identity
    rings, recorder = _collect(clients, Kind.KEY_RINGS, page_size=1)

    assert len(rings) == 3 and len(rings[1]["cryptoKeys"]) == 2
    tokens = [r.query.get("pageToken") for r in standin.requests_for(f"{KMS}.list")]
    assert tokens == [None, "1", "2"]  # global, europe-west1, us-east1: one a page
    assert len(standin.requests_for(f"{KMS}.keyRings.list")) == 4  # europe-west1's two rings take two pages
    assert len(standin.requests_for(f"{KMS}.keyRings.cryptoKeys.list")) == 4  # shop-keys' two keys, two pages
    assert recorder.retries == []


def test_api_keys_one_listing_without_deleted_keys_or_key_strings(identity: tuple[StandIn, GcpClients]) -> None:
    standin, clients = identity
    keys, _ = _collect(clients, Kind.API_KEYS, page_size=1)

    assert [k["displayName"] for k in keys] == ["storefront maps", "storefront maps"]
    assert all("deleteTime" not in k and "keyString" not in k for k in keys)
    assert keys[0]["restrictions"]["apiTargets"] == [{"service": "maps-backend.googleapis.com"}]
    pages = standin.requests_for("apikeys.projects.locations.keys.list")
    assert [r.path for r in pages] == [f"/v2/projects/{PROJECT}/locations/global/keys"] * 2
    assert [r.query.get("pageToken") for r in pages] == [None, "1"]


def test_contacts_computed_for_the_project_include_its_ancestors(identity: tuple[StandIn, GcpClients]) -> None:
    standin, clients = identity
    contacts, _ = _collect(clients, Kind.ESSENTIAL_CONTACTS)

    assert [c["email"] for c in contacts] == ["security@example.com", "prod-legal@example.com",
                                              "cloud-admins@example.com"]  # own, its folder's, the organisation's
    assert contacts[2]["notificationCategorySubscriptions"] == ["ALL"]
    (call,) = standin.requests_for("essentialcontacts.projects.contacts.compute")
    assert call.path == f"/v1/projects/{PROJECT}/contacts:compute"
    # every category (`ALL`): the GAPIC REST client sends enums as their numbers (`enum-encoding=int`)
    assert call.query.get("notificationCategories") == "2" and call.query.get("$alt") == "json;enum-encoding=int"
