"""`controlwatch scopes`: every project found, in or out of the watched set, and why.

Against real GCP with `--config` (or its `gcp.api_endpoint`), or offline from a scenario
file through the stand-in with `--scenario` (alone: discovery below the scenario's
organisation). Exit 0 resolved; 2 bad usage, config, scenario or credentials; 3 the
discovery failed, so only the listed projects are shown (with the error).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from monitor.commands.check_output import EXIT_ERROR, EXIT_OK
from monitor.commands.common import fail, load_config_file, load_scenario_file, resolve_scopes, serving, with_overrides
from monitor.config.model import Config
from monitor.config.sharding import MAX_REPLICAS, ShardError, shard_from
from monitor.run.shard import Shard

if TYPE_CHECKING:
    from monitor.run.scopeset import ScopeSet
    from monitor.standin.scenario import Scenario

SCHEMA_VERSION = 1


def _scenario_config(scenario: Scenario) -> Config:
    """Discovery below the scenario's organisation (or, without one, its projects listed)."""
    if scenario.organization is not None:
        organization = scenario.organization.name.removeprefix("organizations/")
        return Config.model_validate({"scopes": {"organization": organization}})
    return Config.model_validate({"scopes": {"projects": [{"id": p} for p in scenario.projects]}})


def scopes_json(scopes: ScopeSet) -> dict[str, Any]:
    shard = scopes.shard
    return {
        "schema_version": SCHEMA_VERSION,
        "shard": {"index": shard.index, "count": shard.count} if shard is not None else None,
        "roots": list(scopes.roots),
        "discovered": scopes.listed,
        "error": scopes.error,
        "counts": scopes.counts(),
        "projects": [decision.to_json() for decision in scopes.decisions],
    }


def scopes_table(scopes: ScopeSet) -> str:
    rows = [("PROJECT", "WATCHED", "STATE", "PARENT", "OVERRIDES", "OWNER", "WHY")]
    for d in scopes.decisions:
        overrides = ",".join(str(i) for i in d.overrides) or "-"
        owner = "-" if not d.watched else str(d.owner) if d.owner is not None else "0"
        watched = "yes" if d.watched else "no"
        rows.append((d.project, watched, d.state or "-", d.parent or "-", overrides, owner, d.why))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows]
    counts = scopes.counts()
    summary = f"{counts['watched']} watched, {counts['excluded']} left out"
    if scopes.shard is not None:
        index, count = scopes.shard.index, scopes.shard.count
        summary += f"; replica {index} of {count} owns {len(scopes.watched())}"
    if scopes.roots:
        summary += f"; discovery below {', '.join(scopes.roots)}"
    if scopes.error:
        summary += f"; DISCOVERY FAILED, only the listed projects are shown: {scopes.error}"
    return "\n".join([*lines, summary])


def _shard(config: Config, shards: int | None) -> Shard | None:
    """`--shards N`: replica 0 of N; else the config's `shard:` read as the daemon reads it."""
    if shards is not None:
        return Shard(0, shards)
    try:
        return shard_from(config.shard, os.environ)
    except ShardError as exc:
        fail(f"{exc} (or pass --shards N to see the owners among N replicas)")


@click.command("scopes")
@click.option("--config", "config_path", type=click.Path(), envvar="CONTROLWATCH_CONFIG", help="Config file.")
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    help="Discover in a scenario file offline, through the local stand-in (alone: below its organisation).",
)
@click.option(
    "--shards",
    type=click.IntRange(1, MAX_REPLICAS),
    help="Show which of N replicas owns each project (instead of the config's shard:).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def scopes(config_path: str | None, scenario: str | None, shards: int | None, fmt: str) -> None:
    """Print every project found, watched or not, its owner among replicas, and why (the rule, folder,
    label, state or listing)."""
    if not config_path and not scenario:
        fail("nothing to resolve: pass --config FILE (real GCP) or --scenario FILE (offline)")
    loaded = load_scenario_file(scenario) if scenario else None
    if config_path:
        config = load_config_file(config_path)
    else:
        assert loaded is not None  # no --config means --scenario was given
        config = _scenario_config(loaded)
    shard = _shard(config, shards)
    if loaded is not None:
        with serving(loaded, shift_time=False) as server:
            resolved = resolve_scopes(with_overrides(config, endpoint=server.url), shard)
    else:
        resolved = resolve_scopes(config, shard)
    click.echo(json.dumps(scopes_json(resolved), indent=2) if fmt == "json" else scopes_table(resolved))
    sys.exit(EXIT_ERROR if resolved.error else EXIT_OK)
