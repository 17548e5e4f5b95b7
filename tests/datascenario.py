"""The second catalogue's parts (Cloud SQL, Cloud Storage, IAM keys, organisation policies,
firewall policies) as the minimal scenario holds them: the names the client and route tests
read them by.

The parts themselves live in `tests/standin/data/scenario-minimal.json`, the stand-in
fixture every kind's tests share (a resource of every kind). Every resource is in its API's
REST shape, so the stand-in validates it against the discovery documents when it loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MINIMAL = Path(__file__).parent / "standin" / "data" / "scenario-minimal.json"
PROJECT = "example-shop"
NUMBER = "731234567890"
ORGANIZATION = "organizations/4242"
FOLDER = "folders/5501"
ACCOUNT = f"deployer@{PROJECT}.iam.gserviceaccount.com"


def document() -> dict[str, Any]:
    """A fresh copy of the minimal scenario, to edit."""
    doc: dict[str, Any] = json.loads(MINIMAL.read_text())
    return doc
