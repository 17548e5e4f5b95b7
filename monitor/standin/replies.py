"""What the stand-in answers: a reply, and errors shaped exactly as Google sends them.

Clients pick the exception class from the HTTP status only, but callers read `e.reason`
(the first `google.rpc.ErrorInfo` in `details`) and `e.errors` (the legacy `errors` list)
to tell a disabled API from a quota from a plain denial, so both are always present.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks.kinds import APIS

JSON_TYPE = "application/json; charset=UTF-8"

#: HTTP status -> google.rpc.Code name
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
#: HTTP status -> (legacy `errors[].reason`, its domain, default message)
_LEGACY = {
    400: ("badRequest", "global", "Invalid request."),
    401: ("required", "global", "Request is missing required authentication credential."),
    403: ("forbidden", "global", "The caller does not have permission"),
    404: ("notFound", "global", "Requested entity was not found."),
    409: ("conflict", "global", "The operation was aborted."),
    412: ("conditionNotMet", "global", "Precondition check failed."),
    429: ("rateLimitExceeded", "usageLimits", "Quota exceeded."),
    500: ("backendError", "global", "Internal error encountered."),
    501: ("notImplemented", "global", "Operation is not implemented, or supported, or enabled."),
    503: ("backendError", "global", "The service is currently unavailable."),
    504: ("deadlineExceeded", "global", "The request timed out."),
}
#: API name -> (service name, title), for ErrorInfo metadata and messages
SERVICES = {api.name: (api.host, api.title) for api in APIS.values()}
# What Google's front end sends for a 502: an HTML page, not JSON.
_BAD_GATEWAY_HTML = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    "  <title>Error 502 (Server Error)!!1</title>\n"
    "  <p><b>502.</b> <ins>That’s an error.</ins>\n"
    "  <p>The server encountered a temporary error and could not complete your request."
    "<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>\n"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer: a JSON `payload`, or `raw` bytes of `content_type`."""

    status: int
    payload: Any = None
    raw: bytes | None = None
    content_type: str = JSON_TYPE

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.payload, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A `google.rpc.ErrorInfo` detail: what `GoogleAPICallError.reason` reads."""

    reason: str
    domain: str = "googleapis.com"
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": self.reason,
            "domain": self.domain,
            "metadata": dict(self.metadata),
        }


class ApiError(Exception):
    """An error answer; raise it from a route, or build one from a fault."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        reason: str | None = None,
        domain: str | None = None,
        info: ErrorInfo | None = None,
    ) -> None:
        legacy_reason, legacy_domain, default = _LEGACY.get(status, ("unknown", "global", "Error."))
        self.status = status
        self.message = message or default
        self.reason = reason or legacy_reason
        self.domain = domain or legacy_domain
        self.info = info
        super().__init__(f"{status} {self.message}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}],
        }
        if self.status in STATUS_NAMES:
            error["status"] = STATUS_NAMES[self.status]
        if self.info is not None:
            error["details"] = [self.info.to_json()]
        return {"error": error}

    def reply(self) -> Reply:
        if self.status == 502:
            return Reply(502, raw=_BAD_GATEWAY_HTML.encode(), content_type="text/html; charset=UTF-8")
        return Reply(self.status, self.body())


def not_found(resource: str) -> ApiError:
    """Compute's 404: `The resource 'projects/p/global/firewalls/f' was not found`."""
    return ApiError(404, f"The resource '{resource}' was not found", reason="notFound")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, reason="invalid")


def unknown_parameter(name: str) -> ApiError:
    """The front end's answer to a query parameter the method does not declare."""
    return ApiError(
        400,
        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
        f"Field '{name}' could not be found in request message.",
        reason="badRequest",
        info=ErrorInfo("INVALID_ARGUMENT", metadata={"parameter": name}),
    )


def permission_denied(permission: str, resource: str, *, api: str, message: str | None = None) -> ApiError:
    """A plain IAM denial, as Resource Manager words it for missing and forbidden resources alike."""
    service = SERVICES.get(api, (f"{api}.googleapis.com", api))[0]
    return ApiError(
        403,
        message or f"Permission '{permission}' denied on resource '//{service}/{resource}' (or it may not exist).",
        reason="forbidden",
        info=ErrorInfo(
            "IAM_PERMISSION_DENIED",
            domain="iam.googleapis.com",
            metadata={"permission": permission, "resource": resource},
        ),
    )


def service_disabled(api: str, project_number: str | None, *, message: str | None = None) -> ApiError:
    """403 for an API that is not enabled: legacy `accessNotConfigured`, ErrorInfo `SERVICE_DISABLED`."""
    service, title = SERVICES.get(api, (f"{api}.googleapis.com", api))
    consumer = project_number or "0"
    url = f"https://console.developers.google.com/apis/api/{service}/overview?project={consumer}"
    return ApiError(
        403,
        message
        or (
            f"{title} has not been used in project {consumer} before or it is disabled. Enable it by "
            f"visiting {url} then retry. If you enabled this API recently, wait a few minutes for the "
            "action to propagate to our systems and retry."
        ),
        reason="accessNotConfigured",
        domain="usageLimits",
        info=ErrorInfo(
            "SERVICE_DISABLED",
            metadata={
                "service": service,
                "consumer": f"projects/{consumer}",
                "serviceTitle": title,
                "containerInfo": consumer,
                "activationUrl": url,
            },
        ),
    )


def rate_limited(api: str, project_number: str | None, *, status: int = 429, message: str | None = None) -> ApiError:
    """A per-minute quota refusal: 429 RESOURCE_EXHAUSTED (or legacy 403 `rateLimitExceeded`)."""
    service, _ = SERVICES.get(api, (f"{api}.googleapis.com", api))
    consumer = project_number or "0"
    return ApiError(
        status,
        message
        or (
            f"Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' "
            f"of service '{service}' for consumer 'project_number:{consumer}'."
        ),
        reason="rateLimitExceeded",
        domain="usageLimits",
        info=ErrorInfo(
            "RATE_LIMIT_EXCEEDED",
            metadata={
                "service": service,
                "consumer": f"projects/{consumer}",
                "quota_metric": f"{service}/read_requests",
                "quota_limit": "ReadRequestsPerMinutePerProject",
                "quota_limit_value": "1200",
            },
        ),
    )
