"""Progress bars on stderr (rich): frames done, frames/s, time left.

Silent when stderr is not a terminal (logs and CI stay clean) unless forced with
``FACETWITCH_PROGRESS=1``; ``FACETWITCH_PROGRESS=0`` silences it on a terminal too. rich is
already installed with typer; importing ``rich.progress`` costs about 0.1-0.3 s, paid only when
a bar is made (before minutes of tracking), never by ``facetwitch --help``.
"""

from __future__ import annotations

import os
import sys
import time
import weakref

#: The bars being drawn now (for :func:`echo` and :func:`close_all`).
_ACTIVE: weakref.WeakSet = weakref.WeakSet()


def _enabled(stream) -> bool:
    forced = os.environ.get("FACETWITCH_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    return hasattr(stream, "isatty") and stream.isatty()


class ProgressBar:
    """A progress callback ``bar(done, total)`` drawn on stderr; call ``bar.close()`` at the end.

    Parameters
    ----------
    label : str
        What is being counted ("tracking", "analysing", ...).
    stream : file, optional
        Where to draw (default: ``sys.stderr``).
    unit : str
        What ``done`` counts (shown after the numbers).
    eta_given : bool
        The caller says the time left (``bar(done, total, remaining_s)``) instead of the bar
        estimating it from the recent rate (a batch's videos end minutes apart).

    Notes
    -----
    ``total`` may be 0 when unknown (then no bar, only the count and the rate). The text keeps
    the form ``<done>/<total> frames, <rate> fps`` that scripts and tests look for.
    """

    def __init__(self, label: str, *, stream=None, unit: str = "frames", eta_given: bool = False):
        self.label = label
        self.stream = stream or sys.stderr
        self.unit = unit
        self.eta_given = eta_given
        self.enabled = _enabled(self.stream)
        self._progress = None
        self._task = None
        self._t0: float | None = None  # the first call: model loading is not counted
        self._done0 = 0

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=self.stream, force_terminal=True, soft_wrap=False)
        # the cursor stays visible: a run stopped hard must not leave the terminal without one
        console.show_cursor = lambda show=True: False
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[counts]}"),
            TextColumn("ETA"),
            TextColumn("{task.fields[eta]}") if self.eta_given else TimeRemainingColumn(),
            console=console,
            transient=False,
            auto_refresh=False,  # drawn from __call__ only: no thread writes after a stop
        )
        self._progress.start()
        self._drawn = 0.0
        _ACTIVE.add(self)
        self._task = self._progress.add_task(self.label, total=None, counts="", eta="-:--:--")

    def __call__(self, done: int, total: int = 0, remaining_s: float | None = None) -> None:
        """Show that ``done`` of ``total`` are done (``total`` 0: unknown).

        ``remaining_s``: the time left in seconds, with ``eta_given`` (None: not known yet).
        """
        if not self.enabled:
            return
        if self._progress is None:
            self._start()
        now = time.perf_counter()
        if self._t0 is None:
            self._t0, self._done0 = now, done
        elapsed = now - self._t0
        rate = (done - self._done0) / elapsed if elapsed > 0 else 0.0
        known = bool(total) and total >= done
        n = total if known else done  # "1/1 video", "0/3 videos"
        unit = self.unit.removesuffix("s") if n == 1 else self.unit
        counts = f"{done}/{total} {unit}" if known else f"{done} {unit}"
        self._progress.update(
            self._task,
            completed=done,
            total=total if known else None,
            counts=f"{counts}, {rate:.0f} fps" if self.unit == "frames" else counts,
            eta=_clock(remaining_s),
        )
        if now - self._drawn >= 0.2 or (known and done >= total):
            self._drawn = now
            self._progress.refresh()

    def close(self) -> None:
        """Draw the bar one last time, end its line and show the cursor again."""
        _ACTIVE.discard(self)
        if self._progress is not None:
            progress, self._progress = self._progress, None
            progress.refresh()
            progress.stop()


def _clock(seconds: float | None) -> str:
    """``h:mm:ss`` (``-:--:--`` when unknown), as rich's own time-left column."""
    if seconds is None or not seconds == seconds or seconds == float("inf"):
        return "-:--:--"
    s = int(round(max(0.0, seconds)))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def echo(line: str, stream=None) -> None:
    """Print ``line`` on stderr above any bar being drawn (the bar goes on below it)."""
    for bar in list(_ACTIVE):
        if bar._progress is not None:
            bar._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
            return
    print(line, file=stream or sys.stderr, flush=True)


def close_all() -> None:
    """End every bar being drawn (before a closing message: Ctrl-C, an error)."""
    for bar in list(_ACTIVE):
        bar.close()
