"""Twitch simulator: inject events of known size, direction and timing into real face footage.

Ground truth for the analysis (issue 3). Two public steps, NeuroKit-style:

- :func:`twitch_simulate` plans events (random but reproducible by ``seed``): region, side,
  amplitude in mm, direction in degrees (CONVENTIONS face frame: 0 = toward the patient's left,
  90 = up), onset, temporal profile (raised-cosine rise of 30-80 ms, exponential-like decay back
  to 0, 100-600 ms in all; sometimes a burst of 2-4 pulses), and optionally blinks.
- :func:`video_inject` runs the Face Landmarker once over the clean source (VIDEO mode) to place
  each event on the face, warps the frames with a smooth local field that moves the skin by the
  planned vector, encodes the result (H.264, the source frames' timestamps kept) and writes the
  truth beside it (``<dst>.truth.json``) in report.json's own event fields.

:func:`injection_check` measures how much of each injected displacement the landmark model's
points follow in a track of the injected video (MediaPipe smooths fast motion away).

Spatial model of a twitch: the forward displacement of skin point ``p`` is
``d(p) = A(t) * v * exp(-|p - c|^2 / (2 sigma^2))``, with ``c`` the centroid of the region's
landmarks in that frame, ``sigma`` = :data:`SIGMA_PER_SPREAD` x the region's landmark spread
(the longer side of their bounding box, median over the clip), and ``v`` the amplitude in mm x
px-per-mm along the face-frame direction converted to image axes (face +x = unit vector from
landmark 33 to 263, i.e. toward the patient's left in an unmirrored video; face +y = its
perpendicular toward the forehead). The output pixel ``q`` samples the source at the inverse of
``p -> p + d(p)``, found by one fixed-point step: ``p = q - d(q - d(q))``.

A blink moves both upper eyelids down to cover :data:`BLINK_CLOSURE` of the eye opening and
back (a field that follows the lid curves the landmarks give, and squeezes the open eye below
the moving lid instead of dragging the lower lid along).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ._validate import check_option
from .conventions import (
    EVENT_KINDS,
    IRIS_DIAMETER_MM,
    REGIONS,
    direction_deg,
    direction_word,
)
from .errors import InputError, OutputError, UsageError
from .regions import EYE_OUTER_CORNER, IRIS_HORIZONTAL, REGION_LANDMARKS

logger = logging.getLogger("facetwitch")

#: Gaussian sigma of a twitch's spatial bump, per unit of the region's landmark spread.
SIGMA_PER_SPREAD = 0.45
#: Smallest bump sigma, in px.
MIN_SIGMA_PX = 3.0
#: Smallest bump sigma, in mm: a twitching muscle moves a patch of skin about a centimetre
#: across, and a bump narrower than its own displacement would fold the image over itself
#: (a fold-free Gaussian warp needs amplitude < ~1.6 sigma).
MIN_SIGMA_MM = 4.0
#: Fraction of the eye opening a simulated blink covers.
BLINK_CLOSURE = 0.85
#: Shape constant of the exponential-like decay (higher = faster early fall).
DECAY_K = 3.0
#: Gaps without a face up to this long (s) are bridged by interpolating the landmarks.
MAX_GAP_S = 0.5
#: Default regions of planned twitches.
DEFAULT_REGIONS = (
    "upper_lip",
    "lower_lip",
    "mouth_corner",
    "upper_eyelid",
    "lower_eyelid",
    "cheek",
    "brow",
)
#: Landmarks of the nose bridge and forehead: the reference of :func:`injection_check`.
REFERENCE_LANDMARKS = (168, 6, 197, 9, 151, 10)

# Eyelid curves, outer corner -> inner corner, by MediaPipe's (subject's own) side.
_UPPER_LID = {
    "right": (33, 246, 161, 160, 159, 158, 157, 173, 133),
    "left": (263, 466, 388, 387, 386, 385, 384, 398, 362),
}
_LOWER_LID = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133),
    "left": (263, 249, 390, 373, 374, 380, 381, 382, 362),
}
_FOREHEAD, _CHIN = 10, 152

# Fields of report.json's events that the truth carries (CONVENTIONS.md).
_REPORT_FIELDS = (
    "id",
    "kind",
    "region",
    "side",
    "t_start_s",
    "t_peak_s",
    "t_end_s",
    "duration_s",
    "amplitude_mm",
    "direction_deg",
    "direction",
    "pulse_count",
)


# ------------------------------------------------------------------------------------------
# Temporal profile
# ------------------------------------------------------------------------------------------
def _pulse(u: np.ndarray, rise_s: float, decay_s: float, hold_s: float = 0.0) -> np.ndarray:
    """One pulse 0 -> 1 -> 0: raised-cosine rise (``rise_s``), held at 1 for ``hold_s`` (a tonic
    contraction; 0 for a twitch), exp-like decay (``decay_s``)."""
    u = np.asarray(u, dtype=float)
    out = np.zeros_like(u)
    r = (u >= 0) & (u < rise_s)
    out[r] = 0.5 * (1.0 - np.cos(np.pi * u[r] / rise_s))
    out[(u >= rise_s) & (u < rise_s + hold_s)] = 1.0
    d = (u >= rise_s + hold_s) & (u < rise_s + hold_s + decay_s)
    s = (u[d] - rise_s - hold_s) / decay_s
    out[d] = (np.exp(-DECAY_K * s) - np.exp(-DECAY_K)) / (1.0 - np.exp(-DECAY_K))
    return out


def event_profile(event: dict, t_s: np.ndarray | float) -> np.ndarray:
    """Displacement of ``event`` at times ``t_s`` (s), as a fraction of its amplitude (0..1).

    Pulses of a burst combine by their maximum, so the amplitude is reached once, at
    ``t_peak_s`` (the first pulse has gain 1, later ones less). A pulse is ``[offset_s, gain,
    rise_s, decay_s]``, or with a fifth number ``hold_s``, held at its peak that long (a tonic
    contraction).
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=float)) - float(event["t_start_s"])
    out = np.zeros_like(t)
    for offset_s, gain, rise_s, decay_s, *hold in event["profile"]["pulses"]:
        out = np.maximum(out, gain * _pulse(t - offset_s, rise_s, decay_s, *hold[:1]))
    return out


# ------------------------------------------------------------------------------------------
# Planning
# ------------------------------------------------------------------------------------------
def _as_range(name: str, value, lo_ok: float = 0.0) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else tuple(float(x) for x in value)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or lo < lo_ok:
        raise ValueError(
            f"{name!r} must be a number or a (low, high) range >= {lo_ok}, got {value!r}."
        )
    return float(lo), float(hi)


def twitch_simulate(
    n_events: int,
    duration_s: float,
    *,
    regions=DEFAULT_REGIONS,
    sides=("left", "right"),
    amplitude_mm=(1.0, 3.0),
    direction_deg=None,
    event_duration_s=(0.1, 0.6),
    rise_s=(0.03, 0.08),
    burst_fraction: float = 0.25,
    n_blinks: int = 0,
    min_spacing_s: float = 1.0,
    margin_s: float = 0.5,
    seed=None,
) -> list[dict]:
    """Plan ``n_events`` twitches (and ``n_blinks`` blinks) at random, reproducibly.

    Parameters
    ----------
    n_events : int
        Number of twitches.
    duration_s : float
        Length of the video the plan is for, in seconds.
    regions, sides : sequence of str
        Drawn from uniformly (CONVENTIONS vocabularies; ``side`` is the patient's own).
    amplitude_mm : float or (low, high)
        Peak skin displacement, in mm (uniform in the range).
    direction_deg : float, (low, high) or None
        Face-frame direction in degrees (0 = toward the patient's left, 90 = up); None draws
        uniformly on the circle.
    event_duration_s : (low, high)
        Total duration of a single-pulse twitch, in s (rise + decay).
    rise_s : (low, high)
        Rise time (onset to peak) of a pulse, in s.
    burst_fraction : float
        Probability that a twitch is a burst of 2-4 pulses (total still within
        ``event_duration_s[1]``).
    n_blinks : int
        Blinks to add (150-300 ms, both upper eyelids).
    min_spacing_s : float
        Minimum time between the peaks of consecutive events, in s (events never overlap).
    margin_s : float
        No event peaks within this many seconds of the start or the end.
    seed : int or numpy Generator, optional
        Same seed, same plan.

    Returns
    -------
    list of dict
        Events sorted by time, in report.json's event fields (``id``, ``kind``, ``region``,
        ``side``, ``t_start_s``, ``t_peak_s``, ``t_end_s``, ``duration_s``, ``amplitude_mm``,
        ``direction_deg``, ``direction``, ``pulse_count``) plus ``profile`` (the pulses:
        ``[offset_s, gain, rise_s, decay_s]``). A blink's ``amplitude_mm`` is None until
        :func:`video_inject` measures the eye opening.
    """
    n_events, n_blinks = int(n_events), int(n_blinks)
    if n_events < 0 or n_blinks < 0:
        raise ValueError("'n_events' and 'n_blinks' must be >= 0.")
    regions, sides = list(regions), list(sides)
    for r in regions:
        check_option("regions", r, REGIONS)
    for s in sides:
        check_option("sides", s, ("left", "right", "both"))
    if not regions or not sides:
        raise ValueError("'regions' and 'sides' must not be empty.")
    amp = _as_range("amplitude_mm", amplitude_mm)
    dur = _as_range("event_duration_s", event_duration_s)
    rise = _as_range("rise_s", rise_s)
    if rise[1] >= dur[0]:
        raise ValueError("'rise_s' must be shorter than the shortest 'event_duration_s'.")
    if dur[1] > min_spacing_s * 0.9:
        raise ValueError("'min_spacing_s' must exceed the longest event by 10%.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    n = n_events + n_blinks
    lo, hi = margin_s, float(duration_s) - margin_s - dur[1]
    free = (hi - lo) - (n - 1) * min_spacing_s
    if n and free < 0:
        raise ValueError(
            f"{n} events {min_spacing_s} s apart do not fit in {duration_s} s "
            f"(margins {margin_s} s)."
        )
    peaks = np.sort(rng.uniform(0.0, free, n)) + lo + np.arange(n) * min_spacing_s
    kinds = np.array(["twitch"] * n_events + ["blink"] * n_blinks)
    kinds = kinds[rng.permutation(n)]

    events = []
    for i, (t_peak, kind) in enumerate(zip(peaks, kinds, strict=True)):
        if kind == "blink":
            total = rng.uniform(0.15, 0.3)
            r = 0.4 * total
            pulses = [[0.0, 1.0, r, total - r]]
            ev = {
                "kind": "blink",
                "region": "upper_eyelid",
                "side": "both",
                "amplitude_mm": None,
                "direction_deg": 270.0,
            }
        else:
            n_pulses = int(rng.integers(2, 5)) if rng.uniform() < burst_fraction else 1
            if n_pulses == 1:
                total = rng.uniform(*dur)
                r = rng.uniform(rise[0], min(rise[1], total - 0.05))
                pulses = [[0.0, 1.0, r, total - r]]
            else:
                r = rng.uniform(rise[0], min(rise[1], 0.045))
                decay = rng.uniform(0.06, 0.09)
                interval = r + decay + rng.uniform(0.0, 0.03)
                interval = min(interval, (dur[1] - (r + decay)) / (n_pulses - 1))
                gains = np.r_[1.0, rng.uniform(0.6, 0.9, n_pulses - 1)]
                pulses = [[k * interval, float(g), r, decay] for k, g in enumerate(gains)]
                total = (n_pulses - 1) * interval + r + decay
            if direction_deg is None:
                ang = rng.uniform(0.0, 360.0)
            else:
                ang = rng.uniform(*_as_range("direction_deg", direction_deg, lo_ok=-360.0))
            ev = {
                "kind": "twitch",
                "region": str(rng.choice(regions)),
                "side": str(rng.choice(sides)),
                "amplitude_mm": round(float(rng.uniform(*amp)), 3),
                "direction_deg": round(float(ang % 360.0), 1),
            }
        t_start = float(t_peak) - pulses[0][2]
        ev.update(
            {
                "id": i + 1,
                "t_start_s": round(t_start, 4),
                "t_peak_s": round(float(t_peak), 4),
                "t_end_s": round(t_start + total, 4),
                "duration_s": round(total, 4),
                "direction": direction_word(ev["direction_deg"]),
                "pulse_count": len(pulses),
                "profile": {"pulses": [[round(float(x), 4) for x in p] for p in pulses]},
            }
        )
        events.append(_ordered(ev))
    return events


def _ordered(ev: dict) -> dict:
    head = {k: ev[k] for k in _REPORT_FIELDS if k in ev}
    return {**head, **{k: v for k, v in ev.items() if k not in head}}


def _shift(ev: dict, dt: float) -> dict:
    ev = dict(ev)
    for k in ("t_start_s", "t_peak_s", "t_end_s"):
        ev[k] = round(float(ev[k]) + dt, 4)
    return ev


# ------------------------------------------------------------------------------------------
# Landmarks of the clean source
# ------------------------------------------------------------------------------------------
def _track_source(src: Path, model, progress) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(t, points (n,478,2) px, found, info) of the source, one VIDEO-mode pass."""
    from .landmarks.tracker import FaceTracker
    from .landmarks.video import VideoReader

    ts, pts, found = [], [], []
    with VideoReader(src) as reader, FaceTracker(model, mode="video", flow=False) as tracker:
        total = reader.expected_frames
        for frame in reader:
            r = tracker.process(frame)
            ts.append(frame.t_s)
            pts.append(r.points[:, :2])
            found.append(r.found)
            if progress is not None:
                progress(len(ts), 2 * max(total, len(ts)))
        info = reader.info.to_dict()
    if not ts:
        raise InputError(f"{src}: no video frames could be decoded")
    return np.asarray(ts), np.stack(pts), np.asarray(found, bool), info


def _fill_gaps(t: np.ndarray, points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Mask of frames usable for injection; ``points`` interpolated in place over short gaps."""
    usable = found.copy()
    idx = np.flatnonzero(found)
    if idx.size == 0:
        return usable
    for a, b in zip(idx[:-1], idx[1:], strict=True):
        if b - a > 1 and t[b] - t[a] <= MAX_GAP_S:
            w = ((t[a + 1 : b] - t[a]) / (t[b] - t[a]))[:, None, None]
            points[a + 1 : b] = (1 - w) * points[a] + w * points[b]
            usable[a + 1 : b] = True
    return usable


def _px_per_mm(points: np.ndarray, found: np.ndarray) -> float:
    """Median over the clip of the horizontal iris diameter (both eyes) / 11.7 mm."""
    p = points[found]
    if len(p) == 0:
        return float("nan")
    d = [np.linalg.norm(p[:, a] - p[:, b], axis=1) for a, b in IRIS_HORIZONTAL.values()]
    return float(np.nanmedian(np.mean(d, axis=0)) / IRIS_DIAMETER_MM)


def _face_axes(p: np.ndarray, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """Image-space unit vectors of face +x (patient's left) and +y (toward the forehead)."""
    ex = p[EYE_OUTER_CORNER["left"]] - p[EYE_OUTER_CORNER["right"]]
    ex = ex / np.linalg.norm(ex)
    if mirrored:  # the mesh's "left" is then the patient's right
        ex = -ex
    ey = np.array([ex[1], -ex[0]])
    if np.dot(ey, p[_FOREHEAD] - p[_CHIN]) < 0:
        ey = -ey
    return ex, ey


def _mesh_side(side: str, mirrored: bool) -> str:
    """MediaPipe's side label of the patient's ``side``."""
    if not mirrored:
        return side
    return {"left": "right", "right": "left"}[side]


def _region_sides(side: str) -> list[str]:
    return ["left", "right"] if side == "both" else [side]


# ------------------------------------------------------------------------------------------
# Warps
# ------------------------------------------------------------------------------------------
def _warp_bump(
    img: np.ndarray, src: np.ndarray, c: np.ndarray, v: np.ndarray, sigma: float
) -> None:
    """Move skin around ``c`` by ``v * gaussian``: writes into ``img`` (sampling ``src``)."""
    amp = float(np.hypot(*v))
    if amp < 1e-3:
        return
    h, w = img.shape[:2]
    r = 3.5 * sigma + amp + 2
    x0, x1 = int(max(0, np.floor(c[0] - r))), int(min(w, np.ceil(c[0] + r) + 1))
    y0, y1 = int(max(0, np.floor(c[1] - r))), int(min(h, np.ceil(c[1] + r) + 1))
    if x1 <= x0 or y1 <= y0:
        return
    qx, qy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    k = np.float32(-0.5 / sigma**2)

    def d(x, y):
        return np.exp(((x - c[0]) ** 2 + (y - c[1]) ** 2) * k)

    g0 = d(qx, qy)
    g1 = d(qx - v[0] * g0, qy - v[1] * g0)  # one fixed-point step of p = q - d(p)
    mx = (qx - v[0] * g1).astype(np.float32)
    my = (qy - v[1] * g1).astype(np.float32)
    warped = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = amp * g1 > 1e-3  # pixels the warp leaves in place keep their exact values
    img[y0:y1, x0:x1][moved] = warped[moved]


def _lid_curves(p: np.ndarray, mesh_side: str):
    """Outer corner, eye axis unit vectors (along, down) and (u, v) of both lids."""
    upper = p[list(_UPPER_LID[mesh_side])]
    lower = p[list(_LOWER_LID[mesh_side])]
    o = upper[0]
    e = upper[-1] - o
    e = e / np.linalg.norm(e)
    n = np.array([-e[1], e[0]])
    if np.dot(n, lower[3] - upper[3]) < 0:  # n points from the upper lid to the lower lid
        n = -n

    def uv(q):
        d = q - o
        return d @ e, d @ n

    return o, e, n, uv(upper), uv(lower)


def _eye_opening_px(p: np.ndarray, mesh_side: str) -> float:
    _, _, _, (uu, vu), (ul, vl) = _lid_curves(p, mesh_side)
    grid = np.linspace(0.0, float(max(uu[-1], 1e-6)), 41)
    return float(np.max(np.interp(grid, ul, vl) - np.interp(grid, uu, vu)))


def _warp_blink(img: np.ndarray, src: np.ndarray, p: np.ndarray, mesh_side: str, s: float) -> None:
    """Close one eye to ``s`` x :data:`BLINK_CLOSURE` of its opening (s in 0..1)."""
    if s < 1e-3:
        return
    o, e, n, (uu, vu), (ul, vl) = _lid_curves(p, mesh_side)
    order_u, order_l = np.argsort(uu), np.argsort(ul)
    uu, vu, ul, vl = uu[order_u], vu[order_u], ul[order_l], vl[order_l]
    width = float(uu[-1] - uu[0])
    if width < 2:
        return
    h_max = float(np.max(np.interp(uu, ul, vl) - vu))
    # Above the lid the field rises to the lid's displacement over ~sigma_up: the lid skin
    # stretches down (slope of the field < 1: no fold), the brow stays where it is.
    sigma_up = max(0.8 * BLINK_CLOSURE * h_max, 2.0)
    corners = np.array([o, o + width * e])
    pad = 3.5 * sigma_up + 3
    lo = np.floor(corners.min(axis=0) - pad).astype(int)
    hi = np.ceil(corners.max(axis=0) + pad).astype(int)
    hgt, wid = img.shape[:2]
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(wid, hi[0] + 1), min(hgt, hi[1] + 1)
    if x1 <= x0 or y1 <= y0:
        return
    qx, qy = np.meshgrid(np.arange(x0, x1, dtype=float), np.arange(y0, y1, dtype=float))
    u = (qx - o[0]) * e[0] + (qy - o[1]) * e[1]
    v = (qx - o[0]) * n[0] + (qy - o[1]) * n[1]
    inside = (u > uu[0]) & (u < uu[-1])
    v_up = np.interp(u, uu, vu)
    v_lo = np.maximum(np.interp(u, ul, vl), v_up)
    a = np.where(inside, s * BLINK_CLOSURE * (v_lo - v_up), 0.0)
    # Destination-side field D (along n): sample the source at q - D n.
    above = a * np.exp(-0.5 * ((v_up - v) / sigma_up) ** 2)
    gap = np.maximum(v_lo - v_up - a, 1e-6)
    below = a * np.clip((v_lo - v) / gap, 0.0, 1.0)
    dd = np.where(v < v_up, above, np.where(v < v_up + a, a, below))
    mx = (qx - dd * n[0]).astype(np.float32)
    my = (qy - dd * n[1]).astype(np.float32)
    warped = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = dd > 1e-3  # leave untouched pixels (and a neighbouring eye's warp) alone
    img[y0:y1, x0:x1][moved] = warped[moved]


# ------------------------------------------------------------------------------------------
# Encoding
# ------------------------------------------------------------------------------------------
class _Writer:
    """H.264 (libx264, yuv420p) writer that keeps given timestamps exactly, no audio."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        time_base: Fraction,
        crf: float,
        fps_hint: float,
        x264_options: dict | None = None,
    ):
        import av

        self.path = path
        self.time_base = time_base
        self._c = av.open(str(path), mode="w")
        rate = Fraction(fps_hint).limit_denominator(1001) if np.isfinite(fps_hint) else 30
        st = self._c.add_stream("libx264", rate=rate)
        st.width, st.height = width + width % 2, height + height % 2
        st.pix_fmt = "yuv420p"
        st.time_base = time_base
        st.codec_context.time_base = time_base
        st.options = {"crf": f"{crf:g}", "preset": "medium", **(x264_options or {})}
        self._s = st
        self._last = None

    def write(self, rgb: np.ndarray, t_s: float) -> None:
        import av

        h, w = rgb.shape[:2]
        if (w % 2) or (h % 2):
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        pts = int(round(t_s / self.time_base))
        if self._last is not None and pts <= self._last:
            pts = self._last + 1
        self._last = pts
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        vf = vf.reformat(format="yuv420p")
        vf.pts, vf.time_base = pts, self.time_base
        for packet in self._s.encode(vf):
            self._c.mux(packet)

    def close(self) -> None:
        for packet in self._s.encode(None):
            self._c.mux(packet)
        self._c.close()

    def abort(self) -> None:
        """Close without flushing the encoder: the file is being thrown away (and a failed
        flush must not hide what stopped the writing)."""
        with contextlib.suppress(Exception):
            self._c.close()


def _temp_beside(path: Path) -> Path:
    """A hidden temporary name next to ``path`` that keeps its extension (PyAV picks the
    container from it): ``dir/.clip.tmp.mp4`` for ``dir/clip.mp4``."""
    return path.with_name(f".{path.stem}.tmp{path.suffix}")


def _same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name one file: the same path once resolved (symlinks, ``..``), or, when
    both exist, the same inode (a hard link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _outputs_check(src: Path, dst: Path) -> None:
    """Refuse, before the long tracking pass, outputs that would overwrite the source (the video
    is written while the source is still being read) or whose extension names no container."""
    import av

    for out in (dst, dst.with_suffix(".truth.json")):
        if _same_file(src, out):
            raise UsageError(f"{out}: is the same file as the source {src}; writing it "
                             "would destroy the source: choose another output name")  # fmt: skip
    try:  # PyAV guesses the container from the name; opening for writing creates nothing yet
        av.open(str(_temp_beside(dst)), mode="w").close()
    except ValueError:
        kind = f"unknown video format {dst.suffix!r}" if dst.suffix else "no file extension"
        raise UsageError(f"{dst}: {kind}; name the output .mp4 (or .mov, .mkv)") from None


def _time_base(src: Path) -> Fraction:
    """The source stream's time base when it is 1/N (so PTS survive exactly), else 1/90000."""
    import av

    with av.open(str(src)) as c:
        tb = c.streams.video[0].time_base
    if tb is not None and tb.numerator == 1 and 1000 <= tb.denominator <= 1_000_000:
        return Fraction(tb)
    return Fraction(1, 90000)


# ------------------------------------------------------------------------------------------
# Injection
# ------------------------------------------------------------------------------------------
def video_inject(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    events: list[dict],
    *,
    mirrored: bool = False,
    model=None,
    crf: float = 17,
    x264_options: dict | None = None,
    progress=None,
) -> dict:
    """Inject planned events into a real face video; write ``dst`` and its truth JSON.

    Parameters
    ----------
    src : path
        Clean source video (any container PyAV reads; frames are used upright).
    dst : path
        Output video (.mp4: H.264, yuv420p, the source frames' timestamps, no audio, no
        rotation tag). The truth goes to ``dst.with_suffix(".truth.json")``.
    events : list of dict
        From :func:`twitch_simulate` (or hand-made with the same fields). Each event is shifted
        (by at most half a frame interval) so that its peak falls on a frame: the truth's
        ``t_peak_s`` is the time of the frame with the largest displacement.
    mirrored : bool
        The source is mirrored (the patient's left appears on the image left).
    model : path, optional
        Face Landmarker model (resolved as by the tracker when omitted).
    crf : float
        x264 constant rate factor (lower = better quality).
    x264_options : dict, optional
        More libx264 options, over the default ``preset: medium`` (e.g.
        :data:`facetwitch.capture.recorder.X264_OPTIONS`, to encode as ``facetwitch record``
        does).
    progress : callable, optional
        ``progress(done, total)`` over both passes (tracking, then warping/encoding).

    Returns
    -------
    dict
        The truth: ``source``, ``video``, ``px_per_mm``, ``mirrored``, ``frames``,
        ``duration_s``, ``face_found_fraction``, ``events`` (report.json event fields plus
        ``profile``; for twitches the image-space ``vector_px`` and ``centre_px`` of the warp at
        the peak frame and its ``sigma_px``), ``skipped_events``.
    """
    from .landmarks.video import file_sha256

    src, dst = Path(src), Path(dst)
    for ev in events:
        check_option("kind", ev["kind"], [k for k in EVENT_KINDS if k != "movement"])
        check_option("region", ev["region"], REGIONS)
        check_option("side", ev["side"], ("left", "right", "both"))
    _outputs_check(src, dst)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{dst.parent}: cannot create ({exc})") from None

    t, pts, found, info = _track_source(src, model, progress)
    usable = _fill_gaps(t, pts, found)
    ppm = _px_per_mm(pts, found)
    if not np.isfinite(ppm):
        raise InputError(f"{src}: no face found, nothing to inject into")
    ok_idx = np.flatnonzero(usable)
    corners = pts[:, EYE_OUTER_CORNER["left"]] - pts[:, EYE_OUTER_CORNER["right"]]
    eye_dist = np.linalg.norm(corners, axis=1)
    eye_med = float(np.median(eye_dist[found]))
    scale = np.where(usable, eye_dist / eye_med, np.nan)  # per-frame zoom relative to the median

    # Region sizes (median over the clip): sigma of each bump.
    sigma: dict[tuple[str, str], float] = {}
    for (region, mside), idx in REGION_LANDMARKS.items():
        q = pts[found][:, list(idx)]
        spread = np.max(q.max(axis=1) - q.min(axis=1), axis=1)
        sigma[(region, mside)] = max(
            MIN_SIGMA_PX, MIN_SIGMA_MM * ppm, SIGMA_PER_SPREAD * float(np.median(spread))
        )

    # Snap peaks to frames, drop events that would touch frames without a face.
    planned, skipped = [], []
    for ev in sorted(events, key=lambda e: e["t_peak_s"]):
        k = int(np.argmin(np.abs(t - ev["t_peak_s"])))
        ev = _shift(ev, float(t[k]) - float(ev["t_peak_s"]))
        active = (t >= ev["t_start_s"]) & (t <= ev["t_end_s"])
        if abs(t[k] - ev["t_peak_s"]) > 1e-3 or not np.all(usable[active]) or not active.any():
            why = "no face (or outside the video) during the event"
            skipped.append({"id": ev["id"], "reason": why})
            continue
        ev["t_peak_s"] = round(float(t[k]), 4)
        planned.append(ev)

    # Blink amplitudes: BLINK_CLOSURE of the median eye opening.
    opening_mm = float(
        np.median(
            [
                np.mean([_eye_opening_px(pts[i], s) for s in ("left", "right")]) / (ppm * scale[i])
                for i in ok_idx
            ]
        )
    )
    truth_events = []
    for ev in planned:
        ev = dict(ev)
        if ev["kind"] == "blink":
            ev["amplitude_mm"] = round(BLINK_CLOSURE * opening_mm, 3)
            ev["direction_deg"], ev["direction"] = 270.0, "down"
        else:
            mside = _mesh_side(_region_sides(ev["side"])[0], mirrored)
            ev["sigma_px"] = round(sigma[(ev["region"], mside)], 2)
        ev["direction"] = direction_word(ev["direction_deg"])
        truth_events.append(_ordered(ev))

    # Both files go through temporary names and are renamed into place at the end: an
    # interrupted or failed run leaves neither a partial video nor a truth for another video.
    truth_path = dst.with_suffix(".truth.json")
    tmp_video, tmp_truth = _temp_beside(dst), truth_path.with_name(f".{truth_path.name}.tmp")
    try:
        peak_vectors = _encode(src, tmp_video, info, t, pts, usable, scale, truth_events, ppm,
                               sigma, mirrored, crf, x264_options, progress)  # fmt: skip
        for ev in truth_events:
            if ev["id"] in peak_vectors and ev["kind"] == "twitch":
                vx, vy, cx, cy = peak_vectors[ev["id"]]
                ev["vector_px"] = [round(vx, 3), round(vy, 3)]
                ev["centre_px"] = [round(cx, 2), round(cy, 2)]
        truth = {
            "schema_version": "1",
            "source": src.name,
            "source_sha256": file_sha256(src),
            "video": dst.name,
            "mirrored": bool(mirrored),
            "px_per_mm": round(ppm, 4),
            "frames": int(len(t)),
            "duration_s": float(info["duration_s"]),
            "face_found_fraction": round(float(found.mean()), 4),
            "events": truth_events,
            "skipped_events": skipped,
        }
        tmp_truth.write_text(json.dumps(truth, indent=1) + "\n")
        truth_path.unlink(missing_ok=True)  # an earlier truth never describes the new video
        os.replace(tmp_video, dst)
        os.replace(tmp_truth, truth_path)
    except BaseException as exc:  # also Ctrl-C / SIGTERM: no temporary file stays behind
        for tmp in (tmp_video, tmp_truth):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{dst}: cannot write ({exc.strerror or exc})") from None
        raise
    logger.info("injected %d events into %s (%d skipped)", len(truth_events), dst, len(skipped))
    return truth


def _encode(
    src,
    path,
    info,
    t,
    pts,
    usable,
    scale,
    events,
    ppm,
    sigma,
    mirrored,
    crf,
    x264_options,
    progress,
) -> dict[int, list[float]]:
    """Second pass: read ``src`` again, warp each usable frame and encode it to ``path``.

    Returns each twitch's image-space vector and centre at its peak frame
    (``{id: [vx, vy, cx, cy]}``, px).
    """
    from .landmarks.video import VideoReader

    writer = _Writer(path, int(info["width"]), int(info["height"]), _time_base(src), crf,
                     info["fps_mean"], x264_options)  # fmt: skip
    n_total = len(t)
    peak_vectors: dict[int, list[float]] = {}
    try:
        with VideoReader(src) as reader:
            for frame in reader:
                i = frame.index
                rgb = frame.rgb
                if i < n_total and usable[i]:
                    rgb = _inject_frame(rgb, frame.t_s, pts[i], scale[i], events, ppm, sigma,
                                        mirrored, peak_vectors)  # fmt: skip
                writer.write(rgb, frame.t_s)
                if progress is not None:
                    progress(n_total + i + 1, 2 * n_total)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return peak_vectors


def _inject_frame(rgb, t_s, p, scale, events, ppm, sigma, mirrored, peak_vectors):
    """Apply every event active at ``t_s`` to one frame (returns a new array when changed)."""
    out = None
    for ev in events:
        if not (ev["t_start_s"] - 1e-6 <= t_s <= ev["t_end_s"] + 1e-6):
            continue
        a = float(event_profile(ev, t_s)[0])
        if a <= 0:
            continue
        if out is None:
            out = rgb.copy()
        src = out.copy()
        if ev["kind"] == "blink":
            for s in ("left", "right"):
                _warp_blink(out, src, p, s, a)
                src = out.copy()
            continue
        ex, ey = _face_axes(p, mirrored)
        for k, side in enumerate(_region_sides(ev["side"])):
            th = np.radians(ev["direction_deg"])
            fx, fy = np.cos(th), np.sin(th)
            if k == 1:  # "both": the right side mirrors the left's horizontal component
                fx = -fx
            mside = _mesh_side(side, mirrored)
            idx = list(REGION_LANDMARKS[(ev["region"], mside)])
            c = p[idx].mean(axis=0)
            v = ev["amplitude_mm"] * ppm * scale * (fx * ex + fy * ey)
            if abs(t_s - ev["t_peak_s"]) < 1e-4 and k == 0:
                peak_vectors[ev["id"]] = [float(v[0]), float(v[1]), float(c[0]), float(c[1])]
            _warp_bump(out, src, c, a * v, sigma[(ev["region"], mside)])
            src = out.copy()
    return rgb if out is None else out


# ------------------------------------------------------------------------------------------
# Does the landmark model see it?
# ------------------------------------------------------------------------------------------
def injection_check(
    truth: dict, track, *, clean_track=None, baseline_s: float = 0.4, lag_s: float = 0.15
) -> dict:
    """How much of each injected twitch the landmarks of ``track`` follow.

    For each twitch of ``truth``: the centroid of the region's landmarks relative to the nose
    bridge / forehead (:data:`REFERENCE_LANDMARKS`), in the face frame and in mm, is compared
    between a baseline (median over ``baseline_s`` before the onset) and the frames from the
    peak to ``lag_s`` after it (VIDEO mode answers 1-3 frames late); the frame with the largest
    component along the injected direction is taken. With ``clean_track`` (the same video
    without the injection, tracked the same way) the clean displacement is subtracted frame by
    frame, so the face's own movement does not count.

    Parameters
    ----------
    truth : dict
        What :func:`video_inject` returned (or its JSON).
    track : LandmarkTrack
        Track of the injected video.
    clean_track : LandmarkTrack, optional
        Track of the source video (same frames).

    Returns
    -------
    dict
        ``events``: per twitch ``id``, ``region``, ``side``, ``injected_mm`` (amplitude),
        ``at_landmarks_mm`` (the injected displacement averaged over the region's landmarks: what a
        perfect landmark model would show), ``seen_mm`` (component along the injected direction),
        ``seen_fraction`` (seen / at_landmarks), ``seen_direction_deg``; ``by_region``: median
        ``seen_fraction`` per region and side; ``median_seen_fraction``.
    """
    mirrored = bool(truth.get("mirrored", False))
    ppm = float(truth["px_per_mm"])
    t = np.asarray(track.t)
    pts = np.asarray(track.points)[:, :, :2]
    found = np.asarray(track.found)
    clean = None
    if clean_track is not None:
        clean = np.asarray(clean_track.points)[:, :, :2]
        if clean.shape != pts.shape:
            raise ValueError("'clean_track' must have the frames of 'track'.")
        found = found & np.asarray(clean_track.found)
    rows = []
    for ev in truth["events"]:
        if ev["kind"] != "twitch" or ev["side"] == "both":
            continue
        mside = _mesh_side(ev["side"], mirrored)
        idx = list(REGION_LANDMARKS[(ev["region"], mside)])
        base = found & (t >= ev["t_start_s"] - baseline_s) & (t < ev["t_start_s"] - 0.02)
        win = found & (t >= ev["t_peak_s"] - 0.02) & (t <= ev["t_peak_s"] + lag_s)
        k_peak = int(np.argmin(np.abs(t - ev["t_peak_s"])))
        if base.sum() < 2 or not win.any() or not found[k_peak]:
            continue

        def rel_of(q, idx=idx):
            return q[:, idx].mean(axis=1) - q[:, list(REFERENCE_LANDMARKS)].mean(axis=1)

        rel = rel_of(pts)  # (n, 2) image px
        ex, ey = _face_axes(pts[k_peak], mirrored)
        d_img = rel[win] - np.median(rel[base], axis=0)
        if clean is not None:
            rel0 = rel_of(clean)
            d_img = d_img - (rel0[win] - np.median(rel0[base], axis=0))
        d_face = np.stack([d_img @ ex, d_img @ ey], axis=1) / ppm  # mm, face frame
        th = np.radians(ev["direction_deg"])
        u = np.array([np.cos(th), np.sin(th)])
        along = d_face @ u
        j = int(np.argmax(along))
        # What a perfect follower would show: the bump's weight at the region's landmarks.
        sig = float(ev.get("sigma_px", np.nan))
        c = pts[k_peak, idx].mean(axis=0)
        w = 1.0
        if np.isfinite(sig):
            w = np.exp(-np.sum((pts[k_peak, idx] - c) ** 2, axis=1) / (2 * sig**2))
        at_lm = float(ev["amplitude_mm"]) * float(np.mean(w))
        rows.append(
            {
                "id": ev["id"],
                "region": ev["region"],
                "side": ev["side"],
                "injected_mm": float(ev["amplitude_mm"]),
                "at_landmarks_mm": round(at_lm, 3),
                "seen_mm": round(float(along[j]), 3),
                "seen_fraction": round(float(along[j]) / at_lm, 3),
                "seen_direction_deg": round(float(direction_deg(*d_face[j])), 1),
                "lag_s": round(float(t[win][j] - ev["t_peak_s"]), 3),
            }
        )
    by_region: dict[str, list[float]] = {}
    for r in rows:
        by_region.setdefault(f"{r['region']}_{r['side']}", []).append(r["seen_fraction"])
    return {
        "events": rows,
        "by_region": {k: round(float(np.median(v)), 3) for k, v in sorted(by_region.items())},
        "median_seen_fraction": round(float(np.median([r["seen_fraction"] for r in rows])), 3)
        if rows
        else float("nan"),
    }


# ------------------------------------------------------------------------------------------
# Plan + inject in one call (what the CLI runs)
# ------------------------------------------------------------------------------------------
def simulate_process(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    n_events: int = 8,
    n_blinks: int = 0,
    regions=DEFAULT_REGIONS,
    sides=("left", "right"),
    amplitude_mm=(1.0, 3.0),
    seed=None,
    mirrored: bool = False,
    model=None,
    progress=None,
) -> dict:
    """Plan events for ``src``'s length (:func:`twitch_simulate`) and inject them
    (:func:`video_inject`); returns the truth (also written beside ``dst``)."""
    from .landmarks.video import video_probe

    _outputs_check(Path(src), Path(dst))  # a usage error first, before the source is probed
    duration = video_probe(src).duration_s
    events = twitch_simulate(
        n_events,
        duration,
        regions=regions,
        sides=sides,
        amplitude_mm=amplitude_mm,
        n_blinks=n_blinks,
        seed=seed,
    )
    return video_inject(src, dst, events, mirrored=mirrored, model=model, progress=progress)
