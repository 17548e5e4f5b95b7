"""Full resource names (`//compute.googleapis.com/projects/p/global/firewalls/f`) for results."""

from __future__ import annotations

from typing import Any

_COMPUTE_PREFIXES = (
    "https://www.googleapis.com/compute/v1/",
    "https://compute.googleapis.com/compute/v1/",
)


def compute_name(resource: dict[str, Any], scope: str, collection: str) -> str:
    """Full name of a Compute resource, from its selfLink or, failing that, its location."""
    link = str(resource.get("selfLink", ""))
    for prefix in _COMPUTE_PREFIXES:
        if link.startswith(prefix):
            return "//compute.googleapis.com/" + link[len(prefix) :]
    name = resource.get("name", "?")
    location = "global"
    if resource.get("zone"):
        location = "zones/" + last_segment(str(resource["zone"]))
    elif resource.get("region"):
        location = "regions/" + last_segment(str(resource["region"]))
    return f"//compute.googleapis.com/projects/{scope}/{location}/{collection}/{name}"


def project_name(scope: str) -> str:
    return f"//cloudresourcemanager.googleapis.com/projects/{scope}"


def last_segment(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
