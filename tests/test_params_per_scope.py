"""Parameters set globally or per scope change verdicts, through the real check path."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.commands.main import cli
from monitor.demo import DEMO_SCENARIO

SCOPES = "scopes:\n  projects:\n    - id: shop-prod\n{prod}    - id: data-platform\n{data}"


def verdicts(tmp_path: Path, config: str, *controls: str) -> dict[tuple[str, str], set[str]]:
    path = tmp_path / "cw.yaml"
    path.write_text(config)
    args = ["check", "--scenario", str(DEMO_SCENARIO), "--config", str(path), "--format", "json"]
    for control in controls:
        args += ["--control", control]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    got: dict[tuple[str, str], set[str]] = {}
    for r in json.loads(result.stdout)["results"]:
        got.setdefault((r["control"], r["scope"]), set()).add(r["verdict"])
    return got


def test_per_scope_region_override_only_changes_that_scope(tmp_path: Path) -> None:
    base = verdicts(tmp_path, SCOPES.format(prod="", data=""), "REG-01")
    assert base[("REG-01", "data-platform")] == {"pass", "fail"}  # trainer-1 sits in europe-west4-a
    override = "      params: {region: {allowed: [europe-west1, europe-west4]}}\n"
    got = verdicts(tmp_path, SCOPES.format(prod="", data=override), "REG-01")
    assert got[("REG-01", "data-platform")] == {"pass"}
    assert got[("REG-01", "shop-prod")] == base[("REG-01", "shop-prod")]


def by_disk(tmp_path: Path, config: str) -> dict[str, str]:
    path = tmp_path / "cw.yaml"
    path.write_text(config)
    args = [
        "check",
        "--scenario",
        str(DEMO_SCENARIO),
        "--config",
        str(path),
        "--format",
        "json",
        "--control",
        "BKP-02",
        "--scope",
        "shop-prod",
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return {r["resource"].rsplit("/", 1)[-1]: r["verdict"] for r in json.loads(result.stdout)["results"]}


def test_rpo_and_disk_selector_per_scope_and_global(tmp_path: Path) -> None:
    base = by_disk(tmp_path, SCOPES.format(prod="", data=""))
    assert base["app-1"] == "fail" and base["bastion-old"] == "fail"  # 3 days old; no snapshot at all
    looser = by_disk(tmp_path, SCOPES.format(prod="      params: {backup: {rpo_hours: 100}}\n", data=""))
    assert looser["app-1"] == "pass" and looser["bastion-old"] == "fail"
    globally = by_disk(tmp_path, SCOPES.format(prod="", data="") + "params: {backup: {rpo_hours: 100}}\n")
    assert globally == looser
    only_web = by_disk(tmp_path, SCOPES.format(prod="      params: {backup: {disk_selector: {role: web}}}\n", data=""))
    assert set(only_web) < set(base) and "app-1" not in only_web


def test_key_max_age_days_per_scope_and_global(tmp_path: Path) -> None:
    base = verdicts(tmp_path, SCOPES.format(prod="", data=""), "IAM-09")
    assert base[("IAM-09", "shop-prod")] == {"fail"}  # ci-deployer's key is 541 days old
    longer = "      params: {iam: {key_max_age_days: 600}}\n"
    assert verdicts(tmp_path, SCOPES.format(prod=longer, data=""), "IAM-09")[("IAM-09", "shop-prod")] == {"pass"}
    globally = SCOPES.format(prod="", data="") + "params: {iam: {key_max_age_days: 600}}\n"
    assert verdicts(tmp_path, globally, "IAM-09")[("IAM-09", "shop-prod")] == {"pass"}


def by_constraint(tmp_path: Path, config: str, scope: str) -> dict[str, str]:
    path = tmp_path / "cw.yaml"
    path.write_text(config)
    args = ["check", "--scenario", str(DEMO_SCENARIO), "--config", str(path), "--format", "json",
            "--control", "ORG-03", "--scope", scope]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return {r["resource"].rsplit("/", 1)[-1]: r["verdict"] for r in json.loads(result.stdout)["results"]}


def test_required_constraints_per_scope_and_global(tmp_path: Path) -> None:
    base = by_constraint(tmp_path, SCOPES.format(prod="", data=""), "shop-prod")
    assert len(base) == 7 and base["compute.requireOsLogin"] == "fail"
    only = "      params: {org: {required_constraints: [constraints/compute.skipDefaultNetworkCreation]}}\n"
    assert by_constraint(tmp_path, SCOPES.format(prod=only, data=""), "shop-prod") == {
        "compute.skipDefaultNetworkCreation": "pass"
    }
    assert by_constraint(tmp_path, SCOPES.format(prod=only, data=""), "data-platform") == {c: "pass" for c in base}
    globally = SCOPES.format(prod="", data="") + "params: {org: {required_constraints: [sql.restrictPublicIp]}}\n"
    assert by_constraint(tmp_path, globally, "data-platform") == {"sql.restrictPublicIp": "pass"}


def test_a_required_constraint_beyond_the_catalogue_is_read_and_judged(tmp_path: Path) -> None:
    custom = "      params: {org: {required_constraints: [constraints/compute.disableSerialPortAccess]}}\n"
    path = tmp_path / "cw.yaml"
    path.write_text(SCOPES.format(prod=custom, data=""))
    args = ["check", "--scenario", str(DEMO_SCENARIO), "--config", str(path), "--format", "json",
            "--control", "ORG-03", "--scope", "shop-prod"]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    [judged] = json.loads(result.stdout)["results"]
    # the demo sets no policy for it: its effective policy enforces nothing (read, not "not collected")
    assert judged["resource"].endswith("/policies/compute.disableSerialPortAccess")
    assert judged["verdict"] == "fail" and "not collected" not in judged["reason"], judged


def test_the_collector_reads_the_catalogue_and_every_required_constraint_once() -> None:
    from checks.kinds import ORG_CONSTRAINTS
    from monitor.config.model import parse_config
    from monitor.run.runtime import constraints_to_read

    text = """
scopes:
  projects:
    - id: shop-prod
      params: {org: {required_constraints: [custom.one, compute.requireOsLogin]}}
  overrides:
    - match: {projects: ["shop-*"]}
      params: {org: {required_constraints: [constraints/custom.two]}}
params: {org: {required_constraints: [constraints/custom.one, custom.three]}}
"""
    read = constraints_to_read(parse_config(text, "cw.yaml"))
    assert read == (*ORG_CONSTRAINTS, "custom.one", "custom.three", "custom.two")
