"""The Cloud SQL database-flag controls (DATA-10..DATA-26, CIS 6.1.2-6.3.7), one table of cases per
rule, each an instance in the SQL Admin v1 REST shape (DatabaseInstance, `settings.databaseFlags[]`).

Every rule is held to the same five cases (its flag present and compliant, present and not,
absent so that the engine default decides, an instance of another engine out of scope, a value
that cannot be read an error), then to the edge cases its own vocabulary names.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from checks import default_registry, sqlflags
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import Control, controls_in
from checks.snapshot import Kind
from tests.builders import make_snapshot
from tests.checks.catalogue import SQL_FLAGS

PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
RESOURCE = "//cloudsql.googleapis.com/projects/shop-prod/instances/db"
FLAGS = "settings.databaseFlags"
VERSION = {"MYSQL": "MYSQL_8_0", "POSTGRES": "POSTGRES_15", "SQLSERVER": "SQLSERVER_2019_STANDARD"}
ON = {
    "MYSQL": "MySQL MYSQL_8_0",
    "POSTGRES": "PostgreSQL POSTGRES_15",
    "SQLSERVER": "SQL Server SQLSERVER_2019_STANDARD",
}
ANOTHER = {"MYSQL": "POSTGRES_16", "POSTGRES": "SQLSERVER_2022_WEB", "SQLSERVER": "MYSQL_8_4"}


def db(version: str, flags: Any = None, **fields: Any) -> dict[str, Any]:
    """A tidy primary of `version`; `flags` is `settings.databaseFlags` (None leaves it out)."""
    raw: dict[str, Any] = {
        "kind": "sql#instance",
        "name": "db",
        "project": "shop-prod",
        "databaseVersion": version,
        "instanceType": "CLOUD_SQL_INSTANCE",
        "state": "RUNNABLE",
        "region": "europe-west1",
        "settings": {"kind": "sql#settings", "tier": "db-custom-2-7680"},
    }
    if flags is not None:
        raw["settings"]["databaseFlags"] = copy.deepcopy(flags)
    raw.update(fields)
    return raw


def results(control: Control, instances: list[dict[str, Any]]) -> list[Finding]:
    snapshot = make_snapshot({"sql": {"instances": instances, "backupRuns": []}})
    return list(control(snapshot, Params()))


def judged(control_id: str, raw: dict[str, Any]) -> Finding | None:
    found = results(default_registry().get(control_id), [raw])
    assert len(found) <= 1 and all(f.resource == RESOURCE for f in found)
    return found[0] if found else None


# --- the five cases of every rule -----------------------------------------------------------------

# control: (engine, flag, a compliant value, a non-compliant value, the verdict with the flag absent
#           and its reason's tail: the engine default each rule states, an unreadable value)
RULES: dict[str, tuple[str, str, str, str, Verdict, str, str]] = {
    "DATA-10": ("MYSQL", "skip_show_database", "on", "off", FAIL, "the engine default off applies (must be on)",
                "yes"),
    "DATA-11": ("MYSQL", "local_infile", "off", "on", FAIL, "the engine default on applies (must be off)", "0"),
    "DATA-12": ("POSTGRES", "log_error_verbosity", "default", "verbose", PASS,
                "the engine default default applies (must be terse or default)", "quiet"),
    "DATA-13": ("POSTGRES", "log_connections", "on", "off", FAIL, "the engine default off applies (must be on)",
                "true"),
    "DATA-14": ("POSTGRES", "log_disconnections", "on", "off", FAIL,
                "the engine default off applies (must be on)", "1"),
    "DATA-15": ("POSTGRES", "log_statement", "ddl", "all", FAIL, "the engine default none applies (must be ddl)",
                "everything"),
    "DATA-16": ("POSTGRES", "log_min_messages", "warning", "notice", PASS,
                "the engine default warning applies (must be warning or error or log or fatal or panic)", "debug"),
    "DATA-17": ("POSTGRES", "log_min_error_statement", "error", "warning", PASS,
                "the engine default error applies (must be error or log or fatal or panic)", "errors"),
    "DATA-18": ("POSTGRES", "log_min_duration_statement", "-1", "0", PASS,
                "the engine default -1 applies (must be -1)", "250ms"),
    "DATA-19": ("POSTGRES", "cloudsql.enable_pgaudit", "on", "off", FAIL,
                "the engine default off applies (must be on)", "enabled"),
    "DATA-20": ("SQLSERVER", "external scripts enabled", "off", "on", PASS,
                "the engine default off applies (must be off)", "false"),
    "DATA-21": ("SQLSERVER", "cross db ownership chaining", "off", "on", PASS,
                "the engine default off applies (must be off)", "disabled"),
    "DATA-22": ("SQLSERVER", "user connections", "0", "500", PASS, "the engine default 0 applies (must be 0)",
                "unlimited"),
    "DATA-24": ("SQLSERVER", "remote access", "off", "on", FAIL, "the engine default on applies (must be off)",
                "no"),
    "DATA-25": ("SQLSERVER", "3625", "on", "off", FAIL, "the engine default off applies (must be on)", "ON!"),
    "DATA-26": ("SQLSERVER", "contained database authentication", "off", "on", PASS,
                "the engine default off applies (must be off)", "0"),
}  # fmt: skip
UNSET = "DATA-23"  # `user options`: compliant only when not set at all


def _flags(flag: str, value: str) -> list[dict[str, str]]:
    """The rule's flag among others the instance sets, as the API lists them."""
    return [{"name": "max_connections", "value": "200"}, {"name": flag, "value": value},
            {"name": "cloudsql.iam_authentication", "value": "on"}]  # fmt: skip


@pytest.mark.parametrize("control_id", RULES)
def test_the_flag_present_and_compliant_passes(control_id: str) -> None:
    engine, flag, good, *_ = RULES[control_id]
    found = judged(control_id, db(VERSION[engine], _flags(flag, good)))
    assert found is not None and (found.verdict, found.subject) == (PASS, f"{flag}={good}")
    want = found.reason.split("(must be ", 1)[1]
    assert found.reason == f"instance db ({ON[engine]}) sets {flag} to {good} (must be {want}"


@pytest.mark.parametrize("control_id", RULES)
def test_the_flag_present_and_not_compliant_fails(control_id: str) -> None:
    engine, flag, _, bad, *_ = RULES[control_id]
    found = judged(control_id, db(VERSION[engine], _flags(flag, bad)))
    assert found is not None and (found.verdict, found.subject) == (FAIL, f"{flag}={bad}")
    assert found.reason.startswith(f"instance db ({ON[engine]}) sets {flag} to {bad} (must be ")


@pytest.mark.parametrize("control_id", RULES)
@pytest.mark.parametrize("listed", [None, []], ids=["no-list", "empty-list"])
def test_the_flag_absent_is_judged_at_the_engine_default(control_id: str, listed: Any) -> None:
    engine, flag, _, _, verdict, tail, _ = RULES[control_id]
    found = judged(control_id, db(VERSION[engine], listed))
    assert found is not None and (found.verdict, found.subject) == (verdict, "")
    assert found.reason == f"instance db ({ON[engine]}) does not set {flag}: {tail}"


@pytest.mark.parametrize("control_id", [*RULES, UNSET])
def test_another_engine_is_out_of_scope(control_id: str) -> None:
    engine = RULES[control_id][0] if control_id in RULES else "SQLSERVER"
    flag = RULES[control_id][1] if control_id in RULES else "user options"
    # even with the flag set, and set badly: another engine's list is not this rule's business
    assert judged(control_id, db(ANOTHER[engine], _flags(flag, "garbage"))) is None


@pytest.mark.parametrize("control_id", RULES)
def test_an_unreadable_value_is_an_error_naming_the_entry(control_id: str) -> None:
    engine, flag, *_, unreadable = RULES[control_id]
    found = judged(control_id, db(VERSION[engine], _flags(flag, unreadable)))
    assert found is not None and (found.verdict, found.subject) == (ERROR, f"{FLAGS}[1].value")
    assert found.reason.startswith(f"instance db: cannot judge {FLAGS}[1].value: {unreadable!r} is not ")


# --- user options: compliant only when not configured (DATA-23) --------------------------------------

SQLSERVER = VERSION["SQLSERVER"]
OPTIONS = "instance db (SQL Server SQLSERVER_2019_STANDARD)"
DATA23: dict[str, tuple[Any, Verdict, str, str]] = {
    "absent": ([{"name": "3625", "value": "on"}], PASS, "", f"{OPTIONS} does not set user options"),
    "no-flags": (None, PASS, "", f"{OPTIONS} does not set user options"),
    "set": ([{"name": "user options", "value": "16"}], FAIL, "user options=16",
            f"{OPTIONS} sets user options to 16 (it must not be set)"),
    "set-to-zero": ([{"name": "user options", "value": "0"}], FAIL, "user options=0",
                    f"{OPTIONS} sets user options to 0 (it must not be set)"),
    "set-without-value": ([{"name": "user options"}], FAIL, "user options=",
                          f"{OPTIONS} sets user options without a value (it must not be set)"),
    "set-twice": ([{"name": "user options", "value": "16"}, {"name": "user options", "value": "0"}], FAIL,
                  "user options=16", f"{OPTIONS} sets user options to 16 (it must not be set)"),
    "value-not-a-string": ([{"name": "user options", "value": 16}], ERROR, f"{FLAGS}[0].value",
                           f"instance db: cannot judge {FLAGS}[0].value: 16 is not a string"),
}  # fmt: skip


@pytest.mark.parametrize(("flags", "verdict", "subject", "reason"), DATA23.values(), ids=DATA23.keys())
def test_data23_user_options(flags: Any, verdict: Verdict, subject: str, reason: str) -> None:
    found = judged(UNSET, db(SQLSERVER, flags))
    assert found is not None and (found.verdict, found.subject, found.reason) == (verdict, subject, reason)


# --- each vocabulary's edges -----------------------------------------------------------------------

EDGES: dict[str, tuple[str, str, str, Verdict]] = {
    "verbosity-terse-is-stricter": ("DATA-12", "POSTGRES_13", "terse", PASS),
    "verbosity-upper-case": ("DATA-12", "POSTGRES_13", "VERBOSE", FAIL),
    "connections-upper-case": ("DATA-13", "POSTGRES_9_6", "ON", PASS),
    "statement-none": ("DATA-15", "POSTGRES_16", "none", FAIL),
    "statement-mod-logs-values": ("DATA-15", "POSTGRES_16", "mod", FAIL),
    "statement-upper-case": ("DATA-15", "POSTGRES_16", "DDL", PASS),
    "messages-error": ("DATA-16", "POSTGRES_15", "error", PASS),
    "messages-panic": ("DATA-16", "POSTGRES_15", "PANIC", PASS),
    "messages-log": ("DATA-16", "POSTGRES_15", "log", PASS),
    "messages-info": ("DATA-16", "POSTGRES_15", "info", FAIL),
    "messages-debug5": ("DATA-16", "POSTGRES_15", "debug5", FAIL),
    "error-statement-log": ("DATA-17", "POSTGRES_14", "log", PASS),
    "error-statement-fatal": ("DATA-17", "POSTGRES_14", "fatal", PASS),
    "error-statement-notice": ("DATA-17", "POSTGRES_14", "notice", FAIL),
    "duration-positive": ("DATA-18", "POSTGRES_12", "250", FAIL),
    "duration-max": ("DATA-18", "POSTGRES_12", "2147483647", FAIL),
    "duration-below-range": ("DATA-18", "POSTGRES_12", "-2", ERROR),
    "duration-fraction": ("DATA-18", "POSTGRES_12", "1.5", ERROR),
    "duration-empty": ("DATA-18", "POSTGRES_12", "", ERROR),
    "connections-cap-max": ("DATA-22", "SQLSERVER_2022_ENTERPRISE", "32767", FAIL),
    "connections-cap-one": ("DATA-22", "SQLSERVER_2022_ENTERPRISE", "1", FAIL),
    "connections-above-range": ("DATA-22", "SQLSERVER_2022_ENTERPRISE", "32768", ERROR),
    "connections-negative": ("DATA-22", "SQLSERVER_2022_ENTERPRISE", "-1", ERROR),
    "connections-leading-zero": ("DATA-22", "SQLSERVER_2022_ENTERPRISE", "00", PASS),
    "trace-flag-true-is-not-the-api-spelling": ("DATA-25", "SQLSERVER_2017_EXPRESS", "true", ERROR),
    "infile-on-older-mysql": ("DATA-11", "MYSQL_5_7", "ON", FAIL),
    "skip-show-on-mysql-8-4": ("DATA-10", "MYSQL_8_4", "On", PASS),
}


@pytest.mark.parametrize(("control_id", "version", "value", "verdict"), EDGES.values(), ids=EDGES.keys())
def test_vocabulary_edges(control_id: str, version: str, value: str, verdict: Verdict) -> None:
    flag = RULES[control_id][1]
    found = judged(control_id, db(version, [{"name": flag, "value": value}]))
    assert found is not None and found.verdict is verdict, found.reason


# --- what no rule can read ------------------------------------------------------------------------

MALFORMED: dict[str, tuple[dict[str, Any], str, str]] = {
    "flags-not-a-list": ({"settings": {"databaseFlags": {"name": "log_connections", "value": "on"}}}, FLAGS,
                         "{'name': 'log_connections', 'value': 'on'} is not a list"),
    "entry-not-an-object": ({"settings": {"databaseFlags": ["log_connections=on"]}}, f"{FLAGS}[0]",
                            "'log_connections=on' is not a DatabaseFlags object"),
    "entry-without-name": ({"settings": {"databaseFlags": [{"value": "on"}]}}, f"{FLAGS}[0].name",
                           "None is not a flag name"),
    "name-not-a-string": ({"settings": {"databaseFlags": [{"name": 7, "value": "on"}]}}, f"{FLAGS}[0].name",
                          "7 is not a flag name"),
    "value-not-a-string": ({"settings": {"databaseFlags": [{"name": "log_connections", "value": True}]}},
                           f"{FLAGS}[0].value", "True is not a string"),
    "flag-set-twice": ({"settings": {"databaseFlags": [{"name": "log_connections", "value": "on"},
                                                       {"name": "log_connections", "value": "off"}]}},
                       FLAGS, "log_connections is set 2 times (settings.databaseFlags[0], "
                              "settings.databaseFlags[1]): which one applies is unknown"),
    "value-absent": ({"settings": {"databaseFlags": [{"name": "log_connections"}]}}, f"{FLAGS}[0].value",
                     "absent: log_connections takes on, off"),
    "settings-not-an-object": ({"settings": ["log_connections"]}, "settings", "['log_connections'] is not an object"),
    "unknown-engine": ({"databaseVersion": "SQL_DATABASE_VERSION_UNSPECIFIED"}, "databaseVersion",
                       "'SQL_DATABASE_VERSION_UNSPECIFIED' names no known engine (MYSQL_*, POSTGRES_*, SQLSERVER_*)"),
    "version-absent": ({"databaseVersion": None}, "databaseVersion",
                       "None names no known engine (MYSQL_*, POSTGRES_*, SQLSERVER_*)"),
}  # fmt: skip


@pytest.mark.parametrize(("fields", "field", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_data_is_an_error_naming_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    found = judged("DATA-13", db("POSTGRES_15", **fields))
    assert found is not None and (found.verdict, found.subject) == (ERROR, field)
    assert found.reason == f"instance db: cannot judge {field}: {message}"


@pytest.mark.parametrize("control_id", SQL_FLAGS)
def test_an_unknown_engine_is_an_error_for_every_rule(control_id: str) -> None:
    found = judged(control_id, db("ORACLE_19", []))
    assert found is not None and (found.verdict, found.subject) == (ERROR, "databaseVersion")


def test_a_malformed_entry_of_another_flag_still_stops_the_judgement() -> None:
    """An entry that is not the API's shape could be the rule's flag: nothing is concluded past it."""
    found = judged("DATA-13", db("POSTGRES_15", [{"name": "log_connections", "value": "on"}, ["max_connections"]]))
    assert found is not None and (found.verdict, found.subject) == (ERROR, f"{FLAGS}[1]")


def test_replicas_are_judged_on_their_own_flags() -> None:
    primary = db("POSTGRES_15", [{"name": "log_connections", "value": "on"}])
    replica = db("POSTGRES_15", [], name="db-replica", instanceType="READ_REPLICA_INSTANCE",
                 masterInstanceName="shop-prod:db")  # fmt: skip
    found = results(sqlflags.data13_log_connections, [primary, replica])
    assert [(f.resource.rsplit("/", 1)[1], f.verdict) for f in found] == [("db", PASS), ("db-replica", FAIL)]


def test_one_unreadable_instance_does_not_hide_the_others() -> None:
    instances = [db("POSTGRES_15", "broken"), db("POSTGRES_15", None, name="db2"), db("MYSQL_8_0", None, name="my")]
    found = results(sqlflags.data13_log_connections, instances)
    assert [(f.resource.rsplit("/", 1)[1], f.verdict) for f in found] == [("db", ERROR), ("db2", FAIL)]


# --- the table and the declarations ----------------------------------------------------------------


def test_the_module_declares_one_control_per_row_of_the_table() -> None:
    declared = sorted(c.meta.id for c in controls_in(vars(sqlflags).values()))
    assert declared == sorted(row.id for row in sqlflags.FLAG_CONTROLS) == list(SQL_FLAGS)
    assert sorted([*RULES, UNSET]) == list(SQL_FLAGS)
    assert len({(row.rule.engine, row.rule.flag) for row in sqlflags.FLAG_CONTROLS}) == len(SQL_FLAGS)


@pytest.mark.parametrize("row", sqlflags.FLAG_CONTROLS, ids=lambda row: row.id)
def test_each_declaration_follows_its_row(row: sqlflags.FlagControl) -> None:
    meta = default_registry().get(row.id).meta
    assert (meta.title, meta.severity, meta.area) == (row.title, row.severity, Area.DATA)
    assert meta.references.cis == (("4.0", row.cis), ("5.0", row.cis))  # v5.0 kept 6.1.2-6.3.7 as they were
    assert (meta.references.soc2, meta.references.sha) == (row.soc2, row.sha)
    assert meta.kinds == (Kind.SQL_INSTANCES,) and meta.unit == "Cloud SQL instance"
    assert meta.title.startswith("Cloud SQL ") and meta.severity in set(Severity)
    assert meta.holds == row.holds and f"`{row.rule.flag}`" in meta.holds
    assert f"`{row.rule.flag}`" in meta.logic and f"`{row.rule.engine}_`" in meta.logic
    assert "out of scope" in meta.logic and "replicas included" in meta.logic
    if row.rule.default is not None:
        assert f"default `{row.rule.default}`" in meta.logic
    assert meta.unknown.startswith("An `error` naming the field") and "databaseVersion" in meta.unknown
    assert len(meta.rationale) > 100 and "gcloud sql instances patch" in meta.remediation
    control = default_registry().get(row.id)
    assert sqlflags.__doc__ and control.func.__doc__ and control in vars(sqlflags).values()


def test_the_logic_says_what_the_default_gives() -> None:
    registry = default_registry()
    assert registry.get("DATA-13").meta.logic.endswith(
        "absent, the instance runs PostgreSQL's default `off`, which fails."
    )
    assert registry.get("DATA-22").meta.logic.endswith(
        "must be `0` (valid: a whole number from 0 to 32767); absent, the instance runs SQL Server's default "
        "`0`, which passes."
    )
    assert registry.get("DATA-23").meta.logic.endswith(
        "present, with any value or none, it fails; absent, it passes.")  # fmt: skip
