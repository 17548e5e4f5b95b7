"""What a scenario may write where, derived from the kind rows.

A project of a scenario carries the parts its kinds are read from (`compute.firewalls`,
`logging.sinks`, `iamPolicy`), and so do the organisation and folders for the walks up
the hierarchy (`logging.sinks`, `iamPolicy`). Each row of `checks.kinds` names its part,
its holder and the discovery schema of one resource there; this module turns the rows
into the tables the loader validates against, plus the parts no kind reads (log
entries, which `entries:list` serves to the audit poller). A group (`compute`) belongs
to one API: a holder that leaves the group out has that API disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from checks.kinds import Holder, Kind, KindSpec, Shape

#: parts no kind reads, per holder: (group.key) -> (API, schema). Besides log entries, the
#: second catalogue's parts a row reads as part of another (backup runs, with their instance).
OTHER_PARTS: Mapping[Holder, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        Holder.PROJECT: {
            "logging.entries": ("logging", "LogEntry"),
            "sql.backupRuns": ("sqladmin", "BackupRun"),  # `instance` names its instance
        },
        Holder.ANCESTORS: {
            "logging.entries": ("logging", "LogEntry"),
            # the contacts a folder or the organisation sets, inherited by the projects below
            "essentialContacts.contacts": ("essentialcontacts", "GoogleCloudEssentialcontactsV1Contact"),
        },
    }
)
#: lists a holder writes under a bare key rather than in a group: key -> (API, schema)
BARE_LISTS: Mapping[Holder, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        Holder.PROJECT: {},
        # hierarchical firewall policies, with their rules and associations
        Holder.ANCESTORS: {"firewallPolicies": ("compute", "FirewallPolicy")},
    }
)
#: the group a bare list is kept under in a loaded scenario (`Node.parts[BARE]["firewallPolicies"]`)
BARE = ""
#: (API, schema) -> fields a resource of it carries beside its own in a scenario -> (schema, a list?).
#: A bucket's IAM policy and a service account's keys are read by calls of their own.
NESTED: Mapping[tuple[str, str], Mapping[str, tuple[str, bool]]] = MappingProxyType(
    {
        ("storage", "Bucket"): {"iamPolicy": ("Policy", False)},
        ("iam", "ServiceAccount"): {"keys": ("ServiceAccountKey", True)},
        # a KMS key ring's policy and keys, and each key's policy (nested twice: see `scenario`)
        ("cloudkms", "KeyRing"): {"iamPolicy": ("Policy", False), "cryptoKeys": ("CryptoKey", True)},
        ("cloudkms", "CryptoKey"): {"iamPolicy": ("Policy", False)},
    }
)
#: the resource collections a holder's parts live under in API paths (`logging.folders.sinks.list`)
OWNERS: Mapping[Holder, tuple[str, ...]] = MappingProxyType(
    {Holder.PROJECT: ("projects",), Holder.ANCESTORS: ("folders", "organizations")}
)
#: the listings whose resources are keyed by name (and location): a name is required and unique
NAMED_SHAPES = frozenset({Shape.GLOBAL, Shape.AGGREGATED})


@dataclass(frozen=True)
class PartTable:
    """The parts of one holder: lists by group and key, single objects by key."""

    holder: Holder
    own: str | None  # the schema of the holder's own resource, when a kind reads it (Project)
    lists: Mapping[str, Mapping[str, str]]  # group -> key -> schema of one resource
    group_apis: Mapping[str, str]  # group -> its API
    singles: Mapping[str, tuple[str, str]]  # key -> (API, schema)
    readers: Mapping[str, Kind]  # part -> the kind read from it ("" is the holder itself)
    bare: Mapping[str, tuple[str, str]]  # lists written under a bare key: key -> (API, schema)

    @property
    def keys(self) -> frozenset[str]:
        """The keys of a holder that are parts, not fields of its own resource."""
        return frozenset(self.keys_in_order)

    @property
    def keys_in_order(self) -> tuple[str, ...]:
        return (*self.singles, *self.lists, *self.bare)


def _table(holder: Holder) -> PartTable:
    own: str | None = None
    lists: dict[str, dict[str, str]] = {}
    group_apis: dict[str, str] = {}
    singles: dict[str, tuple[str, str]] = {}
    readers: dict[str, Kind] = {}
    placed: list[tuple[str, str, str, Kind | None]] = [
        (kind.spec.part, kind.spec.api, kind.spec.schema, kind) for kind in Kind if kind.spec.holder is holder
    ]
    placed += [(part, api, schema, None) for part, (api, schema) in OTHER_PARTS[holder].items()]
    for part, api, schema, kind in placed:
        if kind is not None:
            if part in readers:
                raise ValueError(f"{holder} part {part!r} is read by two kinds: {readers[part]} and {kind}")
            readers[part] = kind
        if not part:
            own = schema
        elif part in BARE_LISTS[holder]:
            continue  # a bare list (hierarchical firewall policies): its schema is the bare table's
        elif "." not in part:
            singles[part] = (api, schema)
        else:
            group, key = part.split(".", 1)
            if group_apis.setdefault(group, api) != api:
                raise ValueError(f"{holder} part group {group!r} spans two APIs: {group_apis[group]} and {api}")
            lists.setdefault(group, {})[key] = schema
    return PartTable(holder, own, lists, group_apis, singles, readers, BARE_LISTS[holder])


PARTS: Mapping[Holder, PartTable] = MappingProxyType({holder: _table(holder) for holder in Holder})


def named_listings() -> list[KindSpec]:
    """The project's listings keyed by name (and location): checked for names, places and duplicates."""
    return [kind.spec for kind in Kind if kind.spec.holder is Holder.PROJECT and kind.spec.shape in NAMED_SHAPES]


def required_locations(spec: KindSpec) -> tuple[str, ...]:
    """The location fields one of which a resource must carry (none when it may also be global)."""
    return () if spec.global_scope else spec.locations


def scope_prefixes(spec: KindSpec) -> tuple[str, ...]:
    """The aggregated-list keys a row's resources are listed under: `zones/`, `regions/`, `global`."""
    return tuple(f"{field}s/" for field in spec.locations) + (("global",) if spec.global_scope else ())
