"""`controlwatch config validate`: for config repositories' own CI."""

from __future__ import annotations

import click

from checks import default_registry
from monitor.commands.common import load_config_file
from monitor.config.durations import format_duration
from monitor.plurals import counted


@click.group("config")
def config_group() -> None:
    """Configuration files."""


@config_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=True))
def config_validate(file: str) -> None:
    """Validate FILE: exit 0 when it is good, 2 with file:line, key path and reason when not."""
    config = load_config_file(file)
    enabled = sum(len(default_registry().ids()) - len(config.disabled_for(s)) for s in config.scope_ids())
    line = f"{file}: ok ({counted(len(config.scope_ids()), 'scope')}, {enabled} enabled (control, scope) "
    line += "pair)" if enabled == 1 else "pairs)"
    if config.scopes.discovering:  # what discovery adds is known only by listing: `controlwatch scopes`
        refresh = format_duration(config.scopes.refresh)
        line += f"; plus every project discovery admits below {', '.join(config.scopes.roots())}, every {refresh}"
    click.echo(line)
