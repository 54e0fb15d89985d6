"""The signals that stop a command as Ctrl-C does: SIGINT, SIGTERM and SIGHUP.

One table (:data:`facetwitch.errors.STOP_SIGNALS`) for every place that handles them: the
command line (:func:`facetwitch.cli.main`), the tracker (which holds them while a frame is
inside MediaPipe) and the recording loop (which stops after the current frame). A signal the
user's shell ignores (``nohup`` ignores SIGHUP; a background job started by a script ignores
SIGINT) stays ignored: facetwitch never takes back what the user asked for.
"""

from __future__ import annotations

import signal

from .errors import STOP_SIGNALS


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
