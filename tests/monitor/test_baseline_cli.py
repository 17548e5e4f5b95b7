"""`controlwatch baseline approve|show|diff` against scenarios served by the stand-in, through
the real collectors: approve then diff is no drift; a changed estate is drift, field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from monitor.commands.baseline import baseline, make_baseline_group
from monitor.config.model import Config
from monitor.demo import DEMO_SCENARIO
from monitor.drift.baselines import Approval

MINIMAL = Path(__file__).parents[1] / "standin" / "data" / "scenario-minimal.json"
AT = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
BASELINE = "the baseline approved by alice@example.be at 2026-11-25T12:30:00Z"


def scenario(tmp_path: Path, mutate: Any = None, name: str = "scenario.json") -> str:
    data = json.loads(MINIMAL.read_text())
    if mutate is not None:
        mutate(data["projects"][0])
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


class Cli:
    """The group with a fixed clock and a recorder, and the store in a temporary directory;
    `terminal` says whether stdin can answer the approval question (`answer` is typed)."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = str(tmp_path / "baselines.sqlite3")
        self.recorded: list[tuple[Approval, Config]] = []
        self.terminal = False
        self.group = make_baseline_group(
            record=lambda a, c: self.recorded.append((a, c)), clock=lambda: AT, interactive=lambda: self.terminal
        )

    def __call__(self, *args: str, answer: str | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(self.group, [*args, "--store", self.store], input=answer, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def widen(project: dict[str, Any]) -> None:
    project["compute"]["firewalls"][1]["sourceRanges"] = ["0.0.0.0/0"]


def rewrite(project: dict[str, Any]) -> None:
    """A no-op rewrite: new id, fingerprint-ish fields, timestamps, etag; lists reordered."""
    for rule in project["compute"]["firewalls"]:
        rule.update(id="1111111111111111111", creationTimestamp="2026-11-25T01:00:00.000-08:00")
        rule["allowed"] = list(reversed(rule["allowed"]))
    project["iamPolicy"]["etag"] = "BwZZ"
    project["iamPolicy"]["bindings"] = list(reversed(project["iamPolicy"]["bindings"]))
    first = project["iamPolicy"]["bindings"][0]
    first["members"] = [kind + ":" + email.upper() for kind, email in (m.split(":", 1) for m in first["members"])]
    del project["compute"]["firewalls"][0]["priority"]


def test_approve_then_diff_is_no_drift(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    code, out, _ = cli("approve", "--yes", "--scenario", path, "--approver", "alice@example.be")
    assert code == 0
    assert out.splitlines()[-2:] == [
        "approved example-shop: DRIFT-01 (4 firewall rules and policies), DRIFT-02 (2 grants), DRIFT-03 (1 disk) by "
        f"alice@example.be at 2026-11-25T12:30:00Z (approval 1, {cli.store})",
        f"a daemon reading {cli.store} judges against it from each scope's next run",
    ]
    assert "example-shop DRIFT-02: no approved baseline; approving would record 2 grants:" in out.splitlines()
    code, out, _ = cli("diff", "--scenario", path)
    assert code == 0
    assert out.splitlines() == [
        f"example-shop DRIFT-01: no drift from {BASELINE} (4 firewall rules and policies)",
        f"example-shop DRIFT-02: no drift from {BASELINE} (2 grants)",
        f"example-shop DRIFT-03: no drift from {BASELINE} (1 disk)",
    ]


def test_a_widened_firewall_is_drift_field_by_field(cli: Cli, tmp_path: Path) -> None:
    assert cli("approve", "--yes", "--scenario", scenario(tmp_path), "--approver", "alice@example.be")[0] == 0
    changed = scenario(tmp_path, widen, "changed.json")
    code, out, _ = cli("diff", "--scenario", changed)
    assert code == 1
    assert out.splitlines()[:3] == [
        f"example-shop DRIFT-01: 1 change since {BASELINE}",
        "  firewall allow-internal changed",
        "      sourceRanges ['10.132.0.0/20'] → ['0.0.0.0/0']",
    ]
    assert f"example-shop DRIFT-02: no drift from {BASELINE} (2 grants)" in out
    code, out, _ = cli("diff", "--scenario", changed, "--format", "json", "--control", "DRIFT-01")
    doc = json.loads(out)
    assert code == 1 and doc["drift"] is True and doc["schema_version"] == 1
    [result] = doc["results"]
    assert (result["scope"], result["control"], result["approved_by"], result["items"]) == (
        "example-shop", "DRIFT-01", "alice@example.be", 4)
    assert result["changes"] == [{"area": "firewalls", "key": "allow-internal", "change": "changed", "fields": [
        {"path": "sourceRanges", "before": ["10.132.0.0/20"], "after": ["0.0.0.0/0"]}]}]


def test_a_no_op_rewrite_through_the_collectors_is_no_drift(cli: Cli, tmp_path: Path) -> None:
    assert cli("approve", "--yes", "--scenario", scenario(tmp_path), "--approver", "alice@example.be")[0] == 0
    code, out, _ = cli("diff", "--scenario", scenario(tmp_path, rewrite, "rewritten.json"), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["drift"] is False


def test_show_lists_approver_time_and_counts(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    cli("approve", "--yes", "--scenario", path, "--approver", "alice@example.be")
    cli("approve", "--yes", "--scenario", path, "--approver", "bob@example.be", "--control", "DRIFT-02")
    code, out, _ = cli("show")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SCOPE", "CONTROL", "ITEMS", "APPROVED", "BY", "APPROVED", "AT", "APPROVAL", "DIGEST"]
    assert lines[1].split()[:9] == ["example-shop", "DRIFT-01", "4", "firewall", "rules", "and", "policies",
                                    "alice@example.be", "2026-11-25T12:30:00Z"]
    assert lines[2].split()[:6] == ["example-shop", "DRIFT-02", "2", "grants", "bob@example.be", "2026-11-25T12:30:00Z"]
    code, out, _ = cli("show", "--scope", "example-shop", "--format", "json", "--history")
    [entry] = json.loads(out)["baselines"]
    assert {c["control"]: (c["approved_by"], c["approval"], c["items"]) for c in entry["controls"]} == {
        "DRIFT-01": ("alice@example.be", 1, 4),  # 2 VPC rules, a global and a regional network policy
        "DRIFT-02": ("bob@example.be", 2, 2),
        "DRIFT-03": ("alice@example.be", 1, 1),
    }
    assert [(h["approval"], h["approver"], list(h["controls"])) for h in entry["history"]] == [
        (1, "alice@example.be", ["DRIFT-01", "DRIFT-02", "DRIFT-03"]), (2, "bob@example.be", ["DRIFT-02"])]


def test_approvals_are_handed_to_the_recorder_and_default_to_the_os_user(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    assert cli("approve", "--yes", "--scenario", scenario(tmp_path), "--control", "DRIFT-03")[0] == 0
    [(approval, config)] = cli.recorded
    assert (approval.approver, approval.scope, [c.control for c in approval.controls]) == ("ops", "example-shop",
                                                                                          ["DRIFT-03"])
    assert config.scope_ids() == ("example-shop",)
    assert approval.to_evidence()["controls"]["DRIFT-03"]["items"] == 1


def test_the_demo_organisation_round_trips(cli: Cli) -> None:
    code, out, _ = cli("approve", "--yes", "--scenario", str(DEMO_SCENARIO), "--approver", "alice@example.be")
    approved = [line for line in out.splitlines() if line.startswith("approved ")]
    assert code == 0 and len(approved) == 4
    code, out, _ = cli("diff", "--scenario", str(DEMO_SCENARIO), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["drift"] is False and len(doc["results"]) == 12


# --- usage and missing baselines: exit 2, one line -------------------------------------------------

ERRORS: dict[str, tuple[list[str], str]] = {
    "show-without-store": (["show"], "Error: no approved baseline: {store} does not exist; "
                           "approve one with `controlwatch baseline approve`"),
    "no-source": (["approve"], "Error: no live state to read: pass --config FILE (real GCP; or set "
                  "CONTROLWATCH_CONFIG) or --scenario FILE (offline)"),
    "daemon-and-scenario": (["diff", "--daemon", "http://127.0.0.1:9", "--scenario", "{s}"], "Error: --daemon reads "
                            "the live state from a running daemon, --scenario from a file: pass one of them"),
    "daemon-not-a-url": (["diff", "--daemon", "127.0.0.1:9797"], "Error: --daemon: '127.0.0.1:9797' is not an "
                         "http:// or https:// URL (e.g. http://127.0.0.1:9797)"),
    "unknown-scope": (["approve", "--scenario", "{s}", "--scope", "nope"],
                      "Error: unknown scope nope; scopes: example-shop"),
    "unknown-control": (["approve", "--scenario", "{s}", "--control", "DRIFT-09"], "Error: Invalid value for "
                        "'--control': 'DRIFT-09' is not one of 'DRIFT-01', 'DRIFT-02', 'DRIFT-03'."),
    "empty-approver": (["approve", "--scenario", "{s}", "--approver", " "], "Error: --approver must name someone"),
    "missing-scenario": (["approve", "--scenario", "{tmp}/nope.json"],
                         "Error: {tmp}/nope.json: cannot read: No such file or directory"),
}  # fmt: skip


@pytest.mark.parametrize(("args", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_usage_errors_exit_2_with_one_line(cli: Cli, tmp_path: Path, args: list[str], message: str) -> None:
    fill = {"s": scenario(tmp_path), "store": cli.store, "tmp": str(tmp_path)}
    code, out, err = cli(*(arg.format(**fill) for arg in args))
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1] == message.format(**fill)


def test_diff_previews_a_control_never_approved(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    cli("approve", "--yes", "--scenario", path, "--control", "DRIFT-02", "--approver", "alice@example.be")
    code, out, _ = cli("diff", "--scenario", path, "--control", "DRIFT-01")
    assert code == 0
    assert out.splitlines()[0] == (
        "example-shop DRIFT-01: no approved baseline; approving would record 4 firewall rules and policies:"
    )
    code, out, _ = cli("diff", "--scenario", path)  # the approved control compared, the others previewed
    assert code == 0
    heads = [line for line in out.splitlines() if line.startswith("example-shop")]
    assert heads == [
        "example-shop DRIFT-01: no approved baseline; approving would record 4 firewall rules and policies:",
        f"example-shop DRIFT-02: no drift from {BASELINE} (2 grants)",
        "example-shop DRIFT-03: no approved baseline; approving would record 1 disk:",
    ]


def test_diff_without_any_baseline_previews_the_whole_state(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    code, out, err = cli("diff", "--scenario", path, "--control", "DRIFT-01")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "example-shop DRIFT-01: no approved baseline; approving would record 4 firewall rules and policies:"
    )
    [internal] = [line for line in lines if line.startswith("  firewall allow-internal: ")]
    assert "sourceRanges ['10.132.0.0/20']" in internal and "direction 'INGRESS'" in internal
    assert len(lines) == 5  # the header and the 4 rules and policies
    assert not Path(cli.store).exists()  # a preview never creates the store
    code, out, _ = cli("diff", "--scenario", path, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["drift"] is False and doc["would_record"] is True
    recorded = {r["control"]: r["would_record"] for r in doc["results"]}
    assert recorded["DRIFT-02"]["items"] == 2 and set(recorded["DRIFT-02"]["state"]) == {"grants"}
    # what the preview shows is what approve records
    cli("approve", "--yes", "--scenario", path, "--approver", "alice@example.be")
    shown = json.loads(cli("show", "--format", "json")[1])["baselines"][0]["controls"]
    assert {c["control"]: c["items"] for c in shown} == {c: r["items"] for c, r in recorded.items()}


def test_scopes_without_a_baseline_are_previewed(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    cli("approve", "--yes", "--scenario", path, "--approver", "a")
    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: example-shop}, {id: other-shop}]}\n")
    two = json.loads(Path(path).read_text())
    other = json.loads(json.dumps(two["projects"][0]).replace("example-shop", "other-shop"))
    two["projects"].append({**other, "name": "projects/999999999"})
    both = tmp_path / "two.json"
    both.write_text(json.dumps(two))
    code, out, _ = cli("diff", "--scenario", str(both), "--config", str(config))
    assert code == 0
    assert "example-shop DRIFT-01: no drift from the baseline approved by a" in out
    assert "other-shop DRIFT-01: no approved baseline; approving would record 4 firewall rules and policies:" in out
    code, out, _ = cli("diff", "--scenario", str(both), "--config", str(config), "--scope", "other-shop")
    assert code == 0 and "example-shop" not in out and "other-shop DRIFT-03: no approved baseline" in out


def test_an_unreadable_live_state_is_not_approved(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "cw.yaml"
    config.write_text("scopes: {projects: [{id: example-shop}]}\n"
                      "gcp: {api_endpoint: 'http://127.0.0.1:9', call_timeout: 1s, run_deadline: 1s}\n")
    code, out, err = cli("approve", "--yes", "--config", str(config), "--approver", "a")
    assert code == 2 and out == ""
    assert err.startswith("Error: cannot read the live state of example-shop (")
    assert not Path(cli.store).exists()


def test_the_shipped_group() -> None:
    assert isinstance(baseline, click.Group) and baseline.name == "baseline"
    assert set(baseline.commands) == {"approve", "show", "diff"}
    assert CliRunner().invoke(baseline, ["--help"]).exit_code == 0


def test_a_store_that_is_not_a_database_exits_2(cli: Cli, tmp_path: Path) -> None:
    Path(cli.store).write_text("not sqlite")
    code, _, err = cli("show")
    assert code == 2 and err.startswith(f"Error: {cli.store}: cannot open the baseline store: ")


# --- approve reviews, then asks ---------------------------------------------------------------------


def test_approve_shows_the_diff_against_the_current_baseline_and_asks(cli: Cli, tmp_path: Path) -> None:
    assert cli("approve", "--yes", "--scenario", scenario(tmp_path), "--approver", "alice@example.be")[0] == 0
    changed = scenario(tmp_path, widen, "changed.json")
    cli.terminal = True
    code, out, err = cli("approve", "--scenario", changed, "--approver", "bob@example.be", "--control", "DRIFT-01",
                         answer="n\n")  # fmt: skip
    assert code == 1 and "Aborted" in err
    assert out.splitlines() == [
        f"example-shop DRIFT-01: 1 change since {BASELINE}",
        "  firewall allow-internal changed",
        "      sourceRanges ['10.132.0.0/20'] → ['0.0.0.0/0']",
    ]
    assert "Record this as the approved baseline of example-shop (DRIFT-01) by bob@example.be? [y/N]" in err
    assert len(cli.recorded) == 1  # declined: nothing stored, nothing recorded
    code, out, err = cli("approve", "--scenario", changed, "--approver", "bob@example.be", "--control", "DRIFT-01",
                         answer="y\n")  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[-2].startswith("approved example-shop: DRIFT-01 (4 firewall rules and policies) by bob")
    assert cli("diff", "--scenario", changed)[0] == 0  # the widened rule is the baseline now


def test_approve_without_a_terminal_or_yes_records_nothing(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("approve", "--scenario", scenario(tmp_path), "--approver", "alice@example.be")
    assert code == 2
    assert out.startswith("example-shop DRIFT-01: no approved baseline; approving would record 4 firewall rules")
    assert err.strip() == (
        "Error: not approved: stdin is not a terminal, so nobody can answer 'Record this as the approved baseline "
        "of example-shop (DRIFT-01, DRIFT-02, DRIFT-03) by alice@example.be?'; review the above and pass --yes to "
        "record it"
    )
    assert not Path(cli.store).exists() and cli.recorded == []


def test_the_real_command_refuses_to_approve_from_a_pipe(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = tmp_path / "baselines.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "baseline", "approve", "--scenario", scenario(tmp_path), "--store",
         str(store), "--approver", "alice@example.be", "--control", "DRIFT-02"],
        cwd=Path(__file__).parents[2], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Error: not approved: stdin is not a terminal" in done.stderr and "Traceback" not in done.stderr
    assert "example-shop DRIFT-02: no approved baseline; approving would record 2 grants:" in done.stdout
    assert not store.exists()


def test_a_change_reference_is_kept_with_the_approval(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path)
    code, out, _ = cli("approve", "--yes", "--scenario", path, "--approver", "alice@example.be", "--control",
                       "DRIFT-02", "--change", "CHG-1234")  # fmt: skip
    assert code == 0 and "(approval 1, change CHG-1234, " in out
    [(approval, _)] = cli.recorded
    assert approval.change == "CHG-1234" and approval.to_evidence()["change"] == "CHG-1234"
    cli("approve", "--yes", "--scenario", path, "--approver", "bob@example.be", "--control", "DRIFT-02")
    code, out, _ = cli("show", "--history")
    assert "  approval 1: 2026-11-25T12:30:00Z by alice@example.be (change CHG-1234): DRIFT-02 (2 grants)" in out
    assert "  approval 2: 2026-11-25T12:30:00Z by bob@example.be: DRIFT-02 (2 grants)" in out
