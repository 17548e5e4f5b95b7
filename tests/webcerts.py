"""Certificates made in the test, with `cryptography`: a CA, a server for 127.0.0.1, clients.

Nothing is shipped or reused between runs: each test gets keys of its own, valid from an
hour ago for a day, so they hold on any date the suite runs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Valid from long before to long after any day the tests run: OpenSSL checks validity against
# the real clock, while the clock-shifted pass (CONTROLWATCH_TEST_CLOCK_SHIFT) moves Python's
# `datetime.now` 400 days ahead, so a window around "now" would be in the future for OpenSSL.
VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2099, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA certificate (PEM): what clients trust, and what the server checks client certificates with
    server: Issued  # for 127.0.0.1 (an IP SAN) and localhost
    client: Issued  # signed by the CA
    stranger: Issued  # a client certificate signed by another CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return Issued(cert_path, key_path)


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], common_name: str, *, server: bool
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        san = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
        )
        builder = builder.add_extension(san, critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_pki(directory: Path) -> Pki:
    """A CA, a server certificate for 127.0.0.1, a client certificate, and one from another CA."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca("controlwatch test CA")
    other = _ca("some other CA")
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca[0].public_bytes(serialization.Encoding.PEM))
    return Pki(
        ca=ca_path,
        server=_write(directory, "server", *_leaf(ca, "127.0.0.1", server=True)),
        client=_write(directory, "prometheus", *_leaf(ca, "prometheus", server=False)),
        stranger=_write(directory, "stranger", *_leaf(other, "stranger", server=False)),
    )


def bcrypt_hash(password: str, cost: int = 4) -> str:
    """A bcrypt hash as `htpasswd -nBC` makes (cost 4, the lowest, keeps the tests quick)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()
