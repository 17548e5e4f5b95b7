"""`controlwatch check --format sarif|junit|csv|ocsf`: the results in the shapes CI systems and
scanners read (README, "Command line"). Each format is one small module building plain Python
structures that a standard serialiser (json, xml.etree, csv) writes, so no markup is hand-made.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.commands.formats import csv_rows, junit, ocsf, sarif
from monitor.commands.formats.report import CheckReport

RENDERERS: dict[str, Callable[[CheckReport], str]] = {
    "sarif": sarif.render,
    "junit": junit.render,
    "csv": csv_rows.render,
    "ocsf": ocsf.render,
}

__all__ = ["RENDERERS", "CheckReport"]
