"""Reading a customer-managed encryption key (CMEK) setting, as BigQuery and Dataproc carry it.

A setting is an object holding a Cloud KMS key name (`encryptionConfiguration.kmsKeyName`,
`encryptionConfig.gcePdKmsKeyName`). Absent, null or empty means Google's own key (the
APIs' default); a key name that is not `projects/P/locations/L/keyRings/R/cryptoKeys/K`
(a version suffix allowed) is unreadable, never taken for a key.
"""

from __future__ import annotations

import re

from checks.kernel import JSON, Unjudgeable

_KEY = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+(/cryptoKeyVersions/[^/]+)?")


def section(resource: JSON, field: str, path: str = "") -> JSON:
    """The object `resource[field]`, {} when absent or null; Unjudgeable naming `path + field` otherwise."""
    value = resource.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unjudgeable(path + field, f"{value!r} is not an object")
    return value


def key_name(setting: JSON, field: str, path: str) -> str | None:
    """The Cloud KMS key named in `setting[field]`; None when unset (Google-managed)."""
    value = setting.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise Unjudgeable(path + field, f"{value!r} is not a Cloud KMS key name")
    return value
