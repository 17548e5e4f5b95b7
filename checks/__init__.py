"""The controls: pure functions over an inventory snapshot, with their metadata."""

from __future__ import annotations

from checks.registry import Registry, controls_in


def default_registry() -> Registry:
    """Every shipped control, gathered explicitly from the area modules."""
    from checks import (
        auditlog,
        backup,
        dns,
        drift,
        firewall,
        iam,
        keys,
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

    controls = []
    areas = (firewall, iam, backup, region, auditlog, drift)
    for module in (*areas, sqlbackup, sqlaccess, sqlregion, storage, logretention, keys, orgpolicy, sqlflags, vm):
        controls.extend(controls_in(vars(module).values()))
    # The networks controls of issue 13: legacy networks, Cloud DNS, load-balancer logging.
    for module in (network, dns, loadbalancing):
        controls.extend(controls_in(vars(module).values()))
    controls.extend(controls_in(vars(oversight).values()))  # the third catalogue's LOG-05, LOG-06
    return Registry(controls)
