"""Firewall and network exposure controls (FW-01 to FW-10), as the README's controls table states them.

FW-01 to FW-05 are one family: each asks which (protocol, port) pairs a rule effectively
opens to the internet (see `checks.rules.network`: internet ranges, shadowing per protocol, port
and address family), and differs only in the pairs it cares about and those it approves.
Every rule gets one result; a disabled rule that would expose passes with `latent`.
FW-06 judges rule logging (a disabled rule passes as out of scope, saying so), FW-07 the
default network and its rules, FW-08 default-deny egress per network, FW-09 external IPs
per instance, FW-10 flow logs per subnetwork (on, and set as CIS 3.8 audits them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from checks.kernel import JSON, Judgement, Unjudgeable, attempt, per_reading, per_resource
from checks.model import Area, Finding, Severity, Verdict
from checks.names import compute_name, last_segment
from checks.params import Params
from checks.registry import References, control
from checks.rules.effective import Effective, Policy, describe_rule, effective, policies, vpc_readings
from checks.rules.flowlogs import flow_log_shortfalls
from checks.rules.network import (
    ALL,
    EMPTY,
    Coverage,
    Rule,
    describe_exposure,
    external_ips,
    flag,
    network_key,
    obj,
    union,
)
from checks.rules.policies import ACTIONS, PolicyRule
from checks.rules.shadowing import Exposure
from checks.snapshot import Kind, Snapshot

T = TypeVar("T")
_FIREWALLS = "firewalls"
_POLICY_FIX = (
    " For a firewall policy rule (the result names the policy and priority): `gcloud compute firewall-policies "
    "rules update PRIORITY --firewall-policy=POLICY --src-ip-ranges=CIDR`, or for a network policy `gcloud compute "
    "network-firewall-policies rules update PRIORITY --firewall-policy=POLICY --global-firewall-policy "
    "--src-ip-ranges=CIDR`."
)
# FW-01..05 judge the effective firewall: VPC rules, networks (enforcement order, attached
# policy) and the firewall policies; FW-06 the logging of every rule of the firewall.
_POLICY_KINDS = (Kind.FIREWALL_POLICIES, Kind.NETWORK_FIREWALL_POLICIES, Kind.REGION_NETWORK_FIREWALL_POLICIES)
_LOGGING_KINDS = (Kind.FIREWALLS, *_POLICY_KINDS)
_EXPOSURE_KINDS = (Kind.FIREWALLS, Kind.NETWORKS, *_POLICY_KINDS)
_DEFAULT_RULES = frozenset(f"default-allow-{name}" for name in ("internal", "ssh", "rdp", "icmp"))
# Proxy-only and Private Service Connect subnetworks cannot log flows
# (INTERNAL_HTTPS_LOAD_BALANCER is the older name of REGIONAL_MANAGED_PROXY).
_NO_FLOW_LOGS = frozenset(
    {"REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "PRIVATE_SERVICE_CONNECT", "INTERNAL_HTTPS_LOAD_BALANCER"}
)
# FW-10 judges what CIS 3.8 judges: PRIVATE subnetworks (PRIVATE_RFC_1918 is its older name).
_FLOW_LOGS_JUDGED = frozenset({"PRIVATE", "PRIVATE_RFC_1918"})
_FLOW_LOGS_UNJUDGED = frozenset({"PRIVATE_NAT", "PEER_MIGRATION"})
_FW03_SERVICES: dict[str, tuple[str, ...]] = {
    "FTP": ("20-21",), "Telnet": ("23",), "SMTP": ("25",), "DNS": ("53",), "POP3": ("110",),
    "NetBIOS": ("137-139",), "LDAP": ("389", "636"), "SMB": ("445",), "MSSQL": ("1433",),
    "Oracle": ("1521", "2483-2484"), "MySQL": ("3306",), "PostgreSQL": ("5432",), "VNC": ("5900",),
    "Redis": ("6379",), "Kubernetes": ("6443", "10250"), "Docker": ("2375-2376",),
    "Cassandra": ("7000-7001", "7199", "9042", "9160"), "Elasticsearch": ("9200", "9300"),
    "Memcached": ("11211",), "MongoDB": ("27017-27019",),
}
_FW03_COVERAGE = {
    service: Coverage.from_specs(f"{proto}:{ports}" for proto in ("tcp", "udp") for ports in port_list)
    for service, port_list in _FW03_SERVICES.items()
}


# --- the exposure family (FW-01 to FW-05) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Family:
    what: str  # the pairs judged, for "does not allow …"
    wanted: Callable[[Rule], Coverage]  # the pairs judged, for one rule
    approved: Coverage = EMPTY  # judged pairs that may face the internet
    note: Callable[[Coverage], str] = lambda offending: ""  # ", reaching MySQL", after the pairs
    whole_entries: bool = False  # FW-04: shadowed only where one deny covers a whole entry


def _parsed(snapshot: Snapshot) -> list[tuple[JSON, Rule | Unjudgeable]]:
    """Every VPC rule read once per snapshot: FW-01 to FW-05 and FW-08 share the readings."""
    return vpc_readings(snapshot)


def _exposure_findings(snapshot: Snapshot, family: _Family) -> Iterator[Finding]:
    """Every rule is read first: whether one is exposed depends on the rules that take
    precedence over it in the effective firewall (`checks.rules.effective`). The VPC rules
    first, then the rules of the firewall policies that apply to the scope's networks."""
    firewall = effective(snapshot)
    judge = partial(_judge_exposure, firewall=firewall, family=family)
    yield from per_reading(firewall.vpc, snapshot.scope, _FIREWALLS, "rule", judge)
    policies = firewall.hierarchy if firewall.network_keys() else []
    for policy in [*policies, *firewall.network_policies]:
        for raw, reading in policy.readings:
            yield _policy_finding(firewall, policy, raw, reading, family)


def _judge_exposure(rule: Rule, who: str, *, firewall: Effective, family: _Family) -> Judgement:
    if not rule.ingress:
        return Judgement(Verdict.PASS, f"{who} is an egress rule (direction: EGRESS): it opens no ingress")
    if not rule.allow:
        return Judgement(Verdict.PASS, f"{who} is a deny rule (denied[]): it opens nothing")
    if not rule.internet:
        return Judgement(Verdict.PASS, f"{who} has no internet source ({rule.sources})")
    return _judge_seen(rule, who, firewall.exposure(rule, rule.network, family.wanted(rule)), family)


def _whole_entries(seen: Exposure) -> Exposure:
    """FW-04's shadowing: an entry opening every port is shadowed only where ONE deny covers it
    whole (per protocol; the whole of an `all` entry), not by several denies between them: a
    patchwork of denies is one edit away from a gap."""
    effective: dict[int, Coverage] = {}
    for fam, opened in seen.opened.items():
        left = seen.effective.get(fam, EMPTY)
        denies = [deny.coverage for deny in seen.shadowed_by if fam in deny.internet]
        parts = [opened] if len(opened.protocols) > 128 else [Coverage((item,)) for item in opened.protocols]
        cut = [part for part in parts if not part & left and all(part - cover for cover in denies)]
        effective[fam] = union([left, *cut])  # shadowed whole, but by no one deny: still open
    return Exposure(seen.opened, effective, seen.shadowed_by)


def _judge_seen(rule: Rule, who: str, seen: Exposure, family: _Family, where: str = "") -> Judgement:
    """The verdict on what `rule` opens (`seen`); `where` says on which network, for a policy rule."""
    seen = _whole_entries(seen) if family.whole_entries else seen
    if not any(seen.opened.values()):
        return Judgement(Verdict.PASS, f"{who} does not allow {family.what} ({_allowed(rule)}: {rule.coverage})")
    denies = ", ".join(describe_rule(deny) for deny in seen.shadowed_by)
    offending = {fam: coverage - family.approved for fam, coverage in seen.effective.items()}
    at = f"at priority {rule.priority}{where}"
    if any(offending.values()):
        subject = describe_exposure(offending, rule)
        body = f"{describe_exposure(offending, rule, fields=True)} {at}{family.note(union(offending.values()))}; " + (
            f"partly shadowed by {denies}" if denies else "not shadowed"
        )
        if rule.enabled:
            return Judgement(Verdict.FAIL, f"{who} allows {body}", subject)
        reason = f"{who} is disabled (disabled: true) but would allow {body}: it is one click from live"
        return Judgement(Verdict.PASS, reason, subject, latent=True)
    approved = {fam: coverage for fam, coverage in seen.effective.items() if coverage}
    if approved:
        shadow = f"; partly shadowed by {denies}" if denies else ""
        reason = f"{who} allows only approved {describe_exposure(approved, rule, fields=True)}{where}{shadow}"
        return Judgement(Verdict.PASS, reason, describe_exposure(approved, rule))
    reason = f"{who} allows {describe_exposure(seen.opened, rule, fields=True)} {at}, but it is shadowed by {denies}"
    return Judgement(Verdict.PASS, reason, describe_exposure(seen.opened, rule))


def _allowed(rule: Rule) -> str:
    return "match.layer4Configs" if isinstance(rule, PolicyRule) else "allowed[]"


def _policy_finding(
    firewall: Effective, policy: Policy, raw: JSON, reading: PolicyRule | Unjudgeable, family: _Family
) -> Finding:
    """One rule of a policy that applies to the scope: named by the policy and the rule's priority."""
    if isinstance(reading, Unjudgeable):
        who = f"rule {raw.get('priority', '?')} of {policy.label}"
        return Finding(policy.resource, Verdict.ERROR, reading.reason(who), reading.field)
    judged = attempt(_judge_policy_rule, firewall, policy, reading, family)
    if isinstance(judged, Unjudgeable):
        return Finding(policy.resource, Verdict.ERROR, judged.reason(reading.name), judged.field)
    subject = f"priority {reading.priority}" + (f": {judged.subject}" if judged.subject else "")
    return Finding(policy.resource, judged.verdict, judged.reason, subject, judged.latent)


def _judge_policy_rule(firewall: Effective, policy: Policy, rule: PolicyRule, family: _Family) -> Judgement:
    who, wanted = rule.name, family.wanted(rule)
    if not rule.ingress:
        return Judgement(Verdict.PASS, f"{who} is an egress rule (direction: EGRESS): it opens no ingress")
    if rule.action == "goto_next":
        return Judgement(Verdict.PASS, f"{who} is a goto_next rule: it passes traffic on, opening nothing")
    if not rule.allow:
        return Judgement(Verdict.PASS, f"{who} is a deny rule (action: deny): it opens nothing")
    if not rule.internet and rule.address_groups and rule.coverage & wanted:
        groups = ", ".join(rule.address_groups)
        reason = (
            f"{who} allows {rule.coverage & wanted} from address groups only (match.srcAddressGroups: {groups}), "
            "which are not read: cannot tell whether they hold internet ranges"
        )
        return Judgement(Verdict.ERROR, reason, groups)
    if not rule.internet:
        return Judgement(Verdict.PASS, f"{who} has no internet source ({rule.sources})")
    networks = firewall.applies_to(policy, rule)
    if not networks:
        return Judgement(Verdict.PASS, f"{who} applies to no network of the scope")
    exposures = [(key, firewall.exposure(rule, key, wanted)) for key in networks]
    judged = [
        _judge_seen(rule, who, exposure, family, f" on network {last_segment(str(key))}") for key, exposure in exposures
    ]
    return max(judged, key=lambda j: (j.verdict is Verdict.FAIL, j.latent, bool(j.subject)))


_SSH = Coverage.from_specs(("tcp:22", "sctp:22"))
_RDP = Coverage.from_specs(("tcp:3389", "udp:3389"))
_FW03_ALL = union(_FW03_COVERAGE.values())
# The definition FW-01..FW-05 share (`logic=` and `unknown=`); each control says first which pairs it judges.
_EXPOSURE_LOGIC = (
    " A VPC rule is read with the API's defaults: `direction` absent is INGRESS, `priority` absent 1000, "
    "`disabled` absent false, and an ingress rule with no `sourceRanges`, `sourceTags` or `sourceServiceAccounts` "
    "matches `0.0.0.0/0`; `IPProtocol` is a name in any case or a number (`6` tcp, `17` udp, `132` sctp), `all` "
    "is every protocol, and an entry without `ports` opens every port. An egress rule, a deny rule (`denied[]`) "
    "and a rule without an internet source pass. The internet is a source range of prefix 0 (`0.0.0.0/0`, "
    "`::/0`, or the bare `0.0.0.0`, `::`, `::0`), or ranges of one rule whose union covers a whole address "
    "family; source tags or service accounts alone are not. What the rule opens to the internet among the judged "
    "pairs is then cut, per address family, by the rules that take precedence in Google's order: the "
    "hierarchical firewall policies (organisation, then each folder down to the project), then, per network, its "
    "VPC rules and its global and regional network firewall policies (the VPC rules first, or last when the "
    "network's `networkFirewallPolicyEnforcementOrder` is `BEFORE_CLASSIC_FIREWALL`). A deny shadows when it is "
    "enabled, ingress, from an internet range, names no destination ranges, applies to the same network and its "
    "targets cover the rule's (no targets, or a superset of its target tags, or of its target service accounts); "
    "in the rule's own level it must also come first (a lower or equal priority number: deny wins ties, and a "
    "`goto_next` earlier in the rule's own policy cuts too); a deny of a level above always comes first, less "
    "what a `goto_next` before it in its policy passes on; a regional policy's deny shadows only rules of "
    "regional policies of its own region. A judged pair left open fails; a rule whose judged pairs are all "
    "shadowed passes, naming the denies; "
    "a disabled rule (`disabled: true`) that would fail passes marked `latent`. Every rule of a firewall policy "
    "that applies to the scope (hierarchical ones associated with the project's organisation or a folder above "
    "it, and the project's network policies) gets its own result, named by the policy and the rule's priority: "
    "`allow` and `apply_security_profile_group` read as an allow, `deny` and `goto_next` pass, "
    "`match.srcIpRanges` reads like `sourceRanges`, `srcNetworkType: INTERNET`, `srcRegionCodes`, "
    "`srcThreatIntelligences` and `srcFqdns` are internet sources of both families that never shadow, "
    "`srcNetworkType` NON_INTERNET, INTRA_VPC or VPC_NETWORKS is no internet source, and `targetResources` "
    "limits the networks; it is judged on each network of the scope it applies to (the worst result kept) and "
    "passes when it applies to none. Out of scope: a scope without networks gets no result for hierarchical "
    "policy rules; Shared VPC host projects' rules are not read."
)
_EXPOSURE_UNKNOWN = (
    "A rule that cannot be read is `error`, naming the field: an unknown `direction` or `action`, a `priority` "
    "out of range, not exactly one of `allowed[]` and `denied[]` (a policy rule: `match.layer4Configs` absent or "
    "empty, or `match` not an object), an unknown `IPProtocol`, `ports` not a list, a port that is not `N` or "
    "`N-M` within 0-65535 or ports given for a protocol without ports, a source range that is not an IP range, "
    "`disabled` not a boolean, a list field not a list of strings, an unknown `match.srcNetworkType` or malformed "
    "`targetSecureTags`; so is a policy whose "
    "`rules` is not a list of objects, a policy rule allowing a judged pair from `match.srcAddressGroups` alone "
    "(the groups are not read), and an internet allow on a network with associated network policies whose "
    "`networkFirewallPolicyEnforcementOrder` is unknown. An unreadable deny shadows nothing (it has its own "
    "`error`), nor does any rule of a policy holding an unreadable rule. A listing that failed makes the whole "
    "control `error`."
)


@control(
    id="FW-01", title="No SSH from the internet", area=Area.FW, severity=Severity.CRITICAL,
    kinds=_EXPOSURE_KINDS, unit="firewall rule or policy rule", logic_version=2,
    references=References(cis=(("4.0", "3.6"), ("5.0", "3.6")), soc2=("CC6.1", "CC6.6"), sha="OPEN_SSH_PORT"),
    rationale="SSH open to the whole internet is scanned and brute-forced within minutes of going live; "
    "a weak key, a leaked key or an sshd vulnerability then gives a shell on the VM. Administrative "
    "access should come through Identity-Aware Proxy TCP forwarding or a bastion, not from anywhere.",
    remediation="Allow SSH only from IAP's range (35.235.240.0/20) or known networks: `gcloud compute "
    "firewall-rules update RULE --source-ranges=35.235.240.0/20`, or delete the rule: `gcloud compute "
    "firewall-rules delete RULE`." + _POLICY_FIX,
    holds="No enabled firewall rule or firewall-policy rule lets SSH (tcp:22 or sctp:22) in from the internet "
    "once the rules that take precedence over it have had their say.",
    logic="The judged pairs are tcp:22 and sctp:22 (SSH over udp does not count)." + _EXPOSURE_LOGIC,
    unknown=_EXPOSURE_UNKNOWN,
)
def fw01_ssh(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a rule that effectively opens tcp:22 or sctp:22 to the internet: SSH exposure."""
    return _exposure_findings(snapshot, _Family("tcp:22 or sctp:22", lambda rule: _SSH))


@control(
    id="FW-02", title="No RDP from the internet", area=Area.FW, severity=Severity.CRITICAL,
    kinds=_EXPOSURE_KINDS, unit="firewall rule or policy rule", logic_version=2,
    references=References(cis=(("4.0", "3.7"), ("5.0", "3.7")), soc2=("CC6.1", "CC6.6"), sha="OPEN_RDP_PORT"),
    rationale="RDP open to the internet is one of the most common ways into Windows estates: it is "
    "brute-forced constantly and has had wormable pre-authentication vulnerabilities. Remote desktop "
    "should come through Identity-Aware Proxy or a VPN, never from any address.",
    remediation="Allow RDP only from IAP's range or known networks: `gcloud compute firewall-rules update "
    "RULE --source-ranges=35.235.240.0/20`, or delete the rule: `gcloud compute firewall-rules delete "
    "RULE`." + _POLICY_FIX,
    holds="No enabled firewall rule or firewall-policy rule lets RDP (tcp:3389 or udp:3389) in from the "
    "internet once the rules that take precedence over it have had their say.",
    logic="The judged pairs are tcp:3389 and udp:3389 (sctp:3389 does not count)." + _EXPOSURE_LOGIC,
    unknown=_EXPOSURE_UNKNOWN,
)
def fw02_rdp(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a rule that effectively opens tcp:3389 or udp:3389 to the internet: RDP exposure."""
    return _exposure_findings(snapshot, _Family("tcp:3389 or udp:3389", lambda rule: _RDP))


def _services(offending: Coverage) -> str:
    return ", reaching " + ", ".join(name for name, ports in _FW03_COVERAGE.items() if offending & ports)


@control(
    id="FW-03", title="No database or admin port from the internet", area=Area.FW, severity=Severity.HIGH,
    kinds=_EXPOSURE_KINDS, unit="firewall rule or policy rule", logic_version=2,
    references=References(soc2=("CC6.6",), sha="OPEN_*_PORT"),
    rationale="Databases, caches, directory, file-sharing, mail and cluster-admin services (MySQL, Redis, "
    "LDAP, SMB, the Kubernetes API, Docker, ...) are built for trusted networks: many answer without "
    "authentication by default, and internet-wide scanners find and ransom them within hours.",
    remediation="Reach these services over private networking (VPC, Private Service Connect, VPN) and "
    "remove the internet source: `gcloud compute firewall-rules update RULE --source-ranges=CIDR`, or "
    "delete the rule: `gcloud compute firewall-rules delete RULE`." + _POLICY_FIX,
    holds="No enabled firewall rule or firewall-policy rule lets a database, cache, directory, file-sharing, "
    "mail or cluster-admin port in from the internet once the rules that take precedence over it have "
    "had their say.",
    logic="The judged pairs are these ports over tcp and over udp (not sctp), and a failing reason names the "
    "services reached: FTP 20-21, Telnet 23, SMTP 25, DNS 53, POP3 110, NetBIOS 137-139, LDAP 389 and "
    "636, SMB 445, MSSQL 1433, Oracle 1521 and 2483-2484, MySQL 3306, PostgreSQL 5432, VNC 5900, Redis "
    "6379, Kubernetes 6443 and 10250, Docker 2375-2376, Cassandra 7000-7001, 7199, 9042 and 9160, "
    "Elasticsearch 9200 and 9300, Memcached 11211, MongoDB 27017-27019." + _EXPOSURE_LOGIC,
    unknown=_EXPOSURE_UNKNOWN,
)
def fw03_admin_ports(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a rule that effectively opens, over tcp or udp, a database or admin port (the
    list in FW-03's rationale) to the internet; the reason names the services."""
    family = _Family("a database or admin port", lambda rule: _FW03_ALL, note=_services)
    return _exposure_findings(snapshot, family)


@control(
    id="FW-04", title="No rule opens every port or protocol to the internet", area=Area.FW,
    severity=Severity.CRITICAL, kinds=_EXPOSURE_KINDS, unit="firewall rule or policy rule", logic_version=2,
    references=References(soc2=("CC6.6",), sha="OPEN_FIREWALL"),
    rationale="A rule that opens every port or every protocol to the internet exposes whatever any VM it "
    "targets happens to listen on, today and after every future change: the firewall no longer limits "
    "anything, and each new service is public the moment it starts.",
    remediation="Replace the rule's protocols and sources with only those needed: `gcloud compute "
    "firewall-rules update RULE --rules=tcp:443 --source-ranges=CIDR`." + _POLICY_FIX,
    holds="No enabled firewall rule or firewall-policy rule has an entry opening every port or every protocol "
    "to the internet that a single deny taking precedence does not cover whole.",
    logic="The judged pairs are those of the rule's entries that open everything: `all`, tcp, udp or sctp "
    "without `ports`, or a protocol whose ports across the rule's entries cover 1-65535 (so "
    "`tcp:2-65535` does not count, `tcp:0-32767` plus `tcp:32768-65535` does). Unlike FW-01..FW-03 and "
    "FW-05, such an entry counts as shadowed only where ONE deny covers the whole of it (per protocol, "
    "and the whole of `all` for an `all` entry); several denies that cover it between them leave it "
    "open." + _EXPOSURE_LOGIC,
    unknown=_EXPOSURE_UNKNOWN,
)
def fw04_open_all(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a rule with an unshadowed entry opening every port or protocol to the internet
    (`all`, tcp/udp/sctp without ports, or ports covering 1-65535)."""
    note = ", opening every port or protocol"
    family = _Family("every port or protocol", lambda rule: rule.wide, note=lambda c: note, whole_entries=True)
    return _exposure_findings(snapshot, family)


@control(
    id="FW-05", title="Only approved ports face the internet", area=Area.FW, severity=Severity.HIGH,
    kinds=_EXPOSURE_KINDS, unit="firewall rule or policy rule", logic_version=2, params=("firewall.public_ports",),
    references=References(soc2=("CC6.6",), sha="OPEN_FIREWALL"),
    rationale="Every port reachable from the internet is attack surface that must be owned and patched. "
    "Listing the approved ones (`firewall.public_ports`, e.g. tcp:443) turns any other exposure into a "
    "finding, so a forgotten test rule or a too-wide port range is caught when it appears.",
    remediation="Narrow the rule to the approved ports: `gcloud compute firewall-rules update RULE "
    "--rules=tcp:443`, or, after review, add the port to `firewall.public_ports`." + _POLICY_FIX,
    holds="Every (protocol, port) pair that an enabled firewall rule or firewall-policy rule effectively opens "
    "to the internet is listed in `firewall.public_ports`.",
    logic="The judged pairs are every protocol and port; those within `firewall.public_ports` (entries "
    "`proto[:port[-port]]`, a protocol by name or number, no port meaning every port; empty by default, "
    "so any internet exposure fails) are approved. A rule fails when an unapproved pair stays open after "
    "shadowing, and passes as allowing only approved pairs when everything left open is approved." + _EXPOSURE_LOGIC,
    unknown=_EXPOSURE_UNKNOWN,
)
def fw05_public_ports(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a rule that effectively exposes a (protocol, port) outside `firewall.public_ports`."""
    note = f", outside firewall.public_ports ({', '.join(params.firewall.public_ports) or 'empty'})"
    approved = Coverage.from_specs(params.firewall.port_specs())
    return _exposure_findings(snapshot, _Family("anything", lambda rule: ALL, approved, lambda c: note))


# --- FW-06 to FW-10 ---------------------------------------------------------------------------


def _log_state(resource: JSON) -> str:
    """How `logConfig.enable` reads when it is not true: false, absent, or no logConfig at all."""
    if resource.get("logConfig") is None:
        return "logConfig absent: off by default"
    return "logConfig.enable: false" if "enable" in resource["logConfig"] else "logConfig.enable absent: off by default"


@control(
    id="FW-06", title="Firewall rule logging is on", area=Area.FW, severity=Severity.MEDIUM,
    kinds=_LOGGING_KINDS, unit="firewall rule or policy rule", logic_version=2,
    references=References(soc2=("CC7.2",), sha="FIREWALL_RULE_LOGGING_DISABLED"),
    rationale="Without firewall rule logging there is no record of which connections a rule allowed "
    "or denied, so an intrusion through an open port, or a rule that blocks legitimate traffic, "
    "cannot be investigated after the fact.",
    remediation="Turn logging on for the rule: `gcloud compute firewall-rules update RULE "
    "--enable-logging --logging-metadata=exclude-all`; for a firewall policy rule, `gcloud compute "
    "firewall-policies rules update PRIORITY --firewall-policy=POLICY --enable-logging` (network "
    "policies: `gcloud compute network-firewall-policies rules update PRIORITY --firewall-policy=POLICY "
    "--global-firewall-policy --enable-logging`).",
    holds="Every enabled VPC firewall rule, and every enabled allow or deny rule of a firewall policy that "
    "applies to the scope, logs the connections it matches.",
    logic="A VPC rule (ingress or egress, allow or deny) with `disabled: true` passes as out of scope until "
    "enabled; otherwise it passes only with `logConfig.enable: true`, and fails with `logConfig.enable: "
    "false`, with `enable` absent or with no `logConfig` at all (logging is off by default); "
    "`logConfig.metadata` is not judged. The policies read are the hierarchical ones associated with the "
    "project's organisation or a folder above it, and every global and regional network firewall policy "
    "of the project, associated with a network or not; each of their rules is one result named by its "
    "priority: a `goto_next` rule decides nothing and gets no result, a disabled rule passes as out of "
    "scope, and an `allow`, `deny` or `apply_security_profile_group` rule passes only with "
    "`enableLogging: true` (absent is off).",
    unknown="An `error`, naming the field, for a rule whose `disabled`, `logConfig.enable` or `enableLogging` is "
    "not a boolean, whose `logConfig` is not an object, or (a policy rule) whose `action` is unknown or "
    "which is not an object, and for a policy whose `rules` is not a list; a listing that failed makes "
    "the whole control `error`.",
)
def fw06_rule_logging(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an enabled rule without `logConfig.enable: true` (absent is off), and an enabled
    allow or deny rule of a firewall policy that applies to the scope (hierarchical ones above
    it, every network policy of the project) without `enableLogging: true`. A disabled rule
    passes, saying it is out of scope until enabled, so that every rule has one result."""
    yield from per_resource(snapshot.get(Kind.FIREWALLS), snapshot.scope, _FIREWALLS, "rule", _rule_logging)
    hierarchy, network = policies(snapshot)
    for policy in [*hierarchy, *network]:
        rules = policy.raw.get("rules", [])
        if not isinstance(rules, list):
            yield Finding(policy.resource, Verdict.ERROR, f"{policy.label}: cannot judge rules: not a list", "rules")
            continue
        for raw in rules:
            judged = attempt(_policy_rule_logging, raw if isinstance(raw, dict) else {}, policy)
            priority = raw.get("priority", "?") if isinstance(raw, dict) else "?"
            if isinstance(judged, Unjudgeable):
                who = f"rule {priority} of {policy.label}"
                yield Finding(policy.resource, Verdict.ERROR, judged.reason(who), judged.field)
            elif judged is not None:
                yield Finding(policy.resource, judged.verdict, judged.reason, f"priority {priority}")


def _policy_rule_logging(raw: JSON, policy: Policy) -> Judgement | None:
    """A policy rule that allows or denies logs only with `enableLogging: true`; goto_next decides nothing."""
    who = f"rule {raw.get('priority', '?')} of {policy.label}"
    action = raw.get("action")
    if action not in ACTIONS:
        raise Unjudgeable("action", f"unknown action {action!r}")
    if ACTIONS[action] == "goto_next":
        return None
    disabled, logging = flag(raw, "disabled"), flag(raw, "enableLogging")
    if disabled:
        return Judgement(Verdict.PASS, f"{who} is disabled (disabled: true): out of scope until enabled")
    if logging:
        return Judgement(Verdict.PASS, f"{who} logs (enableLogging: true)")
    state = "enableLogging: false" if "enableLogging" in raw else "enableLogging absent: off by default"
    return Judgement(Verdict.FAIL, f"{who} is enabled and does not log ({state})")


def _rule_logging(raw: JSON, who: str) -> Judgement:
    disabled, logging = flag(raw, "disabled"), flag(obj(raw, "logConfig"), "enable", "logConfig.enable")
    if disabled:
        return Judgement(Verdict.PASS, f"{who} is disabled (disabled: true): out of scope until enabled")
    if logging:
        return Judgement(Verdict.PASS, f"{who} logs (logConfig.enable: true)")
    return Judgement(Verdict.FAIL, f"{who} is enabled and does not log ({_log_state(raw)})")


@control(
    id="FW-07", title="No default network", area=Area.FW, severity=Severity.MEDIUM, logic_version=2,
    kinds=(Kind.FIREWALLS, Kind.NETWORKS), unit="network, and default-allow-* rule",
    references=References(cis=(("4.0", "3.1"), ("5.0", "3.1")), soc2=("CC6.6",), sha="DEFAULT_NETWORK"),
    rationale="The default network is created with every project: an auto-mode VPC with a subnetwork "
    "in every region and the rules default-allow-internal, -ssh, -rdp and -icmp, the last three open "
    "to the whole internet. Nobody designed it, so workloads placed in it inherit exposure nobody chose.",
    remediation="Move workloads to a custom-mode VPC, then delete the default rules and network: "
    "`gcloud compute firewall-rules delete default-allow-internal default-allow-ssh default-allow-rdp "
    "default-allow-icmp` and `gcloud compute networks delete default`; stop new projects getting one "
    "with the organisation policy `constraints/compute.skipDefaultNetworkCreation`.",
    holds="The project has no network named `default`, and none of the default network's rules "
    "(default-allow-internal, -ssh, -rdp, -icmp) is enabled.",
    logic="Each network gets one result: it fails when its `name` is exactly `default` (whatever its mode or "
    "subnetworks) and passes otherwise. Each VPC firewall rule named exactly `default-allow-internal`, "
    "`default-allow-ssh`, `default-allow-rdp` or `default-allow-icmp`, whatever network it is on, gets "
    "one result: it passes with `disabled: true` and fails otherwise (`disabled` false or absent). Every "
    "other firewall rule is out of scope and gets no result; firewall policies are not read.",
    unknown="An `error`, naming the field, for a default-allow-* rule whose `disabled` is not a boolean, and "
    "for a network or firewall rule without a `name` (it might be the default one); a listing that failed "
    "makes the whole control `error`.",
)
def fw07_default_network(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a network named `default`, and each enabled default-allow-internal/-ssh/-rdp/-icmp
    rule: the permissive defaults every project is created with."""
    for network in snapshot.get(Kind.NETWORKS):
        name = network.get("name")
        resource = compute_name(network, snapshot.scope, "networks")
        if not isinstance(name, str) or not name:  # it might be the default network
            said = "absent" if name is None else f"{name!r} is not a network name"
            yield Finding(resource, Verdict.ERROR, f"network ?: cannot judge name: {said}", "name")
        elif name == "default":
            reason = "network default is the project's default network (name: default)"
            yield Finding(resource, Verdict.FAIL, reason, name)
        else:
            yield Finding(resource, Verdict.PASS, f"network {name} is not named default", name)
    yield from per_resource(snapshot.get(Kind.FIREWALLS), snapshot.scope, _FIREWALLS, "rule", _default_rule)


def _default_rule(raw: JSON, who: str) -> Judgement | None:
    name = raw.get("name")
    if not isinstance(name, str) or not name:  # it might be one of the default rules
        raise Unjudgeable("name", "absent" if name is None else f"{name!r} is not a rule name")
    if name not in _DEFAULT_RULES:
        return None
    if flag(raw, "disabled"):
        return Judgement(Verdict.PASS, f"{who} is disabled (disabled: true)", name)
    state = "disabled: false" if "disabled" in raw else "disabled absent"
    return Judgement(Verdict.FAIL, f"{who}, a default-network rule, is enabled ({state})", name)


def _denies_all_egress(rule: Rule, family: int) -> bool:
    """An egress deny of every protocol to the whole `family`, for every instance and source."""
    return (
        not rule.ingress
        and not rule.allow
        and rule.coverage == ALL
        and family in rule.internet
        and not (rule.target_tags or rule.target_accounts or rule.narrowed)
    )


def _by_network(items: Iterable[tuple[JSON, T]], scope: str) -> dict[str | None, list[tuple[JSON, T]]]:
    """Items grouped by the network their resource names, in their order: one pass, not one per network."""
    grouped: dict[str | None, list[tuple[JSON, T]]] = {}
    for raw, item in items:
        grouped.setdefault(network_key(raw.get("network"), scope), []).append((raw, item))
    return grouped


def _ipv6_need(subnetworks: Iterable[tuple[JSON, JSON]]) -> tuple[str, str]:
    """Why the network needs an IPv6 deny too ("" if not), and why that is unknown ("" if known)."""
    need, unknown = "", ""
    for sub, _ in subnetworks:
        stack = sub.get("stackType", "IPV4_ONLY")
        if stack in ("IPV4_IPV6", "IPV6_ONLY"):
            need = need or f"subnetwork {sub.get('name')} has stackType: {stack}"
        elif stack != "IPV4_ONLY":
            unknown = unknown or f"subnetwork {sub.get('name')} has unknown stackType {stack!r}"
    return need, unknown


@control(
    id="FW-08", title="Egress is denied by default", area=Area.FW, severity=Severity.LOW,
    kinds=(Kind.FIREWALLS, Kind.NETWORKS, Kind.SUBNETWORKS), unit="network",
    references=References(soc2=("CC6.6",), sha="EGRESS_DENY_RULE_NOT_SET"),
    rationale="VPC networks allow all egress by default, so a compromised VM can download tooling and "
    "send data anywhere. A lowest-priority deny-all egress rule makes every outbound flow an explicit, "
    "reviewable allow; dual-stack networks need it for IPv6 too, or IPv6 stays wide open.",
    remediation="Add a deny-all egress rule per address family, then allow what is needed at a "
    "higher priority: `gcloud compute firewall-rules create deny-all-egress --network=NETWORK "
    "--direction=EGRESS --action=DENY --rules=all --destination-ranges=0.0.0.0/0 --priority=65535` "
    "(and `deny-all-egress-v6` with `--destination-ranges=::/0` for dual-stack subnetworks).",
    holds="Every network has an enabled egress rule denying every protocol to the whole IPv4 internet, and to "
    "the whole IPv6 internet too when one of its subnetworks carries IPv6.",
    logic="Per network (matched to rules and subnetworks by their `network` URL or relative path), only VPC "
    "rules count: a rule counts for a family when it is enabled (`disabled` absent or false), "
    "`direction: EGRESS`, `denied[]` matches every protocol (`all`, or entries covering every protocol "
    "and port), its `destinationRanges` cover the whole family (a prefix 0 range or ranges whose union "
    "covers it; none given means `0.0.0.0/0`), and it names no `targetTags`, `targetServiceAccounts` or "
    "`sourceRanges`; its priority does not matter, and allow rules that reopen egress above it are not "
    "weighed. IPv4 is always needed; `::/0` is needed too when a subnetwork of the network has "
    "`stackType` IPV4_IPV6 or IPV6_ONLY (absent is IPV4_ONLY). The network passes, naming the deciding "
    "rules, when every needed family has such a rule; it fails otherwise, naming any rule that would "
    "count but is disabled. Firewall policies are not read.",
    unknown="An `error` naming the missing range, and saying why, when a needed family has no counting rule and "
    "the network holds a VPC rule that cannot be read (any unreadable field, as for FW-01), or when the "
    "only range missing is `::/0` and it is needed only because a subnetwork's `stackType` is a value not "
    "known (neither IPV4_ONLY, IPV4_IPV6 nor IPV6_ONLY); when the needed rules are present, unreadable "
    "rules and unknown stack types do not matter. A listing that failed makes the whole control `error`.",
)
def fw08_egress_deny(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a network without an enabled egress deny of `all` to 0.0.0.0/0 applying to every
    instance, and to ::/0 too when one of its subnetworks has IPv6 (`stackType` IPV4_IPV6, or
    IPV6_ONLY): without it, any VM can send data anywhere."""
    parsed = _by_network(_parsed(snapshot), snapshot.scope)
    subnetworks = _by_network(((sub, sub) for sub in snapshot.get(Kind.SUBNETWORKS)), snapshot.scope)
    ranges = {4: "0.0.0.0/0", 6: "::/0"}
    for network in snapshot.get(Kind.NETWORKS):
        name = str(network.get("name", "?"))
        key = network_key(network.get("selfLink") or name, snapshot.scope)
        resource = compute_name(network, snapshot.scope, "networks")
        need_v6, unknown = _ipv6_need(subnetworks.get(key, []))
        here = parsed.get(key, [])
        rules = [rule for _, rule in here if isinstance(rule, Rule)]
        broken = [f"rule {raw.get('name', '?')}: {rule}" for raw, rule in here if isinstance(rule, Unjudgeable)]
        candidates = {fam: [r for r in rules if _denies_all_egress(r, fam)] for fam in ranges}
        enabled = {fam: [r for r in candidates[fam] if r.enabled] for fam in ranges}
        missing = [fam for fam in ((4, 6) if need_v6 or unknown else (4,)) if not enabled[fam]]
        certain = [fam for fam in missing if fam == 4 or need_v6]  # not just an unknown stackType
        why = f", needed as {need_v6}" if need_v6 else ""
        if not missing:
            deciding = [fam for fam in ranges if fam == 4 or need_v6 or unknown]
            by = "; ".join(f"rule {enabled[fam][0].name} denies all egress to {ranges[fam]}" for fam in deciding)
            subject = ", ".join(ranges[fam] for fam in deciding)
            yield Finding(resource, Verdict.PASS, f"network {name}: {by}{why}", subject)
        elif broken or not certain:
            subject = ", ".join(ranges[fam] for fam in missing)
            reason = f"network {name}: cannot judge egress to {subject}: {'; '.join(broken or [unknown])}"
            yield Finding(resource, Verdict.ERROR, reason, subject)
        else:
            subject = ", ".join(ranges[fam] for fam in certain)
            off = sorted({f"rule {r.name} would, but is disabled" for fam in certain for r in candidates[fam]})
            reason = (
                f"network {name} has no enabled egress rule denying all to {subject} (direction: EGRESS, "
                f"denied[]: all, no targets){why}" + (f" ({'; '.join(off)})" if off else "")
            )
            yield Finding(resource, Verdict.FAIL, reason, subject)


def _approval(instance: JSON, scope: str, specs: Iterable[str]) -> str | None:
    """The `firewall.public_instances` entry (PROJECT/ZONE/NAME or label=value) the instance matches."""
    labels = instance.get("labels") or {}
    link = str(instance.get("selfLink", ""))
    project = link.split("/projects/", 1)[1].split("/", 1)[0] if "/projects/" in link else scope
    path = f"{project}/{last_segment(str(instance.get('zone', '')))}/{instance.get('name')}"
    for spec in specs:
        key, is_label, value = spec.partition("=")
        if (is_label and isinstance(labels, dict) and labels.get(key) == value) or spec == path:
            return spec
    return None


@control(
    id="FW-09", title="No VM can get an external IP unless approved", area=Area.FW, severity=Severity.HIGH,
    kinds=(Kind.INSTANCES,), params=("firewall.public_instances",), unit="instance", logic_version=2,
    references=References(cis=(("4.0", "4.9"), ("5.0", "4.9")), soc2=("CC6.6",), sha="PUBLIC_IP_ADDRESS"),
    rationale="A VM with an external IP is directly reachable from the internet, and only its firewall "
    "rules stand between it and every scanner; one too-wide rule exposes it. VMs should reach out "
    "through Cloud NAT and be reached through load balancers or IAP, with direct exposure approved "
    "case by case.",
    remediation="Remove the external address: `gcloud compute instances delete-access-config INSTANCE "
    "--zone=ZONE --access-config-name=\"external-nat\"` (IPv6: `gcloud compute instances "
    "network-interfaces update INSTANCE --zone=ZONE --stack-type=IPV4_ONLY`), or, after review, list "
    "it in `firewall.public_instances`; enforce with the organisation policy "
    "`constraints/compute.vmExternalIpAccess`.",
    holds="No instance can hold an external IPv4 or IPv6 address unless it matches an entry of "
    "`firewall.public_instances`.",
    logic="An instance has an external address when any `networkInterfaces[].accessConfigs[]` entry has `type` "
    "ONE_TO_ONE_NAT (the type when absent), with or without a `natIP` (a stopped instance gets one when "
    "it starts, so `status` does not matter), or any `networkInterfaces[].ipv6AccessConfigs[]` entry "
    "exists (type DIRECT_IPV6 when absent). Without one it passes. With one it passes only when it "
    "matches `firewall.public_instances` (empty by default): an entry `PROJECT/ZONE/NAME` (the project "
    "from the instance's `selfLink`, else the scope; the zone the last segment of `zone`) or "
    "`label=value` matched exactly against the instance's `labels`; otherwise it fails, naming each "
    "interface and address.",
    unknown="An `error`, naming the field, when `networkInterfaces`, an `accessConfigs` or an "
    "`ipv6AccessConfigs` is not a list of objects, or an access config's `type` is neither "
    "ONE_TO_ONE_NAT nor DIRECT_IPV6, or `networkInterfaces` is absent or empty (every instance has at least "
    "one: its addresses were not read, so it cannot pass); a listing that failed makes the whole control `error`.",
)
def fw09_external_ip(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails an instance with a ONE_TO_ONE_NAT access config (with or without natIP, running or
    not: a stopped VM gets an address on start) or an ipv6AccessConfigs entry, unless it matches
    `firewall.public_instances`."""

    def judge(instance: JSON, who: str) -> Judgement:
        external = list(external_ips(instance))
        if not external:
            reason = f"{who} has no external IP (no ONE_TO_ONE_NAT accessConfigs, no ipv6AccessConfigs)"
            return Judgement(Verdict.PASS, reason)
        subject, how = ", ".join(s for s, _ in external), "; ".join(r for _, r in external)
        approved = _approval(instance, snapshot.scope, params.firewall.public_instances)
        if approved:
            reason = f"{who} has an external IP via {how}; approved by firewall.public_instances entry {approved}"
            return Judgement(Verdict.PASS, reason, subject)
        reason = f"{who} has an external IP via {how}; it matches no firewall.public_instances entry"
        return Judgement(Verdict.FAIL, reason, subject)

    return per_resource(snapshot.get(Kind.INSTANCES), snapshot.scope, "instances", "instance", judge)


@control(
    id="FW-10", title="VPC flow logs are on, as CIS audits them", area=Area.FW, severity=Severity.LOW,
    kinds=(Kind.SUBNETWORKS,), unit="subnetwork", logic_version=2,
    references=References(cis=(("4.0", "3.8"), ("5.0", "3.10")), soc2=("CC7.2",), sha="FLOW_LOGS_DISABLED"),
    rationale="VPC flow logs record which addresses talked to which, and how much. Without them, "
    "network anomalies and data exfiltration cannot be detected, and an incident's reach cannot be "
    "reconstructed afterwards; sampled, aggregated over minutes, stripped of metadata or filtered, they "
    "miss the flows an investigation needs. Google's API reference gives `metadata` the default "
    "EXCLUDE_ALL_METADATA where CIS's console text assumes metadata is included: we follow the API, so a "
    "subnetwork must say INCLUDE_ALL_METADATA. A `filterExpr` of `true` exports every flow, so it does "
    "not count as narrowing (CIS asks for no filter at all). Security Command Center reports the settings "
    "as FLOW_LOGS_SETTINGS_NOT_RECOMMENDED.",
    remediation="Turn flow logs on with CIS's settings: `gcloud compute networks subnets update SUBNET "
    "--region=REGION --enable-flow-logs --logging-aggregation-interval=interval-5-sec "
    "--logging-flow-sampling=1.0 --logging-metadata=include-all` (and `--logging-filter-expr=true` to drop "
    "a filter).",
    holds="The subnetwork logs every flow, aggregated every 5 seconds, with all metadata and no filter.",
    logic="Each subnetwork of the aggregated listing is judged alone, by `purpose` (absent: PRIVATE). "
    "PRIVATE and PRIVATE_RFC_1918 are judged; proxy-only (REGIONAL_MANAGED_PROXY, GLOBAL_MANAGED_PROXY, "
    "INTERNAL_HTTPS_LOAD_BALANCER) and PRIVATE_SERVICE_CONNECT subnetworks cannot log flows and pass "
    "saying so; PRIVATE_NAT and PEER_MIGRATION pass as outside CIS 3.8, which judges PRIVATE ones. Flow "
    "logs are on when `logConfig.enable` or the older `enableFlowLogs` is true (absent: off); off fails. "
    "When on, each of these must hold, with the API's default for an absent field: "
    "`logConfig.aggregationInterval` INTERVAL_5_SEC (default INTERVAL_5_SEC), `logConfig.flowSampling` "
    "1.0 (default 0.5), `logConfig.metadata` INCLUDE_ALL_METADATA (default EXCLUDE_ALL_METADATA), and "
    "`logConfig.filterExpr` absent, empty or `true`; every one that does not is named in the failure.",
    unknown="`error` for the subnetwork when `purpose` is a value the API did not list, `logConfig` is not "
    "an object, `logConfig.enable` or `enableFlowLogs` is not a boolean, `logConfig.flowSampling` is not a "
    "number in [0, 1], `logConfig.aggregationInterval` or `logConfig.metadata` is not one of the API's "
    "values, or `logConfig.filterExpr` is not a string; `error` for every subnetwork when the listing "
    "cannot be read.",
)
def fw10_flow_logs(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails a PRIVATE subnetwork whose flow logs are off (neither `logConfig.enable: true` nor
    `enableFlowLogs: true`), or on with settings short of CIS 3.8's: 5-second aggregation, sampling
    1.0, all metadata, no filter. Proxy-only and Private Service Connect subnetworks cannot log, and
    pass saying so."""
    return per_resource(snapshot.get(Kind.SUBNETWORKS), snapshot.scope, "subnetworks", "subnetwork", _flow_logs)


def _flow_logs(sub: JSON, who: str) -> Judgement:
    purpose = sub.get("purpose", "PRIVATE")
    if not isinstance(purpose, str):
        raise Unjudgeable("purpose", f"{purpose!r} is not a string")
    if purpose in _NO_FLOW_LOGS:
        return Judgement(Verdict.PASS, f"{who} has purpose {purpose}, which cannot log flows")
    if purpose in _FLOW_LOGS_UNJUDGED:
        return Judgement(Verdict.PASS, f"{who} has purpose {purpose}: outside CIS 3.8, which judges PRIVATE ones")
    if purpose not in _FLOW_LOGS_JUDGED:
        raise Unjudgeable("purpose", f"unknown purpose {purpose!r}")
    config = obj(sub, "logConfig")
    on = [key for key, value in (("logConfig.enable", flag(config, "enable", "logConfig.enable")),
                                 ("enableFlowLogs", flag(sub, "enableFlowLogs"))) if value]  # fmt: skip
    if not on:
        legacy = ", enableFlowLogs: false" if "enableFlowLogs" in sub else ""
        return Judgement(Verdict.FAIL, f"{who} does not log flows ({_log_state(sub)}{legacy})")
    short = flow_log_shortfalls(config)
    if short:
        return Judgement(Verdict.FAIL, f"{who} logs flows ({on[0]}: true) short of CIS 3.8: {'; '.join(short)}")
    return Judgement(Verdict.PASS, f"{who} logs every flow ({on[0]}: true, 5-second aggregation, sampling 1.0, "
                                   "all metadata, no filter)")  # fmt: skip
