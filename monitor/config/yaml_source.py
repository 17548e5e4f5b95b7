"""YAML to plain Python data that remembers the line of every key, for `file:line` errors.

PyYAML's `safe_load` forgets where values came from and silently keeps the last of two
duplicate keys. Here the document is composed into nodes (`yaml.compose`, SafeLoader) and
converted by hand: each key path maps to its line, duplicate and non-string keys are
problems, merge keys (`<<`) and aliases work, and alias bombs or deep nesting are refused
instead of exhausting memory or the stack. Timestamps stay strings: the models decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor.files import NotRegularFileError, read_regular_file

PathPart = str | int
KeyPath = tuple[PathPart, ...]

MAX_BYTES = 4 * 1024 * 1024
_MAX_NODES = 100_000
_MAX_DEPTH = 64
_TAG = "tag:yaml.org,2002:"
_CONSTRUCTOR = SafeConstructor()
_SCALARS = {
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "null": _CONSTRUCTOR.construct_yaml_null,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a source file; `str()` is one line: `FILE:LINE: KEY.PATH: reason`."""

    source: str
    message: str
    line: int | None = None
    column: int | None = None
    loc: KeyPath = ()

    @property
    def path(self) -> str:
        return format_path(self.loc)

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        head = f"{where}: {self.path}" if self.loc else where
        return f"{head}: {' '.join(self.message.split())}"


class SourceError(Exception):
    """The file could not be read or is not acceptable YAML; `problems` says where and why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Document:
    """Plain data (dict, list, str, int, float, bool, None) and the line of each key path."""

    data: Any
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[PathPart]) -> int:
        """Line of the deepest part of `loc` present in the file (a missing key: its parent)."""
        path = tuple(loc)
        while path:
            line = self.lines.get(path)
            if line is not None:
                return line
            path = path[:-1]
        return self.lines.get((), 1)


def format_path(loc: Iterable[object]) -> str:
    """`('params', 'firewall', 'public_ports', 1)` → `params.firewall.public_ports[1]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif str(part).replace("_", "").replace("-", "").isalnum():
            text += f".{part}" if text else str(part)
        else:
            text += f"[{str(part)!r}]"
    return text


def read_source(path: Path) -> str:
    """The file's text; unreadable, special (a FIFO is never waited on), oversized or non-UTF-8: `SourceError`."""
    source = str(path)
    try:
        # A FIFO would block open() until a writer came (and a daemon reloading on SIGHUP with
        # it); a socket cannot be opened at all: `read_regular_file` refuses them at once.
        raw = read_regular_file(path, MAX_BYTES)
    except NotRegularFileError as exc:
        raise _fail(source, f"cannot read: {exc.strerror}") from None
    except FileNotFoundError:
        raise _fail(source, "cannot read: no such file") from None
    except IsADirectoryError:
        raise _fail(source, "cannot read: is a directory, not a file") from None
    except PermissionError:
        raise _fail(source, "cannot read: permission denied") from None
    except OSError as exc:
        raise _fail(source, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _fail(source, f"cannot read: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            [Problem(source, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line)]
        ) from None


def parse_yaml(text: str, source: str) -> Document:
    """One YAML document → `Document`; an empty document has `data` None."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise SourceError([_syntax_problem(exc, source)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        reason = f"YAML syntax error: unacceptable character #x{exc.character:04x}: {exc.reason}"
        raise SourceError([Problem(source, reason, line, column)]) from None
    except yaml.YAMLError as exc:
        raise _fail(source, f"YAML error: {exc}") from None
    except RecursionError:
        raise _fail(source, "YAML error: nested too deeply") from None
    if root is None:
        return Document(None)
    converter = _Converter(source)
    try:
        data = converter.convert(root, ())
    except _TooBig as exc:
        raise SourceError([*converter.problems, Problem(source, str(exc), exc.line)]) from None
    if converter.problems:
        raise SourceError(converter.problems)
    return Document(data, converter.lines)


class _TooBig(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class _Converter:
    """Nodes → plain data, recording lines and collecting every problem it meets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self._count = 0
        self._active: set[int] = set()  # nodes being converted: an alias to one is a cycle

    def convert(self, node: Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        self._count += 1
        if self._count > _MAX_NODES:
            raise _TooBig(f"document too large (more than {_MAX_NODES} values, aliases included)", line)
        if len(path) > _MAX_DEPTH:
            raise _TooBig(f"nested more than {_MAX_DEPTH} levels deep", line)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._problem(path, line, "an alias refers to a value that contains it (a cycle)")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
                return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
            if isinstance(node, MappingNode) and node.tag == _TAG + "map":
                return self._mapping(node, path)
            self._problem(path, line, f"unsupported YAML tag {node.tag}")
            return None
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        if node.tag in (_TAG + "str", _TAG + "timestamp"):
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            self._problem(path, node.start_mark.line + 1, f"unsupported YAML tag {node.tag}")
            return None
        try:
            return construct(node)
        except (ValueError, yaml.YAMLError):
            return node.value

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for merged in self._merged(node, path):
            for key, value in merged.items():
                result.setdefault(key, value)
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                continue
            line = key_node.start_mark.line + 1
            if not (isinstance(key_node, ScalarNode) and key_node.tag in (_TAG + "str", _TAG + "timestamp")):
                self._problem(path, line, _key_problem(key_node))
                continue
            key = key_node.value
            if key in seen:
                self._problem((*path, key), line, f"duplicate key {key!r} (first at line {seen[key]})")
                continue
            seen[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _merged(self, node: MappingNode, path: KeyPath) -> list[dict[str, Any]]:
        """The mappings named by `<<:` keys, nearest first (explicit keys override them)."""
        found: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _TAG + "merge":
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self._problem(path, key_node.start_mark.line + 1, "'<<' must name a mapping or a list of them")
                    continue
                converted = self.convert(source, path)
                if isinstance(converted, dict):
                    found.append(converted)
        return found

    def _problem(self, path: KeyPath, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, message, line, loc=path))


def _key_problem(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return "a key must be a string, not a list or mapping"
    kind = {"int": "a number", "float": "a number", "bool": "a boolean", "null": "null"}.get(
        node.tag.removeprefix(_TAG), node.tag
    )
    return f"key {node.value!r} is read as {kind}, not a string: quote it"


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    reason = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        # As PyYAML words it: "while parsing a flow sequence" ... "expected ',' or ']'".
        reason = f"{exc.context} (line {exc.context_mark.line + 1}), {exc.problem}"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return Problem(source, f"YAML syntax error: {reason}", line, column)


def _fail(source: str, message: str) -> SourceError:
    return SourceError([Problem(source, message)])
