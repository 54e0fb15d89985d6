"""The signals that stop a command as Ctrl-C does: SIGINT, SIGTERM and SIGHUP.

One table (:data:`facetwitch.errors.STOP_SIGNALS`) for every place that handles them: the
command line (:func:`facetwitch.cli.main`), the tracker (which holds them while a frame is
inside MediaPipe) and the recording loop (which stops after the current frame). A signal the
user's shell ignores (``nohup`` ignores SIGHUP; a background job started by a script ignores
SIGINT) stays ignored: facetwitch never takes back what the user asked for.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from .errors import STOP_SIGNALS

T = TypeVar("T")


def stop_signals() -> dict[int, tuple[str, int, type[KeyboardInterrupt]]]:
    """Return the stop signals of this platform that are not ignored right now.

    ``{signum: (word, exit code, exception)}`` for the stop signals of this platform that are not
    ignored (``SIG_IGN``) right now.
    """
    found = {}
    for name, what in STOP_SIGNALS.items():
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            found[signum] = what
    return found


def stop_info(signum: int) -> tuple[str, int, type[KeyboardInterrupt]]:
    """``(word, exit code, exception)`` of a stop signal (Ctrl-C's for any other)."""
    for name, what in STOP_SIGNALS.items():
        if getattr(signal, name, None) == signum:
            return what
    return STOP_SIGNALS["SIGINT"]


@contextlib.contextmanager
def signals_held(signums=None) -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C, SIGTERM and SIGHUP (those not ignored) for the body; deliver them after.

    Yields ``deliver()``, which delivers a held signal now (the body may call it where stopping
    is safe, e.g. between two frames). A stop signal's handler raises wherever the main thread
    is, as soon as a system call returns; some steps must not be cut in two:

    - a frame inside MediaPipe's Python wrappers (half-built objects print tracebacks when
      unwound there: "Exception ignored in Image.__del__", seen once in a CI dry run);
    - making a file or directory and noting it for removal (:func:`made_whole`);
    - removing what a run leaves behind (a staging directory half removed stays, seen once in
      a CI run: a batch hung up while a report folder's staging directory was being removed).

    A held signal is re-raised to whatever handler was installed before. Main thread only
    (elsewhere signals cannot be handled anyway, and the body runs as it is).
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    pending: list[int] = []
    if signums is None:
        signums = tuple(stop_signals())
    old = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in signums}

    def restore():
        for s, handler in old.items():
            signal.signal(s, handler)

    def deliver():
        if pending:
            signum = pending[0]
            pending.clear()  # delivered here, not once more when the block ends
            restore()
            signal.raise_signal(signum)  # the restored handler runs (and raises) here

    try:
        yield deliver
    finally:
        restore()
        if pending:
            signal.raise_signal(pending[0])


def made_whole(make: Callable[[], T], undo: Callable[[T], object]) -> T:
    """Return ``make()`` (which makes a file or directory), never leaving it made and unknown.

    ``make`` runs with the stop signals held (:func:`signals_held`); one that came meanwhile is
    delivered once it returned, and what it made is undone (``undo(result)``) before the stop
    goes on. The caller's cleanup (``try``/``finally``, ``with``) must begin right after the
    call (no other call in between): then a stop signal at any moment leaves nothing behind.
    """
    result: T
    done = False
    try:
        with signals_held():
            result = make()
            done = True
    except BaseException:
        if done:
            with contextlib.suppress(Exception):
                undo(result)
        raise
    return result
