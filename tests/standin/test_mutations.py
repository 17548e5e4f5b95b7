"""Mutations through the real clients: firewalls, IAM policies, disks' resource policies, and their audit trail.

Each mutation must change what later reads return, answer what the real client accepts
(a DONE operation whose `.result()` completes, a Policy with a base64 etag), and leave
one Admin Activity entry that the real logging client lists as a ProtobufEntry.
"""

from __future__ import annotations

import base64
import time
from types import ModuleType
from typing import Any

import pytest
import requests
from google.api_core import exceptions

from monitor.standin import StandIn
from monitor.standin.auditlog import DEFAULT_PRINCIPAL, activity_log_name
from monitor.standin.discovery import load_api
from tests.standin.conftest import BASE, SHOP, minimal_document

OTHER = "example-shop-2"
ACTIVITY = activity_log_name(SHOP)
POLICY = BASE + "regions/europe-west1/resourcePolicies/daily-backup"
WHO = [("x-standin-principal", "alice@example.be")]


@pytest.fixture(scope="module")
def gcl() -> ModuleType:
    import google.cloud.logging as module

    return module


@pytest.fixture
def log_client(client_kwargs: dict[str, Any], gcl: ModuleType) -> Any:
    return gcl.Client(project=SHOP, _use_grpc=False, **client_kwargs)


def _firewalls(standin: StandIn) -> list[str]:
    project = standin.scenario.project(SHOP)
    assert project is not None and project.compute is not None
    return [str(r["name"]) for r in project.compute["firewalls"]]


def _audit(standin: StandIn, method: str | None = None, project: str = SHOP) -> list[dict[str, Any]]:
    entries = standin.written_entries(activity_log_name(project))
    return [e for e in entries if method is None or e["protoPayload"]["methodName"] == method]


def _rule(compute_v1: ModuleType, name: str, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "name": name,
        "network": "global/networks/prod-vpc",
        "allowed": [compute_v1.Allowed(I_p_protocol="tcp", ports=["22"])],
        "source_ranges": ["10.0.0.0/8"],
        "target_tags": ["ssh"],
    }
    values.update(fields)
    return compute_v1.Firewall(**{k: v for k, v in values.items() if v is not None})


def _two_projects() -> dict[str, Any]:
    doc = minimal_document()
    doc["projects"].append(
        {"projectId": OTHER, "name": "projects/555555555555", "compute": {"firewalls": []}, "logging": {}}
    )
    return doc


# -- firewalls ---------------------------------------------------------------------------


def test_firewall_insert_through_the_real_client(standin: StandIn, compute_v1: ModuleType, client_kwargs: Any) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    operation = client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh"), metadata=WHO)
    assert operation.result(timeout=5) is None and operation.done()
    assert operation.status == compute_v1.Operation.Status.DONE
    assert operation.operation_type == "insert" and operation.progress == 100
    assert operation.target_link == BASE + "global/firewalls/allow-ssh" and operation.user == "alice@example.be"
    assert operation.self_link == BASE + f"global/operations/{operation.name}"

    rule = client.get(project=SHOP, firewall="allow-ssh")
    assert rule.kind == "compute#firewall" and rule.id > 0 and rule.creation_timestamp
    assert rule.self_link == BASE + "global/firewalls/allow-ssh"
    assert rule.network == BASE + "global/networks/prod-vpc"  # relative URLs become full ones
    assert (rule.priority, rule.direction, rule.disabled) == (1000, "INGRESS", False)
    assert str(rule.id) == str(operation.target_id)
    assert "allow-ssh" in [r.name for r in client.list(project=SHOP)]
    project = standin.scenario.project(SHOP)
    assert project is not None and project.compute is not None
    stored = next(r for r in project.compute["firewalls"] if r["name"] == "allow-ssh")
    assert load_api("compute").validate(stored, "Firewall") == []


def test_firewall_insert_refusals(standin: StandIn, compute_v1: ModuleType, client_kwargs: Any) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    with pytest.raises(exceptions.Conflict, match="already exists"):
        client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-https"))
    with pytest.raises(exceptions.BadRequest, match="exactly one of 'allowed' or 'denied'"):
        client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "neither", allowed=[]))
    with pytest.raises(exceptions.NotFound, match="global/networks/nowhere"):
        client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "lost", network="global/networks/nowhere"))
    with pytest.raises(exceptions.NotFound):
        client.insert(project="no-such-project", firewall_resource=_rule(compute_v1, "x"))
    with pytest.raises(exceptions.Forbidden, match="Compute Engine API has not been used"):
        client.insert(project="plain-project", firewall_resource=_rule(compute_v1, "x"))
    # a misspelt field is refused, not dropped (the raw route: the client would drop it first)
    url = f"{standin.url}/compute/v1/projects/{SHOP}/global/firewalls"
    answer = requests.post(url, json={"name": "typo", "ipProtocol": "tcp"}, timeout=5)
    assert answer.status_code == 400 and "ipProtocol: unknown field" in answer.json()["error"]["message"]
    assert _audit(standin) == []
    assert "typo" not in _firewalls(standin)


def test_firewall_patch_merges_update_replaces_delete_removes(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: Any
) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh")).result(timeout=5)
    created = client.get(project=SHOP, firewall="allow-ssh")

    patch = compute_v1.Firewall(priority=500, source_ranges=["0.0.0.0/0"])
    client.patch(project=SHOP, firewall="allow-ssh", firewall_resource=patch).result(timeout=5)
    patched = client.get(project=SHOP, firewall="allow-ssh")
    assert (patched.priority, list(patched.source_ranges)) == (500, ["0.0.0.0/0"])
    assert list(patched.target_tags) == ["ssh"] and patched.allowed[0].ports == ["22"]  # kept
    assert (patched.id, patched.creation_timestamp) == (created.id, created.creation_timestamp)

    replacement = _rule(compute_v1, "allow-ssh", target_tags=[], source_ranges=["192.168.0.0/16"])
    client.update(project=SHOP, firewall="allow-ssh", firewall_resource=replacement).result(timeout=5)
    updated = client.get(project=SHOP, firewall="allow-ssh")
    assert list(updated.target_tags) == [] and updated.priority == 1000  # not given: gone or default
    assert list(updated.source_ranges) == ["192.168.0.0/16"] and updated.id == created.id

    client.delete(project=SHOP, firewall="allow-ssh").result(timeout=5)
    with pytest.raises(exceptions.NotFound):
        client.get(project=SHOP, firewall="allow-ssh")
    for verb in ("patch", "delete"):
        with pytest.raises(exceptions.NotFound):
            if verb == "patch":
                client.patch(project=SHOP, firewall="allow-ssh", firewall_resource=patch)
            else:
                client.delete(project=SHOP, firewall="allow-ssh")
    methods = [e["protoPayload"]["methodName"] for e in _audit(standin)]
    assert methods == [f"v1.compute.firewalls.{v}" for v in ("insert", "patch", "update", "delete")]


def test_a_patch_cannot_rename_or_break_a_rule(standin: StandIn, compute_v1: ModuleType, client_kwargs: Any) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    with pytest.raises(exceptions.BadRequest, match="name mismatch"):
        client.patch(project=SHOP, firewall="allow-https", firewall_resource=compute_v1.Firewall(name="other"))
    both = compute_v1.Firewall(denied=[compute_v1.Denied(I_p_protocol="udp")])
    with pytest.raises(exceptions.BadRequest, match="exactly one"):
        client.patch(project=SHOP, firewall="allow-https", firewall_resource=both)
    assert _audit(standin) == []


def test_operations_get_and_wait_answer_the_done_operation(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: Any
) -> None:
    operation = compute_v1.FirewallsClient(**client_kwargs).insert(
        project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh")
    )
    operations = compute_v1.GlobalOperationsClient(**client_kwargs)
    got = operations.get(project=SHOP, operation=operation.name)
    waited = operations.wait(project=SHOP, operation=operation.name)
    assert got.status == waited.status == compute_v1.Operation.Status.DONE
    assert got.id == waited.id and got.name == operation.name
    with pytest.raises(exceptions.NotFound):
        operations.get(project=SHOP, operation="operation-unknown")
    standin.reset()  # operations are forgotten with the rest
    with pytest.raises(exceptions.NotFound):
        operations.get(project=SHOP, operation=operation.name)


# -- IAM ---------------------------------------------------------------------------------


def _policy(client: Any) -> Any:
    return client.get_iam_policy(request={"resource": f"projects/{SHOP}", "options": {"requested_policy_version": 3}})


def test_set_iam_policy_through_the_real_client(
    standin: StandIn, resourcemanager_v3: ModuleType, crm_kwargs: Any
) -> None:
    client = resourcemanager_v3.ProjectsClient(**crm_kwargs)
    policy = _policy(client)
    old_etag = policy.etag
    policy.bindings.add(role="roles/viewer", members=["user:bob@example.be"])
    stored = client.set_iam_policy(
        request={"resource": f"projects/{SHOP}", "policy": policy}, metadata=[("x-standin-principal", "ann@example.be")]
    )
    assert stored.etag != old_etag and stored.etag[:2] == b"\x07\x06" and stored.version == 3
    assert ["user:bob@example.be"] in [list(b.members) for b in stored.bindings if b.role == "roles/viewer"]
    assert len(stored.audit_configs) == 1  # not in the default mask: kept
    again = _policy(client)
    assert again.etag == stored.etag and len(again.bindings) == 3
    project = standin.scenario.project(SHOP)
    raw = project.iam_policy if project else None
    assert raw is not None and base64.b64decode(raw["etag"]) == stored.etag

    # the etag read before the change is stale now: IAM's 409 ABORTED
    with pytest.raises(exceptions.Conflict, match="concurrent policy changes"):
        client.set_iam_policy(request={"resource": f"projects/{SHOP}", "policy": policy})

    (entry,) = _audit(standin, "SetIamPolicy")
    payload = entry["protoPayload"]
    assert payload["serviceName"] == "cloudresourcemanager.googleapis.com"
    assert payload["resourceName"] == f"projects/{SHOP}"
    assert payload["authenticationInfo"] == {"principalEmail": "ann@example.be"}
    assert entry["resource"] == {"type": "project", "labels": {"project_id": SHOP}}
    assert payload["serviceData"]["policyDelta"]["bindingDeltas"] == [
        {"action": "ADD", "role": "roles/viewer", "member": "user:bob@example.be"}
    ]


def test_set_iam_policy_versions_masks_and_last_write_wins(standin: StandIn) -> None:
    url = f"{standin.url}/v3/projects/{SHOP}:setIamPolicy"

    def put(body: dict[str, Any]) -> requests.Response:
        return requests.post(url, json=body, timeout=5)

    owners = [{"role": "roles/owner", "members": ["group:platform-admins@example.be"]}]
    # removing the conditional binding touches conditions: version 3 is required
    answer = put({"policy": {"bindings": owners}})
    assert answer.status_code == 400 and "version 3" in answer.json()["error"]["message"]
    # no etag: last write wins; no conditional binding left: version 1
    answer = put({"policy": {"version": 3, "bindings": owners}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1 and answer.json()["bindings"] == owners
    assert "auditConfigs" in answer.json()
    deltas = _audit(standin, "SetIamPolicy")[-1]["protoPayload"]["serviceData"]["policyDelta"]["bindingDeltas"]
    assert deltas == [
        {
            "action": "REMOVE",
            "role": "roles/compute.viewer",
            "member": "user:alice@example.be",
            "condition": {"title": "until-2027", "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"},
        }
    ]
    # an updateMask naming auditConfigs replaces them too (the client sends logType as a number)
    answer = put({"policy": {"bindings": owners, "auditConfigs": []}, "updateMask": "bindings,auditConfigs"})
    assert answer.status_code == 200 and "auditConfigs" not in answer.json()
    answer = put(
        {
            "policy": {"auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": 1}]}]},
            "updateMask": "auditConfigs",
        }
    )
    assert answer.status_code == 200 and answer.json()["bindings"] == owners
    assert answer.json()["auditConfigs"][0]["auditLogConfigs"] == [{"logType": "ADMIN_READ"}]
    bad_requests: list[tuple[dict[str, Any], str]] = [
        ({"policy": {"bindings": [{"role": "owner", "members": ["user:a@x.be"]}]}}, "not a valid role"),
        ({"policy": {"bindings": [{"role": "roles/owner", "members": ["a@x.be"]}]}}, "member 'a@x.be'"),
        ({"policy": {}, "updateMask": "colour"}, "unknown field(s) colour"),
        ({"updateMask": "bindings"}, "policy: required"),
    ]
    for bad, message in bad_requests:
        answer = put(bad)
        assert answer.status_code == 400 and message in answer.json()["error"]["message"], answer.text
    answer = requests.post(f"{standin.url}/v3/projects/nowhere:setIamPolicy", json={"policy": {}}, timeout=5)
    assert answer.status_code == 403


def test_a_conditional_binding_makes_version_3(standin: StandIn) -> None:
    condition = {"title": "t", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}
    bindings = [{"role": "roles/viewer", "members": ["user:c@example.be"], "condition": condition}]
    url = f"{standin.url}/v3/projects/{SHOP}:setIamPolicy"
    answer = requests.post(url, json={"policy": {"version": 1, "bindings": bindings}}, timeout=5)
    assert answer.status_code == 400
    answer = requests.post(url, json={"policy": {"version": 3, "bindings": bindings, "etag": "BwYR"}}, timeout=5)
    assert answer.status_code == 200 and answer.json()["version"] == 3


# -- disks -------------------------------------------------------------------------------


def test_disk_resource_policies_through_the_real_client(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: Any
) -> None:
    disks = compute_v1.DisksClient(**client_kwargs)

    def policies() -> list[str]:
        for scope, scoped in disks.aggregated_list(project=SHOP):
            for disk in scoped.disks:
                if scope == "zones/europe-west1-b" and disk.name == "web-1":
                    return list(disk.resource_policies)
        raise AssertionError("web-1 not listed")

    remove = compute_v1.DisksRemoveResourcePoliciesRequest(resource_policies=[POLICY])
    operation = disks.remove_resource_policies(
        project=SHOP, zone="europe-west1-b", disk="web-1", disks_remove_resource_policies_request_resource=remove
    )
    assert operation.result(timeout=5) is None and operation.operation_type == "removeResourcePolicies"
    assert operation.zone == BASE + "zones/europe-west1-b"
    assert policies() == []
    zone_ops = compute_v1.ZoneOperationsClient(**client_kwargs)
    assert zone_ops.get(project=SHOP, zone="europe-west1-b", operation=operation.name).name == operation.name
    assert zone_ops.wait(project=SHOP, zone="europe-west1-b", operation=operation.name).progress == 100
    with pytest.raises(exceptions.BadRequest, match="not attached"):
        disks.remove_resource_policies(
            project=SHOP, zone="europe-west1-b", disk="web-1", disks_remove_resource_policies_request_resource=remove
        )

    add = compute_v1.DisksAddResourcePoliciesRequest(resource_policies=["daily-backup"])  # a bare name: same region
    disks.add_resource_policies(
        project=SHOP, zone="europe-west1-b", disk="web-1", disks_add_resource_policies_request_resource=add
    ).result(timeout=5)
    assert policies() == [POLICY]
    unknown = compute_v1.DisksAddResourcePoliciesRequest(resource_policies=["weekly"])
    with pytest.raises(exceptions.NotFound, match="resourcePolicies/weekly"):
        disks.add_resource_policies(
            project=SHOP, zone="europe-west1-b", disk="web-1", disks_add_resource_policies_request_resource=unknown
        )
    with pytest.raises(exceptions.NotFound, match="disks/nope"):
        disks.add_resource_policies(
            project=SHOP, zone="europe-west1-b", disk="nope", disks_add_resource_policies_request_resource=add
        )

    entries = _audit(standin)
    assert [e["protoPayload"]["methodName"] for e in entries] == [
        "v1.compute.disks.removeResourcePolicies",
        "v1.compute.disks.addResourcePolicies",
    ]
    assert entries[0]["resource"]["type"] == "gce_disk"
    assert entries[0]["resource"]["labels"]["zone"] == "europe-west1-b"
    assert entries[0]["protoPayload"]["resourceName"] == f"projects/{SHOP}/zones/europe-west1-b/disks/web-1"
    assert entries[0]["protoPayload"]["request"]["resourcePolicies"] == [POLICY]


# -- the audit trail -----------------------------------------------------------------------


def test_audit_entries_are_valid_and_listed_by_the_real_client(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: Any, log_client: Any
) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh"), metadata=WHO).result(timeout=5)
    client.delete(project=SHOP, firewall="allow-ssh").result(timeout=5)  # no header: the default principal

    entries = _audit(standin)
    assert len(entries) == 2 and len({e["insertId"] for e in entries}) == 2
    for entry in entries:
        assert load_api("logging").validate(entry, "LogEntry") == []
        assert entry["severity"] == "NOTICE" and entry["logName"] == ACTIVITY
        assert entry["timestamp"] <= entry["receiveTimestamp"]
        assert entry["protoPayload"]["@type"] == "type.googleapis.com/google.cloud.audit.AuditLog"
        assert entry["resource"]["type"] == "gce_firewall_rule"
        assert entry["resource"]["labels"]["project_id"] == SHOP
        assert entry["operation"]["first"] and entry["operation"]["last"]

    listed = list(
        log_client.list_entries(
            resource_names=[f"projects/{SHOP}"],
            filter_=f'logName="{ACTIVITY}" AND timestamp>="2020-01-01T00:00:00Z"',
        )
    )
    assert [type(e).__name__ for e in listed] == ["ProtobufEntry", "ProtobufEntry"]
    first, second = listed
    assert first.payload["methodName"] == "v1.compute.firewalls.insert"
    assert first.payload["resourceName"] == f"projects/{SHOP}/global/firewalls/allow-ssh"
    assert first.payload["authenticationInfo"]["principalEmail"] == "alice@example.be"
    assert second.payload["authenticationInfo"]["principalEmail"] == DEFAULT_PRINCIPAL
    assert first.insert_id == entries[0]["insertId"] and first.timestamp is not None


def test_the_poller_filter_across_projects_in_one_call(
    standin: StandIn, compute_v1: ModuleType, client_kwargs: Any, log_client: Any
) -> None:
    standin.load(_two_projects())
    client = compute_v1.FirewallsClient(**client_kwargs)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1)) + "Z"
    client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh")).result(timeout=5)
    client.insert(project=OTHER, firewall_resource=_rule(compute_v1, "other", network=None)).result(timeout=5)
    logs = " OR ".join(f'logName="{activity_log_name(p)}"' for p in (SHOP, OTHER))
    filter_ = (
        f'({logs}) AND timestamp>="{since}" AND '
        '(protoPayload.methodName:"compute.firewalls." OR protoPayload.methodName:"SetIamPolicy") '
        'AND resource.type="gce_firewall_rule"'
    )
    names = [f"projects/{SHOP}", f"projects/{OTHER}"]
    before = len(standin.requests_for("logging.entries.list"))
    listed = list(log_client.list_entries(resource_names=names, filter_=filter_))
    assert [e.payload["resourceName"] for e in listed] == [
        f"projects/{SHOP}/global/firewalls/allow-ssh",
        f"projects/{OTHER}/global/firewalls/other",
    ]
    assert len(standin.requests_for("logging.entries.list")) == before + 1
    later = f'({logs}) AND timestamp>="2999-01-01T00:00:00Z"'
    assert list(log_client.list_entries(resource_names=names, filter_=later)) == []
    unwatched = f'({logs}) AND timestamp>="{since}" AND protoPayload.methodName:"instances."'
    assert list(log_client.list_entries(resource_names=names, filter_=unwatched)) == []


def test_an_ingestion_delay_holds_entries_back(standin: StandIn, compute_v1: ModuleType, client_kwargs: Any) -> None:
    client = compute_v1.FirewallsClient(**client_kwargs)
    standin.audit.delay = 3600.0
    try:
        client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh")).result(timeout=5)
        assert _audit(standin) == [] and len(standin.audit.held()) == 1
        assert standin.audit.flush() == 1
        (entry,) = _audit(standin)
        assert entry["receiveTimestamp"] > entry["timestamp"]  # received an hour later, as written

        standin.audit.delay = 0.05  # a timer releases it on its own
        client.delete(project=SHOP, firewall="allow-ssh").result(timeout=5)
        deadline = time.monotonic() + 5
        while len(_audit(standin)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(_audit(standin)) == 2

        standin.audit.delay = 3600.0
        client.insert(project=SHOP, firewall_resource=_rule(compute_v1, "allow-ssh")).result(timeout=5)
        standin.reset()
        assert standin.audit.held() == [] and _audit(standin) == []
    finally:
        standin.audit.delay = 0.0
