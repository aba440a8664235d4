"""`SimulatedAws`: moto's ThreadedMotoServer on 127.0.0.1, with a small front HTTP server before it.

Clients (boto3, the CLI via AWS_ENDPOINT_URL) talk to the front (`.endpoint_url`). The front
1. serves the control endpoint `/_sim/...` (JSON; see auditor/sim/controls.py),
2. injects configured faults (latency, AccessDenied/5xx for an operation, a throttling rate) in the
   protocol the client speaks (Query XML, JSON, RPC v2 CBOR),
3. answers or enriches the RDS operations moto lacks (auditor/sim/handlers.py, enrich.py),
4. forwards everything else to moto unchanged.
Nothing here ever reaches real AWS: both servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from auditor.sim.controls import SimControls
from auditor.sim.enrich import EnrichingRdsFront
from auditor.sim.handlers import Response
from auditor.sim.state import SimState
from auditor.sim.wire import credential_scope, encode_form, error_response, request_protocol_and_operation

ACCOUNT_ID = "123456789012"  # moto's default account
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection"}


class _Front(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: SimulatedAws


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed-ACK stalls
    server: _Front

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: the sim must not clutter CLI output

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in _HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        sim = self.server.sim
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path
        try:
            if path.startswith("/_sim/"):
                self._send(*sim._control(self.command, path, body))
                return
            self._send(*sim._dispatch(self.command, path, headers, body))
        except Exception as e:  # a bug in the sim answers like an AWS 500, never hangs a client
            logging.getLogger(__name__).exception("simulated AWS front failed")
            self._send(*error_response("query", "InternalFailure", f"sim front error: {e}", 500))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class SimulatedAws(SimControls):
    """A simulated AWS account on loopback (moto + the front). Use as a context manager."""

    def __init__(self) -> None:
        self.state = SimState()
        self.rds = EnrichingRdsFront(self.state, self._moto_query)
        self._moto: Any = None
        self._front: _Front | None = None
        self._thread: threading.Thread | None = None
        self.moto_host = ""
        self.moto_port = 0
        self._clients: dict[tuple[str, str], Any] = {}
        self._session: Any = None
        self._client_lock = threading.Lock()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> SimulatedAws:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        self.moto_host, self.moto_port = self._moto.get_host_and_port()
        self._front = _Front(("127.0.0.1", 0), _Handler)
        self._front.sim = self
        self._thread = threading.Thread(target=self._front.serve_forever, name="sim-front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._front is not None:
            self._front.shutdown()
            self._front.server_close()
            self._front = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> SimulatedAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        assert self._front is not None, "SimulatedAws is not started"
        host, port = self._front.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def moto_url(self) -> str:
        return f"http://{self.moto_host}:{self.moto_port}"

    @property
    def account_id(self) -> str:
        return ACCOUNT_ID

    def reset(self) -> None:
        """Empty moto (POST /moto-api/reset) and clear every override, fault and call count."""
        conn = http.client.HTTPConnection(self.moto_host, self.moto_port, timeout=30)
        try:
            conn.request("POST", "/moto-api/reset", body=b"")
            conn.getresponse().read()
        finally:
            conn.close()
        self.state.apply("clear_overrides", {})
        self.state.apply("clear_faults", {})

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (the CLI) that must talk to this sim and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A boto3 client for this sim (dummy credentials, the front endpoint, a region)."""
        import boto3
        from botocore.config import Config

        key = (service, region)
        with self._client_lock:  # boto3 sessions are not safe for concurrent client creation
            cached = self._clients.get(key)
            if cached is not None:
                return cached
            if self._session is None:  # one session: its loader caches service models across clients
                self._session = boto3.session.Session(
                    aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
                )
            cached = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"total_max_attempts": 1}),
            )
            self._clients[key] = cached
            return cached

    def calls(self) -> dict[str, int]:
        """Calls the front has seen per operation since the last reset."""
        with self.state.lock:
            return dict(self.state.calls)

    def _apply(self, method: str, kwargs: dict[str, Any]) -> Any:
        return self.state.apply(method, kwargs)

    # ---------------------------------------------------------------- request paths

    def _control(self, method: str, path: str, body: bytes) -> Response:
        jh = {"Content-Type": "application/json"}
        if path == "/_sim/state":
            return 200, jh, json.dumps(self.state.snapshot(), default=str).encode()
        if path == "/_sim/health":
            return 200, jh, b'{"ok": true}'
        if path == "/_sim/reset" and method == "POST":
            self.reset()
            return 200, jh, b"null"
        if path == "/_sim/call" and method == "POST":
            req = json.loads(body or b"{}")
            try:
                result = self.state.apply(str(req.get("method")), dict(req.get("kwargs") or {}))
            except (ValueError, TypeError) as e:
                return 400, jh, json.dumps({"error": str(e)}).encode()
            return 200, jh, json.dumps(result, default=str).encode()
        return 404, jh, b'{"error": "unknown control path"}'

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        if path.startswith("/moto-api"):
            return self._forward(method, path, headers, body)
        protocol, operation = request_protocol_and_operation(path, headers, body)
        region, service = credential_scope(headers)
        fault = self.state.check_faults(operation, region)
        if fault is not None:
            code = fault.code
            if protocol == "json" and code in ("AccessDenied", "Throttling"):
                code += "Exception"  # JSON services say AccessDeniedException / ThrottlingException
            message = fault.message.replace("{service}", service or "aws")
            return error_response(protocol, code, message, fault.status)

        def forward(params: dict[str, str] | None) -> Response:
            return self._forward(method, path, headers, encode_form(params) if params is not None else body)

        if service == "kms" and operation == "DescribeKey":
            return self._kms_describe_key(forward(None))
        if service == "rds" and protocol == "query" and operation:
            from auditor.sim.wire import form_params

            answered = self.rds.handle(operation, region or "us-east-1", form_params(body), forward)
            if answered is not None:
                return answered
        return forward(None)

    def _kms_describe_key(self, response: Response) -> Response:
        """Moto's KMS has no AWS-managed keys (aws/rds): keys marked with `mark_aws_managed_key` say
        KeyManager AWS, as DescribeKey does for the default RDS key ("AWS managed keys", KMS guide)."""
        status, headers, body = response
        if status != 200:
            return response
        data = json.loads(body)
        meta = data.get("KeyMetadata", {})
        with self.state.lock:
            managed = meta.get("Arn") in self.state.aws_managed_keys
        if not managed:
            return response
        meta["KeyManager"] = "AWS"
        meta["Description"] = "Default key that protects my RDS database volumes when no other key is defined"
        return status, headers, json.dumps(data).encode()

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        conn = http.client.HTTPConnection(self.moto_host, self.moto_port, timeout=60)
        try:
            out = {k: v for k, v in headers.items() if k not in _HOP}
            out["Host"] = f"{self.moto_host}:{self.moto_port}"
            out["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=out)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k: v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def _moto_query(self, region: str, params: dict[str, str]) -> Response:
        """An internal RDS Query call straight to moto (e.g. a parameter group's family)."""
        headers = {
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "authorization": (
                f"AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/rds/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        }
        body = encode_form({"Version": "2014-10-31"} | params)
        return self._forward("POST", "/", headers, body)
