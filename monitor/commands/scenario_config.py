"""Which config `check --scenario` judges with when `--config` is not given, and the note saying so.

The daemon judges with its config's params, accepted risks and disabled controls; a scenario
alone gets the defaults, and the results can differ. The bundled demo organisation has its
own config (the one `run --demo` uses), so it is judged with that, as the daemon would.
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

DEFAULTS_NOTE = (
    "note: no --config: judged with the default params, without accepted risks or disabled controls, "
    "unlike a daemon with its config (pass --config FILE to judge as it does)"
)


def is_demo_scenario(path: str) -> bool:
    """`path` is the bundled demo organisation: the installed file however it is spelled, or a copy
    of it (the repository's `monitor/demo/demo-org.yaml` next to an installed package)."""
    from monitor.demo import DEMO_SCENARIO

    try:
        return os.path.samefile(path, DEMO_SCENARIO) or filecmp.cmp(path, DEMO_SCENARIO, shallow=False)
    except OSError:
        return False


def config_for_check(config_path: str | None, scenario_path: str | None) -> tuple[str | None, str | None]:
    """The config `check` should load (the demo's for the demo organisation) and a note for stderr."""
    if config_path or not scenario_path:
        return config_path, None
    if is_demo_scenario(scenario_path):
        from monitor.demo import DEMO_CONFIG

        shown = _shown(DEMO_CONFIG)
        return str(DEMO_CONFIG), f"note: the demo organisation is judged with its config, {shown}, as `run --demo` does"
    return None, DEFAULTS_NOTE


def _shown(path: Path) -> str:
    """`path` relative to the working directory when below it (as the README writes it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
