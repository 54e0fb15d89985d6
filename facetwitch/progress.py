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

    Notes
    -----
    ``total`` may be 0 when unknown (then no bar, only the count and the rate). The text keeps
    the form ``<done>/<total> frames, <rate> fps`` that scripts and tests look for.
    """

    def __init__(self, label: str, *, stream=None, unit: str = "frames"):
        self.label = label
        self.stream = stream or sys.stderr
        self.unit = unit
        self.enabled = _enabled(self.stream)
        self._progress = None
        self._task = None
        self._t0: float | None = None  # the first call: model loading is not counted
        self._done0 = 0

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=self.stream, force_terminal=True, soft_wrap=False)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[counts]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            refresh_per_second=5,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=None, counts="")

    def __call__(self, done: int, total: int = 0) -> None:
        """Show that ``done`` of ``total`` are done (``total`` 0: unknown)."""
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
        counts = f"{done}/{total} {self.unit}" if known else f"{done} {self.unit}"
        self._progress.update(
            self._task,
            completed=done,
            total=total if known else None,
            counts=f"{counts}, {rate:.0f} fps" if self.unit == "frames" else counts,
        )

    def close(self) -> None:
        """Draw the bar one last time and end its line."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
