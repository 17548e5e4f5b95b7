"""`controlwatch run` with `shard: statefulset` outside a StatefulSet pod stops at once, naming what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import invoke


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CONTROLWATCH_SHARDS": "4"}, "neither CONTROLWATCH_POD_NAME nor HOSTNAME is set"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-2"}, "CONTROLWATCH_SHARDS is not set"),
        ({"CONTROLWATCH_POD_NAME": "controlwatch-5", "CONTROLWATCH_SHARDS": "4"}, "is replica 5, but"),
    ],
)
def test_run_refuses_a_replica_that_cannot_tell_which_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], named: str
) -> None:
    for name in ("CONTROLWATCH_POD_NAME", "HOSTNAME", "CONTROLWATCH_SHARDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "controlwatch.yaml"
    config.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "shard: statefulset\n"
        "gcp: {api_endpoint: 'http://127.0.0.1:9'}\n"
        "metrics: {listen: '127.0.0.1:0'}\n"
        f"evidence: {{path: '{tmp_path / 'ev.sqlite3'}'}}\n"
    )
    code, _, err = invoke("run", "--config", str(config))
    assert code == 2 and "shard: statefulset: " in err and named in err
    assert not (tmp_path / "ev.sqlite3").exists()  # nothing started, nothing recorded
