"""The metrics port's web config file, in Prometheus exporter-toolkit's format.

Operators who protect node_exporter or Prometheus already write this file (and check it with
`promtool check web-config`), so `metrics.web_config_file` takes the same one: TLS with
optional client certificates (`tls_server_config`), extra response headers
(`http_server_config`) and basic auth with bcrypt hashes (`basic_auth_users`). Relative paths
are resolved against the file's own directory, as exporter-toolkit does. Every problem is one
`FILE:LINE: KEY.PATH: reason` line, like the main config's; the few exporter-toolkit keys
controlwatch cannot honour are refused by name rather than silently ignored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ValidationError, ValidationInfo, model_validator

from monitor.config.errors import reason
from monitor.config.grammar import Frozen
from monitor.config.model import ConfigError
from monitor.config.yaml_source import Problem, SourceError, parse_yaml, read_source
from monitor.files import NotRegularFileError, read_regular_file

__all__ = [
    "CIPHER_SUITES",
    "ClientAuth",
    "HttpServerConfig",
    "TlsServerConfig",
    "WebConfig",
    "WebConfigError",
    "load_web_config",
]

ClientAuth = Literal[
    "NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"
]
TlsVersionName = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
VERIFYING = ("RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert")

# Go's names of the TLS 1.2 suites it calls secure, and OpenSSL's names for them. TLS 1.3
# suites are accepted (Go lists them too) but, as in Go, they are not configurable.
CIPHER_SUITES = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}
# exporter-toolkit lets only these response headers be set; a `None` value list means any value.
_HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
_BCRYPT = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
_HASH_HELP = "generate one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'"


class WebConfigError(ConfigError):
    """A web config file that must not be used; one `FILE:LINE: KEY.PATH: reason` line per problem."""


def _unsupported(why: str) -> BeforeValidator:
    """An exporter-toolkit key controlwatch cannot honour: refused by name, never ignored."""

    def refuse(value: object) -> None:
        raise ValueError(f"not supported by controlwatch ({why})")

    return BeforeValidator(refuse)


def _readable_file(value: Path, info: ValidationInfo) -> Path:
    """Resolved against the web config's directory, and readable now: a typo fails the start."""
    base = (info.context or {}).get("base")
    path = value if value.is_absolute() or not isinstance(base, Path) else base / value
    try:
        read_regular_file(path, 1)
    except NotRegularFileError as exc:
        raise ValueError(f"{path}: {exc.strerror}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return path


def _not_blank(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def _cipher(value: str) -> str:
    if value not in CIPHER_SUITES:
        raise ValueError(f"unknown cipher suite {value!r} (Go's names, e.g. 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')")
    return value


def _user(value: str) -> str:
    if not value or ":" in value:
        raise ValueError(f"{value!r} is not a basic auth user name (not empty, no ':')")
    return value


def _bcrypt_hash(value: object) -> str:
    match = _BCRYPT.match(value) if isinstance(value, str) else None
    if match is None or not 4 <= int(match.group(1)) <= 31:
        raise ValueError(f"not a bcrypt hash ($2y$10$ and 53 characters); {_HASH_HELP}")
    return str(value)


def _headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if name not in _HEADERS:
            raise ValueError(f"header {name!r} cannot be set (allowed: {', '.join(_HEADERS)})")
        allowed = _HEADERS[name]
        if allowed is not None and text not in allowed:
            raise ValueError(f"header {name!r} must be {' or '.join(repr(a) for a in allowed)}, got {text!r}")
        if "\r" in text or "\n" in text:
            raise ValueError(f"header {name!r}: no line breaks in a value")
    return value


CertFile = Annotated[Path, BeforeValidator(_not_blank), AfterValidator(_readable_file)]
CipherName = Annotated[str, AfterValidator(_cipher)]
UserName = Annotated[str, AfterValidator(_user)]
BcryptHash = Annotated[str, BeforeValidator(_bcrypt_hash)]


class TlsServerConfig(Frozen):
    """`tls_server_config`: present means TLS on every route, so the certificate and key are required."""

    cert_file: CertFile | None = None
    key_file: CertFile | None = None
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: CertFile | None = None
    min_version: TlsVersionName = "TLS12"
    max_version: TlsVersionName = "TLS13"
    cipher_suites: tuple[CipherName, ...] = ()
    prefer_server_cipher_suites: bool = True
    cert: Annotated[Any, _unsupported("give the certificate as cert_file")] = None
    key: Annotated[Any, _unsupported("give the key as key_file")] = None
    client_ca: Annotated[Any, _unsupported("give the CA as client_ca_file")] = None
    curve_preferences: Annotated[Any, _unsupported("OpenSSL's defaults apply")] = None
    client_allowed_sans: Annotated[Any, _unsupported("any certificate the client CA signed is accepted")] = None

    @model_validator(mode="after")
    def _complete(self) -> TlsServerConfig:
        missing = [name for name in ("cert_file", "key_file") if getattr(self, name) is None]
        if missing:
            raise ValueError(f"TLS needs {' and '.join(missing)} (the server's certificate and private key)")
        if self.client_ca_file is not None and self.client_auth_type == "NoClientCert":
            raise ValueError("client_ca_file is set but client_auth_type is NoClientCert: no client is asked for one")
        if self.client_auth_type in VERIFYING and self.client_ca_file is None:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file to verify certificates")
        if self.min_version > self.max_version:
            raise ValueError(f"min_version {self.min_version} is above max_version {self.max_version}")
        return self


class HttpServerConfig(Frozen):
    """`http_server_config`: `http2` is accepted for compatibility; controlwatch speaks HTTP/1.x."""

    http2: bool = True
    headers: Annotated[dict[str, str], AfterValidator(_headers)] = {}


class WebConfig(Frozen):
    """The whole file; every section is optional (an empty file protects nothing)."""

    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = HttpServerConfig()
    basic_auth_users: dict[UserName, BcryptHash] = {}
    rate_limit: Annotated[Any, _unsupported("the port bounds its connections itself")] = None

    @property
    def tls(self) -> bool:
        return self.tls_server_config is not None

    @property
    def basic_auth(self) -> bool:
        return bool(self.basic_auth_users)


def load_web_config(path: str | os.PathLike[str]) -> WebConfig:
    """Read and validate the file at `path`; `WebConfigError` (never anything else) when unusable."""
    source = str(path)
    try:
        document = parse_yaml(read_source(Path(path)), source)
    except SourceError as exc:
        raise WebConfigError(exc.problems) from None
    if document.data is None:
        return WebConfig()
    if not isinstance(document.data, dict):
        reason_ = "the top level must be a mapping (tls_server_config:, basic_auth_users:, ...)"
        raise WebConfigError([Problem(source, reason_, document.line_of(()))])
    try:
        return WebConfig.model_validate(document.data, context={"base": Path(path).parent})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if part != "[key]")
            problems.append(Problem(source, reason(error, WebConfig), document.line_of(loc), loc=loc))
        raise WebConfigError(problems) from None
