"""The project's service accounts, each with its keys, through the IAM discovery client (REST).

One listing of the accounts, then one `keys.list` per account (keys are not paged): those
calls are sequential inside the kind's worker, each observed and bound by the run's
deadline. System-managed keys are listed too; the controls leave them out, since the
collector should not decide what a control ignores.
"""

from __future__ import annotations

import functools
from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.discoverycalls import execute, list_all, page_args

SERVICE = "iam"
KEYS_METHOD = "iam.projects.serviceAccounts.keys.list"
#: the field an account carries its keys in (the scenario's nesting; not an API field)
KEYS = "keys"


def _keys(keys_api: Any, account: str, timeout: float) -> Any:
    return execute(keys_api.list(name=account), timeout)


def accounts(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """Every ServiceAccount of the project, with its ServiceAccountKeys under `keys`."""
    api = client.projects().serviceAccounts()
    found = list_all(
        lambda token: api.list(name=f"projects/{project_id}", **page_args(page_size, token, "pageSize")),
        "accounts",
        call,
    )
    keys_api = api.keys()
    keys_call = call.derive(KEYS_METHOD, SERVICE)
    for account in found:
        name = str(account.get("name") or "")
        answer = keys_call(functools.partial(_keys, keys_api, name), parsed=True)
        account[KEYS] = list(answer.get(KEYS, [])) if isinstance(answer, dict) else []
    return found
