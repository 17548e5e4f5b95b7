"""The registry against the expected catalogue: every area, every id, each in its own module."""

from __future__ import annotations

from types import ModuleType

import pytest

from checks import (
    apikeys,
    auditlog,
    backup,
    bigquery,
    contacts,
    dataproc,
    default_registry,
    dns,
    drift,
    firewall,
    iam,
    keys,
    kms,
    loadbalancing,
    logretention,
    network,
    orgpolicy,
    oversight,
    region,
    sqlaccess,
    sqlbackup,
    sqlflags,
    sqlregion,
    storage,
    vm,
)
from checks.model import Area
from checks.registry import controls_in
from tests.checks.catalogue import CATALOGUE, CLOUD_SQL, SQL_FLAGS, ids

# An area's controls live in the modules of the resources they judge (FW-13 with the buckets).
MODULES: dict[Area, tuple[ModuleType, ...]] = {
    Area.FW: (firewall, storage, sqlaccess), Area.IAM: (iam, keys, kms, apikeys, contacts),
    Area.BKP: (backup, sqlbackup),
    Area.REG: (region, storage, sqlregion), Area.LOG: (auditlog, logretention, oversight), Area.DRIFT: (drift,),
    Area.DATA: (storage, sqlaccess, sqlflags, bigquery, dataproc), Area.ORG: (orgpolicy,), Area.VM: (vm,),
}  # fmt: skip
# The networks controls of issue 13 join their areas in modules of their own.
MODULES[Area.FW] += (network, dns)
MODULES[Area.LOG] += (dns, loadbalancing)
#: the Cloud SQL modules, each declaring controls of several areas
SQL_MODULES: dict[ModuleType, tuple[str, ...]] = {
    sqlbackup: ("BKP-05", "BKP-06", "BKP-07", "BKP-08"),
    sqlaccess: ("DATA-01", "FW-11", "FW-12"),
    sqlregion: ("REG-07",),
    sqlflags: SQL_FLAGS,
}


def test_the_registry_holds_exactly_the_catalogue_in_order() -> None:
    assert default_registry().ids() == ids()


def test_the_catalogue_names_every_area() -> None:
    assert set(CATALOGUE) == set(Area) == set(MODULES)


@pytest.mark.parametrize("area", list(MODULES), ids=[area.name for area in MODULES])
def test_each_area_module_declares_exactly_its_catalogue(area: Area) -> None:
    declared = [c for module in MODULES[area] for c in controls_in(vars(module).values()) if c.meta.area is area]
    assert sorted(c.meta.id for c in declared) == sorted(CATALOGUE[area])
    assert {c.meta.area for c in declared} == {area}
    assert all(c.meta.id.startswith(CATALOGUE[area][0].partition("-")[0] + "-") for c in declared)


@pytest.mark.parametrize("module", list(SQL_MODULES), ids=[m.__name__ for m in SQL_MODULES])
def test_each_cloud_sql_module_declares_exactly_its_controls(module: ModuleType) -> None:
    declared = controls_in(vars(module).values())
    assert sorted(c.meta.id for c in declared) == sorted(SQL_MODULES[module])
    assert all(c.meta.id.startswith(c.meta.area.name + "-") for c in declared)


def test_the_cloud_sql_modules_declare_the_cloud_sql_controls() -> None:
    assert sorted(cid for ids_ in SQL_MODULES.values() for cid in ids_) == sorted((*CLOUD_SQL, *SQL_FLAGS))
def test_every_control_of_a_module_belongs_to_an_area_that_names_the_module() -> None:
    for module in {m for modules in MODULES.values() for m in modules}:
        for declared in controls_in(vars(module).values()):
            assert module in MODULES[declared.meta.area], (module.__name__, declared.meta.id)


def test_is_drift_is_true_exactly_for_the_drift_area() -> None:
    """`is_drift(id)` is the one predicate the daemon, evidence and CLI use for "needs a baseline"."""
    from checks.model import is_drift

    assert {c.meta.id for c in default_registry() if is_drift(c.meta.id)} == set(ids(Area.DRIFT))
    assert not is_drift("FW-01") and not is_drift("XDRIFT-01")
