"""Google messages to the REST API's own JSON, so no Google type leaves the collectors."""

from __future__ import annotations

from typing import Any

from checks.kernel import JSON


def to_json(message: Any) -> JSON:
    """A proto-plus message as the REST API writes it (camelCase, enum names, no unset fields)."""
    result: JSON = type(message).to_dict(
        message,
        use_integers_for_enums=False,
        preserving_proto_field_name=False,
        always_print_fields_with_no_presence=False,
    )
    return result


def protobuf_json(message: Any) -> JSON:
    """A raw protobuf message (the IAM `Policy`) as REST writes it: camelCase, enum names, bytes base64."""
    from google.protobuf.json_format import MessageToDict

    result: JSON = MessageToDict(message, preserving_proto_field_name=False, use_integers_for_enums=False)
    return result
