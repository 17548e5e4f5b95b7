"""`gcp.rate_limits` and `gcp.max_concurrent_scopes`: the grammar, the defaults, the merge."""

from __future__ import annotations

import pytest

from checks.kinds import APIS, Kind
from monitor.config.model import ConfigError, parse_config
from monitor.config.rates import DEFAULT_RATES, format_rate, parse_rate

MINIMAL = "scopes:\n  projects:\n    - id: shop-prod\n"


def test_every_api_a_kind_reads_has_a_default_below_its_published_quota() -> None:
    assert {kind.spec.api for kind in Kind} <= set(DEFAULT_RATES) <= set(APIS)
    # Storage publishes no per-minute read quota, and Cloud SQL Admin and Org Policy show theirs per
    # project: the figures we assume for them (monitor/config/rates.py) hold the defaults as low.
    published_per_minute = {
        "compute": 1500,
        "bigquery": 6000,
        "dataproc": 200,
        "cloudresourcemanager": 600,
        "logging": 600,
        "iam": 6000,
        "storage": 600,
        "sqladmin": 180,
        "orgpolicy": 600,
        "dns": 600,  # assumed, as for Org Policy: Cloud DNS shows its read quota per project
        "monitoring": 6000,
        "serviceusage": 1200,
        "accessapproval": 600,  # assumed, as Resource Manager's (monitor/config/rates.py)
        "cloudkms": 300,  # KMS "Read requests" per minute per project
        "apikeys": 600,  # assumed, as Resource Manager's
        "essentialcontacts": 600,  # assumed, as Resource Manager's
    }
    for api, rate in DEFAULT_RATES.items():
        burst = max(1.0, rate)  # a bucket holds one second of its rate
        assert rate * 60 + burst < published_per_minute[api], api


def test_defaults_and_overrides_merge_per_api() -> None:
    config = parse_config(MINIMAL, "cw.yaml")
    assert config.gcp.max_concurrent_scopes == 8
    second = {"storage": 8.0, "sqladmin": 2.0, "iam": 8.0, "orgpolicy": 8.0}
    second |= {"dns": 8.0, "monitoring": 8.0, "serviceusage": 8.0, "accessapproval": 8.0}  # the third catalogue's
    second |= {"cloudkms": 4.0, "apikeys": 4.0, "essentialcontacts": 4.0, "bigquery": 8.0, "dataproc": 2.0}
    assert config.gcp.rate_limits == {"compute": 20.0, "cloudresourcemanager": 8.0, "logging": 8.0, **second}
    config = parse_config(MINIMAL + "gcp: {max_concurrent_scopes: 3, rate_limits: {logging: 30/m}}\n", "cw.yaml")
    assert config.gcp.max_concurrent_scopes == 3
    assert config.gcp.rate_limits == {"compute": 20.0, "cloudresourcemanager": 8.0, "logging": 0.5, **second}


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("20/s", 20.0), ("1200/m", 20.0), ("30/m", 0.5), ("2.5/s", 2.5), (" 7 / m ", 7 / 60)],
)
def test_rates_read_per_second_or_per_minute(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(("per_second", "text"), [(20.0, "20/s"), (0.5, "30/m"), (7 / 60, "7/m"), (2.5, "150/m")])
def test_rates_are_written_back_as_the_config_reads_them(per_second: float, text: str) -> None:
    assert format_rate(per_second) == text
    assert parse_rate(format_rate(per_second)) == pytest.approx(per_second)


def test_the_dumped_config_reads_back_the_same() -> None:
    config = parse_config(MINIMAL + "gcp: {rate_limits: {compute: 90/m}}\n", "cw.yaml")
    dumped = config.model_dump(mode="json")["gcp"]["rate_limits"]
    assert dumped == {
        "compute": "90/m",
        "bigquery": "8/s",
        "dataproc": "2/s",
        "cloudresourcemanager": "8/s",
        "logging": "8/s",
        "storage": "8/s",
        "sqladmin": "2/s",
        "iam": "8/s",
        "orgpolicy": "8/s",
        "dns": "8/s",
        "monitoring": "8/s",
        "serviceusage": "8/s",
        "accessapproval": "8/s",
        "cloudkms": "4/s",
        "apikeys": "4/s",
        "essentialcontacts": "4/s",
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("20", "20 has no unit: write '20/s' or '20/m'"),
        ("20/h", "'20/h' is not a rate: write requests per second or per minute"),
        ("-3/s", "'-3/s' is not a rate"),
        ("0/s", "a rate must be more than 0"),
        ("true", "expected a rate such as '20/s', got bool"),
        ("[1]", "expected a rate such as '20/s', got list"),
    ],
)
def test_bad_rates_are_refused_with_the_key(value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + f"gcp:\n  rate_limits:\n    compute: {value}\n", "cw.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (6, "gcp.rate_limits.compute")
    assert reason in problem.message
