"""The controls: pure functions over an inventory snapshot, with their metadata."""

from __future__ import annotations

from checks.registry import Registry, controls_in


def default_registry() -> Registry:
    """Every shipped control, gathered explicitly from the area modules."""
    from checks import (
        auditlog,
        backup,
        bigquery,
        dataproc,
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
    )

    controls = []
    areas = (firewall, iam, backup, region, auditlog, drift)
    for module in (*areas, sqlbackup, sqlaccess, sqlregion, storage, logretention, keys, orgpolicy):
        controls.extend(controls_in(vars(module).values()))
    for module in (bigquery, dataproc):  # CIS 7.1-7.3, 8.1
        controls.extend(controls_in(vars(module).values()))
    return Registry(controls)
