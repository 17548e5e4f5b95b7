"""The kind table: one row per resource kind, and everything else about a kind is derived from it.

A *kind* is one listing per scope per run (`firewalls`, `iamPolicy`, `ancestry`). Its row
says where it comes from (API, client, method, list shape), where a scenario writes it
(part, discovery schema, location fields) and what reading it costs (IAM permissions).
The `Kind` enum IS the table: each member is a str (its name, the snapshot key and the
metric label) carrying its row as `.spec`. From the rows the collectors derive their
client map, preload list, service titles and fetch functions; the stand-in its routes
and scenario parts; the tests their snapshot builder; and a test holds the IAM role in
`deploy/iam/` to the union of the rows' permissions.

Pure data, strings only: `checks` (controls declare the kinds they read) imports no
Google module and nothing from `monitor`, which imports this.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Api:
    """One Google API the collectors call: `name` is the `service` metric label."""

    name: str  # compute; also the discovery document's name
    version: str  # v1; the discovery document is `{name}.{version}`
    title: str  # as Google titles it in "… not enabled" notes and SERVICE_DISABLED errors
    host: str  # compute.googleapis.com, as errors and full resource names spell it
    package: str  # the Python package of its clients, imported lazily (preloaded by the daemon)
    distribution: str  # the PyPI distribution shipping `package`, pinned in pyproject.toml
    # Its clients are discovery clients (`googleapiclient.discovery.build(name, version)`, from
    # the document the package ships), for an API whose GAPIC clients speak gRPC only.
    discovery: bool = False
    # The first part of its method ids, where Google's differs from the API's name (`sql.instances.list`).
    method_root: str = ""

    @property
    def methods(self) -> str:
        """The first part of its method ids: `compute` (`compute.firewalls.list`), `sql` for sqladmin."""
        return self.method_root or self.name

    @property
    def document(self) -> str:
        """The stem of its discovery document in google-api-python-client (`compute.v1`)."""
        return f"{self.name}.{self.version}"


COMPUTE = Api(
    "compute", "v1", "Compute Engine API", "compute.googleapis.com", "google.cloud.compute_v1", "google-cloud-compute"
)
CRM = Api(
    "cloudresourcemanager",
    "v3",
    "Cloud Resource Manager API",
    "cloudresourcemanager.googleapis.com",
    "google.cloud.resourcemanager_v3",
    "google-cloud-resource-manager",
)
LOGGING = Api(
    "logging", "v2", "Cloud Logging API", "logging.googleapis.com", "google.cloud.logging", "google-cloud-logging"
)
STORAGE = Api(
    "storage", "v1", "Cloud Storage JSON API", "storage.googleapis.com", "google.cloud.storage", "google-cloud-storage"
)
# Cloud SQL Admin and IAM admin: their GAPIC clients (google-cloud-sql, google-cloud-iam) speak
# gRPC only, so both are read through the discovery client, which speaks REST.
SQLADMIN = Api(
    "sqladmin",
    "v1",
    "Cloud SQL Admin API",
    "sqladmin.googleapis.com",
    "googleapiclient.discovery",
    "google-api-python-client",
    discovery=True,
    method_root="sql",
)
IAM = Api(
    "iam",
    "v1",
    "Identity and Access Management (IAM) API",
    "iam.googleapis.com",
    "googleapiclient.discovery",
    "google-api-python-client",
    discovery=True,
)
ORGPOLICY = Api(
    "orgpolicy",
    "v2",
    "Organization Policy API",
    "orgpolicy.googleapis.com",
    "google.cloud.orgpolicy_v2",
    "google-cloud-org-policy",
)
# Cloud DNS: its Python client (google-cloud-dns) is unmaintained, so it is read through the
# discovery client, from the `dns.v1` document google-api-python-client ships.
DNS = Api(
    "dns",
    "v1",
    "Cloud DNS API",
    "dns.googleapis.com",
    "googleapiclient.discovery",
    "google-api-python-client",
    discovery=True,
)
# The third catalogue's logging-and-monitoring APIs (alert policies, enabled services, Access Approval).
# Cloud Monitoring v3's GAPIC clients (google-cloud-monitoring 2.32.0) speak gRPC only: its
# alert policies are read through the discovery client, which speaks REST.
MONITORING = Api(
    "monitoring",
    "v3",
    "Cloud Monitoring API",
    "monitoring.googleapis.com",
    "googleapiclient.discovery",
    "google-api-python-client",
    discovery=True,
)
SERVICEUSAGE = Api(
    "serviceusage",
    "v1",
    "Service Usage API",
    "serviceusage.googleapis.com",
    "google.cloud.service_usage_v1",
    "google-cloud-service-usage",
)
ACCESSAPPROVAL = Api(
    "accessapproval",
    "v1",
    "Access Approval API",
    "accessapproval.googleapis.com",
    "google.cloud.accessapproval_v1",
    "google-cloud-access-approval",
)
# The identity catalogue's APIs (CIS 1.9-1.16): Cloud KMS keys, API keys, Essential Contacts;
# their GAPIC clients speak REST (`transport="rest"`).
CLOUDKMS = Api(
    "cloudkms",
    "v1",
    "Cloud Key Management Service (KMS) API",
    "cloudkms.googleapis.com",
    "google.cloud.kms_v1",
    "google-cloud-kms",
)
APIKEYS = Api(
    "apikeys", "v2", "API Keys API", "apikeys.googleapis.com", "google.cloud.api_keys_v2", "google-cloud-api-keys"
)
ESSENTIALCONTACTS = Api(
    "essentialcontacts",
    "v1",
    "Essential Contacts API",
    "essentialcontacts.googleapis.com",
    "google.cloud.essential_contacts_v1",
    "google-cloud-essential-contacts",
)
IDENTITY_APIS = (CLOUDKMS, APIKEYS, ESSENTIALCONTACTS)
# --- BigQuery and Dataproc (issue 13): BigQuery's handwritten JSON client, as Cloud Storage's;
# Dataproc's GAPIC client over REST.
BIGQUERY = Api(
    "bigquery", "v2", "BigQuery API", "bigquery.googleapis.com", "google.cloud.bigquery", "google-cloud-bigquery"
)
DATAPROC = Api(
    "dataproc",
    "v1",
    "Cloud Dataproc API",
    "dataproc.googleapis.com",
    "google.cloud.dataproc_v1",
    "google-cloud-dataproc",
)
APIS: Mapping[str, Api] = MappingProxyType(
    {
        api.name: api
        for api in (COMPUTE, CRM, LOGGING, STORAGE, SQLADMIN, IAM, ORGPOLICY)
        + (DNS, MONITORING, SERVICEUSAGE, ACCESSAPPROVAL, *IDENTITY_APIS, BIGQUERY, DATAPROC)
    }
)
#: the APIs read through the discovery client (`googleapiclient.discovery.build`), not a class of a package
DISCOVERY_APIS = frozenset(api.name for api in APIS.values() if api.discovery)


@dataclass(frozen=True, slots=True)
class Client:
    """A client class of an API's package, and the name the collectors ask for it by."""

    name: str  # `GcpClients.get(name)`
    api: str
    cls: str  # the class in the API's package


PROJECTS = Client("projects", CRM.name, "ProjectsClient")
FOLDERS = Client("folders", CRM.name, "FoldersClient")
ORGANIZATIONS = Client("organizations", CRM.name, "OrganizationsClient")
# The handwritten client: the GAPIC logging clients are gRPC-only.
LOGS = Client("logging", LOGGING.name, "Client")


def compute_client(collection: str) -> Client:
    """Compute has one client per collection: `resourcePolicies` -> `ResourcePoliciesClient`."""
    return Client(collection, COMPUTE.name, collection[0].upper() + collection[1:] + "Client")


# The clients of the second catalogue (Cloud SQL, Cloud Storage, IAM keys, organisation
# policies, firewall policies); the kind rows read with all but the regional network policies'.
BUCKETS = Client("storage", STORAGE.name, "Client")  # the handwritten JSON client
SQL = Client("sqladmin", SQLADMIN.name, "build")  # a discovery client: `build("sqladmin", "v1")`
IAM_ADMIN = Client("iam", IAM.name, "build")
ORG_POLICIES = Client("orgPolicy", ORGPOLICY.name, "OrgPolicyClient")
#: the Cloud DNS discovery client: `build("dns", "v1")` (managed zones, DNS server policies)
CLOUD_DNS = Client("dns", DNS.name, "build")
#: Compute's own view of a project (its common instance metadata); "projects" is Resource Manager's client
COMPUTE_PROJECTS = Client("computeProjects", COMPUTE.name, "ProjectsClient")
# BigQuery's handwritten JSON client (not a GAPIC one: no transport to choose), Dataproc's GAPIC client.
BIGQUERY_CLIENT = Client("bigquery", BIGQUERY.name, "Client")
DATAPROC_CLUSTERS = Client("dataprocClusters", DATAPROC.name, "ClusterControllerClient")
NEXT_CLIENTS: tuple[Client, ...] = (
    compute_client("firewallPolicies"),
    compute_client("networkFirewallPolicies"),
    compute_client("regionNetworkFirewallPolicies"),
    BUCKETS,
    SQL,
    IAM_ADMIN,
    ORG_POLICIES,
)
# The identity catalogue's clients (one each).
KMS_CLIENT = Client("kms", CLOUDKMS.name, "KeyManagementServiceClient")
APIKEYS_CLIENT = Client("apiKeys", APIKEYS.name, "ApiKeysClient")
CONTACTS_CLIENT = Client("essentialContacts", ESSENTIALCONTACTS.name, "EssentialContactsServiceClient")


ALERT_POLICIES_CLIENT = Client("monitoring", MONITORING.name, "build")  # a discovery client
SERVICE_USAGE = Client("serviceUsage", SERVICEUSAGE.name, "ServiceUsageClient")
ACCESS_APPROVAL = Client("accessApproval", ACCESSAPPROVAL.name, "AccessApprovalClient")


class Shape(enum.StrEnum):
    """How a kind is read; the list shapes share one generic fetch each, the others are custom code."""

    GLOBAL = "global"  # one listing of the project: `projects/P/global/firewalls`, paged
    AGGREGATED = "aggregated"  # every zone and region in one listing, `items[scope][key]`, paged
    PARENT = "parent"  # a listing under a parent name: Logging's `projects/P/sinks`, paged
    SINGLE = "single"  # one read of one resource: `projects.get`, `getIamPolicy` (custom fetch)
    WALK = "walk"  # several reads up the resource hierarchy (custom fetch)
    EACH = "each"  # a listing, then reads for each listed resource or named item (custom fetch)


class Holder(enum.StrEnum):
    """Whose part of a scenario holds a kind's resources."""

    PROJECT = "project"  # each entry of `projects:`
    ANCESTORS = "ancestors"  # the `organization:` and each entry of `folders:`


LIST_SHAPES = frozenset({Shape.GLOBAL, Shape.AGGREGATED, Shape.PARENT})


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a 2xx answer must look like before its content is believed (`monitor/collect/envelope.py`).

    The clients parse an answer into a message that drops unknown fields and reads a
    missing or null list as empty, so `{}`, a renamed list or another kind's answer would
    read as "no resources" and controls would pass. `kind` is the answer's own `kind`
    (Compute sends one). `items` is the field holding the list ("" for one resource); in an
    aggregated listing it maps each scope to an object holding the list under `scoped`.
    Each item is an object carrying `item_kind` (Compute) and `item_fields`. `required`
    fields must be there and not empty (a policy's `etag`); `name_prefix` is what `name`
    starts with (the type check of a resource without `kind`). `fields` are the answer's
    other fields: anything else is refused. None leaves a resource's fields open: a new
    field of a Project must not stop the estate being judged.
    """

    kind: str = ""
    items: str = ""
    scoped: str = ""
    item_kind: str = ""
    item_fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    name_prefix: str = ""
    fields: tuple[str, ...] | None = None


#: The answers the hierarchy reads get (shared by the kinds that read them).
PROJECT_ANSWER = Envelope(required=("name", "projectId"), name_prefix="projects/")
FOLDER_ANSWER = Envelope(required=("name", "parent"), name_prefix="folders/")
ORGANIZATION_ANSWER = Envelope(required=("name",), name_prefix="organizations/")
# Every real policy has an etag (`ACAB` when it is empty); bindings without a role or members do not exist.
POLICY_ANSWER = Envelope(
    items="bindings", item_fields=("role", "members"), required=("etag",), fields=("version", "auditConfigs")
)
SINKS_ANSWER = Envelope(items="sinks", item_fields=("name", "destination"), fields=("nextPageToken",))
_COMPUTE_LIST_FIELDS = ("id", "nextPageToken", "selfLink", "warning")
#: Compute's Project (`compute.projects.get`): fields left open, as for Resource Manager's Project
COMPUTE_PROJECT_ANSWER = Envelope(kind="compute#project", required=("name",))
#: a firewall-policy listing: an organisation's or folder's (hierarchical), or a project's network policies
FIREWALL_POLICY_LIST = Envelope(
    kind="compute#firewallPolicyList",
    items="items",
    item_kind="compute#firewallPolicy",
    item_fields=("name",),
    fields=("id", "nextPageToken", "warning"),
)
#: the aggregated listing of a project's network firewall policies, global and regional, by scope
REGION_FIREWALL_POLICY_LIST = Envelope(
    kind="compute#networkFirewallPolicyAggregatedList",
    items="items",
    scoped="firewallPolicies",
    item_kind="compute#firewallPolicy",
    item_fields=("name",),
    fields=(*_COMPUTE_LIST_FIELDS, "unreachables"),
)
BUCKETS_ANSWER = Envelope(
    kind="storage#buckets",
    items="items",
    item_kind="storage#bucket",
    item_fields=("name", "location"),
    fields=("nextPageToken", "unreachable"),
)
BUCKET_POLICY_ANSWER = Envelope(
    kind="storage#policy",
    items="bindings",
    item_fields=("role", "members"),
    required=("etag",),
    fields=("version", "resourceId"),
)
# Cloud SQL sends `kind` on every listing, an empty one too (discovery: "This is always
# `sql#instancesList`"): required, so that `{}` is not read as "no instances". IAM's listings
# carry no `kind`, and its empty answer is `{}` itself.
SQL_INSTANCES_ANSWER = Envelope(
    kind="sql#instancesList",
    items="items",
    item_kind="sql#instance",
    item_fields=("name",),
    fields=("nextPageToken", "warnings"),
)
BACKUP_RUNS_ANSWER = Envelope(
    kind="sql#backupRunsList",
    items="items",
    item_kind="sql#backupRun",
    item_fields=("id", "status"),
    fields=("nextPageToken",),
)
SERVICE_ACCOUNTS_ANSWER = Envelope(items="accounts", item_fields=("name", "email"), fields=("nextPageToken",))
KEYS_ANSWER = Envelope(items="keys", item_fields=("name", "keyType"), fields=())
# Monitoring, Service Usage and Access Approval send no `kind`: an alert policy and a service are
# told by their `name`; one page of enabled services always carries each service's `state`.
ALERT_POLICIES_ANSWER = Envelope(
    items="alertPolicies", item_fields=("name",), fields=("nextPageToken", "totalSize")
)
SERVICES_ANSWER = Envelope(items="services", item_fields=("name", "state"), fields=("nextPageToken",))
ACCESS_APPROVAL_ANSWER = Envelope(required=("name",), name_prefix="projects/")
EFFECTIVE_POLICY_ANSWER = Envelope(required=("name",), name_prefix="projects/")
#: the destinations LOG-04 reads: one Cloud Storage bucket (by its global name), one Logging bucket
BUCKET_ANSWER = Envelope(kind="storage#bucket", required=("name",))
LOG_BUCKET_ANSWER = Envelope(required=("name",), name_prefix="projects/")
# Cloud DNS sends `kind` on every listing, an empty one too: required, so `{}` is not read as "none".
MANAGED_ZONES_ANSWER = Envelope(
    kind="dns#managedZonesListResponse",
    items="managedZones",
    item_kind="dns#managedZone",
    item_fields=("name", "dnsName"),
    fields=("nextPageToken",),
)
DNS_POLICIES_ANSWER = Envelope(
    kind="dns#policiesListResponse",
    items="policies",
    item_kind="dns#policy",
    item_fields=("name",),
    fields=("nextPageToken",),
)
# BigQuery sends `kind` on every answer, an empty listing too: required, so `{}` is not "no datasets".
# Discovery declares no `kind` for a listing's entries, so they are typed by their reference.
DATASETS_ANSWER = Envelope(
    kind="bigquery#datasetList",
    items="datasets",
    item_fields=("datasetReference",),
    fields=("etag", "nextPageToken", "unreachable"),
)
DATASET_ANSWER = Envelope(kind="bigquery#dataset", required=("id",))
TABLES_ANSWER = Envelope(
    kind="bigquery#tableList",
    items="tables",
    item_fields=("tableReference",),
    fields=("etag", "nextPageToken", "totalItems"),
)
TABLE_ANSWER = Envelope(kind="bigquery#table", required=("id",))
# Dataproc's listing carries no `kind`, and an empty one is `{}` itself.
CLUSTERS_ANSWER = Envelope(items="clusters", item_fields=("clusterName",), fields=("nextPageToken",))
#: the constraints whose effective policy the orgPolicies kind reads for each project: ORG-01's,
#: ORG-02's and the default `org.required_constraints` of ORG-03 (bare names, no `constraints/`)
ORG_CONSTRAINTS: tuple[str, ...] = (
    "gcp.resourceLocations",
    "iam.allowedPolicyMemberDomains",
    "compute.skipDefaultNetworkCreation",
    "compute.requireOsLogin",
    "iam.disableServiceAccountKeyCreation",
    "storage.uniformBucketLevelAccess",
    "storage.publicAccessPrevention",
    "sql.restrictPublicIp",
    "sql.restrictAuthorizedNetworks",
)

#: The identity catalogue's answers: KMS's locations, key rings and keys (listed location by
#: location, ring by ring), their IAM policies; API keys; the contacts Essential Contacts computes.
KMS_LOCATIONS_ANSWER = Envelope(items="locations", item_fields=("name", "locationId"), fields=("nextPageToken",))
KEY_RINGS_ANSWER = Envelope(items="keyRings", item_fields=("name",), fields=("nextPageToken", "totalSize"))
CRYPTO_KEYS_ANSWER = Envelope(items="cryptoKeys", item_fields=("name",), fields=("nextPageToken", "totalSize"))
API_KEYS_ANSWER = Envelope(items="keys", item_fields=("name",), fields=("nextPageToken",))
CONTACTS_ANSWER = Envelope(items="contacts", item_fields=("name", "email"), fields=("nextPageToken",))


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One row of the kind table.

    `part` is where a scenario writes the kind's resources under its holder: `group.key`
    for a list (`compute.firewalls`), a bare key for one object (`iamPolicy`), "" for the
    holder's own resource (the Project). `schema` is the discovery schema of one resource
    there. `items` is the response field holding a page's list (`sinks`); for an
    aggregated list, the key inside each scope. `locations` are the fields placing a
    resource in a zone or region: one of them is required unless `global_scope` lets a
    resource without any be listed under `global`. `also` names further clients a walk
    reads with. `reads` are the further methods a listing calls for each resource it lists
    (a bucket's IAM policy, an instance's backup runs, an account's keys), each with its
    answer's envelope in `NEXT_ANSWERS`. `permissions` are what the reading needs (the
    least-privilege role).
    """

    name: str
    api: str
    method: str  # the API method id: the `method` metric label and the stand-in route
    shape: Shape
    client: Client
    part: str
    schema: str
    permissions: tuple[str, ...]
    doc: str
    envelope: Envelope
    items: str = ""
    locations: tuple[str, ...] = ()
    global_scope: bool = False
    holder: Holder = Holder.PROJECT
    also: tuple[Client, ...] = ()
    reads: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        """The scenario group of a list part (`compute`), "" for a single object or the holder itself."""
        return self.part.split(".", 1)[0] if "." in self.part else ""

    @property
    def key(self) -> str:
        """The part's last key (`firewalls`, `iamPolicy`), "" for the holder itself."""
        return self.part.rsplit(".", 1)[-1]

    @property
    def clients(self) -> tuple[Client, ...]:
        return (self.client, *self.also)


def _compute_list(
    name: str,
    schema: str,
    doc: str,
    *,
    locations: tuple[str, ...] = (),
    global_scope: bool = False,
    answer_fields: tuple[str, ...] = (),
) -> KindSpec:
    """A Compute kind: global list, or aggregated (one listing of every zone and region) when located.

    `answer_fields` are fields its listing's answer has beyond every Compute listing's.
    """
    aggregated = bool(locations)
    singular = schema[0].lower() + schema[1:]
    envelope = Envelope(
        kind=f"compute#{singular}{'AggregatedList' if aggregated else 'List'}",
        items="items",
        scoped=name if aggregated else "",
        item_kind=f"compute#{singular}",
        item_fields=("name",),
        fields=(*_COMPUTE_LIST_FIELDS, *(("unreachables",) if aggregated else ()), *answer_fields),
    )
    return KindSpec(
        name=name,
        api=COMPUTE.name,
        method=f"compute.{name}.{'aggregatedList' if aggregated else 'list'}",
        shape=Shape.AGGREGATED if aggregated else Shape.GLOBAL,
        client=compute_client(name),
        part=f"compute.{name}",
        schema=schema,
        permissions=(f"compute.{name}.list",),
        doc=doc,
        envelope=envelope,
        items=name if aggregated else "items",
        locations=locations,
        global_scope=global_scope,
    )


@enum.unique
class Kind(enum.StrEnum):
    """The resource kinds, in collection order; `Kind.FIREWALLS == "firewalls"`, `.spec` its row.

    `repr` is the name's own, so a kind logged inside a list or dict reads as the plain
    string it is.
    """

    _value_: str
    spec: KindSpec
    ALL: ClassVar[tuple[Kind, ...]]

    def __new__(cls, spec: KindSpec) -> Kind:
        member = str.__new__(cls, spec.name)
        member._value_ = spec.name
        member.spec = spec
        return member

    def __repr__(self) -> str:
        return repr(self._value_)

    PROJECT = KindSpec(
        name="project",
        api=CRM.name,
        method="cloudresourcemanager.projects.get",
        shape=Shape.SINGLE,
        client=PROJECTS,
        part="",
        schema="Project",
        permissions=("resourcemanager.projects.get",),
        doc="the v3 Project itself (labels, parent, state), as a one-element list",
        envelope=PROJECT_ANSWER,
    )
    FIREWALLS = _compute_list("firewalls", "Firewall", "VPC firewall rules")
    NETWORKS = _compute_list("networks", "Network", "VPC networks")
    SUBNETWORKS = _compute_list("subnetworks", "Subnetwork", "subnetworks of every region", locations=("region",))
    INSTANCES = _compute_list("instances", "Instance", "VM instances of every zone", locations=("zone",))
    DISKS = _compute_list("disks", "Disk", "zonal and regional persistent disks", locations=("zone", "region"))
    SNAPSHOTS = _compute_list("snapshots", "Snapshot", "disk snapshots")
    RESOURCE_POLICIES = _compute_list(
        "resourcePolicies",
        "ResourcePolicy",
        "resource policies (snapshot schedules)",
        locations=("region",),
        answer_fields=("etag",),
    )
    ADDRESSES = dataclasses.replace(
        _compute_list("addresses", "Address", "", locations=("region",), global_scope=True),
        # The aggregated listing has a `global` scope too: global addresses need their own permission.
        permissions=("compute.addresses.list", "compute.globalAddresses.list"),
        doc="regional and global static IP addresses (without a `region`: global)",
    )
    IAM_POLICY = KindSpec(
        name="iamPolicy",
        api=CRM.name,
        method="cloudresourcemanager.projects.getIamPolicy",
        shape=Shape.SINGLE,
        client=PROJECTS,
        part="iamPolicy",
        schema="Policy",
        permissions=("resourcemanager.projects.getIamPolicy",),
        doc="the project's IAM policy read at requestedPolicyVersion 3: one Policy",
        envelope=POLICY_ANSWER,
    )
    ANCESTRY = KindSpec(
        name="ancestry",
        api=CRM.name,
        # Several calls, each observed under its own method id; this one names the kind's errors.
        method="cloudresourcemanager.folders.get",
        shape=Shape.WALK,
        client=PROJECTS,
        also=(FOLDERS, ORGANIZATIONS),
        part="iamPolicy",
        schema="Policy",
        holder=Holder.ANCESTORS,
        permissions=(
            "resourcemanager.projects.get",
            "resourcemanager.folders.get",
            "resourcemanager.folders.getIamPolicy",
            "resourcemanager.organizations.get",
            "resourcemanager.organizations.getIamPolicy",
        ),
        doc='the ancestors nearest first, ending with the organisation: {"resource": Folder or '
        'Organization, "iamPolicy": Policy (version 3)} each',
        envelope=FOLDER_ANSWER,
    )
    SINKS = KindSpec(
        name="sinks",
        api=LOGGING.name,
        method="logging.projects.sinks.list",
        shape=Shape.PARENT,
        client=LOGS,
        part="logging.sinks",
        schema="LogSink",
        items="sinks",
        permissions=("logging.sinks.list",),
        doc="the project's own log sinks (LogSink)",
        envelope=SINKS_ANSWER,
    )
    ANCESTOR_SINKS = KindSpec(
        name="ancestorSinks",
        api=LOGGING.name,
        method="logging.folders.sinks.list",
        shape=Shape.WALK,
        client=LOGS,
        also=(PROJECTS, FOLDERS, ORGANIZATIONS),
        part="logging.sinks",
        schema="LogSink",
        items="sinks",
        holder=Holder.ANCESTORS,
        permissions=(
            "logging.sinks.list",
            "resourcemanager.projects.get",
            "resourcemanager.folders.get",
            "resourcemanager.organizations.get",
        ),
        doc='sinks of every ancestor, nearest first: {"parent": "folders/55" or "organizations/4242", "sink": LogSink}',
        envelope=SINKS_ANSWER,
    )
    LOG_METRICS = KindSpec(
        name="logMetrics",
        api=LOGGING.name,
        method="logging.projects.metrics.list",
        shape=Shape.PARENT,
        client=LOGS,
        part="logging.metrics",
        schema="LogMetric",
        items="metrics",
        permissions=("logging.logMetrics.list",),
        doc="the project's logs-based metrics (LogMetric)",
        envelope=Envelope(items="metrics", item_fields=("name", "filter"), fields=("nextPageToken",)),
    )

    SINK_DESTINATIONS = KindSpec(
        name="sinkDestinations",
        api=LOGGING.name,
        method="logging.projects.locations.buckets.get",
        shape=Shape.WALK,
        client=LOGS,
        also=(BUCKETS, PROJECTS, FOLDERS, ORGANIZATIONS),
        part="logging.buckets",
        schema="LogBucket",
        permissions=(
            "logging.buckets.get",
            "storage.buckets.get",
            "logging.sinks.list",
            "resourcemanager.projects.get",
            "resourcemanager.folders.get",
            "resourcemanager.organizations.get",
        ),
        doc='the destination of each sink LOG-02 counts (the project\'s, and its ancestors\' with includeChildren): '
        '{"sink": "folders/55/sinks/s", "destination": …, and "bucket": Bucket, "logBucket": LogBucket, or '
        '"error": why it could not be read}; none for BigQuery and Pub/Sub. An ancestor\'s destination is read '
        "once per sweep; the scenario's `logging.buckets` hold the LogBuckets, `storage.buckets` the Buckets",
        envelope=LOG_BUCKET_ANSWER,
    )

    # --- the second catalogue: where the data lives, firewall policies, keys, organisation policies
    SQL_INSTANCES = KindSpec(
        name="sqlInstances",
        api=SQLADMIN.name,
        method="sql.instances.list",
        shape=Shape.EACH,
        client=SQL,
        part="sql.instances",
        schema="DatabaseInstance",
        items="items",
        reads=("sql.backupRuns.list",),
        permissions=("cloudsql.instances.list", "cloudsql.backupRuns.list"),
        doc="the project's Cloud SQL instances (DatabaseInstance); each primary with its BackupRuns, newest "
        "first, under `backupRuns` (one backupRuns.list per primary; replicas take none)",
        envelope=SQL_INSTANCES_ANSWER,
    )
    BUCKETS = KindSpec(
        name="buckets",
        api=STORAGE.name,
        method="storage.buckets.list",
        shape=Shape.EACH,
        client=BUCKETS,
        part="storage.buckets",
        schema="Bucket",
        items="items",
        reads=("storage.buckets.getIamPolicy",),
        permissions=("storage.buckets.list", "storage.buckets.getIamPolicy"),
        doc="the project's buckets (Bucket, without ACLs), each with its IAM Policy (version 3) under "
        "`iamPolicy`, read by one getIamPolicy per bucket",
        envelope=BUCKETS_ANSWER,
    )
    SERVICE_ACCOUNT_KEYS = KindSpec(
        name="serviceAccountKeys",
        api=IAM.name,
        method="iam.projects.serviceAccounts.list",
        shape=Shape.EACH,
        client=IAM_ADMIN,
        part="iam.serviceAccounts",
        schema="ServiceAccount",
        items="accounts",
        reads=("iam.projects.serviceAccounts.keys.list",),
        permissions=("iam.serviceAccounts.list", "iam.serviceAccountKeys.list"),
        doc="the project's service accounts (ServiceAccount), each with its ServiceAccountKeys under `keys` "
        "(one keys.list per account, system-managed keys included)",
        envelope=SERVICE_ACCOUNTS_ANSWER,
    )
    ORG_POLICIES = KindSpec(
        name="orgPolicies",
        api=ORGPOLICY.name,
        method="orgpolicy.projects.policies.getEffectivePolicy",
        shape=Shape.EACH,
        client=ORG_POLICIES,
        part="orgPolicy.effectivePolicies",
        schema="GoogleCloudOrgpolicyV2Policy",
        permissions=("orgpolicy.policy.get",),
        doc="the project's effective Policy (orgpolicy v2) of each constraint the controls judge "
        "(ORG-01, ORG-02, ORG-03's default list, and every constraint the config's org.required_constraints "
        "names), one getEffectivePolicy each",
        envelope=EFFECTIVE_POLICY_ANSWER,
    )
    FIREWALL_POLICIES = KindSpec(
        name="firewallPolicies",
        api=COMPUTE.name,
        method="compute.firewallPolicies.list",
        shape=Shape.WALK,
        client=compute_client("firewallPolicies"),
        also=(PROJECTS, FOLDERS, ORGANIZATIONS),
        part="firewallPolicies",
        schema="FirewallPolicy",
        items="items",
        holder=Holder.ANCESTORS,
        permissions=(
            "compute.firewallPolicies.list",
            "resourcemanager.projects.get",
            "resourcemanager.folders.get",
            "resourcemanager.organizations.get",
        ),
        doc='hierarchical firewall policies of every ancestor, nearest first: {"parent": "folders/55" or '
        '"organizations/4242", "policy": FirewallPolicy, "ancestors": the whole chain, nearest first}; each '
        "ancestor listed once per sweep",
        envelope=FIREWALL_POLICY_LIST,
    )
    NETWORK_FIREWALL_POLICIES = KindSpec(
        name="networkFirewallPolicies",
        api=COMPUTE.name,
        method="compute.networkFirewallPolicies.list",
        shape=Shape.GLOBAL,
        client=compute_client("networkFirewallPolicies"),
        part="compute.firewallPolicies",
        schema="FirewallPolicy",
        items="items",
        permissions=("compute.networkFirewallPolicies.list",),
        doc="the project's global network firewall policies (FirewallPolicy, with rules and associations)",
        envelope=FIREWALL_POLICY_LIST,
    )
    REGION_NETWORK_FIREWALL_POLICIES = KindSpec(
        name="regionNetworkFirewallPolicies",
        api=COMPUTE.name,
        # One listing of every region (regions.list and a listing per region would be ~40 calls):
        # the aggregated listing holds the global policies too, which the fetch leaves to the row above.
        method="compute.networkFirewallPolicies.aggregatedList",
        shape=Shape.EACH,
        client=compute_client("networkFirewallPolicies"),
        part="compute.regionFirewallPolicies",
        schema="FirewallPolicy",
        items="firewallPolicies",
        permissions=("compute.networkFirewallPolicies.list", "compute.regionNetworkFirewallPolicies.list"),
        doc="the project's regional network firewall policies (FirewallPolicy with `region`, rules and "
        "associations), from one aggregated listing",
        envelope=REGION_FIREWALL_POLICY_LIST,
    )

    # --- the networks controls (issue 13): load-balancer logging, Cloud DNS
    BACKEND_SERVICES = dataclasses.replace(
        _compute_list("backendServices", "BackendService", "", locations=("region",), global_scope=True),
        # The aggregated listing holds global and regional backend services: each has its own permission.
        permissions=("compute.backendServices.list", "compute.regionBackendServices.list"),
        doc="global and regional backend services (without a `region`: global), with their logConfig",
    )
    MANAGED_ZONES = KindSpec(
        name="managedZones",
        api=DNS.name,
        method="dns.managedZones.list",
        # One discovery listing, paged, read by custom code (the generic listings are Compute's and Logging's).
        shape=Shape.EACH,
        client=CLOUD_DNS,
        part="dns.managedZones",
        schema="ManagedZone",
        items="managedZones",
        permissions=("dns.managedZones.list",),
        doc="the project's Cloud DNS managed zones (ManagedZone, public and private, with dnssecConfig and its "
        "defaultKeySpecs); a project without the Cloud DNS API has none",
        envelope=MANAGED_ZONES_ANSWER,
    )
    DNS_POLICIES = KindSpec(
        name="dnsPolicies",
        api=DNS.name,
        method="dns.policies.list",
        shape=Shape.EACH,
        client=CLOUD_DNS,
        part="dns.policies",
        schema="Policy",
        items="policies",
        permissions=("dns.policies.list",),
        doc="the project's Cloud DNS server policies (Policy: enableLogging and the networks it applies to); a "
        "project without the Cloud DNS API has none",
        envelope=DNS_POLICIES_ANSWER,
    )
    # --- the third catalogue: logging and monitoring (CIS 2.4-2.11, 2.13, 2.15)
    ALERT_POLICIES = KindSpec(
        name="alertPolicies",
        api=MONITORING.name,
        method="monitoring.projects.alertPolicies.list",
        # One paged listing under `projects/P` through the discovery client (custom fetch: the
        # generic per-parent listing is Logging's own connection).
        shape=Shape.EACH,
        client=ALERT_POLICIES_CLIENT,
        part="monitoring.alertPolicies",
        schema="AlertPolicy",
        items="alertPolicies",
        permissions=("monitoring.alertPolicies.list",),
        doc="the project's Cloud Monitoring alert policies (AlertPolicy, with conditions), one paged listing",
        envelope=ALERT_POLICIES_ANSWER,
    )
    ENABLED_SERVICES = KindSpec(
        name="enabledServices",
        api=SERVICEUSAGE.name,
        method="serviceusage.services.list",
        # One paged listing under `projects/P` with `filter=state:ENABLED` (custom fetch: the filter).
        shape=Shape.EACH,
        client=SERVICE_USAGE,
        part="serviceUsage.services",
        schema="GoogleApiServiceusageV1Service",
        items="services",
        permissions=("serviceusage.services.list",),
        doc="the services (APIs) enabled on the project (Service, `state: ENABLED`), one filtered listing",
        envelope=SERVICES_ANSWER,
    )
    ACCESS_APPROVAL_SETTINGS = KindSpec(
        name="accessApprovalSettings",
        api=ACCESSAPPROVAL.name,
        method="accessapproval.projects.getAccessApprovalSettings",
        shape=Shape.SINGLE,
        client=ACCESS_APPROVAL,
        # A list of at most one: none is "never configured" (the read answers 404 NOT_FOUND), and a
        # project without the `accessApproval` group has the API disabled, as for every group.
        part="accessApproval.settings",
        schema="AccessApprovalSettings",
        permissions=("accessapproval.settings.get",),
        doc="the project's AccessApprovalSettings as a one-element list; none when Access Approval was never "
        "configured for it (NOT_FOUND)",
        envelope=ACCESS_APPROVAL_ANSWER,
    )
    # --- compute instances (CIS 4.1-4.8, 4.11): the project's common instance metadata
    COMPUTE_PROJECT = KindSpec(
        name="computeProject",
        api=COMPUTE.name,
        method="compute.projects.get",
        shape=Shape.SINGLE,
        client=COMPUTE_PROJECTS,
        part="computeProject",
        schema="Project",
        permissions=("compute.projects.get",),
        doc="the project as Compute Engine sees it (compute v1 Project: commonInstanceMetadata, "
        "defaultServiceAccount), one projects.get, as a one-element list",
        envelope=COMPUTE_PROJECT_ANSWER,
    )
    # --- the identity catalogue: Cloud KMS keys, API keys, Essential Contacts (CIS 1.9-1.16)
    KEY_RINGS = KindSpec(
        name="keyRings",
        api=CLOUDKMS.name,
        # Key rings live per location and KMS lists them location by location: the locations once,
        # then each location's rings, each ring's keys, and the IAM policy of each ring and key.
        method="cloudkms.projects.locations.list",
        shape=Shape.EACH,
        client=KMS_CLIENT,
        part="kms.keyRings",
        schema="KeyRing",
        items="locations",
        reads=(
            "cloudkms.projects.locations.keyRings.list",
            "cloudkms.projects.locations.keyRings.getIamPolicy",
            "cloudkms.projects.locations.keyRings.cryptoKeys.list",
            "cloudkms.projects.locations.keyRings.cryptoKeys.getIamPolicy",
        ),
        permissions=(
            "cloudkms.locations.list",
            "cloudkms.keyRings.list",
            "cloudkms.keyRings.getIamPolicy",
            "cloudkms.cryptoKeys.list",
            "cloudkms.cryptoKeys.getIamPolicy",
        ),
        doc="the project's Cloud KMS key rings (KeyRing) of every location, each with its IAM Policy "
        "(version 3) under `iamPolicy` and its CryptoKeys under `cryptoKeys`, each key with its own "
        "`iamPolicy`: 1 + locations + 2 x rings + keys calls",
        envelope=KMS_LOCATIONS_ANSWER,
    )
    API_KEYS = KindSpec(
        name="apiKeys",
        api=APIKEYS.name,
        method="apikeys.projects.locations.keys.list",
        shape=Shape.EACH,
        client=APIKEYS_CLIENT,
        part="apiKeys.keys",
        schema="V2Key",
        items="keys",
        permissions=("apikeys.keys.list",),
        doc="the project's API keys (V2Key, without the key string; deleted keys left out), one listing "
        "of `projects/P/locations/global`",
        envelope=API_KEYS_ANSWER,
    )
    ESSENTIAL_CONTACTS = KindSpec(
        name="essentialContacts",
        api=ESSENTIALCONTACTS.name,
        method="essentialcontacts.projects.contacts.compute",
        shape=Shape.EACH,
        client=CONTACTS_CLIENT,
        part="essentialContacts.contacts",
        schema="GoogleCloudEssentialcontactsV1Contact",
        items="contacts",
        permissions=("essentialcontacts.contacts.list",),
        doc="the contacts Google notifies about the project (GoogleCloudEssentialcontactsV1Contact): its own "
        "and those inherited from its folders and organisation, one `contacts:compute` of every category",
        envelope=CONTACTS_ANSWER,
    )
    # --- BigQuery and Dataproc (CIS 7.1-7.3, 8.1)
    BIGQUERY_DATASETS = KindSpec(
        name="bigqueryDatasets",
        api=BIGQUERY.name,
        method="bigquery.datasets.list",
        shape=Shape.EACH,
        client=BIGQUERY_CLIENT,
        part="bigquery.datasets",
        schema="Dataset",
        items="datasets",
        reads=("bigquery.datasets.get",),
        # Listing datasets needs no permission of its own: it shows those the caller may `get`.
        permissions=("bigquery.datasets.get",),
        doc="the project's BigQuery datasets (Dataset), each read by one datasets.get: the listing lacks "
        "`access` and `defaultEncryptionConfiguration`",
        envelope=DATASETS_ANSWER,
    )
    BIGQUERY_TABLES = KindSpec(
        name="bigqueryTables",
        api=BIGQUERY.name,
        method="bigquery.tables.list",
        shape=Shape.EACH,
        client=BIGQUERY_CLIENT,
        part="bigquery.tables",
        schema="Table",
        items="tables",
        reads=("bigquery.datasets.list", "bigquery.tables.get"),
        permissions=("bigquery.datasets.get", "bigquery.tables.list", "bigquery.tables.get"),
        doc="the tables of every BigQuery dataset of the project (Table, views included): one datasets.list, "
        "one tables.list per dataset and one tables.get (BASIC view) per table, since the listing lacks "
        "`encryptionConfiguration`",
        envelope=TABLES_ANSWER,
    )
    DATAPROC_CLUSTERS = KindSpec(
        name="dataprocClusters",
        api=DATAPROC.name,
        method="dataproc.projects.regions.clusters.list",
        shape=Shape.EACH,
        client=DATAPROC_CLUSTERS,
        part="dataproc.clusters",
        schema="Cluster",
        items="clusters",
        permissions=("dataproc.clusters.list",),
        doc="the project's Dataproc clusters (Cluster) in each region the configuration names "
        "(every scope's `region.allowed`, multi-regions left out): one listing per region, since Dataproc "
        "has no listing of all regions; a cluster in another region is not seen",
        envelope=CLUSTERS_ANSWER,
    )


Kind.ALL = tuple(Kind)


@dataclass(frozen=True, slots=True)
class Read:
    """A call made outside any kind's collection: its method, client, permissions and answer.

    Scope discovery (`monitor/collect/estate.py`) lists the estate below the configured
    organisation and folders with these; they are checked, observed and granted like the
    rows' own calls.
    """

    method: str  # the API method id: the `method` metric label and the stand-in route
    api: str
    client: Client
    permissions: tuple[str, ...]
    envelope: Envelope
    doc: str


#: What scope discovery reads: the folders below each root, and the projects under each of them.
DISCOVERY_READS: tuple[Read, ...] = (
    Read(
        method="cloudresourcemanager.folders.list",
        api=CRM.name,
        client=FOLDERS,
        permissions=("resourcemanager.folders.list",),
        envelope=Envelope(items="folders", item_fields=("name", "parent"), fields=("nextPageToken",)),
        doc="scope discovery: the folders directly under the organisation and each folder, level by level",
    ),
    Read(
        method="cloudresourcemanager.projects.list",
        api=CRM.name,
        client=PROJECTS,
        permissions=("resourcemanager.projects.list",),
        # A listed project without its state could be a deleted one: `state` must be there.
        envelope=Envelope(items="projects", item_fields=("name", "projectId", "state"), fields=("nextPageToken",)),
        doc="scope discovery: the projects directly under the organisation and each folder",
    ),
)

#: Permissions read outside the kind table (the least-privilege role holds these too).
OTHER_READS: Mapping[str, str] = MappingProxyType(
    {
        "logging.logEntries.list": "the audit-log poller's entries:list (Admin Activity entries, for drift re-checks)",
        **{permission: read.doc for read in DISCOVERY_READS for permission in read.permissions},
    }
)


#: The walks' reads beyond their rows' own method, by API method id.
_WALK_READS: Mapping[str, Envelope] = MappingProxyType(
    {
        "cloudresourcemanager.projects.get": PROJECT_ANSWER,
        "cloudresourcemanager.folders.get": FOLDER_ANSWER,
        "cloudresourcemanager.organizations.get": ORGANIZATION_ANSWER,
        "cloudresourcemanager.folders.getIamPolicy": POLICY_ANSWER,
        "cloudresourcemanager.organizations.getIamPolicy": POLICY_ANSWER,
        "logging.folders.sinks.list": SINKS_ANSWER,
        "logging.organizations.sinks.list": SINKS_ANSWER,
    }
)


#: The answers of the second catalogue's reads, by API method id (the rows' own, their per-resource
#: reads, and the routes no row reads yet): the stand-in's hostile faults break them by these envelopes.
NEXT_ANSWERS: Mapping[str, Envelope] = MappingProxyType(
    {
        "storage.buckets.list": BUCKETS_ANSWER,
        "storage.buckets.getIamPolicy": BUCKET_POLICY_ANSWER,
        "storage.buckets.get": BUCKET_ANSWER,
        "logging.projects.locations.buckets.get": LOG_BUCKET_ANSWER,
        "sql.instances.list": SQL_INSTANCES_ANSWER,
        "sql.backupRuns.list": BACKUP_RUNS_ANSWER,
        "iam.projects.serviceAccounts.list": SERVICE_ACCOUNTS_ANSWER,
        "iam.projects.serviceAccounts.keys.list": KEYS_ANSWER,
        "orgpolicy.projects.policies.getEffectivePolicy": EFFECTIVE_POLICY_ANSWER,
        "compute.firewallPolicies.list": FIREWALL_POLICY_LIST,
        "compute.networkFirewallPolicies.list": FIREWALL_POLICY_LIST,
        "compute.regionNetworkFirewallPolicies.list": FIREWALL_POLICY_LIST,
        "compute.firewallPolicies.listAssociations": Envelope(
            kind="compute#firewallPoliciesListAssociationsResponse",
            items="associations",
            item_fields=("attachmentTarget", "firewallPolicyId"),
            fields=(),
        ),
        "compute.firewallPolicies.getAssociation": Envelope(required=("attachmentTarget",)),
        "compute.networks.getEffectiveFirewalls": Envelope(
            items="firewallPolicys", item_fields=("name", "type"), fields=("firewalls",)
        ),
        # the identity catalogue's per-resource reads (KMS key rings and keys, their policies)
        "cloudkms.projects.locations.keyRings.list": KEY_RINGS_ANSWER,
        "cloudkms.projects.locations.keyRings.getIamPolicy": POLICY_ANSWER,
        "cloudkms.projects.locations.keyRings.cryptoKeys.list": CRYPTO_KEYS_ANSWER,
        "cloudkms.projects.locations.keyRings.cryptoKeys.getIamPolicy": POLICY_ANSWER,
        # BigQuery's per-dataset and per-table reads, Dataproc's per-region listings
        "bigquery.datasets.list": DATASETS_ANSWER,
        "bigquery.datasets.get": DATASET_ANSWER,
        "bigquery.tables.list": TABLES_ANSWER,
        "bigquery.tables.get": TABLE_ANSWER,
        "dataproc.projects.regions.clusters.list": CLUSTERS_ANSWER,
    }
)


def answers() -> Mapping[str, Envelope]:
    """API method id -> the envelope of its 2xx answer, for every call a kind's collection (or discovery) makes,
    and the second catalogue's reads."""
    found: dict[str, Envelope] = dict(_WALK_READS)
    found.update(NEXT_ANSWERS)
    found.update((read.method, read.envelope) for read in DISCOVERY_READS)
    for kind in Kind:
        if found.setdefault(kind.spec.method, kind.spec.envelope) != kind.spec.envelope:
            raise ValueError(f"kind {kind}: two envelopes for the answer of {kind.spec.method}")
    return MappingProxyType(found)


def permissions() -> frozenset[str]:
    """Every permission the read-only role must grant: the rows' and the other readers'."""
    return frozenset(p for kind in Kind for p in kind.spec.permissions) | frozenset(OTHER_READS)


def clients() -> Mapping[str, Client]:
    """Every client a kind reads with, by name (the collectors' client map)."""
    found: dict[str, Client] = {}
    for kind in Kind:
        for client in kind.spec.clients:
            if found.setdefault(client.name, client) != client:
                raise ValueError(f"two clients named {client.name!r}: {found[client.name]} and {client}")
    return MappingProxyType(found)
