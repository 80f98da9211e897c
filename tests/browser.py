"""Headless Chromium for the page tests: find it, open a page, run axe-core, take a screenshot.

It speaks the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (JSON
messages ending in a NUL byte, on file descriptors 3 and 4), so it needs no
driver and nothing from PyPI: Debian's ``chromium`` package and axe-core's
``axe.min.js`` (``npm ci --prefix tests/a11y``) are all.

``MASTHEAD_CHROMIUM`` and ``MASTHEAD_AXE_JS`` point at another browser or
another copy of axe. Run as a program, it rebuilds the screenshots in docs/pages/:

    .venv/bin/python -m tests.browser
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import math
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe")
INSTALL = ("apt-get install -y chromium (Debian), and axe-core: npm ci --prefix tests/a11y")


def find_chromium() -> str | None:
    """The browser to drive: $MASTHEAD_CHROMIUM, else the first Chromium or Chrome on PATH."""
    own = os.environ.get("MASTHEAD_CHROMIUM")
    if own:
        return own if os.access(own, os.X_OK) else None
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def find_axe() -> Path | None:
    """axe-core's axe.min.js: $MASTHEAD_AXE_JS, else the copy npm put in tests/a11y/node_modules."""
    path = Path(os.environ.get("MASTHEAD_AXE_JS") or AXE_JS)
    return path if path.is_file() else None


def missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if find_chromium() is None:
        return f"no Chromium found (set MASTHEAD_CHROMIUM, or {INSTALL})"
    if find_axe() is None:
        return f"axe-core is not installed ({INSTALL})"
    return None


class BrowserError(Exception):
    """Chromium answered with an error, went away, or took too long."""


class Browser:
    """One headless Chromium with a throwaway profile, driven over the DevTools pipe."""

    def __init__(self, executable: str | None = None, timeout: float = 30.0):
        executable = executable or find_chromium()
        if executable is None:
            raise BrowserError(f"no Chromium found: {INSTALL}")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="masthead-chromium-")
        self.log = Path(self.profile) / "chromium.log"
        to_browser, self._out = os.pipe()      # we write commands; Chromium reads its fd 3
        self._in, from_browser = os.pipe()     # Chromium writes answers on its fd 4
        null = os.open(os.devnull, os.O_RDWR)
        log = os.open(self.log, os.O_WRONLY | os.O_CREAT, 0o600)
        args = [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"]
        try:
            # posix_spawn puts the pipe ends on 3 and 4 without a preexec_fn (unsafe with threads)
            self.pid = os.posix_spawn(executable, args, dict(os.environ), setsid=True, file_actions=[
                (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, log, 2),
                (os.POSIX_SPAWN_DUP2, to_browser, 3), (os.POSIX_SPAWN_DUP2, from_browser, 4)])
        finally:
            for fd in (null, log, to_browser, from_browser):
                os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        try:
            self.version = self.call("Browser.getVersion")["product"]
        except BrowserError:
            self.close()
            raise

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._out, json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise BrowserError(f"{method}: Chromium is gone ({exc}){self._log_tail()}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline, method)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def wait_for(self, event: str, session: str | None = None) -> dict[str, Any]:
        """The next event of that name (for that session), kept or still to come."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, message in enumerate(self._events):
                if message["method"] == event and message.get("sessionId") == session:
                    del self._events[i]
                    return message.get("params", {})
            message = self._read(deadline, event)
            if "method" in message:
                self._events.append(message)

    def forget_events(self) -> None:
        self._events.clear()

    def _read(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError(f"{waiting_for}: no answer from Chromium in {self.timeout:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError(f"{waiting_for}: Chromium closed the pipe{self._log_tail()}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text("utf-8", "replace").splitlines()[-5:]
        except OSError:
            return ""
        return "; its last words: " + " | ".join(lines) if lines else ""

    def tab(self) -> Tab:
        return Tab(self)

    def close(self) -> None:
        """Close the browser (killing its process group if it will not go) and delete the profile."""
        if getattr(self, "pid", None) is not None:
            with contextlib.suppress(BrowserError, OSError):
                os.write(self._out, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            deadline = time.monotonic() + 10
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:     # it would not go: end its process group (ours alone)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.05)
            self.pid = None
            for fd in (self._out, self._in):
                with contextlib.suppress(OSError):
                    os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


class Tab:
    """One page of the browser: open a URL at a width, run axe on it, take its picture."""

    def __init__(self, browser: Browser):
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.width = 0
        self.height = 0
        self.mobile = False

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session)

    def open(self, url: str, width: int, *, height: int = 800, dark: bool = False) -> None:
        """Load the URL in a window ``width`` CSS pixels wide (a phone's below 600), light or dark."""
        self.width, self.height, self.mobile = width, height, width < 600
        self._window(height)
        self.call("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        self.browser.forget_events()
        answer = self.call("Page.navigate", {"url": url})
        if answer.get("errorText"):
            raise BrowserError(f"{url}: {answer['errorText']}")
        self.browser.wait_for("Page.loadEventFired", self.session)
        self.settle()

    def _window(self, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": self.mobile})

    def settle(self) -> None:
        """Wait for the fonts, then for two frames: what is on screen is the page as laid out."""
        self.evaluate("document.fonts.ready.then(() => new Promise(done => "
                      "requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))", await_promise=True)

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": await_promise,
                                                "returnByValue": True})
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise BrowserError(f"script failed: {details.get('exception', {}).get('description') or details}")
        return answer["result"].get("value")

    def axe(self, axe_js: Path | None = None) -> list[dict[str, Any]]:
        """axe-core's violations on the open page (every rule axe runs by default), each with its nodes."""
        path = axe_js or find_axe()
        if path is None:
            raise BrowserError(f"axe-core is not installed: {INSTALL}")
        if not self.evaluate("typeof window.axe === 'object'"):
            self.evaluate(_axe_source(str(path)))
        return self.evaluate("""
            axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || ''))})))
        """, await_promise=True)

    def screenshot(self, path: Path | str) -> Path:
        """The whole page, top to bottom, as a PNG at the open width.

        The window is made as tall as the page for the picture (capturing beyond
        the viewport shifts right-to-left pages sideways), then set back.
        """
        height = math.ceil(self.call("Page.getLayoutMetrics")["cssContentSize"]["height"])
        self._window(height)
        try:
            self.settle()
            shot = self.call("Page.captureScreenshot", {"format": "png"})
        finally:
            self._window(self.height)
        target = Path(path)
        target.write_bytes(base64.b64decode(shot["data"]))
        return target


@functools.cache
def _axe_source(path: str) -> str:
    return Path(path).read_text("utf-8")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                                                ".xml": "application/xml", ".xsl": "text/xsl",
                                                ".css": "text/css", ".html": "text/html; charset=utf-8"}

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """A static HTTP server for ``folder`` on 127.0.0.1 (a free port), yielding its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- the screenshots in docs/pages/ ------------------------------------------------------------

SHOTS = [(name, page, width, False)
         for name, page in (("article-ar", "ar-news/000_dc9ff0ee3f199e80.html"),
                            ("article-en", "en-news/2022-04-28-port-strike.html"),
                            ("feed-ar", "ar-news/"), ("feed-en", "en-news/"), ("site", ""))
         for width in (375, 1200)]
SHOTS += [("feed-view-ar", "ar-news/rss.xml", 375, False), ("article-ar", "ar-news/000_dc9ff0ee3f199e80.html", 375, True)]
NOW = "2022-05-07T06:00:00+00:00"


def build_sample(folder: Path) -> Path:
    """The repository's sample publication built in ``folder``; returns its output/."""
    from datetime import datetime

    from masthead.config import load_publication
    from masthead.pipeline import run

    shutil.copytree(ROOT / "feeds", folder / "feeds")
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", folder / "templates")
    run(load_publication(folder), now=datetime.fromisoformat(NOW))
    return folder / "output"


def main() -> None:
    why = missing()
    if why:
        raise SystemExit(why)
    docs = ROOT / "docs" / "pages"
    docs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, serve(build_sample(Path(tmp))) as base, Browser() as browser:
        tab = browser.tab()
        for name, page, width, dark in SHOTS:
            tab.open(base + page, width, dark=dark)
            tab.evaluate("document.querySelector('xslt-warning-banner')?.remove()")  # Chromium's, not ours
            print(tab.screenshot(docs / f"{name}-{width}{'-dark' if dark else ''}.png").relative_to(ROOT))


if __name__ == "__main__":
    main()
