"""The evidence ledger: hash-chained, signed, prunable, exportable records of every control run.

What the chain proves, and what it does not (say this to auditors as plainly as here):
- Every record is linked to the one before it by SHA-256, and the head is signed with an
  Ed25519 key at every checkpoint. Changing, deleting, inserting or reordering a record
  anywhere before the last checkpoint is detected by `verify_ledger`, which names the
  first bad record; so is a consistent rewrite of the chain by anyone without the key.
- Records after the last checkpoint are not yet anchored: they can be removed or
  forged at the tail without a trace in the file itself. Truncating the tail together
  with its last checkpoints is only detectable against a checkpoint kept elsewhere.
- A key on the writer's host does not stop that host's administrator, who can rewrite
  and re-sign everything. The copy in a locked Cloud Logging bucket does, as do
  checkpoints and exports handed to auditors.

Modules: `canonical` and `records` (the exact bytes hashed), `ledger` (SQLite storage),
`bodies` (record bodies), `signing`, `statement` and `checkpoint` (keys and signed heads),
`verify`, `retained` and `findings`, `prune`, `export` and `export_verify`, `sample`, `summary`,
`losses` (the `evidence_lost` tally of failed appends), `repeats` (runs equal to the previous
one written as references) and `references` (reading those back, and checking them),
`failing` (the resources found failing, with their records) and `soc2` (the period by
Trust Services Criterion).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from monitor.evidence.checkpoint import Checkpoint, Checkpointer
from monitor.evidence.export import ExportResult, export
from monitor.evidence.export_verify import checkpoints_in_export, verify_export
from monitor.evidence.findings import Problem, Report
from monitor.evidence.ledger import Ledger, LedgerError
from monitor.evidence.prune import PruneAnchor, PruneResult, prune
from monitor.evidence.records import GENESIS, KINDS, Record
from monitor.evidence.sample import Sample, sample
from monitor.evidence.signing import (
    DEMO_KEY_PATH,
    KeyFileError,
    SigningKey,
    demo_key,
    generate_key,
    key_id,
    keyring,
    load_public_key,
    load_signing_key,
)
from monitor.evidence.verify import verify_ledger

if TYPE_CHECKING:
    from monitor.evidence.bodies import (
        baseline_approved_body,
        bodies_from_run,
        config_reload_body,
        control_run_body,
        daemon_start_body,
        daemon_stop_body,
        digest,
        exceptions_changed_body,
        input_digest,
        run_skipped_body,
        sweep_population_body,
    )
    from monitor.evidence.summary import Summary, summarize

# `bodies` and `summary` are imported on first use (PEP 562): they pull in `checks` and so
# pydantic, which the daemon's writer, `verify` and the crash test's child do not need.
# The rest is imported now, which also keeps `export`, `prune` and `sample` bound to the
# functions rather than to their same-named submodules.
_LAZY: dict[str, str] = {
    "baseline_approved_body": "monitor.evidence.bodies",
    "bodies_from_run": "monitor.evidence.bodies",
    "config_reload_body": "monitor.evidence.bodies",
    "control_run_body": "monitor.evidence.bodies",
    "daemon_start_body": "monitor.evidence.bodies",
    "daemon_stop_body": "monitor.evidence.bodies",
    "digest": "monitor.evidence.bodies",
    "exceptions_changed_body": "monitor.evidence.bodies",
    "input_digest": "monitor.evidence.bodies",
    "run_skipped_body": "monitor.evidence.bodies",
    "sweep_population_body": "monitor.evidence.bodies",
    "Summary": "monitor.evidence.summary",
    "summarize": "monitor.evidence.summary",
}

__all__ = [
    "Checkpoint",
    "Checkpointer",
    "DEMO_KEY_PATH",
    "ExportResult",
    "GENESIS",
    "KINDS",
    "KeyFileError",
    "Ledger",
    "LedgerError",
    "Problem",
    "PruneAnchor",
    "PruneResult",
    "Record",
    "Report",
    "Sample",
    "SigningKey",
    "Summary",
    "baseline_approved_body",
    "bodies_from_run",
    "checkpoints_in_export",
    "config_reload_body",
    "control_run_body",
    "daemon_start_body",
    "daemon_stop_body",
    "demo_key",
    "digest",
    "exceptions_changed_body",
    "export",
    "generate_key",
    "input_digest",
    "key_id",
    "keyring",
    "load_public_key",
    "load_signing_key",
    "prune",
    "run_skipped_body",
    "sample",
    "summarize",
    "sweep_population_body",
    "verify_export",
    "verify_ledger",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
