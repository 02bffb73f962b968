"""Load a page in headless Chromium and record what a reader's browser does with it.

No package beyond the standard library: Chromium is driven over the DevTools
protocol through a pipe (``--remote-debugging-pipe``: the browser reads
NUL-terminated JSON commands on its fd 3 and writes replies and events on its
fd 4), as Playwright and Puppeteer do.  :class:`Chromium` starts the browser
with a fresh profile; :meth:`Chromium.load` opens a URL in a new tab and
returns a :class:`PageLoad`: every request the page made, every failed
request or HTTP error, every console error and uncaught exception, and the
value of a script run once the page has loaded.

:class:`StaticServer` serves a folder on 127.0.0.1 (a free port) from a
background thread and logs each request it answers.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The flags of the browser test: headless, no GPU, no traffic of the browser's
#: own (updates, sync, ...), and every host name but 127.0.0.1 unresolvable,
#: so that a request to another host fails (and shows up) instead of leaving.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


# argv: READ_FD WRITE_FD PROGRAM ARGS...: exec PROGRAM with READ_FD as fd 3 and WRITE_FD as fd 4.
_TRAMPOLINE = """
import fcntl, os, sys
read, write = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])
os.dup2(read, 3)
os.dup2(write, 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


def find_chromium() -> str | None:
    """The Chromium executable on PATH (Debian's ``chromium``), or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


# ----------------------------------------------------------------------------- server


@dataclass
class ServedRequest:
    client: str
    method: str
    path: str
    status: int


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list[ServedRequest]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = code.value if hasattr(code, "value") else int(code) if str(code).isdigit() else 0
        self.log.append(ServedRequest(self.client_address[0], self.command or "", self.path, status))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # no stderr noise; log_request records what was answered


class StaticServer:
    """``directory`` over HTTP on 127.0.0.1 (a free port), in a background thread.

    ``requests`` lists what the server answered, in order.
    """

    def __init__(self, directory: Path) -> None:
        self.requests: list[ServedRequest] = []
        handler = type("Handler", (_Handler,), {"log": self.requests})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
        )
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


# ---------------------------------------------------------------------------- browser


class BrowserError(RuntimeError):
    """The browser died, did not answer in time, or answered a command with an error."""


@dataclass
class PageLoad:
    """What happened while a page loaded (see :meth:`Chromium.load`)."""

    url: str
    #: every URL the page asked for (document, scripts, styles, fonts, images, fetches)
    requests: list[str] = field(default_factory=list)
    #: "URL: net::ERR_..." for each request that failed, "URL: HTTP 404" for each error status
    failed: list[str] = field(default_factory=list)
    #: console.error/assert calls, uncaught exceptions and browser log entries of level error
    errors: list[str] = field(default_factory=list)
    #: console warnings and browser log warnings (reported, not failures)
    warnings: list[str] = field(default_factory=list)
    #: what the script given to load() returned (JSON)
    value: Any = None


def _describe_args(args: list[dict[str, Any]]) -> str:
    parts = []
    for arg in args:
        if "value" in arg:
            parts.append(str(arg["value"]))
        else:
            parts.append(arg.get("description") or arg.get("type", "?"))
    return " ".join(parts)


class Chromium:
    """A headless Chromium with a fresh profile, driven over the DevTools protocol.

    Use as a context manager; the browser and its profile are removed on exit.
    """

    def __init__(self, executable: str, flags: tuple[str, ...] = CHROMIUM_FLAGS, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="l2l-chromium-profile-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser wants the pipe on its fds 3 and 4: a Python trampoline puts it there
        # (no preexec_fn: this process has threads), then becomes the browser.
        command = [
            sys.executable, "-c", _TRAMPOLINE, str(to_browser_r), str(from_browser_w),
            executable, *flags, f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank",
        ]
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            command, pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
            stdout=self._stderr, stderr=self._stderr, start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: dict[str, queue.Queue[dict[str, Any]]] = {}  # by sessionId
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.version = self.send("Browser.getVersion")["product"]
        except BrowserError:
            self.close()
            raise

    # -- protocol

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                with self._lock:
                    if "id" in message:
                        waiting = self._replies.get(message["id"])
                        if waiting is not None:
                            waiting.put(message)
                    else:
                        events = self._events.get(message.get("sessionId", ""))
                        if events is not None:
                            events.put(message)
        with self._lock:  # the browser is gone: wake everyone who waits
            for waiting in self._replies.values():
                waiting.put({"error": {"message": "the browser closed the DevTools pipe"}})
            for events in self._events.values():
                events.put({"method": "_closed"})

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send a command and wait for its result."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            reply: queue.Queue[dict[str, Any]] = queue.Queue()
            self._replies[ident] = reply
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"{method}: cannot write to the browser: {exc}\n{self.stderr()}") from exc
        try:
            answer = reply.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise BrowserError(f"{method}: no answer in {timeout or self.timeout} s\n{self.stderr()}") from None
        finally:
            with self._lock:
                self._replies.pop(ident, None)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}\n{self.stderr()}")
        return answer.get("result", {})

    def stderr(self) -> str:
        """The last lines the browser wrote to stdout/stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    # -- pages

    def load(self, url: str, script: str | None = None, timeout: float | None = None) -> PageLoad:
        """Open ``url`` in a new tab (HTTP cache off), wait for its load event, then run ``script``.

        ``script`` is a JavaScript expression, awaited if it is a promise; its
        (JSON) value is :attr:`PageLoad.value`.  The tab is closed afterwards.
        """
        timeout = timeout or self.timeout
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._events[session] = events
        page = PageLoad(url)
        urls: dict[str, str] = {}
        try:
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.send(f"{domain}.enable", session=session)
            self.send("Network.setCacheDisabled", {"cacheDisabled": True}, session=session)
            navigation = self.send("Page.navigate", {"url": url}, session=session)
            if navigation.get("errorText"):
                page.failed.append(f"{url}: {navigation['errorText']}")
                return page
            deadline = time.monotonic() + timeout
            loaded = False
            while not loaded:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"{url}: no load event in {timeout} s")
                try:
                    event = events.get(timeout=left)
                except queue.Empty:
                    continue
                loaded = self._record(event, page, urls)
            if script is not None:
                result = self.send("Runtime.evaluate", {
                    "expression": script, "awaitPromise": True, "returnByValue": True,
                    "timeout": int(timeout * 1000),
                }, session=session, timeout=timeout + 5)
                if "exceptionDetails" in result:
                    details = result["exceptionDetails"]
                    text = details.get("exception", {}).get("description") or details.get("text")
                    raise BrowserError(f"{url}: the check script failed: {text}")
                page.value = result.get("result", {}).get("value")
            # Whatever happened meanwhile (late requests, errors): a last round trip, then drain.
            self.send("Runtime.evaluate", {"expression": "0"}, session=session)
            while True:
                try:
                    self._record(events.get_nowait(), page, urls)
                except queue.Empty:
                    break
        finally:
            with self._lock:
                self._events.pop(session, None)
            try:
                self.send("Target.closeTarget", {"targetId": target})
            except BrowserError:
                pass
        return page

    @staticmethod
    def _record(event: dict[str, Any], page: PageLoad, urls: dict[str, str]) -> bool:
        """Record one event; True for the page's load event."""
        method, params = event.get("method"), event.get("params", {})
        if method == "_closed":
            raise BrowserError(f"{page.url}: the browser closed the DevTools pipe")
        if method == "Page.loadEventFired":
            return True
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
            page.requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            if not params.get("canceled"):
                page.failed.append(f"{urls.get(params['requestId'], '?')}: {params.get('errorText')}")
        elif method == "Network.responseReceived":
            status = params["response"].get("status", 0)
            if status >= 400:
                page.failed.append(f"{params['response'].get('url')}: HTTP {status}")
        elif method == "Runtime.consoleAPICalled":
            text = f"console.{params['type']}: {_describe_args(params.get('args', []))}"
            if params["type"] in ("error", "assert"):
                page.errors.append(text)
            elif params["type"] == "warning":
                page.warnings.append(text)
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            page.errors.append(f"uncaught: {text} ({details.get('url', '')}:{details.get('lineNumber', '?')})")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            text = f"{entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url', '')}".strip()
            if entry["level"] == "error":
                page.errors.append(text)
            elif entry["level"] == "warning":
                page.warnings.append(text)
        return False

    # -- end

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
            except BrowserError:
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)  # the browser we started, and its children
                self._process.wait(timeout=10)
        self._reader.join(timeout=5)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
