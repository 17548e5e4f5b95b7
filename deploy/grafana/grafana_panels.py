"""Grafana JSON building blocks for the controlwatch dashboard: query targets and panels.

Every panel of one type is shaped alike (same options, legends, colour modes), so the
row modules only say what a panel queries and how it reads; Grafana's JSON model stays
in one place. Every target uses the `datasource` variable, which the dashboard lets an
importer point at the Prometheus that scrapes the daemon.
"""

from __future__ import annotations

from typing import Any

DS = {"type": "prometheus", "uid": "${datasource}"}

Panel = dict[str, Any]


def target(
    expr: str, legend: str = "", *, ref: str = "A", instant: bool = False, table: bool = False
) -> dict[str, Any]:
    t: dict[str, Any] = {"datasource": DS, "expr": expr, "refId": ref, "legendFormat": legend or "__auto"}
    if instant:
        t["instant"] = True
        t["range"] = False
    if table:
        t["format"] = "table"
    return t


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": color, "value": value} for value, color in steps]}


def stat(
    title: str,
    expr: str,
    *,
    unit: str = "none",
    steps: tuple[tuple[float | None, str], ...] = (),
    legend: str = "",
    description: str = "",
    mappings: list[dict[str, Any]] | None = None,
) -> Panel:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [target(expr, legend, instant=True)],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": thresholds(*(steps or ((None, "green"),))),
                "mappings": mappings or [],
                "color": {"mode": "thresholds"},
            },
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "auto",
            "orientation": "auto",
            "justifyMode": "auto",
        },
    }


def timeseries(
    title: str,
    *targets: dict[str, Any],
    unit: str = "none",
    description: str = "",
    bars: bool = False,
    stack: bool = False,
) -> Panel:
    custom: dict[str, Any] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 30 if bars or stack else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
    }
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": list(targets),
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
        "options": {
            "legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def table(
    title: str,
    *targets: dict[str, Any],
    rename: dict[str, str],
    description: str = "",
    sort: str = "",
    overrides: list[dict[str, Any]] | None = None,
    links: list[dict[str, Any]] | None = None,
) -> Panel:
    """An instant table: the queries are merged on their common labels, `rename` picks and names the columns;
    `links` are data links on every cell, so a row opens what it is about."""
    return {
        "type": "table",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": list(targets),
        "transformations": [
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"Time": True, "__name__": True, "job": True},
                    "indexByName": {name: i for i, name in enumerate(rename)},
                    "renameByName": rename,
                },
            },
        ],
        "fieldConfig": {
            "defaults": {"custom": {"align": "auto", "filterable": True}, "links": links or []},
            "overrides": overrides or [],
        },
        "options": {
            "showHeader": True,
            "footer": {"show": False},
            "sortBy": [{"displayName": sort, "desc": True}] if sort else [],
        },
    }


def colored_column(name: str, steps: tuple[tuple[float | None, str], ...], unit: str = "none") -> dict[str, Any]:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [
            {"id": "unit", "value": unit},
            {"id": "thresholds", "value": thresholds(*steps)},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}},
        ],
    }


def variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": query,
        "refresh": 2,
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "regex": "",
        "hide": 0,
    }


def link(title: str, url: str) -> dict[str, Any]:
    """A data link; `url` may use dashboard variables and `${__data.fields.LABEL}` of the clicked row."""
    return {"title": title, "url": url, "targetBlank": True}


def state_timeline(
    title: str,
    *targets: dict[str, Any],
    states: tuple[tuple[int, str, str], ...],
    description: str = "",
    links: list[dict[str, Any]] | None = None,
) -> Panel:
    """One band per series, coloured by `states` (value, text, colour): a status over time."""
    return {
        "type": "state-timeline",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": list(targets),
        "fieldConfig": {
            "defaults": {
                "color": {"mode": "thresholds"},
                "thresholds": thresholds((None, "transparent")),
                "mappings": [
                    {"type": "value", "options": {str(value): {"text": text, "color": color, "index": i}}}
                    for i, (value, text, color) in enumerate(states)
                ],
                "custom": {"fillOpacity": 80, "lineWidth": 0},
                "links": links or [],
            },
            "overrides": [],
        },
        "options": {
            "mergeValues": True,
            "showValue": "never",
            "alignValue": "left",
            "rowHeight": 0.9,
            "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
            "tooltip": {"mode": "single", "sort": "none"},
        },
    }


def textbox(name: str, label: str, default: str, description: str) -> dict[str, Any]:
    """A free-text variable (a URL the dashboard's links start with), set on import or in the URL."""
    option = {"selected": True, "text": default, "value": default}
    return {
        "name": name,
        "label": label,
        "description": description,
        "type": "textbox",
        "query": default,
        "current": option,
        "options": [option],
        "hide": 0,
    }
