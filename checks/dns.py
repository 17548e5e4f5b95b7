"""Cloud DNS controls: FW-15 (DNSSEC on), FW-16 and FW-17 (no RSASHA1 key-signing or zone-signing
key), one result per public managed zone; LOG-10 (DNS query logging), one result per VPC network.

The zones are read from one `managedZones` listing, with `dnssecConfig` (its `state` and the
`defaultKeySpecs` the keys are generated from, as CIS audits them). DNS logging is a setting of
a DNS server policy (`dnsPolicies`), which binds networks by URL: a network no policy binds,
or bound to a policy without `enableLogging: true`, does not log its queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, attempt
from checks.model import Area, Finding, Severity, Verdict
from checks.names import compute_name
from checks.params import Params
from checks.registry import References, control
from checks.rules.network import flag, network_key, obj
from checks.snapshot import Kind, Snapshot

_STATES = frozenset({"on", "off", "transfer"})
_VISIBILITIES = frozenset({"public", "private"})
_ALGORITHMS = frozenset({"rsasha1", "rsasha256", "rsasha512", "ecdsap256sha256", "ecdsap384sha384"})
_KEY_TYPES = {"keySigning": "key-signing", "zoneSigning": "zone-signing"}
_DNSSEC_FIX = (
    "`gcloud dns managed-zones update ZONE --dnssec-state=off`, then `gcloud dns managed-zones update ZONE "
    "--dnssec-state=on --ksk-algorithm=rsasha256 --ksk-key-length=2048 --zsk-algorithm=rsasha256 "
    "--zsk-key-length=1024` (or ecdsap256sha256): key specs change only while DNSSEC is off, so first "
    "remove the zone's DS record at the registrar and wait out its TTL."
)


def zone_name(zone: JSON, scope: str) -> str:
    """`//dns.googleapis.com/projects/P/managedZones/NAME`: a zone's name is unique in its project."""
    return f"//dns.googleapis.com/projects/{scope}/managedZones/{zone.get('name', '?')}"


def _per_zone(zones: Iterable[JSON], scope: str, judge: Callable[[JSON, str], Judgement | None]) -> Iterator[Finding]:
    """One finding per public zone; an unreadable zone is an `error` for itself alone."""
    for zone in zones:
        who = f"zone {zone.get('name', '?')}"
        judged = attempt(_public_only, zone, who, judge)
        if isinstance(judged, Unjudgeable):
            yield Finding(zone_name(zone, scope), Verdict.ERROR, judged.reason(who), judged.field)
        elif judged is not None:
            yield judged.at(zone_name(zone, scope))


def _public_only(zone: JSON, who: str, judge: Callable[[JSON, str], Judgement | None]) -> Judgement | None:
    """Private zones answer only inside their networks and cannot be signed: out of scope (None)."""
    visibility = zone.get("visibility", "public")  # the API's default for a new zone
    if not isinstance(visibility, str) or visibility not in _VISIBILITIES:
        raise Unjudgeable("visibility", f"unknown value {visibility!r}")
    return judge(zone, who) if visibility == "public" else None


def _state(zone: JSON) -> tuple[str, str]:
    """The DNSSEC state (absent: off) and how the zone says it."""
    config = obj(zone, "dnssecConfig")
    state = config.get("state", "off")
    if not isinstance(state, str) or state not in _STATES:
        raise Unjudgeable("dnssecConfig.state", f"unknown value {state!r}")
    if "dnssecConfig" not in zone:
        return state, "dnssecConfig absent: off by default"
    return state, f"dnssecConfig.state: {state}" if "state" in config else "dnssecConfig.state absent: off by default"


# --- FW-15 ------------------------------------------------------------------------------------


def judge_dnssec(zone: JSON, who: str) -> Judgement:
    """Passes a public zone whose `dnssecConfig.state` is on; off, absent or transfer fails."""
    state, said = _state(zone)
    dns_name = zone.get("dnsName", "?")
    if state == "on":
        return Judgement(Verdict.PASS, f"{who} ({dns_name}) signs its records ({said})", str(dns_name))
    if state == "transfer":
        reason = f"{who} ({dns_name}) is in DNSSEC transfer mode ({said}): meant for moving a signed zone, not on"
        return Judgement(Verdict.FAIL, reason, str(dns_name))
    return Judgement(Verdict.FAIL, f"{who} ({dns_name}) is public and unsigned ({said})", str(dns_name))


@control(
    id="FW-15", title="DNSSEC is on for every public DNS zone", area=Area.FW, severity=Severity.MEDIUM,
    kinds=(Kind.MANAGED_ZONES,), unit="public managed zone",
    references=References(cis=(("4.0", "3.3"), ("5.0", "3.3")), soc2=("CC6.7",), sha="DNSSEC_DISABLED"),
    rationale="Without DNSSEC, a resolver cannot tell a genuine answer for the zone from a forged one: "
    "cache poisoning and on-path attackers can send the zone's users to an address of their choosing. "
    "Signing the zone lets validating resolvers reject forged answers. Private zones answer only inside "
    "their VPC networks and cannot be signed, so only public zones are judged. Cloud DNS's `transfer` "
    "state serves a zone moving between signed providers; CIS asks for `on`, so it fails until the move ends.",
    remediation="`gcloud dns managed-zones update ZONE --dnssec-state=on`, then publish the zone's DS record "
    "at the domain's registrar (`gcloud dns dns-keys list --zone=ZONE` shows it).",
    holds="The public managed zone has DNSSEC on.",
    logic="Each zone of the project's `managedZones` listing is judged alone. `visibility` private is out of "
    "scope (no result); public, or absent (the API's default), is judged. It passes when "
    "`dnssecConfig.state` is on; off, absent (with or without `dnssecConfig`: off by default) or transfer "
    "fails. A project whose Cloud DNS API is off has no zone, so no result.",
    unknown="`error` for the zone when `visibility` or `dnssecConfig.state` is not one of the API's values or "
    "`dnssecConfig` is not an object; `error` for every zone when the listing cannot be read.",
)
def fw15_dnssec(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each public managed zone whose DNSSEC is not on, per zone."""
    return _per_zone(snapshot.get(Kind.MANAGED_ZONES), snapshot.scope, judge_dnssec)


# --- FW-16, FW-17 -----------------------------------------------------------------------------


def _key_specs(zone: JSON, key_type: str) -> list[tuple[str, int | None]]:
    """(algorithm, keyLength) of each `dnssecConfig.defaultKeySpecs` entry of `key_type`."""
    specs = obj(zone, "dnssecConfig").get("defaultKeySpecs", [])
    if not isinstance(specs, list):
        raise Unjudgeable("dnssecConfig.defaultKeySpecs", f"{specs!r} is not a list")
    found: list[tuple[str, int | None]] = []
    for at, spec in enumerate(specs):
        field = f"dnssecConfig.defaultKeySpecs[{at}]"
        if not isinstance(spec, dict):
            raise Unjudgeable(field, f"{spec!r} is not an object")
        kind = spec.get("keyType")
        if not isinstance(kind, str) or kind not in _KEY_TYPES:
            raise Unjudgeable(f"{field}.keyType", f"unknown value {kind!r}")
        algorithm = spec.get("algorithm")
        if not isinstance(algorithm, str) or algorithm not in _ALGORITHMS:
            raise Unjudgeable(f"{field}.algorithm", f"unknown value {algorithm!r}")
        length = spec.get("keyLength")
        if kind == key_type:
            found.append((algorithm, length if isinstance(length, int) and not isinstance(length, bool) else None))
    return found


def _judge_algorithm(zone: JSON, who: str, key_type: str) -> Judgement:
    """Fails a public zone whose `key_type` key spec uses RSASHA1; none at all is an error while DNSSEC
    is on (the keys in use are then unknown), and a pass while it is off (nothing is signed)."""
    role = _KEY_TYPES[key_type]
    state, said = _state(zone)
    specs = _key_specs(zone, key_type)
    if not specs:
        if state == "off":
            return Judgement(Verdict.PASS, f"{who} has no {role} key spec and signs nothing ({said})")
        raise Unjudgeable("dnssecConfig.defaultKeySpecs", f"no {key_type} entry while DNSSEC is {state}")
    shown = ", ".join(f"{alg}" + (f" ({length} bits)" if length else "") for alg, length in specs)
    if any(alg == "rsasha1" for alg, _ in specs):
        return Judgement(Verdict.FAIL, f"{who}'s {role} key spec uses RSASHA1 ({key_type}: {shown}; {said})", shown)
    return Judgement(Verdict.PASS, f"{who}'s {role} key spec does not use RSASHA1 ({key_type}: {shown})", shown)


def judge_ksk(zone: JSON, who: str) -> Judgement:
    return _judge_algorithm(zone, who, "keySigning")


def judge_zsk(zone: JSON, who: str) -> Judgement:
    return _judge_algorithm(zone, who, "zoneSigning")


_ALGORITHM_LOGIC = (
    "Each public zone of the `managedZones` listing (`visibility` public or absent; private zones get no "
    "result) is judged by the entries of `dnssecConfig.defaultKeySpecs` whose `keyType` is {key_type}: it "
    "fails when one has `algorithm` rsasha1, and passes otherwise, naming the algorithms. A zone with no "
    "such entry passes while `dnssecConfig.state` is off (absent: off), since nothing is signed; FW-15 "
    "judges DNSSEC itself."
)
_ALGORITHM_UNKNOWN = (
    "`error` for the zone when it has no {key_type} entry while DNSSEC is on or transfer (the algorithm in use "
    "is then unknown), when an entry is not an object or its `keyType` or `algorithm` is not one of the API's "
    "values, when `defaultKeySpecs` is not a list, or `visibility` or `dnssecConfig.state` is unknown; "
    "`error` for every zone when the listing cannot be read."
)
_ALGORITHM_RATIONALE = (
    "RSASHA1 signatures rest on SHA-1, whose collisions are practical: a {role} key using it gives weaker "
    "assurance than the zone's DNSSEC promises, and validators are dropping it. Cloud DNS generates a "
    "zone's keys from `dnssecConfig.defaultKeySpecs`, which is what CIS audits; Google now offers RSASHA1 "
    "only to projects allow-listed for it."
)


@control(
    id="FW-16", title="No DNS zone signs its keys with RSASHA1", area=Area.FW, severity=Severity.MEDIUM,
    kinds=(Kind.MANAGED_ZONES,), unit="public managed zone",
    references=References(cis=(("4.0", "3.4"), ("5.0", "3.4")), soc2=("CC6.7",), sha="RSASHA1_FOR_SIGNING"),
    rationale=_ALGORITHM_RATIONALE.format(role="key-signing"),
    remediation=_DNSSEC_FIX,
    holds="The public managed zone's key-signing key is not RSASHA1.",
    logic=_ALGORITHM_LOGIC.format(key_type="keySigning"),
    unknown=_ALGORITHM_UNKNOWN.format(key_type="keySigning"),
)
def fw16_ksk_algorithm(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each public managed zone whose key-signing key spec uses RSASHA1, per zone."""
    return _per_zone(snapshot.get(Kind.MANAGED_ZONES), snapshot.scope, judge_ksk)


@control(
    id="FW-17", title="No DNS zone signs its records with RSASHA1", area=Area.FW, severity=Severity.MEDIUM,
    kinds=(Kind.MANAGED_ZONES,), unit="public managed zone",
    references=References(cis=(("4.0", "3.5"), ("5.0", "3.5")), soc2=("CC6.7",), sha="RSASHA1_FOR_SIGNING"),
    rationale=_ALGORITHM_RATIONALE.format(role="zone-signing"),
    remediation=_DNSSEC_FIX,
    holds="The public managed zone's zone-signing key is not RSASHA1.",
    logic=_ALGORITHM_LOGIC.format(key_type="zoneSigning"),
    unknown=_ALGORITHM_UNKNOWN.format(key_type="zoneSigning"),
)
def fw17_zsk_algorithm(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each public managed zone whose zone-signing key spec uses RSASHA1, per zone."""
    return _per_zone(snapshot.get(Kind.MANAGED_ZONES), snapshot.scope, judge_zsk)


# --- LOG-10 -----------------------------------------------------------------------------------


def _bound(policy: JSON, scope: str) -> tuple[bool, list[str]]:
    """Whether the policy logs (`enableLogging`, absent: false) and the network keys it binds."""
    logs = flag(policy, "enableLogging")
    networks = policy.get("networks", [])
    if not isinstance(networks, list):
        raise Unjudgeable("networks", f"{networks!r} is not a list")
    keys: list[str] = []
    for at, entry in enumerate(networks):
        url = entry.get("networkUrl") if isinstance(entry, dict) else None
        key = network_key(url, scope)
        if key is None:
            raise Unjudgeable(f"networks[{at}].networkUrl", f"{url!r} names no network")
        keys.append(key)
    return logs, keys


def _policies(snapshot: Snapshot) -> tuple[dict[str, list[tuple[str, bool]]], list[str]]:
    """network key -> (policy name, logs) of each policy binding it; and why each unreadable policy is."""
    bound: dict[str, list[tuple[str, bool]]] = {}
    broken: list[str] = []
    for policy in snapshot.get(Kind.DNS_POLICIES):
        name = str(policy.get("name", "?"))
        read = attempt(_bound, policy, snapshot.scope)
        if isinstance(read, Unjudgeable):
            broken.append(read.reason(f"DNS policy {name}"))
            continue
        logs, keys = read
        for key in keys:
            bound.setdefault(key, []).append((name, logs))
    return bound, broken


@control(
    id="LOG-10", title="Cloud DNS logs the queries of every VPC network", area=Area.LOG, severity=Severity.MEDIUM,
    kinds=(Kind.NETWORKS, Kind.DNS_POLICIES), unit="network",
    references=References(cis=(("4.0", "2.12"), ("5.0", "2.13")), soc2=("CC7.2",), sha="DNS_LOGGING_DISABLED"),
    rationale="Flow logs show addresses; DNS query logs show the names a workload asked for, which is what "
    "reveals a beacon to a command-and-control domain, DNS tunnelling or a lookup of an attacker's host, "
    "and what an investigation searches first. Cloud DNS logs a network's queries only when a DNS server "
    "policy with logging on is bound to it, and none is by default.",
    remediation="Bind a logging policy to the network: `gcloud dns policies create dns-logging "
    "--enable-logging --networks=NETWORK --description=\"Log DNS queries\"`, or for the network's existing "
    "policy `gcloud dns policies update POLICY --enable-logging --networks=NETWORK[,...]` (list every network "
    "it already binds).",
    holds="The VPC network is bound to a DNS server policy that logs its queries.",
    logic="Each network of the project's `networks` listing is judged alone, against the `dnsPolicies` "
    "listing: the policies whose `networks[].networkUrl` names it (matched by project and network name, "
    "whatever the URL's host or form). It passes when at least one binds it and every one that does has "
    "`enableLogging` true; it fails when none binds it, or one that does has `enableLogging` false or "
    "absent (no logging by default). A project whose Cloud DNS API is off has no policy: each of its "
    "networks fails.",
    unknown="`error` for a network no readable policy logs for while some policy is unreadable (`enableLogging` "
    "not a boolean, `networks` not a list, or an entry without a `networkUrl`), since that policy may bind "
    "it; `error` for every network when either listing cannot be read.",
)
def log10_dns_logging(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each network no DNS server policy with `enableLogging: true` is bound to, per network."""
    bound, broken = _policies(snapshot)
    for network in snapshot.get(Kind.NETWORKS):
        name = str(network.get("name", "?"))
        resource = compute_name(network, snapshot.scope, "networks")
        key = network_key(network.get("selfLink") or name, snapshot.scope) or ""
        policies = bound.get(key, [])
        quiet = [policy for policy, logs in policies if not logs]
        if policies and not quiet:
            said = ", ".join(policy for policy, _ in policies)
            yield Finding(resource, Verdict.PASS, f"network {name} logs DNS queries (policy {said}: enableLogging: "
                                                  "true)", said)  # fmt: skip
        elif quiet:
            reason = f"network {name} is bound to DNS policy {', '.join(quiet)} without enableLogging: true"
            yield Finding(resource, Verdict.FAIL, reason, ", ".join(quiet))
        elif broken:
            reason = f"network {name}: cannot judge DNS logging: no readable policy binds it; {'; '.join(broken)}"
            yield Finding(resource, Verdict.ERROR, reason, "dnsPolicies")
        else:
            yield Finding(resource, Verdict.FAIL, f"network {name} is bound to no DNS server policy, so its "
                                                  "queries are not logged")  # fmt: skip
