"""Flickering light and a webcam's auto-exposure: real faces at rest (issue 15).

A webcam at a desk is lit by LED or fluorescent lamps on the mains. Their light pulses at twice
the mains frequency (100 Hz on 50 Hz mains), and a rolling shutter reads the picture's rows one
after another, so the pulsing becomes dark and light horizontal bands that roll through the
picture from frame to frame (worst where the camera's anti-flicker setting does not match the
mains, or the room is bright and the exposure short). And a webcam adjusts its exposure by
itself: when the light changes, the whole picture brightens or darkens over a fraction of a
second. Neither moves the skin; both change the pixels the flow reads. This benchmark takes the
real set's at-rest clips (``compressed.REST_CLIPS``: msu 001 / 005 / 022, vitallens 1 / 2, bob)
and the real set's own injection plans (``real.py``: same seeds, same twitches, 0.5-3 mm),
injects them into the *original* files without loss (x264 CRF 0), changes each frame's light as
below, and encodes it once at CRF 18, as ``lowlight.py`` does (whose making it shares):

- ``bands`` / ``bands10``: each row's brightness times ``1 + m sin(2 pi f (t + row / rows x
  readout))``, f = 100 Hz (50 Hz mains), the readout 0.9 of a frame interval (a rolling
  shutter), m = 0.03 or 0.10 of the brightness (after the exposure's own averaging of the
  pulses: a few percent with anti-flicker on, a tenth or more without). At 30 frames/s the bands
  roll a third of their spacing a frame; at 25 they stand still.
- ``exposure``: the whole picture's brightness steps to a new level (0.85-1.15 of it, drawn
  every 2-4 s) over 0.3 s, as an auto-exposure settles after the light changes.

The clean clips (no injection) made the same way give the false twitches with nothing to find.
The starting phase and the exposure's steps are drawn from a generator seeded by clip, light
and seed: the same videos on every run.

Printed per light, per clip and pooled, as ``lowlight.py`` prints.

    python benchmarks/flicker.py                       # seeds 0-2 and the clean clips, every light
    python benchmarks/flicker.py --lights bands10 --seeds -v    # the clean clips only

Tracks and truths are cached in ``--work``/flicker; the videos are deleted once tracked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lowlight  # noqa: E402

#: light -> (band modulation m, exposure step half-range): see the module docstring.
LIGHTS = {"bands": (0.03, 0.0), "bands10": (0.10, 0.0), "exposure": (0.0, 0.15)}
#: The lamps' light pulses at this frequency (Hz): twice 50 Hz mains.
FLICKER_HZ = 100.0
#: A rolling shutter reads the rows over this fraction of a frame interval.
READOUT = 0.9
#: Auto-exposure: a new level every 2-4 s (uniform), reached over this long (s).
EXPOSURE_EVERY_S = (2.0, 4.0)
EXPOSURE_RAMP_S = 0.3


def exposure_levels(rng: np.random.Generator, duration_s: float, half_range: float):
    """Return ``gain(t)``: the auto-exposure's brightness factor at time ``t`` (s)."""
    at, levels = [0.0], [1.0]
    while at[-1] < duration_s:
        at.append(at[-1] + rng.uniform(*EXPOSURE_EVERY_S))
        levels.append(1.0 + rng.uniform(-half_range, half_range))

    def gain(t: float) -> float:
        i = int(np.searchsorted(at, t, side="right")) - 1
        if i <= 0:
            return levels[0]
        ramp = min(1.0, (t - at[i]) / EXPOSURE_RAMP_S)
        return levels[i - 1] + (levels[i] - levels[i - 1]) * ramp

    return gain


def lit(rgb: np.ndarray, t: float, rate: float, m: float, gain: float, phase: float) -> np.ndarray:
    """``rgb`` (uint8) at frame time ``t`` under the light: bands of depth ``m``, times ``gain``."""
    h = rgb.shape[0]
    row_t = t + np.arange(h, dtype=np.float64) / h * READOUT / rate
    f = gain * (1.0 + m * np.sin(2 * np.pi * FLICKER_HZ * row_t + phase))
    out = rgb.astype(np.float32) * f.astype(np.float32)[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _remake(src: Path, dst: Path, light: str, rng: np.random.Generator) -> None:
    """``src`` with every frame :func:`lit` (``lowlight.remade``)."""
    m, half = LIGHTS[light]
    phase = float(rng.uniform(0, 2 * np.pi))

    def each(rate, dur, width):
        gain = exposure_levels(rng, dur + 1.0, half)
        return lambda rgb, t: lit(rgb, t, rate, m, gain(t), phase)

    lowlight.remade(src, dst, each)


def _describe(light: str, rows: list[dict]) -> str:
    m, half = LIGHTS[light]
    noisy = sum(r["not_assessable_s"].get("BAD_noisy") or 0 for r in rows) / 60
    return (f"{light}: bands {m:g} of the brightness at {FLICKER_HZ:g} Hz, exposure steps "
            f"+-{half:g}; BAD_noisy {noisy:.2f} min")  # fmt: skip


def main() -> None:
    lowlight.main_for(__doc__, "lights", LIGHTS, "flicker", _remake, _describe)


if __name__ == "__main__":
    main()
