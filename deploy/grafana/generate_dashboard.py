"""Writes controlwatch-dashboard.json, the Grafana dashboard for controlwatch (standard library only).

    python3 deploy/grafana/generate_dashboard.py          # rewrites controlwatch-dashboard.json beside it
    python3 deploy/grafana/generate_dashboard.py --check  # exit 1 if the JSON on disk is not what this writes

Edit the panels in these modules, not in the JSON: dashboard_rows.py says what each row's panels query,
grafana_panels.py how each panel type is shaped, and this script where the panels sit and what wraps
them. tests/deploy checks that the JSON is this script's output, that every panel has a query, and that
every query parses on a real Prometheus and names only metrics the daemon exports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dashboard_rows import ROWS, VARIABLES
from grafana_panels import Panel

OUT = Path(__file__).with_name("controlwatch-dashboard.json")

#: width and height of each panel type on the 24-column grid; a row wraps when full
SIZES = {"stat": (4, 4), "table": (12, 8), "timeseries": (12, 8), "state-timeline": (24, 10)}
WIDE = {"Failing and erroring controls": 24}


def layout() -> list[Panel]:
    """Row headers and panels in order, each placed left to right and given the next id."""
    panels: list[Panel] = []
    y, next_id = 0, 1
    for title, row_panels in ROWS:
        panels.append(
            {
                "type": "row",
                "title": title,
                "id": next_id,
                "collapsed": False,
                "panels": [],
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            }
        )
        next_id += 1
        y += 1
        x, line_h = 0, 0
        for panel in row_panels:
            w, h = SIZES[panel["type"]]
            w = WIDE.get(panel["title"], w)
            if x + w > 24:
                x, y, line_h = 0, y + line_h, 0
            panel["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            panel["id"] = next_id
            next_id += 1
            x += w
            line_h = max(line_h, h)
            panels.append(panel)
        y += line_h
    return panels


def dashboard() -> dict[str, Any]:
    return {
        "uid": "controlwatch",
        "title": "controlwatch",
        "description": "Google Cloud security controls judged by controlwatch: verdicts per area and scope, "
        "drift, accepted risks, and the daemon's own health. Import it, pick the Prometheus data source "
        "that scrapes the daemon, and set controlwatch URL to where your browser reaches its /results.",
        "tags": ["controlwatch", "security", "compliance"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 38,
        "version": 1,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "links": [{"title": "Runbooks", "type": "link", "url": "${runbook_base}", "targetBlank": True, "icon": "doc"}],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                },
                *VARIABLES,
            ]
        },
        "panels": layout(),
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python3 {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
