"""The strict schema walker over Google's discovery documents."""

from __future__ import annotations

import pytest

from monitor.standin.discovery import Api, load_api


@pytest.fixture(scope="module")
def compute() -> Api:
    return load_api("compute")


@pytest.fixture(scope="module")
def crm() -> Api:
    return load_api("cloudresourcemanager")


def messages(api: Api, value: object, ref: str) -> list[str]:
    return [str(i) for i in api.validate(value, ref)]


def test_a_real_firewall_is_valid(compute: Api) -> None:
    rule = {
        "name": "allow-ssh",
        "id": "1792568432571147899",
        "priority": 1000,
        "direction": "INGRESS",
        "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
        "sourceRanges": ["0.0.0.0/0"],
        "logConfig": {"enable": False},
    }
    assert compute.validate(rule, "Firewall") == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"allowed": [{"ipProtocol": "tcp"}]}, "allowed[0].ipProtocol: unknown field"),
        ({"priority": "high"}, 'priority: expected integer, got string "high"'),
        ({"priority": True}, "priority: expected integer, got boolean true"),
        ({"priority": 2**40}, "priority: integer 1099511627776 out of range for int32"),
        ({"direction": "SIDEWAYS"}, 'direction: "SIDEWAYS" is not one of EGRESS, INGRESS'),
        ({"id": 17}, "id: expected string (uint64), got integer 17"),
        ({"id": "-5"}, "id: -5 out of range for uint64"),
        ({"id": "1e3"}, 'id: expected a decimal integer as a string (uint64), got string "1e3"'),
        ({"disabled": "false"}, 'disabled: expected boolean, got string "false"'),
        ({"sourceRanges": "0.0.0.0/0"}, 'sourceRanges: expected array, got string "0.0.0.0/0"'),
        ({"logConfig": []}, "logConfig: expected object, got array"),
        ({"description": None}, "description: expected string, got null"),
    ],
)
def test_firewall_mistakes_are_named_with_their_path(compute: Api, rule: dict[str, object], expected: str) -> None:
    assert messages(compute, rule, "Firewall") == [expected]


def test_int64_must_be_a_numeric_string(compute: Api) -> None:
    assert messages(compute, {"sizeGb": "twenty"}, "Disk") == [
        'sizeGb: expected a decimal integer as a string (int64), got string "twenty"'
    ]
    assert compute.validate({"sizeGb": "20"}, "Disk") == []


def test_bytes_must_be_base64(crm: Api) -> None:
    assert crm.validate({"etag": "BwYR"}, "Policy") == []
    assert messages(crm, {"etag": "not base64!"}, "Policy") == ['etag: not valid base64: string "not base64!"']
    assert messages(crm, {"etag": "BwY"}, "Policy") == ['etag: not valid base64: string "BwY"']


def test_additional_properties_and_odd_keys_in_paths(compute: Api) -> None:
    listing = {"items": {"zones/europe-west1-b": {"instances": [{"name": "a", "cpuPlatfrom": "x"}]}}}
    assert messages(compute, listing, "InstanceAggregatedList") == [
        'items["zones/europe-west1-b"].instances[0].cpuPlatfrom: unknown field'
    ]
    assert messages(compute, {"labels": {"env": 3}}, "Instance") == ["labels.env: expected string, got integer 3"]


def test_datetime_fields_must_be_rfc3339(crm: Api) -> None:
    assert crm.validate({"createTime": "2025-02-01T10:00:00.123456789Z"}, "Project") == []
    assert messages(crm, {"createTime": "yesterday"}, "Project") == [
        'createTime: not an RFC 3339 timestamp: string "yesterday"'
    ]


def test_lenient_enums_accept_numbers_for_requests_only(crm: Api) -> None:
    config = {"service": "allServices", "auditLogConfigs": [{"logType": 1}]}
    assert crm.validate(config, "AuditConfig", lenient_enums=True) == []
    assert messages(crm, config, "AuditConfig") == ["auditLogConfigs[0].logType: expected string, got integer 1"]


def test_method_table_comes_from_flat_paths(compute: Api, crm: Api) -> None:
    listing = compute.methods["compute.instances.aggregatedList"]
    assert listing.http_method == "GET"
    assert listing.url_path == "/compute/v1/projects/{project}/aggregated/instances"
    assert {"filter", "maxResults", "pageToken", "includeAllScopes"} <= listing.query_parameters()
    assert listing.response == "InstanceAggregatedList"
    policy = crm.methods["cloudresourcemanager.projects.getIamPolicy"]
    assert (policy.http_method, policy.url_path) == ("POST", "/v3/projects/{projectsId}:getIamPolicy")
    assert policy.request == "GetIamPolicyRequest"
    assert "entries" in str(load_api("logging").methods["logging.entries.list"].url_path)


def test_a_missing_sandbox_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from monitor.standin import discovery

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "googleapiclient" else real(name))
    with pytest.raises(ImportError, match=r"pip install controlwatch\[sandbox\]"):
        discovery.documents_dir()
