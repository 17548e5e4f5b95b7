"""Ed25519 keys for checkpoints and prune anchors: load, generate, identify, sign, verify.

Ed25519 because signatures are small and deterministic, verification needs no parameters,
and `cryptography` ships it. A key is named by its `key_id`: the first 16 hex digits of
SHA-256 over the raw 32-byte public key, so a verifier holding several public keys (key
rotation) picks the right one without trusting anything else in the record.

The bundled demo key (`demo-signing-key.pem`) is a TEST key whose private half is public
in this repository: checkpoints signed with it prove nothing. It exists so the demo shows
the whole flow; `SigningKey.test_key` lets the daemon refuse or shout about it in live mode.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from monitor.files import read_regular_file

__all__ = [
    "DEMO_KEY_PATH",
    "TEST_KEY_MARKER",
    "KeyFileError",
    "PublicKeys",
    "SigningKey",
    "demo_key",
    "generate_key",
    "key_id",
    "keyring",
    "load_public_key",
    "load_signing_key",
    "public_key_pem",
    "verify_signature",
]

DEMO_KEY_PATH = Path(__file__).with_name("demo-signing-key.pem")
TEST_KEY_MARKER = "TEST KEY - NOT FOR PRODUCTION"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)
_HEX_KEY = re.compile(rb"^\s*([0-9a-fA-F]{64})\s*$")


class KeyFileError(ValueError):
    """A key file that cannot be used (unreadable, wrong type, not Ed25519)."""


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public(public)).hexdigest()[:16]


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_signature(public: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class SigningKey:
    """A private Ed25519 key with its id; `test_key` is set for keys marked as test keys."""

    def __init__(self, private: Ed25519PrivateKey, *, test_key: bool = False, source: str | None = None) -> None:
        self._private = private
        self.public_key: Ed25519PublicKey = private.public_key()
        self.key_id: str = key_id(self.public_key)
        self.test_key = test_key
        self.source = source

    def sign(self, message: bytes) -> str:
        """Hex Ed25519 signature of `message`."""
        return self._private.sign(message).hex()

    def __repr__(self) -> str:  # never print key material
        marker = ", TEST KEY" if self.test_key else ""
        return f"SigningKey(key_id={self.key_id}{marker})"


def _pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """PEM blocks in a file that may carry comment lines (the demo key's warning) around them."""
    return [(match.group(1).decode("ascii"), match.group(0)) for match in _PEM_BLOCK.finditer(data)]


def load_signing_key(path: str | Path) -> SigningKey:
    """A private key from PKCS#8 PEM, 32 raw bytes, or 64 hex digits (the seed)."""
    path = Path(path)
    try:
        data = read_regular_file(path)  # a FIFO or device is refused, never waited on
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read signing key: {exc.strerror or exc}") from exc
    test = TEST_KEY_MARKER.encode() in data
    blocks = [block for label, block in _pem_blocks(data) if "PRIVATE KEY" in label]
    if blocks:
        try:
            private = serialization.load_pem_private_key(blocks[0], password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"{path}: not a usable unencrypted PEM private key: {exc}") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"{path}: the key is {type(private).__name__}, Ed25519 is required")
        return SigningKey(private, test_key=test, source=str(path))
    seed = _raw_32(data)
    if seed is None:
        raise KeyFileError(f"{path}: expected a PEM Ed25519 private key, 32 raw bytes or 64 hex digits")
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed), test_key=test, source=str(path))


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key from PEM (public, or private: its public half), 32 raw bytes, or 64 hex digits."""
    path = Path(path)
    try:
        data = read_regular_file(path)  # a FIFO or device is refused, never waited on
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read public key: {exc.strerror or exc}") from exc
    for label, block in _pem_blocks(data):
        if label == "PUBLIC KEY":
            try:
                public = serialization.load_pem_public_key(block)
            except ValueError as exc:
                raise KeyFileError(f"{path}: not a usable PEM public key: {exc}") from exc
            if not isinstance(public, Ed25519PublicKey):
                raise KeyFileError(f"{path}: the key is {type(public).__name__}, Ed25519 is required")
            return public
        if "PRIVATE KEY" in label:
            return load_signing_key(path).public_key
    raw = _raw_32(data)
    if raw is None:
        raise KeyFileError(f"{path}: expected a PEM Ed25519 public key, 32 raw bytes or 64 hex digits")
    return Ed25519PublicKey.from_public_bytes(raw)


def _raw_32(data: bytes) -> bytes | None:
    if len(data) == 32:
        return data
    match = _HEX_KEY.match(data)
    return bytes.fromhex(match.group(1).decode("ascii")) if match else None


def generate_key(path: str | Path, *, overwrite: bool = False) -> SigningKey:
    """Create a new key: private PEM at `path` (mode 0600), public PEM at `path` + `.pub`.

    Refuses to overwrite an existing key unless asked: losing a key orphans its checkpoints
    (they stay verifiable only with the published public key).
    """
    path = Path(path)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{path}: a key already exists; refusing to overwrite it") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    key = SigningKey(private, source=str(path))
    Path(f"{path}.pub").write_bytes(public_key_pem(key.public_key))
    return key


def demo_key() -> SigningKey:
    """The bundled TEST key (never for production: its private half is in the repository)."""
    return load_signing_key(DEMO_KEY_PATH)


def keyring(keys: Iterable[Ed25519PublicKey | SigningKey]) -> dict[str, Ed25519PublicKey]:
    """`{key_id: public key}` for `verify_ledger` / `verify_export`."""
    ring: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        public = key.public_key if isinstance(key, SigningKey) else key
        ring[key_id(public)] = public
    return ring


PublicKeys = Mapping[str, Ed25519PublicKey]

TEST_KEY_WARNING = (
    "the signatures were checked with the bundled TEST key, whose private half is public (it ships with "
    "controlwatch): anyone can sign with it, so the signatures prove nothing. Sign with your own key "
    "(evidence.signing_key_file) for evidence that counts"
)


def accepts_test_key(public_keys: PublicKeys | None) -> bool:
    """Whether verifying with `public_keys` accepts what the bundled TEST key signs (then nothing is proven)."""
    return public_keys is not None and demo_key().key_id in public_keys
