"""Which deny rules shadow an allow rule (the "shadowed" rule every FW control shares), found through an index.

Comparing every allow rule with every other rule is quadratic: minutes at 30k rules. The
`ShadowIndex` files the deny rules that can shadow anything (enabled, ingress, not narrowed,
with an internet range) by network and by target: all instances, one set of target tags,
or one set of target service accounts. An allow rule then meets only the groups whose
targets cover its own (`targets_cover`): its network's all-instances group, and the groups
whose tag (or account) set holds all of its own, found through the rarest of its tags.

Within a group, the order of precedence (priority, then name, then position: deny wins
ties) decides everything, so each group keeps, per address family and protocol, its
*first-coverer map*: disjoint port segments, each with the first deny rule (in that order)
that covers it, computed once by a sweep. Against an allow rule at priority P, a pair is
shadowed exactly when its first coverer has priority <= P, and the deny rules that remove
something are exactly the first coverers of the pairs it opens: what `can_shadow` defines
pair by pair, without comparing every pair (`tests/checks/rules/reference_exposure.py`
keeps the scan, and the tests hold the index to it).

Cost: indexing is O(E log E), E the deny rules' (protocol, port range) entries; judging one
allow rule per family is O(P * G * log E + S log S): P the protocols it opens (256 for
`all`), G the groups its targets meet, S the segments of those groups overlapping what it
opens. None of these grows with the number of rules on real estates (a handful of groups,
a few segments per protocol), so judging n rules is near-linear (measured by
`benchmarks/firewall_scale.py`, held by `tests/checks/rules/test_shadowing.py`). Worst
case: D deny rules of one group cutting the ports an allow rule opens into D slices that
take precedence over it (the reason then names them all), each of A allow rules paying
O(D): O(A * D), no worse than the scan it replaces. Slices below it in precedence are
passed over a block of 32 at a time.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush

from checks.rules.network import ALL, Coverage, Rule, merge_ranges, subtract_ranges

Key = tuple[int, str, int]  # (priority, name, position): the order deny rules take precedence in
Segment = tuple[int, int, Key, Rule]  # ports low..high of one protocol, first covered by that rule
_ALL_INSTANCES: frozenset[str] = frozenset()


def targets_cover(deny: Rule, allow: Rule) -> bool:
    """Whether `deny` applies to every instance `allow` applies to (tags against service
    accounts cannot be compared, so they do not cover)."""
    if not deny.target_tags and not deny.target_accounts:
        return True
    if allow.target_tags:
        return allow.target_tags <= deny.target_tags
    if allow.target_accounts:
        return allow.target_accounts <= deny.target_accounts
    return False


def can_shadow(deny: Rule, allow: Rule) -> bool:
    """An enabled ingress deny of the same network, taking precedence (deny wins ties), whose
    targets cover the allow's. Which families and pairs it removes is up to `exposure`."""
    return (
        not deny.allow
        and deny.ingress
        and deny.enabled
        and not deny.narrowed
        and deny.network is not None
        and deny.network == allow.network
        and deny.priority <= allow.priority
        and targets_cover(deny, allow)
    )


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an ingress allow rule opens to the internet, per address family."""

    opened: Mapping[int, Coverage]  # before shadowing
    effective: Mapping[int, Coverage]  # after shadowing
    shadowed_by: tuple[Rule, ...]  # the deny rules that removed something, in precedence order


def _envelope(pieces: list[Segment]) -> list[Segment]:
    """The lowest-key piece at every port the pieces cover, as disjoint segments (a sweep)."""
    pieces.sort(key=lambda piece: piece[0])
    heap: list[tuple[Key, int, Rule]] = []
    found: list[Segment] = []
    i, count, at = 0, len(pieces), 0
    while i < count or heap:
        if not heap:
            at = max(at, pieces[i][0])
        while i < count and pieces[i][0] <= at:
            low, high, key, rule = pieces[i]
            heappush(heap, (key, high, rule))
            i += 1
        while heap and heap[0][1] < at:
            heappop(heap)
        if not heap:
            continue
        key, high, rule = heap[0]
        end = high if i == count else min(high, pieces[i][0] - 1)
        if found and found[-1][2] == key and found[-1][1] == at - 1:
            found[-1] = (found[-1][0], end, key, rule)
        else:
            found.append((at, end, key, rule))
        at = end + 1
    return found


class _Segments:
    """One protocol's first-coverer map: disjoint segments by port, with the best priority of
    each block of `BLOCK` segments, so that a run of rules all below an allow rule in
    precedence is skipped a block at a time."""

    BLOCK = 32
    __slots__ = ("best", "segments", "starts")

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self.starts = [segment[0] for segment in segments]
        self.best = [min(s[2][0] for s in segments[i : i + self.BLOCK]) for i in range(0, len(segments), self.BLOCK)]

    def overlapping(self, ranges: Sequence[tuple[int, int]], priority: int, into: list[Segment]) -> int:
        """Adds the parts inside `ranges` whose rule takes precedence at `priority`; returns how
        many segments and blocks it looked at."""
        looked, segments, count = 0, self.segments, len(self.segments)
        for low, high in ranges:
            i = max(bisect_right(self.starts, low) - 1, 0)
            while i < count and segments[i][0] <= high:
                looked += 1
                if i % self.BLOCK == 0 and self.best[i // self.BLOCK] > priority:
                    i += self.BLOCK  # no rule of this block takes precedence
                    continue
                seg_low, seg_high, key, deny = segments[i]
                if seg_high >= low and key[0] <= priority:
                    into.append((max(seg_low, low), min(seg_high, high), key, deny))
                i += 1
        return looked


@dataclass(slots=True)
class _Group:
    """The deny rules of one network with one target set; first-coverer maps built on first use."""

    denies: list[tuple[Key, Rule]] = field(default_factory=list)
    maps: dict[int, dict[int, _Segments]] = field(default_factory=dict)

    def first_coverers(self, family: int) -> dict[int, _Segments]:
        """Per protocol, the first-coverer map of the group's rules of `family`."""
        if family not in self.maps:
            pieces: dict[int, list[Segment]] = {}
            seen: set[Coverage] = set()
            for key, rule in sorted(self.denies, key=lambda item: item[0]):
                if family not in rule.internet or rule.coverage in seen:
                    continue  # a rule covering only what an earlier one covers is never first
                seen.add(rule.coverage)
                for number, ranges in rule.coverage.protocols:
                    pieces.setdefault(number, []).extend((low, high, key, rule) for low, high in ranges)
            self.maps[family] = {number: _Segments(_envelope(found)) for number, found in pieces.items()}
        return self.maps[family]


class ShadowIndex:
    """The deny rules of a rule set filed for `exposure`; `comparisons` counts the segments and
    groups looked at, so that tests can hold the work to the rule count."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._groups: dict[tuple[str, bool, frozenset[str]], _Group] = {}
        self._by_target: dict[tuple[str, bool, str], list[frozenset[str]]] = {}
        self._meets: dict[tuple[str | None, bool, frozenset[str]], list[_Group]] = {}
        self.comparisons = 0
        for position, rule in enumerate(rules):
            if rule.allow or not rule.ingress or not rule.enabled or rule.narrowed or rule.network is None:
                continue
            if not rule.internet:
                continue  # shadows no family
            entry = ((rule.priority, rule.name, position), rule)
            if not rule.target_tags and not rule.target_accounts:
                self._file(rule.network, False, _ALL_INSTANCES, entry)
            if rule.target_tags:
                self._file(rule.network, True, rule.target_tags, entry)
            if rule.target_accounts:
                self._file(rule.network, False, rule.target_accounts, entry)

    def _file(self, network: str, tags: bool, targets: frozenset[str], entry: tuple[Key, Rule]) -> None:
        group = self._groups.get((network, tags, targets))
        if group is None:
            group = self._groups[(network, tags, targets)] = _Group()
            for target in targets:
                self._by_target.setdefault((network, tags, target), []).append(targets)
        group.denies.append(entry)

    def _groups_meeting(self, rule: Rule) -> list[_Group]:
        """The groups whose targets cover `rule`'s: `targets_cover`, one lookup per target set."""
        tags = bool(rule.target_tags)
        targets = rule.target_tags or rule.target_accounts
        cached = self._meets.get((rule.network, tags, targets))
        if cached is not None:
            return cached
        found: list[_Group] = []
        if rule.network is not None:
            every = self._groups.get((rule.network, False, _ALL_INSTANCES))
            found += [every] if every is not None else []
            if targets:
                sets = min((self._by_target.get((rule.network, tags, t), []) for t in targets), key=len)
                self.comparisons += len(sets)
                found += [self._groups[(rule.network, tags, s)] for s in sets if targets <= s]
        self._meets[(rule.network, tags, targets)] = found
        return found

    def exposure(self, rule: Rule, wanted: Coverage = ALL) -> Exposure:
        """The part of `wanted` the rule opens to the internet, judged as if it were enabled (a
        disabled rule's exposure is latent), and what remains after shadowing."""
        if not (rule.ingress and rule.allow):
            return Exposure({}, {}, ())
        groups = self._groups_meeting(rule)
        opened = rule.coverage & wanted
        effective: dict[int, Coverage] = {}
        shadowed_by: list[Rule] = []
        added: set[Key] = set()
        for family in sorted(rule.internet):
            left, removed_by = self._shadow(opened, rule.priority, [g.first_coverers(family) for g in groups])
            effective[family] = left
            for key in sorted(removed_by):
                if key not in added:
                    added.add(key)
                    shadowed_by.append(removed_by[key])
        shadowed_by.sort(key=lambda d: (d.priority, d.name))
        return Exposure({family: opened for family in sorted(rule.internet)}, effective, tuple(shadowed_by))

    def _shadow(
        self, opened: Coverage, priority: int, maps: Sequence[dict[int, _Segments]]
    ) -> tuple[Coverage, dict[Key, Rule]]:
        """What of `opened` no deny rule at `priority` or better covers, and the first coverers."""
        left: list[tuple[int, tuple[tuple[int, int], ...]]] = []
        removed_by: dict[Key, Rule] = {}
        for number, ranges in opened.protocols:
            pieces: list[Segment] = []
            sources = 0
            for protocol_map in maps:
                segments = protocol_map.get(number)
                if segments is not None:
                    before = len(pieces)
                    self.comparisons += segments.overlapping(ranges, priority, pieces)
                    sources += len(pieces) > before
            if sources > 1:
                pieces = _envelope(pieces)
            for _, _, key, deny in pieces:
                removed_by[key] = deny
            covered = merge_ranges((low, high) for low, high, _, _ in pieces)
            rest = subtract_ranges(ranges, covered) if covered else ranges
            if rest:
                left.append((number, rest))
        return Coverage(tuple(left)), removed_by


def exposure(rule: Rule, rules: Iterable[Rule], wanted: Coverage = ALL) -> Exposure:
    """`ShadowIndex(rules).exposure(rule, wanted)`: for one rule; index once to judge many."""
    return ShadowIndex(rules).exposure(rule, wanted)
