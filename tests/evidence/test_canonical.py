"""The exact bytes hashed: RFC 8785 for format 2 (known answers from the RFC and ECMAScript),
`json.dumps` for format 1, and how bodies read back are re-encoded to be checked; and the
dataclass-to-JSON helper the CLI's JSON output goes through."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.evidence.canonical import as_doubles, canonical_bytes, canonical_json, json_fields, legacy_json
from monitor.evidence.records import canonical_body


@pytest.mark.parametrize(
    ("value", "jcs", "legacy"),
    [
        (24.0, "24", "24.0"),
        (-0.0, "0", "-0.0"),
        (1e30, "1e+30", "1e+30"),
        (1e21, "1e+21", "1e+21"),
        (1e20, "100000000000000000000", "1e+20"),
        (1e16, "10000000000000000", "1e+16"),
        (1.5e-7, "1.5e-7", "1.5e-07"),
        (1e-6, "0.000001", "1e-06"),
        (0.1, "0.1", "0.1"),
        (333333333.33333329, "333333333.3333333", "333333333.3333333"),
        (4.50, "4.5", "4.5"),
        (2e-3, "0.002", "0.002"),
        (1e-27, "1e-27", "1e-27"),
        (-5e-324, "-5e-324", "-5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"),
        (2**53 - 1, "9007199254740991", "9007199254740991"),
        (-(2**53) + 1, "-9007199254740991", "-9007199254740991"),
        (True, "true", "true"),
        (None, "null", "null"),
    ],
)
def test_numbers_are_written_as_ecmascript_writes_doubles(value: Any, jcs: str, legacy: str) -> None:
    assert canonical_json(value) == jcs
    assert legacy_json(value) == legacy


def test_the_rfc_8785_sample_object() -> None:
    """RFC 8785 section 3.2.2, byte for byte (the object is parsed from its JSON text there)."""
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_bytes(json.loads(text)) == expected.encode("utf-8")


def test_keys_are_sorted_by_utf16_code_units_at_every_depth() -> None:
    """RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike in code point order."""
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    value = {"outer": {name: index for index, name in enumerate(names)}, "a": [{"z": 1, "y": {"b": 2, "a": 1}}]}
    text = canonical_json(value)
    assert text == (
        '{"a":[{"y":{"a":1,"b":2},"z":1}],'
        '"outer":{"\\r":1,"1":3,"\u0080":5,"\u00f6":6,"\u20ac":0,"\U0001f600":4,"\ufb33":2}}'
    )
    assert legacy_json(value).index("\ufb33") < legacy_json(value).index("\U0001f600")  # format 1: code points


def test_strings_are_utf8_escaped_only_where_json_requires_and_never_normalised() -> None:
    decomposed = "e\u0301"  # NFD "é": JCS keeps it, it does not normalise
    value = {"s": f"{decomposed} \u00e9 \u2028 \x7f \x1f \t / 😀"}
    assert canonical_bytes(value) == '{"s":"e\u0301 é \u2028 \x7f \\u001f \\t / 😀"}'.encode()
    assert canonical_json({"s": decomposed}) != canonical_json({"s": "\u00e9"})


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (2**53, ValueError),
        (-(2**53), ValueError),
        ("\ud800", ValueError),  # a lone surrogate is not Unicode text
        (datetime(2026, 1, 1, tzinfo=UTC), TypeError),
        ({1, 2}, TypeError),
        ({1: "non-string key"}, TypeError),
    ],
    ids=["nan", "inf", "2^53", "-2^53", "lone-surrogate", "datetime", "set", "int-key"],
)
def test_what_jcs_cannot_encode_is_refused_not_coerced(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonical_json({"x": value})


def test_big_doubles_read_back_as_integers_are_re_encoded_as_the_writer_wrote_them() -> None:
    """JCS writes the double 1e20 as 21 digits; Python reads that as an int JCS refuses."""
    written = canonical_json({"big": 1e20, "small": 5, "nested": [{"neg": -1e20}]})
    assert written == '{"big":100000000000000000000,"nested":[{"neg":-100000000000000000000}],"small":5}'
    parsed = json.loads(written)
    assert parsed["big"] == 10**20 and isinstance(parsed["big"], int)
    with pytest.raises(ValueError):
        canonical_json(parsed)
    assert canonical_json(as_doubles(parsed)) == written
    assert canonical_body(parsed, 2) == written
    assert as_doubles({"b": True, "i": 3, "huge": 10**400}) == {"b": True, "i": 3, "huge": float("inf")}


def test_a_number_no_double_holds_is_not_canonical_in_format_2() -> None:
    tampered = json.loads('{"n":9007199254740993}')  # 2^53 + 1: a double reads it as 2^53
    assert canonical_body(tampered, 2) == '{"n":9007199254740992}'
    assert canonical_body(tampered, 1) == '{"n":9007199254740993}'  # format 1 kept Python's exact integers


def test_canonical_body_knows_only_formats_1_and_2() -> None:
    value = {"t": 24.0, "k": {"\ufb33": 1, "\U0001f600": 2}}
    assert canonical_body(value, 1) == legacy_json(value) == '{"k":{"\ufb33":1,"\U0001f600":2},"t":24.0}'
    assert canonical_body(value, 2) == canonical_json(value) == '{"k":{"\U0001f600":2,"\ufb33":1},"t":24}'
    with pytest.raises(ValueError, match="unknown record format 3"):
        canonical_body(value, 3)


@dataclass(frozen=True)
class _Inner:
    name: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _Outer:
    inner: tuple[_Inner, ...]
    by_key: dict[str, tuple[int, ...]]
    note: str | None


def test_json_fields_are_the_fields_in_order_with_tuples_as_lists() -> None:
    value = _Outer(inner=(_Inner("a", ("x", "y")),), by_key={"k": (1, 2)}, note=None)
    data = json_fields(value)
    assert data == {"inner": [{"name": "a", "tags": ["x", "y"]}], "by_key": {"k": [1, 2]}, "note": None}
    assert list(data) == ["inner", "by_key", "note"]
    assert type(data["inner"]) is list and type(data["by_key"]["k"]) is list
