"""An envelope of the kind table held to the discovery document of its method's answer."""

from __future__ import annotations

import re
from typing import Any

from checks.kinds import Envelope
from monitor.standin.discovery import load_api

#: how Cloud SQL's discovery document gives a `kind` it declares no default for
_ALWAYS = re.compile(r"^This is always `([^`]+)`\.$")


def _kind(schema: dict[str, Any]) -> str:
    field = schema.get("properties", {}).get("kind", {})
    always = _ALWAYS.match(str(field.get("description", "")))
    return str(field.get("default", "") or (always.group(1) if always else ""))


def envelope_drift(api_name: str, method: str, envelope: Envelope) -> list[str]:
    """How `envelope` differs from what discovery says `method` answers; [] when it is true to it."""
    api = load_api(api_name)
    response = api.schema(api.methods[method].response or "")
    properties = response.get("properties", {})
    found: list[str] = []
    if envelope.kind != _kind(response):
        found.append(f"kind {envelope.kind!r}, discovery says {_kind(response)!r}")
    unknown = {*envelope.required, *(envelope.fields or ()), *([envelope.items] if envelope.items else [])}
    found += [f"{name!r} is no field of {api.methods[method].response}" for name in sorted(unknown - set(properties))]
    if envelope.fields is not None and set(properties) != unknown | ({"kind"} if envelope.kind else set()):
        found.append(f"closed fields {sorted(unknown)}, discovery has {sorted(properties)}")
    if envelope.items:
        field = properties.get(envelope.items, {})
        if envelope.scoped:
            scoped = api.schema(field.get("additionalProperties", {}).get("$ref", ""))["properties"]
            if set(scoped) != {envelope.scoped, "warning"}:
                found.append(f"each scope holds {sorted(scoped)}, not {envelope.scoped!r} and 'warning'")
            field = scoped.get(envelope.scoped, {})
        listed = field.get("items", {})
        item = api.schema(listed["$ref"]) if "$ref" in listed else listed  # storage's bindings are inline
        if field.get("type") != "array" or envelope.item_kind != _kind(item):
            found.append(f"items of kind {envelope.item_kind!r}, discovery says {_kind(item)!r}")
        found += [f"items have no field {name!r}" for name in envelope.item_fields if name not in item["properties"]]
    return found
