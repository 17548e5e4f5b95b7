"""LOG-11 (HTTP(S) load balancers log their requests): one row per case, each backend service
in the Compute REST shape."""

from __future__ import annotations

from typing import Any

import pytest

from checks import default_registry, loadbalancing
from checks.kinds import Kind
from checks.model import Verdict
from checks.params import Params
from tests.builders import make_snapshot

PROJECT = "https://www.googleapis.com/compute/v1/projects/shop-prod/"
PASS, FAIL, ERROR = Verdict.PASS, Verdict.FAIL, Verdict.ERROR
WEB = {"loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS"}
WHO = "backend service web (EXTERNAL_MANAGED, HTTPS)"

LOG11: dict[str, tuple[dict[str, Any], Verdict | None, str]] = {
    "logs-all": ({**WEB, "logConfig": {"enable": True, "sampleRate": 1}}, PASS,
                 f"{WHO} logs requests (logConfig.enable: true, logConfig.sampleRate: 1)"),
    "rate-default": ({**WEB, "logConfig": {"enable": True}}, PASS,
                     f"{WHO} logs requests (logConfig.enable: true, logConfig.sampleRate absent: 1.0 by default)"),
    "sampled": ({**WEB, "logConfig": {"enable": True, "sampleRate": 0.1}}, PASS,
                f"{WHO} logs requests (logConfig.enable: true, logConfig.sampleRate: 0.1)"),
    "classic": ({"loadBalancingScheme": "EXTERNAL", "protocol": "HTTP", "logConfig": {"enable": True}}, PASS,
                "backend service web (EXTERNAL, HTTP) logs requests (logConfig.enable: true, logConfig.sampleRate "
                "absent: 1.0 by default)"),
    "http2": ({"loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTP2"}, FAIL,
              "backend service web (EXTERNAL_MANAGED, HTTP2) does not log requests (logConfig absent: off by "
              "default)"),
    "no-config": (WEB, FAIL, f"{WHO} does not log requests (logConfig absent: off by default)"),
    "off": ({**WEB, "logConfig": {"enable": False, "sampleRate": 1}}, FAIL,
            f"{WHO} does not log requests (logConfig.enable: false)"),
    "enable-absent": ({**WEB, "logConfig": {"sampleRate": 1}}, FAIL,
                      f"{WHO} does not log requests (logConfig.enable absent: off by default)"),
    "rate-zero": ({**WEB, "logConfig": {"enable": True, "sampleRate": 0}}, FAIL,
                  f"{WHO} has logConfig.enable: true but logConfig.sampleRate: 0, so no request is logged"),
    "internal-alb": ({"loadBalancingScheme": "INTERNAL_MANAGED", "protocol": "HTTP"}, None, ""),
    "tcp-proxy": ({"loadBalancingScheme": "EXTERNAL", "protocol": "TCP"}, None, ""),
    "passthrough": ({"loadBalancingScheme": "EXTERNAL", "protocol": "UNSPECIFIED"}, None, ""),
    "traffic-director": ({"loadBalancingScheme": "INTERNAL_SELF_MANAGED", "protocol": "GRPC"}, None, ""),
    "scheme-absent": ({"protocol": "HTTPS"}, ERROR,
                      "backend service web: cannot judge loadBalancingScheme: absent: a listed backend service "
                      "always names it"),
    "scheme-unknown": ({"loadBalancingScheme": "EXTERNAL_FUTURE", "protocol": "HTTPS"}, ERROR,
                       "backend service web: cannot judge loadBalancingScheme: unknown value 'EXTERNAL_FUTURE'"),
    "protocol-absent": ({"loadBalancingScheme": "EXTERNAL"}, ERROR,
                        "backend service web: cannot judge protocol: absent: a listed backend service always names it"),
    "protocol-not-text": ({"loadBalancingScheme": "EXTERNAL", "protocol": ["HTTP"]}, ERROR,
                          "backend service web: cannot judge protocol: unknown value ['HTTP']"),
    "config-not-object": ({**WEB, "logConfig": "on"}, ERROR,
                          "backend service web: cannot judge logConfig: 'on' is not an object"),
    "enable-text": ({**WEB, "logConfig": {"enable": "true"}}, ERROR,
                    "backend service web: cannot judge logConfig.enable: 'true' is not a boolean"),
    "rate-text": ({**WEB, "logConfig": {"enable": True, "sampleRate": "all"}}, ERROR,
                  "backend service web: cannot judge logConfig.sampleRate: 'all' is not a number in [0, 1]"),
    "rate-above-one": ({**WEB, "logConfig": {"enable": True, "sampleRate": 1.5}}, ERROR,
                       "backend service web: cannot judge logConfig.sampleRate: 1.5 is not a number in [0, 1]"),
}  # fmt: skip


def _findings(services: list[dict[str, Any]]) -> list[Any]:
    snapshot = make_snapshot({"compute": {"backendServices": services}})
    return list(loadbalancing.log11_lb_logging(snapshot, Params()))


@pytest.mark.parametrize(("fields", "verdict", "reason"), LOG11.values(), ids=LOG11.keys())
def test_log11_lb_logging(fields: dict[str, Any], verdict: Verdict | None, reason: str) -> None:
    service = {"kind": "compute#backendService", "name": "web", "selfLink": PROJECT + "global/backendServices/web",
               **fields}  # fmt: skip
    found = _findings([service])
    if verdict is None:
        assert found == []
        return
    (one,) = found
    assert one.resource == "//compute.googleapis.com/projects/shop-prod/global/backendServices/web"
    assert (one.verdict, one.reason) == (verdict, reason)


def test_a_regional_backend_service_is_named_by_its_region_and_judged_alike() -> None:
    regional = {**WEB, "name": "api", "region": PROJECT + "regions/europe-west1",
                "selfLink": PROJECT + "regions/europe-west1/backendServices/api"}  # fmt: skip
    broken = {"name": "odd", "protocol": "HTTP", "selfLink": PROJECT + "global/backendServices/odd"}
    found = _findings([regional, broken])
    assert [(f.resource.split("projects/shop-prod/")[1], f.verdict) for f in found] == [
        ("regions/europe-west1/backendServices/api", FAIL),
        ("global/backendServices/odd", ERROR),
    ]


def test_the_definition_is_complete() -> None:
    meta = default_registry().get("LOG-11").meta
    assert meta.holds and "loadBalancingScheme" in meta.logic and "`error`" in meta.unknown
    assert meta.kinds == (Kind.BACKEND_SERVICES,) and meta.unit == "backend service"
    assert meta.references.cis == (("4.0", "2.16"), ("5.0", "2.17")) and meta.references.soc2 == ("CC7.2",)
    assert len(meta.rationale) > 100 and "gcloud " in meta.remediation and loadbalancing.__doc__
