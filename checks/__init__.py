"""The controls: pure functions over an inventory snapshot, with their metadata."""

from __future__ import annotations

from checks.registry import Registry, controls_in


def default_registry() -> Registry:
    """Every shipped control, gathered explicitly from the area modules."""
    from checks import (
        apikeys,
        auditlog,
        backup,
        bigquery,
        contacts,
        dataproc,
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

    controls = []
    areas = (firewall, iam, backup, region, auditlog, drift)
    for module in (*areas, sqlbackup, sqlaccess, sqlregion, storage, logretention, keys, orgpolicy, sqlflags, vm):
        controls.extend(controls_in(vars(module).values()))
    # The networks controls of issue 13: legacy networks, Cloud DNS, load-balancer logging.
    for module in (network, dns, loadbalancing):
        controls.extend(controls_in(vars(module).values()))
    controls.extend(controls_in(vars(oversight).values()))  # the third catalogue's LOG-05, LOG-06
    for module in (kms, apikeys, contacts):  # the identity catalogue (CIS 1.9-1.16)
        controls.extend(controls_in(vars(module).values()))
    for module in (bigquery, dataproc):  # CIS 7.1-7.3, 8.1
        controls.extend(controls_in(vars(module).values()))
    return Registry(controls)
