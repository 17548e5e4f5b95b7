"""Typed parameters of the controls (`params:` in the config, overridable per scope).

One pydantic model serves the config loader (validation, error messages) and the controls
(typed access), so the grammar of a parameter is defined exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from checks.rules.regions import KNOWN_LOCATIONS

_PORT_SPEC = re.compile(r"^(?P<proto>[a-z]+|\d{1,3})(?::(?P<lo>\d{1,5})(?:-(?P<hi>\d{1,5}))?)?$")
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "132": "sctp", "1": "icmp"}
# The protocol names VPC firewall rules accept; anything else is a typo ("tpc") that would
# otherwise approve nothing, silently.
_PROTOCOL_NAMES = frozenset({"tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all"})
# A constraint, with or without its `constraints/` prefix: `compute.requireOsLogin`.
_CONSTRAINT = re.compile(r"^(?:constraints/)?[a-z][A-Za-z0-9]*\.[A-Za-z][A-Za-z0-9]*$")
#: ORG-03's default: the boolean guardrails every estate should enforce
REQUIRED_CONSTRAINTS: tuple[str, ...] = (
    "compute.skipDefaultNetworkCreation",
    "compute.requireOsLogin",
    "iam.disableServiceAccountKeyCreation",
    "storage.uniformBucketLevelAccess",
    "storage.publicAccessPrevention",
    "sql.restrictPublicIp",
    "sql.restrictAuthorizedNetworks",
)
# PROJECT/ZONE/NAME, or label=value.
_INSTANCE_SPEC = re.compile(
    r"^(?:[a-z][-a-z0-9]{4,28}[a-z0-9]/[a-z]+-[a-z]+\d+-[a-z]/[a-z][-a-z0-9]*"
    r"|[a-z][-_a-z0-9]*=[-_a-z0-9]*)$"
)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """`proto[:port[-port]]`: a protocol, and a port range (all ports when none is given)."""

    protocol: str
    low: int = 0
    high: int = 65535

    def covers(self, protocol: str, port: int) -> bool:
        return self.protocol == protocol and self.low <= port <= self.high

    def __str__(self) -> str:
        if (self.low, self.high) == (0, 65535):
            return self.protocol
        if self.low == self.high:
            return f"{self.protocol}:{self.low}"
        return f"{self.protocol}:{self.low}-{self.high}"


def parse_port_spec(text: str) -> PortSpec:
    """Parse `tcp:443`, `udp:5000-5100`, `tcp` (all ports); raises ValueError naming the problem."""
    match = _PORT_SPEC.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not proto[:port[-port]] (e.g. 'tcp:443', 'udp:5000-5100')")
    proto = _PROTOCOL_NUMBERS.get(match["proto"], match["proto"])
    if not proto.isdigit() and proto not in _PROTOCOL_NAMES:
        known = ", ".join(sorted(_PROTOCOL_NAMES))
        raise ValueError(f"{text!r}: unknown protocol {proto!r} (one of {known}, or 0-255)")
    if proto.isdigit() and int(proto) > 255:
        raise ValueError(f"{text!r}: protocol numbers go from 0 to 255")
    if match["lo"] is None:
        return PortSpec(proto)
    low = int(match["lo"])
    high = int(match["hi"]) if match["hi"] is not None else low
    if not 0 <= low <= high <= 65535:
        raise ValueError(f"{text!r}: ports must satisfy 0 <= low <= high <= 65535")
    return PortSpec(proto, low, high)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Each entry validated on its own, so an error names its index (`public_ports[1]`).
def _region(region: str) -> str:
    if region not in KNOWN_LOCATIONS:
        raise ValueError(f"{region!r} is not a region (e.g. 'europe-west1') or multi-region ('eu')")
    return region


def _port(spec: str) -> str:
    parse_port_spec(spec)
    return spec


def _instance(spec: str) -> str:
    if not _INSTANCE_SPEC.match(spec):
        raise ValueError(f"{spec!r} is neither PROJECT/ZONE/NAME nor label=value")
    return spec


class RegionParams(_Strict):
    allowed: tuple[Annotated[str, AfterValidator(_region)], ...] = Field(default=("europe-west1",), min_length=1)


class FirewallParams(_Strict):
    public_ports: tuple[Annotated[str, AfterValidator(_port)], ...] = ()
    public_instances: tuple[Annotated[str, AfterValidator(_instance)], ...] = ()

    def port_specs(self) -> tuple[PortSpec, ...]:
        return tuple(parse_port_spec(spec) for spec in self.public_ports)


#: CIS 1.16's categories; `ALL` on a contact covers each of them
CONTACT_CATEGORIES = ("LEGAL", "SECURITY", "SUSPENSION", "TECHNICAL")
_CATEGORIES = frozenset(
    {"ALL", "SUSPENSION", "SECURITY", "TECHNICAL", "BILLING", "LEGAL", "PRODUCT_UPDATES", "TECHNICAL_INCIDENTS"}
)


def _category(name: str) -> str:
    if name not in _CATEGORIES:
        raise ValueError(f"{name!r} is not an Essential Contacts category ({', '.join(sorted(_CATEGORIES))})")
    return name


class IamParams(_Strict):
    allowed_domains: tuple[str, ...] = ()
    privileged_members: tuple[str, ...] = ()
    # strict: `true` is not a number of days
    key_max_age_days: int = Field(default=90, ge=1, strict=True)
    # CIS 1.10: a KMS key's rotation period, and the wait for its next rotation, at most this many days
    kms_rotation_max_days: int = Field(default=90, ge=1, strict=True)
    # CIS 1.15: an API key older than this many days (by createTime) is due for rotation
    api_key_max_age_days: int = Field(default=90, ge=1, strict=True)
    # CIS 1.16: the notification categories each of which must reach an Essential Contact
    essential_contact_categories: tuple[Annotated[str, AfterValidator(_category)], ...] = CONTACT_CATEGORIES


class BackupParams(_Strict):
    # strict: `true` is not a number of hours; finite: `.inf` would make every snapshot fresh forever
    rpo_hours: float = Field(default=24, gt=0, strict=True, allow_inf_nan=False)
    min_retention_days: int = Field(default=7, ge=1, strict=True)
    disk_selector: dict[str, str] = Field(default_factory=dict)


def _constraint(name: str) -> str:
    if not _CONSTRAINT.match(name):
        raise ValueError(f"{name!r} is not a constraint name (e.g. 'storage.publicAccessPrevention')")
    return name


class OrgParams(_Strict):
    required_constraints: tuple[Annotated[str, AfterValidator(_constraint)], ...] = REQUIRED_CONSTRAINTS


#: VM-09's default: the machine families whose VMs can run as Confidential VMs (AMD SEV / SEV-SNP on
#: N2D, C2D, C3D; Intel TDX on C3). CIS audits N2D only; the other families can take it just as well.
CONFIDENTIAL_FAMILIES: tuple[str, ...] = ("n2d", "c2d", "c3d", "c3")
_FAMILY = re.compile(r"^[a-z][a-z0-9]*$")


def _family(name: str) -> str:
    if not _FAMILY.match(name):
        raise ValueError(f"{name!r} is not a machine family (a machine type's name up to its first '-', e.g. 'n2d')")
    return name


class ComputeParams(_Strict):
    # VM-07: label equalities a VM must all match to be critical (its disks need customer keys); {} = every VM
    critical_selector: dict[str, str] = Field(default_factory=dict)
    confidential_families: tuple[Annotated[str, AfterValidator(_family)], ...] = CONFIDENTIAL_FAMILIES


class Params(_Strict):
    """All control parameters; defaults are the README's ("Configuration")."""

    region: RegionParams = RegionParams()
    firewall: FirewallParams = FirewallParams()
    iam: IamParams = IamParams()
    backup: BackupParams = BackupParams()
    org: OrgParams = OrgParams()
    compute: ComputeParams = ComputeParams()

    def merged(self, overrides: dict[str, Any]) -> Params:
        """These params with a scope's partial overrides applied (validated again)."""
        data = self.model_dump()
        for area, values in overrides.items():
            data.setdefault(area, {}).update(values)
        return Params.model_validate(data)
