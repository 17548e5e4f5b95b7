"""The fast canonical path writes and accepts exactly what RFC 8785 (the `rfc8785` library) does."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import rfc8785

from monitor.evidence.canonical import canonical_json, is_canonical

_ATOMS: list[Any] = [
    0,
    -0.0,
    1,
    -7,
    900.0,
    0.5,
    1e-7,
    1e20,
    1e30,
    2**53 - 1,
    2**53,
    True,
    False,
    None,
    "",
    "plain",
    'quote " and \\ backslash',
    "tab\tnew\nline\x01\x1f\x7f",
    "é ü",
    "\u2028",
    "\ue000",
    "😀",
]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(_ATOMS)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["a", "B", "z", "é", "\ue000", "😀", "10", "1"]
    return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randrange(5))}


def _reference(value: Any) -> str | None:
    try:
        return rfc8785.dumps(value).decode("utf-8")
    except Exception:
        return None


def test_writes_the_same_text_as_rfc8785_for_random_values() -> None:
    rng = random.Random(8785)
    for _ in range(3000):
        value = {"v": _value(rng, 0)}
        expected = _reference(value)
        if expected is None:
            with pytest.raises((TypeError, ValueError)):
                canonical_json(value)
        else:
            assert canonical_json(value) == expected


def test_accepts_exactly_the_canonical_texts() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        value = {"v": _value(rng, 0)}
        expected = _reference(value)
        if expected is None:
            continue
        assert is_canonical(expected)[0]
        for other in (
            json.dumps(value, sort_keys=True, separators=(",", ":")),  # ASCII escapes, Python floats
            json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            json.dumps(value, separators=(",", ":"), ensure_ascii=False),  # unsorted
        ):
            assert is_canonical(other)[0] == (other == expected), other


@pytest.mark.parametrize(
    "text",
    [
        '{"a":-0}',
        '{"a":1.0}',
        '{"a":1e-07}',
        '{"a":100000000000000000001}',
        '{"a":"\\u00e9"}',
        '{"b":1,"a":2}',
        '{"a":1,"a":1}',
        '{"a":"\\ud800"}',
        '{"a": 1}',
    ],
)
def test_refuses_texts_rfc8785_would_write_differently(text: str) -> None:
    assert is_canonical(text)[0] is False


def test_accepts_large_doubles_as_rfc8785_writes_them() -> None:
    assert is_canonical('{"a":100000000000000000000}')[0] is True
    assert is_canonical('{"a":1e+30,"b":0.5,"c":1e-7}')[0] is True


def _fractions(rng: random.Random, count: int) -> list[float]:
    """Fractions of every magnitude around the fast path's bounds (1e-4, 1e16) and RFC 8785's (1e-6, 1e21)."""
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-9, 23) for _ in range(count)]
    values += [1e-4, 9.999999999999999e-05, 1.0000000000000001e-04, 9999999999999998.5, 1e16 + 2.0, 0.1 + 0.2]
    return values


def test_writes_fractions_of_every_magnitude_as_rfc8785_does() -> None:
    for number in _fractions(random.Random(3), 20_000):
        value = {"f": number, "l": [number, -number]}
        assert canonical_json(value) == _reference(value), number


def test_accepts_fractions_only_in_rfc8785s_form() -> None:
    for number in _fractions(random.Random(5), 5_000):
        expected = _reference({"f": number})
        assert expected is not None
        assert is_canonical(expected)[0], expected
        python = json.dumps({"f": number}, separators=(",", ":"))
        assert is_canonical(python)[0] == (python == expected), python
