"""`make run` installs only what the demo needs; `make test`, `lint` and `bench` add the dev extra.

Read with `make -n` (what would run, nothing run) in a copy of the files the stamps depend on,
so the answer does not depend on this checkout's own `.venv`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_ONLY = '-e ".[sandbox]"'
WITH_DEV = '-e ".[sandbox,dev]"'


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "requirements/constraints.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def planned(checkout: Path, target: str) -> str:
    """The commands `make TARGET` would run, one a line."""
    make = require_tool("make")
    # Under `make test` this runs as a sub-make: MAKEFLAGS/MAKELEVEL from the parent would add
    # "Entering directory" lines (and options) to the plan; this make is on its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEFILES")}
    done = subprocess.run(
        [make, "-n", "--no-print-directory", target],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def installs(plan: str) -> list[str]:
    return [line for line in plan.splitlines() if "pip install" in line and "-e " in line]


def stamp(checkout: Path, *names: str) -> None:
    """Mark installs as done, newer than the files they depend on."""
    (checkout / ".venv").mkdir(exist_ok=True)
    later = (checkout / "pyproject.toml").stat().st_mtime + 10
    for name in names:
        (checkout / ".venv" / name).touch()
        os.utime(checkout / ".venv" / name, (later, later))


def test_run_installs_the_runtime_without_the_dev_extra(checkout: Path) -> None:
    plan = planned(checkout, "run")
    assert [RUNTIME_ONLY in line for line in installs(plan)] == [True]
    assert "dev" not in plan and "pytest" not in plan
    assert plan.rstrip().endswith("controlwatch run --demo")


@pytest.mark.parametrize("target", ["test", "lint", "bench"])
def test_the_developer_targets_add_the_dev_extra(checkout: Path, target: str) -> None:
    plan = planned(checkout, target)
    assert [WITH_DEV in line for line in installs(plan)] == [True]
    assert "touch .venv/.installed .venv/.installed-run" in plan  # a full install serves `run` too


def test_after_make_run_the_developer_targets_still_add_the_dev_extra(checkout: Path) -> None:
    stamp(checkout, ".installed-run")
    assert installs(planned(checkout, "run")) == []
    assert [WITH_DEV in line for line in installs(planned(checkout, "lint"))] == [True]


def test_after_a_full_install_make_run_installs_nothing(checkout: Path) -> None:
    stamp(checkout, ".installed", ".installed-run")
    assert installs(planned(checkout, "run")) == [] and installs(planned(checkout, "lint")) == []


def test_what_make_run_installs_is_enough_for_the_daemon() -> None:
    """`monitor/` and `checks/` import nothing only the dev extra installs (a `make run` venv lacks it)."""
    import ast
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    dev_only = {re.split(r"[=<>\[ ]", spec)[0].lower().replace("-", "_") for spec in extras["dev"]}
    assert {"pytest", "selenium", "time_machine"} <= dev_only
    imported = set()
    for path in [*(ROOT / "monitor").rglob("*.py"), *(ROOT / "checks").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {(alias.name.split(".")[0], path.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add((node.module.split(".")[0], path.name))
    assert sorted((module, name) for module, name in imported if module in dev_only) == []
