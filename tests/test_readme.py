"""The README tells the truth: its controls table, metric families, commands and config keys
come from (or are checked against) the code."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from checks import default_registry
from checks.kinds import APIS
from checks.snapshot import Kind
from monitor.commands.catalogue import README_BEGIN, README_END, readme_section
from monitor.commands.main import cli
from monitor.config.model import Config
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_controls_table_is_generated_from_the_registry() -> None:
    start, end = README.index(README_BEGIN), README.index(README_END) + len(README_END)
    assert README[start:end] == readme_section(default_registry()), (
        "README controls table is stale: regenerate it with `make readme`"
    )


def test_every_metric_family_is_documented() -> None:
    metrics = Metrics(ResultStore(), version="test")
    names = {family.name for family in metrics.registry.collect()}
    names |= {family.name for collector in [metrics.store_collector] for family in collector.describe()}
    assert len(names) >= 25
    for name in names:  # prometheus_client names counter families without their `_total`
        assert f"`{name}`" in README or f"`{name}_total`" in README, name


def test_every_kind_is_documented() -> None:
    for kind in Kind.ALL:
        assert f"`{kind}`" in README, kind


def test_the_kind_and_service_labels_list_the_kind_table() -> None:
    kinds = ", ".join(f"`{kind}`" for kind in Kind)
    services = ", ".join(f"`{name}`" for name in APIS)
    assert f"| `kind` | the resource kinds collected: {kinds} |" in README
    assert f"| `service` | the Google API: {services} |" in README


def test_every_command_is_documented() -> None:
    commands = [name for name in cli.commands if name != "config"] + ["config validate"]
    for command in commands:
        assert f"controlwatch {command}" in README, command


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and name != "params":
            keys += _keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def test_every_config_key_is_documented() -> None:
    for key in _keys(Config):
        leaf = key.rsplit(".", 1)[-1]
        assert re.search(rf"`[^`]*{re.escape(leaf)}", README), key
