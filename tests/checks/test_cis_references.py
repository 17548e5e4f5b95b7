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
    "LOG-01": (("2.1",), ("2.1",)),  # Cloud Audit Logging configured properly
    "LOG-02": (("2.2",), ("2.3",)),  # sinks configured for all log entries
    "LOG-04": (("2.3",), ("2.4",)),  # log buckets' retention locked
    "LOG-03": (("2.4", "2.5", "2.6", "2.7", "2.8", "2.9"), ("2.5", "2.6", "2.7", "2.8", "2.9", "2.10")),
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
}  # fmt: skip


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
    assert "| 4.0: 2.4, 2.5, 2.6, 2.7, 2.8, 2.9 · 5.0: 2.5, 2.6, 2.7, 2.8, 2.9, 2.10 |" in rows["LOG-03"]
    assert "| No database or admin port from the internet | — | — |" in rows["FW-03"]
    verbose = catalogue_table(registry, verbose=True).splitlines()
    at = {line.split()[0]: index for index, line in enumerate(verbose) if not line.startswith(" ")}
    assert verbose[at["FW-10"] + 2] == "    cis: CIS GCP Foundations 4.0: 3.8 · 5.0: 3.10"  # unclipped, unlike the row
    assert verbose[at["FW-03"] + 2] == "    cis: no CIS recommendation"
