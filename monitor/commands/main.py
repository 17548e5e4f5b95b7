"""The `controlwatch` command line: the root group, and each command group added to it.

Exit codes: 0 ok, 1 something fails (check, results), 2 bad usage/config/scenario/credentials
or an unreachable endpoint or daemon, 3 a result is `error` (check, results). Commands that
need no Google API never import the clients.
Each command lives in its own module over `commands.common`; this module only assembles them.
"""

from __future__ import annotations

import click

from monitor import __version__
from monitor.commands.baseline import baseline
from monitor.commands.check import check
from monitor.commands.config_group import config_group
from monitor.commands.evidence import evidence
from monitor.commands.inspect_cmds import controls, results
from monitor.commands.run_daemon import run
from monitor.commands.sandbox import sandbox
from monitor.commands.scopes_cmd import scopes


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="controlwatch")
def cli() -> None:
    """controlwatch: watches the security controls of a Google Cloud estate."""


for _command in (config_group, sandbox, run, check, scopes, controls, results, baseline, evidence):
    cli.add_command(_command)


def main() -> None:
    cli.main(prog_name="controlwatch")


if __name__ == "__main__":  # pragma: no cover
    main()
