"""`controlwatch sandbox`: the local GCP stand-in alone, for poking with the client libraries."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from monitor.commands.common import demo_paths, load_scenario_file, serving, signals_set


@click.command()
@click.option("--scenario", type=click.Path(dir_okay=False), help="Scenario file (default: the demo organisation).")
@click.option("--port", type=click.IntRange(0, 65535), default=8085, show_default=True, help="Loopback port.")
@click.option(
    "--shift-time/--no-shift-time",
    default=None,
    help="Move timestamps to the wall clock (default: on for the demo, off otherwise).",
)
def sandbox(scenario: str | None, port: int, shift_time: bool | None) -> None:
    """Serve the local GCP stand-in alone (loopback only), for poking with the client libraries."""
    path = Path(scenario) if scenario else demo_paths()[0]
    loaded = load_scenario_file(path)
    shift = shift_time if shift_time is not None else scenario is None
    stop = threading.Event()
    with serving(loaded, shift_time=shift, port=port) as server, signals_set(stop):
        click.echo(f"stand-in serving {path} at {server.url} (projects: {', '.join(loaded.projects)})")
        click.echo(f"control API: {server.url}/_standin/  (Ctrl-C to stop)")
        stop.wait()
