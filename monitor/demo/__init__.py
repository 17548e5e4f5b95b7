"""The bundled demo organisation that `controlwatch run --demo` serves through the stand-in.

`DEMO_SCENARIO` is a scenario file (README, "The local GCP stand-in and scenario files"): four projects with a
planted failure for every control, passing edge cases, and one project (`ledger-clean`)
that passes everything; its comments say which resource trips which control.
`DEMO_CONFIG` is the configuration the demo daemon runs with.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

DEMO_SCENARIO: Path = _HERE / "demo-org.yaml"
DEMO_CONFIG: Path = _HERE / "demo-config.yaml"

__all__ = ["DEMO_CONFIG", "DEMO_SCENARIO"]
