"""`metrics.web_config_file`: exporter-toolkit's web config, parsed strictly, checked by promtool,
and enforced by the metrics port: TLS on every route, client certificates, basic auth."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from structlog.testing import capture_logs

from checks.model import Verdict
from monitor.config.web_config import WebConfigError, load_web_config
from monitor.daemon import Daemon
from monitor.sinks.http_dispatch import Limits
from monitor.sinks.http_server import MetricsServer
from monitor.sinks.metrics import Metrics
from monitor.sinks.store import ResultStore
from monitor.sinks.web_protection import NO_PROTECTION, WebProtection, load_protection
from tests.monitor.conftest import config_for
from tests.monitor.test_store import FW01, res
from tests.tools import require_tool, wait_until
from tests.webcerts import Pki, bcrypt_hash, make_pki

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "config" / "web-config.example.yml"
TIMEOUT = 5.0
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def write_web_config(directory: Path, document: dict[str, object]) -> Path:
    path = directory / "web-config.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def tls_section(pki: Pki, client_auth: str | None = None) -> dict[str, str]:
    section = {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key)}
    if client_auth is not None:
        section |= {"client_auth_type": client_auth, "client_ca_file": str(pki.ca)}
    return section


def problems(path: Path) -> list[str]:
    with pytest.raises(WebConfigError) as caught:
        load_protection(path)
    return [str(problem) for problem in caught.value.problems]


# --- parsing -----------------------------------------------------------------------------


def test_relative_paths_are_resolved_against_the_web_config_directory(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside = tmp_path / "etc"
    beside.mkdir()
    for source in (pki.ca, pki.server.cert, pki.server.key):
        shutil.copy(source, beside / source.name)
    path = write_web_config(
        beside,
        {
            "tls_server_config": {
                "cert_file": "server.crt",
                "key_file": "server.key",
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_ca_file": "ca.crt",
            }
        },
    )
    monkeypatch.chdir(tmp_path)  # a working directory where the relative names mean nothing
    config = load_web_config(path)
    assert config.tls_server_config is not None
    assert config.tls_server_config.cert_file == beside / "server.crt"
    assert config.tls_server_config.client_ca_file == beside / "ca.crt"
    assert load_protection(path).tls is not None


def test_an_unknown_key_is_refused_with_its_name_and_line(pki: Pki, tmp_path: Path) -> None:
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "cert_fle": "x.crt"}})
    [problem] = problems(path)
    assert problem.startswith(f"{path}:4: tls_server_config.cert_fle: unknown key; did you mean 'cert_file'?")
    path = write_web_config(tmp_path, {"basic_auth_user": {"prometheus": bcrypt_hash(PASSWORD)}})
    [problem] = problems(path)
    assert "basic_auth_user: unknown key; did you mean 'basic_auth_users'?" in problem


def test_exporter_toolkit_keys_controlwatch_cannot_honour_are_refused_by_name(pki: Pki, tmp_path: Path) -> None:
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "curve_preferences": ["X25519"]}})
    [problem] = problems(path)
    assert "tls_server_config.curve_preferences: not supported by controlwatch" in problem


def test_a_missing_certificate_file_is_named(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "server.crt"
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "cert_file": str(missing)}})
    [problem] = problems(path)
    assert f"tls_server_config.cert_file: {missing}: cannot read: No such file or directory" in problem


def test_tls_needs_a_certificate_and_a_key(pki: Pki, tmp_path: Path) -> None:
    path = write_web_config(tmp_path, {"tls_server_config": {"cert_file": str(pki.server.cert)}})
    [problem] = problems(path)
    assert "tls_server_config: TLS needs key_file" in problem


def test_a_key_that_does_not_match_the_certificate_fails_with_both_files_named(pki: Pki, tmp_path: Path) -> None:
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "key_file": str(pki.client.key)}})
    [problem] = problems(path)
    assert f"tls_server_config.cert_file: {pki.server.cert} and {pki.client.key}: not a PEM certificate" in problem


def test_client_certificate_settings_must_agree(pki: Pki, tmp_path: Path) -> None:
    path = write_web_config(
        tmp_path, {"tls_server_config": {**tls_section(pki), "client_auth_type": "RequireAndVerifyClientCert"}}
    )
    assert "needs client_ca_file" in problems(path)[0]
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "client_ca_file": str(pki.ca)}})
    assert "client_auth_type is NoClientCert" in problems(path)[0]
    path = write_web_config(tmp_path, {"tls_server_config": {**tls_section(pki), "client_auth_type": "Always"}})
    assert "tls_server_config.client_auth_type" in problems(path)[0]


@pytest.mark.parametrize("stored", [PASSWORD, "$2y$10$tooshort", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="])
def test_a_password_that_is_not_a_bcrypt_hash_is_refused_and_never_echoed(tmp_path: Path, stored: str) -> None:
    path = write_web_config(tmp_path, {"basic_auth_users": {"prometheus": stored}})
    [problem] = problems(path)
    assert "basic_auth_users.prometheus: not a bcrypt hash" in problem and "htpasswd -nBC 10" in problem
    assert stored not in problem


def test_only_the_headers_exporter_toolkit_allows_can_be_set(tmp_path: Path) -> None:
    path = write_web_config(tmp_path, {"http_server_config": {"headers": {"Server": "nginx"}}})
    assert "header 'Server' cannot be set" in problems(path)[0]
    path = write_web_config(tmp_path, {"http_server_config": {"headers": {"X-Frame-Options": "allow"}}})
    assert "header 'X-Frame-Options' must be 'deny' or 'sameorigin'" in problems(path)[0]


def test_an_empty_file_protects_nothing(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("", encoding="utf-8")
    protection = load_protection(path)
    assert protection.tls is None and protection.guard is None and protection.describe == "none"


# --- promtool agrees ---------------------------------------------------------------------


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    promtool = require_tool("promtool")
    return subprocess.run(
        [promtool, "check", "web-config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_accepts_the_files_controlwatch_accepts(pki: Pki, tmp_path: Path) -> None:
    documents = {
        "tls": {"tls_server_config": tls_section(pki)},
        "mtls": {"tls_server_config": tls_section(pki, "RequireAndVerifyClientCert")},
        "all": {
            "tls_server_config": {
                **tls_section(pki, "VerifyClientCertIfGiven"),
                "min_version": "TLS12",
                "max_version": "TLS13",
                "cipher_suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
            },
            "http_server_config": {"headers": {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "deny"}},
            "basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD, cost=10), "alice": bcrypt_hash("x")},
        },
    }
    for name, document in documents.items():
        directory = tmp_path / name
        directory.mkdir()
        path = write_web_config(directory, document)
        load_protection(path)  # controlwatch accepts it...
        checked = promtool_check(path)  # ...and so does exporter-toolkit's own check
        assert checked.returncode == 0 and "SUCCESS" in checked.stdout + checked.stderr, (name, checked)


def test_the_shipped_example_is_accepted_by_controlwatch_and_promtool(pki: Pki, tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    tls = example["tls_server_config"]
    for key, source in (("cert_file", pki.server.cert), ("key_file", pki.server.key), ("client_ca_file", pki.ca)):
        assert not Path(tls[key]).is_absolute()  # beside the file, as exporter-toolkit resolves them
        shutil.copy(source, tmp_path / tls[key])
    protection = load_protection(tmp_path / EXAMPLE.name)
    assert protection.tls is not None and protection.basic_auth
    checked = promtool_check(tmp_path / EXAMPLE.name)
    assert checked.returncode == 0, checked


# --- the port, protected -----------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[..., MetricsServer]]:
    started: list[MetricsServer] = []

    def start(protection: WebProtection, listen: str = "127.0.0.1:0", limits: Limits | None = None) -> MetricsServer:
        store = ResultStore()
        server = MetricsServer(
            listen,
            Metrics(store, version="0.1.0", mode="demo"),
            store,
            protection=protection,
            limits=limits or Limits(),
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def client_context(pki: Pki, *, cert: bool = True, stranger: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    issued = pki.stranger if stranger else pki.client
    if cert:
        context.load_cert_chain(issued.cert, issued.key)
    return context


def https_get(
    server: MetricsServer, path: str, context: ssl.SSLContext, auth: tuple[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=TIMEOUT, context=context)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_every_route_is_served_over_tls_verified_with_the_ca(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    server = serve(load_protection(write_web_config(tmp_path, {"tls_server_config": tls_section(pki)})))
    assert server.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(pki.ca))  # verifies the chain and the IP SAN
    status, headers, body = https_get(server, "/metrics", context)
    assert status == 200 and b"controlwatch_build_info" in body
    assert https_get(server, "/healthz", context)[:3:2] == (200, b"ok\n")
    assert https_get(server, "/readyz", context)[0] in (200, 503)
    status, _, body = https_get(server, "/results", context)
    assert status == 200 and "controls" in json.loads(body)
    assert https_get(server, "/nowhere", context)[0] == 404
    with pytest.raises(ssl.SSLCertVerificationError):  # a client trusting only the system CAs refuses it
        https_get(server, "/healthz", ssl.create_default_context())


def test_a_plain_http_client_gets_no_answer_but_a_400(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    server = serve(load_protection(write_web_config(tmp_path, {"tls_server_config": tls_section(pki)})))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/metrics")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 400 and body == b"Client sent an HTTP request to an HTTPS server.\n"
    assert server.handshakes_failed == 1


def test_mtls_refuses_a_client_without_a_certificate_or_with_a_stranger_s(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    document = {"tls_server_config": tls_section(pki, "RequireAndVerifyClientCert")}
    server = serve(load_protection(write_web_config(tmp_path, document)))
    assert https_get(server, "/metrics", client_context(pki))[0] == 200
    for context in (client_context(pki, cert=False), client_context(pki, stranger=True)):
        # TLS 1.3: the server's refusal arrives as an alert once the client reads
        with pytest.raises((ssl.SSLError, ConnectionError)):
            https_get(server, "/metrics", context)
    assert wait_until(lambda: server.handshakes_failed == 2, TIMEOUT)
    assert https_get(server, "/metrics", client_context(pki))[0] == 200  # and it still serves the others


def test_verify_if_given_accepts_no_certificate_but_refuses_a_bad_one(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    document = {"tls_server_config": tls_section(pki, "VerifyClientCertIfGiven")}
    server = serve(load_protection(write_web_config(tmp_path, document)))
    assert https_get(server, "/healthz", client_context(pki, cert=False))[0] == 200
    assert https_get(server, "/healthz", client_context(pki))[0] == 200
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(server, "/healthz", client_context(pki, stranger=True))


def test_a_handshake_never_finished_is_closed_at_the_head_deadline_without_holding_the_port(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    protection = load_protection(write_web_config(tmp_path, {"tls_server_config": tls_section(pki)}))
    deadline = 3.0
    server = serve(protection, limits=Limits(head_timeout=deadline))
    context = ssl.create_default_context(cafile=str(pki.ca))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=2 * deadline) as stalled,
        socket.create_connection(("127.0.0.1", server.port), timeout=2 * deadline) as silent,
    ):
        started = time.monotonic()
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, and no more
        assert https_get(server, "/healthz", context)[0] == 200  # the I/O thread is not waiting on them...
        assert time.monotonic() - started < deadline - 0.5  # ...it answered well before their deadline
        assert server.slow_clients_dropped == 0
        assert stalled.recv(1) == b"" and silent.recv(1) == b""  # closed by the server...
        assert time.monotonic() - started < 2 * deadline  # ...at the deadline
    assert wait_until(lambda: server.slow_clients_dropped == 2, TIMEOUT)


def test_a_large_answer_is_written_whole_over_tls_to_a_slow_reader(pki: Pki, tmp_path: Path) -> None:
    """Megabytes through TLS's partial, non-blocking writes, taken by a client that pauses."""
    store = ResultStore()
    store.configure([(FW01, "shop-prod", 900.0)])
    failing = [res(FW01, "shop-prod", Verdict.FAIL, f"rule-{i:05d}") for i in range(5000)]
    store.record("shop-prod", FW01, failing, 1_700_000_000.0)
    protection = load_protection(write_web_config(tmp_path, {"tls_server_config": tls_section(pki)}))
    server = MetricsServer("127.0.0.1:0", Metrics(store, version="0.1.0", mode="demo"), store, protection=protection)
    server.start()
    try:
        context = ssl.create_default_context(cafile=str(pki.ca))
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=TIMEOUT, context=context)
        conn.request("GET", "/results")
        response = conn.getresponse()
        chunks = []
        for _ in range(10_000):
            chunk = response.read(256 * 1024)
            if not chunk:
                break
            chunks.append(chunk)
            time.sleep(0.02)  # the server's socket buffer fills: its writes wait for the selector
        conn.close()
        body = json.loads(b"".join(chunks))
        assert len(body["controls"][0]["results"]) == 5000 and len(chunks) > 2
    finally:
        server.stop()


def test_basic_auth_answers_401_without_the_right_password_and_pays_bcrypt_once(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    document = {
        "tls_server_config": tls_section(pki),
        "http_server_config": {"headers": {"X-Content-Type-Options": "nosniff"}},
        "basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD)},
    }
    server = serve(load_protection(write_web_config(tmp_path, document)))
    context = ssl.create_default_context(cafile=str(pki.ca))
    for auth in (None, ("prometheus", "wrong"), ("mallory", PASSWORD), ("prometheus", PASSWORD + "x" * 80)):
        status, headers, body = https_get(server, "/metrics", context, auth)
        assert (status, headers["www-authenticate"], body) == (401, "Basic", b"Unauthorized\n"), auth
        assert https_get(server, "/results", context, auth)[0] == 401
    guard = server.protection.guard
    assert guard is not None and guard.auth is not None
    checks = guard.auth.bcrypt_checks
    for _ in range(5):  # a scrape every few seconds: bcrypt runs for the first only
        status, headers, body = https_get(server, "/metrics", context, ("prometheus", PASSWORD))
        assert status == 200 and b"controlwatch_build_info" in body
        assert headers["x-content-type-options"] == "nosniff"
    assert guard.auth.bcrypt_checks == checks + 1


def test_the_probes_answer_without_credentials_but_say_no_more(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    """kubelet's probes send no credentials: /healthz answers, /readyz gives its status code only."""
    document = {"basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD)}}
    server = serve(load_protection(write_web_config(tmp_path, document)))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"ok\n")
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    conn.request("GET", "/readyz")
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (503, {"ready": False})  # no "waiting" list
    conn.close()
    auth = "Basic " + base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    conn.request("GET", "/readyz", headers={"Authorization": auth})
    response = conn.getresponse()
    assert "waiting" in json.loads(response.read())
    conn.close()


# --- the warning for an open port ----------------------------------------------------------


def test_a_port_beyond_loopback_without_tls_or_auth_is_warned_about(
    pki: Pki, tmp_path: Path, serve: Callable[..., MetricsServer]
) -> None:
    with capture_logs() as logs:
        server = serve(NO_PROTECTION, listen="0.0.0.0:0")
    warnings = [entry for entry in logs if entry["event"] == "metrics_port_unprotected"]
    assert [(w["log_level"], w["address"]) for w in warnings] == [("warning", f"0.0.0.0:{server.port}")]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)  # only loopback is connected to
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    conn.close()
    auth_only = load_protection(write_web_config(tmp_path, {"basic_auth_users": {"p": bcrypt_hash(PASSWORD)}}))
    tls_only = load_protection(write_web_config(tmp_path, {"tls_server_config": tls_section(pki)}))
    with capture_logs() as quiet:
        serve(auth_only, listen="0.0.0.0:0")
        serve(tls_only, listen="0.0.0.0:0")
        serve(NO_PROTECTION, listen="127.0.0.1:0")
    assert not [entry for entry in quiet if entry["event"] == "metrics_port_unprotected"]


# --- the daemon: a bad file fails the start; SIGHUP reloads ------------------------------------


def test_a_bad_web_config_fails_the_start_with_the_problem(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text("basic_auth_users:\n  prometheus: hunter2\n", encoding="utf-8")
    config = tmp_path / "cw.yaml"
    config.write_text(
        "scopes: {projects: [{id: shop-prod}]}\n"
        "gcp: {api_endpoint: 'http://127.0.0.1:9'}\n"
        f"evidence: {{path: '{tmp_path / 'evidence.sqlite3'}'}}\n"
        f"metrics: {{listen: '127.0.0.1:0', web_config_file: '{web}'}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr
    assert f"{web}:2: basic_auth_users.prometheus: not a bcrypt hash" in done.stderr


def test_sighup_reads_the_web_config_again_and_a_bad_one_keeps_the_running_protection(
    pki: Pki, tmp_path: Path, make_daemon: Callable[..., tuple[Daemon, object]]
) -> None:
    web = write_web_config(tmp_path, {"basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD)}})
    plain = config_for(["shop-prod"])
    protected = plain.model_copy(update={"metrics": plain.metrics.model_copy(update={"web_config_file": web})})
    daemon, _ = make_daemon(plain)
    daemon.start()
    try:
        url = f"http://127.0.0.1:{daemon.server.port}/metrics"
        assert plain_status(url) == 200
        assert daemon.reload(lambda: protected)
        assert plain_status(url) == 401 and plain_status(url, ("prometheus", PASSWORD)) == 200
        web.write_text("basic_auth_users: {prometheus: not-a-hash}\n", encoding="utf-8")
        assert not daemon.reload(lambda: protected)  # refused, logged, counted...
        assert plain_status(url) == 401  # ...and the port stays protected as it was
        write_web_config(tmp_path, {"tls_server_config": tls_section(pki)})
        assert daemon.reload(lambda: protected)  # certificates are read again: TLS from the next connection
        assert daemon.server.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(pki.ca))
        assert https_get(daemon.server, "/metrics", context)[0] == 200
    finally:
        daemon.stop(grace=1.0)


def plain_status(url: str, auth: tuple[str, str] | None = None) -> int:
    parts = url.split("/", 3)
    host, port = parts[2].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    headers = {}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    try:
        conn.request("GET", "/" + parts[3], headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
