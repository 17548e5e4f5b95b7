"""Lazy imports and credentials: what a run costs before it calls Google, and how it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.collect import GcpClients, make_clients

ROOT = Path(__file__).parents[2]


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
def test_importing_the_collectors_imports_no_google_client() -> None:
    done = _python(
        "import sys, monitor.collect, monitor.collect.collector, monitor.collect.kinds\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google.cloud', 'googleapiclient', 'httplib2'))))"
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _no_adc_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "GCE_", "CLOUDSDK_"))}
    env.update(
        HOME=str(tmp_path),
        CLOUDSDK_CONFIG=str(tmp_path / "gcloud"),
        # no metadata server: a refused loopback port answers at once instead of hanging
        GCE_METADATA_HOST="127.0.0.1:9",
        GCE_METADATA_IP="127.0.0.1:9",
        GCE_METADATA_TIMEOUT="1",
        GCE_METADATA_DETECT_RETRIES="1",
    )
    return env


@pytest.mark.slow
@pytest.mark.parametrize("key_file", [True, False], ids=["missing-key-file", "no-adc-at-all"])
def test_no_credentials_raise_credentials_missing_with_a_hint(tmp_path: Path, key_file: bool) -> None:
    env = _no_adc_env(tmp_path)
    if key_file:
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "missing.json")

    done = _python(
        "from monitor.collect import CredentialsMissing, make_clients\n"
        "try:\n    make_clients()\nexcept CredentialsMissing as exc:\n    print('MISSING:', exc)\n"
        "else:\n    print('FOUND')",
        env,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MISSING:"), done.stdout + done.stderr
    assert "gcloud auth application-default login" in done.stdout and "Workload Identity" in done.stdout
    if key_file:
        assert "missing.json" in done.stdout


def test_an_endpoint_needs_a_scheme() -> None:
    with pytest.raises(ValueError, match="http://"):
        make_clients("127.0.0.1:8080")


def test_clients_are_built_once_and_show_no_credentials(clients: GcpClients) -> None:
    assert clients.get("firewalls") is clients.get("firewalls")
    assert "credential" not in repr(clients).lower() and clients.endpoint is not None
    assert clients.endpoint in repr(clients)
    with pytest.raises(KeyError, match="no Google client named"):
        clients.get("buckets")
