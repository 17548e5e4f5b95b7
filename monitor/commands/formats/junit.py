"""`check --format junit`: JUnit XML for CI test reports (README, "Command line").

A testsuite per scope, a testcase per control judged in it. The testcase fails when the
control fails there (a non-excepted failure), is in error when any result is an error (an error
is never a pass), and is skipped when it has nothing left to judge: every result is an excepted
failure, or the control found no subject in the scope. The failing resources and their reasons
are the body of the failure or error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence

from checks.model import Result, Verdict
from monitor.commands.formats.report import CheckReport, iso


def render(report: CheckReport) -> str:
    by_case: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in report.results:
        by_case[(result.scope, result.control)].append(result)
    root = ET.Element("testsuites", name="controlwatch check")
    for scope, controls in report.controls_by_scope().items():
        suite = ET.SubElement(root, "testsuite", name=scope, timestamp=iso(report.now), hostname="controlwatch")
        for control in controls:
            _testcase(suite, scope, control, report, by_case[(scope, control)])
        _count(suite, suite.findall("testcase"), (report.seconds or {}).get(scope, 0.0))
    _count(root, root.findall("testsuite/testcase"), sum((report.seconds or {}).values()))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(suite: ET.Element, scope: str, control: str, report: CheckReport, results: list[Result]) -> None:
    meta = report.controls[control]
    case = ET.SubElement(suite, "testcase", name=f"{control} {meta.title}", classname=f"controlwatch.{scope}", time="0")
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    failures = [r for r in results if r.verdict is Verdict.FAIL and not r.excepted]
    excepted = [r for r in results if r.excepted]
    if errors:
        _outcome(case, "error", f"{control} could not judge {len(errors)} of {len(results)} in {scope}", errors)
    elif failures:
        _outcome(
            case,
            "failure",
            f"{control} fails for {len(failures)} of {len(results)} in {scope} (severity {meta.severity.value})",
            failures,
        )
    elif not results:
        ET.SubElement(case, "skipped", message="not applicable: nothing to judge in this scope")
    elif len(excepted) == len(results):
        ET.SubElement(case, "skipped", message=f"excepted: {len(excepted)} failing, each an accepted risk")
    if excepted:
        ET.SubElement(case, "system-out").text = "\n".join(
            f"excepted: {_line(r)} ({r.exception_reason or 'accepted risk'})" for r in excepted
        )


def _outcome(case: ET.Element, tag: str, message: str, results: Sequence[Result]) -> None:
    element = ET.SubElement(case, tag, message=message, type=results[0].verdict.value)
    element.text = "\n".join(_line(r) for r in results)


def _line(result: Result) -> str:
    subject = f" [{result.subject}]" if result.subject else ""
    return f"{result.resource}{subject}: {result.reason}"


def _count(element: ET.Element, cases: list[ET.Element], seconds: float) -> None:
    element.set("tests", str(len(cases)))
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        element.set(attribute, str(sum(1 for c in cases if c.find(tag) is not None)))
    element.set("time", f"{seconds:.3f}")
