"""Every control is defined in the project's own catalogue: `docs/controls.md` (generated from the
registry, held equal to it here), `controls -v` and `controls --format json` say, for each control,
the unit judged, what must hold, the exact logic, what unknown data gives and its references."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from checks import default_registry
from checks.registry import ControlMeta
from monitor.commands.catalogue import catalogue_table, control_json
from monitor.commands.catalogue_doc import DOCUMENT_PATH, controls_document, param_default, update_document
from monitor.commands.main import cli

ROOT = Path(__file__).resolve().parents[2]
METAS = [c.meta for c in default_registry()]


def test_the_committed_document_is_generated_from_the_registry() -> None:
    committed = (ROOT / DOCUMENT_PATH).read_text(encoding="utf-8")
    assert committed == controls_document(default_registry()), (
        f"{DOCUMENT_PATH} is stale: run `make readme` and commit it"
    )


@pytest.mark.parametrize("meta", METAS, ids=lambda meta: meta.id)
def test_every_control_is_defined(meta: ControlMeta) -> None:
    for field in ("holds", "logic", "unknown"):
        text = getattr(meta, field)
        assert text.strip(), f"{meta.id} has no `{field}=` in its declaration"
        assert text == text.strip() and "\n" not in text, f"{meta.id}.{field} must be one paragraph"
    # The unknown-data clause is the fail-closed promise: it must say what gives an error.
    assert "error" in meta.unknown, f"{meta.id}.unknown should say what gives `error`"


def test_the_document_has_one_section_per_control_with_its_definition_and_references() -> None:
    text = controls_document(default_registry())
    headings = re.findall(r"^### (\S+)$", text, flags=re.MULTILINE)
    assert sorted(headings) == sorted(meta.id for meta in METAS)
    assert len(headings) == len(set(headings))
    for meta in METAS:
        section = text.split(f"### {meta.id}\n", 1)[1].split("\n### ", 1)[0]
        assert f"- **Must hold**: {meta.holds}\n" in section
        assert f"- **Logic**: {meta.logic}\n" in section
        assert f"- **Unknown data**: {meta.unknown}\n" in section
        assert f"per {meta.unit}" in section
        for version, rec in meta.references.cis:
            assert f"{version}: " in section and rec in section, (meta.id, version, rec)
        for criterion in meta.references.soc2:
            assert criterion in section
        for key in meta.params:
            assert f"`{key}` (default `{param_default(key)}`)" in section


def test_parameter_defaults_are_read_from_the_params_model() -> None:
    assert param_default("iam.key_max_age_days") == "90"
    assert param_default("region.allowed") == '["europe-west1"]'
    with pytest.raises(KeyError):
        param_default("iam.no_such_key")


def test_update_document_writes_only_when_stale(tmp_path: Path) -> None:
    target = tmp_path / "controls.md"
    assert update_document(str(target), default_registry()) is True
    assert update_document(str(target), default_registry()) is False
    target.write_text("edited by hand\n", encoding="utf-8")
    assert update_document(str(target), default_registry()) is True
    assert target.read_text(encoding="utf-8") == controls_document(default_registry())


def test_verbose_table_prints_each_definition_under_its_row() -> None:
    lines = catalogue_table(default_registry(), verbose=True).splitlines()
    for meta in METAS:
        row = next(i for i, line in enumerate(lines) if line.startswith(meta.id + " "))
        block = []
        for line in lines[row + 1 :]:
            if not line.startswith("    "):
                break
            block.append(line)
        assert f"    holds: {meta.holds}" in block
        assert f"    logic: {meta.logic}" in block
        assert f"    unknown: {meta.unknown}" in block
        assert f"    per: {meta.unit} (reads {', '.join(meta.kinds)})" in block


def test_the_cli_serves_the_document_and_the_definitions_as_json() -> None:
    runner = CliRunner()
    document = runner.invoke(cli, ["controls", "--format", "document"])
    assert document.exit_code == 0, document.output
    assert document.output == controls_document(default_registry())
    listing = runner.invoke(cli, ["controls", "--format", "json"])
    assert listing.exit_code == 0, listing.output
    by_id = {entry["id"]: entry for entry in json.loads(listing.output)}
    for meta in METAS:
        assert by_id[meta.id]["definition"] == control_json(meta)["definition"] == {
            "holds": meta.holds, "logic": meta.logic, "unknown": meta.unknown}  # fmt: skip
