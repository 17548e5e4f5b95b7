"""Essential Contacts API v1 routes: the contacts computed for a project (its own and inherited).

A scenario writes contacts under `essentialContacts.contacts` (Contact) of a project and of
its folders and organisation. `contacts:compute` answers the project's own, then each
ancestor's, nearest first, keeping those subscribed to one of the categories asked for
(`ALL` asked, or none: every contact; a contact subscribed to `ALL`: every category). A project
without the `essentialContacts` group has the API disabled.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.standin.groups import page_size, paged, project_group
from monitor.standin.replies import Reply
from monitor.standin.routes import Call, Handler
from monitor.standin.scenario import Resource

API = "essentialcontacts"
GROUP = "essentialContacts"
DEFAULT_PAGE, MAX_PAGE = 50, 100
EVERY = "ALL"
#: the categories' numbers in the API's proto: the GAPIC REST clients send enums in the query as
#: numbers (`$alt=json;enum-encoding=int`), the discovery client and gcloud as names
CATEGORY_NUMBERS = {
    "0": "NOTIFICATION_CATEGORY_UNSPECIFIED", "2": "ALL", "3": "SUSPENSION", "5": "SECURITY", "6": "TECHNICAL",
    "7": "BILLING", "8": "LEGAL", "9": "PRODUCT_UPDATES", "10": "TECHNICAL_INCIDENTS",
}  # fmt: skip


def _ancestors_contacts(call: Call, parent: str) -> Iterator[Resource]:
    seen: set[str] = set()
    while parent and parent not in seen:
        seen.add(parent)
        node = call.scenario.node(parent)
        if node is None:
            return
        yield from (node.parts.get(GROUP) or {}).get("contacts", ())
        parent = str(node.resource.get("parent", ""))


def _compute(call: Call) -> Reply:
    project, parts = project_group(call, call.params["projectsId"], API, GROUP)
    # The router keeps the last value of a repeated parameter: one category is served. Discovery
    # does not mark the parameter required, and none asked is read as every category.
    asked = call.query.get("notificationCategories") or EVERY
    wanted = {CATEGORY_NUMBERS.get(asked, asked)}

    def subscribed(contact: Resource) -> bool:
        categories = set(contact.get("notificationCategorySubscriptions", ()))
        return EVERY in wanted or EVERY in categories or bool(categories & wanted)

    own = parts.get("contacts", ())
    inherited = _ancestors_contacts(call, str(project.resource.get("parent", "")))
    found = [dict(contact) for contact in (*own, *inherited) if subscribed(contact)]
    return Reply(200, paged(call, found, page_size(call, "pageSize", DEFAULT_PAGE, MAX_PAGE), "contacts", {}))


def handlers() -> dict[str, Handler]:
    return {"essentialcontacts.projects.contacts.compute": _compute}
