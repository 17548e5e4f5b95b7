"""`controlwatch evidence soc2` as one self-contained HTML page: the view by criterion (`soc2.py`).

Written by the report's templates and Jinja2 environment (`report_html.py`: autoescape on,
StrictUndefined, the same CSP forbidding every load), from `Soc2View.to_json()`; pure, like
`render_report`: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor.evidence.report_format import time_of
from monitor.evidence.report_html import CSP, FOLD_OVER, SHOWN_ROWS, environment, restore_entities
from monitor.evidence.report_text import verdict

__all__ = ["render_soc2"]


def render_soc2(
    view_json: Mapping[str, Any],
    *,
    title: str,
    ledger_head: tuple[int, str] | None,
    verified: bool | None,
    verification: Mapping[str, Any] | None = None,
    generated_at: str | datetime | None = None,
    generator: str = "controlwatch",
    open_period: bool = False,
) -> str:
    """The SOC 2 view as one HTML document; the arguments are `render_report`'s."""
    document = (
        environment()
        .get_template("soc2.html.j2")
        .render(
            title=title,
            generator=generator,
            csp=CSP,
            view=view_json,
            open_period=open_period,
            generated=time_of(generated_at) if generated_at is not None else None,
            ledger_head=ledger_head,
            verdict=verdict(verified, verification),
            fold_over=FOLD_OVER,
            shown_rows=SHOWN_ROWS,
        )
    )
    return restore_entities(document)
