"""A small Chrome DevTools Protocol client for the HTML report tests: headless Chromium, one page.

Protocol reference: https://chromedevtools.github.io/devtools-protocol/ (Page, Runtime, Log, Network,
Emulation domains). Chromium writes the port it picked for `--remote-debugging-port=0` to
<user-data-dir>/DevToolsActivePort; the page's websocket URL comes from http://127.0.0.1:PORT/json/list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def find_chromium() -> str | None:
    """AURORA_AUDIT_CHROMIUM (a path or name) wins; else the first Chromium/Chrome on PATH."""
    override = os.environ.get("AURORA_AUDIT_CHROMIUM")
    if override:
        return shutil.which(override)
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium process with one page target, driven over its websocket."""

    def __init__(self, binary: str, timeout_s: float = 30.0) -> None:
        import websocket  # websocket-client (dev dependency)

        self.timeout_s = timeout_s
        self._tmp = tempfile.TemporaryDirectory(prefix="aurora-audit-chromium-")
        profile = Path(self._tmp.name)
        self.proc = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with {self.proc.returncode} before opening DevTools")
            if time.monotonic() > deadline:
                self.close()
                raise CdpError("chromium did not open its DevTools port in time")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        ws_url = self._page_ws_url(port, deadline)
        # Chromium refuses websocket clients that send an Origin header it does not allow; send none.
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s, suppress_origin=True)
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    @staticmethod
    def _page_ws_url(port: int, deadline: float) -> str:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                    targets = json.loads(resp.read())
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise CdpError("no page target in chromium")
            time.sleep(0.05)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg_id = self._next_id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            if "method" in msg:
                self._record(msg)

    def _record(self, msg: dict[str, Any]) -> None:
        self.events.append(msg)
        if msg["method"] == "Page.javascriptDialogOpening":
            # A dialog blocks the page until answered; dismiss it (the test asserts it never happened).
            self._next_id += 1
            self.ws.send(
                json.dumps(
                    {
                        "id": self._next_id,
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": False},
                    }
                )
            )

    def wait_for(self, event: str, timeout_s: float | None = None) -> dict[str, Any]:
        for seen in self.events:
            if seen["method"] == event:
                return seen
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self._record(msg)
                if msg["method"] == event:
                    return msg
        raise CdpError(f"timed out waiting for {event}")

    def drain(self, settle_s: float = 0.2) -> None:
        """Collect events that arrive within `settle_s` (a round trip flushes what came before it)."""
        time.sleep(settle_s)
        self.send("Runtime.evaluate", expression="0")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, *, javascript: bool = True) -> None:
        self.events.clear()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setScriptExecutionDisabled", value=not javascript)
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.drain()

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        import base64

        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            height = min(size["height"], 6000)
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": height, "scale": 1}
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def events_named(self, method: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["method"] == method]

    def close(self) -> None:
        try:
            ws = getattr(self, "ws", None)
            if ws is not None:
                ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self._tmp.cleanup()


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
