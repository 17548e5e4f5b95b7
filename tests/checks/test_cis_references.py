"""CIS references as data: each control names the CIS GCP Foundations recommendations it judges,
by benchmark version (v4.0.0 and its v5.0.0 renumbering), and every rendering says the same.

The mapping below was checked recommendation by recommendation against the benchmark's titles
(v5.0 inserted 1.1.x, 2.2, 3.8-3.9 and 6.6, shifting what follows them)."""

from __future__ import annotations

import re

import pytest

from checks import default_registry
from checks.registry import CIS_VERSIONS, References
from monitor.commands.catalogue import catalogue_markdown, catalogue_table, control_json

DOTTED = re.compile(r"[1-9][0-9]*(\.[1-9][0-9]*)+")

# control: (v4.0 ids, v5.0 ids); every control not listed judges no CIS recommendation.
MAPPING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IAM-06": (("1.1",), ("1.2",)),  # corporate login credentials are used
    "IAM-08": (("1.4",), ("1.5",)),  # only GCP-managed service-account keys
    "IAM-02": (("1.5",), ("1.6",)),  # service account has no admin privileges
    "IAM-03": (("1.6",), ("1.7",)),  # no Service Account User / Token Creator at project level
    "IAM-09": (("1.7",), ("1.8",)),  # user-managed keys rotated every 90 days
    "IAM-04": (("1.8",), ("1.9",)),  # separation of duties, service-account roles
    "IAM-05": (("1.11",), ("1.12",)),  # separation of duties, KMS roles
    "IAM-10": (("1.9",), ("1.10",)),  # Cloud KMS cryptokeys not anonymously or publicly accessible
    "IAM-11": (("1.10",), ("1.11",)),  # KMS encryption keys rotated within 90 days
    "IAM-12": (("1.12",), ("1.13",)),  # API keys only exist for active services
    "IAM-13": (("1.13",), ("1.14",)),  # API keys restricted to specified hosts and apps (Manual in CIS)
    "IAM-14": (("1.14",), ("1.15",)),  # API keys restricted to the APIs the application needs
    "IAM-15": (("1.15",), ("1.16",)),  # API keys rotated every 90 days
    "IAM-16": (("1.16",), ("1.17",)),  # Essential Contacts configured for the organisation
    "LOG-01": (("2.1",), ("2.1",)),  # Cloud Audit Logging configured properly
    "LOG-02": (("2.2",), ("2.3",)),  # sinks configured for all log entries
    "LOG-04": (("2.3",), ("2.4",)),  # log buckets' retention locked
    # log metric filter and alert per change: ownership, audit config, custom roles, firewall rules, routes,
    # networks, Cloud Storage IAM, SQL instance configuration
    "LOG-03": (("2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11"),
               ("2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12")),
    "LOG-05": (("2.13",), ("2.14",)),  # Cloud Asset Inventory is enabled
    "LOG-06": (("2.15",), ("2.16",)),  # Access Approval is enabled
    "FW-07": (("3.1",), ("3.1",)),  # default network does not exist
    "FW-01": (("3.6",), ("3.6",)),  # SSH restricted from the internet
    "FW-02": (("3.7",), ("3.7",)),  # RDP restricted from the internet
    "FW-10": (("3.8",), ("3.10",)),  # VPC flow logs for every subnet
    "FW-09": (("4.9",), ("4.9",)),  # instances have no public IP
    "FW-13": (("5.1",), ("5.1",)),  # bucket not anonymously or publicly accessible
    "DATA-40": (("7.1",), ("7.1",)),  # BigQuery datasets not anonymously or publicly accessible
    "DATA-41": (("7.2",), ("7.2",)),  # all BigQuery tables encrypted with CMEK
    "DATA-42": (("7.3",), ("7.3",)),  # a default CMEK for all BigQuery datasets
    "DATA-43": (("8.1",), ("8.1",)),  # Dataproc cluster encrypted with CMEK
    "DATA-02": (("5.2",), ("5.2",)),  # uniform bucket-level access
    "DATA-01": (("6.4",), ("6.4",)),  # Cloud SQL requires SSL
    "FW-11": (("6.5",), ("6.5",)),  # no authorized network 0.0.0.0/0
    "FW-12": (("6.6",), ("6.7",)),  # Cloud SQL has no public IP
    "BKP-05": (("6.7",), ("6.8",)),  # Cloud SQL automated backups
    # Cloud SQL database flags: v5.0 kept 6.1.2-6.3.7 (its new 6.6 comes after them).
    "DATA-10": (("6.1.2",), ("6.1.2",)),  # MySQL skip_show_database on
    "DATA-11": (("6.1.3",), ("6.1.3",)),  # MySQL local_infile off
    "DATA-12": (("6.2.1",), ("6.2.1",)),  # PostgreSQL log_error_verbosity DEFAULT or stricter
    "DATA-13": (("6.2.2",), ("6.2.2",)),  # PostgreSQL log_connections on
    "DATA-14": (("6.2.3",), ("6.2.3",)),  # PostgreSQL log_disconnections on
    "DATA-15": (("6.2.4",), ("6.2.4",)),  # PostgreSQL log_statement set appropriately
    "DATA-16": (("6.2.5",), ("6.2.5",)),  # PostgreSQL log_min_messages at minimum WARNING
    "DATA-17": (("6.2.6",), ("6.2.6",)),  # PostgreSQL log_min_error_statement ERROR or stricter
    "DATA-18": (("6.2.7",), ("6.2.7",)),  # PostgreSQL log_min_duration_statement -1
    "DATA-19": (("6.2.8",), ("6.2.8",)),  # PostgreSQL cloudsql.enable_pgaudit on
    "DATA-20": (("6.3.1",), ("6.3.1",)),  # SQL Server external scripts enabled off
    "DATA-21": (("6.3.2",), ("6.3.2",)),  # SQL Server cross db ownership chaining off
    "DATA-22": (("6.3.3",), ("6.3.3",)),  # SQL Server user connections non-limiting
    "DATA-23": (("6.3.4",), ("6.3.4",)),  # SQL Server user options not configured
    "DATA-24": (("6.3.5",), ("6.3.5",)),  # SQL Server remote access off
    "DATA-25": (("6.3.6",), ("6.3.6",)),  # SQL Server 3625 (trace flag) on
    "DATA-26": (("6.3.7",), ("6.3.7",)),  # SQL Server contained database authentication off
    "VM-01": (("4.1",), ("4.1",)),  # instances not using the default service account
    "VM-02": (("4.2",), ("4.2",)),  # not the default service account with full Cloud API access
    "VM-03": (("4.3",), ("4.3",)),  # "Block project-wide SSH keys" enabled
    "VM-04": (("4.4",), ("4.4",)),  # OS Login enabled
    "VM-05": (("4.5",), ("4.5",)),  # "Enable connecting to serial ports" not enabled
    "VM-06": (("4.6",), ("4.6",)),  # IP forwarding not enabled
    "VM-07": (("4.7",), ("4.7",)),  # critical VMs' disks encrypted with CSEK
    "VM-08": (("4.8",), ("4.8",)),  # Shielded VM enabled
    "VM-09": (("4.11",), ("4.11",)),  # Confidential Computing enabled
}  # fmt: skip
# The networks controls of issue 13 (legacy networks, DNSSEC, DNS and load-balancer logging).
MAPPING.update({
    "FW-14": (("3.2",), ("3.2",)),  # legacy networks do not exist
    "FW-15": (("3.3",), ("3.3",)),  # DNSSEC enabled for Cloud DNS
    "FW-16": (("3.4",), ("3.4",)),  # RSASHA1 not used for the key-signing key
    "FW-17": (("3.5",), ("3.5",)),  # RSASHA1 not used for the zone-signing key
    "LOG-10": (("2.12",), ("2.13",)),  # Cloud DNS logging for all VPC networks
    "LOG-11": (("2.16",), ("2.17",)),  # logging enabled for HTTP(S) load balancers
})  # fmt: skip


def _by_version(refs: References) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return refs.cis_ids("4.0"), refs.cis_ids("5.0")


def test_every_entry_is_a_known_version_and_a_dotted_id() -> None:
    for item in default_registry():
        for version, rec in item.meta.references.cis:
            assert version in CIS_VERSIONS and DOTTED.fullmatch(rec), (item.meta.id, version, rec)


def test_the_mapping_is_pinned_control_by_control() -> None:
    found = {c.meta.id: _by_version(c.meta.references) for c in default_registry() if c.meta.references.cis}
    assert found == MAPPING


def test_a_control_naming_a_v5_id_names_its_v4_id() -> None:
    """v5.0 renumbers v4.0; here every recommendation judged exists in both, one for one."""
    for item in default_registry():
        v4, v5 = _by_version(item.meta.references)
        assert len(v4) == len(v5), item.meta.id


@pytest.mark.parametrize(
    "cis",
    [
        (("4.0", "3.x"),),  # a wildcard matches no recommendation
        (("4.0", "2.4–2.9"),),  # nor does a range
        (("4", "3.6"),),
        (("6.0", "3.6"),),
        (("4.0", "3"),),  # a section, not a recommendation
        (("4.0", "3.06"),),
        (("4.0", "3.6"), ("4.0", "3.6")),
    ],
)
def test_a_malformed_reference_is_refused_at_declaration(cis: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ValueError, match="CIS reference"):
        References(cis=cis)


def test_json_lists_each_entry_as_an_object() -> None:
    controls = {c.meta.id: c.meta for c in default_registry()}
    assert control_json(controls["FW-10"])["references"]["cis"] == [
        {"version": "4.0", "id": "3.8"},
        {"version": "5.0", "id": "3.10"},
    ]
    assert control_json(controls["FW-03"])["references"]["cis"] == []
    assert [e["id"] for e in control_json(controls["LOG-03"])["references"]["cis"]] == [
        *MAPPING["LOG-03"][0], *MAPPING["LOG-03"][1]]  # fmt: skip


def test_tables_render_each_version_compactly() -> None:
    registry = default_registry()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in catalogue_markdown(registry).splitlines()}
    assert "| 4.0: 6.6 · 5.0: 6.7 |" in rows["FW-12"]
    assert (
        "| 4.0: 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 2.10, 2.11 · 5.0: 2.5, 2.6, 2.7, 2.8, 2.9, 2.10, 2.11, 2.12 |"
        in rows["LOG-03"]
    )
    assert "| No database or admin port from the internet | — | — |" in rows["FW-03"]
    verbose = catalogue_table(registry, verbose=True).splitlines()
    at = {line.split()[0]: index for index, line in enumerate(verbose) if not line.startswith(" ")}

    def cis_line(control: str) -> str:
        return next(line for line in verbose[at[control] + 1 :] if line.startswith("    cis: "))

    assert cis_line("FW-10") == "    cis: CIS GCP Foundations 4.0: 3.8 · 5.0: 3.10"  # unclipped, unlike the row
    assert cis_line("FW-03") == "    cis: no CIS recommendation"
