"""Test helpers for the web app: the real server as a subprocess, real HTTP, real Chromium.

``Server`` starts ``python -m facetwitch serve`` on a free loopback port with its own data
directory and reads the address it prints; ``http`` sends raw HTTP (any Host, Origin or
token) with http.client; ``Browser`` drives Debian's headless Chromium over the DevTools
protocol (``--remote-debugging-pipe``), with a fake camera and microphone fed from files.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``facetwitch serve`` in a subprocess (stop with :meth:`stop`, restart with :meth:`start`).

    Parameters
    ----------
    data : Path
        Its ``--data`` directory.
    port : int, optional
        A fixed port (kept across restarts); a free one by default.
    args : list of str
        More options (``--stale-s 3``, ``--max-upload-mb 1``).
    """

    def __init__(self, data: Path, port: int | None = None, args: tuple[str, ...] = ()):
        self.data = Path(data)
        self.port = port or free_port()
        self.args = list(args)
        self.proc: subprocess.Popen | None = None
        self.log = self.data.parent / f"serve-{self.port}.log"
        self.token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def start(self, timeout: float = 60.0) -> Server:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        cmd = [
            sys.executable,
            "-m",
            "facetwitch",
            "serve",
            "--port",
            str(self.port),
            "--data",
            str(self.data),
            "--no-browser",
            *self.args,
        ]
        self._log = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        end = time.monotonic() + timeout
        line = b""
        while time.monotonic() < end:
            ready = select.select([self.proc.stdout], [], [], 0.5)[0]
            if ready:
                line = self.proc.stdout.readline()
                if b"serving at" in line:
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"facetwitch serve exited: {self.log.read_text()[-2000:]}")
        else:
            self.stop()
            raise TimeoutError("facetwitch serve did not start")
        assert f"127.0.0.1:{self.port}/".encode() in line, line
        page = self.get("/record")
        self.token = re.search(r'name="facetwitch-token" content="([^"]+)"', page.text).group(1)
        return self

    def stop(self, sig=signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return code

    # -- HTTP ---------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body=None,
        *,
        headers: dict | None = None,
        host: str | None = None,
        origin: str | None = "default",
        token: str | None = "default",
        timeout: float = 60.0,
    ) -> Response:
        """One real HTTP request.

        By default it is what the app's own page would send (Host, Origin, token); pass ``host``,
        ``origin=None``/another, ``token=None``/another to change that.
        """
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Host": host or f"127.0.0.1:{self.port}"}
        if method not in ("GET", "HEAD"):
            if origin == "default":
                origin = self.origin
            if token == "default":
                token = self.token
        else:
            origin = None if origin == "default" else origin
            token = None if token == "default" else token
        if origin is not None:
            h["Origin"] = origin
        if token is not None:
            h["X-Facetwitch-Token"] = token
        h.update(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=h)
        res = conn.getresponse()
        data = res.read()
        conn.close()
        return Response(res.status, dict(res.getheaders()), data)

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw) -> Response:
        return self.request("POST", path, body, **kw)

    def wait_status(self, rid: str, statuses=("done", "failed"), timeout: float = 600.0) -> dict:
        """Poll ``/api/r/<id>`` until its status is one of ``statuses``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.get(f"/api/r/{rid}").json()
            if state["status"] in statuses:
                return state
            time.sleep(0.5)
        raise TimeoutError(f"{rid}: still {state}")


class Response:
    """Status, headers (lower-case names) and body of a response."""

    def __init__(self, status: int, headers: dict, body: bytes):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def multipart(
    fields: dict[str, str],
    file_field: str,
    filename: str,
    content: bytes,
    boundary: str = "----facetwitchtest7MA4YWxkTrZu0gW",
) -> tuple[bytes, dict]:
    """Return a multipart/form-data body (as a browser sends it) and its Content-Type header."""
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: video/mp4\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def tree(root: Path, skip=("diary.sqlite3", "diary.sqlite3-wal", "diary.sqlite3-shm")) -> dict:
    """Every file under ``root`` (relative path -> size), but the database's own files."""
    return {
        str(p.relative_to(root)): p.stat().st_size
        for p in sorted(Path(root).rglob("*"))
        if p.is_file() and p.name not in skip
    }


# -- Chromium over the DevTools protocol -----------------------------------------------------
_FD_WRAPPER = """
import fcntl, os, sys
fds = [fcntl.fcntl(int(a), fcntl.F_DUPFD, 10) for a in sys.argv[1:3]]
for a in sys.argv[1:3]:
    os.close(int(a))
os.dup2(fds[0], 3)
os.dup2(fds[1], 4)
for fd in fds:
    os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Browser:
    """Headless Chromium with a fake camera (``video`` .y4m) and microphone (``audio`` .wav).

    Driven over ``--remote-debugging-pipe``. One tab at a time: :meth:`open`.
    """

    def __init__(
        self, exe: str, profile: Path, *, video: Path | None = None, audio: Path | None = None
    ):
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--mute-audio",
            "--autoplay-policy=no-user-gesture-required",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        if video is not None:
            cmd.insert(-3, f"--use-file-for-fake-video-capture={video}")
        if audio is not None:
            cmd.insert(-3, f"--use-file-for-fake-audio-capture={audio}")
        profile.mkdir(parents=True, exist_ok=True)
        self.log = open(profile.parent / "chromium.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FD_WRAPPER, str(to_r), str(from_w), *cmd],
            pass_fds=(to_r, from_w),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None
        self.target: str | None = None

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - already gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_w)
        os.close(self._from_r)
        self.log.close()

    def _read(self, timeout: float) -> dict | None:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._from_r], [], [], left)[0]:
                return None
            chunk = os.read(self._from_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(
        self,
        method: str,
        params: dict | None = None,
        *,
        session: str | None = "tab",
        timeout: float = 60.0,
    ) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        sid = self.session if session == "tab" else session
        if sid and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = sid
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = self._read(end - time.monotonic())
            if m is None:
                break
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
        raise TimeoutError(method)

    def open(self, url: str, width: int = 1240, height: int = 900) -> None:
        """Return a new tab at ``url`` (the previous one is closed), waited until loaded."""
        if self.target:
            self.close_tab()
        self.target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.events.clear()
        self.navigate(url)

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def reload(self) -> None:
        self.events.clear()
        self.send("Page.reload", {"ignoreCache": True})
        self.wait_event("Page.loadEventFired")

    def close_tab(self) -> None:
        """Close the tab as a patient would (no unload handshake with the page's script)."""
        self.send("Target.closeTarget", {"targetId": self.target})
        self.target = self.session = None

    def wait_event(self, method: str, timeout: float = 60.0) -> dict:
        """Return the first ``method`` event; TimeoutError after ``timeout`` s.

        The deadline holds while other events keep coming: a page that floods events (a CI dry
        run once hung here for 20 min with a renderer busy) fails the test instead of hanging.
        """
        end = time.monotonic() + timeout
        while True:
            for k, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(k)
            left = end - time.monotonic()
            m = self._read(left) if left > 0 else None
            if m is None:
                last = [e.get("method") for e in self.events[-5:]]
                raise TimeoutError(f"{method} (last events: {last})")
            self.events.append(m)

    def js(self, expression: str, timeout: float = 60.0):
        """Evaluate ``expression`` in the tab (awaiting a promise); its JSON value."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression[:80]}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120.0, every: float = 0.25):
        """Wait until ``expression`` is truthy in the tab; its value."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                value = self.js(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            time.sleep(every)
        raise TimeoutError(f"never true: {expression}")

    def click(self, selector: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def key(self, code: str = "Space", key: str = " ") -> None:
        """Return a real key press (keydown + keyup) as the keyboard would send it."""
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                {"type": kind, "code": code, "key": key, "windowsVirtualKeyCode": 32},
            )

    def set_files(self, selector: str, files: list[Path]) -> None:
        """Put ``files`` into an ``<input type=file>`` as if chosen (fires ``change``)."""
        doc = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": doc, "selector": selector})["nodeId"]
        self.send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(f) for f in files]})

    def screenshot(self, path: Path, full: bool = True) -> Path:
        """Return a PNG of the page (the whole scroll height when ``full``)."""
        params = {"format": "png"}
        if full:
            h = self.js("document.documentElement.scrollHeight")
            w = self.js("document.documentElement.clientWidth")
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
            )
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[dict]:
        """Script exceptions, console errors and CSP or network errors seen so far in the tab."""
        while (m := self._read(0.05)) is not None:
            self.events.append(m)
        out = [m["params"] for m in self.events if m.get("method") == "Runtime.exceptionThrown"]
        out += [
            m["params"]
            for m in self.events
            if m.get("method") == "Runtime.consoleAPICalled"
            and m["params"].get("type") in ("error", "assert")
        ]
        out += [
            m["params"]
            for m in self.events
            if m.get("method") == "Log.entryAdded" and m["params"]["entry"].get("level") == "error"
        ]
        return out
