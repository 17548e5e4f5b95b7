"""The start-up log line saying what the evidence ledger's signatures are worth.

The explanation goes in `detail`: the log renderer writes the event name as `message`, so a
`message=` argument would be overwritten and the reader would see a bare event name.
"""

from __future__ import annotations

import structlog

from monitor.evidence import SigningKey

log = structlog.get_logger("controlwatch.evidence")

HOW_TO_SIGN = (
    "to sign for real, set evidence.signing_key_file to your own Ed25519 private key "
    "(e.g. `openssl genpkey -algorithm ed25519 -out evidence.pem`) and give auditors its public half"
)
UNSIGNED = (
    "evidence.signing_key_file is not set: the ledger is hash-chained but no checkpoint is signed, so a "
    "rewrite of the whole chain cannot be told apart (ControlwatchEvidenceCheckpointMissing); " + HOW_TO_SIGN
)
TEST_KEY = (
    "checkpoints are signed with the bundled public TEST key: its private half ships with controlwatch, so "
    "anyone can make the same signatures and they prove nothing about this ledger (fine for the demo); "
    + HOW_TO_SIGN
)


def log_signing_state(key: SigningKey | None) -> None:
    """Warn, once at start-up, when the checkpoints prove nothing: unsigned, or signed with the TEST key."""
    if key is None:
        log.warning("evidence_unsigned", detail=UNSIGNED)
    elif key.test_key:
        log.warning("evidence_test_key", detail=TEST_KEY)
