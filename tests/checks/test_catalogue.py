"""The registry against the expected catalogue: every area, every id, each in its own module."""

from __future__ import annotations

from types import ModuleType

import pytest

from checks import auditlog, backup, default_registry, drift, firewall, iam, keys, orgpolicy, region, storage
from checks.model import Area
from checks.registry import controls_in
from tests.checks.catalogue import CATALOGUE, ids

# An area's controls live in the modules of the resources they judge (FW-13 with the buckets).
MODULES: dict[Area, tuple[ModuleType, ...]] = {
    Area.FW: (firewall, storage), Area.IAM: (iam, keys), Area.BKP: (backup,), Area.REG: (region, storage),
    Area.LOG: (auditlog,), Area.DRIFT: (drift,), Area.DATA: (storage,), Area.ORG: (orgpolicy,),
}


def test_the_registry_holds_exactly_the_catalogue_in_order() -> None:
    assert default_registry().ids() == ids()


def test_the_catalogue_names_every_area() -> None:
    assert set(CATALOGUE) == set(Area) == set(MODULES)


@pytest.mark.parametrize("area", list(Area), ids=[area.name for area in Area])
def test_each_area_module_declares_exactly_its_catalogue(area: Area) -> None:
    declared = [c for module in MODULES[area] for c in controls_in(vars(module).values()) if c.meta.area is area]
    assert sorted(c.meta.id for c in declared) == sorted(CATALOGUE[area])
    assert {c.meta.area for c in declared} == {area}
    assert all(c.meta.id.startswith(CATALOGUE[area][0].partition("-")[0] + "-") for c in declared)


def test_every_control_of_a_module_belongs_to_an_area_that_names_the_module() -> None:
    for module in {m for modules in MODULES.values() for m in modules}:
        for declared in controls_in(vars(module).values()):
            assert module in MODULES[declared.meta.area], (module.__name__, declared.meta.id)


def test_is_drift_is_true_exactly_for_the_drift_area() -> None:
    """`is_drift(id)` is the one predicate the daemon, evidence and CLI use for "needs a baseline"."""
    from checks.model import is_drift

    assert {c.meta.id for c in default_registry() if is_drift(c.meta.id)} == set(ids(Area.DRIFT))
    assert not is_drift("FW-01") and not is_drift("XDRIFT-01")
