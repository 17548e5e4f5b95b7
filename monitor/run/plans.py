"""From a validated config and the registry to what each scope's runs judge."""

from __future__ import annotations

from types import MappingProxyType

from checks.registry import Registry
from monitor.config.model import Config
from monitor.run.budget import EvaluationBudget
from monitor.run.risks import AcceptedRisk
from monitor.run.scopeset import ScopeSet, resolve
from monitor.run.sweep import ScopePlan


def risks_from(config: Config) -> tuple[AcceptedRisk, ...]:
    return tuple(
        AcceptedRisk(
            control=entry.control,
            scope=entry.scope,
            resource=entry.resource,
            subject=entry.subject,
            reason=entry.reason,
            approver=entry.approver,
            expires=entry.expires,
        )
        for entry in config.exceptions
    )


def budget_from(config: Config) -> EvaluationBudget:
    evaluation = config.evaluation
    return EvaluationBudget(
        deadline=evaluation.deadline,
        max_resources=evaluation.max_resources,
        max_resources_by_kind=MappingProxyType(dict(evaluation.max_resources_by_kind)),
    )


def build_plans(
    config: Config,
    registry: Registry,
    *,
    only_controls: frozenset[str] | None = None,
    scopes: ScopeSet | None = None,
) -> dict[str, ScopePlan]:
    """One plan per watched scope: its enabled controls, merged params and accepted risks.

    `scopes` is the resolved set (`monitor.run.scopeset`); without it, the listed projects.
    """
    resolved = scopes if scopes is not None else resolve(config, None)
    risks = risks_from(config)
    budget = budget_from(config)
    plans: dict[str, ScopePlan] = {}
    for scope in resolved.watched():
        seen = resolved.seen(scope)
        disabled = config.disabled_for(scope, seen)
        controls = tuple(
            c for c in registry if c.meta.id not in disabled and (only_controls is None or c.meta.id in only_controls)
        )
        plans[scope] = ScopePlan(
            scope=scope,
            controls=controls,
            params=config.params_for(scope, seen),
            risks=tuple(r for r in risks if r.scope == scope),
            budget=budget,
        )
    return plans
