"""Start the local web app: ``facetwitch serve``."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import webbrowser
from pathlib import Path

from ..diary import Diary
from ..errors import OutputError, UsageError

logger = logging.getLogger("facetwitch")

#: The port tried first; the next free one is taken when it is busy.
DEFAULT_PORT = 8765


def _bind(port: int | None) -> socket.socket:
    """Return a listening socket on 127.0.0.1.

    ``port`` (0: any free one), or, when ``port`` is None, :data:`DEFAULT_PORT` or the next free
    port after it.
    """
    candidates = [port] if port is not None else list(range(DEFAULT_PORT, DEFAULT_PORT + 20))
    last = None
    for p in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart on the same port
        try:
            sock.bind(("127.0.0.1", p))
        except OSError as exc:
            sock.close()
            last = exc
            continue
        sock.listen(128)
        sock.set_inheritable(False)
        return sock
    raise UsageError(
        f"cannot listen on 127.0.0.1 port {candidates[0]}"
        f"{'-' + str(candidates[-1]) if len(candidates) > 1 else ''} ({last.strerror})"
    )


@contextlib.contextmanager
def _data_lock(root: Path):
    """One server per data directory (two would run two analysis queues on one diary)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    path = root / "serve.lock"
    fh = open(path, "a+")  # noqa: SIM115 - closed below
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise OutputError(
            f"{root}: another 'facetwitch serve' is using this data directory"
        ) from None
    try:
        yield
    finally:
        fh.close()


def serve(
    data: str | os.PathLike | None = None,
    *,
    port: int | None = None,
    open_browser: bool = True,
    max_upload_mb: float = 2048,
    stale_s: float | None = None,
    upload_stall_s: float | None = None,
    on_ready=None,
) -> None:
    """Serve the web app on 127.0.0.1 until interrupted (Ctrl-C, SIGTERM).

    Parameters
    ----------
    data : path, optional
        The diary's data directory (:func:`facetwitch.diary.data_dir` by default).
    port : int, optional
        Port (0: any free one); default :data:`DEFAULT_PORT` or the next free one.
    open_browser : bool
        Open the app in the default browser once it listens.
    max_upload_mb : float
        Largest upload, in MB (2**20 bytes).
    stale_s : float, optional
        Seconds without data after which a browser recording counts as ended
        (:data:`facetwitch.web.jobs.STALE_S` by default).
    upload_stall_s : float, optional
        Seconds without a byte after which an upload still arriving is abandoned (408)
        (:data:`facetwitch.web.uploads.UPLOAD_STALL_S` by default).
    on_ready : callable, optional
        ``on_ready(url, data_dir)`` once the server listens (the CLI prints the address).
    """
    import uvicorn

    from .app import app_make
    from .jobs import STALE_S, JobRunner
    from .uploads import UPLOAD_STALL_S

    sock = _bind(port)  # first: a busy port had left a new --data directory behind
    try:
        diary = Diary(data)
    except BaseException:
        sock.close()
        raise
    with contextlib.ExitStack() as stack:
        stack.callback(sock.close)
        stack.enter_context(_data_lock(diary.root))
        actual = sock.getsockname()[1]
        url = f"http://127.0.0.1:{actual}/"
        runner = JobRunner(diary, stale_s=STALE_S if stale_s is None else stale_s)
        app = app_make(
            diary,
            port=actual,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            upload_stall_s=UPLOAD_STALL_S if upload_stall_s is None else upload_stall_s,
            runner=runner,
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        server = uvicorn.Server(config)
        said = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _ShutdownNote) for f in said.filters):  # once per process
            said.addFilter(_ShutdownNote())
        app.state.stopping = lambda: server.should_exit  # ends the progress streams at once

        def ready():
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                if on_ready is not None:
                    on_ready(url, diary.root)
                if open_browser:
                    webbrowser.open(url)

        threading.Thread(target=ready, daemon=True).start()
        with _hangup_as_stop(server):
            server.run(sockets=[sock])


@contextlib.contextmanager
def _hangup_as_stop(server):
    """SIGHUP (a closed terminal) stops the server as Ctrl-C and SIGTERM do, then is delivered.

    uvicorn stops gracefully on SIGINT and SIGTERM and delivers them afterwards (exit 130, 143).
    SIGHUP it leaves alone: facetwitch's handler then raised inside the server's event loop,
    and uvicorn printed a traceback before the closing line. Now the server is stopped the same
    way, and SIGHUP delivered once it has stopped (exit 129, one line). Ignored (``nohup``), it
    stays ignored.
    """
    import signal

    hup = getattr(signal, "SIGHUP", None)
    if hup is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(hup)
    if previous == signal.SIG_IGN:
        yield
        return
    hung: list[int] = []

    def on_hangup(signum, frame):
        hung.append(signum)
        server.should_exit = True

    signal.signal(hup, on_hangup)
    try:
        yield
    finally:
        signal.signal(hup, previous)
    if hung:
        signal.raise_signal(hup)


class _ShutdownNote(logging.Filter):
    """uvicorn's "Cancel 1 running task(s), timeout graceful shutdown exceeded", in words.

    On Ctrl-C the server gives requests under way 3 s; an upload still arriving then is cut
    off (its temporary file removed), and uvicorn said so as an ERROR in its own terms.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if "timeout graceful shutdown exceeded" in record.getMessage():
            record.msg = (
                "stopped while data was still arriving: an upload cut off so is not kept "
                "(add the video again)"
            )
            record.args = ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
