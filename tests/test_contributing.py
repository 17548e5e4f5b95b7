"""CONTRIBUTING.md tells the truth: the files and tests it names exist, each derived table it
claims names the test that proves it, and its worked example is a valid row, fixture and set
of routes against the discovery documents and the derivations the stand-in and collectors use."""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import checks.kinds
from checks.kinds import APIS, LIST_SHAPES, KindSpec, Shape
from monitor.collect import compute
from monitor.collect.kinds import GENERIC
from monitor.standin.discovery import load_api
from monitor.standin.kindroutes import routes_of
from tests.standin.envelopes import envelope_drift

ROOT = Path(__file__).parents[1]
TEXT = (ROOT / "CONTRIBUTING.md").read_text()
_PATH = re.compile(r"(?:[\w.-]+/)+[\w.-]*(?:::\w+)?|[\w-]+\.(?:md|py|toml|json|yaml|txt)(?:::\w+)?|::\w+")


def _section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end >= 0 else None]


KIND_SECTION = _section("Adding a resource kind")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", KIND_SECTION, re.S)


def _named(text: str) -> Iterator[tuple[str, str | None]]:
    """(file, test function or None) for every path in backticks; `::test_x` refers to the last file named."""
    last = ""
    for token in re.findall(r"`([^`\n]+)`", text):
        if not _PATH.fullmatch(token):
            continue
        path, _, test = token.partition("::")
        last = path or last
        yield last, test or None


def test_the_kind_section_is_there_and_names_files_and_tests() -> None:
    named = list(_named(KIND_SECTION))
    assert {"checks/kinds.py", "tests/standin/data/scenario-minimal.json", "README.md"} <= {p for p, _ in named}
    assert sum(1 for _, test in named if test) >= 15


@pytest.mark.parametrize(("path", "test"), sorted(set(_named(TEXT)), key=str), ids=lambda v: str(v))
def test_every_file_and_test_it_names_exists(path: str, test: str | None) -> None:
    target = ROOT / path
    assert target.exists(), f"CONTRIBUTING.md names {path}, which does not exist"
    if test is not None:
        assert re.search(rf"^def {test}\(", target.read_text(), re.M), f"{path} has no {test}"


def test_each_derived_table_names_the_test_that_proves_it() -> None:
    table = [line for line in KIND_SECTION.splitlines() if line.startswith("| ") and "`tests/" in line]
    assert len(table) >= 8
    for line in table:
        derived, proof = line.strip("| ").split(" | ", 1)
        assert derived and any(test for _, test in _named(proof)), line


def _example_rows() -> list[KindSpec]:
    rows = []
    for block in _blocks("python"):
        namespace: dict[str, Any] = dict(vars(checks.kinds))
        exec(block, namespace)  # the documented row, in the kind table's own module namespace
        rows.append(namespace["FORWARDING_RULES"])
    return rows


@functools.cache
def _example() -> KindSpec:
    rows = _example_rows()
    assert len(rows) == 2 and rows[0] == rows[1], "the spelt-out row and the helper's row differ"
    assert isinstance(rows[0], KindSpec)
    return rows[0]


def test_the_worked_example_is_a_listing_the_collectors_fetch_generically() -> None:
    spec = _example()
    assert spec.shape in LIST_SHAPES and spec.shape is Shape.AGGREGATED
    fetch = GENERIC[spec.shape](spec)
    assert isinstance(fetch, functools.partial) and fetch.func is compute.aggregated_list
    assert fetch.keywords == {"key": spec.items}
    client = getattr(importlib.import_module(APIS[spec.client.api].package), spec.client.cls)
    assert hasattr(client, "aggregated_list")
    assert f"`{spec.permissions[0]}`" in KIND_SECTION and f"`{spec.name}`" in KIND_SECTION


def test_the_worked_example_matches_the_discovery_documents() -> None:
    spec = _example()
    api = load_api(spec.api)
    routes = routes_of(spec)
    assert set(routes) == {spec.method, "compute.forwardingRules.get"} and set(routes) <= set(api.methods)
    scoped = api.schema(api.methods[spec.method].response or "")["properties"]["items"]["additionalProperties"]
    field = api.schema(scoped["$ref"])["properties"][spec.items]
    assert field["items"]["$ref"] == spec.schema
    assert envelope_drift(spec.api, spec.method, spec.envelope) == []
    served = re.findall(r"`GET (/\S+)`", KIND_SECTION)  # the routes the prose says are served
    assert len(served) == 2
    for path in served:
        patterns = [re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(api.methods[m].url_path)) for m in routes]
        assert any(re.fullmatch(p, path) for p in patterns), path


def test_the_worked_example_fixture_is_valid_for_its_row() -> None:
    spec = _example()
    (block,) = _blocks("json")
    fixture = json.loads("{" + block + "}")
    assert list(fixture) == [spec.key]
    for resource in fixture[spec.key]:
        assert load_api(spec.api).validate(resource, spec.schema) == []
        assert any(field in resource for field in spec.locations)


# --- adding a control ---------------------------------------------------------------------------

CONTROL_SECTION = _section("Adding a control")


def _control_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", CONTROL_SECTION, re.S)


def test_the_control_section_names_the_files_a_control_touches() -> None:
    named = {path for path, _ in _named(CONTROL_SECTION)}
    assert {
        "checks/kernel.py",
        "checks/registry.py",
        "checks/params.py",
        "tests/checks/catalogue.py",
        "monitor/demo/demo-org.yaml",
        "tests/demo/test_demo_org.py",
        "README.md",
    } <= named


def test_the_worked_control_judges_each_case_of_its_table_as_the_table_says() -> None:
    from checks.model import Verdict
    from checks.params import Params
    from tests.builders import make_snapshot

    control_code, cases_code = _control_blocks()
    namespace: dict[str, Any] = dict(vars(importlib.import_module("checks.firewall")))
    exec(control_code, namespace)  # the documented judge and declaration, in the area module's namespace
    exec(cases_code, namespace)
    control = namespace["fw90_description"]
    assert control.meta.id == "FW-90" and control.meta.kinds == ("firewalls",)
    for rule, verdict, reason in namespace["CASES"]:
        snapshot = make_snapshot({"compute": {"firewalls": [rule]}})
        findings = list(control(snapshot, Params()))
        if verdict is None:
            assert findings == [], rule
            continue
        [finding] = findings
        assert finding.verdict is Verdict(verdict) and finding.reason == reason, (rule, finding)
        assert finding.resource.endswith(f"/global/firewalls/{rule['name']}")
