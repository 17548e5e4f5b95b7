"""The bundled demo organisation that `controlwatch run --demo` serves through the stand-in.

`DEMO_SCENARIO` is a scenario file (README, "The local GCP stand-in and scenario files"): four projects with a
planted failure for every control, passing edge cases, and one project (`ledger-clean`)
that passes everything; its comments say which resource trips which control.
`DEMO_CONFIG` is the configuration the demo daemon runs with.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config.model import Config

_HERE = Path(__file__).resolve().parent

DEMO_SCENARIO: Path = _HERE / "demo-org.yaml"
DEMO_CONFIG: Path = _HERE / "demo-config.yaml"

__all__ = ["DEMO_CONFIG", "DEMO_SCENARIO", "moved_with_the_estate"]


def moved_with_the_estate(config: Config, scenario_now: datetime, now: datetime) -> Config:
    """The demo config moved in time with its estate.

    `run --demo` serves the scenario with every timestamp moved by (now − the scenario's
    `now`), so its backups are as fresh as written on any date; the accepted risks'
    expiries move by the same number of days, so the demo's waiver is as current as written
    too (it would otherwise lapse on the calendar day it names).
    """
    days = now.date() - scenario_now.date()
    moved = tuple(risk.model_copy(update={"expires": risk.expires + days}) for risk in config.exceptions)
    return config.model_copy(update={"exceptions": moved})
