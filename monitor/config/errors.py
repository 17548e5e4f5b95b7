"""Pydantic's validation errors as the sentences an operator reads (`FILE:LINE: KEY.PATH: reason`)."""

from __future__ import annotations

import difflib
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from monitor.config.yaml_source import KeyPath

__all__ = ["describe", "reason"]

_EXPECTED = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "path_type": "a file path",
}


def reason(error: ErrorDetails, root: type[BaseModel]) -> str:
    """The error as a sentence; `root` is the model the error's location starts from (unknown-key hints)."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        return _unknown_key(error["loc"], root)
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "too_short":
        return f"must list at least {error.get('ctx', {}).get('min_length', 1)} item(s)"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe(value)}"
    if isinstance(value, list | dict):
        return str(error["msg"])
    return f"{error['msg']}, got {describe(value)}"


def _unknown_key(loc: KeyPath, root: type[BaseModel]) -> str:
    known = _fields_at(loc[:-1], root)
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (expected one of: {', '.join(known)})"


def _fields_at(loc: KeyPath, root: type[BaseModel]) -> list[str]:
    """Field names of the model found at `loc`, walking the annotations from `root`."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = get_args(annotation)
            annotation = args[0] if args else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        else:
            return annotation


def describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
