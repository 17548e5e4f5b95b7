"""`scopes:` with discovery: roots, filters, overrides by glob, label and folder, and what stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config.model import Config, ConfigError, Seen, parse_config

DISCOVERY = """\
scopes:
  organization: 123456789012
  folders: ["345678901234"]
  include: {projects: ["shop-*", "data-*"], labels: {env: "prod*"}}
  exclude: {projects: ["*-sandbox"], labels: {temporary: "true"}, folders: ["567890123456"]}
  refresh: 5m
  projects:
    - id: shop-prod
      params: {firewall: {public_ports: ["tcp:443"]}, backup: {rpo_hours: 6}}
      disabled_controls: [FW-10]
  overrides:
    - match: {projects: ["shop-*"]}
      params: {backup: {rpo_hours: 12, min_retention_days: 14}}
      disabled_controls: [FW-09]
    - match: {labels: {env: prod}, folders: ["345678901234"]}
      params: {backup: {rpo_hours: 2}}
      disabled_controls: [FW-08]
params:
  backup: {min_retention_days: 30}
exceptions:
  - {control: FW-05, scope: data-lake, resource: "*", reason: r, approver: a, expires: 2027-01-01}
"""
PROD = Seen(labels={"env": "prod"}, folders=("345678901234", "999"))


def test_a_discovery_config_names_its_roots_and_filters() -> None:
    config = parse_config(DISCOVERY, "cw.yaml")
    scopes = config.scopes
    assert scopes.discovering
    assert scopes.organization == "123456789012"  # written as a YAML number, taken as written
    assert scopes.roots() == ("organizations/123456789012", "folders/345678901234")
    assert scopes.refresh == timedelta(minutes=5)
    assert config.scope_ids() == ("shop-prod",)  # the listed ones; discovery finds the others
    assert Config.model_validate_json(config.model_dump_json()) == config


def test_a_listed_only_config_discovers_nothing() -> None:
    config = parse_config("scopes:\n  projects:\n    - id: shop-prod\n", "cw.yaml")
    assert not config.scopes.discovering
    assert config.scopes.roots() == ()
    assert config.scopes.refresh == timedelta(minutes=10)
    assert config.scopes.include.empty and config.scopes.exclude.empty


def test_include_needs_every_criterion_exclude_any() -> None:
    scopes = parse_config(DISCOVERY, "cw.yaml").scopes
    assert scopes.admits("shop-web", Seen(labels={"env": "production"})) == (
        True,
        "included by include.projects 'shop-*', labels env=prod*",
    )
    assert scopes.admits("shop-web", Seen(labels={"env": "dev"})) == (
        False,
        "not matched by include (projects 'shop-*', 'data-*'; labels env=prod*)",
    )
    assert scopes.admits("ledger", PROD)[0] is False  # the label alone is not enough
    assert scopes.admits("shop-sandbox", PROD) == (False, "excluded by exclude.projects '*-sandbox'")
    assert scopes.admits("data-tmp", Seen({"env": "prod", "temporary": "true"})) == (
        False,
        "excluded by exclude.labels temporary=true",
    )
    below = Seen(labels={"env": "prod"}, folders=("11", "567890123456"))
    assert scopes.admits("data-lake", below) == (False, "excluded by exclude.folders 567890123456")


def test_without_include_everything_discovered_is_in_but_what_exclude_drops() -> None:
    text = 'scopes:\n  folders: ["345678901234"]\n  exclude: {projects: ["sandbox-*"]}\n'
    scopes = parse_config(text, "cw.yaml").scopes
    assert scopes.admits("anything", Seen()) == (True, "no filter excludes it")
    assert scopes.admits("sandbox-alice", Seen()) == (False, "excluded by exclude.projects 'sandbox-*'")


def test_overrides_apply_in_file_order_then_the_listed_projects_own() -> None:
    config = parse_config(DISCOVERY, "cw.yaml")
    # A listed project: the glob override matches, the label/folder one needs what discovery saw.
    assert config.params_for("shop-prod").backup.rpo_hours == 6  # its own entry wins
    assert config.params_for("shop-prod").backup.min_retention_days == 14  # from the glob override
    assert config.disabled_for("shop-prod") == {"FW-09", "FW-10"}
    assert config.disabled_for("shop-prod", PROD) == {"FW-08", "FW-09", "FW-10"}
    # Discovered projects: by glob, by label and folder, both in order (the later wins).
    assert config.params_for("shop-web", PROD).backup.rpo_hours == 2
    assert config.params_for("shop-web", Seen()).backup.rpo_hours == 12
    assert config.params_for("data-lake", PROD).backup.rpo_hours == 2
    assert config.params_for("data-lake", PROD).backup.min_retention_days == 30  # global
    assert config.disabled_for("data-lake", PROD) == {"FW-08"}
    assert config.disabled_for("data-lake", Seen(labels={"env": "prod"})) == frozenset()  # not below the folder
    assert config.scopes.settings_for("shop-web", PROD).overrides == (0, 1)
    with pytest.raises(KeyError, match="data-lake"):
        config.params_for("data-lake")  # not listed, and nothing seen


def test_overrides_by_glob_work_without_discovery() -> None:
    text = """\
scopes:
  projects: [{id: shop-prod}, {id: shop-dev}, {id: ledger-prod}]
  overrides:
    - match: {projects: ["shop-*"]}
      disabled_controls: [FW-09]
"""
    config = parse_config(text, "cw.yaml")
    assert [sorted(config.disabled_for(s)) for s in config.scope_ids()] == [["FW-09"], ["FW-09"], []]


def test_with_discovery_an_accepted_risk_may_name_any_project() -> None:
    assert parse_config(DISCOVERY, "cw.yaml").exceptions[0].scope == "data-lake"
    risk = '  - {control: FW-05, scope: data-lake, resource: "*", reason: r, approver: a, expires: 2027-01-01}\n'
    listed_only = "scopes:\n  projects: [{id: shop-prod}]\nexceptions:\n" + risk
    with pytest.raises(ConfigError) as caught:
        parse_config(listed_only, "cw.yaml")
    assert str(caught.value) == "cw.yaml:4: exceptions[0].scope: 'data-lake' is not one of scopes.projects"


def test_an_empty_project_list_says_discovery_would_do_too() -> None:
    with pytest.raises(ConfigError, match="list at least one project to watch, or set scopes.organization"):
        parse_config("scopes:\n  projects: []\n", "cw.yaml")
    assert parse_config('scopes:\n  organization: "1"\n  projects: []\n', "cw.yaml").scopes.projects == ()
