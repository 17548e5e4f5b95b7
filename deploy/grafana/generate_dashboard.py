"""Writes controlwatch-dashboard.json, the Grafana dashboard for controlwatch (standard library only).

    python3 deploy/grafana/generate_dashboard.py          # rewrites controlwatch-dashboard.json beside it
    python3 deploy/grafana/generate_dashboard.py --check  # exit 1 if the JSON on disk is not what this writes

Edit the panels here, not in the JSON: tests/deploy checks that the JSON is this script's output, that
every panel has a query, and that every query parses on a real Prometheus and names only metrics the
daemon exports. Every selector carries job="controlwatch", like the alert rules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("controlwatch-dashboard.json")
RUNBOOKS = "https://github.com/example/controlwatch/blob/main/deploy/runbooks/"
DS = {"type": "prometheus", "uid": "${datasource}"}

J = 'job="controlwatch"'
SCOPE = 'scope=~"$scope"'
AREA = 'area=~"$area"'
STATUS = f"controlwatch_control_status{{{J},{SCOPE},{AREA}"

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
) -> Panel:
    """An instant table: the queries are merged on their common labels, `rename` picks and names the columns."""
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
        "fieldConfig": {"defaults": {"custom": {"align": "auto", "filterable": True}}, "overrides": overrides or []},
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


STALE = (
    f"(time() - controlwatch_control_last_success_timestamp_seconds{{{J},{SCOPE}}}"
    f" > 2 * controlwatch_control_interval_seconds{{{J},{SCOPE}}})"
    f" or on(job, instance, control, scope)"
    f" (controlwatch_control_interval_seconds{{{J},{SCOPE}}}"
    f" unless on(job, instance, control, scope) controlwatch_control_last_success_timestamp_seconds{{{J},{SCOPE}}})"
)
FAILING_OR_ERROR = f'({STATUS},status=~"fail|error"}} == 1)'


def overview() -> list[Panel]:
    per_status = [
        target(f'sum by (area, scope) ({STATUS},status="{s}"}})', ref=ref, instant=True, table=True)
        for ref, s in (("A", "pass"), ("B", "fail"), ("C", "error"))
    ]
    return [
        stat(
            "Controls failing",
            f'sum({STATUS},status="fail"}}) or vector(0)',
            steps=((None, "green"), (1, "red")),
            description="(control, scope) pairs whose latest run failed (accepted risks excluded).",
        ),
        stat(
            "Controls in error",
            f'sum({STATUS},status="error"}}) or vector(0)',
            steps=((None, "green"), (1, "orange")),
            description="Pairs that could not judge: never counted as a pass.",
        ),
        stat("Controls passing", f'sum({STATUS},status="pass"}}) or vector(0)', steps=((None, "green"),)),
        stat(
            "Stale controls",
            f"count({STALE}) or vector(0)",
            steps=((None, "green"), (1, "red")),
            description="No success for twice the interval, or never: controlwatch is blind to them.",
        ),
        stat(
            "Configured pairs",
            f"sum(controlwatch_controls_configured{{{J},{AREA}}})",
            steps=((None, "blue"),),
            description="Enabled (control, scope) pairs in the selected areas: tells 0 failing from 0 configured.",
        ),
        stat(
            "Failing resources",
            f"sum(controlwatch_control_failing_resources{{{J},{SCOPE}}}) or vector(0)",
            steps=((None, "green"), (1, "red")),
            description="Resources failing outside any accepted risk.",
        ),
        table(
            "Status per area and scope",
            *per_status,
            rename={"area": "Area", "scope": "Scope", "Value #A": "pass", "Value #B": "fail", "Value #C": "error"},
            sort="fail",
            overrides=[
                colored_column("fail", ((None, "green"), (1, "red"))),
                colored_column("error", ((None, "green"), (1, "orange"))),
            ],
        ),
        timeseries(
            "Failing controls by area", target(f'sum by (area) ({STATUS},status="fail"}})', "{{area}}"), stack=True
        ),
    ]


def failing() -> list[Panel]:
    pair = "on(job, instance, control, scope)"
    return [
        table(
            "Failing and erroring controls",
            target(f"{FAILING_OR_ERROR}", ref="A", instant=True, table=True),
            target(
                f"controlwatch_control_failing_resources{{{J},{SCOPE}}} and {pair} {FAILING_OR_ERROR}",
                ref="B",
                instant=True,
                table=True,
            ),
            target(
                f"controlwatch_control_excepted_resources{{{J},{SCOPE}}} and {pair} {FAILING_OR_ERROR}",
                ref="C",
                instant=True,
                table=True,
            ),
            target(
                f"time() - controlwatch_control_last_success_timestamp_seconds{{{J},{SCOPE}}}"
                f" and {pair} {FAILING_OR_ERROR}",
                ref="D",
                instant=True,
                table=True,
            ),
            rename={
                "control": "Control",
                "scope": "Scope",
                "area": "Area",
                "severity": "Severity",
                "status": "Status",
                "Value #B": "Failing",
                "Value #C": "Excepted",
                "Value #D": "Since last success",
                "instance": "Instance",
            },
            sort="Failing",
            description="Which resources: `controlwatch results --control ID --scope SCOPE`, or /results on the "
            "metrics port. Excepted = failing under an accepted risk.",
            overrides=[
                colored_column("Failing", ((None, "green"), (1, "red"))),
                colored_column("Since last success", ((None, "green"),), unit="s"),
                {
                    "matcher": {"id": "byName", "options": "Value #A"},
                    "properties": [{"id": "custom.hidden", "value": True}],
                },
            ],
        ),
        table(
            "Stale controls (no success for twice the interval)",
            target(STALE, ref="A", instant=True, table=True),
            rename={
                "control": "Control",
                "scope": "Scope",
                "instance": "Instance",
                "Value": "Seconds since success (or interval, if never)",
            },
            description="ControlwatchControlStale: a control that has not succeeded for twice its interval, "
            "including one that never succeeded since the start.",
        ),
        timeseries(
            "Failing resources by scope",
            target(f"sum by (scope) (controlwatch_control_failing_resources{{{J},{SCOPE}}})", "{{scope}}"),
        ),
        timeseries(
            "Verdict changes",
            target(
                f"sum by (from, to) (increase(controlwatch_verdict_changes_total{{{J},{SCOPE}}}[$__rate_interval]))",
                "{{from}} → {{to}}",
            ),
            bars=True,
        ),
    ]


def drift() -> list[Panel]:
    return [
        timeseries(
            "Active drift (1 = differs from the approved baseline)",
            target(f"max by (control, scope) (controlwatch_drift_active{{{J},{SCOPE}}})", "{{control}} {{scope}}"),
            description="ControlwatchDriftActive. Intended change: `controlwatch baseline approve --scope S`.",
        ),
        timeseries(
            "Drift events",
            target(
                f"sum by (control, scope, change) (increase(controlwatch_drift_events_total{{{J},{SCOPE}}}"
                f"[$__rate_interval]))",
                "{{control}} {{scope}} {{change}}",
            ),
            bars=True,
        ),
        stat(
            "Drift events in range",
            f"sum(increase(controlwatch_drift_events_total{{{J},{SCOPE}}}[$__range])) or vector(0)",
            steps=((None, "green"), (1, "orange")),
        ),
        stat(
            "Approved baseline",
            f"max by (scope) (controlwatch_baseline_approved{{{J},{SCOPE}}})",
            legend="{{scope}}",
            steps=((None, "orange"), (1, "green")),
            mappings=[{"type": "value", "options": {"0": {"text": "none"}, "1": {"text": "approved"}}}],
            description="ControlwatchNoApprovedBaseline when none and DRIFT controls are enabled.",
        ),
    ]


def exceptions() -> list[Panel]:
    return [
        table(
            "Failing under an accepted risk",
            target(f"controlwatch_control_excepted_resources{{{J},{SCOPE}}} > 0", instant=True, table=True),
            rename={"control": "Control", "scope": "Scope", "Value": "Excepted resources"},
            sort="Excepted resources",
            description="Accepted risks (`exceptions:` in the config) keep a failure visible, not counted.",
        ),
        stat(
            "Stale accepted risks",
            f"max by (reason) (controlwatch_exceptions_stale{{{J}}})",
            legend="{{reason}}",
            steps=((None, "green"), (1, "orange")),
            description="expired: past `expires`; unmatched: match no failing result (ControlwatchExceptionsStale).",
        ),
        timeseries(
            "Excepted resources by scope",
            target(f"sum by (scope) (controlwatch_control_excepted_resources{{{J},{SCOPE}}})", "{{scope}}"),
        ),
    ]


def health() -> list[Panel]:
    return [
        stat(
            "Scrape up",
            f"up{{{J}}}",
            legend="{{instance}}",
            steps=((None, "red"), (1, "green")),
            mappings=[{"type": "value", "options": {"0": {"text": "DOWN"}, "1": {"text": "up"}}}],
        ),
        stat(
            "Heartbeat age",
            f"time() - controlwatch_scheduler_heartbeat_timestamp_seconds{{{J}}}",
            legend="{{instance}}",
            unit="s",
            steps=((None, "green"), (60, "orange"), (120, "red")),
            description="The heartbeat job runs every 5s on its own executor (ControlwatchSchedulerHeartbeatStale).",
        ),
        table(
            "Build",
            target(f"controlwatch_build_info{{{J}}}", instant=True, table=True),
            rename={"instance": "Instance", "version": "Version", "mode": "Mode"},
            overrides=[
                {
                    "matcher": {"id": "byName", "options": "Value"},
                    "properties": [{"id": "custom.hidden", "value": True}],
                }
            ],
        ),
        stat(
            "Controls configured by area",
            f"controlwatch_controls_configured{{{J},{AREA}}}",
            legend="{{area}}",
            steps=((None, "blue"),),
        ),
        timeseries(
            "Last run age by scope",
            target(
                f"max by (scope) (time() - controlwatch_control_last_run_timestamp_seconds{{{J},{SCOPE}}})", "{{scope}}"
            ),
            unit="s",
        ),
        timeseries(
            "Scheduler job events",
            target(
                f"sum by (event) (increase(controlwatch_scheduler_job_events_total{{{J}}}[$__rate_interval]))",
                "{{event}}",
            ),
            bars=True,
            description="missed and max_instances are lost runs (ControlwatchSchedulerJobsLost).",
        ),
        timeseries(
            "API requests by code",
            target(
                f"sum by (service, code) (rate(controlwatch_api_requests_total{{{J}}}[$__rate_interval]))",
                "{{service}} {{code}}",
            ),
            unit="reqps",
            stack=True,
        ),
        timeseries(
            "API retries by reason",
            target(
                f"sum by (service, reason) (rate(controlwatch_api_retries_total{{{J}}}[$__rate_interval]))",
                "{{service}} {{reason}}",
            ),
            unit="reqps",
            stack=True,
            description="429 and rate_limit are quota (ControlwatchApiRateLimited).",
        ),
        timeseries(
            "Collection duration p95 by kind",
            target(
                "histogram_quantile(0.95, sum by (kind, le) "
                f"(rate(controlwatch_collection_duration_seconds_bucket{{{J}}}[$__rate_interval])))",
                "{{kind}}",
            ),
            unit="s",
        ),
        timeseries(
            "Runs cut by the deadline",
            target(
                f"sum by (scope) (increase(controlwatch_run_deadline_exceeded_total{{{J},{SCOPE}}}[$__rate_interval]))",
                "{{scope}}",
            ),
            bars=True,
            description="ControlwatchRunDeadlineExceeded: raise gcp.run_deadline or find the slow kind.",
        ),
        timeseries(
            "Config reloads",
            target(
                f"sum by (result) (increase(controlwatch_config_reloads_total{{{J}}}[$__rate_interval]))", "{{result}}"
            ),
            bars=True,
        ),
    ]


def evidence() -> list[Panel]:
    return [
        stat("Evidence chain length", f"max(controlwatch_evidence_chain_length{{{J}}})", steps=((None, "blue"),)),
        stat(
            "Since last signed checkpoint",
            f"time() - controlwatch_evidence_last_checkpoint_timestamp_seconds{{{J}}}"
            f" and controlwatch_evidence_last_checkpoint_timestamp_seconds{{{J}}} > 0",
            legend="{{instance}}",
            unit="s",
            steps=((None, "green"), (3600, "orange"), (7200, "red")),
            description="Empty until the first checkpoint (ControlwatchEvidenceCheckpointMissing).",
        ),
        stat(
            "Verify failures in range",
            f"sum(increase(controlwatch_evidence_verify_failures_total{{{J}}}[$__range])) or vector(0)",
            steps=((None, "green"), (1, "red")),
        ),
        stat(
            "Write errors in range",
            f"sum(increase(controlwatch_evidence_write_errors_total{{{J}}}[$__range])) or vector(0)",
            steps=((None, "green"), (1, "red")),
        ),
        timeseries(
            "Evidence records appended and write errors",
            target(f"sum(rate(controlwatch_evidence_records_total{{{J}}}[$__rate_interval]))", "appended"),
            target(f"sum(rate(controlwatch_evidence_write_errors_total{{{J}}}[$__rate_interval]))", "errors", ref="B"),
            unit="ops",
        ),
    ]


ROWS: list[tuple[str, list[Panel]]] = [
    ("Overview by area and scope", overview()),
    ("Failing and erroring controls", failing()),
    ("Drift", drift()),
    ("Accepted risks (exceptions)", exceptions()),
    ("controlwatch health", health()),
    ("Evidence ledger", evidence()),
]

SIZES = {"stat": (4, 4), "table": (12, 8), "timeseries": (12, 8)}
WIDE = {"Failing and erroring controls": 24}


def layout() -> list[Panel]:
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


def dashboard() -> dict[str, Any]:
    return {
        "uid": "controlwatch",
        "title": "controlwatch",
        "description": "Google Cloud security controls judged by controlwatch: verdicts per area and scope, "
        "drift, accepted risks, and the daemon's own health. Import it and pick the Prometheus "
        'data source that scrapes job="controlwatch".',
        "tags": ["controlwatch", "security", "compliance"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 38,
        "version": 1,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "links": [{"title": "Runbooks", "type": "link", "url": RUNBOOKS, "targetBlank": True, "icon": "doc"}],
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
                variable("scope", "Scope", f"label_values(controlwatch_control_interval_seconds{{{J}}}, scope)"),
                variable("area", "Area", f"label_values(controlwatch_controls_configured{{{J}}}, area)"),
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
