"""Which form of `/results` a client gets: JSON unless it explicitly prefers HTML.

Scripts, `curl` (`Accept: */*`), `controlwatch results` (no `Accept`) and Prometheus-side
tooling have always read JSON here, so JSON stays the answer to anything that does not name
`text/html`. A browser names it first (`text/html,...,*/*;q=0.8`) and gets the page. A
`format` query parameter (`json` or `html`) overrides the header, for links and tests.
"""

from __future__ import annotations

HTML, JSON = "html", "json"
FORMATS = (JSON, HTML)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _media_ranges(accept: str) -> dict[str, float]:
    """`type/subtype` -> its quality (the highest when one repeats); malformed parts are ignored."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0  # an unreadable weight is no preference at all
        media = media.lower()
        ranges[media] = max(quality, ranges.get(media, 0.0))
    return ranges


def prefers_html(accept: str | None) -> bool:
    """Whether `accept` names an HTML type, with a weight above what it gives JSON.

    JSON's weight is that of `application/json`, else `application/*`, else `*/*`: so
    `text/html, application/json` (a tie) stays JSON, and `*/*` alone never gets HTML.
    """
    if not accept:
        return False
    ranges = _media_ranges(accept)
    html = max((ranges.get(media, 0.0) for media in _HTML_TYPES), default=0.0)
    if html <= 0.0:
        return False
    for media in ("application/json", "application/*", "*/*"):
        if media in ranges:
            return html > ranges[media]
    return True


def chosen_format(accept: str | None, format_param: str | None) -> str:
    """`html` or `json`: the `format` parameter when given (already validated), else the header."""
    if format_param is not None:
        return format_param
    return HTML if prefers_html(accept) else JSON
