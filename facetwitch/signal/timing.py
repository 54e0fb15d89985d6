"""Frame times that are not what they seem: gaps, dropped frames, and grids sized by frames.

A video's timestamps are the user's input. A phone recording paused for hours, a broken muxer
or a hand-edited track can put a jump of hours (or 1e12 s) between two frames that are a
frame apart in the file; a camera or encoder under load drops frames, so that a twitch's peak
falls between two frames far apart. Here, from the frame times alone:

- a **gap** is an interval of more than :data:`GAP_S` without a frame: the recording is split
  there, nothing is measured across it, and it is reported (``quality.gaps_s``);
- **missing frames** are intervals longer than 1.5 typical intervals (the local median) but
  not gaps: counted per interval, so that an event they fall in can say so;
- the even time grid of :mod:`facetwitch.signal.regions` is laid per segment, never from the
  first time to the last: it holds at most ``fs_hz`` x :data:`GAP_S` samples per frame, plus
  :data:`GAP_PAD_S` x ``fs_hz`` per gap, whatever the times say.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from ..conventions import GAP_S

# GAP_S (1 s without a frame) is a gap. The grid marks samples more than 0.25 s from a frame as
# unknown anyway; what a gap adds is that its length no longer costs memory.

#: A gap stands on the grid for this long (seconds) of unknown samples, whatever its length:
#: more than any window that looks for an event (the 0.4 s edge guard), so nothing is read
#: across it.
GAP_PAD_S = 1.0
#: An interval this many times the local typical one has frames missing.
MISSING_FACTOR = 1.5
#: Intervals (frames) of the running median that sets the typical interval.
_TYPICAL_WINDOW = 31


def gaps_find(t_s: np.ndarray, *, gap_s: float = GAP_S) -> list[tuple[int, float, float]]:
    """Return the gaps of frame times ``t_s``.

    ``(i, t_before_s, t_after_s)`` for each interval of more than ``gap_s`` seconds between frame
    ``i`` and frame ``i + 1``.
    """
    t = np.asarray(t_s, float)
    if t.size < 2:
        return []
    idx = np.flatnonzero(np.diff(t) > gap_s)
    return [(int(i), float(t[i]), float(t[i + 1])) for i in idx]


def segments_of(t_s: np.ndarray, *, gap_s: float = GAP_S) -> list[tuple[int, int]]:
    """[start, stop) frame index ranges of ``t_s`` between its gaps."""
    n = len(t_s)
    cuts = [i + 1 for i, _, _ in gaps_find(t_s, gap_s=gap_s)]
    bounds = [0, *cuts, n]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def fps_robust(t_s: np.ndarray, *, gap_s: float = GAP_S) -> float:
    """Mean frame rate over the recorded time (Hz).

    Intervals per second, gaps left out. A 4 s clip with a 4 h pause is 30 fps, not 0.0 fps. NaN for
    fewer than two frames.
    """
    dt = np.diff(np.asarray(t_s, float))
    dt = dt[(dt > 0) & (dt <= gap_s)]
    return float(dt.size / dt.sum()) if dt.size and dt.sum() > 0 else float("nan")


def frames_missing(t_s: np.ndarray, *, gap_s: float = GAP_S) -> np.ndarray:
    """Frames missing in each interval of ``t_s`` (length n - 1).

    ``round(dt / typical) - 1`` where an interval is over :data:`MISSING_FACTOR` times the typical
    one (the median of the neighbouring intervals), else 0; gaps count 0 (they are reported as
    gaps).
    """
    dt = np.diff(np.asarray(t_s, float))
    out = np.zeros(dt.size, int)
    ok = (dt > 0) & (dt <= gap_s)
    if ok.sum() < 3:
        return out
    filled = np.where(ok, dt, np.median(dt[ok]))
    typical = median_filter(filled, size=min(_TYPICAL_WINDOW, filled.size) | 1, mode="nearest")
    over = ok & (dt > MISSING_FACTOR * typical)
    out[over] = np.maximum(1, np.round(dt[over] / typical[over]).astype(int) - 1)
    return out


def grid_make(
    t_s: np.ndarray, fs_hz: float, *, gap_s: float = GAP_S, pad_s: float = GAP_PAD_S
) -> tuple[np.ndarray, np.ndarray]:
    """Return an even time grid (``fs_hz``) over each stretch of ``t_s`` between gaps.

    The stretches joined by :data:`GAP_PAD_S` of samples spread over each gap.

    Returns
    -------
    t : ndarray
        Grid times (s), strictly increasing; the first stretch starts at the first frame time,
        so a track without gaps gets the grid it always had (t = 0, 1/fs, ...).
    in_gap : ndarray of bool
        True for the samples that stand for a gap (never valid).

    The grid never depends on the size of the times: at most ``fs_hz`` x ``gap_s`` + 1
    samples per frame, plus ``pad_s`` x ``fs_hz`` per gap.
    """
    t = np.asarray(t_s, float)
    step = 1.0 / fs_hz
    pad = max(1, int(np.ceil(pad_s * fs_hz)))
    parts, flags = [], []
    segs = segments_of(t, gap_s=gap_s)
    for k, (a, b) in enumerate(segs):
        t0, t1 = t[a], t[b - 1]
        # at most (b - a - 1) * gap_s * fs_hz + 1 samples: bounded by the frames
        seg = np.arange(t0, t1 + 0.5 * step, step) if t1 > t0 else np.array([t0])
        parts.append(seg)
        flags.append(np.zeros(seg.size, bool))
        if k + 1 < len(segs):
            last = seg[-1] if seg.size else t1
            inside = np.linspace(last, t[segs[k + 1][0]], pad + 2)[1:-1]
            inside = inside[(inside > last) & (inside < t[segs[k + 1][0]])]
            parts.append(inside)
            flags.append(np.ones(inside.size, bool))
    if not parts:
        return np.zeros(0), np.zeros(0, bool)
    # at huge times (1e12 s) floats are coarse: never the same time twice
    grid, first = np.unique(np.concatenate(parts), return_index=True)
    return grid, np.concatenate(flags)[first]
