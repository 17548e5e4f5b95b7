"""Keys and checkpoints: formats, key ids, the loud demo key, and when a checkpoint is written."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from monitor.evidence import (
    DEMO_KEY_PATH,
    Checkpoint,
    Checkpointer,
    KeyFileError,
    Ledger,
    PruneAnchor,
    SigningKey,
    demo_key,
    generate_key,
    key_id,
    load_public_key,
    load_signing_key,
)
from monitor.evidence.checkpoint import sign_checkpoint
from monitor.evidence.signing import raw_public
from tests.evidence.conftest import T0


def test_generate_key_writes_a_private_pem_and_its_public_half(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "evidence.pem"
    key = generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert load_signing_key(path).key_id == key.key_id
    assert key_id(load_public_key(f"{path}.pub")) == key.key_id
    assert key_id(load_public_key(path)) == key.key_id  # the public half of a private key file
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        generate_key(path)
    assert not key.test_key
    assert "PRIVATE" not in repr(key) and key.key_id in repr(key)


def test_key_id_is_the_start_of_the_public_keys_sha256(key: SigningKey) -> None:
    assert key.key_id == hashlib.sha256(raw_public(key.public_key)).hexdigest()[:16]


def test_raw_and_hex_key_files(tmp_path: Path, key: SigningKey) -> None:
    seed = bytes(range(32))
    (tmp_path / "raw").write_bytes(seed)
    (tmp_path / "hex").write_text(seed.hex() + "\n")
    assert load_signing_key(tmp_path / "raw").key_id == load_signing_key(tmp_path / "hex").key_id
    (tmp_path / "pub").write_bytes(raw_public(key.public_key))
    assert key_id(load_public_key(tmp_path / "pub")) == key.key_id


def test_unusable_key_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "rsa.pem").write_bytes(rsa_pem)
    with pytest.raises(KeyFileError, match="Ed25519 is required"):
        load_signing_key(tmp_path / "rsa.pem")
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(KeyFileError, match="expected a PEM Ed25519 private key"):
        load_signing_key(tmp_path / "junk")
    with pytest.raises(KeyFileError, match="cannot read"):
        load_signing_key(tmp_path / "absent.pem")


def test_the_demo_key_says_loudly_that_it_is_a_test_key() -> None:
    text = DEMO_KEY_PATH.read_text()
    assert text.startswith("# TEST KEY - NOT FOR PRODUCTION")
    assert "ANYONE can forge" in text
    key = demo_key()
    assert key.test_key and "TEST KEY" in repr(key)


def test_a_checkpoint_signs_its_predecessor(ledger: Ledger, key: SigningKey) -> None:
    head = ledger.append("daemon_start", {}, time=T0)
    record = Checkpointer(ledger, key).checkpoint(T0 + timedelta(minutes=1))
    assert record is not None and record.kind == "checkpoint" and record.seq == 2
    checkpoint = Checkpoint.from_json(record.data)
    assert (checkpoint.seq, checkpoint.head_hash, checkpoint.key_id) == (1, head.hash, key.key_id)
    assert checkpoint.time == record.time
    assert checkpoint.check_signature({key.key_id: key.public_key}) is None
    forged = Checkpoint(checkpoint.seq, "0" * 64, checkpoint.time, checkpoint.key_id, checkpoint.signature)
    assert "does not verify" in str(forged.check_signature({key.key_id: key.public_key}))


def test_checkpoints_follow_the_interval(ledger: Ledger, key: SigningKey) -> None:
    checkpointer = Checkpointer(ledger, key)
    hour = timedelta(hours=1)
    assert checkpointer.maybe_checkpoint(T0, hour) is None  # nothing to sign yet
    ledger.append("daemon_start", {}, time=T0)
    assert checkpointer.maybe_checkpoint(T0, hour) is not None  # the first one right away
    assert checkpointer.maybe_checkpoint(T0 + hour, hour) is None  # the head is a checkpoint already
    ledger.append("control_run", {"control": "FW-01", "scope": "p"}, time=T0 + timedelta(minutes=5))
    assert checkpointer.maybe_checkpoint(T0 + timedelta(minutes=59), hour) is None
    assert checkpointer.maybe_checkpoint(T0 + hour, hour) is not None
    assert checkpointer.last_checkpoint_time() == T0 + hour


def test_malformed_checkpoint_bodies_are_named() -> None:
    with pytest.raises(ValueError, match="lacks 'signature'"):
        Checkpoint.from_json(
            {"seq": 1, "head_hash": "0" * 64, "time": "2026-03-02T00:00:00.000000Z", "key_id": "0" * 16}
        )
    with pytest.raises(ValueError, match="not an integer"):
        Checkpoint.from_json(
            {"seq": "1", "head_hash": "0" * 64, "time": "x", "key_id": "0" * 16, "signature": "0" * 128}
        )


def test_checkpoints_and_prune_anchors_sign_their_documented_statements(key: SigningKey) -> None:
    """One base signs both: RFC 8785 of the fields but the signature, plus the statement's domain string."""
    time = "2026-03-02T00:00:00.000000Z"
    checkpoint = sign_checkpoint(key, 41, "ab" * 32, time)
    assert checkpoint.statement() == (
        f'{{"head_hash":"{"ab" * 32}","key_id":"{key.key_id}","seq":41,'
        f'"statement":"controlwatch-evidence/checkpoint/v1","time":"{time}"}}'
    ).encode()
    key.public_key.verify(bytes.fromhex(checkpoint.signature), checkpoint.statement())  # raises if it does not
    assert list(checkpoint.to_json().items()) == [
        ("seq", 41),
        ("head_hash", "ab" * 32),
        ("time", time),
        ("key_id", key.key_id),
        ("signature", checkpoint.signature),
    ]
    anchor = PruneAnchor(22, "cd" * 32, time, time, "", "").signed_with(key)
    assert anchor.key_id == key.key_id
    assert anchor.statement() == (
        f'{{"cutoff":"{time}","key_id":"{key.key_id}","pruned_hash":"{"cd" * 32}","pruned_through":22,'
        f'"statement":"controlwatch-evidence/prune-anchor/v1","time":"{time}"}}'
    ).encode()
    ring = {key.key_id: key.public_key}
    assert anchor.check_signature(ring) is None
    assert PruneAnchor.from_json(anchor.to_json()) == anchor
    moved = replace(anchor, pruned_through=21)
    assert moved.check_signature(ring) == f"prune anchor signature does not verify with key {key.key_id}"
    assert anchor.check_signature({}) == f"prune anchor signed by unknown key id {key.key_id}"
    assert checkpoint.check_signature({}) == f"signed by unknown key id {key.key_id}"
