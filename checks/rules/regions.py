"""The locations `region.allowed` may name: Google Cloud's regions, and Cloud Storage's
multi-regions and predefined dual-regions, as Google lists them (December 2026).

A shipped list rather than a pattern: `europe-west5` looks like a region but there is none,
and a typo in the allowed list would otherwise make every resource there fail, or (in a
list of several) quietly approve nothing. When Google opens a region, add it here.
"""

from __future__ import annotations

REGIONS = frozenset(
    {
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
    }
)
# Cloud Storage (and snapshot storage) multi-regions, in either case, and predefined dual-regions.
MULTI_REGIONS = frozenset({"eu", "us", "asia", "EU", "US", "ASIA"})
DUAL_REGIONS = frozenset({"asia1", "eur4", "eur5", "eur7", "eur8", "nam4"})

KNOWN_LOCATIONS = REGIONS | MULTI_REGIONS | DUAL_REGIONS
