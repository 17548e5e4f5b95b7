"""Scenario files: an estate written in the APIs' own REST shapes, checked before it is served.

A scenario is what the stand-in serves and what tests and the demo describe. Every
resource is validated against its discovery schema (after numbers written for int64
fields are turned into strings, as the APIs send them), so a misspelt or mistyped field
stops the load with the file, the JSON path and the reason instead of being dropped by
a client later.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from checks.kinds import Holder, Shape
from monitor.config.yaml_source import Document, SourceError, parse_yaml, read_source
from monitor.files import read_regular_file
from monitor.standin import rfc3339
from monitor.standin.discovery import Api, Issue, Schema, index, join, load_api, split_path
from monitor.standin.parts import BARE, NESTED, PARTS, PartTable, named_listings, required_locations

#: the schema of a holder's own resource -> the parts it may carry beside its fields
_HOLDERS: Mapping[str, PartTable] = {
    "Project": PARTS[Holder.PROJECT],
    "Folder": PARTS[Holder.ANCESTORS],
    "Organization": PARTS[Holder.ANCESTORS],
}
_TOP_KEYS = ("now", "organization", "folders", "projects")
_LOCATION_URL = re.compile(r"(?:^|/)(zones|regions)/([a-z0-9-]+)$")
_PROJECT_NAME = re.compile(r"^projects/(\d+)$")

Resource = Mapping[str, Any]
#: applied to every resource: (api, schema ref, resource, JSON path) -> new resource
ResourceFn = Callable[[Api, str, Any, str], Any]


class ScenarioError(ValueError):
    """A scenario that cannot be served: `problems` are (JSON path, reason) pairs.

    Read from a YAML file, each problem names its line as config errors do
    (`FILE:LINE: PATH: reason`); `lines` holds them, None where no line is known.
    """

    def __init__(
        self,
        source: str,
        problems: list[tuple[str, str]],
        lines: Sequence[int | None] = (),
        columns: Sequence[int | None] = (),
    ) -> None:
        self.source = source
        self.problems = problems
        self.lines = [*lines, *[None] * (len(problems) - len(lines))]
        columns = [*columns, *[None] * (len(problems) - len(columns))]
        shown = []
        for (path, reason), line, column in list(zip(problems, self.lines, columns, strict=True))[:20]:
            where = source + (f":{line}" if line is not None else "") + (f":{column}" if column is not None else "")
            shown.append(f"{where}: {path}: {reason}" if path else f"{where}: {reason}")
        if len(problems) > 20:
            shown.append(f"{source}: … and {len(problems) - 20} more")
        super().__init__("\n".join(shown))

    @classmethod
    def from_source(cls, error: SourceError) -> ScenarioError:
        """A YAML file that did not parse (syntax, duplicate keys): the loader's problems, lines kept."""
        source = error.problems[0].source if error.problems else "<scenario>"
        problems = [(problem.path, " ".join(problem.message.split())) for problem in error.problems]
        return cls(source, problems, [p.line for p in error.problems], [p.column for p in error.problems])


@dataclass(frozen=True)
class Node:
    """An organisation or folder: its v3 resource plus the optional parts it carries."""

    name: str
    resource: Resource
    iam_policy: Resource | None
    parts: Mapping[str, Mapping[str, tuple[Resource, ...]]] = field(default_factory=dict)

    @property
    def logging(self) -> Mapping[str, tuple[Resource, ...]] | None:
        return self.parts.get("logging")


@dataclass(frozen=True)
class Project:
    """A project: its v3 resource, and per part group (`compute`, `logging`) its resources by key.

    A group the scenario leaves out is an API not enabled in the project: its calls answer
    403 SERVICE_DISABLED (`compute` None: Compute Engine is off).
    """

    project_id: str
    number: str
    resource: Resource
    iam_policy: Resource | None
    parts: Mapping[str, Mapping[str, tuple[Resource, ...]]] = field(default_factory=dict)
    #: the one-object parts other than the IAM policy, by key (`computeProject`)
    singles: Mapping[str, Resource] = field(default_factory=dict)

    @property
    def compute(self) -> Mapping[str, tuple[Resource, ...]] | None:
        return self.parts.get("compute")

    @property
    def logging(self) -> Mapping[str, tuple[Resource, ...]] | None:
        return self.parts.get("logging")

    def with_list(self, group: str, key: str, items: tuple[Resource, ...]) -> Project:
        """This project with the list at `group.key` replaced (the stand-in's mutations)."""
        parts = {**self.parts, group: {**self.parts.get(group, {}), key: items}}
        return dataclasses.replace(self, parts=parts)

    def location(self) -> str:
        """`projects/NUMBER`, as services name their consumer."""
        return f"projects/{self.number}"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; `document` is the normalised file (int64 numbers as strings)."""

    now: datetime
    projects: Mapping[str, Project]
    organization: Node | None
    folders: Mapping[str, Node]
    source: str
    document: Mapping[str, Any] = field(repr=False)

    def project(self, key: str) -> Project | None:
        """The project whose projectId or number is `key`."""
        found = self.projects.get(key)
        if found is not None:
            return found
        return next((p for p in self.projects.values() if p.number == key), None)

    def node(self, name: str) -> Node | None:
        """The organisation or folder named `name` (`organizations/N`, `folders/N`)."""
        if self.organization is not None and self.organization.name == name:
            return self.organization
        return self.folders.get(name)

    def shift_to(self, wall_clock: datetime) -> Scenario:
        """This scenario with every timestamp moved by (wall_clock − now), for the demo.

        Shifted: string fields declared `google-datetime`, and fields named `…Timestamp`
        (Compute's `creationTimestamp`, `lastStartTimestamp`, …). Not shifted: timestamps
        inside free text such as IAM condition expressions or log payloads.
        """
        seconds = round((wall_clock - self.now).total_seconds())

        def leaf(value: Any, schema: Schema, name: str) -> Any:
            if isinstance(value, str) and (schema.get("format") == "google-datetime" or name.endswith("Timestamp")):
                moved = rfc3339.shift(value, seconds)
                return value if moved is None else moved
            return value

        def resource(api: Api, ref: str, value: Any, path: str) -> Any:
            return api.rewrite(value, ref, leaf)

        document, problems = _map_resources(self.document, resource)
        document = dict(document)
        document["now"] = rfc3339.shift(str(self.document["now"]), seconds)
        assert not problems, problems  # the document was validated when it was loaded
        return _build(document, self.source)


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Load and validate a scenario from a YAML/JSON file or an already parsed mapping.

    YAML goes through the config's loader (`monitor.config.yaml_source`): duplicate keys
    are refused, timestamps stay strings, and every problem names its line.
    """
    if isinstance(source, Mapping):
        return _load(copy.deepcopy(dict(source)), "<scenario>")
    path = Path(source)
    if path.suffix != ".json":
        try:
            parsed = parse_yaml(read_source(path), str(path))
        except SourceError as exc:
            raise ScenarioError.from_source(exc) from None
        return _load(parsed.data, str(path), parsed)
    try:
        text = read_regular_file(path).decode("utf-8")  # a FIFO is refused, never waited on
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [("", f"not UTF-8 text: {exc}")]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [("", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(path), [("", f"not valid JSON: {exc}")]) from None
    return _load(data, str(path))


def _fail(source: str, problems: list[tuple[str, str]], parsed: Document | None) -> ScenarioError:
    """The error for `problems`, each at its line of the file when the file was YAML."""
    lines = [parsed.line_of(split_path(path)) for path, _ in problems] if parsed is not None else []
    return ScenarioError(source, problems, lines)


def _load(data: Any, source: str, parsed: Document | None = None) -> Scenario:
    if not isinstance(data, dict):
        problem = [("", "a scenario is a mapping with now, organization, folders, projects")]
        raise _fail(source, problem, parsed)

    def coerce(api: Api, ref: str, value: Any, path: str) -> Any:
        return api.rewrite(value, ref, _int64_to_string)

    issues: list[Issue] = []

    def validate(api: Api, ref: str, value: Any, path: str) -> Any:
        found = api.validate(value, ref, path=path)
        table = _HOLDERS.get(ref)
        if table is not None:  # a key the holder's own resource lacks may be a misspelt part: name them
            depth = len(split_path(path)) + 1
            hint = f"unknown field (nor one of the parts: {', '.join(table.keys_in_order)})"
            found = [
                Issue(i.path, hint) if i.message == "unknown field" and len(split_path(i.path)) == depth else i
                for i in found
            ]
        issues.extend(found)
        return value

    document, problems = _map_resources(data, coerce)
    if not problems:
        _map_resources(document, validate)
    problems += [(i.path, i.message) for i in issues]
    if problems:
        raise _fail(source, problems, parsed)
    return _build(document, source, parsed)


def _int64_to_string(value: Any, schema: Schema, name: str) -> Any:
    if schema.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _map_resources(data: Mapping[str, Any], fn: ResourceFn) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Rebuild the document with `fn` applied to each resource in place; report bad structure.

    What may appear where comes from the kind rows (`parts.PARTS`): each part is mapped
    with its API's schema, and an unknown kind in a group is named with the known ones.
    """
    crm = load_api("cloudresourcemanager")
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}

    def resource(api: Api, schema: str, item: Any, where: str) -> Any:
        """`fn` of one resource, and of each resource it carries for a call of its own (`NESTED`)."""
        nested = NESTED.get((api.name, schema), {})
        if not nested or not isinstance(item, dict):
            return fn(api, schema, item, where)
        mapped = dict(fn(api, schema, {k: v for k, v in item.items() if k not in nested}, where))
        for key, (ref, many) in nested.items():
            if key not in item:
                continue
            value, at = item[key], join(where, key)
            if many and not isinstance(value, list):
                problems.append((at, "expected a list"))
                continue
            if many:  # a nested resource may carry nested ones too (a KMS key ring's keys, each with its policy)
                mapped[key] = [resource(api, ref, v, index(at, i)) for i, v in enumerate(value)]
            else:
                mapped[key] = resource(api, ref, value, at)
        return mapped

    def items_of(items: Any, where: str, api: Api, schema: str) -> list[Any] | None:
        if not isinstance(items, list):
            problems.append((where, "expected a list"))
            return None
        return [resource(api, schema, item, index(where, i)) for i, item in enumerate(items)]

    def part_lists(value: Any, path: str, kinds: Mapping[str, str], api: Api) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            problems.append((path, "expected a mapping of kinds to lists"))
            return None
        mapped: dict[str, Any] = {}
        for kind, items in value.items():
            where = join(path, kind)
            if kind not in kinds:
                problems.append((where, f"unknown kind (expected one of {', '.join(kinds)})"))
                continue
            listed = items_of(items, where, api, kinds[kind])
            if listed is not None:
                mapped[kind] = listed
        return mapped

    def node(value: Any, path: str, ref: str, table: PartTable) -> Any:
        if not isinstance(value, dict):
            problems.append((path, "expected a mapping"))
            return value
        own = {k: v for k, v in value.items() if k not in table.keys}
        mapped: dict[str, Any] = dict(fn(crm, ref, own, path))
        for key, (api_name, schema) in table.singles.items():
            if key in value:
                mapped[key] = fn(load_api(api_name), schema, value[key], join(path, key))
        for group, kinds in table.lists.items():
            if group in value:
                mapped[group] = part_lists(value[group], join(path, group), kinds, load_api(table.group_apis[group]))
        for key, (api_name, schema) in table.bare.items():
            if key in value:
                mapped[key] = items_of(value[key], join(path, key), load_api(api_name), schema)
        return mapped

    for key, value in data.items():
        if key not in _TOP_KEYS:
            problems.append((key, f"unknown key (expected {', '.join(_TOP_KEYS)})"))
        elif key == "now":
            out[key] = value
        elif key == "organization":
            out[key] = node(value, key, "Organization", PARTS[Holder.ANCESTORS])
        else:
            if not isinstance(value, list):
                problems.append((key, "expected a list"))
                continue
            if key == "projects":
                table = PARTS[Holder.PROJECT]
                ref = table.own or "Project"
            else:
                table, ref = PARTS[Holder.ANCESTORS], "Folder"
            out[key] = [node(item, index(key, i), ref, table) for i, item in enumerate(value)]
    return out, problems


def _build(document: Mapping[str, Any], source: str, parsed: Document | None = None) -> Scenario:
    """The Scenario model of a validated document, after the checks schemas cannot express."""
    problems: list[tuple[str, str]] = []
    now_raw = document.get("now")
    now = rfc3339.parse(now_raw) if isinstance(now_raw, str) else None
    if now is None:
        problems.append(("now", f"required: an RFC 3339 timestamp such as 2026-11-25T12:00:00Z, got {now_raw!r}"))

    organization = None
    if "organization" in document:
        organization = _node(document["organization"], "organization", "organizations/", problems)
    folders: dict[str, Node] = {}
    for i, raw in enumerate(document.get("folders", [])):
        folder = _node(raw, index("folders", i), "folders/", problems)
        if folder is not None:
            if folder.name in folders:
                problems.append((index("folders", i), f"duplicate folder {folder.name}"))
            folders[folder.name] = folder

    projects: dict[str, Project] = {}
    for i, raw in enumerate(document.get("projects", [])):
        project = _project(raw, index("projects", i), problems)
        if project is None:
            continue
        if project.project_id in projects:
            problems.append((join(index("projects", i), "projectId"), f"duplicate project {project.project_id}"))
        elif any(p.number == project.number for p in projects.values()):
            problems.append((join(index("projects", i), "name"), f"duplicate project number {project.number}"))
        projects[project.project_id] = project
    if problems:
        raise _fail(source, problems, parsed)
    assert now is not None
    return Scenario(now, projects, organization, folders, source, document)


def _node(raw: Mapping[str, Any], path: str, prefix: str, problems: list[tuple[str, str]]) -> Node | None:
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(re.escape(prefix) + r"\d+", name):
        problems.append((join(path, "name"), f"required: {prefix}NUMBER"))
        return None
    policy = raw.get("iamPolicy")
    _check_policy(policy, join(path, "iamPolicy"), problems)
    table = PARTS[Holder.ANCESTORS]
    resource = {k: v for k, v in raw.items() if k not in table.keys}
    return Node(name, resource, policy, _freeze_parts(raw, table))


def _project(raw: Mapping[str, Any], path: str, problems: list[tuple[str, str]]) -> Project | None:
    project_id = raw.get("projectId")
    if not isinstance(project_id, str) or not project_id:
        problems.append((join(path, "projectId"), "required"))
        return None
    name = raw.get("name")
    match = _PROJECT_NAME.match(name) if isinstance(name, str) else None
    if match is None:
        problems.append((join(path, "name"), "required: projects/NUMBER"))
        return None
    policy = raw.get("iamPolicy")
    _check_policy(policy, join(path, "iamPolicy"), problems)
    _check_listings(raw, path, problems)
    table = PARTS[Holder.PROJECT]
    resource = {k: v for k, v in raw.items() if k not in table.keys}
    return Project(
        project_id=project_id,
        number=match.group(1),
        resource=resource,
        iam_policy=policy,
        parts=_freeze_parts(raw, table),
        singles={key: raw[key] for key in table.singles if key in raw and key != "iamPolicy"},
    )


def _freeze_parts(raw: Mapping[str, Any], table: PartTable) -> dict[str, Mapping[str, tuple[Resource, ...]]]:
    """The list parts of a holder, group by group; a group left out is not there at all.

    Bare lists (`firewallPolicies` of an organisation) are kept in the group `BARE`.
    """
    parts: dict[str, Mapping[str, tuple[Resource, ...]]] = {
        group: {kind: tuple(items) for kind, items in raw[group].items()} for group in table.lists if group in raw
    }
    bare = {key: tuple(raw[key]) for key in table.bare if key in raw}
    if bare:
        parts[BARE] = bare
    return parts


def _check_policy(policy: Resource | None, path: str, problems: list[tuple[str, str]]) -> None:
    if policy is None:
        return
    conditional = any("condition" in b for b in policy.get("bindings", []))
    if conditional and policy.get("version") != 3:
        problems.append((join(path, "version"), "a policy with conditional bindings must be version 3"))


def _check_listings(raw: Mapping[str, Any], path: str, problems: list[tuple[str, str]]) -> None:
    """Names and places of the project's named listings: required, placed as the row says, unique."""
    for spec in named_listings():
        items = raw.get(spec.group, {}).get(spec.key)
        if items is None:
            continue
        kind = spec.key
        seen: set[tuple[str, str]] = set()
        required = required_locations(spec)
        for i, item in enumerate(items):
            where = index(join(join(path, spec.group), kind), i)
            name = item.get("name")
            if not isinstance(name, str) or not name:
                problems.append((join(where, "name"), "required"))
                continue
            placed = [f for f in ("zone", "region") if f in item]
            if required and not any(f in item for f in required):
                problems.append((where, f"{kind} must carry their own {' or '.join(required)} URL"))
                continue
            if spec.shape is Shape.GLOBAL or not placed:
                scope = "global"
            elif location_key(item[placed[0]]) is None:
                url = item[placed[0]]
                problems.append((join(where, placed[0]), f"expected a …/{placed[0]}s/NAME URL, got {url!r}"))
                continue
            else:
                scope = scope_key(kind, item)
            if (scope, name) in seen:
                problems.append((join(where, "name"), f"duplicate {kind} {name!r} in {scope}"))
            seen.add((scope, name))


def location_key(url: Any) -> str | None:
    """`zones/NAME` or `regions/NAME` from a zone/region URL (the aggregated-list key)."""
    match = _LOCATION_URL.search(url) if isinstance(url, str) else None
    return f"{match.group(1)}/{match.group(2)}" if match else None


def scope_key(kind: str, resource: Resource) -> str:
    """The aggregated-list key a resource of `kind` is listed under (`global` when unplaced)."""
    for name in ("zone", "region"):
        if name in resource:
            return location_key(resource[name]) or "global"
    return "global"
