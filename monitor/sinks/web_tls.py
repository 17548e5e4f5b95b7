"""The metrics port's TLS: an `ssl.SSLContext` built from the web config's `tls_server_config`.

Built once per (re)load, so a certificate and key that do not match, or a CA file holding
no certificate, fail the start (or the reload) with the key and file named, instead of
failing every handshake later. Client certificates map onto OpenSSL's verify modes: Go's
`RequestClientCert` asks for a certificate it never checks, which for a server that does
not use the client's identity is the same as not asking; `RequireAnyClientCert` cannot
accept an unverified certificate in Python's `ssl`, so it verifies against `client_ca_file`
(stricter than Go; the web config requires the CA for it).
"""

from __future__ import annotations

import ssl

from monitor.config.web_config import CIPHER_SUITES, TlsServerConfig, WebConfigError
from monitor.config.yaml_source import Problem

__all__ = ["server_context"]

_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_VERIFY = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_NONE,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


def server_context(tls: TlsServerConfig, source: str) -> ssl.SSLContext:
    """The server side of every connection; `WebConfigError` naming the key when a file will not load."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[tls.min_version]
    context.maximum_version = _VERSIONS[tls.max_version]
    context.set_alpn_protocols(["http/1.1"])  # no HTTP/2 here: a client offering h2 falls back
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    assert tls.cert_file is not None and tls.key_file is not None  # the model requires them
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (ssl.SSLError, OSError) as exc:
        what = f"{tls.cert_file} and {tls.key_file}: not a PEM certificate and its private key ({_why(exc)})"
        raise _error(source, "cert_file", what) from None
    context.verify_mode = _VERIFY[tls.client_auth_type]
    if tls.client_ca_file is not None:
        try:
            context.load_verify_locations(cafile=tls.client_ca_file)
        except (ssl.SSLError, OSError) as exc:
            what = f"{tls.client_ca_file}: no PEM CA certificate ({_why(exc)})"
            raise _error(source, "client_ca_file", what) from None
    suites = [CIPHER_SUITES[name] for name in tls.cipher_suites if CIPHER_SUITES[name]]
    if suites:
        try:
            context.set_ciphers(":".join(suites))
        except ssl.SSLError as exc:
            raise _error(source, "cipher_suites", f"OpenSSL accepts none of them ({_why(exc)})") from None
    return context


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _error(source: str, key: str, message: str) -> WebConfigError:
    return WebConfigError([Problem(source, message, loc=("tls_server_config", key))])
