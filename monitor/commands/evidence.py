"""`controlwatch evidence`: what auditors run against the evidence ledger.

- `verify`: the whole ledger, or a standalone export; names the first bad record.
- `export`: the records of a period (narrowed by control/scope) with the proof of their chain.
- `sample`: reproducible samples of "the state of control C in scope S at moment T".
- `report`: a self-contained HTML report of the period.
- `soc2`: the period by SOC 2 Trust Services Criterion, as HTML or JSON.

Each command lives in its own module (`evidence_verify.py`, …) over `evidence_args.py`,
which says where the ledger comes from and how dates are read; this module only assembles them.

Exit codes: 0 ok, 1 verification failed (`verify`), 2 bad usage (missing file, bad key,
bad date, unreadable ledger), with one clear line and no traceback.
"""

from __future__ import annotations

import click

from monitor.commands.evidence_args import UtcMoment, parse_moment
from monitor.commands.evidence_export import export_command
from monitor.commands.evidence_report import report_command
from monitor.commands.evidence_sample import sample_command
from monitor.commands.evidence_soc2 import soc2_command
from monitor.commands.evidence_verify import verify_command

__all__ = ["UtcMoment", "evidence", "parse_moment"]


@click.group("evidence")
def evidence() -> None:
    """The evidence ledger: verify it, export a period, draw samples, render a report or the SOC 2 view.

    Dates are UTC (YYYY-MM-DD or RFC 3339); --from is inclusive, --to exclusive.
    """


for _command in (verify_command, export_command, sample_command, report_command, soc2_command):
    evidence.add_command(_command)
