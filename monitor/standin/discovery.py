"""Google's discovery documents: the stand-in's source of truth for REST shapes.

The proto-based clients silently drop JSON keys they do not know, so a fixture with
`ipProtocol` instead of `IPProtocol` would just look like a rule without a protocol. Every
scenario resource and every response is therefore checked against the discovery
documents shipped in google-api-python-client (the `controlwatch[sandbox]` extra), by a
strict walker that rejects unknown keys and wrong JSON types. The same documents give
the method table (id, HTTP method, `flatPath`, parameters) that routes are built from.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib.util
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.kinds import APIS
from monitor.standin import rfc3339

#: api name -> discovery document file stem, for every API of the kind table
DOCUMENTS = {api.name: api.document for api in APIS.values()}

_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_IDENTIFIER = re.compile(r"^[A-Za-z_@$][A-Za-z0-9_@$]*$")
_PATH_PART = re.compile(r'\.?([A-Za-z_@$][A-Za-z0-9_@$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")

Schema = Mapping[str, Any]
#: called on every leaf value of `Api.rewrite`: (value, leaf schema, field name) -> new value
LeafFn = Callable[[Any, Schema, str], Any]


class DiscoveryUnavailable(ImportError):
    """google-api-python-client (the `controlwatch[sandbox]` extra) is not installed.

    An ImportError, because that is what it is: callers that already turn a missing
    optional dependency into a hint catch it without knowing the stand-in's internals.
    """


@dataclass(frozen=True, slots=True)
class Issue:
    """One schema violation, at a JSON path such as `items[0].allowed[0].ipProtocol`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True, slots=True)
class Parameter:
    """A method parameter as discovery declares it."""

    name: str
    location: str  # "path" or "query"
    type: str
    format: str | None
    repeated: bool


@dataclass(frozen=True, slots=True)
class Method:
    """One REST method: `url_path` is the absolute URL path template (`/compute/v1/projects/{project}/…`)."""

    id: str
    api: str
    http_method: str
    flat_path: str
    url_path: str
    parameters: Mapping[str, Parameter]
    request: str | None
    response: str | None

    def query_parameters(self) -> frozenset[str]:
        return frozenset(p.name for p in self.parameters.values() if p.location == "query")


def join(path: str, key: str) -> str:
    """Extend a JSON path by an object key (`a.b`, or `a["zones/x"]` for odd keys)."""
    if _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def split_path(path: str) -> tuple[str | int, ...]:
    """The keys and indexes of a JSON path built by `join` and `index` (`a.b[0]["zones/x"]`)."""
    parts: list[str | int] = []
    at = 0
    while at < len(path):
        found = _PATH_PART.match(path, at)
        if found is None:
            return tuple(parts)  # not a path these functions built: as far as it could be read
        name, number, quoted = found.groups()
        parts.append(name if name is not None else int(number) if number is not None else json.loads(quoted))
        at = found.end()
    return tuple(parts)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {json.dumps(shown)}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Api:
    """One discovery document: its schemas, methods and global parameters."""

    def __init__(self, name: str, document: Mapping[str, Any]) -> None:
        self.name = name
        self.version: str = document["version"]
        self.service_path: str = document.get("servicePath", "")
        self.schemas: Mapping[str, Schema] = document["schemas"]
        self.global_parameters = frozenset(document.get("parameters", {}))
        self.methods: Mapping[str, Method] = {m.id: m for m in self._methods(document)}

    def _methods(self, document: Mapping[str, Any]) -> Iterator[Method]:
        def walk(resources: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
            for resource in resources.values():
                yield from resource.get("methods", {}).values()
                yield from walk(resource.get("resources", {}))

        for raw in walk(document.get("resources", {})):
            flat = raw.get("flatPath") or raw["path"]
            params = {
                name: Parameter(
                    name=name,
                    location=p.get("location", "query"),
                    type=p.get("type", "string"),
                    format=p.get("format"),
                    repeated=bool(p.get("repeated", False)),
                )
                for name, p in raw.get("parameters", {}).items()
            }
            yield Method(
                id=raw["id"],
                api=self.name,
                http_method=raw["httpMethod"],
                flat_path=flat,
                url_path="/" + self.service_path + flat,
                parameters=params,
                request=(raw.get("request") or {}).get("$ref"),
                response=(raw.get("response") or {}).get("$ref"),
            )

    def schema(self, ref: str) -> Schema:
        try:
            return self.schemas[ref]
        except KeyError:
            raise KeyError(f"{self.name}: no schema {ref!r} in the discovery document") from None

    def _resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.schema(schema["$ref"])
        return schema

    def validate(self, value: Any, ref: str, *, path: str = "", lenient_enums: bool = False) -> list[Issue]:
        """Every way `value` breaks schema `ref`; empty when it conforms.

        `lenient_enums` accepts enum values written as numbers, as the clients send them in
        some request bodies; responses are always checked strictly.
        """
        issues: list[Issue] = []
        self._check(value, self.schema(ref), path, issues, lenient_enums)
        return issues

    def _check(self, value: Any, schema: Schema, path: str, issues: list[Issue], lenient: bool) -> None:
        schema = self._resolve(schema)
        kind = schema.get("type")
        if kind == "any" or kind is None:
            return
        if kind == "object":
            self._check_object(value, schema, path, issues, lenient)
        elif kind == "array":
            if not isinstance(value, list):
                issues.append(Issue(path, f"expected array, got {_describe(value)}"))
                return
            for i, item in enumerate(value):
                self._check(item, schema.get("items", {}), index(path, i), issues, lenient)
        elif kind == "string":
            self._check_string(value, schema, path, issues, lenient)
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                issues.append(Issue(path, f"expected integer, got {_describe(value)}"))
                return
            low, high = _INT_RANGES.get(schema.get("format") or "int32", _INT_RANGES["int64"])
            if not low <= value <= high:
                issues.append(Issue(path, f"integer {value} out of range for {schema.get('format')}"))
        elif kind == "number":
            if not isinstance(value, int | float) or isinstance(value, bool):
                issues.append(Issue(path, f"expected number, got {_describe(value)}"))
        elif kind == "boolean":
            if not isinstance(value, bool):
                issues.append(Issue(path, f"expected boolean, got {_describe(value)}"))
        else:
            issues.append(Issue(path, f"schema type {kind!r} is not understood by the stand-in"))

    def _check_object(self, value: Any, schema: Schema, path: str, issues: list[Issue], lenient: bool) -> None:
        if not isinstance(value, dict):
            issues.append(Issue(path, f"expected object, got {_describe(value)}"))
            return
        props: Mapping[str, Schema] | None = schema.get("properties")
        extra: Schema | None = schema.get("additionalProperties")
        if props is None and extra is None:
            return  # a free-form object (google.protobuf.Any, Struct)
        for key, item in value.items():
            where = join(path, key)
            if props is not None and key in props:
                self._check(item, props[key], where, issues, lenient)
            elif extra is not None:
                self._check(item, extra, where, issues, lenient)
            else:
                issues.append(Issue(where, "unknown field"))

    def _check_string(self, value: Any, schema: Schema, path: str, issues: list[Issue], lenient: bool) -> None:
        enum: list[str] | None = schema.get("enum")
        if lenient and enum is not None and isinstance(value, int) and not isinstance(value, bool):
            return
        if not isinstance(value, str):
            fmt = schema.get("format")
            expected = f"string ({fmt})" if fmt else "string"
            issues.append(Issue(path, f"expected {expected}, got {_describe(value)}"))
            return
        if enum is not None and value not in enum:
            shown = ", ".join(enum[:8]) + (", …" if len(enum) > 8 else "")
            issues.append(Issue(path, f"{json.dumps(value)} is not one of {shown}"))
            return
        problem = _format_problem(value, schema.get("format"))
        if problem:
            issues.append(Issue(path, problem))

    def rewrite(self, value: Any, ref: str, fn: LeafFn) -> Any:
        """A copy of `value` with `fn` applied to every leaf the schema knows (unknown keys kept)."""
        return self._rewrite(value, self.schema(ref), "", fn)

    def _rewrite(self, value: Any, schema: Schema, name: str, fn: LeafFn) -> Any:
        schema = self._resolve(schema)
        kind = schema.get("type")
        if kind == "object" and isinstance(value, dict):
            props: Mapping[str, Schema] = schema.get("properties") or {}
            extra: Schema | None = schema.get("additionalProperties")
            out: dict[str, Any] = {}
            for key, item in value.items():
                sub = props.get(key, extra)
                out[key] = item if sub is None else self._rewrite(item, sub, key, fn)
            return out
        if kind == "array" and isinstance(value, list):
            return [self._rewrite(item, schema.get("items", {}), name, fn) for item in value]
        if kind in ("object", "array"):
            return value
        return fn(value, schema, name)


def _format_problem(value: str, fmt: str | None) -> str | None:
    """Why `value` is not a valid JSON encoding of discovery format `fmt`, or None."""
    if fmt in ("int64", "uint64"):
        if not re.fullmatch(r"-?\d+", value):
            return f"expected a decimal integer as a string ({fmt}), got {_describe(value)}"
        low, high = _INT_RANGES[fmt]
        if not low <= int(value) <= high:
            return f"{value} out of range for {fmt}"
    elif fmt == "byte":
        if not _BASE64.match(value) or len(value) % 4:
            return f"not valid base64: {_describe(value)}"
        try:
            base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
        except binascii.Error:
            return f"not valid base64: {_describe(value)}"
    elif fmt == "google-datetime":
        if rfc3339.parse(value) is None:
            return f"not an RFC 3339 timestamp: {_describe(value)}"
    elif fmt == "google-duration":
        if not _DURATION.match(value):
            return f'not a duration such as "3.5s": {_describe(value)}'
    return None


def documents_dir() -> Path:
    """Where google-api-python-client keeps its static discovery documents."""
    # find_spec locates the package without importing it: the stand-in needs its files only.
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise DiscoveryUnavailable(
            "the stand-in needs google-api-python-client for its discovery documents: pip install controlwatch[sandbox]"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents"


@functools.cache
def load_api(name: str) -> Api:
    """The discovery document of `name` (`compute`, `cloudresourcemanager`, `logging`), parsed once."""
    if name not in DOCUMENTS:
        raise KeyError(f"no discovery document known for API {name!r}")
    path = documents_dir() / f"{DOCUMENTS[name]}.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiscoveryUnavailable(
            f"{path} is missing: reinstall the sandbox extra (pip install controlwatch[sandbox])"
        ) from None
    return Api(name, document)
