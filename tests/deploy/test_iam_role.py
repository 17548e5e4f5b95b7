"""The least-privilege role is the kind table's: exactly the rows' permissions and the other readers'."""

from __future__ import annotations

from pathlib import Path

import yaml

from checks.kinds import DISCOVERY_READS, OTHER_READS, Kind, permissions

ROLE = Path(__file__).parents[2] / "deploy" / "iam" / "controlwatch-reader-role.yaml"
READ_VERBS = ("list", "get", "getIamPolicy")


def _granted() -> list[str]:
    granted: list[str] = yaml.safe_load(ROLE.read_text())["includedPermissions"]
    return granted


def test_the_role_grants_exactly_what_the_kind_rows_and_other_readers_read() -> None:
    granted = _granted()
    missing, extra = sorted(permissions() - set(granted)), sorted(set(granted) - permissions())
    assert not missing and not extra, (
        f"{ROLE.name} and the kind table (checks/kinds.py) differ: add {missing}, remove {extra}"
    )
    assert len(granted) == len(set(granted)), "a permission is listed twice"


def test_every_permission_reads_and_each_kind_is_covered() -> None:
    granted = set(_granted())
    assert all(p.rsplit(".", 1)[1] in READ_VERBS for p in granted), "the role is read-only"
    for kind in Kind:
        assert set(kind.spec.permissions) <= granted, kind
    assert set(OTHER_READS) <= granted


def test_scope_discovery_reads_are_granted_and_are_exactly_the_list_calls_it_makes() -> None:
    """Discovery lists folders and projects below the roots: those two `list` permissions, nothing more."""
    granted = set(_granted())
    needed = {p for read in DISCOVERY_READS for p in read.permissions}
    assert needed == {"resourcemanager.folders.list", "resourcemanager.projects.list"}
    assert needed <= granted and needed <= set(OTHER_READS)
    assert {read.method for read in DISCOVERY_READS} == {
        "cloudresourcemanager.folders.list",
        "cloudresourcemanager.projects.list",
    }
