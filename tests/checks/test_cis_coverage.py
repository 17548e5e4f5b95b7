"""Controls held to the benchmark's own recommendation list (`cis_benchmark.RECOMMENDATIONS`).

A control's CIS reference must name a real recommendation, its v4.0 and v5.0 ids must be the same
recommendation, and every Automated v4.0 recommendation must be judged by some control (issue 13)."""

from __future__ import annotations

from collections import Counter

import pytest

from checks import default_registry
from tests.checks.cis_benchmark import AUTOMATED_V4, BY_V4, BY_V5, RECOMMENDATIONS

Declared = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
"""Control id -> (v4.0 ids, v5.0 ids) it declares."""


def _declared() -> Declared:
    """Control id -> (v4.0 ids, v5.0 ids) it declares, for controls that declare any."""
    return {
        item.meta.id: (item.meta.references.cis_ids("4.0"), item.meta.references.cis_ids("5.0"))
        for item in default_registry()
        if item.meta.references.cis
    }


def _sort_key(rec_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in rec_id.split("."))


def test_the_table_holds_each_version_once_and_72_automated() -> None:
    """The reference itself: ids unique per version, v4.0 complete (84, 72 of them Automated)."""
    v4 = [r.v4 for r in RECOMMENDATIONS if r.v4]
    v5 = [r.v5 for r in RECOMMENDATIONS if r.v5]
    assert [i for i, n in Counter(v4).items() if n > 1] == []
    assert [i for i, n in Counter(v5).items() if n > 1] == []
    assert len(v4) == 84 and len(AUTOMATED_V4) == 72
    assert all(r.v5 for r in RECOMMENDATIONS), "every v4.0 recommendation carried into v5.0"
    assert v4 == sorted(v4, key=_sort_key) and v5 == sorted(v5, key=_sort_key), "rows in benchmark order"


def _mismatches(declared: Declared) -> list[str]:
    """Why each declared reference fails the table: an unknown id, or v4.0 and v5.0 ids that are not
    the same recommendation (an id renumbered on one side only points an auditor elsewhere)."""
    problems: list[str] = []
    for control, (v4_ids, v5_ids) in sorted(declared.items()):
        problems += [f"{control}: v4.0 {x} is no recommendation" for x in v4_ids if x not in BY_V4]
        problems += [f"{control}: v5.0 {y} is no recommendation" for y in v5_ids if y not in BY_V5]
        for x in v4_ids:
            want = BY_V4[x].v5 if x in BY_V4 else None
            if want and want not in v5_ids:
                problems.append(f"{control}: v4.0 {x} is v5.0 {want}, but the control names v5.0 {list(v5_ids)}")
        for y in v5_ids:
            back = BY_V5[y].v4 if y in BY_V5 else ""
            if back and back not in v4_ids:
                problems.append(f"{control}: v5.0 {y} is v4.0 {back}, but the control names v4.0 {list(v4_ids)}")
    return problems


def test_every_declared_reference_names_one_recommendation_in_both_versions() -> None:
    """A control naming v4.0 X names v5.0 table[X].v5, and each v5.0 id it names maps back."""
    assert _mismatches(_declared()) == []


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"X-1": (("3.8",), ("3.8",))}, ["v4.0 3.8 is v5.0 3.10"]),  # v5.0 3.8 is VPC Service Controls
        ({"X-1": (("6.6",), ("6.6",))}, ["v4.0 6.6 is v5.0 6.7"]),  # v5.0 6.6 is IAM database authentication
        ({"X-1": ((), ("3.10",))}, ["v5.0 3.10 is v4.0 3.8"]),
        ({"X-1": ((), ("9.9",))}, ["v5.0 9.9 is no recommendation"]),
        ({"X-1": (("2.4", "2.5"), ("2.5",))}, ["v4.0 2.5 is v5.0 2.6"]),
        ({"X-1": (("3.x",), ())}, ["v4.0 3.x is no recommendation"]),
        ({"X-1": (("1.1",), ("1.2",))}, []),
    ],
)
def test_a_shifted_or_unknown_id_is_caught(declared: Declared, expected: list[str]) -> None:
    found = _mismatches(declared)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), found


def test_every_automated_v4_recommendation_is_judged_by_a_control() -> None:
    mapped = {x for v4_ids, _ in _declared().values() for x in v4_ids}
    missing = [x for x in AUTOMATED_V4 if x not in mapped]
    detail = "\n".join(f"  {x} (v5.0 {BY_V4[x].v5}): {BY_V4[x].title}" for x in missing)
    assert missing == [], f"{len(missing)} of {len(AUTOMATED_V4)} automated v4.0 recommendations unmapped:\n{detail}"
