"""Value grammars shared by the config's models: ids, globs and the frozen base model.

Each grammar says in its error what a good value looks like, since the message is what
an operator reads (`FILE:LINE: KEY.PATH: reason`).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo

PROJECT_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
CONTROL_ID = re.compile(r"^[A-Z]+-\d\d$")
_NODE_ID = re.compile(r"^[1-9]\d{0,24}$")
# What a project id may hold, plus fnmatch's wildcards: `shop-*`, `data-?`, `team-[ab]-*`.
_PROJECT_GLOB = re.compile(r"^[-a-z0-9*?\[\]!]{1,30}$")
# Label keys and values as Resource Manager allows them (lowercase ASCII here), values may be globs.
_LABEL_KEY = re.compile(r"^[a-z][-_a-z0-9]{0,62}$")
_LABEL_GLOB = re.compile(r"^[-_a-z0-9*?\[\]!]{0,63}$")


class Frozen(BaseModel):
    """Every config model: unknown keys are errors, values never change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _project_id(value: str) -> str:
    if not PROJECT_ID.match(value):
        raise ValueError(
            f"{value!r} is not a project id (6-30 characters: lowercase letters, digits and hyphens, "
            "starting with a letter, not ending with a hyphen)"
        )
    return value


def _control_id(value: str, info: ValidationInfo) -> str:
    if not CONTROL_ID.match(value):
        raise ValueError(f"{value!r} is not a control id (AREA-NN, e.g. 'FW-01')")
    known = (info.context or {}).get("known_controls")
    if known is not None and value not in known:
        close = difflib.get_close_matches(value, sorted(known), n=1)
        raise ValueError(f"unknown control {value!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
    return value


def _node_id(noun: str, collection: str, example: str) -> BeforeValidator:
    """An organisation or folder id: its digits (YAML may read them as a number: taken as written)."""

    def check(value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError(f"expected {noun} id, a string of digits such as {example!r}")
        if not _NODE_ID.match(value):
            hint = f", without '{collection}/'" if value.startswith(f"{collection}/") else ""
            raise ValueError(f"{value!r} is not {noun} id: its number only{hint}, e.g. {example!r}")
        return value

    return BeforeValidator(check)


def _project_glob(value: str) -> str:
    if not _PROJECT_GLOB.match(value):
        raise ValueError(
            f"{value!r} is not a project id or glob (lowercase letters, digits, hyphens, and the wildcards "
            "* ? [...], e.g. 'shop-*')"
        )
    return value


def _label_key(value: str) -> str:
    if not _LABEL_KEY.match(value):
        raise ValueError(
            f"{value!r} is not a label key (lowercase letters, digits, '_' and '-', starting with a letter)"
        )
    return value


def _label_glob(value: str) -> str:
    if not _LABEL_GLOB.match(value):
        raise ValueError(
            f"{value!r} is not a label value or glob (lowercase letters, digits, '_', '-', and the wildcards "
            "* ? [...])"
        )
    return value


ProjectId = Annotated[str, AfterValidator(_project_id)]
ControlId = Annotated[str, AfterValidator(_control_id)]
OrganizationId = Annotated[str, _node_id("an organization", "organizations", "123456789012")]
FolderId = Annotated[str, _node_id("a folder", "folders", "345678901234")]
ProjectGlob = Annotated[str, AfterValidator(_project_glob)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelGlob = Annotated[str, AfterValidator(_label_glob)]
