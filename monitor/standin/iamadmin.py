"""IAM API v1 routes: a project's service accounts, and one account's keys.

A scenario service account may carry its keys as `keys`; listing accounts leaves them
out. An account is named by email or unique id, under its project or `projects/-` (any
project), as IAM accepts. `keyTypes` filters by `USER_MANAGED` / `SYSTEM_MANAGED`.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.standin.groups import own_fields, page_size, paged, project_group
from monitor.standin.replies import ApiError, Reply, bad_request
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Project, Resource

API = "iam"
DEFAULT_PAGE = 20
MAX_PAGE = 100
KEY_TYPES = ("USER_MANAGED", "SYSTEM_MANAGED")


def _accounts(call: Call) -> Reply:
    _, parts = project_group(call, call.params["projectsId"], API, "iam")
    accounts = sorted(
        (own_fields(API, "ServiceAccount", a) for a in parts.get("serviceAccounts", ())),
        key=lambda a: str(a.get("email", "")),
    )
    return Reply(200, paged(call, accounts, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), "accounts", {}))


def _candidates(call: Call, key: str) -> Iterator[Project]:
    if key == "-":
        yield from call.scenario.projects.values()
    else:
        yield project_group(call, key, API, "iam")[0]


def _find_account(call: Call) -> Resource:
    key, account = call.params["projectsId"], call.params["serviceAccountsId"]
    for project in _candidates(call, key):
        for found in (project.parts.get("iam") or {}).get("serviceAccounts", ()):
            if account in (found.get("email"), found.get("uniqueId")):
                return found
    raise ApiError(404, f"Service account projects/{key}/serviceAccounts/{account} does not exist.", reason="notFound")


def _keys(call: Call) -> Reply:
    wanted = call.query.get("keyTypes")
    if wanted is not None and wanted not in KEY_TYPES:
        raise bad_request(
            f"Invalid value at 'key_types' (type.googleapis.com/google.iam.admin.v1.KeyType), \"{wanted}\""
        )
    keys = [k for k in _find_account(call).get("keys", ()) if wanted is None or k.get("keyType") == wanted]
    return Reply(200, {"keys": keys} if keys else {})


def handlers() -> dict[str, Handler]:
    return {"iam.projects.serviceAccounts.list": _accounts, "iam.projects.serviceAccounts.keys.list": _keys}
