"""The expected catalogue: every control id, by area, in registry order (the README's controls table).

The ONE list the tests hold: the per-area tests, the demo's planted findings and the registry
itself are all checked against it, so a control added, dropped or renumbered shows up in
exactly one place.
"""

from __future__ import annotations

from checks.model import Area


def _numbered(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{n:02d}" for n in range(1, count + 1))


#: The Cloud SQL database-flag controls (checks/sqlflags.py), CIS 6.1.2-6.3.7: DATA-10 to DATA-26.
SQL_FLAGS: tuple[str, ...] = tuple(f"DATA-{n}" for n in range(10, 27))

# In the registry's order: by id prefix, then number.
CATALOGUE: dict[Area, tuple[str, ...]] = {
    Area.BKP: _numbered("BKP", 8),
    Area.DATA: (*_numbered("DATA", 3), *SQL_FLAGS, "DATA-40", "DATA-41", "DATA-42", "DATA-43"),
    Area.DRIFT: _numbered("DRIFT", 3),
    Area.FW: _numbered("FW", 13),
    Area.IAM: _numbered("IAM", 16),  # IAM-10..16: the identity catalogue (KMS keys, API keys, contacts)
    Area.LOG: _numbered("LOG", 6),
    Area.ORG: _numbered("ORG", 3),
    Area.REG: _numbered("REG", 8),
    Area.VM: _numbered("VM", 9),
}

#: The second catalogue's Cloud SQL controls (checks/sqlbackup.py, sqlaccess.py, sqlregion.py),
#: in registry order: they join their areas beside the Compute controls of the area modules.
#: The networks controls (checks/network.py, checks/dns.py, checks/loadbalancing.py), by area; each
#: area's ids stay in registry order, whichever block appends them.
NETWORKS: dict[Area, tuple[str, ...]] = {
    Area.FW: ("FW-14", "FW-15", "FW-16", "FW-17"),
    Area.LOG: ("LOG-10", "LOG-11"),
}
for _area, _ids in NETWORKS.items():
    CATALOGUE[_area] = tuple(sorted({*CATALOGUE[_area], *_ids}, key=lambda cid: int(cid.partition("-")[2])))

CLOUD_SQL: tuple[str, ...] = ("BKP-05", "BKP-06", "BKP-07", "BKP-08", "DATA-01", "FW-11", "FW-12", "REG-07")

def ids(*areas: Area) -> list[str]:
    """The ids of `areas` (default: every area), in the registry's order."""
    return [cid for area in CATALOGUE if not areas or area in areas for cid in CATALOGUE[area]]


def compute_ids(area: Area) -> list[str]:
    """The ids of `area` its own module declares (`checks/backup.py` for BKP): the Cloud SQL ones left out."""
    return [cid for cid in ids(area) if cid not in CLOUD_SQL]
