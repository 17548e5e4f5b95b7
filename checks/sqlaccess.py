"""Who can reach a Cloud SQL instance, and how (FW-11, FW-12, DATA-01): one result per instance, replicas included.

FW-11 fails an instance whose `settings.ipConfiguration.authorizedNetworks[].value`
holds an internet range (the shared definition of `checks.rules.network`: prefix 0, or
ranges whose union covers an address family, across one instance's entries). FW-12 fails a
public IP: `ipv4Enabled: true`; absent (instances older than private IP), an `ipAddresses[]`
entry of type PRIMARY. DATA-01 asks for TLS: `sslMode` ENCRYPTED_ONLY or
TRUSTED_CLIENT_CERTIFICATE_REQUIRED, or, with `sslMode` absent, `requireSsl: true`.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judge, Judgement, Unjudgeable
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.cloudsql import boolean, ip_configuration, per_instance, shown
from checks.rules.network import internet_families
from checks.snapshot import Kind, Snapshot

_UNIT = "Cloud SQL instance"
_KINDS = (Kind.SQL_INSTANCES,)
_IP = "settings.ipConfiguration"
_NETWORKS = f"{_IP}.authorizedNetworks"
_STRICT_TLS = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})
_LOOSE_TLS = frozenset({"ALLOW_UNENCRYPTED_AND_ENCRYPTED"})
_NO_MODE = frozenset({"", "SSL_MODE_UNSPECIFIED"})


def _each(snapshot: Snapshot, judge: Judge[JSON]) -> Iterator[Finding]:
    return per_instance(snapshot.get(Kind.SQL_INSTANCES), snapshot.scope, judge)


# --- FW-11 ------------------------------------------------------------------------------------


def _entries(config: JSON) -> list[tuple[str, object]]:
    """(how the entry reads, its value) for every authorized network."""
    networks = config.get("authorizedNetworks")
    if networks is None:
        return []
    if not isinstance(networks, list):
        raise Unjudgeable(_NETWORKS, f"{networks!r} is not a list")
    found = []
    for index, entry in enumerate(networks):
        if not isinstance(entry, dict):
            raise Unjudgeable(f"{_NETWORKS}[{index}]", f"{entry!r} is not an AclEntry")
        value, name = entry.get("value"), entry.get("name")
        found.append((f"{value} ({name})" if name else str(value), value))
    return found


def _internet(instance: JSON, who: str) -> Judgement:
    config = ip_configuration(instance)
    entries = _entries(config)
    families = internet_families([value for _, value in entries], _NETWORKS)
    if not families:
        listed = ", ".join(text for text, _ in entries)
        return Judgement(Verdict.PASS, f"{who} authorizes no internet range (" +
                         (f"{_NETWORKS}: {listed})" if entries else f"{_NETWORKS}: none)"))  # fmt: skip
    ranges = [r for family in sorted(families) for r in families[family]]
    labels = {value: text for text, value in entries}
    covered = ", ".join(f"IPv{family}" for family in sorted(families))
    reason = f"{who} accepts the internet: {_NETWORKS} " + ", ".join(labels.get(r, r) for r in ranges)
    reason += f" cover{'s' if len(ranges) == 1 else ''} every {covered} address"
    if boolean(config, "ipv4Enabled", f"{_IP}.ipv4Enabled") is False:
        reason += " (ipv4Enabled: false: unused while it has no public IP, one setting away from live)"
    return Judgement(Verdict.FAIL, reason, ", ".join(ranges))


@control(
    id="FW-11", title="No Cloud SQL instance accepts the internet", area=Area.FW, severity=Severity.CRITICAL,
    kinds=_KINDS, unit=_UNIT,
    references=References(cis=(("4.0", "6.5"), ("5.0", "6.5")), soc2=("CC6.6",), sha="PUBLIC_SQL_INSTANCE"),
    rationale="An authorized network of 0.0.0.0/0 opens the database port of the instance's public IP to "
    "every address on the internet: only its passwords stand between a scanner and the data. Cloud SQL "
    "Auth Proxy and private IP reach the database without authorizing any network.",
    remediation="Replace the authorized networks with the few addresses that need them, or clear them and "
    "connect through the Cloud SQL Auth Proxy: `gcloud sql instances patch INSTANCE "
    "--clear-authorized-networks` (or `--authorized-networks=203.0.113.10/32`).",
    holds="No Cloud SQL instance lists, among its authorized networks, ranges that together cover every IPv4 "
    "or every IPv6 address.",
    logic="Every instance is judged, replicas included. The entries are "
    "`settings.ipConfiguration.authorizedNetworks[].value` (an absent `settings`, `ipConfiguration` or "
    "`authorizedNetworks` means none, and passes). An internet range is one of prefix 0 (`0.0.0.0/0`, "
    "`::/0`, or a bare `0.0.0.0`, `::`), or several entries of the instance whose union covers a whole "
    "address family (`0.0.0.0/1` with `128.0.0.0/1`); one of them fails the instance, the reason naming "
    "the entries (value and `name`). It fails even when `ipv4Enabled` is false: the entries are unused "
    "only while the instance has no public IP, one setting away from live. Whether the instance actually "
    "has a public IP is FW-12's question.",
    unknown="An `error`, naming the field, when `settings` or `settings.ipConfiguration` is not an object, "
    "`authorizedNetworks` is not a list, an entry is not an object, or an entry's `value` is absent or "
    "not an IP address range, and (read only when the instance fails) when `ipv4Enabled` is not a "
    "boolean; a listing that failed makes the whole control `error`.",
)
def fw11_sql_internet(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance whose authorized networks hold an internet range (prefix 0, or ranges
    whose union covers an address family)."""
    return _each(snapshot, _internet)


# --- FW-12 ------------------------------------------------------------------------------------


def _primary_addresses(instance: JSON) -> list[str]:
    listed = instance.get("ipAddresses")
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise Unjudgeable("ipAddresses", f"{listed!r} is not a list")
    found = []
    for index, entry in enumerate(listed):
        if not isinstance(entry, dict):
            raise Unjudgeable(f"ipAddresses[{index}]", f"{entry!r} is not an IpMapping")
        if entry.get("type") == "PRIMARY":
            found.append(str(entry.get("ipAddress") or "?"))
    return found


def _public_ip(instance: JSON, who: str) -> Judgement:
    enabled = boolean(ip_configuration(instance), "ipv4Enabled", f"{_IP}.ipv4Enabled")
    primary = _primary_addresses(instance)
    at = f" at {', '.join(primary)}" if primary else ""
    if enabled:
        return Judgement(Verdict.FAIL, f"{who} has a public IP{at} ({_IP}.ipv4Enabled: true)", ", ".join(primary))
    if enabled is False:
        return Judgement(Verdict.PASS, f"{who} has no public IP ({_IP}.ipv4Enabled: false)")
    if primary:
        reason = f"{who} has a public IP{at} ({_IP}.ipv4Enabled absent, ipAddresses lists a PRIMARY address)"
        return Judgement(Verdict.FAIL, reason, ", ".join(primary))
    if instance.get("ipAddresses") is None:  # nothing read says whether it has one: not a pass
        raise Unjudgeable(f"{_IP}.ipv4Enabled", "and ipAddresses are both absent: the instance's addresses are unknown")
    return Judgement(Verdict.PASS, f"{who} has no public IP ({_IP}.ipv4Enabled absent, no PRIMARY in ipAddresses)")


@control(
    id="FW-12", title="Cloud SQL has no public IP", area=Area.FW, severity=Severity.MEDIUM, kinds=_KINDS,
    unit=_UNIT, logic_version=2,
    references=References(cis=(("4.0", "6.6"), ("5.0", "6.7")), soc2=("CC6.6",), sha="SQL_PUBLIC_IP"),
    rationale="A public IP puts the database on the internet, where one authorized network too many (FW-11) "
    "or a leaked password is enough. A private IP in the VPC keeps it reachable only from the estate's "
    "own networks, and the Auth Proxy covers the rest. CIS audits `ipAddresses[].type` PRIMARY; the API's "
    "setting that assigns the address is `settings.ipConfiguration.ipv4Enabled`, so it decides here, and the "
    "addresses only when it is absent.",
    remediation="Give the instance a private IP and drop the public one: `gcloud sql instances patch INSTANCE "
    "--network=projects/PROJECT/global/networks/VPC --no-assign-ip`.",
    holds="No Cloud SQL instance has a public IPv4 address.",
    logic="Every instance is judged, replicas included. `settings.ipConfiguration.ipv4Enabled` decides: true "
    "fails (naming the `ipAddresses[]` entries of `type` PRIMARY), false passes whatever `ipAddresses[]` "
    "lists. Only when it is absent (instances older than private IP) does `ipAddresses[]` decide: an "
    "entry of `type` PRIMARY fails, and none (only PRIVATE or OUTGOING entries, or no list) passes.",
    unknown="An `error`, naming the field, when `settings` or `settings.ipConfiguration` is not an object, "
    "`ipv4Enabled` is present but not a boolean, `ipAddresses` is not a list, or one of its entries is "
    "not an object, or when neither `ipv4Enabled` nor `ipAddresses` is present (nothing says whether it has "
    "a public address); a listing that failed makes the whole control `error`.",
)
def fw12_sql_public_ip(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance with `ipv4Enabled: true`, or with it absent and a PRIMARY entry in `ipAddresses[]`."""
    return _each(snapshot, _public_ip)


# --- DATA-01 ----------------------------------------------------------------------------------


def _tls(instance: JSON, who: str) -> Judgement:
    config = ip_configuration(instance)
    mode = config.get("sslMode")
    require = boolean(config, "requireSsl", f"{_IP}.requireSsl")
    if mode is None or mode in _NO_MODE:
        said = "absent" if mode is None else mode
        if require:
            return Judgement(Verdict.PASS, f"{who} requires TLS ({_IP}.sslMode {said}, requireSsl: true)")
        return Judgement(Verdict.FAIL, f"{who} accepts unencrypted connections ({_IP}.sslMode {said}, "
                         f"requireSsl: {shown(require)})")  # fmt: skip
    if mode in _STRICT_TLS:
        return Judgement(Verdict.PASS, f"{who} requires TLS ({_IP}.sslMode: {mode})", str(mode))
    if mode in _LOOSE_TLS:
        overruled = " (sslMode decides over requireSsl: true)" if require else ""
        return Judgement(Verdict.FAIL, f"{who} accepts unencrypted connections ({_IP}.sslMode: {mode}){overruled}",
                         str(mode))  # fmt: skip
    raise Unjudgeable(f"{_IP}.sslMode", f"{mode!r} is not a known SSL mode")


@control(
    id="DATA-01", title="Cloud SQL requires TLS", area=Area.DATA, severity=Severity.HIGH, kinds=_KINDS,
    unit=_UNIT, references=References(cis=(("4.0", "6.4"), ("5.0", "6.4")), soc2=("CC6.7",), sha="SSL_NOT_ENFORCED"),
    rationale="Without TLS, credentials and query results cross the network in clear text, readable by "
    "anything on the path. Requiring encrypted connections (or client certificates) on the instance makes "
    "a client that forgot to ask for TLS fail instead of leaking.",
    remediation="Require encrypted connections: `gcloud sql instances patch INSTANCE --ssl-mode=ENCRYPTED_ONLY` "
    "(or `TRUSTED_CLIENT_CERTIFICATE_REQUIRED` to also ask for client certificates).",
    holds='A Cloud SQL instance accepts only encrypted connections.',
    logic='One result per instance, replicas included. `settings.ipConfiguration.sslMode` decides when set: '
        '`ENCRYPTED_ONLY` and `TRUSTED_CLIENT_CERTIFICATE_REQUIRED` pass, '
        '`ALLOW_UNENCRYPTED_AND_ENCRYPTED` fails (even beside `requireSsl: true`, which the mode '
        'overrules, as the API documents). With `sslMode` absent or `SSL_MODE_UNSPECIFIED`, the older '
        '`requireSsl` decides: true passes, false or absent fails.',
    unknown='An `sslMode` the control does not know, a `requireSsl` that is not a boolean, or `settings` / '
        '`settings.ipConfiguration` that are not objects give an `error` for the instance; instances that '
        'could not be listed give one `error` for the project.',
)
def data01_sql_tls(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance whose `sslMode` allows unencrypted connections, or, with `sslMode`
    absent, whose `requireSsl` is not true."""
    return _each(snapshot, _tls)
