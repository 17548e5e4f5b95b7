"""The controls: pure functions over an inventory snapshot, with their metadata."""

from __future__ import annotations

from checks.registry import Registry, controls_in


def default_registry() -> Registry:
    """Every shipped control, gathered explicitly from the area modules."""
    from checks import (
        auditlog,
        backup,
        drift,
        firewall,
        iam,
        keys,
        logretention,
        orgpolicy,
        region,
        sqlaccess,
        sqlbackup,
        sqlregion,
        storage,
        vm,
    )

    controls = []
    areas = (firewall, iam, backup, region, auditlog, drift)
    for module in (*areas, sqlbackup, sqlaccess, sqlregion, storage, logretention, keys, orgpolicy, vm):
        controls.extend(controls_in(vars(module).values()))
    return Registry(controls)
