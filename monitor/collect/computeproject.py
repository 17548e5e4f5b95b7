"""The project as Compute Engine sees it: one `projects.get`, for its common instance metadata.

An instance inherits the project's metadata (`commonInstanceMetadata`) for every key it
does not set itself: OS Login and the interactive serial console are decided that way
(`checks/vm.py`). The answer is the REST JSON the `Caller` checked against the row's
envelope (kind `compute#project`, a `name`), every field as the API sent it. A disabled
Compute Engine API raises `ServiceDisabled` like every Compute kind: the project has no
instances then, so the kind is empty with its note, never an error.
"""

from __future__ import annotations

from typing import Any

from checks.kernel import JSON
from monitor.collect.calls import Caller
from monitor.collect.convert import to_json


def compute_project(client: Any, project_id: str, call: Caller, page_size: int | None = None) -> list[JSON]:
    """The compute v1 Project of `project_id`, as a one-element list."""
    message = call(lambda timeout: client.get(project=project_id, retry=None, timeout=timeout))
    answer = call.answer
    return [answer if isinstance(answer, dict) else to_json(message)]
