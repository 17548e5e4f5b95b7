"""The second catalogue's clients, built by `GcpClients`, reading the stand-in over HTTP.

Each test goes through the real client library (Cloud Storage's JSON client, the Org
Policy and Compute REST transports, the discovery client for Cloud SQL Admin and IAM)
against routes validated by the discovery documents, pages where the API pages, and
shows that a 429 or 500 reaches the caller as an error rather than an empty answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.collect import GcpClients, make_clients
from monitor.standin import Fault, StandIn, load_scenario
from tests.datascenario import ACCOUNT, FOLDER, NUMBER, ORGANIZATION, PROJECT, document


@pytest.fixture(scope="module")
def module_standin() -> Iterator[StandIn]:
    standin = StandIn(load_scenario(document()))
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(module_standin: StandIn) -> Iterator[StandIn]:
    module_standin.reset()
    yield module_standin
    module_standin.reset()


@pytest.fixture(scope="module")
def clients(module_standin: StandIn) -> GcpClients:
    return make_clients(module_standin.url)


def _pages(collection: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a discovery-client listing, bounded."""
    pages: list[dict[str, Any]] = []
    request = collection.list(**kwargs)
    while request is not None and len(pages) < 20:
        answer = request.execute()
        pages.append(answer)
        request = collection.list_next(request, answer)
    return pages


# --- Cloud Storage -------------------------------------------------------------------


def test_storage_lists_buckets_page_by_page(standin: StandIn, clients: GcpClients) -> None:
    # `page_size`, not `max_results`: storage's `max_results` caps the whole listing
    buckets = clients.get("storage").list_buckets(project=PROJECT, page_size=2, retry=None)
    found = {b.name: (b.location, b.location_type) for b in buckets}
    assert found == {
        "shop-backups": ("EUR4", "dual-region"),
        "shop-invoices": ("EUROPE-WEST1", "region"),
        "shop-logs": ("EU", "multi-region"),
    }
    calls = standin.requests_for("storage.buckets.list")
    assert [c.query.get("pageToken") for c in calls] == [None, "2"]
    assert all(c.query["project"] == PROJECT and c.query["maxResults"] == "2" for c in calls)


def test_storage_reads_a_bucket_iam_policy_and_its_retention(standin: StandIn, clients: GcpClients) -> None:
    client = clients.get("storage")
    policy = client.bucket("shop-invoices").get_iam_policy(requested_policy_version=3, retry=None)
    assert [(b["role"], sorted(b["members"])) for b in policy.bindings] == [
        ("roles/storage.objectViewer", ["allUsers"])
    ]
    assert policy.etag == "CAI="
    # a bucket the scenario gives no policy has the one every new bucket gets
    default = client.bucket("shop-logs").get_iam_policy(retry=None)
    assert {b["role"] for b in default.bindings} == {
        "roles/storage.legacyBucketOwner",
        "roles/storage.legacyBucketReader",
    }
    invoices = next(b for b in client.list_buckets(project=PROJECT, retry=None) if b.name == "shop-invoices")
    assert invoices.retention_policy_locked is True and invoices.retention_period == 31536000
    assert invoices.iam_configuration.public_access_prevention == "enforced"
    assert standin.requests_for("storage.buckets.getIamPolicy")[0].query["optionsRequestedPolicyVersion"] == "3"


def test_storage_makes_no_background_bucket_reads(standin: StandIn) -> None:
    """google-cloud-storage 3.x would fetch the bucket's metadata on a thread of its own."""
    client = make_clients(standin.url).get("storage")
    before = set(threading.enumerate())
    client.bucket("shop-invoices").get_iam_policy(retry=None)
    for thread in set(threading.enumerate()) - before:
        if "process_request" not in thread.name:  # not one of the stand-in's own
            thread.join(timeout=5)
    assert [r.method for r in standin.requests] == ["storage.buckets.getIamPolicy"]


def test_storage_retries_a_429_by_itself_unless_told_not_to(standin: StandIn, clients: GcpClients) -> None:
    from google.api_core import exceptions

    client = clients.get("storage")
    standin.add_fault(Fault(method="storage.buckets.list", status=429, times=1))
    assert len(list(client.list_buckets(project=PROJECT))) == 3  # the library's own retry, 429 included
    assert [c.status for c in standin.requests_for("storage.buckets.list")] == [429, 200]

    standin.add_fault(Fault(method="storage.buckets.list", status=429))
    with pytest.raises(exceptions.TooManyRequests):
        list(client.list_buckets(project=PROJECT, retry=None))
    standin.add_fault(Fault(method="storage.buckets.getIamPolicy", status=500))
    with pytest.raises(exceptions.InternalServerError):
        client.bucket("shop-invoices").get_iam_policy(retry=None)


def test_storage_of_a_project_without_the_api_is_service_disabled(standin: StandIn, clients: GcpClients) -> None:
    from google.api_core import exceptions

    standin_doc = document()
    del standin_doc["projects"][0]["storage"]
    off = StandIn(load_scenario(standin_doc))
    try:
        with pytest.raises(exceptions.Forbidden, match="Cloud Storage JSON API"):
            list(make_clients(off.start()).get("storage").list_buckets(project=PROJECT, retry=None))
    finally:
        off.stop()


# --- Cloud SQL Admin (discovery client) ------------------------------------------------


def test_sqladmin_lists_instances_and_backup_runs_page_by_page(standin: StandIn, clients: GcpClients) -> None:
    sql = clients.get("sqladmin")
    instances = [i for page in _pages(sql.instances(), project=PROJECT, maxResults=1) for i in page["items"]]
    assert [(i["name"], i["instanceType"]) for i in instances] == [
        ("shop-db", "CLOUD_SQL_INSTANCE"),
        ("shop-db-replica", "READ_REPLICA_INSTANCE"),
    ]
    assert instances[0]["settings"]["backupConfiguration"]["location"] == "europe-west1"
    runs = [
        r for page in _pages(sql.backupRuns(), project=PROJECT, instance="shop-db", maxResults=1) for r in page["items"]
    ]
    assert [r["id"] for r in runs] == ["1732586400000", "1732500000000"]  # newest first
    assert [c.path for c in standin.requests_for("sql.instances.list")] == [f"/v1/projects/{PROJECT}/instances"] * 2


@pytest.mark.parametrize("status", [429, 500])
def test_sqladmin_faults_are_http_errors_not_retried(standin: StandIn, clients: GcpClients, status: int) -> None:
    from googleapiclient.errors import HttpError

    standin.add_fault(Fault(method="sql.backupRuns.list", status=status, times=1))
    with pytest.raises(HttpError) as caught:
        clients.get("sqladmin").backupRuns().list(project=PROJECT, instance="shop-db").execute()
    assert caught.value.status_code == status
    assert len(standin.requests_for("sql.backupRuns.list")) == 1  # num_retries defaults to 0


# --- IAM admin (discovery client) ------------------------------------------------------


def test_iam_lists_service_accounts_and_their_keys(standin: StandIn, clients: GcpClients) -> None:
    accounts_api = clients.get("iam").projects().serviceAccounts()
    pages = _pages(accounts_api, name=f"projects/{PROJECT}", pageSize=1)
    assert [[a["email"] for a in page["accounts"]] for page in pages] == [
        [ACCOUNT],
        [f"reader@{PROJECT}.iam.gserviceaccount.com"],
    ]
    assert all("keys" not in page["accounts"][0] for page in pages)  # keys come from their own call
    keys = accounts_api.keys().list(name=f"projects/-/serviceAccounts/{ACCOUNT}").execute()["keys"]
    assert [(k["keyType"], k["validAfterTime"]) for k in keys] == [
        ("USER_MANAGED", "2025-01-01T00:00:00Z"),
        ("SYSTEM_MANAGED", "2026-11-01T00:00:00Z"),
    ]
    user = accounts_api.keys().list(name=f"projects/{PROJECT}/serviceAccounts/{ACCOUNT}", keyTypes="USER_MANAGED")
    assert [k["name"].rsplit("/", 1)[-1] for k in user.execute()["keys"]] == ["0123abcd"]


@pytest.mark.parametrize("status", [429, 500])
def test_iam_faults_are_http_errors(standin: StandIn, clients: GcpClients, status: int) -> None:
    from googleapiclient.errors import HttpError

    standin.add_fault(Fault(method="iam.projects.serviceAccounts.keys.list", status=status))
    keys = clients.get("iam").projects().serviceAccounts().keys()
    with pytest.raises(HttpError) as caught:
        keys.list(name=f"projects/{PROJECT}/serviceAccounts/{ACCOUNT}").execute()
    assert caught.value.status_code == status


def test_a_discovery_client_is_shared_by_threads_each_on_its_own_connection(
    standin: StandIn, clients: GcpClients
) -> None:
    sql = clients.get("sqladmin")
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(5):
                answer = sql.instances().list(project=PROJECT).execute()
                results.append([i["name"] for i in answer["items"]])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(results) == 20
    assert all(names == ["shop-db", "shop-db-replica"] for names in results)


# --- Organization Policy ---------------------------------------------------------------


def test_orgpolicy_reads_a_projects_effective_policy(standin: StandIn, clients: GcpClients) -> None:
    client = clients.get("orgPolicy")
    locations = client.get_effective_policy(name=f"projects/{PROJECT}/policies/gcp.resourceLocations")
    assert list(locations.spec.rules[0].values.allowed_values) == ["in:europe-west1-locations"]
    os_login = client.get_effective_policy(name=f"projects/{NUMBER}/policies/compute.requireOsLogin")
    assert os_login.spec.rules[0].enforce is True
    unset = client.get_effective_policy(name=f"projects/{PROJECT}/policies/iam.allowedPolicyMemberDomains")
    assert unset.name == f"projects/{NUMBER}/policies/iam.allowedPolicyMemberDomains" and not unset.spec.rules


@pytest.mark.parametrize("status", [429, 500])
def test_orgpolicy_faults_surface_without_retry(standin: StandIn, clients: GcpClients, status: int) -> None:
    from google.api_core import exceptions

    expected = {429: exceptions.TooManyRequests, 500: exceptions.InternalServerError}[status]
    standin.add_fault(Fault(method="orgpolicy.projects.policies.getEffectivePolicy", status=status, times=1))
    with pytest.raises(expected):
        clients.get("orgPolicy").get_effective_policy(name=f"projects/{PROJECT}/policies/compute.requireOsLogin")
    assert len(standin.requests_for("orgpolicy.projects.policies.getEffectivePolicy")) == 1


# --- Compute firewall policies ---------------------------------------------------------


def test_hierarchical_firewall_policies_by_parent_and_their_associations(standin: StandIn, clients: GcpClients) -> None:
    from google.cloud import compute_v1

    client = clients.get("firewallPolicies")
    request = compute_v1.ListFirewallPoliciesRequest(parent_id=FOLDER, max_results=1)
    folder = [(p.short_name, p.rules[0].match.layer4_configs[0].ports[0]) for p in client.list(request=request)]
    assert folder == [("prod-web", "443"), ("prod-admin", "3389")]
    assert len(standin.requests_for("compute.firewallPolicies.list")) == 2
    org = client.list(request=compute_v1.ListFirewallPoliciesRequest(parent_id=ORGANIZATION))
    assert [(p.short_name, p.rules[0].match.src_ip_ranges[0]) for p in org] == [("org-baseline", "0.0.0.0/0")]

    # the flattened signatures take no arguments here: the request object carries them
    listing = compute_v1.ListAssociationsFirewallPolicyRequest(target_resource=FOLDER)
    associations = client.list_associations(request=listing).associations
    assert sorted((a.firewall_policy_id, a.attachment_target) for a in associations) == [
        ("201", FOLDER),
        ("202", FOLDER),
    ]
    asked = compute_v1.GetAssociationFirewallPolicyRequest(firewall_policy="101", name="org-baseline-assoc")
    one = client.get_association(request=asked)
    assert (one.attachment_target, one.short_name) == (ORGANIZATION, "org-baseline")


def test_network_firewall_policies_global_and_regional(standin: StandIn, clients: GcpClients) -> None:
    network = [p.name for p in clients.get("networkFirewallPolicies").list(project=PROJECT)]
    regional = [
        p.name for p in clients.get("regionNetworkFirewallPolicies").list(project=PROJECT, region="europe-west1")
    ]
    elsewhere = list(clients.get("regionNetworkFirewallPolicies").list(project=PROJECT, region="europe-west4"))
    assert (network, regional, elsewhere) == (["shop-network-policy"], ["shop-regional-policy"], [])


def test_effective_firewalls_of_a_network_gather_every_layer(standin: StandIn, clients: GcpClients) -> None:
    effective = clients.get("networks").get_effective_firewalls(project=PROJECT, network="prod-vpc")
    assert [(p.type_, p.short_name or p.name) for p in effective.firewall_policys] == [
        ("HIERARCHY", "org-baseline"),
        ("HIERARCHY", "prod-web"),
        ("HIERARCHY", "prod-admin"),
        ("NETWORK", "shop-network-policy"),
    ]
    assert [f.name for f in effective.firewalls] == ["allow-https", "allow-internal"]
    assert effective.firewall_policys[0].rules[0].match.src_ip_ranges == ["0.0.0.0/0"]


@pytest.mark.parametrize("status", [429, 500])
def test_firewall_policy_faults_surface(standin: StandIn, clients: GcpClients, status: int) -> None:
    from google.api_core import exceptions
    from google.cloud import compute_v1

    expected = {429: exceptions.TooManyRequests, 500: exceptions.InternalServerError}[status]
    standin.add_fault(Fault(method="compute.firewallPolicies.list", status=status))
    request = compute_v1.ListFirewallPoliciesRequest(parent_id=ORGANIZATION)
    with pytest.raises(expected):
        list(clients.get("firewallPolicies").list(request=request, retry=None))


def test_a_503_once_is_retried_by_the_gapic_clients_themselves(standin: StandIn, clients: GcpClients) -> None:
    """Their default retry covers 503 (not 429 or 500): what `retry=None` turns off."""
    from google.cloud import compute_v1

    standin.add_fault(Fault(method="compute.firewallPolicies.list", status=503, times=1))
    request = compute_v1.ListFirewallPoliciesRequest(parent_id=ORGANIZATION)
    assert [p.short_name for p in clients.get("firewallPolicies").list(request=request)] == ["org-baseline"]
    standin.add_fault(Fault(method="orgpolicy.projects.policies.getEffectivePolicy", status=503, times=1))
    name = f"projects/{PROJECT}/policies/compute.requireOsLogin"
    assert clients.get("orgPolicy").get_effective_policy(name=name).spec.rules[0].enforce is True
    statuses = [r.status for r in standin.requests]
    assert statuses == [503, 200, 503, 200]


def test_without_an_endpoint_each_client_aims_at_google() -> None:
    from google.auth.credentials import AnonymousCredentials

    google = GcpClients(AnonymousCredentials())  # what make_clients() builds with ADC
    assert google.get("sqladmin")._baseUrl == "https://sqladmin.googleapis.com/"
    assert google.get("iam")._baseUrl == "https://iam.googleapis.com/"
    assert google.get("storage")._connection.API_BASE_URL == "https://storage.googleapis.com"
    assert google.get("orgPolicy").transport._host == "https://orgpolicy.googleapis.com"
