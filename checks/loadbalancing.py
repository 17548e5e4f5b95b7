"""LOG-11: the external Application Load Balancers log their requests, judged per backend service.

Logging is a backend-service setting (`logConfig`), so the unit is the backend service of an
external HTTP(S) load balancer: `loadBalancingScheme` EXTERNAL (classic) or EXTERNAL_MANAGED,
with an HTTP-family `protocol`. Other backend services (internal, TCP/SSL/UDP proxies and
passthroughs, Traffic Director) are outside CIS 2.16 and get no result.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.kernel import JSON, Judgement, Unjudgeable, per_resource
from checks.model import Area, Finding, Severity, Verdict
from checks.params import Params
from checks.registry import References, control
from checks.rules.network import flag, obj
from checks.snapshot import Kind, Snapshot

_EXTERNAL = frozenset({"EXTERNAL", "EXTERNAL_MANAGED"})
_SCHEMES = frozenset(
    {*_EXTERNAL, "EXTERNAL_PASSTHROUGH", "INTERNAL", "INTERNAL_MANAGED", "INTERNAL_SELF_MANAGED",
     "INVALID_LOAD_BALANCING_SCHEME"}
)  # fmt: skip
_HTTP = frozenset({"HTTP", "HTTPS", "HTTP2", "H2C"})
_PROTOCOLS = frozenset({*_HTTP, "GRPC", "SSL", "TCP", "UDP", "UNSPECIFIED"})


def _named(service: JSON, key: str, known: frozenset[str]) -> str:
    value = service.get(key)
    if value is None:
        raise Unjudgeable(key, "absent: a listed backend service always names it")
    if not isinstance(value, str) or value not in known:
        raise Unjudgeable(key, f"unknown value {value!r}")
    return value


def judge_lb_logging(service: JSON, who: str) -> Judgement | None:
    """Fails an external HTTP(S) backend service whose `logConfig.enable` is not true, or whose
    `logConfig.sampleRate` is 0 (nothing reported); None for a backend service of another kind."""
    scheme = _named(service, "loadBalancingScheme", _SCHEMES)
    protocol = _named(service, "protocol", _PROTOCOLS)
    if scheme not in _EXTERNAL or protocol not in _HTTP:
        return None
    config = obj(service, "logConfig")
    rate = config.get("sampleRate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise Unjudgeable("logConfig.sampleRate", f"{rate!r} is not a number in [0, 1]")
    what = f"{who} ({scheme}, {protocol})"
    if not flag(config, "enable", "logConfig.enable"):
        if "enable" in config:
            state = "logConfig.enable: false"
        else:
            state = f"{'logConfig.enable' if 'logConfig' in service else 'logConfig'} absent: off by default"
        return Judgement(Verdict.FAIL, f"{what} does not log requests ({state})")
    said = f"logConfig.sampleRate: {rate}" if "sampleRate" in config else "logConfig.sampleRate absent: 1.0 by default"
    if rate == 0:
        return Judgement(Verdict.FAIL, f"{what} has logConfig.enable: true but {said}, so no request is logged")
    return Judgement(Verdict.PASS, f"{what} logs requests (logConfig.enable: true, {said})")


@control(
    id="LOG-11", title="HTTP(S) load balancers log their requests", area=Area.LOG, severity=Severity.MEDIUM,
    kinds=(Kind.BACKEND_SERVICES,), unit="backend service",
    # Security Health Analytics has no finding for load-balancer logging: no SCC category.
    references=References(cis=(("4.0", "2.16"), ("5.0", "2.17")), soc2=("CC7.2",)),
    rationale="An external Application Load Balancer is where the internet meets the web tier: its request "
    "logs (client address, URL, status, latency, the backend that answered) are what shows an attack on "
    "the application, a scan or a data scrape, and what reconstructs it afterwards. Logging is off by "
    "default and set per backend service; a sample rate of 0 logs nothing although logging reads as on. "
    "CIS leaves the sample rate to the organisation: any rate above 0 passes, and the result names it.",
    remediation="Turn request logging on for the backend service: `gcloud compute backend-services update "
    "SERVICE --global --enable-logging --logging-sample-rate=1.0` (a regional one: `--region=REGION` "
    "instead of `--global`).",
    holds="The backend service of an external HTTP(S) load balancer logs its requests.",
    logic="Each backend service of the aggregated listing (global and regional) is judged alone. In scope: "
    "`loadBalancingScheme` EXTERNAL or EXTERNAL_MANAGED with `protocol` HTTP, HTTPS, HTTP2 or H2C; any "
    "other backend service gets no result. It passes when `logConfig.enable` is true (absent: false) and "
    "`logConfig.sampleRate` (absent: 1.0) is above 0; a sampleRate of 0 fails, as nothing is logged.",
    unknown="`error` for the backend service when `loadBalancingScheme` or `protocol` is absent or not one of "
    "the API's values, `logConfig` is not an object, `logConfig.enable` is not a boolean, or "
    "`logConfig.sampleRate` is not a number in [0, 1]; `error` for every one when the listing cannot be read.",
)
def log11_lb_logging(snapshot: Snapshot, params: Params) -> Iterator[Finding]:
    """Fails each external HTTP(S) backend service that does not log its requests, per backend service."""
    return per_resource(
        snapshot.get(Kind.BACKEND_SERVICES), snapshot.scope, "backendServices", "backend service", judge_lb_logging
    )
