"""The controls: pure functions over an inventory snapshot, with their metadata."""

from __future__ import annotations

from checks.registry import Registry, controls_in


def default_registry() -> Registry:
    """Every shipped control, gathered explicitly from the area modules."""
    from checks import firewall

    return Registry(controls_in(vars(firewall).values()))
