"""`controlwatch scopes` (every project found, in or out, and why) and `check` over a discovered estate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.estate import ACTIVE, estate_document
from tests.test_cli import invoke

CONFIG = """\
scopes:
  organization: "4242"
  include: {labels: {env: "*"}}
  exclude: {projects: ["sandbox-*"], folders: ["5504"]}
  projects:
    - id: sandbox-alice
  overrides:
    - match: {labels: {team: shop}}
      disabled_controls: [FW-09]
schedule: {interval: 1h}
disabled_controls: [DRIFT-01, DRIFT-02, DRIFT-03]
"""


def files(tmp_path: Path, config: str = CONFIG) -> tuple[str, str]:
    scenario = tmp_path / "estate.json"
    scenario.write_text(json.dumps(estate_document()))
    path = tmp_path / "cw.yaml"
    path.write_text(config)
    return str(path), str(scenario)


def test_a_scenario_alone_is_discovered_below_its_organisation(tmp_path: Path) -> None:
    _, scenario = files(tmp_path)
    code, out, _ = invoke("scopes", "--scenario", scenario, "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert (document["schema_version"], document["roots"], document["discovered"]) == (1, ["organizations/4242"], True)
    assert document["counts"] == {"watched": len(ACTIVE), "excluded": 1}
    old = next(p for p in document["projects"] if p["project"] == "old-shop")
    assert (old["watched"], old["state"], old["parent"]) == (False, "DELETE_REQUESTED", "folders/5503")
    eu = next(p for p in document["projects"] if p["project"] == "shop-eu-prod")
    assert eu["folders"] == ["folders/5505", "folders/5503", "folders/5501"]
    assert eu["labels"] == {"env": "prod", "team": "shop"}


def test_the_table_says_why_each_project_is_in_or_out(tmp_path: Path) -> None:
    config, scenario = files(tmp_path)
    code, out, _ = invoke("scopes", "--config", config, "--scenario", scenario)
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert rows["sandbox-alice"].split()[1] == "yes" and "listed in scopes.projects" in rows["sandbox-alice"]
    assert rows["data-lab"].split()[1] == "no" and rows["data-lab"].endswith("excluded by exclude.folders 5504")
    assert rows["old-shop"].split()[1:3] == ["no", "DELETE_REQUESTED"]
    assert rows["shop-prod"].split()[1:5] == ["yes", "ACTIVE", "folders/5503", "0"]  # override 0: by label
    assert rows["shop-prod"].endswith("included by include.labels env=*")
    assert out.splitlines()[-1] == "6 watched, 2 left out; discovery below organizations/4242"


def test_a_failed_discovery_shows_the_listed_projects_and_exits_3(tmp_path: Path) -> None:
    config, scenario = files(tmp_path, CONFIG.replace('"4242"', '"4343"'))
    code, out, _ = invoke("scopes", "--config", config, "--scenario", scenario)
    assert code == 3
    assert out.splitlines()[1].split()[:2] == ["sandbox-alice", "yes"]
    assert "DISCOVERY FAILED, only the listed projects are shown" in out
    assert "listing below organizations/4343" in out and "HTTP 403" in out


def test_bad_usage_and_bad_config_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke("scopes")
    assert code == 2 and "pass --config FILE" in err
    config, _ = files(tmp_path, "scopes:\n  organization: organizations/4242\n")
    code, _, err = invoke("scopes", "--config", config)
    assert code == 2 and f"{config}:2: scopes.organization: " in err and "Traceback" not in err


def test_check_judges_every_discovered_project(tmp_path: Path) -> None:
    config, scenario = files(tmp_path)
    code, out, _ = invoke(
        "check", "--config", config, "--scenario", scenario, "--format", "json", "--control", "IAM-01"
    )
    assert code in (0, 1)
    watched = {p for p in ACTIVE if p != "data-lab"}
    assert {r["scope"] for r in json.loads(out)["results"]} == watched
    code, _, err = invoke("check", "--config", config, "--scenario", scenario, "--scope", "data-lab")
    assert code == 2 and "unknown scope data-lab" in err


def test_the_owner_column_says_which_replica_watches_each_project(tmp_path: Path) -> None:
    from monitor.run.shard import owner

    config, scenario = files(tmp_path, CONFIG + "shard: {index: 2, count: 4}\n")
    code, out, _ = invoke("scopes", "--config", config, "--scenario", scenario)
    assert code == 0
    assert out.splitlines()[0].split() == ["PROJECT", "WATCHED", "STATE", "PARENT", "OVERRIDES", "OWNER", "WHY"]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:-1]}
    watched = [p for p, row in rows.items() if row[1] == "yes"]
    assert len(watched) == 6
    for project in watched:
        assert rows[project][5] == str(owner(project, 4))
    assert rows["old-shop"][5] == "-"
    mine = sum(1 for p in watched if owner(p, 4) == 2)
    assert (
        out.splitlines()[-1] == f"6 watched, 2 left out; replica 2 of 4 owns {mine}; discovery below organizations/4242"
    )


def test_shards_shows_the_owners_among_n_replicas_and_statefulset_outside_a_pod_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.run.shard import owner

    monkeypatch.delenv("HOSTNAME", raising=False)
    monkeypatch.delenv("CONTROLWATCH_POD_NAME", raising=False)
    config, scenario = files(tmp_path, CONFIG + "shard: statefulset\n")
    code, _, err = invoke("scopes", "--config", config, "--scenario", scenario)
    assert code == 2 and "neither CONTROLWATCH_POD_NAME nor HOSTNAME is set" in err and "--shards N" in err
    code, out, _ = invoke("scopes", "--config", config, "--scenario", scenario, "--shards", "5", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["shard"] == {"index": 0, "count": 5}
    for entry in document["projects"]:
        assert entry["owner"] == (owner(entry["project"], 5) if entry["watched"] else None)
