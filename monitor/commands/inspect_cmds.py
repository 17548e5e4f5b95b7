"""`controlwatch controls` (the catalogue) and `controlwatch results` (what fails now, from a daemon)."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from checks import default_registry
from checks.model import Result, Verdict
from monitor.commands.catalogue import TABLE_WIDTH, catalogue_json, catalogue_markdown, catalogue_table
from monitor.commands.catalogue_doc import controls_document
from monitor.commands.check_output import EXIT_ERROR, check_table, exit_code
from monitor.commands.common import UsageFailure


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown", "document"]),
    default="table",
    show_default=True,
    help="markdown: the README's table; document: every definition, as docs/controls.md.",
)
@click.option("--verbose", "-v", is_flag=True, help="Table: add each control's full definition under its row.")
def controls(fmt: str, verbose: bool) -> None:
    """List every control: id, area, severity, title, parameters, definition, references."""
    registry = default_registry()
    if fmt == "json":
        click.echo(json.dumps(catalogue_json(registry), indent=2))
    elif fmt == "markdown":
        click.echo(catalogue_markdown(registry))
    elif fmt == "document":
        click.echo(controls_document(registry), nl=False)
    else:
        columns = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns  # a narrower terminal: narrower rows
        click.echo(catalogue_table(registry, verbose=verbose, width=min(TABLE_WIDTH, columns)))


@click.command()
@click.option("--url", default="http://127.0.0.1:9797", show_default=True, help="The daemon's metrics address.")
@click.option("--control", help="Only this control.")
@click.option("--scope", help="Only this scope.")
@click.option("--all", "show_all", is_flag=True, help="Show passing results too (a daemon serves only their count).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def results(url: str, control: str | None, scope: str | None, show_all: bool, fmt: str) -> None:
    """What fails now, read from a running daemon's /results (every page of it).

    Exit 0 nothing fails (excepted failures included), 1 something fails, 3 a control is in error
    (3 wins over 1), 2 the daemon cannot be read or the filter is refused: the codes of `check`."""
    query = {k: v for k, v in (("control", control), ("scope", scope)) if v}
    pages = _read_pages(f"{url.rstrip('/')}/results", {**query, "limit": str(PAGE_LIMIT)})
    states = [state for page in pages for state in page.get("controls", [])]
    rows: list[Result] = []
    for state in states:
        for item in state.get("results", []):
            rows.append(Result.from_json(item))
    if fmt == "json":
        body = {**pages[0], "controls": states}
        body.pop("next_page_token", None)
        click.echo(json.dumps(body, indent=2))
    else:
        passing = sum(state.get("passing", 0) for state in states)
        click.echo(check_table(rows, show_passing=show_all, passes_counted=passing))
    in_error = any(state.get("status") == Verdict.ERROR.value for state in states)
    sys.exit(EXIT_ERROR if in_error else exit_code(rows))


#: pairs asked for a page, and pages read at most (5,000 × 2,000: ten million pairs)
PAGE_LIMIT, MAX_PAGES = 5000, 2000


def _read_pages(base: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of `/results`, following `next_page_token`; UsageFailure naming what went wrong."""
    pages: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        target = f"{base}?{urllib.parse.urlencode({**query, **({'page_token': token} if token else {})})}"
        try:
            with urllib.request.urlopen(target, timeout=10) as response:  # noqa: S310 - operator-given URL
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            with exc:  # an HTTPError holds the response open until closed
                detail = exc.read().decode(errors="replace").strip()
            raise UsageFailure(f"{target}: {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise UsageFailure(f"cannot read {target}: {exc}; is `controlwatch run` listening there?") from None
        pages.append(body)
        token = body.get("next_page_token")
        if not token:
            return pages
    raise UsageFailure(f"{base}: more than {MAX_PAGES} pages of results; narrow with --control or --scope")
