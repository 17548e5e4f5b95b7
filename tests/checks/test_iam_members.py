"""IAM-04 to IAM-07, one result per member in scope: one row per case (bindings of a version-3
project policy, and every finding expected, in order of the members' first appearance)."""

from __future__ import annotations

from typing import Any

import pytest

from checks import iam
from tests.checks.test_iam_grants import (
    AGENT,
    ERROR,
    FAIL,
    OWN_SA,
    PASS,
    Case,
    Expect,
    binding,
    check,
    judge,
    policy,
)

SA_ADMIN, SA_USER = "roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountUser"
KMS_ADMIN, KMS_BOTH = "roles/cloudkms.admin", "roles/cloudkms.cryptoKeyEncrypterDecrypter"
FEDERATED = "principal://iam.googleapis.com/locations/global/workforcePools/partners/subject/Jo"
POOL = "principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/attribute.repo/x"
DELETED = "deleted:user:former@example.be?uid=114827361209554301872"
IN_DOMAIN = "its domain example.be is in iam.allowed_domains (example.be)"
NO_DOMAINS = "iam.allowed_domains is empty, so only consumer domains fail"

# --- IAM-04 -----------------------------------------------------------------------------------

IAM04: dict[str, Case] = {
    "both": ([binding(SA_ADMIN, "user:anna@example.be"), binding(SA_USER, "user:anna@example.be")], [
        (FAIL, "user:anna@example.be", "user:anna@example.be holds roles/iam.serviceAccountAdmin and "
         "roles/iam.serviceAccountUser: it can create service accounts and act as them")]),
    "admin-only": ([binding(SA_ADMIN, "user:anna@example.be")], [
        (PASS, "user:anna@example.be", "user:anna@example.be holds roles/iam.serviceAccountAdmin but not "
         "roles/iam.serviceAccountUser")]),
    "user-only": ([binding(SA_USER, "group:ci@example.be")], [
        (PASS, "group:ci@example.be", "group:ci@example.be holds roles/iam.serviceAccountUser but not "
         "roles/iam.serviceAccountAdmin")]),
    "split-between-two": ([binding(SA_ADMIN, "user:a@example.be"), binding(SA_USER, "user:b@example.be")], [
        (PASS, "user:a@example.be", "…"), (PASS, "user:b@example.be", "…")]),
    "same-member-other-case": ([binding(SA_ADMIN, "user:Anna@Example.be"), binding(SA_USER, "user:anna@example.be")], [
        (FAIL, "user:Anna@Example.be", "…holds roles/iam.serviceAccountAdmin and roles/iam.serviceAccountUser…")]),
    "one-conditional": ([binding(SA_ADMIN, "user:a@example.be"), binding(SA_USER, "user:a@example.be", title="ci")], [
        (FAIL, "user:a@example.be", 'user:a@example.be holds roles/iam.serviceAccountAdmin and '
         'roles/iam.serviceAccountUser under condition "ci": …')]),
    "service-account": ([binding(SA_ADMIN, OWN_SA), binding(SA_USER, OWN_SA)], [(FAIL, OWN_SA, "…")]),
    "token-creator-is-not-user": ([binding(SA_ADMIN, "user:a@example.be"),
                                   binding("roles/iam.serviceAccountTokenCreator", "user:a@example.be")], [
        (PASS, "user:a@example.be", "…")]),
    "custom-role-same-id": ([binding(SA_ADMIN, "user:a@example.be"),
                             binding("projects/shop-prod/roles/iam.serviceAccountUser", "user:a@example.be")], [
        (PASS, "user:a@example.be", "…")]),
    "out-of-scope": ([binding("roles/viewer", "user:a@example.be")], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM04.values(), ids=IAM04.keys())
def test_iam04_service_account_duties(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam04_service_account_duties, policy(*bindings)), expected)


# --- IAM-05 -----------------------------------------------------------------------------------

IAM05: dict[str, Case] = {
    "admin-and-both": ([binding(KMS_ADMIN, "user:jan@example.be"), binding(KMS_BOTH, "user:jan@example.be")], [
        (FAIL, "user:jan@example.be", "user:jan@example.be holds roles/cloudkms.admin and "
         "roles/cloudkms.cryptoKeyEncrypterDecrypter: it can manage keys and use them")]),
    "admin-and-encrypter": ([binding(KMS_ADMIN, "user:jan@example.be"),
                             binding("roles/cloudkms.cryptoKeyEncrypter", "user:jan@example.be")], [
        (FAIL, "user:jan@example.be", "…and roles/cloudkms.cryptoKeyEncrypter: …")]),
    "admin-and-decrypter": ([binding(KMS_ADMIN, "user:jan@example.be"),
                             binding("roles/cloudkms.cryptoKeyDecrypter", "user:jan@example.be")], [
        (FAIL, "user:jan@example.be", "…and roles/cloudkms.cryptoKeyDecrypter: …")]),
    "admin-and-two-uses": ([binding(KMS_ADMIN, "user:jan@example.be"),
                            binding("roles/cloudkms.cryptoKeyEncrypter", "user:jan@example.be"),
                            binding("roles/cloudkms.cryptoKeyDecrypter", "user:jan@example.be", title="dr")], [
        (FAIL, "user:jan@example.be", "…holds roles/cloudkms.admin and roles/cloudkms.cryptoKeyEncrypter, "
         'roles/cloudkms.cryptoKeyDecrypter under condition "dr": it can manage keys and use them')]),
    "admin-only": ([binding(KMS_ADMIN, "user:jan@example.be")], [
        (PASS, "user:jan@example.be", "user:jan@example.be holds roles/cloudkms.admin but not "
         "roles/cloudkms.cryptoKeyEncrypterDecrypter or roles/cloudkms.cryptoKeyEncrypter or "
         "roles/cloudkms.cryptoKeyDecrypter")]),
    "use-only": ([binding(KMS_BOTH, OWN_SA)], [
        (PASS, OWN_SA, f"{OWN_SA} holds roles/cloudkms.cryptoKeyEncrypterDecrypter but not roles/cloudkms.admin")]),
    "signer-is-not-use": ([binding(KMS_ADMIN, "user:jan@example.be"),
                           binding("roles/cloudkms.signerVerifier", "user:jan@example.be")], [
        (PASS, "user:jan@example.be", "…holds roles/cloudkms.admin but not…")]),
    "split-between-two": ([binding(KMS_ADMIN, "user:a@example.be"), binding(KMS_BOTH, "user:b@example.be")], [
        (PASS, "user:a@example.be", "…"), (PASS, "user:b@example.be", "…")]),
    "out-of-scope": ([binding("roles/cloudkms.viewer", "user:a@example.be")], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM05.values(), ids=IAM05.keys())
def test_iam05_kms_duties(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam05_kms_duties, policy(*bindings)), expected)


# --- IAM-06 -----------------------------------------------------------------------------------

IAM06: dict[str, Case] = {
    "user-in-domain": ([binding("roles/viewer", "user:anna@example.be")], [
        (PASS, "user:anna@example.be", f"user:anna@example.be holds roles/viewer; {IN_DOMAIN}")]),
    "domain-other-case": ([binding("roles/viewer", "user:Anna@EXAMPLE.BE")], [
        (PASS, "user:Anna@EXAMPLE.BE", f"…{IN_DOMAIN}")]),
    "gmail": ([binding("roles/editor", "user:marc@gmail.com")], [
        (FAIL, "user:marc@gmail.com", "user:marc@gmail.com holds roles/editor; its domain gmail.com is not in "
         "iam.allowed_domains (example.be)")]),
    "group-other-domain": ([binding("roles/viewer", "group:ops@partner.com")], [
        (FAIL, "group:ops@partner.com", "…its domain partner.com is not in iam.allowed_domains (example.be)")]),
    "subdomain-is-not-domain": ([binding("roles/viewer", "user:a@eng.example.be")], [
        (FAIL, "user:a@eng.example.be", "…its domain eng.example.be is not in…")]),
    "domain-member": ([binding("roles/viewer", "domain:example.be")], [
        (PASS, "domain:example.be", "domain:example.be holds roles/viewer; the whole domain example.be is in "
         "iam.allowed_domains (example.be)")]),
    "domain-member-other": ([binding("roles/viewer", "domain:partner.com")], [
        (FAIL, "domain:partner.com", "…the whole domain partner.com is not in iam.allowed_domains (example.be)")]),
    "all-users": ([binding("roles/storage.objectViewer", "allUsers")], [
        (FAIL, "allUsers", "allUsers (anyone on the internet) holds roles/storage.objectViewer")]),
    "all-authenticated-users": ([binding("roles/viewer", "allAuthenticatedUsers")], [
        (FAIL, "allAuthenticatedUsers", "allAuthenticatedUsers (anyone with a Google account) holds roles/viewer")]),
    "federation-principal": ([binding("roles/viewer", FEDERATED)], [
        (PASS, FEDERATED, f"{FEDERATED} is a workload or workforce identity federation principal, out of this "
         "control's scope; holds roles/viewer")]),
    "federation-set": ([binding("roles/artifactregistry.reader", POOL)], [(PASS, POOL, "…federation principal…")]),
    "service-accounts-out-of-scope": ([binding("roles/editor", OWN_SA, AGENT,
                                               "serviceAccount:x@other-proj.iam.gserviceaccount.com")], []),
    "deleted-out-of-scope": ([binding("roles/viewer", DELETED)], []),
    "one-row-per-member": ([binding("roles/viewer", "user:a@example.be", "user:b@gmail.com"),
                            binding("roles/editor", "user:A@example.be", title="temp")], [
        (PASS, "user:a@example.be", 'user:a@example.be holds roles/viewer, roles/editor under condition "temp"; …'),
        (FAIL, "user:b@gmail.com", "…")]),
}  # fmt: skip

IAM06_NO_DOMAINS: dict[str, Case] = {
    "gmail": ([binding("roles/viewer", "user:marc@gmail.com")], [
        (FAIL, "user:marc@gmail.com", f"user:marc@gmail.com holds roles/viewer; its domain gmail.com is a consumer "
         f"domain ({NO_DOMAINS})")]),
    "googlemail-upper": ([binding("roles/viewer", "group:x@GoogleMail.com")], [
        (FAIL, "group:x@GoogleMail.com", "…its domain googlemail.com is a consumer domain…")]),
    "company": ([binding("roles/viewer", "user:a@partner.com")], [
        (PASS, "user:a@partner.com", f"user:a@partner.com holds roles/viewer; its domain partner.com is not a "
         f"consumer domain ({NO_DOMAINS})")]),
    "domain-gmail": ([binding("roles/viewer", "domain:gmail.com")], [
        (FAIL, "domain:gmail.com", "…the whole domain gmail.com is a consumer domain…")]),
    "all-users": ([binding("roles/viewer", "allUsers")], [(FAIL, "allUsers", "…")]),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM06.values(), ids=IAM06.keys())
def test_iam06_member_domains(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam06_member_domains, policy(*bindings)), expected)


@pytest.mark.parametrize(("bindings", "expected"), IAM06_NO_DOMAINS.values(), ids=IAM06_NO_DOMAINS.keys())
def test_iam06_without_allowed_domains(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam06_member_domains, policy(*bindings), {}), expected)


def test_iam06_allowed_domains_param_is_case_insensitive() -> None:
    (found,) = judge(iam.iam06_member_domains, policy(binding("roles/viewer", "user:a@example.be")),
                     {"iam": {"allowed_domains": ["Example.BE"]}})  # fmt: skip
    assert found.verdict is PASS and found.reason.endswith("is in iam.allowed_domains (Example.BE)")


# --- IAM-07 -----------------------------------------------------------------------------------

IAM07: dict[str, Case] = {
    "deleted-user": ([binding("roles/bigquery.dataViewer", "group:analysts@example.be", DELETED)], [
        (FAIL, DELETED, f"{DELETED} is a deleted principal still granted roles/bigquery.dataViewer")]),
    "every-role-named": ([binding("roles/viewer", DELETED), binding("roles/storage.admin", DELETED, title="q4")], [
        (FAIL, DELETED, f'{DELETED} is a deleted principal still granted roles/viewer, roles/storage.admin under '
         'condition "q4"')]),
    "deleted-sa-and-group": ([binding("roles/viewer", "deleted:serviceAccount:x@shop-prod.iam.gserviceaccount.com"
                                      "?uid=1", "deleted:group:old@example.be?uid=2")], [
        (FAIL, "deleted:serviceAccount:x@shop-prod.iam.gserviceaccount.com?uid=1", "…"),
        (FAIL, "deleted:group:old@example.be?uid=2", "…")]),
    "none": ([binding("roles/viewer", "user:a@example.be", OWN_SA)], []),
}  # fmt: skip


@pytest.mark.parametrize(("bindings", "expected"), IAM07.values(), ids=IAM07.keys())
def test_iam07_deleted_principals(bindings: list[dict[str, Any]], expected: list[Expect]) -> None:
    check(judge(iam.iam07_deleted_principals, policy(*bindings)), expected)


def test_member_controls_judge_what_is_readable_beside_an_error() -> None:
    grants = policy(binding("roles/viewer", DELETED, "nobody@example.be"))
    found = judge(iam.iam07_deleted_principals, grants)
    assert [(f.verdict, f.subject) for f in found] == [(ERROR, "roles/viewer nobody@example.be"), (FAIL, DELETED)]
