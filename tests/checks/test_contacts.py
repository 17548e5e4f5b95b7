"""IAM-16 on the contacts `contacts:compute` returns for a project (essentialcontacts v1); one row per case."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry
from checks.model import Finding, Verdict
from checks.params import Params
from tests.builders import make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
PROJECT = "//cloudresourcemanager.googleapis.com/projects/shop-prod"
WHO = "project shop-prod"
IAM16 = default_registry().get("IAM-16")


def contact(address: str, *categories: str, **fields: Any) -> dict[str, Any]:
    found = {"name": f"organizations/4242/contacts/{address.split('@')[0]}", "email": address,
             "notificationCategorySubscriptions": list(categories), "languageTag": "en",
             "validationState": "VALID", **fields}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}


def judge(contacts: list[dict[str, Any]], params: dict[str, Any] | None = None, **snap: Any) -> list[Finding]:
    snapshot = make_snapshot({"essentialContacts": {"contacts": contacts}}, **snap)
    return list(IAM16(snapshot, Params.model_validate(params or {})))


FOUR = ("LEGAL", "SECURITY", "SUSPENSION", "TECHNICAL")
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any], Verdict, str]] = {
    "all-covers-every-category": ([contact("admins@example.com", "ALL")], {}, PASS,
                                  f"{WHO}: every required category reaches a contact (LEGAL: admins@example.com; "
                                  "SECURITY: admins@example.com; SUSPENSION: admins@example.com; "
                                  "TECHNICAL: admins@example.com)"),
    "split-across-contacts": ([contact("legal@example.com", "LEGAL"),
                               contact("sec@example.com", "SECURITY", "TECHNICAL"),
                               contact("ops@example.com", "SUSPENSION", "BILLING")], {}, PASS, "…"),
    "none": ([], {}, FAIL, f"{WHO}: no valid Essential Contact receives LEGAL, SECURITY, SUSPENSION, TECHNICAL "
             "notifications"),
    "security-missing": ([contact("legal@example.com", "LEGAL", "SUSPENSION", "TECHNICAL")], {}, FAIL,
                         f"{WHO}: no valid Essential Contact receives SECURITY notifications"),
    "bounced-contact-does-not-count": ([contact("old@example.com", "ALL", validationState="INVALID")], {}, FAIL, "…"),
    "unvalidated-contact-counts": ([contact("new@example.com", "ALL", validationState=None, validateTime=None)], {},
                                   PASS, "…"),
    "no-subscriptions": ([contact("x@example.com", notificationCategorySubscriptions=None)], {}, FAIL, "…"),
    "param-narrower": ([contact("sec@example.com", "SECURITY")],
                       {"iam": {"essential_contact_categories": ["SECURITY"]}}, PASS,
                       f"{WHO}: every required category reaches a contact (SECURITY: sec@example.com)"),
    "param-technical-incidents": ([contact("a@example.com", *FOUR)],
                                  {"iam": {"essential_contact_categories": [*FOUR, "TECHNICAL_INCIDENTS"]}}, FAIL,
                                  f"{WHO}: no valid Essential Contact receives TECHNICAL_INCIDENTS notifications"),
    "email-absent": ([contact("a@example.com", "ALL", email=None)], {}, ERROR, "contacts[0].email"),
    "subscriptions-not-a-list": ([contact("a@example.com", notificationCategorySubscriptions="ALL")], {}, ERROR,
                                 "contacts[0].notificationCategorySubscriptions"),
    "state-not-a-string": ([contact("a@example.com", "ALL", validationState=1)], {}, ERROR,
                           "contacts[0].validationState"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_iam16(case: str) -> None:
    contacts, params, verdict, expected = CASES[case]
    (finding,) = judge(contacts, params)
    assert finding.resource == PROJECT and finding.verdict is verdict
    if verdict is ERROR:
        assert finding.subject == expected and finding.reason.startswith(f"{WHO}: cannot judge {expected}: ")
    elif expected != "…":
        assert finding.reason == expected


def test_a_disabled_api_is_an_error_not_a_failure() -> None:
    note = "Essential Contacts API not enabled"
    (finding,) = judge([], notes={"essentialContacts": note})
    assert finding.verdict is ERROR and finding.subject == "contacts"
    assert finding.reason == (f"{WHO}: cannot judge contacts: {note}, so the contacts Google notifies cannot be read")


def test_an_unknown_category_is_refused_in_the_params() -> None:
    with pytest.raises(ValueError, match="not an Essential Contacts category"):
        Params.model_validate({"iam": {"essential_contact_categories": ["SECURTY"]}})
