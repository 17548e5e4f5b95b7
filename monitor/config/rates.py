"""Request rates per Google API (`gcp.rate_limits`), written `N/s` or `N/m`.

Google charges every read to the quota project of the caller's credentials, per API and
per minute, whichever project the read is about: 1,000 watched projects share one budget
per API. The defaults sit below Google's published default read quotas, so a sweep of the
whole estate never runs into them by itself (README, "Quotas"):

- Compute Engine: 1,500 read and 1,500 list requests per minute per project (the rate
  quota groups of its "API rate limits" page); 20/s is 1,200 a minute.
- BigQuery: API requests, 100 a second per user per method (its "Quotas and limits"
  page); 8/s (480 a minute) keeps the dataset and table reads of a sweep far below.
- Dataproc: cluster requests are counted per project and region per minute; we assume
  no more than 200 a minute and take 2/s (120): one listing per region per project.
- Resource Manager: reads and lists of projects, folders and organisations, 600 a minute
  per API consumer project (its "Quotas and limits" page); 8/s is 480.
- Cloud Logging: control requests (sinks, log-based metrics), 600 a minute per project
  (its "Quotas and limits" page); 8/s is 480.
- IAM: read requests (service accounts, their keys), 6,000 a minute per project (its
  "Quotas and limits" page); 8/s is 480, far below, as for the other control-plane APIs.
- Cloud Storage: bucket reads (list, getIamPolicy) have no published per-minute quota;
  8/s is 480, as conservative as Logging's.
- Cloud SQL Admin: its per-minute read quota shows on the project's Quotas page (filter
  "Cloud SQL Admin API"); we assume no more than 180 a minute and take 2/s (120), the
  lowest default here: one listing and one backup-run listing per primary instance.
- Organization Policy: `getEffectivePolicy`, nine reads a project per run; we assume no
  more than 600 a minute, as Resource Manager's, and take 8/s (480).
- Cloud DNS: two listings a project per run (managed zones, server policies). Its read
  quota shows on the project's Quotas page (filter "Cloud DNS API"); we assume no less
  than Logging's 600 a minute and take 8/s (480), as for the other control-plane APIs.
- Cloud Monitoring: alert-policy reads are "Monitoring API read requests", 6,000 a minute
  per project (its "Quotas and limits" page); one listing a project per run, 8/s (480).
- Service Usage: "Read requests" 1,200 a minute per consumer project (its quotas page);
  one filtered listing a project per run, 8/s (480).
- Access Approval: its read quota shows on the project's Quotas page; we assume no more than
  600 a minute, as Resource Manager's: one read a project per run, 8/s (480).
- Cloud KMS: read requests, 300 a minute per project (its "Quotas" page, "Read requests");
  4/s is 240. A project takes 1 + locations (about 40) + 2 x rings + keys reads a run.
- API Keys: one listing a project; we assume no more than 600 reads a minute, and take 4/s.
- Essential Contacts: one `contacts:compute` a project; we assume no more than 600 reads a
  minute, and take 4/s.

A value is kept as requests per second; a bare number is refused, as a duration's is.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, PlainValidator

from checks.kinds import APIS

_RATE = re.compile(r"^(\d+(?:\.\d+)?)\s*/\s*(s|m)$")
_PER = {"s": 1.0, "m": 60.0}
_HINT = "write requests per second or per minute, e.g. '20/s' or '1200/m'"

#: API name -> requests per second, below Google's published default read quota of that API
DEFAULT_RATES: Mapping[str, float] = MappingProxyType(
    {
        "compute": 20.0,
        "bigquery": 8.0,
        "dataproc": 2.0,
        "cloudresourcemanager": 8.0,
        "logging": 8.0,
        "storage": 8.0,
        "sqladmin": 2.0,
        "iam": 8.0,
        "orgpolicy": 8.0,
        "dns": 8.0,
        "monitoring": 8.0,
        "serviceusage": 8.0,
        "accessapproval": 8.0,
        "cloudkms": 4.0,
        "apikeys": 4.0,
        "essentialcontacts": 4.0,
    }
)


def parse_rate(value: object) -> float:
    """`20/s` or `1200/m` -> requests per second; raises ValueError saying what is wrong."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a rate such as '20/s', got {type(value).__name__}")
    if not isinstance(value, str):
        raise ValueError(f"{value!r} has no unit: write '{value}/s' or '{value}/m'")
    match = _RATE.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a rate: {_HINT}")
    rate = float(match.group(1)) / _PER[match.group(2)]
    if rate <= 0:
        raise ValueError(f"{value!r}: a rate must be more than 0 (a limit of nothing would fail every call)")
    return rate


def format_rate(per_second: float) -> str:
    """The rate as the config writes it: per second when whole, else per minute (`0.5` -> `30/m`)."""
    if float(per_second).is_integer():
        return f"{int(per_second)}/s"
    per_minute = round(per_second * 60, 6)
    return f"{int(per_minute) if per_minute.is_integer() else per_minute}/m"


def _api_name(value: str) -> str:
    known = list(APIS)
    if value not in known:
        close = difflib.get_close_matches(value, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        raise ValueError(f"unknown API {value!r}{hint}")
    return value


#: requests per second, written `N/s` or `N/m`
Rate = Annotated[float, PlainValidator(parse_rate), PlainSerializer(format_rate, return_type=str, when_used="json")]
#: an API name of the kind table (`compute`, `cloudresourcemanager`, `logging`)
ApiName = Annotated[str, AfterValidator(_api_name)]


def with_defaults(rates: Mapping[str, float]) -> dict[str, float]:
    """The rates written in the file over the defaults: an API left out keeps its default."""
    return {**DEFAULT_RATES, **rates}
