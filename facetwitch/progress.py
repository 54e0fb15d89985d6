"""A small progress bar on stderr: frames done, frames/s, ETA. Silent when stderr is no TTY
(logs and CI stay clean) unless forced with ``FACETWITCH_PROGRESS=1``."""

from __future__ import annotations

import os
import sys
import time


class ProgressBar:
    """Callable ``bar(done, total)``; ``total`` may be 0 when unknown. Call ``bar.close()``."""

    def __init__(self, label: str, *, stream=None, min_interval_s: float = 0.2):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = os.environ.get("FACETWITCH_PROGRESS") == "1" or (
            hasattr(self.stream, "isatty") and self.stream.isatty()
        )
        self.min_interval_s = min_interval_s
        self._t0 = time.perf_counter()
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int = 0) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < self.min_interval_s and done != total:
            return
        self._last = now
        elapsed = now - self._t0
        rate = done / elapsed if elapsed > 0 else 0.0
        if total and total >= done:
            frac = done / total
            width = 24
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            eta = (total - done) / rate if rate > 0 else float("nan")
            text = f"{self.label} [{bar}] {done}/{total} frames, {rate:.0f} fps, ETA {eta:.0f} s"
        else:
            text = f"{self.label} {done} frames, {rate:.0f} fps"
        self.stream.write("\r" + text.ljust(78))
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
