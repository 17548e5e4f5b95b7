"""Essential Contacts (IAM-16): one result per project, about the contacts Google notifies for it.

The essentialContacts kind holds the contacts *computed* for the project: its own and those
set on its folders and organisation, which is where CIS asks for them. Each required
category must reach at least one contact subscribed to it (or to `ALL`) whose email has
not bounced (`validationState` `INVALID`). A disabled Essential Contacts API reads as an
empty kind; here that is an `error`, since the organisation's contacts exist (and are
notified) whether or not the project enabled the API that lists them.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Unjudgeable
from checks.model import Area, Finding, Severity, Verdict
from checks.names import project_name
from checks.params import Params
from checks.registry import References, control
from checks.snapshot import Kind, Snapshot

EVERY = "ALL"
BOUNCED = "INVALID"


def _reach(contacts: tuple[JSON, ...]) -> dict[str, list[str]]:
    """category (or `ALL`) -> the emails of the usable contacts subscribed to it."""
    reach: dict[str, list[str]] = {}
    for i, contact in enumerate(contacts):
        email = contact.get("email")
        if not isinstance(email, str) or not email:
            raise Unjudgeable(f"contacts[{i}].email", f"{email!r} is not an email address")
        categories = contact.get("notificationCategorySubscriptions", [])
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise Unjudgeable(f"contacts[{i}].notificationCategorySubscriptions", f"{categories!r} is not a list")
        state = contact.get("validationState", "VALIDATION_STATE_UNSPECIFIED")
        if not isinstance(state, str):
            raise Unjudgeable(f"contacts[{i}].validationState", f"{state!r} is not a validation state")
        if state == BOUNCED:
            continue
        for category in categories:
            reach.setdefault(category, []).append(email)
    return reach


@control(
    id="IAM-16", title="Essential Contacts are configured", area=Area.IAM, severity=Severity.MEDIUM,
    kinds=(Kind.ESSENTIAL_CONTACTS,), params=("iam.essential_contact_categories",), unit="project",
    references=References(cis=(("4.0", "1.16"), ("5.0", "1.17")), soc2=("CC2.3", "CC7.3"),
                          sha="ESSENTIAL_CONTACTS_NOT_CONFIGURED"),
    rationale="Google sends security, legal, suspension and technical notices to the Essential Contacts of a "
    "resource, and without them to whoever holds certain roles (owners, organisation administrators), "
    "often individuals who left or never read that mailbox. A named, monitored address per category makes "
    "sure a breach notice or a suspension warning reaches a team that acts on it.",
    remediation="Add a contact at the organisation (inherited by every project): `gcloud essential-contacts "
    "create --email=security@example.com --notification-categories=SECURITY,LEGAL,SUSPENSION,TECHNICAL "
    "--organization=ORG_ID`.",
    holds="Every category of `iam.essential_contact_categories` (LEGAL, SECURITY, SUSPENSION, TECHNICAL) reaches "
    "at least one valid Essential Contact of the project, its own or inherited from its folders or organisation.",
    logic="Read the contacts `contacts:compute` returns for the project with every category (its own and its "
    "ancestors'; CIS audits the organisation's, which every project inherits, so judging each project judges "
    "what Google actually uses for it). A contact counts for a category it subscribes to, or for every one when "
    "it subscribes to `ALL`, unless its `validationState` is `INVALID` (mail to it bounced); a contact not yet "
    "validated counts. Fail naming each required category no contact reaches; else pass, naming who gets each.",
    unknown="error naming the field: a contact's `email` absent, `notificationCategorySubscriptions` not a list "
    "of categories, `validationState` not a string; error when the Essential Contacts API is not enabled in "
    "the project (the contacts exist but cannot be read there).",
)
def iam16_essential_contacts(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a project some required notification category of which reaches no valid contact."""
    resource = project_name(snapshot.scope)
    who = f"project {snapshot.scope}"
    note = snapshot.note(Kind.ESSENTIAL_CONTACTS)
    contacts = snapshot.get(Kind.ESSENTIAL_CONTACTS)
    if note and not contacts:
        reason = f"{who}: cannot judge contacts: {note}, so the contacts Google notifies cannot be read"
        yield Finding(resource, Verdict.ERROR, reason, "contacts")
        return
    try:
        reach = _reach(contacts)
    except Unjudgeable as error:
        yield Finding(resource, Verdict.ERROR, error.reason(who), error.field)
        return
    required = params.iam.essential_contact_categories
    every = reach.get(EVERY, [])
    missing = [category for category in required if not reach.get(category) and not every]
    if missing:
        reason = f"{who}: no valid Essential Contact receives {', '.join(missing)} notifications"
        yield Finding(resource, Verdict.FAIL, reason, ", ".join(missing))
        return
    named = "; ".join(f"{c}: {', '.join(sorted(set(reach.get(c, []) + every)))}" for c in required)
    yield Finding(resource, Verdict.PASS, f"{who}: every required category reaches a contact ({named})")
