"""Answer, on a collector's own boto3 client, what moto 5.2 does not implement or does not return.

- `answer(...)`: a `before-call` handler that returns a parsed response for one operation, so nothing is
  sent (the mechanism botocore's Stubber uses). moto keeps answering every other operation.
- `patch(...)`: an `after-call` handler that adds fields moto leaves out (PerformanceInsightsEnabled,
  MonitoringInterval, CertificateDetails, ParameterApplyStatus, SynchronizationStatus) to moto's answer.

Every answered or patched response is validated against the operation's output shape in botocore's RDS /
CloudWatch service model (as Stubber does), so it is shaped exactly like the AWS API reference.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters


def _validate(client: Any, operation: str, parsed: dict[str, Any]) -> None:
    shape = client.meta.service_model.operation_model(operation).output_shape
    body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    if shape is not None:
        validate_parameters(body, shape)


def answer(
    client: Any,
    operation: str,
    responder: Callable[[dict[str, Any]], dict[str, Any]] | dict[str, Any],
    *,
    first: bool = False,
) -> list[dict[str, Any]]:
    """Answer `operation` on `client` with responder(params); returns the request parameters seen.
    first: answer ahead of an earlier answer for the same operation (an override)."""
    seen: list[dict[str, Any]] = []
    local = threading.local()  # collectors call concurrently; each call stays on its own thread

    # before-call only sees the serialized request: keep the caller's own parameters first.
    def remember(params: dict[str, Any], **_: Any) -> None:
        local.params = copy.deepcopy(params)

    def respond(**_: Any) -> Any:
        api_params = copy.deepcopy(getattr(local, "params", {}))
        seen.append(api_params)
        result = responder(api_params) if callable(responder) else copy.deepcopy(responder)
        if "Error" in result:
            status = int(result.get("_status", 400))
            return AWSResponse("http://fake", status, {}, None), {
                "Error": result["Error"],
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
        _validate(client, operation, result)
        return AWSResponse("http://fake", 200, {}, None), {
            **result,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    events = client.meta.events
    service_id = client.meta.service_model.service_id.hyphenize()
    events.register(f"before-parameter-build.{service_id}.{operation}", remember)
    register = events.register_first if first else events.register
    register(f"before-call.{service_id}.{operation}", respond)
    return seen


def error(code: str, message: str, status: int = 400) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}, "_status": status}


def patch(client: Any, operation: str, fn: Callable[[dict[str, Any]], None]) -> None:
    """Let moto answer, then add to the parsed response what moto leaves out (validated afterwards)."""

    def handler(
        parsed: dict[str, Any] | None = None, model: Any = None, http_response: Any = None, **_: Any
    ) -> None:
        if (
            parsed is None
            or "Error" in parsed
            or (http_response is not None and http_response.status_code >= 300)
        ):
            return
        fn(parsed)
        _validate(client, operation, parsed)

    service_id = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"after-call.{service_id}.{operation}", handler)
