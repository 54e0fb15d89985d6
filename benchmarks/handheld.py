"""A phone held in the hand: real faces at rest, filmed by a camera that shakes (issue 15).

"Record it when it starts" means a phone held at arm's length, not a camera on a tripod. The
hand sways the picture slowly and its tremor shakes it at 8-12 Hz; the phone's rolling shutter
reads the rows one after another, so a shake within a frame shears the picture; and the
stabiliser's crop hides the edges. None of it moves the skin. This benchmark takes the real
set's at-rest clips (``compressed.REST_CLIPS``: msu 001 / 005 / 022, vitallens 1 / 2, bob) and
the real set's own injection plans (``real.py``: same seeds, same twitches, 0.5-3 mm), injects
them into the *original* files without loss (x264 CRF 0), moves each frame as a hand-held camera
would, and encodes it once at CRF 18, as ``lowlight.py`` does (whose making it shares):

- the picture is shifted by a sway (noise low-passed to 0.3-2 Hz) and a tremor (noise
  band-passed to 8-12 Hz), each with the standard deviation ``HANDS`` gives as a fraction of
  the frame's width, and turned (roll) by a sway of its own;
- each row is moved where the camera was when that row was read (the readout takes 0.9 of a
  frame interval): the rolling shutter's shear and wobble;
- the picture is enlarged by ``1 + 3 x`` the sway's deviation about its centre, as a stabiliser's
  crop is, so that no edge comes into view (bicubic resampling, every frame).

``HANDS`` gives two: ``steady`` (elbows on a table: sway 0.4 % of the width, tremor 0.03 %,
roll 0.2 deg) and ``arm`` (at arm's length: sway 1.2 %, tremor 0.1 %, roll 0.6 deg). The clean
clips (no injection) made the same way give the false twitches with nothing to find. The motion
is drawn from a generator seeded by clip, hand and seed: the same videos on every run.

Printed per hand, per clip and pooled, as ``lowlight.py`` prints.

    python benchmarks/handheld.py                      # seeds 0-2 and the clean clips, both hands
    python benchmarks/handheld.py --hands arm --seeds -v    # the clean clips only

Tracks and truths are cached in ``--work``/handheld; the videos are deleted once tracked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
from scipy.signal import butter, sosfiltfilt

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lowlight  # noqa: E402

#: hand -> (sway, tremor: standard deviation of the shift, fraction of the frame's width; roll
#: sway's standard deviation, degrees).
HANDS = {"steady": (0.004, 0.0003, 0.2), "arm": (0.012, 0.001, 0.6)}
#: Sway and tremor bands (Hz).
SWAY_HZ = (0.3, 2.0)
TREMOR_HZ = (8.0, 12.0)
#: A rolling shutter reads the rows over this fraction of a frame interval.
READOUT = 0.9
#: The motion is drawn on this fine a time grid (Hz), then read at each row's time.
MOTION_HZ = 1000.0


def _band(rng: np.random.Generator, n: int, band: tuple[float, float], sd: float) -> np.ndarray:
    """White noise band-passed to ``band`` (Hz) on the ``MOTION_HZ`` grid, scaled to ``sd``."""
    sos = butter(2, band, btype="bandpass", fs=MOTION_HZ, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal(n + 2000))[1000:-1000]
    return x / max(float(x.std()), 1e-12) * sd


def motion(rng: np.random.Generator, duration_s: float, width: int, hand: str):
    """Return ``at(t) -> (dx, dy, roll_deg)``: the camera's shift (px) and roll at times ``t``."""
    sway, tremor, roll = HANDS[hand]
    n = int(np.ceil((duration_s + 1.0) * MOTION_HZ))
    dx = _band(rng, n, SWAY_HZ, sway * width) + _band(rng, n, TREMOR_HZ, tremor * width)
    dy = _band(rng, n, SWAY_HZ, sway * width) + _band(rng, n, TREMOR_HZ, tremor * width)
    rot = _band(rng, n, SWAY_HZ, roll)
    grid = np.arange(n) / MOTION_HZ

    def at(t):
        return (np.interp(t, grid, dx), np.interp(t, grid, dy), np.interp(t, grid, rot))

    return at


def shaken(rgb: np.ndarray, t: float, rate: float, at, zoom: float) -> np.ndarray:
    """``rgb`` as the shaking camera read it at frame time ``t`` (each row at its own time)."""
    h, w = rgb.shape[:2]
    rows = np.arange(h, dtype=np.float64)
    dx, dy, rot = at(t + rows / h * READOUT / rate)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    x = (np.arange(w, dtype=np.float64) - cx)[None, :] / zoom
    y = (rows - cy)[:, None] / zoom
    c, s = np.cos(np.radians(rot))[:, None], np.sin(np.radians(rot))[:, None]
    # the scene point seen at output pixel (x, y): the camera turned and moved by (dx, dy)
    map_x = (c * x - s * y + cx + dx[:, None]).astype(np.float32)
    map_y = (s * x + c * y + cy + dy[:, None]).astype(np.float32)
    return cv2.remap(rgb, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _remake(src: Path, dst: Path, hand: str, rng: np.random.Generator) -> None:
    """``src`` with every frame :func:`shaken` (``lowlight.remade``)."""
    zoom = 1.0 + 3 * HANDS[hand][0]

    def each(rate, dur, width):
        at = motion(rng, dur + 1.0, width, hand)
        return lambda rgb, t: shaken(rgb, t, rate, at, zoom)

    lowlight.remade(src, dst, each)


def _describe(hand: str, rows: list[dict]) -> str:
    sway, tremor, roll = HANDS[hand]
    moved = sum(r["not_assessable_s"].get("BAD_head_motion") or 0 for r in rows) / 60
    return (f"{hand}: sway {sway:g}, tremor {tremor:g} of the width, roll {roll:g} deg; "
            f"BAD_head_motion {moved:.2f} min")  # fmt: skip


def main() -> None:
    lowlight.main_for(__doc__, "hands", HANDS, "handheld", _remake, _describe)


if __name__ == "__main__":
    main()
