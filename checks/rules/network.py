"""What a VPC firewall rule matches, read from the Compute REST JSON shape: internet ranges,
protocols and ports, exposure, shadowing and targets (the definitions every FW control shares).

A rule's `allowed[]`/`denied[]` entries become a `Coverage`: a set of (IP protocol number,
port) pairs, so that "what is exposed", "what a deny removes" and "what is approved" are
plain set operations, judged per address family (4 or 6). Conventions of the API kept here:
- `IPProtocol` is a name (`tcp`, any case) or a number (`6` is tcp, `17` udp, `132` sctp);
  `all` is every protocol; absent `ports` means every port;
- `direction` absent is INGRESS, `disabled` absent is false, `priority` absent is 1000;
- an ingress rule with no `sourceRanges`, `sourceTags` or `sourceServiceAccounts`, and an
  egress rule with no `destinationRanges`, match `0.0.0.0/0` (the API's default).
It also reads which access configs give an instance an external IP. Data that cannot be
judged raises `Unjudgeable`, which the controls turn into `error`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from checks.kernel import JSON, Unjudgeable, attempt, read_each
from checks.params import PortSpec, parse_port_spec

PortRanges = tuple[tuple[int, int], ...]

MAX_PORT = 65535
FULL: PortRanges = ((0, MAX_PORT),)
TCP, UDP, SCTP = 6, 17, 132
PORTED = frozenset({TCP, UDP, SCTP})  # the only protocols whose rules may name ports
DEFAULT_PRIORITY = 1000
DEFAULT_SOURCE = "no sourceRanges, sourceTags or sourceServiceAccounts: the API default"
_PROTOCOLS = {"icmp": 1, "ipip": 4, "tcp": TCP, "udp": UDP, "esp": 50, "ah": 51, "sctp": SCTP}
_PROTOCOL_NAMES = {number: name for name, number in _PROTOCOLS.items()}
_PORT = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?", re.ASCII)
_NETWORK = re.compile(r"projects/([^/]+)/global/networks/([^/]+)")


# --- protocols and ports ---------------------------------------------------------------------


def protocol_number(value: object, field: str = "IPProtocol") -> int | None:
    """The IP protocol number of `value` (`"tcp"`, `"TCP"`, `"6"`), or None for `all`."""
    text = str(value).strip().lower() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if text == "all":
        return None
    if text in _PROTOCOLS:
        return _PROTOCOLS[text]
    if re.fullmatch(r"\d{1,3}", text, re.ASCII) and int(text) <= 255:
        return int(text)
    raise Unjudgeable(field, f"unknown IP protocol {value!r}")


def protocol_name(number: int) -> str:
    return _PROTOCOL_NAMES.get(number, str(number))


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> PortRanges:
    """Sorted, disjoint, non-adjacent ranges covering the same ports."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def subtract_ranges(ranges: PortRanges, removed: PortRanges) -> PortRanges:
    """The ports of `ranges` not in `removed` (both merged)."""
    left: list[tuple[int, int]] = []
    for low, high in ranges:
        start = low
        for cut_low, cut_high in removed:
            if cut_high < start or cut_low > high:
                continue
            if cut_low > start:
                left.append((start, cut_low - 1))
            start = cut_high + 1
        if start <= high:
            left.append((start, high))
    return tuple(left)


def parse_ports(values: Sequence[object], field: str) -> PortRanges:
    """Port entries (`"22"`, `"20-30"`) as merged ranges; raises Unjudgeable on anything else."""
    ranges: list[tuple[int, int]] = []
    for index, value in enumerate(values):
        readable = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        match = _PORT.fullmatch(str(value)) if readable else None
        low = int(match[1]) if match else -1
        high = int(match[2]) if match and match[2] else low
        if match is None or not 0 <= low <= high <= MAX_PORT:
            raise Unjudgeable(f"{field}[{index}]", f"{value!r} is not a port or port range (e.g. '22', '20-30')")
        ranges.append((low, high))
    return merge_ranges(ranges)


@dataclass(frozen=True, slots=True)
class Coverage:
    """A set of (IP protocol, port) pairs. Protocols without ports are held with every port."""

    protocols: tuple[tuple[int, PortRanges], ...] = ()

    @classmethod
    def of(cls, mapping: Mapping[int, Iterable[tuple[int, int]]]) -> Coverage:
        items: list[tuple[int, PortRanges]] = []
        for number in sorted(mapping):
            ranges = merge_ranges(mapping[number])
            if ranges:
                items.append((number, ranges if number in PORTED else FULL))
        return cls(tuple(items))

    @classmethod
    def from_specs(cls, specs: Iterable[PortSpec | str]) -> Coverage:
        """The pairs `proto[:port[-port]]` specs name (the config loader has rejected unknown protocols)."""
        mapping: dict[int, list[tuple[int, int]]] = {}
        for spec in specs:
            parsed = parse_port_spec(spec) if isinstance(spec, str) else spec
            number = attempt(protocol_number, parsed.protocol)
            if isinstance(number, Unjudgeable):
                continue
            for each in range(256) if number is None else (number,):
                mapping.setdefault(each, []).append((parsed.low, parsed.high))
        return cls.of(mapping)

    def __bool__(self) -> bool:
        return bool(self.protocols)

    def __or__(self, other: Coverage) -> Coverage:
        mapping: dict[int, list[tuple[int, int]]] = {}
        for number, ranges in self.protocols + other.protocols:
            mapping.setdefault(number, []).extend(ranges)
        return Coverage.of(mapping)

    def __sub__(self, other: Coverage) -> Coverage:
        removed = dict(other.protocols)
        items = ((n, subtract_ranges(r, removed[n]) if n in removed else r) for n, r in self.protocols)
        return Coverage(tuple((n, r) for n, r in items if r))

    def __and__(self, other: Coverage) -> Coverage:
        return self - (self - other)

    def __str__(self) -> str:
        """`tcp:22, tcp:80-90, udp, icmp`; `all`, or `all except …` when most protocols are in."""
        if not self.protocols:
            return "nothing"
        if len(self.protocols) > 128:
            rest = ALL - self
            return f"all except {rest}" if rest else "all"
        parts: list[str] = []
        for number, ranges in self.protocols:
            name = protocol_name(number)
            if ranges == FULL or number not in PORTED:
                parts.append(name)
            else:
                parts.extend(f"{name}:{lo}" if lo == hi else f"{name}:{lo}-{hi}" for lo, hi in ranges)
        return ", ".join(parts)


ALL = Coverage.of({number: FULL for number in range(256)})
EMPTY = Coverage()


def union(coverages: Iterable[Coverage]) -> Coverage:
    merged = EMPTY
    for coverage in coverages:
        merged = merged | coverage
    return merged


def parse_entries(entries: object, field: str) -> tuple[Coverage, Coverage]:
    """An `allowed[]`/`denied[]` list as (everything it matches, the part matched by entries that
    open every port or protocol: `all`, tcp/udp/sctp without ports, or ports covering 1-65535)."""
    if not isinstance(entries, list) or not entries:
        raise Unjudgeable(field, "is not a non-empty list")
    mapping: dict[int, list[tuple[int, int]]] = {}
    every = False  # an `all` entry: the rule matches ALL, shared rather than built again
    for index, entry in enumerate(entries):
        where = f"{field}[{index}]"
        if not isinstance(entry, dict):
            raise Unjudgeable(where, "is not an object")
        number = protocol_number(entry.get("IPProtocol"), f"{where}.IPProtocol")
        ports = entry.get("ports") or []
        if not isinstance(ports, list):
            raise Unjudgeable(f"{where}.ports", "is not a list")
        if ports and (number is None or number not in PORTED):
            name = "all" if number is None else protocol_name(number)
            raise Unjudgeable(f"{where}.ports", f"ports are given for {name}, which has none")
        ranges = parse_ports(ports, f"{where}.ports") if ports else FULL
        if number is None:
            every = True
        else:
            mapping.setdefault(number, []).extend(ranges)
    coverage = ALL if every else Coverage.of(mapping)
    wide = coverage if coverage == ALL else Coverage(
        tuple((n, r) for n, r in coverage.protocols if n in PORTED and not subtract_ranges(((1, MAX_PORT),), r))
    )
    return coverage, wide


# --- address ranges ---------------------------------------------------------------------------


def parse_range(text: object, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR range; a bare unspecified address (`0.0.0.0`, `::`, `::0`) means the whole family."""
    try:
        if not isinstance(text, str):
            raise ValueError
        if "/" not in text and ipaddress.ip_address(text.strip()).is_unspecified:
            return ipaddress.ip_network(f"{text.strip()}/0")
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise Unjudgeable(field, f"{text!r} is not an IP address range") from None


def _span(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int]:
    """First and last address of `network` as integers. Not `broadcast_address`: that is a
    `functools.cached_property`, whose one lock (Python 3.11) every judging thread queued on."""
    first = int(network.network_address)
    return first, first | ((1 << (network.max_prefixlen - network.prefixlen)) - 1)


def internet_families(ranges: Sequence[object], field: str) -> dict[int, tuple[str, ...]]:
    """The address families (4, 6) the ranges cover whole, each with the ranges (as written)
    that do: the prefix-0 ones, else all of that family's ranges, whose union covers it."""
    by_family: dict[int, list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]]] = {4: [], 6: []}
    for index, text in enumerate(ranges):
        network = parse_range(text, f"{field}[{index}]")
        by_family[network.version].append((str(text), network))
    found: dict[int, tuple[str, ...]] = {}
    for family, items in by_family.items():
        whole = tuple(text for text, network in items if network.prefixlen == 0)
        spans = merge_ranges(_span(net) for _, net in items)
        if whole:
            found[family] = whole
        elif spans == ((0, 2 ** (32 if family == 4 else 128) - 1),):
            found[family] = tuple(text for text, _ in items)
    return found


def network_key(url: object, scope: str) -> str | None:
    """`project/network` for a network URL, relative path or name; None when absent."""
    if not isinstance(url, str) or not url.strip():
        return None
    match = _NETWORK.search(url)
    if match:
        return f"{match[1]}/{match[2]}"
    return f"{scope}/{url.rstrip('/').rsplit('/', 1)[-1]}"


# --- rules ------------------------------------------------------------------------------------


def flag(resource: JSON, key: str, field: str = "") -> bool:
    """A boolean field, false when absent; raises Unjudgeable (at `field`, default `key`) otherwise."""
    value = resource.get(key, False)
    if not isinstance(value, bool):
        raise Unjudgeable(field or key, f"{value!r} is not a boolean")
    return value


def strings(resource: JSON, key: str) -> tuple[str, ...]:
    """A list-of-strings field, empty when absent."""
    value = resource.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unjudgeable(key, f"{value!r} is not a list of strings")
    return tuple(value)


def obj(resource: JSON, key: str) -> JSON:
    """An object field, empty when absent."""
    value = resource.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unjudgeable(key, f"{value!r} is not an object")
    return value


@dataclass(frozen=True, slots=True)
class Rule:
    """One firewall rule, read with the API's defaults filled in."""

    name: str
    network: str | None
    ingress: bool
    allow: bool
    enabled: bool
    priority: int
    coverage: Coverage  # what its allowed[] or denied[] entries match
    wide: Coverage  # the part matched by entries opening every port or protocol (FW-04)
    internet: Mapping[int, tuple[str, ...]]  # family -> the ranges making it match the internet
    ranges_field: str  # where `internet` comes from: sourceRanges, destinationRanges or DEFAULT_SOURCE
    sources: str  # readable summary of the source fields, for "not from the internet" reasons
    target_tags: frozenset[str]
    target_accounts: frozenset[str]
    narrowed: bool  # it also names ranges on the other side (ingress destinationRanges, …)


def parse_rule(raw: JSON, scope: str) -> Rule:
    """Read a firewall rule; raises Unjudgeable naming the field it cannot judge."""
    direction = raw.get("direction", "INGRESS")
    if not isinstance(direction, str) or direction.upper() not in ("INGRESS", "EGRESS"):
        raise Unjudgeable("direction", f"unknown direction {direction!r}")
    ingress = direction.upper() == "INGRESS"
    priority = raw.get("priority", DEFAULT_PRIORITY)
    if isinstance(priority, bool) or not str(priority).isdigit() or int(priority) > MAX_PORT:
        raise Unjudgeable("priority", f"{priority!r} is not a priority (0-65535)")
    if bool(raw.get("allowed")) == bool(raw.get("denied")):
        raise Unjudgeable("allowed/denied", "a rule needs exactly one of allowed[] and denied[]")
    action = "allowed" if raw.get("allowed") else "denied"
    coverage, wide = parse_entries(raw[action], action)
    field, other = ("sourceRanges", "destinationRanges") if ingress else ("destinationRanges", "sourceRanges")
    ranges = strings(raw, field)
    tags, accounts = strings(raw, "sourceTags"), strings(raw, "sourceServiceAccounts")
    if ranges:
        internet = internet_families(ranges, field)
    elif ingress and (tags or accounts):
        internet = {}
    else:
        internet, field = {4: ("0.0.0.0/0",)}, DEFAULT_SOURCE if ingress else "no destinationRanges: the API default"
    described = (("sourceRanges", strings(raw, "sourceRanges")), ("sourceTags", tags),
                 ("sourceServiceAccounts", accounts))
    return Rule(
        name=str(raw.get("name", "?")),
        network=network_key(raw.get("network"), scope),
        ingress=ingress,
        allow=action == "allowed",
        enabled=not flag(raw, "disabled"),
        priority=int(priority),
        coverage=coverage,
        wide=wide,
        internet=internet,
        ranges_field=field,
        sources="; ".join(f"{key}: {', '.join(values)}" for key, values in described if values),
        target_tags=frozenset(strings(raw, "targetTags")),
        target_accounts=frozenset(strings(raw, "targetServiceAccounts")),
        narrowed=bool(strings(raw, other)),
    )


def parse_rules(resources: Iterable[JSON], scope: str) -> list[tuple[JSON, Rule | Unjudgeable]]:
    """Every rule with its reading, or why it cannot be read."""
    return read_each(resources, lambda raw: parse_rule(raw, scope))


# --- describing exposure (see `checks.rules.shadowing` for shadowing) ------------------------


def describe_exposure(by_family: Mapping[int, Coverage], rule: Rule, fields: bool = False) -> str:
    """`tcp:22 from 0.0.0.0/0, ::/0` (families with equal coverage merged); with `fields`, the
    field the ranges come from is named too: `… from 0.0.0.0/0 (sourceRanges)`."""
    groups: list[tuple[Coverage, list[int]]] = []
    for family in sorted(by_family):
        coverage = by_family[family]
        if not coverage:
            continue
        same = [group for group in groups if group[0] == coverage]
        if same:
            same[0][1].append(family)
        else:
            groups.append((coverage, [family]))
    parts = []
    for coverage, families in groups:
        # dict.fromkeys: a policy's region codes or FQDNs are the source of both families, named once
        sources = ", ".join(dict.fromkeys("+".join(rule.internet[family]) for family in families))
        parts.append(f"{coverage} from {sources}" + (f" ({rule.ranges_field})" if fields else ""))
    return "; ".join(parts)


# --- instances ------------------------------------------------------------------------------


def external_ips(instance: JSON) -> Iterator[tuple[str, str]]:
    """(subject, reason) for each way an instance gets an external IP: a ONE_TO_ONE_NAT access
    config (the type when absent), with or without a natIP (a stopped VM gets one on start), or an
    ipv6AccessConfigs entry; raises Unjudgeable."""
    interfaces = instance.get("networkInterfaces")
    if not interfaces:  # every instance has at least one: an absent list is data not read, not "no address"
        raise Unjudgeable("networkInterfaces", "is absent or empty (every instance has at least one interface)")
    if not isinstance(interfaces, list) or not all(isinstance(nic, dict) for nic in interfaces):
        raise Unjudgeable("networkInterfaces", "is not a list of objects")
    for i, nic in enumerate(interfaces):
        for key, default, address in (
            ("accessConfigs", "ONE_TO_ONE_NAT", "natIP"),
            ("ipv6AccessConfigs", "DIRECT_IPV6", "externalIpv6"),
        ):
            configs = nic.get(key) or []
            if not isinstance(configs, list) or not all(isinstance(config, dict) for config in configs):
                raise Unjudgeable(f"networkInterfaces[{i}].{key}", "is not a list of objects")
            for j, config in enumerate(configs):
                kind = config.get("type", default)
                if kind not in ("ONE_TO_ONE_NAT", "DIRECT_IPV6"):
                    raise Unjudgeable(f"networkInterfaces[{i}].{key}[{j}].type", f"unknown type {kind!r}")
                ip = config.get(address)
                typed = f"type {kind}" if "type" in config else f"type absent: {kind}"
                state = f"{address} {ip}" if ip else f"no {address}: it gets one when it starts"
                yield (
                    f"{nic.get('name', f'nic{i}')} {kind} {ip or f'(no {address})'}",
                    f"networkInterfaces[{i}].{key}[{j}] ({typed}, {state})",
                )
