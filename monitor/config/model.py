"""The one config file, as frozen pydantic models, and a loader that never shows a traceback.

A bad file must stop the start with something an operator can act on: every problem is
one line, `FILE:LINE: KEY.PATH: reason`, collected in one go (`ConfigError.problems`).
Lines come from `monitor.config.yaml_source`; pydantic's error locations are mapped back to them.
Control parameters reuse `checks.params.Params`, so their grammar lives in one place.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from checks.kinds import Kind
from checks.params import Params
from monitor.config.addresses import split_host_port
from monitor.config.durations import AS_TEXT, NonNegativeDuration, PositiveDuration, at_least, format_duration
from monitor.config.errors import describe, reason
from monitor.config.grammar import CONTROL_ID, PROJECT_ID, ControlId, ProjectId
from monitor.config.grammar import Frozen as _Frozen
from monitor.config.rates import DEFAULT_RATES, ApiName, Rate, with_defaults
from monitor.config.scopes import Match, Override, ProjectScope, Scopes, Seen, scopes_problems
from monitor.config.sharding import ShardConfig
from monitor.config.yaml_source import Document, KeyPath, Problem, SourceError, format_path, parse_yaml, read_source

__all__ = [
    "AcceptedRiskConfig",
    "Config",
    "ConfigError",
    "DriftConfig",
    "EvaluationConfig",
    "EvidenceConfig",
    "GcpConfig",
    "LogConfig",
    "Match",
    "MetricsConfig",
    "Override",
    "Problem",
    "ProjectScope",
    "ScheduleConfig",
    "Scopes",
    "Seen",
    "ShardConfig",
    "load_config",
    "parse_config",
]

__all__ += ["CONTROL_ID", "PROJECT_ID"]

_LOG_NAME = re.compile(r"^projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/logs/[A-Za-z0-9_.%/-]{1,512}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ConfigError(Exception):
    """A config that must not be used; `str()` is one `FILE:LINE: KEY.PATH: reason` line per problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# --- value grammars -------------------------------------------------------------------


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _not_blank_path(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def _expiry(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date written YYYY-MM-DD (it means the end of that day, UTC)")


def _listen(value: str) -> str:
    split_host_port(value)
    return value


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL (e.g. 'http://127.0.0.1:8085')")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ValueError(f"{value!r}: the port must be a number from 0 to 65535") from None
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError(f"{value!r}: no credentials, query or fragment in the endpoint")
    return value


def _kind_name(value: str) -> str:
    known = sorted(str(kind) for kind in Kind)
    if value not in known:
        close = difflib.get_close_matches(value, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        raise ValueError(f"unknown resource kind {value!r}{hint}")
    return value


def _log_name(value: str) -> str:
    if not _LOG_NAME.match(value):
        raise ValueError(f"{value!r} is not a log name 'projects/PROJECT_ID/logs/LOG_ID'")
    return value


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]
FilePath = Annotated[Path, BeforeValidator(_not_blank_path)]
ExpiryDate = Annotated[date, BeforeValidator(_expiry)]
KindName = Annotated[str, AfterValidator(_kind_name)]
ResourceCount = Annotated[int, Field(ge=1, strict=True)]


# --- models ---------------------------------------------------------------------------


# Minimums below which a duration is a typo rather than a setting (API quotas, deadlines).
Interval = Annotated[
    timedelta, at_least(timedelta(seconds=10), "each sweep lists every kind of every scope against API quotas"), AS_TEXT
]
CallTimeout = Annotated[timedelta, at_least(timedelta(milliseconds=100), "no API call answers faster"), AS_TEXT]
RunDeadline = Annotated[timedelta, at_least(timedelta(seconds=1), "a run makes several calls"), AS_TEXT]
CheckpointInterval = Annotated[timedelta, at_least(timedelta(minutes=1), "each checkpoint is a signed record"), AS_TEXT]
PollInterval = Annotated[timedelta, at_least(timedelta(seconds=1), "each poll is an entries:list call"), AS_TEXT]


class ScheduleConfig(_Frozen):
    interval: Interval = timedelta(minutes=15)
    jitter: NonNegativeDuration = Field(default=timedelta(seconds=30), validate_default=True)

    @field_validator("jitter")
    @classmethod
    def _below_interval(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        interval = info.data.get("interval")
        if interval is not None and value >= interval:
            raise ValueError(
                f"jitter ({format_duration(value)}) must be shorter than interval ({format_duration(interval)})"
            )
        return value


class GcpConfig(_Frozen):
    call_timeout: CallTimeout = timedelta(seconds=30)
    run_deadline: RunDeadline = Field(default=timedelta(minutes=5), validate_default=True)
    max_workers: int = Field(default=4, ge=1, le=32, strict=True)
    max_concurrent_scopes: int = Field(default=8, ge=1, le=64, strict=True)  # scope runs at once
    rate_limits: dict[ApiName, Rate] = Field(default_factory=lambda: dict(DEFAULT_RATES))  # `monitor.config.rates`
    api_endpoint: Annotated[str, AfterValidator(_endpoint)] | None = None

    @field_validator("rate_limits")
    @classmethod
    def _over_defaults(cls, value: dict[str, float]) -> dict[str, float]:
        return with_defaults(value)

    @field_validator("run_deadline")
    @classmethod
    def _covers_a_call(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        timeout = info.data.get("call_timeout")
        if timeout is not None and value < timeout:
            raise ValueError(
                f"run_deadline ({format_duration(value)}) is shorter than call_timeout ({format_duration(timeout)})"
            )
        return value


class EvaluationConfig(_Frozen):
    """What judging one run of one scope may take (`monitor.run.budget`): past `deadline` the
    controls not finished are `error`; a control reading more than `max_resources` resources
    of one kind (or its kind's entry in `max_resources_by_kind`) is `error` without running."""

    deadline: PositiveDuration = timedelta(minutes=2)
    max_resources: ResourceCount = 50_000
    max_resources_by_kind: dict[KindName, ResourceCount] = {}


class AcceptedRiskConfig(_Frozen):
    """An entry of `exceptions:` (see `monitor.run.risks`); `resource` and `subject` are globs."""

    control: ControlId
    scope: ProjectId
    resource: NonEmptyStr
    subject: NonEmptyStr | None = None
    reason: NonEmptyStr
    approver: NonEmptyStr
    expires: ExpiryDate


class MetricsConfig(_Frozen):
    listen: Annotated[str, AfterValidator(_listen)] = "127.0.0.1:9797"
    web_config_file: FilePath | None = None  # TLS and basic auth, exporter-toolkit's format (`web_config`)

    @property
    def host(self) -> str:
        return split_host_port(self.listen)[0]

    @property
    def port(self) -> int:
        return split_host_port(self.listen)[1]


class EvidenceConfig(_Frozen):
    path: FilePath = Path(".controlwatch/evidence.sqlite3")
    signing_key_file: FilePath | None = None
    checkpoint_interval: CheckpointInterval = timedelta(hours=1)
    max_unanchored: PositiveDuration | None = Field(default=None, validate_default=True)
    retention_days: int = Field(default=400, ge=1, strict=True)
    cloud_logging: Annotated[str, AfterValidator(_log_name)] | None = None

    @field_validator("max_unanchored")
    @classmethod
    def _covers_an_interval(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        """Unset means two checkpoint intervals; less than one would fail a healthy ledger between checkpoints."""
        interval = info.data.get("checkpoint_interval")
        if not isinstance(interval, timedelta):  # the interval itself is bad: reported there
            return value
        if value is None:
            return 2 * interval
        if value < interval:
            raise ValueError(
                f"max_unanchored ({format_duration(value)}) is shorter than checkpoint_interval "
                f"({format_duration(interval)}): records wait up to one interval for their checkpoint"
            )
        return value

    @property
    def unanchored_limit(self) -> timedelta:
        """`max_unanchored`, always set once validated (two checkpoint intervals unless the file says)."""
        return self.max_unanchored if self.max_unanchored is not None else 2 * self.checkpoint_interval


class DriftConfig(_Frozen):
    audit_poll_interval: PollInterval = timedelta(seconds=10)


class LogConfig(_Frozen):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class Config(_Frozen):
    """The whole file. Durations are `timedelta`; tuples keep it immutable."""

    scopes: Scopes
    schedule: ScheduleConfig = ScheduleConfig()
    gcp: GcpConfig = GcpConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    disabled_controls: tuple[ControlId, ...] = ()
    params: Params = Params()
    exceptions: tuple[AcceptedRiskConfig, ...] = ()
    metrics: MetricsConfig = MetricsConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    drift: DriftConfig = DriftConfig()
    log: LogConfig = LogConfig()
    shard: ShardConfig | None = None  # unset: this process watches every scope (`monitor.config.sharding`)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Config:
        """Cross-key checks; `parse_config` collects them with their lines via the context."""
        found = _cross_checks(self)
        sink = (info.context or {}).get("cross_problems")
        if isinstance(sink, list):
            sink.extend(found)
        elif found:
            raise ValueError("; ".join(f"{format_path(loc)}: {reason}" for loc, reason in found))
        return self

    def scope_ids(self) -> tuple[str, ...]:
        """The listed project ids (`scopes.projects`), in file order; discovery finds the others."""
        return self.scopes.project_ids()

    def scope(self, scope_id: str) -> ProjectScope:
        found = self.scopes.explicit(scope_id)
        if found is None:
            raise KeyError(f"unknown scope {scope_id!r}")
        return found

    def params_for(self, scope_id: str, seen: Seen | None = None) -> Params:
        """The global params, then each override matching the scope, then its own entry's.

        `seen` is what discovery knows of the scope (labels, folders); without it, a scope
        not in `scopes.projects` is a KeyError.
        """
        params = self.params
        for partial in self.scopes.settings_for(scope_id, seen).params:
            params = params.merged(partial)
        return params

    def disabled_for(self, scope_id: str, seen: Seen | None = None) -> frozenset[str]:
        """Controls disabled globally, by a matching override or for this scope."""
        return frozenset(self.disabled_controls) | self.scopes.settings_for(scope_id, seen).disabled


def _cross_checks(config: Config) -> list[tuple[KeyPath, str]]:
    risk_scopes = [entry.scope for entry in config.exceptions]
    found = scopes_problems(config.scopes, config.params, risk_scopes, _reason)
    if config.shard is not None:
        found += [(("shard", *where), reason) for where, reason in config.shard.problems()]
    if config.gcp.run_deadline >= config.schedule.interval:
        reason = (
            f"run_deadline ({format_duration(config.gcp.run_deadline)}) must be shorter than schedule.interval "
            f"({format_duration(config.schedule.interval)}): a run still going when the next is due is skipped"
        )
        found.append((("gcp", "run_deadline"), reason))
    elif config.gcp.run_deadline + config.evaluation.deadline >= config.schedule.interval:
        whole = config.gcp.run_deadline + config.evaluation.deadline
        reason = (
            f"gcp.run_deadline ({format_duration(config.gcp.run_deadline)}) + evaluation.deadline "
            f"({format_duration(config.evaluation.deadline)}) = {format_duration(whole)} must be shorter than "
            f"schedule.interval ({format_duration(config.schedule.interval)}): a run still going when the next "
            "is due is skipped"
        )
        found.append((("evaluation", "deadline"), reason))
    return found


# --- loading --------------------------------------------------------------------------


def load_config(path: str | Path, known_controls: Iterable[str] | None = None) -> Config:
    """Read and validate a config file; raises `ConfigError` (never anything else) when unusable.

    With `known_controls` (the registry's ids), unknown control ids are errors too.
    """
    try:
        text = read_source(Path(path))
    except SourceError as exc:
        raise ConfigError(exc.problems) from None
    return parse_config(text, str(path), known_controls)


def parse_config(text: str, source: str, known_controls: Iterable[str] | None = None) -> Config:
    """Validate config text; `source` names it in messages (the file path, usually)."""
    try:
        document = parse_yaml(text, source)
    except SourceError as exc:
        raise ConfigError(exc.problems) from None
    if document.data is None:
        raise ConfigError([Problem(source, "the file is empty: it needs at least 'scopes:'")])
    if not isinstance(document.data, dict):
        reason = f"the top level must be a mapping (scopes:, params:, ...), not {describe(document.data)}"
        raise ConfigError([Problem(source, reason, document.line_of(()))])
    cross: list[tuple[KeyPath, str]] = []
    known = frozenset(known_controls) if known_controls is not None else None
    try:
        config = Config.model_validate(document.data, context={"known_controls": known, "cross_problems": cross})
    except ValidationError as exc:
        problems = [_located(source, document, e["loc"], _reason(e)) for e in _meaningful(exc.errors())]
    else:
        problems = [_located(source, document, loc, reason) for loc, reason in cross]
    if problems:
        unique = {str(p): p for p in problems}.values()
        raise ConfigError(sorted(unique, key=lambda p: (p.line or 0, p.path)))
    return config


def _meaningful(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" for a list whose items failed: pydantic counts only the valid ones."""
    failed_items = {e["loc"][:-1] for e in errors if e["loc"] and isinstance(e["loc"][-1], int)}
    return [e for e in errors if not (e["type"] == "too_short" and e["loc"] in failed_items)]


def _located(source: str, document: Document, loc: KeyPath, reason: str) -> Problem:
    path = tuple(part for part in loc if part != "[key]")
    return Problem(source, reason, document.line_of(path), loc=path)


def _reason(error: ErrorDetails) -> str:
    return reason(error, Config)
