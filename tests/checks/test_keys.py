"""IAM-08 and IAM-09 on service accounts and their keys in the IAM v1 REST shape; one row per case.

Ages are measured against the snapshot's `now` (`tests.builders.NOW`, 2026-11-25T12:00Z), never
the wall clock. `iam.key_max_age_days` is 90 unless a row says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from checks import default_registry, keys
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control
from tests.builders import NOW, make_snapshot

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
ANY = "…"
EMAIL = "deployer@shop-prod.iam.gserviceaccount.com"
ACCOUNT = f"projects/shop-prod/serviceAccounts/{EMAIL}"
WHO = f"key k1 of {EMAIL}"


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def key(age_days: float = 10, **fields: Any) -> dict[str, Any]:
    found = {"name": f"{ACCOUNT}/keys/k1", "keyType": "USER_MANAGED", "keyAlgorithm": "KEY_ALG_RSA_2048",
             "keyOrigin": "GOOGLE_PROVIDED", "validAfterTime": ago(age_days),
             "validBeforeTime": "9999-12-31T23:59:59Z", **fields}  # fmt: skip
    return {k: v for k, v in found.items() if v is not None}


def judge(control: Control, key_list: Any, *, disabled: bool = False, params: dict[str, Any] | None = None
          ) -> list[Finding]:  # fmt: skip
    account: dict[str, Any] = {"name": ACCOUNT, "email": EMAIL, "uniqueId": "1", "keys": key_list}
    if disabled:
        account["disabled"] = True
    snapshot = make_snapshot({"iam": {"serviceAccounts": [account]}})
    return list(control(snapshot, Params.model_validate(params or {})))


# (key, account disabled, verdict, latent, reason); "" as a reason: no result at all
IAM08: dict[str, tuple[dict[str, Any], bool, Verdict | None, bool, str]] = {
    "enabled": (key(), False, FAIL, False, f"{WHO} is an enabled user-managed key"),
    "disabled-key-latent": (key(disabled=True), False, PASS, True,
                            f"{WHO} is a user-managed key but disabled (disabled: true)"),
    "disabled-account-latent": (key(), True, PASS, True,
                                f"{WHO} is a user-managed key but of the disabled service account {EMAIL}"),
    "expired": (key(validBeforeTime=ago(1)), False, PASS, False,
                f"{WHO} is a user-managed key but expired (validBeforeTime {ago(1)})"),
    "expired-exactly-now": (key(validBeforeTime=ago(0)), False, PASS, False, ANY),
    "expired-and-disabled-not-latent": (key(validBeforeTime=ago(1), disabled=True), False, PASS, False, ANY),
    "expires-later": (key(validBeforeTime="2027-01-01T00:00:00Z"), False, FAIL, False, ANY),
    "no-expiry": (key(validBeforeTime=None), False, FAIL, False, ANY),
    "system-managed-no-result": (key(keyType="SYSTEM_MANAGED"), False, None, False, ""),
    "system-managed-of-disabled-account": (key(keyType="SYSTEM_MANAGED"), True, None, False, ""),
    "key-type-absent": (key(keyType=None), False, ERROR, False,
                        f"{WHO}: cannot judge keyType: None is neither USER_MANAGED nor SYSTEM_MANAGED"),
    "key-type-unknown": (key(keyType="HSM"), False, ERROR, False, ANY),
    "disabled-not-boolean": (key(disabled="no"), False, ERROR, False,
                             f"{WHO}: cannot judge disabled: 'no' is not true or false"),
    "valid-before-unreadable": (key(validBeforeTime="tomorrow"), False, ERROR, False,
                                f"{WHO}: cannot judge validBeforeTime: 'tomorrow' is not an RFC 3339 time"),
}  # fmt: skip


@pytest.mark.parametrize(("raw", "disabled", "verdict", "latent", "reason"), IAM08.values(), ids=IAM08.keys())
def test_iam08_user_managed_keys(raw: dict[str, Any], disabled: bool, verdict: Verdict | None, latent: bool,
                                 reason: str) -> None:  # fmt: skip
    found = judge(keys.iam08_user_managed_keys, [raw], disabled=disabled)
    if verdict is None:
        assert found == []
        return
    (one,) = found
    assert (one.verdict, one.latent) == (verdict, latent), one.reason
    assert reason == ANY or one.reason == reason, one.reason
    assert one.resource == f"//iam.googleapis.com/{ACCOUNT}/keys/k1"
    assert verdict is ERROR or one.subject == EMAIL  # an error names the field instead


# (key, account disabled, max age, verdict, latent, reason)
IAM09: dict[str, tuple[dict[str, Any], bool, int | None, Verdict, bool, str]] = {
    "fresh": (key(10), False, None, PASS, False,
              f"{WHO} is 10d old (validAfterTime {ago(10)}) ≤ iam.key_max_age_days 90"),
    "exactly-the-limit": (key(90), False, None, PASS, False, ANY),
    "a-second-over": (key(90 + 1 / 86400), False, None, FAIL, False,
                      f"{WHO} is 90d1s old (validAfterTime {ago(90 + 1 / 86400)}) > iam.key_max_age_days 90"),
    "old": (key(400), False, None, FAIL, False, ANY),
    "param-shorter": (key(40), False, 30, FAIL, False,
                      f"{WHO} is 40d old (validAfterTime {ago(40)}) > iam.key_max_age_days 30"),
    "param-longer": (key(400), False, 365 * 2, PASS, False, ANY),
    "future-counts-as-zero": (key(-1), False, None, PASS, False,
                              f"{WHO} is 0s old (validAfterTime {ago(-1)}) ≤ iam.key_max_age_days 90"),
    "old-disabled-latent": (key(400, disabled=True), False, None, PASS, True,
                            f"{WHO} is 400d old (validAfterTime {ago(400)}) > iam.key_max_age_days 90, but disabled "
                            "(disabled: true)"),
    "fresh-disabled-not-latent": (key(10, disabled=True), False, None, PASS, False, ANY),
    "old-of-disabled-account-latent": (key(400), True, None, PASS, True, ANY),
    "old-expired": (key(400, validBeforeTime=ago(30)), False, None, PASS, False,
                    f"{WHO} cannot be used: expired (validBeforeTime {ago(30)})"),
    "valid-after-absent": (key(validAfterTime=None), False, None, ERROR, False,
                           f"{WHO}: cannot judge validAfterTime: absent"),
    "valid-after-unreadable": (key(validAfterTime="2026-13-01T00:00:00Z"), False, None, ERROR, False, ANY),
}  # fmt: skip


@pytest.mark.parametrize(("raw", "disabled", "days", "verdict", "latent", "reason"), IAM09.values(), ids=IAM09.keys())
def test_iam09_key_rotation(raw: dict[str, Any], disabled: bool, days: int | None, verdict: Verdict, latent: bool,
                            reason: str) -> None:  # fmt: skip
    params = {"iam": {"key_max_age_days": days}} if days else None
    (one,) = judge(keys.iam09_key_rotation, [raw], disabled=disabled, params=params)
    assert (one.verdict, one.latent) == (verdict, latent), one.reason
    assert reason == ANY or one.reason == reason, one.reason


def test_the_age_is_measured_against_the_snapshot_not_the_wall_clock() -> None:
    raw = key(validAfterTime="2026-09-01T00:00:00Z")
    account = {"name": ACCOUNT, "email": EMAIL, "keys": [raw]}
    project = {"iam": {"serviceAccounts": [account]}}
    early = make_snapshot(project, now=NOW.replace(month=10))
    late = make_snapshot(project, now=NOW.replace(year=2027))
    assert [f.verdict for f in keys.iam09_key_rotation(early, Params())] == [PASS]
    assert [f.verdict for f in keys.iam09_key_rotation(late, Params())] == [FAIL]


@pytest.mark.parametrize("control_id", ["IAM-08", "IAM-09"])
def test_one_result_per_user_managed_key_of_every_account(control_id: str) -> None:
    control = default_registry().get(control_id)
    two = [key(), key(name=f"{ACCOUNT}/keys/k2"), key(keyType="SYSTEM_MANAGED", name=f"{ACCOUNT}/keys/k3")]
    assert [f.resource.rsplit("/", 1)[-1] for f in judge(control, two)] == ["k1", "k2"]
    assert judge(control, []) == []
    (broken,) = judge(control, "k1")
    assert broken.verdict is ERROR and broken.resource == f"//iam.googleapis.com/{ACCOUNT}"
    none = list(control(make_snapshot({"iam": {"serviceAccounts": []}}), Params()))
    assert none == []


def test_key_max_age_days_is_a_positive_whole_number() -> None:
    assert Params().iam.key_max_age_days == 90
    for bad in (0, -1, True, 1.5, "90"):
        with pytest.raises(ValueError, match="key_max_age_days"):
            Params.model_validate({"iam": {"key_max_age_days": bad}})


META = {
    "IAM-08": ("4.0: 1.4 · 5.0: 1.5", "USER_MANAGED_SERVICE_ACCOUNT_KEY", ()),
    "IAM-09": ("4.0: 1.7 · 5.0: 1.8", "SERVICE_ACCOUNT_KEY_NOT_ROTATED", ("iam.key_max_age_days",)),
}


@pytest.mark.parametrize("control_id", list(META))
def test_metadata_is_complete(control_id: str) -> None:
    control = default_registry().get(control_id)
    meta = control.meta
    cis, sha, params = META[control_id]
    assert (meta.area, meta.severity, meta.unit, meta.kinds) == (Area.IAM, Severity.MEDIUM, "key",
                                                                 ("serviceAccountKeys",))  # fmt: skip
    refs = meta.references
    assert (refs.cis_text(), refs.sha, refs.soc2, meta.params) == (cis, sha, ("CC6.1",), params)
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation
    assert keys.__doc__ and control.func.__doc__ and control in vars(keys).values()
