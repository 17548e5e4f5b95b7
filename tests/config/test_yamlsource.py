"""Line-aware YAML: lines per key path, refused duplicates and oddities, no crash on hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor.config.yaml_source import Problem, SourceError, format_path, parse_yaml, read_source


def _problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as caught:
        parse_yaml(text, "f.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_lines_of_keys_and_items() -> None:
    doc = parse_yaml("# c\na:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n", "f.yaml")
    assert doc.data == {"a": {"b": 1, "c": ["x", {"d": 2}]}}
    assert doc.lines[("a",)] == 2
    assert doc.lines[("a", "b")] == 3
    assert doc.lines[("a", "c", 0)] == 5
    assert doc.lines[("a", "c", 1, "d")] == 6
    assert doc.line_of(("a", "c", 1, "missing")) == 6  # a missing key: its parent
    assert doc.line_of(("nowhere",)) == 2  # the root mapping


def test_scalars_keep_yaml_types_but_timestamps_stay_text() -> None:
    doc = parse_yaml("i: 4\nf: 1.5\nb: true\nn: ~\nd: 2027-03-31\ns: '4'\n", "f.yaml")
    assert doc.data == {"i": 4, "f": 1.5, "b": True, "n": None, "d": "2027-03-31", "s": "4"}


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    assert _problems("a:\n  b: 1\n  b: 2\nc: 1\nc: 2\n") == [
        "f.yaml:3: a.b: duplicate key 'b' (first at line 2)",
        "f.yaml:5: c: duplicate key 'c' (first at line 4)",
    ]


def test_non_string_keys() -> None:
    assert _problems("1: a\n? [x]\n: b\nnull: c\n") == [
        "f.yaml:1: key '1' is read as a number, not a string: quote it",
        "f.yaml:2: a key must be a string, not a list or mapping",
        "f.yaml:4: key 'null' is read as null, not a string: quote it",
    ]


def test_unsupported_tags() -> None:
    assert _problems("a: !!binary aGk=\nb: !!set {x}\nc: !env HOME\n") == [
        "f.yaml:1: a: unsupported YAML tag tag:yaml.org,2002:binary",
        "f.yaml:2: b: unsupported YAML tag tag:yaml.org,2002:set",
        "f.yaml:3: c: unsupported YAML tag !env",
    ]


def test_merge_keys_explicit_wins_and_nearest_merge_first() -> None:
    text = "x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nz:\n  <<: [*y, *x]\n  c: 3\n"
    assert parse_yaml(text, "f.yaml").data["z"] == {"a": 1, "b": 2, "c": 3}


def test_bad_merge_value() -> None:
    assert _problems("a:\n  <<: 3\n") == ["f.yaml:2: a: '<<' must name a mapping or a list of them"]


def test_alias_cycle_is_a_problem_not_a_crash() -> None:
    assert _problems("a: &a [1, *a]\n") == ["f.yaml:1: a[1]: an alias refers to a value that contains it (a cycle)"]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.monotonic()
    [problem] = _problems("\n".join(lines) + "\n")
    assert "document too large" in problem
    assert time.monotonic() - started < 5


def test_deep_nesting_is_refused() -> None:
    assert "nested" in _problems("[" * 5000 + "]" * 5000)[0]
    assert "nested more than 64 levels" in _problems("a: " + "[" * 80 + "]" * 80)[0]


def test_syntax_error_has_line_and_column() -> None:
    assert _problems("a: b\n c: d\n") == ["f.yaml:2:3: YAML syntax error: mapping values are not allowed here"]


def test_several_documents_are_a_syntax_error() -> None:
    [problem] = _problems("a: 1\n---\nb: 2\n")
    assert problem == (
        "f.yaml:2:1: YAML syntax error: expected a single document in the stream (line 1), but found another document"
    )


def test_control_character() -> None:
    assert _problems("a: 1\nb: \x07\n") == [
        "f.yaml:2:4: YAML syntax error: unacceptable character #x0007: special characters are not allowed"
    ]


def test_empty_document_has_no_data() -> None:
    assert parse_yaml("# nothing\n", "f.yaml").data is None


def test_format_path_and_problem_text() -> None:
    assert format_path(("params", "firewall", "public_ports", 1)) == "params.firewall.public_ports[1]"
    assert format_path(("disk_selector", "app.kubernetes.io/name")) == "disk_selector['app.kubernetes.io/name']"
    assert str(Problem("f.yaml", "multi\n  line", 3, loc=("a", 0))) == "f.yaml:3: a[0]: multi line"
    assert str(Problem("f.yaml", "whole file")) == "f.yaml: whole file"


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_special_file_is_refused_at_once_never_waited_on(tmp_path: Path, kind: str) -> None:
    """A FIFO as the config path used to hang `config validate` (and a reloading daemon)."""
    import os
    import socket as sockets

    if kind == "fifo":
        path = tmp_path / "controlwatch.yaml"
        os.mkfifo(path)
        expected = "is a FIFO (named pipe), not a regular file"
    elif kind == "socket":
        path = tmp_path / "cw.sock"
        listener = sockets.socket(sockets.AF_UNIX)
        listener.bind(str(path))
        expected = "is a socket, not a regular file"
    else:
        path = Path("/dev/zero")
        expected = "is a character device, not a regular file"
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        read_source(path)
    assert time.monotonic() - started < 2
    assert [str(p) for p in caught.value.problems] == [f"{path}: cannot read: {expected}"]
    if kind == "socket":
        listener.close()
