"""A loopback HTTP proxy in front of the simulated AWS that resets every Nth connection attempt.

The sim injects AWS-level faults (AccessDenied, 5xx, throttling, latency); a TCP reset (RST, the
"connection reset by peer" a load balancer or NAT gateway produces) is below HTTP, so it is made here:
the proxy reads the request, and for every `every`-th one closes the socket with SO_LINGER 0 instead of
forwarding it. botocore sees ConnectionClosedError and retries it (standard retry mode treats
connection errors as transient). Everything else is forwarded to the sim unchanged.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: ResetProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if proxy.should_reset():
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()  # RST: the request never reaches the sim
            return
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class ResetProxy:
    def __init__(self, target_url: str, every: int) -> None:
        u = urlparse(target_url)
        self.host, self.port = str(u.hostname), int(u.port or 80)
        self.every = every
        self.requests = 0
        self.resets = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def should_reset(self) -> bool:
        with self._lock:
            self.requests += 1
            if self.every and self.requests % self.every == 0:
                self.resets += 1
                return True
            return False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ResetProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
