"""The project's effective organisation policy for each constraint the controls judge.

`getEffectivePolicy` merges the policies set on the project, its folders and its
organisation (inheritance, `inheritFromParent`, resets) as Google enforces them, so one
call per constraint answers what holds for the project. The constraints are the
catalogue's (`ORG_CONSTRAINTS` in the kind table) and every other one a scope's
`org.required_constraints` names (`CollectSettings.org_constraints`): each is one observed call, sequential
inside the kind's worker and bound by the run's deadline. A constraint whose policy
cannot be read fails the kind, and so does a disabled Organization Policy API: it says
nothing about the policies in force (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from checks.kernel import JSON
from checks.kinds import ORG_CONSTRAINTS
from monitor.collect.calls import Caller, CallFailed, ServiceDisabled
from monitor.collect.convert import to_json


def _read(client: Any, name: str, call: Caller) -> JSON:
    message = call(lambda timeout: client.get_effective_policy(name=name, retry=None, timeout=timeout))
    answer = call.answer  # the REST JSON the Caller checked (every field, as the API sent it)
    return answer if isinstance(answer, dict) else to_json(message)


def effective(
    client: Any,
    project_id: str,
    call: Caller,
    page_size: int | None = None,
    constraints: Sequence[str] = ORG_CONSTRAINTS,
) -> list[JSON]:
    """The effective Policy (orgpolicy v2) of each of `constraints` (bare names), in their order."""
    found: list[JSON] = []
    for constraint in constraints:
        name = f"projects/{project_id}/policies/{constraint}"
        try:
            found.append(_read(client, name, call))
        except ServiceDisabled as exc:
            raise CallFailed(f"{name}: {exc.note}, so the policies in force cannot be read", status="403") from exc
    return found


def reading(constraints: Sequence[str]) -> Callable[[Any, str, Caller, int | None], list[JSON]]:
    """The kind's fetch for these constraints (the catalogue's and those the config requires)."""

    def fetch(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
        return effective(client, project_id, call, page_size, constraints)

    return fetch
