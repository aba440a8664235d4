"""Wire formats of the simulated AWS front: RDS Query API XML, and error bodies for every protocol.

Responses are serialized from botocore's own RDS service model (the shapes, member names and list member
names are read from it), so what the front answers parses exactly as a real RDS response does. Query API
reference: "Amazon RDS API Reference - Making API requests using the Query protocol".
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.parsers
import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

RDS_XMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"


@lru_cache(maxsize=4)
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def operation_model(operation: str, service: str = "rds") -> OperationModel:
    return service_model(service).operation_model(operation)


# ---------------------------------------------------------------- requests


def form_params(body: bytes) -> dict[str, str]:
    """A Query API body (application/x-www-form-urlencoded) as a flat dict, first value wins."""
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def encode_form(params: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(params).encode()


_FILTER_NAME = re.compile(r"^Filters\.Filter\.(\d+)\.Name$")


def query_filters(params: dict[str, str]) -> dict[str, list[str]]:
    """`Filters.Filter.N.Name` / `Filters.Filter.N.Values.Value.M` -> {name: [values]}."""
    out: dict[str, list[str]] = {}
    for key, name in params.items():
        m = _FILTER_NAME.match(key)
        if not m:
            continue
        prefix = f"Filters.Filter.{m.group(1)}.Values.Value."
        values = sorted(
            ((int(k[len(prefix) :]), v) for k, v in params.items() if k.startswith(prefix)),
        )
        out.setdefault(name, []).extend(v for _, v in values)
    return out


_CRED_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def credential_scope(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(region, service) from a SigV4 Authorization header."""
    auth = headers.get("authorization", "")
    m = _CRED_SCOPE.search(auth)
    return (m.group(1), m.group(2)) if m else (None, None)


def request_protocol_and_operation(path: str, headers: dict[str, str], body: bytes) -> tuple[str, str | None]:
    """Which protocol a request speaks and which operation it names (None when it cannot tell)."""
    target = headers.get("x-amz-target")
    if target:  # JSON protocol (kms, application-autoscaling, secretsmanager, ...)
        return "json", target.rsplit(".", 1)[-1]
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or "/operation/" in path:
        return "cbor", path.rstrip("/").rsplit("/", 1)[-1]
    ctype = headers.get("content-type", "")
    if "x-www-form-urlencoded" in ctype or body.startswith(b"Action="):
        return "query", form_params(body).get("Action")
    return "rest", None


# ---------------------------------------------------------------- responses


def _ts(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, date):
        return value.isoformat() + "T00:00:00.000Z"
    return str(value)


def _scalar(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        return _ts(value)
    return escape(str(value))


def _serialize(shape: Shape, value: Any, name: str, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(shape, StructureShape):
        out.append(f"<{name}>")
        for member_name, member_shape in shape.members.items():
            if member_name in value:
                loc = member_shape.serialization.get("name", member_name)
                _serialize(member_shape, value[member_name], loc, out)
        out.append(f"</{name}>")
    elif isinstance(shape, ListShape):
        item_name = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for item in value:
                _serialize(shape.member, item, name, out)
            return
        out.append(f"<{name}>")
        for item in value:
            _serialize(shape.member, item, item_name, out)
        out.append(f"</{name}>")
    elif isinstance(shape, MapShape):
        out.append(f"<{name}>")
        for k, v in value.items():
            out.append("<entry>")
            _serialize(shape.key, k, shape.key.serialization.get("name", "key"), out)
            _serialize(shape.value, v, shape.value.serialization.get("name", "value"), out)
            out.append("</entry>")
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(shape, value)}</{name}>")


def serialize_rds(operation: str, result: dict[str, Any]) -> bytes:
    """An RDS Query API success body for `operation` (`<XResponse><XResult>…</XResult>…`)."""
    op = operation_model(operation)
    shape = op.output_shape
    out: list[str] = [f'<?xml version="1.0" encoding="UTF-8"?><{operation}Response xmlns="{RDS_XMLNS}">']
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{operation}Result")
        body: list[str] = []
        assert isinstance(shape, StructureShape)
        for member_name, member_shape in shape.members.items():
            if member_name in result:
                loc = member_shape.serialization.get("name", member_name)
                _serialize(member_shape, result[member_name], loc, body)
        out.append(f"<{wrapper}>{''.join(body)}</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>")
    out.append(f"</{operation}Response>")
    return "".join(out).encode()


def parse_rds(operation: str, body: bytes) -> dict[str, Any]:
    """Parse an RDS Query API success body with botocore's own parser."""
    op = operation_model(operation)
    parser = botocore.parsers.QueryParser()
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return dict(parsed)


# ---------------------------------------------------------------- errors


def _cbor_text(s: str) -> bytes:
    raw = s.encode()
    n = len(raw)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + raw


def error_response(protocol: str, code: str, message: str, status: int) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of an AWS error in the protocol the client speaks."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    if protocol == "json":
        import json

        headers["Content-Type"] = "application/x-amz-json-1.1"
        return status, headers, json.dumps({"__type": code, "message": message}).encode()
    if protocol == "cbor":
        headers["Content-Type"] = "application/cbor"
        headers["smithy-protocol"] = "rpc-v2-cbor"
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code)
        body += _cbor_text("message") + _cbor_text(message)
        return status, headers, body
    headers["Content-Type"] = "text/xml"
    kind = "Receiver" if status >= 500 else "Sender"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="{RDS_XMLNS}"><Error>'
        f"<Type>{kind}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, headers, xml.encode()
