"""Signed statements: how checkpoints and prune anchors are signed and checked, once.

A statement is a frozen dataclass whose last two fields are `key_id` and `signature`.
What is signed (Ed25519, by the key named by `key_id`) is the RFC 8785 canonical JSON of
its other fields plus `"statement": STATEMENT`, the type's domain string, e.g.

    {"head_hash":"…","key_id":"…","seq":41,"statement":"controlwatch-evidence/checkpoint/v1","time":"…"}

Those fields are ASCII strings and integers below 2^53, for which RFC 8785 and the
format-1 encoding write the same bytes: statements signed before RFC 8785 verify as
they are, so neither domain string changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, asdict, replace
from typing import Any, ClassVar, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from monitor.evidence.canonical import canonical_bytes
from monitor.evidence.signing import SigningKey, verify_signature

__all__ = ["SignedStatement"]


class SignedStatement:
    """Base of the signed dataclasses (mixed in, so their field order stays their own)."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    STATEMENT: ClassVar[str]
    """The domain string signed with the fields, so one kind of statement never passes for another."""
    NAME: ClassVar[str] = ""
    """Leads its problems (`prune anchor signed by unknown key id …`); checkpoint callers name theirs."""

    key_id: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        """The fields, signature included: the body of its record."""
        return asdict(self)

    def statement(self) -> bytes:
        """The bytes the signature is over."""
        fields = self.to_json()
        del fields["signature"]
        return canonical_bytes({"statement": self.STATEMENT, **fields})

    def signed_with(self, key: SigningKey) -> Self:
        """This statement with `key`'s id, signed by it."""
        unsigned = replace(self, key_id=key.key_id, signature="")
        return replace(unsigned, signature=key.sign(unsigned.statement()))

    def check_signature(self, public_keys: Mapping[str, Ed25519PublicKey]) -> str | None:
        """None if validly signed by a key in `public_keys`, else why not."""
        prefix = f"{self.NAME} " if self.NAME else ""
        public = public_keys.get(self.key_id)
        if public is None:
            return f"{prefix}signed by unknown key id {self.key_id}"
        try:
            message = self.statement()
        except (TypeError, ValueError) as exc:  # e.g. a number no double holds: nothing was signed
            return f"{prefix}statement cannot be encoded: {exc}"
        if not verify_signature(public, message, self.signature):
            return f"{prefix}signature does not verify with key {self.key_id}"
        return None
