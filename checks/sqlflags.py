"""Cloud SQL database flags (DATA-10 to DATA-26): CIS 6.1.2-6.3.7, one control per recommendation.

One table, `FLAG_CONTROLS`, holds every recommendation: the engine and flag it reads, what the
flag's value must be, the engine's default when the flag is absent (the default CIS states for
Cloud SQL, which is the engine's own; where they differ, `log_min_messages` (CIS: `error`,
PostgreSQL: `warning`), both pass), and the control's id, title and references. Each control is
declared from its row and judged by the one generic judge of `checks.rules.dbflags`: an instance
of another engine is out of scope, replicas are judged on their own flags (a replica carries its
own `settings.databaseFlags`), and what cannot be read is `error`, naming the field.

The two judgements CIS leaves open are fixed here: `log_statement` passes only at `ddl`, the
value CIS recommends (`mod` and `all` also write data-modifying statements, with their bound
values, into the logs), and "stricter" for `log_error_verbosity` counts `terse`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from checks.kernel import JSON, Judgement
from checks.model import Area, Finding, Severity
from checks.params import Params
from checks.registry import Control, References, control
from checks.rules.cloudsql import engine_name, per_instance
from checks.rules.dbflags import FLAGS, FlagRule, Number, Unset, Word, judge_flag, switch
from checks.snapshot import Kind, Snapshot

_UNIT = "Cloud SQL instance"
_KINDS = (Kind.SQL_INSTANCES,)
#: PostgreSQL's message severities, from the least to the most severe
_LEVELS = ("debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice", "warning", "error", "log", "fatal",
           "panic")  # fmt: skip
_PATCH = "gcloud sql instances patch INSTANCE --database-flags="
_KEEP = (" (`--database-flags` replaces every flag of the instance: list the flags it already has "
         "alongside).")  # fmt: skip


def at_least(level: str) -> Word:
    """A severity threshold of `level` or more severe."""
    return Word(valid=_LEVELS, good=_LEVELS[_LEVELS.index(level) :])


@dataclass(frozen=True, slots=True)
class FlagControl:
    """One row of the table: a CIS recommendation (the same id in v4.0 and v5.0) and its rule."""

    id: str
    cis: str
    title: str
    severity: Severity
    soc2: tuple[str, ...]
    sha: str
    rule: FlagRule
    holds: str
    rationale: str
    remediation: str


FLAG_CONTROLS: tuple[FlagControl, ...] = (
    FlagControl(
        "DATA-10", "6.1.2", "Cloud SQL MySQL hides other users' databases", Severity.LOW, ("CC6.1",),
        "SQL_SKIP_SHOW_DATABASE_DISABLED", FlagRule("MYSQL", "skip_show_database", switch("on"), "off"),
        "A MySQL instance sets `skip_show_database` to `on`.",
        "With `skip_show_database` off, SHOW DATABASES is open to every user, each seeing the databases it "
        "has any privilege on; on, only holders of the SHOW DATABASES privilege may list databases, so a "
        "low-privilege account learns nothing of the schema around it.",
        f"`{_PATCH}skip_show_database=on`{_KEEP} The instance restarts.",
    ),
    FlagControl(
        "DATA-11", "6.1.3", "Cloud SQL MySQL refuses LOAD DATA LOCAL", Severity.MEDIUM, ("CC6.1",),
        "SQL_LOCAL_INFILE", FlagRule("MYSQL", "local_infile", switch("off"), "on"),
        "A MySQL instance sets `local_infile` to `off`.",
        "`local_infile` on lets clients push files from their own host into tables with LOAD DATA LOCAL, "
        "and lets a rogue or spoofed server ask a client for any file it can read. CIS gives `on` as Cloud "
        "SQL's default, so an instance that never set the flag fails.",
        f"`{_PATCH}local_infile=off`{_KEEP}",
    ),
    FlagControl(
        "DATA-12", "6.2.1", "Cloud SQL PostgreSQL logs errors at default verbosity", Severity.LOW, ("CC7.2",),
        "SQL_LOG_ERROR_VERBOSITY",
        FlagRule("POSTGRES", "log_error_verbosity", Word(("terse", "default", "verbose"), ("terse", "default")),
                 "default"),  # fmt: skip
        "A PostgreSQL instance runs `log_error_verbosity` at `default` or `terse`.",
        "`verbose` adds source file names, functions and line numbers to every logged error, noise that buries "
        "what an investigation needs; CIS asks for `default` or stricter (`terse`).",
        f"`{_PATCH}log_error_verbosity=default`{_KEEP}",
    ),
    FlagControl(
        "DATA-13", "6.2.2", "Cloud SQL PostgreSQL logs connections", Severity.MEDIUM, ("CC7.2",),
        "SQL_LOG_CONNECTIONS_DISABLED", FlagRule("POSTGRES", "log_connections", switch("on"), "off"),
        "A PostgreSQL instance sets `log_connections` to `on`.",
        "PostgreSQL logs no connection attempt by default: without `log_connections` a password-guessing "
        "run or a login from an unexpected client leaves no trace to alert on or to investigate.",
        f"`{_PATCH}log_connections=on`{_KEEP}",
    ),
    FlagControl(
        "DATA-14", "6.2.3", "Cloud SQL PostgreSQL logs disconnections", Severity.MEDIUM, ("CC7.2",),
        "SQL_LOG_DISCONNECTIONS_DISABLED", FlagRule("POSTGRES", "log_disconnections", switch("on"), "off"),
        "A PostgreSQL instance sets `log_disconnections` to `on`.",
        "The end of each session, with its duration, completes the connection log: together they show who "
        "was connected when, which an investigation of unusual activity needs. PostgreSQL logs neither by "
        "default.",
        f"`{_PATCH}log_disconnections=on`{_KEEP}",
    ),
    FlagControl(
        "DATA-15", "6.2.4", "Cloud SQL PostgreSQL logs schema changes", Severity.MEDIUM, ("CC7.2",),
        "SQL_LOG_STATEMENT", FlagRule("POSTGRES", "log_statement", Word(("none", "ddl", "mod", "all"), ("ddl",)),
                                      "none"),  # fmt: skip
        "A PostgreSQL instance sets `log_statement` to `ddl`.",
        "`ddl` records every CREATE, ALTER and DROP: who changed the schema, and when. The default `none` "
        "records nothing; `mod` and `all` also write every data-modifying (or every) statement with its "
        "values into the logs, where personal data does not belong, so CIS recommends `ddl`. An estate whose "
        "logging policy requires more records an accepted risk.",
        f"`{_PATCH}log_statement=ddl`{_KEEP}",
    ),
    FlagControl(
        "DATA-16", "6.2.5", "Cloud SQL PostgreSQL logs warnings and worse", Severity.LOW, ("CC7.2",),
        "SQL_LOG_MIN_MESSAGES", FlagRule("POSTGRES", "log_min_messages", at_least("warning"), "warning"),
        "A PostgreSQL instance sets `log_min_messages` to `warning` or a more severe level.",
        "Below `warning` (`notice`, `info`, the `debug` levels) the server log fills with chatter that hides "
        "the warnings and errors an operator must see. CIS asks for `warning` at the minimum.",
        f"`{_PATCH}log_min_messages=warning`{_KEEP}",
    ),
    FlagControl(
        "DATA-17", "6.2.6", "Cloud SQL PostgreSQL logs the statements behind errors", Severity.LOW, ("CC7.2",),
        "SQL_LOG_MIN_ERROR_STATEMENT_SEVERITY",
        FlagRule("POSTGRES", "log_min_error_statement", at_least("error"), "error"),
        "A PostgreSQL instance sets `log_min_error_statement` to `error` or a more severe level.",
        "`log_min_error_statement` decides which failures are logged with the SQL that caused them; below "
        "`error` ordinary notices and warnings are logged as if they were errors, which hides the real ones. "
        "CIS asks for `error` or stricter.",
        f"`{_PATCH}log_min_error_statement=error`{_KEEP}",
    ),
    FlagControl(
        "DATA-18", "6.2.7", "Cloud SQL PostgreSQL logs no statements by duration", Severity.LOW, ("C1.1",),
        "SQL_LOG_MIN_DURATION_STATEMENT_ENABLED",
        FlagRule("POSTGRES", "log_min_duration_statement", Number(-1, 2147483647, -1), "-1"),
        "A PostgreSQL instance sets `log_min_duration_statement` to `-1` (disabled).",
        "Any other value writes every statement that runs longer than it (all of them at `0`) into the "
        "logs with its text, which can hold personal data or secrets.",
        f"`{_PATCH}log_min_duration_statement=-1`{_KEEP}",
    ),
    FlagControl(
        "DATA-19", "6.2.8", "Cloud SQL PostgreSQL audits with pgAudit", Severity.MEDIUM, ("CC7.2",), "",
        FlagRule("POSTGRES", "cloudsql.enable_pgaudit", switch("on"), "off"),
        "A PostgreSQL instance sets `cloudsql.enable_pgaudit` to `on`.",
        "pgAudit writes session and object audit records to Cloud Logging, where they are kept and searched "
        "with the estate's other audit logs. The flag is what lets the extension load; `CREATE EXTENSION "
        "pgaudit` and the `pgaudit.log` flag then choose what is recorded, which no instance setting shows.",
        f"`{_PATCH}cloudsql.enable_pgaudit=on,pgaudit.log=all`{_KEEP} The instance restarts; then run "
        "`CREATE EXTENSION pgaudit;`.",
    ),
    FlagControl(
        "DATA-20", "6.3.1", "Cloud SQL SQL Server runs no external scripts", Severity.MEDIUM, ("CC6.8",),
        "SQL_EXTERNAL_SCRIPTS_ENABLED", FlagRule("SQLSERVER", "external scripts enabled", switch("off"), "off"),
        "A SQL Server instance sets `external scripts enabled` to `off`, or leaves it unset (off).",
        "With external scripts enabled, sp_execute_external_script runs R or Python code, with its libraries, "
        "outside the database engine's own security boundary.",
        f"`{_PATCH}\"external scripts enabled=off\"`{_KEEP} The instance restarts.",
    ),
    FlagControl(
        "DATA-21", "6.3.2", "Cloud SQL SQL Server chains no ownership across databases", Severity.MEDIUM,
        ("CC6.1",), "SQL_CROSS_DB_OWNERSHIP_CHAINING",
        FlagRule("SQLSERVER", "cross db ownership chaining", switch("off"), "off"),
        "A SQL Server instance sets `cross db ownership chaining` to `off`, or leaves it unset (off).",
        "Cross-database ownership chaining lets an object in one database reach objects in another owned "
        "by the same login without a permission check there, so a user of one database can read another. "
        "Google no longer lets it be turned on; an instance that still has it on keeps it until it is removed.",
        f"`{_PATCH}\"cross db ownership chaining=off\"`{_KEEP}",
    ),
    FlagControl(
        "DATA-22", "6.3.3", "Cloud SQL SQL Server does not cap user connections", Severity.LOW, ("A1.1",),
        "SQL_USER_CONNECTIONS_CONFIGURED",
        FlagRule("SQLSERVER", "user connections", Number(0, 32767, 0), "0"),
        "A SQL Server instance sets `user connections` to `0` (self-configuring), or leaves it unset.",
        "At `0` SQL Server sizes its connections itself up to 32,767; any other value is a hard cap, beyond "
        "which new connections are refused and the application stops, an outage a traffic spike or a "
        "connection leak can trigger.",
        f"`{_PATCH}\"user connections=0\"`{_KEEP} The instance restarts.",
    ),
    FlagControl(
        "DATA-23", "6.3.4", "Cloud SQL SQL Server sets no global user options", Severity.LOW, ("CC8.1",),
        "SQL_USER_OPTIONS_CONFIGURED", FlagRule("SQLSERVER", "user options", Unset(), None),
        "A SQL Server instance does not set `user options`.",
        "`user options` changes the SET defaults of every new session on the instance, behaviour each "
        "application and reviewer assumes to be the engine's own; CIS asks for it not to be configured.",
        "Remove the flag: patch the instance with its other flags only (`gcloud sql instances patch INSTANCE "
        "--database-flags=...`), or `--clear-database-flags` when it has no other.",
    ),
    FlagControl(
        "DATA-24", "6.3.5", "Cloud SQL SQL Server refuses remote procedure calls", Severity.MEDIUM, ("CC6.1",),
        "SQL_REMOTE_ACCESS_ENABLED", FlagRule("SQLSERVER", "remote access", switch("off"), "on"),
        "A SQL Server instance sets `remote access` to `off`.",
        "`remote access` (on by default) lets other SQL Server instances run this one's stored procedures "
        "and this one run theirs: a path for lateral movement and for offloading queries onto a target in "
        "a denial of service.",
        f"`{_PATCH}\"remote access=off\"`{_KEEP} The instance restarts.",
    ),
    FlagControl(
        "DATA-25", "6.3.6", "Cloud SQL SQL Server masks error details (trace flag 3625)", Severity.LOW,
        ("CC6.1",), "SQL_TRACE_FLAG_3625", FlagRule("SQLSERVER", "3625", switch("on"), "off"),
        "A SQL Server instance sets trace flag `3625` to `on`.",
        "Trace flag 3625 masks the parameters of some error messages for logins outside sysadmin, so an "
        "error cannot be used to read data or object names the caller may not see. SQL Server starts with "
        "it off.",
        f"`{_PATCH}3625=on`{_KEEP} The instance restarts.",
    ),
    FlagControl(
        "DATA-26", "6.3.7", "Cloud SQL SQL Server authenticates at the server only", Severity.MEDIUM,
        ("CC6.1",), "SQL_CONTAINED_DATABASE_AUTHENTICATION",
        FlagRule("SQLSERVER", "contained database authentication", switch("off"), "off"),
        "A SQL Server instance sets `contained database authentication` to `off`, or leaves it unset (off).",
        "Contained databases hold their own users with passwords: anyone with ALTER ANY USER in one database "
        "can then grant access to the instance, outside the server logins the security team controls.",
        f"`{_PATCH}\"contained database authentication=off\"`{_KEEP}",
    ),
)  # fmt: skip


def _absent(rule: FlagRule) -> str:
    if isinstance(rule.requirement, Unset):
        return "absent, it passes"
    verdict = "passes" if rule.default_passes() else "fails"
    return f"absent, the instance runs {engine_name(rule.engine)}'s default `{rule.default}`, which {verdict}"


def logic(rule: FlagRule) -> str:
    """The exact logic, written from the rule: which fields decide, the default, what is out of scope."""
    requirement = rule.requirement
    scope = (f"Judges instances whose `databaseVersion` starts with `{rule.engine}_`, replicas included (each "
             f"carries its own flags); instances of other engines are out of scope. Reads the entry of "
             f"`{FLAGS}[]` whose `name` is `{rule.flag}`")  # fmt: skip
    if isinstance(requirement, Unset):
        return f"{scope}: present, with any value or none, it fails; {_absent(rule)}."
    compared = ", compared case-insensitively," if isinstance(requirement, Word) else ""
    return (f"{scope}: its `value`{compared} must be `{requirement.want().replace(' or ', '` or `')}` "
            f"(valid: {requirement.vocabulary()}); {_absent(rule)}.")  # fmt: skip


def unknown(rule: FlagRule) -> str:
    """What unreadable data gives, for the rule."""
    value = (
        ""
        if isinstance(rule.requirement, Unset)
        else (
            f"; `{rule.flag}` listed more than once, without a `value` or with one that is not "
            f"{rule.requirement.vocabulary()}"
        )
    )
    return (f"An `error` naming the field: a `databaseVersion` of no known engine; `settings` not an object or "
            f"`{FLAGS}` not a list; an entry that is not an object, has no string `name` or a `value` that is "
            f"not a string{value}.")  # fmt: skip


def declare(row: FlagControl) -> Control:
    """The control of one row: its declaration and a judge that applies the row's rule."""
    rule = row.rule

    def judge(instance: JSON, who: str) -> Judgement | None:
        return judge_flag(rule, instance, who)

    def run(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
        return per_instance(snapshot.get(Kind.SQL_INSTANCES), snapshot.scope, judge)

    run.__doc__ = f"{row.holds} Other engines are out of scope."
    declared = control(
        id=row.id, title=row.title, area=Area.DATA, severity=row.severity, kinds=_KINDS, unit=_UNIT,
        references=References(cis=(("4.0", row.cis), ("5.0", row.cis)), soc2=row.soc2, sha=row.sha),
        rationale=row.rationale, remediation=row.remediation,
        holds=row.holds, logic=logic(rule), unknown=unknown(rule),
    )  # fmt: skip
    return declared(run)


_BY_ID = {row.id: row for row in FLAG_CONTROLS}

# One module attribute per control, so that the registry (and `controls_in`) finds each one.
data10_skip_show_database = declare(_BY_ID["DATA-10"])
data11_local_infile = declare(_BY_ID["DATA-11"])
data12_log_error_verbosity = declare(_BY_ID["DATA-12"])
data13_log_connections = declare(_BY_ID["DATA-13"])
data14_log_disconnections = declare(_BY_ID["DATA-14"])
data15_log_statement = declare(_BY_ID["DATA-15"])
data16_log_min_messages = declare(_BY_ID["DATA-16"])
data17_log_min_error_statement = declare(_BY_ID["DATA-17"])
data18_log_min_duration_statement = declare(_BY_ID["DATA-18"])
data19_enable_pgaudit = declare(_BY_ID["DATA-19"])
data20_external_scripts = declare(_BY_ID["DATA-20"])
data21_cross_db_ownership_chaining = declare(_BY_ID["DATA-21"])
data22_user_connections = declare(_BY_ID["DATA-22"])
data23_user_options = declare(_BY_ID["DATA-23"])
data24_remote_access = declare(_BY_ID["DATA-24"])
data25_trace_flag_3625 = declare(_BY_ID["DATA-25"])
data26_contained_database_authentication = declare(_BY_ID["DATA-26"])
