"""BigQuery controls: DATA-40 (no public dataset), DATA-41 (tables on a customer-managed key)
and DATA-42 (datasets default to a customer-managed key), CIS 7.1-7.3.

A dataset is read as datasets.get answers it (its `access` list and
`defaultEncryptionConfiguration`), a table as tables.get does (`encryptionConfiguration`):
the listings lack both, so the kinds read each resource again. Results name resources as
Cloud Asset Inventory does: `//bigquery.googleapis.com/projects/P/datasets/D[/tables/T]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from checks.kernel import JSON, Judge, Judgement, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.cmek import key_name, section
from checks.snapshot import Kind, Snapshot

HOST = "//bigquery.googleapis.com/"
#: the members that open a dataset to anyone: `allUsers` (anonymous) and any Google account
PUBLIC = frozenset({"allUsers", "allAuthenticatedUsers"})
#: where an access entry names a member (`iamMember`) or one of BigQuery's special groups
_MEMBER_FIELDS = ("specialGroup", "iamMember")
#: tables that keep no data of BigQuery's own: a view is a query, an external table reads another store
_NO_STORAGE = frozenset({"VIEW", "EXTERNAL"})
#: datasets that hold no tables of their own: a linked dataset shows another project's, an external one a catalog's
_NO_TABLES = frozenset({"LINKED", "EXTERNAL"})


def _reference(resource: JSON, field: str) -> JSON:
    value = resource.get(field)
    return value if isinstance(value, dict) else {}


def dataset_id(dataset: JSON) -> str:
    """The dataset's id: `datasetReference.datasetId`, else the part of `id` after `project:`."""
    found = _reference(dataset, "datasetReference").get("datasetId")
    return str(found or str(dataset.get("id") or "?").rpartition(":")[2])


def table_ids(table: JSON) -> tuple[str, str]:
    """(dataset id, table id) from `tableReference`, else from `id` (`project:dataset.table`)."""
    reference = _reference(table, "tableReference")
    if reference.get("datasetId") and reference.get("tableId"):
        return str(reference["datasetId"]), str(reference["tableId"])
    dataset, _, name = str(table.get("id") or "?.?").rpartition(":")[2].partition(".")
    return dataset or "?", name or "?"


def _per(resources: Iterable[JSON], name: Callable[[JSON], tuple[str, str]], judge: Judge[JSON]) -> Iterator[Finding]:
    """One finding per resource, `name` giving (full name, how reasons say it); unreadable data is its `error`."""
    for resource in resources:
        full, who = name(resource)
        judged = attempt(judge, resource, who)
        if isinstance(judged, Unjudgeable):
            yield Finding(full, Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(full)


def per_dataset(scope: str, datasets: Iterable[JSON], judge: Judge[JSON]) -> Iterator[Finding]:
    def name(dataset: JSON) -> tuple[str, str]:
        found = dataset_id(dataset)
        return f"{HOST}projects/{scope}/datasets/{found}", f"dataset {found}"

    return _per(datasets, name, judge)


def per_table(scope: str, tables: Iterable[JSON], judge: Judge[JSON]) -> Iterator[Finding]:
    def name(table: JSON) -> tuple[str, str]:
        dataset, found = table_ids(table)
        return f"{HOST}projects/{scope}/datasets/{dataset}/tables/{found}", f"table {dataset}.{found}"

    return _per(tables, name, judge)


def _kind_of(resource: JSON, default: str) -> str:
    """A resource's `type`; absent means the API's default (`TABLE`, `DEFAULT`)."""
    value = resource.get("type", default)
    if not isinstance(value, str) or not value:
        raise Unjudgeable("type", f"{value!r} is not a type")
    return value


# --- DATA-40 -----------------------------------------------------------------------------------


def public_entries(dataset: JSON) -> list[str]:
    """The access entries granting allUsers or allAuthenticatedUsers, as `ROLE to MEMBER (field)`."""
    access = dataset.get("access")
    if access is None:
        return []  # no entry at all (an empty list is left out): nobody is granted anything here
    if not isinstance(access, list):
        raise Unjudgeable("access", f"{access!r} is not a list")
    found: list[str] = []
    for index, entry in enumerate(access):
        if not isinstance(entry, dict):
            raise Unjudgeable(f"access[{index}]", f"{entry!r} is not an object")
        for field in _MEMBER_FIELDS:
            member = entry.get(field)
            if member is None:
                continue
            if not isinstance(member, str):
                raise Unjudgeable(f"access[{index}].{field}", f"{member!r} is not a member")
            if member in PUBLIC:
                role = entry.get("role")
                shown = f"{role} to {member} ({field})" if isinstance(role, str) and role else f"{member} ({field})"
                condition = entry.get("condition")
                title = condition.get("title") if isinstance(condition, dict) else None
                found.append(shown + (f" if {title!r}" if title else ""))
    return found


def judge_public(dataset: JSON, who: str) -> Judgement:
    grants = public_entries(dataset)
    if not grants:
        return Judgement(Verdict.PASS, f"{who}: no access entry grants allUsers or allAuthenticatedUsers")
    listed = "; ".join(grants)
    return Judgement(Verdict.FAIL, f"{who} is public: it grants {listed}", listed)


@control(
    id="DATA-40", title="No BigQuery dataset is public", area=Area.DATA, severity=Severity.CRITICAL,
    kinds=(Kind.BIGQUERY_DATASETS,), unit="dataset",
    references=References(cis=(("4.0", "7.1"), ("5.0", "7.1")), soc2=("CC6.1", "CC6.6"), sha="PUBLIC_DATASET"),
    rationale="An access entry for allUsers lets anyone on the internet query the dataset's tables, and one "
    "for allAuthenticatedUsers any Google account at all, not only the organisation's. Nothing else in "
    "BigQuery undoes such an entry: the organisation policy iam.allowedPolicyMemberDomains only refuses new "
    "ones.",
    remediation="Remove the entry: `bq show --format=prettyjson PROJECT:DATASET > ds.json`, delete the "
    "allUsers / allAuthenticatedUsers entries from `access`, then `bq update --source ds.json PROJECT:DATASET`; "
    "and refuse new ones with the organisation policy iam.allowedPolicyMemberDomains.",
    holds="The dataset's access list grants nothing to allUsers or allAuthenticatedUsers.",
    logic="Reads the dataset as datasets.get answers it at access policy version 3 (conditional entries keep "
    "their role and condition). Each entry of `access[]` names its member in one "
    "field; an entry whose `specialGroup` or `iamMember` is exactly `allUsers` or `allAuthenticatedUsers` "
    "makes the dataset public (fail), whatever its `role` and even under a `condition` (named in the reason). "
    "Other entries (`userByEmail`, `groupByEmail`, `domain`, the project groups, authorised views, routines "
    "and datasets) are not public. An absent `access` is an empty list (the API leaves empty lists out): "
    "pass. Table-level IAM policies are out of scope.",
    unknown="`access` that is not a list, an entry that is not an object, or a `specialGroup` / `iamMember` "
    "that is not a string is an error naming that field; a dataset the collector could not read fails the "
    "whole kind (error).",
)
def data40_public_datasets(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a dataset with an access entry for allUsers or allAuthenticatedUsers."""
    return per_dataset(snapshot.scope, snapshot.get(Kind.BIGQUERY_DATASETS), judge_public)


# --- DATA-41 -----------------------------------------------------------------------------------


def judge_table_key(table: JSON, who: str) -> Judgement | None:
    kind = _kind_of(table, "TABLE")
    if kind in _NO_STORAGE:
        return None
    setting = section(table, "encryptionConfiguration")
    key = key_name(setting, "kmsKeyName", "encryptionConfiguration.")
    if key is None:
        return Judgement(Verdict.FAIL, f"{who} ({kind}) is encrypted with a Google-managed key")
    return Judgement(Verdict.PASS, f"{who} ({kind}) is encrypted with the customer-managed key {key}", key)


@control(
    id="DATA-41", title="BigQuery tables are encrypted with a customer-managed key", area=Area.DATA,
    severity=Severity.MEDIUM, kinds=(Kind.BIGQUERY_TABLES,), unit="table",
    references=References(
        cis=(("4.0", "7.2"), ("5.0", "7.2")), soc2=("CC6.1",), sha="BIGQUERY_TABLE_CMEK_DISABLED"
    ),
    rationale="With a customer-managed key (CMEK) the organisation holds the key encrypting the table's data "
    "keys in Cloud KMS: it decides who may use it, sees every use in its audit logs, and can revoke it to "
    "make the data unreadable. A dataset's default key reaches only tables created after it was set; tables "
    "from before keep Google's key until rewritten.",
    remediation="Rewrite the table under a key: `bq cp --destination_kms_key "
    "projects/P/locations/L/keyRings/R/cryptoKeys/K DATASET.TABLE DATASET.TABLE` (the BigQuery service "
    "account needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key).",
    holds="The table's data is encrypted with a Cloud KMS key the organisation manages.",
    logic="Reads the table as tables.get (BASIC view) answers it. `type` decides the scope: absent is "
    "`TABLE` (the API's default); `VIEW` (a stored query) and `EXTERNAL` (data in another store) keep no "
    "data in BigQuery and are out of scope; every other type (`TABLE`, `MATERIALIZED_VIEW`, `SNAPSHOT`, "
    "`CLONE`, or one Google adds later) is judged. It passes when `encryptionConfiguration.kmsKeyName` names "
    "a Cloud KMS key, and fails when `encryptionConfiguration` or its `kmsKeyName` is absent or empty "
    "(Google-managed). The key's own state (disabled, destroyed, rotation) is out of scope.",
    unknown="A `type` that is not a non-empty string, an `encryptionConfiguration` that is not an object, or "
    "a `kmsKeyName` that is not a `projects/…/cryptoKeys/…` name is an error naming that field; a table or "
    "dataset the collector could not read fails the whole kind (error).",
)
def data41_table_cmek(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a table that stores data without a customer-managed key."""
    return per_table(snapshot.scope, snapshot.get(Kind.BIGQUERY_TABLES), judge_table_key)


# --- DATA-42 -----------------------------------------------------------------------------------


def judge_dataset_key(dataset: JSON, who: str) -> Judgement | None:
    kind = _kind_of(dataset, "DEFAULT")
    if kind in _NO_TABLES:
        return None
    setting = section(dataset, "defaultEncryptionConfiguration")
    key = key_name(setting, "kmsKeyName", "defaultEncryptionConfiguration.")
    if key is None:
        return Judgement(Verdict.FAIL, f"{who} sets no default customer-managed key: new tables get Google's")
    return Judgement(Verdict.PASS, f"{who} encrypts new tables with the customer-managed key {key}", key)


@control(
    id="DATA-42", title="BigQuery datasets set a default customer-managed key", area=Area.DATA,
    severity=Severity.MEDIUM, kinds=(Kind.BIGQUERY_DATASETS,), unit="dataset",
    references=References(cis=(("4.0", "7.3"), ("5.0", "7.3")), soc2=("CC6.1",), sha="DATASET_CMEK_DISABLED"),
    rationale="A dataset's default key is given to every table created in it without a key of its own, "
    "queries' destination tables included: without one, each new table silently takes Google's key and "
    "DATA-41 finds it only after the fact.",
    remediation="`bq update --default_kms_key projects/P/locations/L/keyRings/R/cryptoKeys/K PROJECT:DATASET` "
    "(then rewrite the tables created before it: DATA-41).",
    holds="The dataset names a Cloud KMS key as the default for the tables created in it.",
    logic="Reads the dataset as datasets.get answers it (the listing lacks the field). `type` decides the "
    "scope: absent is `DEFAULT` (the API's default); `LINKED` (a read-only link to another project's "
    "dataset) and `EXTERNAL` (a catalog's) hold no tables of their own and are out of scope. It passes when "
    "`defaultEncryptionConfiguration.kmsKeyName` names a Cloud KMS key, and fails when the object or its "
    "`kmsKeyName` is absent or empty. Whether existing tables use the key is DATA-41's.",
    unknown="A `type` that is not a non-empty string, a `defaultEncryptionConfiguration` that is not an "
    "object, or a `kmsKeyName` that is not a `projects/…/cryptoKeys/…` name is an error naming that field; "
    "a dataset the collector could not read fails the whole kind (error).",
)
def data42_dataset_default_cmek(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a dataset without a default customer-managed key."""
    return per_dataset(snapshot.scope, snapshot.get(Kind.BIGQUERY_DATASETS), judge_dataset_key)
