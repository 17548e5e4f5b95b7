"""How a VM instance is read for the VM-* controls: its metadata, its identity, its scope.

- Metadata is a list of `{key, value}` (`metadata.items`); a key the instance does not set
  is inherited from the project's `commonInstanceMetadata` (the computeProject kind), which
  is how Compute Engine resolves the keys both levels may set (`enable-oslogin`,
  `serial-port-enable`). A boolean key is read case-insensitively as Google's guest
  environment and Compute read it: `true`/`1` or `false`/`0`; any other value, a missing
  `value`, a key written twice or a list that is not a list is unreadable (`Unjudgeable`),
  never a default.
- The default Compute Engine service account is `NUMBER-compute@developer.gserviceaccount.com`
  (any project's number: another project's default account carries Editor there).
- GKE nodes are out of scope where CIS excludes them: named `gke-…` and labelled `goog-gke-node`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from checks.kernel import JSON, Unjudgeable

DEFAULT_ACCOUNT = re.compile(r"^[0-9]+-compute@developer\.gserviceaccount\.com$")
FULL_ACCESS = "https://www.googleapis.com/auth/cloud-platform"
GKE_LABEL = "goog-gke-node"
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def is_gke_node(instance: JSON) -> bool:
    """A node GKE created and manages (CIS excludes them from 4.1, 4.2, 4.4 and 4.6)."""
    labels = instance.get("labels")
    named = str(instance.get("name", "")).startswith("gke-")
    return named and isinstance(labels, dict) and GKE_LABEL in labels


def metadata_items(holder: JSON, field: str) -> dict[str, str]:
    """key -> value of the metadata at `holder[field]` (`metadata`, `commonInstanceMetadata`); absent: none."""
    metadata = holder.get(field)
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise Unjudgeable(field, f"{metadata!r} is not an object")
    items = metadata.get("items", [])
    if not isinstance(items, list):
        raise Unjudgeable(f"{field}.items", f"{items!r} is not a list")
    found: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"{field}.items[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise Unjudgeable(where, f"{item!r} is not a {{key, value}} entry")
        key, value = item["key"], item.get("value")
        if not isinstance(value, str):
            raise Unjudgeable(f"{where}.value", f"{key} has the value {value!r}, not a string")
        if key in found:
            raise Unjudgeable(where, f"{key} is set twice")
        found[key] = value
    return found


def flag(value: str, where: str) -> bool:
    """A boolean metadata value: TRUE/true/1 or FALSE/false/0; anything else is unreadable."""
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise Unjudgeable(where, f"{value!r} is neither TRUE nor FALSE")


@dataclass(frozen=True, slots=True)
class Setting:
    """A boolean metadata key as it holds for one instance, and where that was decided."""

    on: bool
    source: str  # `instance metadata enable-oslogin=FALSE`, `project metadata …`, `set nowhere`


def project_metadata(projects: Sequence[JSON]) -> dict[str, str] | Unjudgeable:
    """The common instance metadata of the computeProject kind's one Project (why not, when it cannot be read)."""
    if len(projects) != 1:
        return Unjudgeable("commonInstanceMetadata", f"{len(projects)} Compute projects were read, expected one")
    project = projects[0]
    if "commonInstanceMetadata" not in project:
        return Unjudgeable("commonInstanceMetadata", "absent from the project Compute returned")
    try:
        return metadata_items(project, "commonInstanceMetadata")
    except Unjudgeable as error:
        return error


def resolve(instance: JSON, project: Mapping[str, str] | Unjudgeable, key: str, default: bool) -> Setting:
    """`key` as Compute resolves it: the instance's own value, else the project's, else `default`.

    The project's metadata is read only when the instance does not set the key itself.
    """
    own = metadata_items(instance, "metadata")
    if key in own:
        return Setting(flag(own[key], f"metadata {key}"), f"instance metadata {key}={own[key]}")
    if isinstance(project, Unjudgeable):
        raise Unjudgeable(f"project {project.field}", f"{key} is not set on the instance and {project.message}")
    if key in project:
        return Setting(flag(project[key], f"project metadata {key}"), f"project metadata {key}={project[key]}")
    return Setting(default, f"{key} set neither on the instance nor in project metadata (default {default})")


def service_accounts(instance: JSON) -> list[tuple[str, list[str]]]:
    """(email, scopes) of each service account attached to the instance (a VM has at most one)."""
    accounts: Any = instance.get("serviceAccounts", [])
    if not isinstance(accounts, list):
        raise Unjudgeable("serviceAccounts", f"{accounts!r} is not a list")
    found = []
    for i, account in enumerate(accounts):
        email = account.get("email") if isinstance(account, dict) else None
        if not isinstance(email, str) or not email:
            raise Unjudgeable(f"serviceAccounts[{i}].email", f"{account!r} names no account")
        scopes = account.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Unjudgeable(f"serviceAccounts[{i}].scopes", f"{scopes!r} is not a list of scopes")
        found.append((email, scopes))
    return found


def matches(instance: JSON, selector: Mapping[str, str]) -> bool:
    """Whether the instance's labels hold every equality of `selector` (an empty one: every instance)."""
    if not selector:
        return True
    labels = instance.get("labels", {})
    if not isinstance(labels, dict):
        raise Unjudgeable("labels", f"{labels!r} is not an object: cannot match compute.critical_selector")
    return all(labels.get(key) == value for key, value in selector.items())


def boolean(holder: JSON, field: str, where: str, default: bool | None = None) -> bool:
    """A boolean field; absent gives `default` (None: absent is unreadable)."""
    value = holder.get(field)
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise Unjudgeable(where, "absent" if value is None else f"{value!r} is not true or false")
    return value


def family(instance: JSON) -> str:
    """The machine family of the instance (`n2d` of `…/machineTypes/n2d-standard-2`)."""
    machine = instance.get("machineType")
    if not isinstance(machine, str) or not machine:
        raise Unjudgeable("machineType", f"{machine!r} is not a machine type")
    return machine.rsplit("/", 1)[-1].split("-", 1)[0].lower()
