"""No fixture's verdicts depend on the day the tests run.

Each scenario the repository ships is judged at its own `now` (as `check --scenario` does),
then served moved a year and more ahead — as the demo and the daemon-level tests serve it —
and judged then: every verdict must be the same. A fixture that is fresh only because today
is close to the day it was written fails here today. The same scenarios judged later without
moving them must differ, or this test could not fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from checks import default_registry
from monitor.collect import StuckCalls, make_clients
from monitor.collect.observer import NullObserver
from monitor.commands.common import config_for_scenario, load_config_file
from monitor.config.model import Config
from monitor.demo import DEMO_CONFIG, DEMO_SCENARIO, moved_with_the_estate
from monitor.run.plans import build_plans
from monitor.run.runtime import collect_settings, make_collect
from monitor.run.sweep import run_scope
from monitor.standin import StandIn, load_scenario
from monitor.standin.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
LATER = (timedelta(days=400), timedelta(days=3 * 365 + 17))

Verdicts = dict[tuple[str, str, str, str], tuple[str, bool]]


def _scenario_files() -> Iterator[Path]:
    """Every scenario file in the repository: a YAML/JSON mapping with `now` and `projects`."""
    for folder in ("monitor", "tests", "config", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
                continue
            try:
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, ValueError):  # bad-config fixtures are meant to be bad
                continue
            if isinstance(document, dict) and "now" in document and "projects" in document:
                yield path


SCENARIOS = list(_scenario_files())


def verdicts(
    scenario: Scenario, *, moved_to: datetime | None, judged_at: datetime, config: Config | None = None
) -> Verdicts:
    """Every non-DRIFT verdict (and whether an accepted risk excepts it) of every project, the
    estate served as written or moved to `moved_to`."""
    config = config or config_for_scenario(scenario)
    found: Verdicts = {}
    with StandIn(scenario, shift_time=moved_to is not None, clock=lambda: moved_to or judged_at) as server:
        config = config.model_copy(update={"gcp": config.gcp.model_copy(update={"api_endpoint": server.url})})
        collect = make_collect(make_clients(server.url), collect_settings(config), StuckCalls(), fixed_now=judged_at)
        for scope, plan in build_plans(config, default_registry()).items():
            plan = replace(plan, controls=tuple(c for c in plan.controls if c.meta.area.value != "drift"))
            run = run_scope(plan, collect, NullObserver(), now=judged_at)
            for results in run.results.values():
                for r in results:
                    found[(r.control, scope, r.resource, r.subject)] = (r.verdict.value, r.excepted)
    return found


def test_the_repository_ships_scenarios() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"demo-org.yaml", "scenario-minimal.json"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[str(p.relative_to(ROOT)) for p in SCENARIOS])
@pytest.mark.parametrize("later", LATER, ids=["400d", "3y"])
def test_verdicts_do_not_depend_on_the_day_they_are_judged(path: Path, later: timedelta) -> None:
    scenario = load_scenario(path)
    as_written = verdicts(scenario, moved_to=None, judged_at=scenario.now)
    moved = verdicts(scenario, moved_to=scenario.now + later, judged_at=scenario.now + later)
    assert moved == as_written


def test_the_demo_judged_later_without_moving_it_is_caught() -> None:
    """What the test above guards against: the demo's backups age with the calendar."""
    scenario = load_scenario(ROOT / "monitor" / "demo" / "demo-org.yaml")
    as_written = verdicts(scenario, moved_to=None, judged_at=scenario.now)
    stale = verdicts(scenario, moved_to=None, judged_at=scenario.now + LATER[0])
    changed = {key[:2] for key in as_written if stale.get(key) != as_written[key]}
    assert ("BKP-02", "ledger-clean") in changed


@pytest.mark.parametrize("later", LATER, ids=["400d", "3y"])
def test_the_demo_with_its_config_and_accepted_risk_is_the_same_on_any_date(later: timedelta) -> None:
    """`run --demo` moves the estate and the accepted risks' expiries together."""
    scenario = load_scenario(DEMO_SCENARIO)
    config = load_config_file(DEMO_CONFIG)
    as_written = verdicts(scenario, moved_to=None, judged_at=scenario.now, config=config)
    assert any(excepted for _, excepted in as_written.values()), "the demo plants an accepted risk"
    when = scenario.now + later
    moved = moved_with_the_estate(config, scenario.now, when)
    assert verdicts(scenario, moved_to=when, judged_at=when, config=moved) == as_written
    # Without moving the config, the waiver lapses on its calendar day: what the above guards against.
    assert verdicts(scenario, moved_to=when, judged_at=when, config=config) != as_written
