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
    Area.BKP: _numbered("BKP", 4),
    Area.DATA: ("DATA-02", "DATA-03"),
    Area.DRIFT: _numbered("DRIFT", 3),
    Area.FW: (*_numbered("FW", 10), "FW-13"),
    Area.IAM: _numbered("IAM", 9),
    Area.LOG: _numbered("LOG", 3),
    Area.ORG: _numbered("ORG", 3),
    Area.REG: (*_numbered("REG", 6), "REG-08"),
}


def ids(*areas: Area) -> list[str]:
    """The ids of `areas` (default: every area), in the registry's order."""
    return [cid for area in CATALOGUE if not areas or area in areas for cid in CATALOGUE[area]]
