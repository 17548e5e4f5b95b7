"""The identity kinds fail closed, end to end: a fault on any route of Cloud KMS, API Keys or
Essential Contacts turns exactly the controls reading that kind into `error`, naming the call,
while every other control keeps its verdict; a disabled API is no keys (KMS, API keys) but an
`error` for Essential Contacts, whose contacts exist above the project whatever it enables.

Real clients (the GAPIC REST clients of the three APIs), collectors, daemon and the stand-in
serving the demo, where shop-prod holds a key ring (three keys), an API key, and inherits its
contacts from its folder and organisation.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from checks import default_registry
from checks.snapshot import Kind
from monitor.collect import StuckCalls
from monitor.daemon import Daemon
from monitor.standin import Fault, StandIn
from tests.monitor.conftest import config_for

SCOPE, OTHER = "shop-prod", "ledger-clean"
ENABLED = [c for c in default_registry() if not c.meta.id.startswith("DRIFT-")]
READERS = {kind: {c.meta.id for c in ENABLED if kind in c.meta.kinds}
           for kind in (Kind.KEY_RINGS, Kind.API_KEYS, Kind.ESSENTIAL_CONTACTS)}  # fmt: skip

MakeDaemon = Callable[..., tuple[Daemon, StuckCalls]]


def statuses(daemon: Daemon, scope: str) -> dict[str, str]:
    return {s.control: s.status.value for s in daemon.store.states() if s.scope == scope and s.status is not None}


def test_each_identity_kind_is_read_by_its_controls() -> None:
    assert READERS == {
        Kind.KEY_RINGS: {"IAM-10", "IAM-11"},
        Kind.API_KEYS: {"IAM-12", "IAM-13", "IAM-14", "IAM-15"},
        Kind.ESSENTIAL_CONTACTS: {"IAM-16"},
    }


KMS = "cloudkms.projects.locations"
FAULTS = [
    pytest.param(Kind.KEY_RINGS, Fault(method=f"{KMS}.list", project=SCOPE, status=403), "HTTP 403",
                 id="kms-locations-403"),
    pytest.param(Kind.KEY_RINGS, Fault(method=f"{KMS}.keyRings.list", project=SCOPE, status=500), "HTTP 500",
                 id="kms-rings-500"),
    pytest.param(Kind.KEY_RINGS, Fault(method=f"{KMS}.keyRings.getIamPolicy", project=SCOPE, kind="hostile",
                                       mode="empty-object"), "malformed", id="kms-ring-policy-hostile"),
    pytest.param(Kind.KEY_RINGS, Fault(method=f"{KMS}.keyRings.cryptoKeys.list", project=SCOPE, kind="hostile",
                                       mode="empty-items"), "malformed", id="kms-keys-hostile"),
    pytest.param(Kind.KEY_RINGS, Fault(method=f"{KMS}.keyRings.cryptoKeys.getIamPolicy", project=SCOPE, status=403),
                 "HTTP 403", id="kms-key-policy-403"),
    pytest.param(Kind.API_KEYS, Fault(method="apikeys.projects.locations.keys.list", project=SCOPE, status=503),
                 "HTTP 503", id="api-keys-503"),
    pytest.param(Kind.API_KEYS, Fault(method="apikeys.projects.locations.keys.list", project=SCOPE, kind="hostile",
                                      mode="null-list"), "malformed", id="api-keys-hostile"),
    pytest.param(Kind.ESSENTIAL_CONTACTS, Fault(method="essentialcontacts.projects.contacts.compute", project=SCOPE,
                                                status=403), "HTTP 403", id="contacts-403"),
    pytest.param(Kind.ESSENTIAL_CONTACTS, Fault(method="essentialcontacts.projects.contacts.compute", project=SCOPE,
                                                kind="drop"), "connection failed", id="contacts-dropped"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "fault", "cause"), FAULTS)
def test_a_fault_turns_exactly_the_controls_of_its_kind_to_error(
    standin: StandIn, make_daemon: MakeDaemon, kind: Kind, fault: Fault, cause: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE, OTHER]))
    daemon.run_scope(SCOPE)
    clean = statuses(daemon, SCOPE)
    assert "error" not in clean.values() and clean["IAM-11"] == "fail" and clean["IAM-16"] == "pass"

    standin.add_fault(fault)
    daemon.run_scope(SCOPE)
    daemon.run_scope(OTHER)
    got = statuses(daemon, SCOPE)
    assert {c for c, s in got.items() if s == "error"} == READERS[kind]
    assert {c: s for c, s in got.items() if c not in READERS[kind]} == {
        c: s for c, s in clean.items() if c not in READERS[kind]
    }
    for control in READERS[kind]:
        [result] = daemon.store.results(control=control, scope=SCOPE, verdict="error")
        assert f"{kind}:" in result.reason and fault.method in result.reason, result.reason
        assert cause in result.reason, result.reason
    assert set(statuses(daemon, OTHER).values()) == {"pass"}


@pytest.mark.parametrize(
    ("kind", "method"),
    [(Kind.KEY_RINGS, f"{KMS}.list"), (Kind.API_KEYS, "apikeys.projects.locations.keys.list")],
    ids=["kms", "api-keys"],
)
def test_a_disabled_kms_or_api_keys_api_means_no_keys_not_error(
    standin: StandIn, make_daemon: MakeDaemon, kind: Kind, method: str
) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method=method, project=SCOPE, status=403, reason="SERVICE_DISABLED"))
    daemon.run_scope(SCOPE)
    got = statuses(daemon, SCOPE)
    assert {got[c] for c in READERS[kind]} == {"pass"}
    assert all(daemon.store.results(control=c, scope=SCOPE, verdict="fail") == [] for c in READERS[kind])


def test_a_disabled_essential_contacts_api_is_an_error_naming_it(standin: StandIn, make_daemon: MakeDaemon) -> None:
    daemon, _ = make_daemon(config_for([SCOPE]))
    standin.add_fault(Fault(method="essentialcontacts.projects.contacts.compute", project=SCOPE, status=403,
                            reason="SERVICE_DISABLED"))  # fmt: skip
    daemon.run_scope(SCOPE)
    assert statuses(daemon, SCOPE)["IAM-16"] == "error"
    [result] = daemon.store.results(control="IAM-16", scope=SCOPE, verdict="error")
    assert "Essential Contacts API" in result.reason and "cannot be read" in result.reason, result.reason
