"""The config models: the shipped example, the README's defaults, per-scope overrides, the API."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from checks import default_registry
from checks.params import Params
from monitor.config.model import Config, ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "config" / "controlwatch.example.yaml"
MINIMAL = "scopes:\n  projects:\n    - id: shop-prod\n"


def _problems(text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cw.yaml", **kwargs)
    return str(caught.value).splitlines()


# --- the example ----------------------------------------------------------------------


def test_example_loads_with_what_it_documents() -> None:
    config = load_config(EXAMPLE)
    assert config.scope_ids() == ("shop-prod", "shop-dev")
    assert config.params_for("shop-prod").firewall.public_ports == ("tcp:443",)
    assert config.params_for("shop-dev").firewall.public_ports == ()
    assert config.disabled_for("shop-prod") == {"FW-08", "FW-10"}
    assert config.disabled_for("shop-dev") == {"FW-08"}
    [risk] = config.exceptions
    assert (risk.control, risk.scope, risk.expires) == ("FW-05", "shop-prod", date(2027, 3, 31))
    assert config.gcp.api_endpoint is None  # a copied example reaches Google, never a stand-in that is not there


def test_the_examples_stand_in_endpoint_is_commented_out_and_works_uncommented() -> None:
    text = EXAMPLE.read_text()
    assert "\n  # api_endpoint: " in text
    config = parse_config(text.replace("\n  # api_endpoint: ", "\n  api_endpoint: "), "cw.yaml")
    assert config.gcp.api_endpoint == "http://127.0.0.1:8085"


def test_example_names_only_registered_controls() -> None:
    """`controlwatch config validate` checks ids against the registry: so must the example."""
    load_config(EXAMPLE, known_controls=default_registry().ids())


def _unset_keys(model: type[BaseModel], values: list[Any], path: str, skip: set[str]) -> list[str]:
    """Keys of `model` that no value in `values` sets, recursively."""
    missing = []
    for name, field in model.model_fields.items():
        here = f"{path}.{name}".lstrip(".")
        given = [value[name] for value in values if isinstance(value, dict) and name in value]
        if not given:
            missing.append(here)
            continue
        if here in skip:
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            missing += _unset_keys(annotation, given, here, skip)
        elif args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            missing += _unset_keys(args[0], [item for items in given for item in items], here, skip)
    return missing


def test_example_sets_every_key() -> None:
    """A key added to the models must be documented in the example (partial scope params and `shard`,
    written in one of its two forms, aside; `gcp.api_endpoint` is there commented out)."""
    data = yaml.safe_load(EXAMPLE.read_text())
    assert _unset_keys(Config, [data], "", skip={"scopes.projects.params", "shard"}) == ["gcp.api_endpoint"]


# --- defaults -------------------------------------------------------------------------


def test_defaults_are_designs() -> None:
    config = parse_config(MINIMAL, "cw.yaml")
    assert config.schedule.interval == timedelta(minutes=15)
    assert config.schedule.jitter == timedelta(seconds=30)
    assert config.gcp.call_timeout == timedelta(seconds=30)
    assert config.gcp.run_deadline == timedelta(minutes=5)
    assert config.gcp.max_workers == 4
    assert config.gcp.api_endpoint is None
    assert config.disabled_controls == ()
    assert config.params == Params()
    assert config.params.region.allowed == ("europe-west1",)
    assert config.exceptions == ()
    assert config.metrics.listen == "127.0.0.1:9797"
    assert (config.metrics.host, config.metrics.port) == ("127.0.0.1", 9797)
    assert config.evidence.path == Path(".controlwatch/evidence.sqlite3")
    assert config.evidence.signing_key_file is None
    assert config.evidence.checkpoint_interval == timedelta(hours=1)
    assert config.evidence.max_unanchored == config.evidence.unanchored_limit == timedelta(hours=2)
    assert config.evidence.retention_days == 400
    assert config.evidence.cloud_logging is None
    assert config.drift.audit_poll_interval == timedelta(seconds=10)
    assert config.evaluation.deadline == timedelta(minutes=2)
    assert config.evaluation.max_resources == 50_000
    assert config.evaluation.max_resources_by_kind == {}
    assert (config.log.level, config.log.format) == ("info", "json")
    assert config.params_for("shop-prod") == Params()
    assert config.disabled_for("shop-prod") == frozenset()


# --- per-scope overrides --------------------------------------------------------------

OVERRIDES = """\
scopes:
  projects:
    - id: shop-prod
      params:
        firewall: {public_ports: ["tcp:443"]}
        backup: {rpo_hours: 4}
      disabled_controls: [FW-09]
    - id: shop-dev
disabled_controls: [FW-08]
params:
  region: {allowed: [eu]}
  firewall: {public_ports: ["tcp:80"], public_instances: [env=dmz]}
  backup: {min_retention_days: 30}
"""


def test_scope_override_replaces_only_the_keys_it_sets() -> None:
    config = parse_config(OVERRIDES, "cw.yaml")
    prod = config.params_for("shop-prod")
    assert prod.firewall.public_ports == ("tcp:443",)  # replaced, not appended
    assert prod.firewall.public_instances == ("env=dmz",)  # same area, not overridden: global
    assert prod.region.allowed == ("eu",)
    assert (prod.backup.rpo_hours, prod.backup.min_retention_days) == (4, 30)
    dev = config.params_for("shop-dev")
    assert dev == config.params
    assert dev.firewall.public_ports == ("tcp:80",)


def test_override_to_the_default_value_still_overrides() -> None:
    text = OVERRIDES.replace('public_ports: ["tcp:443"]', "public_ports: []")
    assert parse_config(text, "cw.yaml").params_for("shop-prod").firewall.public_ports == ()


def test_scope_params_dump_only_the_overrides() -> None:
    config = parse_config(OVERRIDES, "cw.yaml")
    dumped = config.model_dump(mode="json")["scopes"]["projects"]
    assert dumped[0]["params"] == {"firewall": {"public_ports": ["tcp:443"]}, "backup": {"rpo_hours": 4}}
    assert dumped[1]["params"] == {}


def test_disabled_for_is_global_and_scope() -> None:
    config = parse_config(OVERRIDES, "cw.yaml")
    assert config.disabled_for("shop-prod") == {"FW-08", "FW-09"}
    assert config.disabled_for("shop-dev") == {"FW-08"}


def test_unknown_scope_is_a_key_error() -> None:
    config = parse_config(OVERRIDES, "cw.yaml")
    with pytest.raises(KeyError, match="shop-qa"):
        config.params_for("shop-qa")
    with pytest.raises(KeyError, match="shop-qa"):
        config.disabled_for("shop-qa")


def test_invalid_override_is_located_in_the_scope() -> None:
    text = OVERRIDES.replace("rpo_hours: 4", "rpo_hours: 0")
    assert _problems(text) == [
        "cw.yaml:6: scopes.projects[0].params.backup.rpo_hours: Input should be greater than 0, got number 0"
    ]


# --- the model as a value -------------------------------------------------------------


def test_config_is_frozen() -> None:
    config = parse_config(MINIMAL, "cw.yaml")
    with pytest.raises(ValidationError):
        config.gcp = config.gcp


def test_json_round_trip_keeps_durations_as_written() -> None:
    config = load_config(EXAMPLE)
    dumped = config.model_dump(mode="json")
    assert dumped["schedule"] == {"interval": "15m", "jitter": "30s"}
    assert Config.model_validate_json(config.model_dump_json()) == config


def test_direct_construction_runs_the_cross_checks() -> None:
    with pytest.raises(ValidationError, match="duplicate project 'shop-prod'"):
        Config.model_validate({"scopes": {"projects": [{"id": "shop-prod"}, {"id": "shop-prod"}]}})


def test_durations_in_other_spellings() -> None:
    text = MINIMAL + "schedule: {interval: 1h30m, jitter: 0s}\ngcp: {call_timeout: 500ms}\n"
    config = parse_config(text, "cw.yaml")
    assert config.schedule.interval == timedelta(minutes=90)
    assert config.schedule.jitter == timedelta(0)
    assert config.gcp.call_timeout == timedelta(milliseconds=500)


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [("0.0.0.0:9797", "0.0.0.0", 9797), ("[::1]:0", "::1", 0), ("metrics.internal:65535", "metrics.internal", 65535)],
)
def test_listen_addresses(listen: str, host: str, port: int) -> None:
    config = parse_config(MINIMAL + f'metrics: {{listen: "{listen}"}}\n', "cw.yaml")
    assert (config.metrics.host, config.metrics.port) == (host, port)


@pytest.mark.parametrize(
    "listen", ["1.2.3.999:80", "[::1:80", "[nope]:80", "host_name:80", ":9797", "a:-1", "9797", "localhost", "h:70000"]
)
def test_bad_listen_addresses(listen: str) -> None:
    [line] = _problems(MINIMAL + f'metrics: {{listen: "{listen}"}}\n')
    assert line.startswith("cw.yaml:4: metrics.listen: ")


# --- several problems, known controls -------------------------------------------------


def test_every_problem_is_reported_once_in_line_order() -> None:
    text = MINIMAL + "gcp:\n  max_workers: 0\n  call_timeout: soon\nlog: {level: loud}\nmetrics: {port: 1}\n"
    assert [line.split(": ")[1] for line in _problems(text)] == [
        "gcp.max_workers",
        "gcp.call_timeout",
        "log.level",
        "metrics.port",
    ]


def test_known_controls_check_every_place_an_id_appears() -> None:
    text = """\
scopes:
  projects:
    - id: shop-prod
      disabled_controls: [FW-77]
disabled_controls: [FW-01, IAM-99]
exceptions:
  - {control: BKP-42, scope: shop-prod, resource: "*", reason: r, approver: a, expires: 2027-01-01}
"""
    known = ["FW-01", "FW-02", "IAM-01", "BKP-02"]
    assert _problems(text, known_controls=known) == [
        "cw.yaml:4: scopes.projects[0].disabled_controls[0]: unknown control 'FW-77'; did you mean 'FW-02'?",
        "cw.yaml:5: disabled_controls[1]: unknown control 'IAM-99'; did you mean 'IAM-01'?",
        "cw.yaml:7: exceptions[0].control: unknown control 'BKP-42'; did you mean 'BKP-02'?",
    ]
    assert parse_config(text, "cw.yaml").disabled_controls == ("FW-01", "IAM-99")


def test_anchors_and_merge_keys() -> None:
    text = MINIMAL + (
        "exceptions:\n"
        "  - &risk {control: FW-05, scope: shop-prod, resource: '*a', reason: r, approver: a, expires: 2027-01-01}\n"
        "  - {<<: *risk, resource: '*b'}\n"
    )
    first, second = parse_config(text, "cw.yaml").exceptions
    assert (first.resource, second.resource) == ("*a", "*b")
    assert second.model_dump(exclude={"resource"}) == first.model_dump(exclude={"resource"})


def test_error_inside_merged_anchor_points_at_the_anchor() -> None:
    text = MINIMAL + (
        "exceptions:\n"
        "  - &risk {control: FW-05, scope: shop-prod, resource: '*', reason: r, approver: a, expires: soon}\n"
        "  - {<<: *risk, resource: '*b'}\n"
    )
    lines = _problems(text)
    assert [line.split(": ")[0:2] for line in lines] == [
        ["cw.yaml:5", "exceptions[0].expires"],
        ["cw.yaml:5", "exceptions[1].expires"],
    ]


def test_defaults_take_part_in_cross_key_checks() -> None:
    # Neither jitter nor run_deadline is written: their defaults (30s, 5m) must still be checked.
    assert _problems(MINIMAL + "schedule: {interval: 10s}\ngcp: {call_timeout: 10m}\n") == [
        "cw.yaml:4: schedule.jitter: jitter (30s) must be shorter than interval (10s)",
        "cw.yaml:5: gcp.run_deadline: run_deadline (5m) is shorter than call_timeout (10m)",
    ]


def test_mangled_examples_raise_config_error_and_nothing_else() -> None:
    """Never a traceback: deleted, repeated, re-indented and garbled lines of the example."""
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    garbage = ["", "~", "[", "{", ": ", "- ", "&a ", "*a", "<<: *a\n", "!!binary x", "1e400", "yes", "'", "\t", "\x00"]
    rng = random.Random(7)
    for _ in range(300):
        mangled = list(lines)
        for _ in range(rng.randint(1, 3)):
            j = rng.randrange(len(mangled))
            op = rng.randrange(4)
            if op == 0:
                del mangled[j]
            elif op == 1:
                mangled.insert(j, rng.choice(lines))
            elif op == 2:
                k = rng.randrange(len(mangled[j]) + 1)
                mangled[j] = mangled[j][:k] + rng.choice(garbage) + mangled[j][k:]
            else:
                mangled[j] = " " * rng.randrange(6) + mangled[j].lstrip()
        try:
            parse_config("".join(mangled), "cw.yaml")
        except ConfigError as exc:
            assert all(line.startswith("cw.yaml") for line in str(exc).splitlines())
