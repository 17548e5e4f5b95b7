"""The layering the folders promise, read from the source: no import cycles, controls never
reach into the daemon, Google's modules only behind the collectors, commands never into one
another's private names.

Imports inside functions count too: a lazy import that closes a cycle is still a cycle in
the design, only one that Python happens to tolerate.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "checks")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(path: Path) -> Iterator[tuple[str, str]]:
    """(imported module, imported name or "") for every absolute import in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ""
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name


def _own_module(name: str) -> str | None:
    """The project module `name` lives in (a dotted name may go on into a class or function)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps: set[str] = set()
        for module, imported in _imports(path):
            full = f"{module}.{imported}" if imported else module
            target = _own_module(full if full in MODULES else module)
            # A package's own __init__ always runs before its submodules: not a dependency edge.
            if target and target != name and not name.startswith(target + "."):
                deps.add(target)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_controls_never_import_the_daemon() -> None:
    """`checks/` is pure: the daemon depends on the controls, never the reverse."""
    offenders = sorted(
        f"{name} imports {module}"
        for name, path in MODULES.items()
        if name.startswith("checks")
        for module, _ in _imports(path)
        if module == "monitor" or module.startswith("monitor.")
    )
    assert offenders == []


# Where a Google client package may be imported: the collectors only (their `clients.preload`
# imports them at daemon start, so imports never count against a run deadline).
GOOGLE_ALLOWED = ("monitor.collect",)


def test_google_clients_are_imported_only_behind_the_collectors() -> None:
    offenders = sorted(
        f"{name} imports {module}"
        for name, path in MODULES.items()
        if not name.startswith(GOOGLE_ALLOWED)
        for module, _ in _imports(path)
        if module.startswith("google.") and module != "google"
    )
    assert offenders == []


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_uses(path: Path) -> list[str]:
    """Private names of project modules used here: `from m import _x`, or `m._x` on an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGES):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if _is_private(alias.name):
                    found.append(full)
                elif full in MODULES:
                    aliases[alias.asname or alias.name] = full
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if _is_private(node.attr):
                found.append(f"{aliases[node.value.id]}.{node.attr}")
    return sorted(found)


def test_the_private_name_finder_sees_both_spellings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from monitor.commands import common as c\nfrom monitor.commands.common import _x\nc._load()\n")
    assert _private_uses(sample) == ["monitor.commands.common._load", "monitor.commands.common._x"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("monitor.")))
def test_no_module_reaches_into_another_modules_private_names(name: str) -> None:
    assert _private_uses(MODULES[name]) == []


WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def _wall_clock_reads(path: Path) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)}:{node.lineno} {node.func.value.id}.{node.func.attr}()"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) in WALL_CLOCK_READS
    )


def test_the_wall_clock_finder_finds_a_read() -> None:
    sample = ROOT / "checks" / "kernel.py"
    assert _wall_clock_reads(sample) == []
    assert "datetime.now()" in _wall_clock_reads(ROOT / "monitor" / "daemon.py")[0]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("checks")))
def test_controls_never_read_the_wall_clock(name: str) -> None:
    """Controls judge at the snapshot's `now`, so a verdict is the same whenever it is recomputed."""
    assert _wall_clock_reads(MODULES[name]) == []


# What a control may import: pure computation. No sockets, files, processes, clocks or clients.
PURE = frozenset(
    {
        "__future__",
        "bisect",
        "collections",
        "collections.abc",
        "dataclasses",
        "datetime",
        "enum",
        "fnmatch",
        "functools",
        "heapq",
        "ipaddress",
        "itertools",
        "json",
        "math",
        "operator",
        "re",
        "string",
        "types",
        "typing",
        "pydantic",
    }
)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("checks")))
def test_controls_import_only_pure_computation_and_open_no_file(name: str) -> None:
    """Controls do no I/O: a judgement is a function of the snapshot and the params alone."""
    path = MODULES[name]
    impure = sorted({module for module, _ in _imports(path) if module not in PURE and not module.startswith("checks")})
    assert impure == []
    opens = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert opens == []
