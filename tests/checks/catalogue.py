"""The expected catalogue: every control id, by area, in registry order (the README's controls table).

The ONE list the tests hold: the per-area tests, the demo's planted findings and the registry
itself are all checked against it, so a control added, dropped or renumbered shows up in
exactly one place.
"""

from __future__ import annotations

from checks.model import Area


def _numbered(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{n:02d}" for n in range(1, count + 1))


# In the registry's order: by id prefix, then number.
CATALOGUE: dict[Area, tuple[str, ...]] = {
    Area.BKP: _numbered("BKP", 8),
    Area.DATA: (*_numbered("DATA", 3), "DATA-40", "DATA-41", "DATA-42", "DATA-43"),
    Area.DRIFT: _numbered("DRIFT", 3),
    Area.FW: _numbered("FW", 13),
    Area.IAM: _numbered("IAM", 9),
    Area.LOG: _numbered("LOG", 4),
    Area.ORG: _numbered("ORG", 3),
    Area.REG: _numbered("REG", 8),
}

#: The second catalogue's Cloud SQL controls (checks/sqlbackup.py, sqlaccess.py, sqlregion.py),
#: in registry order: they join their areas beside the Compute controls of the area modules.
CLOUD_SQL: tuple[str, ...] = ("BKP-05", "BKP-06", "BKP-07", "BKP-08", "DATA-01", "FW-11", "FW-12", "REG-07")


def ids(*areas: Area) -> list[str]:
    """The ids of `areas` (default: every area), in the registry's order."""
    return [cid for area in CATALOGUE if not areas or area in areas for cid in CATALOGUE[area]]


def compute_ids(area: Area) -> list[str]:
    """The ids of `area` its own module declares (`checks/backup.py` for BKP): the Cloud SQL ones left out."""
    return [cid for cid in ids(area) if cid not in CLOUD_SQL]
