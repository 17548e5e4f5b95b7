"""What the controlwatch dashboard shows: every panel's PromQL, one function per row.

Every selector follows the `job` and `instance` variables (`J`), so one dashboard serves any scrape
job name (a ServiceMonitor's, GKE's PodMonitoring's, a static config's) and each replica of a sharded
daemon; the per-control ones also follow `scope` and `area`. The variables are defined here beside
the selectors that use them. Tables link each row to the daemon's /results page (the `results_base`
variable) and to the runbooks (`runbook_base`). tests/deploy parses each query on a real Prometheus
and checks that it names only metrics and labels the daemon exports.
"""

from __future__ import annotations

from grafana_panels import (
    Panel,
    colored_column,
    link,
    stat,
    state_timeline,
    table,
    target,
    textbox,
    timeseries,
    variable,
)

J = 'job=~"$job",instance=~"$instance"'
SCOPE = 'scope=~"$scope"'
AREA = 'area=~"$area"'
STATUS = f"controlwatch_control_status{{{J},{SCOPE},{AREA}"

RESULTS_BASE = "http://controlwatch:9797"
RUNBOOK_BASE = "https://github.com/example/controlwatch/blob/main/deploy/runbooks/"

#: the dashboard's variables: `$job` and `$instance` (J), `$scope` and `$area`, and the link bases
VARIABLES = [
    variable("job", "Job", "label_values(controlwatch_build_info, job)"),
    variable("instance", "Instance", 'label_values(controlwatch_build_info{job=~"$job"}, instance)'),
    variable("scope", "Scope", f"label_values(controlwatch_control_interval_seconds{{{J}}}, scope)"),
    variable("area", "Area", f"label_values(controlwatch_controls_configured{{{J}}}, area)"),
    textbox(
        "results_base",
        "controlwatch URL",
        RESULTS_BASE,
        "Where your browser reaches the daemon's HTTP port (its /results page), e.g. http://localhost:9797 "
        "behind `kubectl port-forward`.",
    ),
    textbox("runbook_base", "Runbooks URL", RUNBOOK_BASE, "Where the runbooks are: the alert rules' runbook_url base."),
]


def results_link(title: str = "Open in /results", source: str = "__data.fields") -> dict[str, object]:
    """The clicked row's (or, with `__field.labels`, series') control and scope on the daemon's results page."""
    return link(title, f"${{results_base}}/results?scope=${{{source}.scope}}&control=${{{source}.control}}")


def runbook_link(alert: str) -> dict[str, object]:
    return link(f"Runbook: {alert}", f"${{runbook_base}}{alert}.md")


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
            links=[
                link(
                    "This area and scope in /results",
                    "${results_base}/results?scope=${__data.fields.scope}&area=${__data.fields.area}",
                )
            ],
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
            links=[
                results_link("Failing resources in /results"),
                runbook_link("ControlwatchControlNewFailure"),
                runbook_link("ControlwatchScopeFailing"),
                runbook_link("ControlwatchControlError"),
            ],
        ),
        state_timeline(
            "Status over time (control × scope)",
            target(
                f'max by (control, scope) ({STATUS},status="fail"}}'
                f' + ignoring(status) 2 * {STATUS},status="error"}})',
                "{{control}} {{scope}}",
            ),
            states=((0, "pass", "green"), (1, "fail", "red"), (2, "error", "orange")),
            description="One band per control and scope: when it passed, failed or could not judge. "
            "Narrow it with the scope and area variables on a large estate.",
            links=[results_link(source="__field.labels")],
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
            links=[results_link(), runbook_link("ControlwatchControlStale")],
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
            links=[results_link("Excepted resources in /results"), runbook_link("ControlwatchExceptionsStale")],
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


#: (row title, its panels), top to bottom
ROWS: list[tuple[str, list[Panel]]] = [
    ("Overview by area and scope", overview()),
    ("Failing and erroring controls", failing()),
    ("Drift", drift()),
    ("Accepted risks (exceptions)", exceptions()),
    ("controlwatch health", health()),
    ("Evidence ledger", evidence()),
]
