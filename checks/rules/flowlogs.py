"""A subnetwork's flow-log settings against CIS 3.8's, each absent field read as the API's default.

Google's Compute reference gives the defaults: aggregation every 5 seconds, sampling 0.5 and
EXCLUDE_ALL_METADATA (CIS's console text assumes metadata is included; the API decides).
"""

from __future__ import annotations

from checks.kernel import JSON, Unjudgeable

WANTED_INTERVAL = "INTERVAL_5_SEC"
WANTED_METADATA = "INCLUDE_ALL_METADATA"
_INTERVALS = frozenset(
    {"INTERVAL_5_SEC", "INTERVAL_30_SEC", "INTERVAL_1_MIN", "INTERVAL_5_MIN", "INTERVAL_10_MIN", "INTERVAL_15_MIN"}
)
_METADATA = frozenset({"INCLUDE_ALL_METADATA", "EXCLUDE_ALL_METADATA", "CUSTOM_METADATA"})
_DEFAULTS = {"aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "EXCLUDE_ALL_METADATA"}


def _shown(config: JSON, key: str) -> str:
    """`logConfig.metadata: CUSTOM_METADATA`, or `logConfig.metadata absent: EXCLUDE_ALL_METADATA by default`."""
    if key in config:
        return f"logConfig.{key}: {config[key]}"
    return f"logConfig.{key} absent: {_DEFAULTS[key]} by default"


def _choice(config: JSON, key: str, allowed: frozenset[str]) -> str:
    value = config.get(key, _DEFAULTS[key])
    if not isinstance(value, str) or value not in allowed:
        raise Unjudgeable(f"logConfig.{key}", f"unknown value {value!r}")
    return str(value)


def flow_log_shortfalls(config: JSON) -> list[str]:
    """What in `logConfig` (flow logs on) falls short of CIS 3.8, in a fixed order; [] when nothing does."""
    short: list[str] = []
    if _choice(config, "aggregationInterval", _INTERVALS) != WANTED_INTERVAL:
        short.append(f"{_shown(config, 'aggregationInterval')} (not {WANTED_INTERVAL})")
    sampling = config.get("flowSampling", _DEFAULTS["flowSampling"])
    if isinstance(sampling, bool) or not isinstance(sampling, int | float) or not 0 <= sampling <= 1:
        raise Unjudgeable("logConfig.flowSampling", f"{sampling!r} is not a number in [0, 1]")
    if sampling < 1:
        short.append(f"{_shown(config, 'flowSampling')} (not 1.0: only part of the flows is reported)")
    if _choice(config, "metadata", _METADATA) != WANTED_METADATA:
        short.append(f"{_shown(config, 'metadata')} (not {WANTED_METADATA})")
    filtered = config.get("filterExpr")
    if filtered is not None and not isinstance(filtered, str):
        raise Unjudgeable("logConfig.filterExpr", f"{filtered!r} is not a string")
    if filtered and filtered.strip() != "true":
        short.append(f"logConfig.filterExpr: {filtered!r} (exports only the flows it matches)")
    return short
