"""`check --scenario` without `--config`: the demo organisation is judged with the demo's config (as
`run --demo` is), any other scenario with the defaults, and stderr says which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from monitor.commands.scenario_config import DEFAULTS_NOTE
from monitor.demo import DEMO_SCENARIO
from tests.test_cli import invoke, scenario

#: the demo config's accepted risk: FW-09 on web-1 (monitor/demo/demo-config.yaml)
WEB_1 = "//compute.googleapis.com/projects/shop-prod/zones/europe-west1-b/instances/web-1"


def web_1_excepted(*args: str) -> tuple[bool, str]:
    code, out, err = invoke("check", *args, "--control", "FW-09", "--scope", "shop-prod", "--format", "json")
    assert code in (0, 1), err
    [result] = [r for r in json.loads(out)["results"] if r["resource"] == WEB_1]
    assert result["verdict"] == "fail"
    return bool(result["excepted"]), err


def test_the_demo_organisation_is_judged_with_the_demo_config(tmp_path: Path) -> None:
    excepted, err = web_1_excepted("--scenario", str(DEMO_SCENARIO))
    assert excepted and "demo-config.yaml" in err and "as `run --demo` does" in err
    copy = shutil.copy(DEMO_SCENARIO, tmp_path / "demo-org.yaml")  # the repository's file beside an installed package
    assert web_1_excepted("--scenario", str(copy))[0]


def test_an_explicit_config_wins_and_needs_no_note(tmp_path: Path) -> None:
    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: shop-prod}]}\n")
    excepted, err = web_1_excepted("--scenario", str(DEMO_SCENARIO), "--config", str(config))
    assert not excepted and err == ""


def test_another_scenario_alone_says_it_is_judged_with_the_defaults(tmp_path: Path) -> None:
    path = str(scenario(tmp_path))
    code, out, err = invoke("check", "--scenario", path, "--format", "json", "--control", "FW-01")
    assert code == 1 and json.loads(out)["results"]
    assert err.strip() == DEFAULTS_NOTE and "--config FILE" in err
