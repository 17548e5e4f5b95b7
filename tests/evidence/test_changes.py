"""CC8.1 in the evidence: every change of the drift-watched state in a period, who made it
(the Admin Activity log, as the DRIFT results carry it; `unknown` when it did not say),
when a run saw it, and whether and by whom it was approved: before (a pre-approval with its
ticket), after (a later approval), reverted without approval, or not at all."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from checks.model import Result, Verdict
from monitor.commands.main import cli
from monitor.evidence import Ledger, baseline_approved_body, control_run_body, summarize
from monitor.evidence.soc2 import catalogue_refs, soc2_view
from tests.evidence.conftest import INTERVAL, T0

M = timedelta(minutes=1)
FW = "//compute.googleapis.com/projects/p/global/firewalls/"
SINCE = " (since the baseline approved by bob@example.be at 2026-03-01T00:00:00Z)"


def made(who: str, minute: int) -> str:
    at = (T0 + minute * M).isoformat().replace("+00:00", "Z")
    return f"; changed by {who} at {at} (v1.compute.firewalls.patch, Admin Activity audit log)"


def run(ledger: Ledger, minute: int, *results: tuple[str, Verdict, str, str]) -> None:
    """A DRIFT-01 run of scope p ending at T0 + `minute`: (rule, verdict, subject, reason) per item."""
    ended = T0 + minute * M
    judged = [Result("DRIFT-01", "p", FW + rule, subject, verdict, why) for rule, verdict, subject, why in results]
    judged = judged or [Result("DRIFT-01", "p", FW + "allow-https", "", Verdict.PASS, "firewall allow-https matches")]
    body = control_run_body(control="DRIFT-01", scope="p", started=ended - timedelta(seconds=2), ended=ended,
                            results=judged, params={}, inputs={}, logic_version=2, controlwatch_version="0.1.0",
                            source="live", interval=INTERVAL)  # fmt: skip
    ledger.append("control_run", body, time=ended)


def approval(ledger: Ledger, minute: int, who: str, **extra: object) -> None:
    body = baseline_approved_body(scope="p", approver=who, baseline_digest="sha256:0", controls=["DRIFT-01"], **extra)
    ledger.append("baseline_approved", body, time=T0 + minute * M)


def history(ledger: Ledger) -> None:
    """0: clean. 5: a pre-approval of CHG-7 (waiting). 10: the pre-approved change to allow-ssh,
    made by carol, applied by the run. 20: mallory opens allow-db (no author known at first);
    25: the log names her; 30: approved after by dave (CHG-9); 35: clean. 40: eve adds
    allow-rdp; 45: reverted. 50: frank widens allow-web, still drifting at the end."""
    run(ledger, 0)
    approval(ledger, 5, "alice@example.be", change="CHG-7", before_change=True, expires="2026-03-02T04:00:00Z")
    approval(ledger, 10, "alice@example.be", change="CHG-7", before_change=True)
    ssh = ("firewall allow-ssh changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0']")
    run(ledger, 10, ("allow-ssh", Verdict.PASS, "changed", "approved change CHG-7 (approved by alice@example.be at "
                     "2026-03-02T00:05:00Z, before the change): " + ssh + made("carol@example.be", 9)))  # fmt: skip
    db = "firewall allow-db changed: sourceRanges ['10.50.0.0/24'] → ['0.0.0.0/0']"
    run(ledger, 20, ("allow-db", Verdict.FAIL, "changed", db + SINCE))
    run(ledger, 25, ("allow-db", Verdict.FAIL, "changed", db + SINCE + made("mallory@example.be", 19)))
    approval(ledger, 30, "dave@example.be", change="CHG-9")
    run(ledger, 35)
    rdp = "firewall allow-rdp added (allowed ['tcp:3389'])"
    run(ledger, 40, ("allow-rdp", Verdict.FAIL, "added", rdp + SINCE + made("eve@example.be", 39)))
    run(ledger, 45)
    web = "firewall allow-web changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0']"
    run(ledger, 50, ("allow-web", Verdict.FAIL, "changed", web + SINCE + made("frank@example.be", 49)))
    run(ledger, 55, ("allow-web", Verdict.FAIL, "changed", web + SINCE + made("frank@example.be", 49)))


def test_every_change_with_who_made_it_and_its_approval(ledger: Ledger) -> None:
    history(ledger)
    summary = summarize(ledger, T0, T0 + 60 * M)
    got = [(c.resource.rsplit("/", 1)[-1], c.change, c.detected[11:16], c.made_by, c.approval, c.approved_by, c.ticket)
           for c in summary.changes]  # fmt: skip
    assert got == [
        ("allow-ssh", "changed", "00:10", "carol@example.be", "before", "alice@example.be", "CHG-7"),
        ("allow-db", "changed", "00:20", "mallory@example.be", "after", "dave@example.be", "CHG-9"),
        ("allow-rdp", "added", "00:40", "eve@example.be", "reverted", None, None),
        ("allow-web", "changed", "00:50", "frank@example.be", "none", None, None),
    ]
    ssh, db = summary.changes[0], summary.changes[1]
    assert ssh.what == "firewall allow-ssh changed: sourceRanges ['10.0.0.0/8'] → ['0.0.0.0/0']"
    assert ssh.approved_at == "2026-03-02T00:05:00.000000Z" and ssh.made_at == "2026-03-02T00:09:00.000000Z"
    assert db.approved_at is not None and db.approved_at.startswith("2026-03-02T00:30:00") and db.approval_seq
    view = soc2_view(summary, catalogue_refs())
    assert view.change_counts == {"before": 1, "after": 1, "reverted": 1, "none": 1}
    assert view.to_json()["change_counts"] == view.change_counts


def test_an_author_the_log_never_named_is_unknown_and_a_period_narrows_the_list(ledger: Ledger) -> None:
    db = "firewall allow-db changed: sourceRanges ['10.50.0.0/24'] → ['0.0.0.0/0']"
    run(ledger, 0)
    run(ledger, 20, ("allow-db", Verdict.FAIL, "changed", db + SINCE))
    run(ledger, 40, ("allow-db", Verdict.FAIL, "changed", db + SINCE))
    [change] = summarize(ledger, T0, T0 + 60 * M).changes
    assert (change.made_by, change.made_at, change.approval) == ("unknown", None, "none")
    # a change drifted before the period and still open is in it, with when it was first seen
    [change] = summarize(ledger, T0 + 30 * M, T0 + 60 * M).changes
    assert change.detected.startswith("2026-03-02T00:20:00")


def test_the_report_and_the_soc2_view_list_the_changes(ledger: Ledger, ledger_path: Path) -> None:
    history(ledger)
    ledger.close()
    period = ["--from", T0.isoformat(), "--to", (T0 + 60 * M).isoformat(), "--no-verify"]
    out = ledger_path.parent / "report.html"
    result = CliRunner().invoke(cli, ["evidence", "report", "--ledger", str(ledger_path), "--out", str(out), *period])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    section = page[page.index('<section id="changes">') : page.index("</section>", page.index('id="changes"'))]
    rows = section.split("<tr class=")[1:]
    assert [row.split(">", 1)[0] for row in rows] == ['"change-before"', '"change-after"', '"change-reverted"',
                                                      '"change-none"']  # fmt: skip
    assert "<strong>approved before the change</strong>: change CHG-7, by alice@example.be at 2026-03-02 00:05:00" in (
        rows[0]
    )
    assert "carol@example.be" in rows[0] and "firewall allow-ssh changed" in rows[0]
    assert "approved after the change, by dave@example.be at 2026-03-02 00:30:00 (change CHG-9)" in rows[1]
    assert "mallory@example.be" in rows[1] and "2026-03-02 00:20:00" in rows[1]
    assert "reverted</span>, never approved" in rows[2] and "not approved</span>" in rows[3]
    result = CliRunner().invoke(cli, ["evidence", "soc2", "--ledger", str(ledger_path), "--format", "json", *period])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout[result.stdout.index("{") :])
    assert document["change_counts"] == {"before": 1, "after": 1, "reverted": 1, "none": 1}
    assert [c["made_by"] for c in document["changes"]] == ["carol@example.be", "mallory@example.be",
                                                           "eve@example.be", "frank@example.be"]  # fmt: skip


def test_a_period_without_changes_says_so(ledger: Ledger, ledger_path: Path) -> None:
    run(ledger, 0)
    ledger.close()
    out = ledger_path.parent / "report.html"
    args = ["evidence", "report", "--ledger", str(ledger_path), "--out", str(out), "--from", T0.isoformat(), "--to",
            datetime.isoformat(T0 + 60 * M), "--no-verify"]  # fmt: skip
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert "No change of the drift-watched state (DRIFT controls) was seen in this period." in out.read_text()
