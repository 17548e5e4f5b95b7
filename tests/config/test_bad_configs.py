"""Every bad file stops with exactly one `FILE:LINE: KEY.PATH: reason` line, at the right place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.config.model import ConfigError, load_config

BAD = Path(__file__).parent / "bad"
KNOWN = frozenset({"FW-01", "FW-02", "FW-05", "FW-09"})

# file, line (None: the file as a whole), key path, a fragment of the reason
CASES: list[tuple[str, int | None, str, str]] = [
    ("unknown_top_level_key", 5, "paramz", "unknown key; did you mean 'params'?"),
    ("unknown_nested_key", 7, "gcp.max_worker", "unknown key; did you mean 'max_workers'?"),
    ("unknown_param_area", 6, "scopes.projects[0].params.firewal", "did you mean 'firewall'?"),
    ("duplicate_key", 8, "schedule.interval", "duplicate key 'interval' (first at line 6)"),
    ("wrong_type", 6, "gcp.max_workers", "expected a whole number, got string 'four'"),
    ("max_workers_out_of_range", 6, "gcp.max_workers", "less than or equal to 32, got number 64"),
    ("bad_duration", 6, "schedule.interval", "'5 minutes' is not a duration"),
    ("bare_number_duration", 6, "schedule.interval", "15 has no unit"),
    ("negative_duration", 6, "gcp.call_timeout", "'-1s': a duration cannot be negative"),
    ("zero_duration", 6, "drift.audit_poll_interval", "'0s': must be longer than 0s"),
    ("jitter_not_below_interval", 7, "schedule.jitter", "jitter (1m) must be shorter than interval (1m)"),
    ("deadline_below_call_timeout", 7, "gcp.run_deadline", "run_deadline (1m) is shorter than call_timeout (2m)"),
    ("bad_port_grammar", 7, "scopes.projects[0].params.firewall.public_ports[1]", "'tcp443' is not proto[:port"),
    ("port_out_of_range", 9, "params.firewall.public_ports[1]", "'tcp:99999': ports must satisfy 0 <= low <= high"),
    ("bad_region", 7, "params.region.allowed[1]", "'belgium' is not a region"),
    ("empty_scopes", 3, "scopes.projects", "list at least one project"),
    ("missing_scopes", 2, "scopes", "missing required key"),
    ("bad_project_id", 5, "scopes.projects[1].id", "'Shop_Dev' is not a project id"),
    ("duplicate_scope_id", 6, "scopes.projects[2].id", "duplicate project 'shop-prod' (also scopes.projects[0])"),
    ("bad_control_id", 5, "disabled_controls[1]", "'fw-2' is not a control id"),
    ("exception_bad_expiry", 11, "exceptions[0].expires", "'31/12/2026' is not a date written YYYY-MM-DD"),
    ("exception_impossible_date", 11, "exceptions[0].expires", "'2027-02-30' is not a real date"),
    ("exception_without_approver", 6, "exceptions[0].approver", "missing required key"),
    ("exception_empty_reason", 9, "exceptions[0].reason", "must not be empty"),
    ("exception_unknown_scope", 7, "exceptions[0].scope", "'shop-qa' is not one of scopes.projects"),
    ("bad_listen", 6, "metrics.listen", "'localhost' is not host:port"),
    ("listen_port_out_of_range", 6, "metrics.listen", "the port must be a number from 0 to 65535"),
    ("bad_api_endpoint", 6, "gcp.api_endpoint", "is not an http(s) URL"),
    ("bad_cloud_logging", 6, "evidence.cloud_logging", "is not a log name 'projects/PROJECT_ID/logs/LOG_ID'"),
    ("retention_not_positive", 6, "evidence.retention_days", "greater than or equal to 1, got number 0"),
    (
        "max_unanchored_below_interval",
        7,
        "evidence.max_unanchored",
        "max_unanchored (30m) is shorter than checkpoint_interval (1h)",
    ),
    ("bad_log_level", 6, "log.level", "got string 'verbose'"),
    ("non_string_key", 6, "gcp", "key 'yes' is read as a boolean, not a string: quote it"),
    ("null_section", 5, "gcp", "expected a mapping, got null"),
    ("empty", None, "", "the file is empty"),
    ("comments_only", None, "", "the file is empty"),
    ("top_level_list", 2, "", "the top level must be a mapping (scopes:, params:, ...), not a list"),
    ("unknown_control", 5, "disabled_controls[1]", "unknown control 'FW-99'; did you mean 'FW-09'?"),
    ("interval_too_short", 6, "schedule.interval", "1ms is too short: at least 10s"),
    ("call_timeout_too_short", 6, "gcp.call_timeout", "1ms is too short: at least 100ms"),
    ("deadline_not_below_interval", 6, "gcp.run_deadline", "run_deadline (20m) must be shorter than schedule.interval"),
    ("rpo_infinite", 7, "params.backup.rpo_hours", "finite number"),
    ("boolean_as_number", 7, "params.backup.min_retention_days", "whole number"),
    ("unknown_region", 7, "params.region.allowed[1]", "'europe-west5' is not a region"),
    ("run_and_judging_not_below_interval", 2, "evaluation.deadline",
     "gcp.run_deadline (2m) + evaluation.deadline (2m) = 4m must be shorter than schedule.interval (3m)"),
    ("evaluation_unknown_kind", 8, "evaluation.max_resources_by_kind.firewall",
     "unknown resource kind 'firewall'; did you mean 'firewalls'?"),
    ("evaluation_limit_not_positive", 6, "evaluation.max_resources", "greater than or equal to 1, got number 0"),
    ("evaluation_kind_limit_not_a_number", 7, "evaluation.max_resources_by_kind.firewalls",
     "expected a whole number, got string 'lots'"),
    ("evaluation_deadline_zero", 6, "evaluation.deadline", "'0s': must be longer than 0s"),
    ("rate_limit_unknown_api", 8, "gcp.rate_limits.comptue", "unknown API 'comptue'; did you mean 'compute'?"),
    ("rate_limit_without_unit", 7, "gcp.rate_limits.logging", "8 has no unit: write '8/s' or '8/m'"),
    ("rate_limit_bad_unit", 7, "gcp.rate_limits.cloudresourcemanager", "'1000/h' is not a rate: write requests per"),
    ("rate_limit_zero", 7, "gcp.rate_limits.compute", "'0/m': a rate must be more than 0"),
    ("max_concurrent_scopes_out_of_range", 6, "gcp.max_concurrent_scopes", "greater than or equal to 1, got number 0"),
    ("scopes_organization_not_digits", 3, "scopes.organization",
     "'organizations/123456789012' is not an organization id: its number only, without 'organizations/'"),
    ("scopes_folder_not_digits", 5, "scopes.folders[1]", "'prod' is not a folder id: its number only"),
    ("scopes_bad_project_glob", 5, "scopes.include.projects[1]", "'Shop_*' is not a project id or glob"),
    ("scopes_bad_label_value", 6, "scopes.exclude.labels.env", "'Sandbox' is not a label value or glob"),
    ("scopes_refresh_too_short", 4, "scopes.refresh", "10s is too short: at least 1m"),
    ("scopes_filter_without_discovery", 5, "scopes.include",
     "filters discovered projects only: set scopes.organization or scopes.folders"),
    ("scopes_override_labels_without_discovery", 7, "scopes.overrides[0].match.labels",
     "labels are known only for discovered projects"),
    ("scopes_override_matches_nothing", 5, "scopes.overrides[0].match", "matches nothing: give projects"),
    ("scopes_nothing_to_watch", 2, "scopes", "nothing to watch: list scopes.projects, or set scopes.organization"),
    ("scopes_duplicate_folder", 4, "scopes.folders[2]", "duplicate folder '345678901234' (also scopes.folders[0])"),
    ("scopes_override_bad_param", 7, "scopes.overrides[0].params.backup.rpo_hours", "greater than 0"),
    ("scopes_unknown_match_key", 5, "scopes.exclude.project", "unknown key; did you mean 'projects'?"),
    ("shard_index_not_below_count", 6, "shard.index", "index 4 is not below count 4: replicas are 0 to count-1"),
    ("shard_unknown_word", 5, "shard", "'deployment' is not a shard setting: write 'statefulset' or a mapping"),
    ("shard_without_count", 5, "shard.count", "missing required key: a fixed shard needs both index and count"),
    ("shard_count_zero", 7, "shard.count", "greater than or equal to 1, got number 0"),
    ("shard_index_not_a_number", 6, "shard.index", "expected a whole number, got string '1'"),
]


@pytest.mark.parametrize(("name", "line", "path", "fragment"), CASES, ids=[case[0] for case in CASES])
def test_bad_file_names_line_path_and_reason(name: str, line: int | None, path: str, fragment: str) -> None:
    file = BAD / f"{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(file, known_controls=KNOWN if name == "unknown_control" else None)
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (line, path)
    assert fragment in problem.message
    where = f"{file}:{line}" if line is not None else str(file)
    expected_head = f"{where}: {path}: " if path else f"{where}: "
    assert str(caught.value) == expected_head + problem.message
    assert "\n" not in str(caught.value)


def test_every_bad_file_is_in_the_table() -> None:
    tested_apart = ["yaml_syntax_error"]
    assert sorted(p.stem for p in BAD.glob("*.yaml")) == sorted([case[0] for case in CASES] + tested_apart)


def test_yaml_syntax_error_gives_line_and_column() -> None:
    file = BAD / "yaml_syntax_error.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (6, 4)
    assert str(caught.value) == (
        f"{file}:6:4: YAML syntax error: while parsing a flow sequence (line 5), expected ',' or ']', but got ':'"
    )


def test_unknown_control_passes_without_a_known_set() -> None:
    assert load_config(BAD / "unknown_control.yaml").disabled_controls == ("FW-01", "FW-99")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert str(caught.value) == f"{missing}: cannot read: no such file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path))
    assert str(caught.value) == f"{tmp_path}: cannot read: is a directory, not a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("scopes: {projects: [{id: shop-prod}]}\n")
    locked.chmod(0)
    with pytest.raises(ConfigError) as caught:
        load_config(locked)
    assert str(caught.value) == f"{locked}: cannot read: permission denied"


def test_not_utf8(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("scopes:\n  projects:\n    - id: caf\xe9-prod\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(latin1)
    assert str(caught.value) == f"{latin1}:3: not UTF-8 text (byte 0xe9 at offset 33)"


def test_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (4 * 1024 * 1024 + 1))
    with pytest.raises(ConfigError, match="larger than 4 MiB"):
        load_config(big)


def test_permission_denied_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same path as test_unreadable_file, reachable when the tests run as root.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: shop-prod}]}\n")
    monkeypatch.setattr("monitor.files.os.open", refuse)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value) == f"{tmp_path / 'cw.yaml'}: cannot read: permission denied"
