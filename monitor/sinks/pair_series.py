"""The per-control series of `/metrics`, drawn once per scope run rather than at every scrape.

A thousand scopes × every control is some 300,000 series: building them as metric objects
and encoding them at each scrape took seconds. Here each scope's lines of each family are
drawn by prometheus_client's own encoders (so every line is exactly what it would write)
when the scope changes — after its run, or a reload — and a scrape joins the kept text:
each family's header, then every scope's lines of it, in scope order. A scope drawn for
an older state of the store (its generation moved) is drawn again before the scrape uses it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder

from monitor.sinks.store import ResultStore, StoreView

Families = Callable[[StoreView | None], Iterable[Metric]]
Encoder = Callable[[Any], bytes]
#: what Prometheus sends (OpenMetrics first); curl sends nothing (text 0.0.4)
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def _format(accept: str) -> tuple[str, Encoder]:
    encoder, content_type = choose_encoder(accept)
    return content_type, encoder


#: the formats drawn after every run, by content type; another one is learnt at its first scrape
DEFAULT_FORMATS: dict[str, Encoder] = dict(_format(accept) for accept in ("", PROMETHEUS_ACCEPT))
#: formats kept at most (a scrape asking for yet another is encoded from the registry instead)
MAX_FORMATS = 6


class _Fixed:
    """A collector of given families, for the encoders."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Sequence[Metric]:
        return self._families


def _split(text: str, count: int) -> tuple[tuple[str, str], ...]:
    """The encoder's output of `count` families -> (header, sample lines) of each, in order."""
    parts: list[tuple[list[str], list[str]]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP "):
            parts.append(([line], []))
        elif line.startswith("# EOF"):
            continue
        elif line.startswith("#"):
            parts[-1][0].append(line)
        else:
            parts[-1][1].append(line)
    if len(parts) != count:
        raise ValueError(f"expected {count} families in the encoded text, found {len(parts)}")
    return tuple(("".join(header), "".join(lines)) for header, lines in parts)


def _encode(families: Sequence[Metric], encoder: Encoder) -> tuple[tuple[str, str], ...]:
    return _split(encoder(_Fixed(families)).decode(), len(families))


class PairSeries:
    """Kept text of each scope's per-control series, per exposition format (content type)."""

    def __init__(self, store: ResultStore, families: Families) -> None:
        self._store = store
        self._families = families
        self._lock = threading.Lock()
        self._formats: dict[str, Encoder] = dict(DEFAULT_FORMATS)
        self._headers = {key: self._header(encoder) for key, encoder in self._formats.items()}
        self._drawn: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {}

    def _header(self, encoder: Encoder) -> tuple[str, ...]:
        return tuple(header for header, _ in _encode(list(self._families(None)), encoder))

    def draw(self, scope: str) -> None:
        """Draw `scope`'s lines now from the store (after its run): the next scrape only joins them."""
        generation, view = self._store.scope_view(scope)
        families = list(self._families(view))
        with self._lock:
            formats = dict(self._formats)
        drawn = {key: tuple(lines for _, lines in _encode(families, encoder)) for key, encoder in formats.items()}
        with self._lock:
            kept = self._drawn.get(scope)
            if kept is None or kept[0] <= generation:
                self._drawn[scope] = (generation, drawn)

    def _current(self, scope: str, generation: int, key: str) -> bool:
        kept = self._drawn.get(scope)
        return kept is not None and kept[0] == generation and key in kept[1]

    def render(self, key: str, encoder: Encoder, tail: StoreView) -> str | None:
        """Every family in format `key`: its header, every scope's lines, then the lines of `tail`
        (pairs of no scope: the per-area counts). Scopes whose store state moved since drawn are
        drawn first. None for a format beyond the `MAX_FORMATS` kept: encode the registry then."""
        with self._lock:
            if key not in self._formats:
                if len(self._formats) >= MAX_FORMATS:
                    return None
                self._formats[key] = encoder
                self._headers[key] = self._header(encoder)
        generations = self._store.generations()
        with self._lock:
            for scope in set(self._drawn) - set(generations):
                del self._drawn[scope]
            stale = [s for s, g in generations.items() if not self._current(s, g, key)]
        for scope in stale:
            self.draw(scope)
        with self._lock:
            drawn = [self._drawn[s][1] for s in sorted(self._drawn) if s in generations]
            scopes = [lines[key] for lines in drawn if key in lines]
            headers = self._headers[key]
        tails = [lines for _, lines in _encode(list(self._families(tail)), encoder)]
        out: list[str] = []
        for index, header in enumerate(headers):
            out.append(header)
            out.extend(drawn[index] for drawn in scopes)
            out.append(tails[index])
        return "".join(out)
