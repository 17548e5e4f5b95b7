"""Routes built from the discovery method table, so paths and parameters match the real API.

Every method of the served APIs gets a route from its `flatPath`: the ones with a
handler answer from the scenario, the others answer 501 naming the method, so a
collector calling something the stand-in lacks fails loudly. Query parameters are
checked against what the method declares (plus the API's global ones, and the `$alt`
Resource Manager's client adds): anything else is answered 400 naming it, as Google's
front end does.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from monitor.standin.discovery import DOCUMENTS, Api, Method, load_api
from monitor.standin.replies import ApiError, Reply, bad_request, unknown_parameter
from monitor.standin.scenario import Scenario

T = TypeVar("T")
#: query parameters the clients add that no discovery document declares
CLIENT_PARAMETERS = frozenset({"$alt"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Call:
    """One routed request as a handler sees it."""

    method: Method
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    scenario: Scenario
    #: request headers, names lower-cased (mutations read `x-standin-principal`, `user-agent`)
    headers: Mapping[str, str] = field(default_factory=dict)

    def int_query(self, name: str, default: int) -> int:
        value = self.query.get(name)
        return default if value is None else int(value)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: Method
    pattern: re.Pattern[str]
    handler: Handler | None


def _pattern(url_path: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(url_path):
        parts.append(re.escape(url_path[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>[^/:]+)")
        last = match.end()
    parts.append(re.escape(url_path[last:]))
    return re.compile("^" + "".join(parts) + "$")


class Router:
    """Matches (HTTP method, path) to a discovery method and its handler, if any."""

    def __init__(self, handlers: Mapping[str, Handler], apis: Iterable[str] = tuple(DOCUMENTS)) -> None:
        self.apis: dict[str, Api] = {name: load_api(name) for name in apis}
        routes: list[Route] = []
        for api in self.apis.values():
            for method in api.methods.values():
                routes.append(Route(method, _pattern(method.url_path), handlers.get(method.id)))
        missing = set(handlers) - {r.method.id for r in routes}
        if missing:
            raise ValueError(f"handlers for methods no discovery document declares: {sorted(missing)}")
        # The most literal template wins (`…/instances/bulkInsert` before `…/instances/{instance}`).
        routes.sort(key=lambda r: -len(_PLACEHOLDER.sub("", r.method.url_path)))
        self._routes: dict[str, list[Route]] = {}
        for route in routes:
            self._routes.setdefault(route.method.http_method, []).append(route)
        self._by_id = {route.method.id: route for route in routes}

    def route(self, method_id: str) -> Route | None:
        """The route of an API method id (`compute.networks.list`), None if no document declares it."""
        return self._by_id.get(method_id)

    def match(self, http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self._routes.get(http_method, ()):
            found = route.pattern.match(path)
            if found:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None

    def check_query(self, method: Method, query: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """The query as name -> value, or ApiError 400 for an undeclared or mistyped parameter."""
        allowed = method.query_parameters() | self.apis[method.api].global_parameters | CLIENT_PARAMETERS
        checked: dict[str, str] = {}
        for name, values in query.items():
            if name not in allowed:
                raise unknown_parameter(name)
            value = values[-1]
            param = method.parameters.get(name)
            if param is not None and param.type == "integer" and not re.fullmatch(r"-?\d+", value):
                raise bad_request(f"Invalid value at '{name}' (TYPE_{(param.format or 'int32').upper()}), \"{value}\"")
            if param is not None and param.type == "boolean" and value not in ("true", "false"):
                raise bad_request(f"Invalid value at '{name}' (TYPE_BOOL), \"{value}\"")
            checked[name] = value
        return checked


def page(items: Sequence[T], token: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of `items` from `token` (an offset), and the token of the next page."""
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise ApiError(400, f"Invalid value for field 'pageToken': '{token}'. Invalid page token.")
        start = int(token)
    end = start + size
    return list(items[start:end]), (str(end) if end < len(items) else None)
