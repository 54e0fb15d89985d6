"""Event clips: each twitch as a short looping video of its region, slowed and motion-magnified.

A clinician cannot see a 1 mm twitch in a whole-face video played at full speed. Each clip
shows the region around one twitch twice, side by side: on the left as filmed, on the right
with the movement magnified :data:`MAGNIFICATION` times; both play :data:`SLOW_FACTOR` times
slower than real time (every frame shown is a frame of the video: nothing is interpolated).

How (Lagrangian motion magnification, as in Liu et al. 2005, "Motion magnification"):

1. **Stabilise.** Each frame is aligned to a baseline frame just before the twitch by a
   similarity transform fitted to landmarks that twitches move least (forehead, nose bridge,
   temples, inner eye corners), so that head motion is not magnified. The crop is placed
   around the region on both sides of the face (the other side is the comparison).
2. **Measure.** Dense optical flow (OpenCV's DIS) from the baseline crop to each frame's
   crop, smoothed spatially; what is left of a global shift (landmark jitter in the
   alignment) is removed by subtracting the flow's median.
3. **Magnify.** Each pixel is moved by (factor - 1) times its flow: the frame is resampled at
   ``x - (factor - 1) * flow(x)``. A skin movement of d px shows as factor * d px; the
   picture itself (its texture, a blink) is the frame's own.

Measured on planted twitches (``benchmarks/clips.py``; docs/web.md): the magnified half shows
a 1 mm twitch 3.86 times (10th-90th percentile 3.68-4.24) as large as the filmed half, a 2 mm
one 3.84 times; ``tests/test_web_clips.py`` requires the factor within 15 %.
"""

from __future__ import annotations

import json
import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .._files import write_atomically
from ..conventions import counted
from ..geometry import iris_px_per_mm
from ..landmarks.video import VideoReader
from ..regions import REGION_LANDMARKS, RIGID_LANDMARKS

logger = logging.getLogger("facetwitch")

#: How many times a twitch's movement is enlarged in the right half of a clip.
MAGNIFICATION = 4.0
#: Movements up to this size (mm) are magnified fully; a larger one (a smile, speech) gets at
#: most ``(MAGNIFICATION - 1) * MAX_MAGNIFIED_MM`` added, not a picture torn apart.
MAX_MAGNIFIED_MM = 2.0
#: How many times slower than real time a clip plays.
SLOW_FACTOR = 4
#: Seconds of video before a twitch's start and after its end in its clip.
BEFORE_S, AFTER_S = 0.5, 0.5
#: The baseline frame (the reference for alignment and flow) is the one nearest this many
#: seconds before the twitch's start.
BASELINE_BEFORE_S = 0.15
#: Height in pixels of each half of a clip.
PANEL_HEIGHT = 240
#: At most this many clips per recording (the largest counted twitches first).
MAX_CLIPS = 24
#: Landmarks the alignment is fitted to: the rigid set plus the inner eye corners and the
#: nose tip.
ALIGN_LANDMARKS = (*RIGID_LANDMARKS, 133, 362, 1, 4)

#: What the clips show, said on the report page and in the consult bundle.
CLIP_NOTE = (
    f"each clip shows one twitch twice, side by side: on the left as filmed, on the right with "
    f"the movement magnified {MAGNIFICATION:g} times (Lagrangian motion magnification: each "
    f"pixel moved {MAGNIFICATION:g} times as far as it moved). Both play {SLOW_FACTOR} times "
    "slower than real time, in a loop; head movement is removed (the face is held still on "
    f"landmarks that twitches do not move). Movements larger than {MAX_MAGNIFIED_MM:g} mm (a "
    "smile, speech) are magnified less. The magnified half exaggerates every movement, "
    "noise too: it shows where and which way the skin moved, the numbers in the report say "
    "how far."
)


def clip_events(report: dict, max_clips: int = MAX_CLIPS) -> list[dict]:
    """Return the twitches to make clips of.

    Counted ones first, largest first, at most ``max_clips``, returned in time order.
    """
    tw = [e for e in report.get("events") or [] if e.get("kind") == "twitch"]
    tw.sort(key=lambda e: (not counted(e), -float(e.get("amplitude_mm") or 0)))
    return sorted(tw[:max_clips], key=lambda e: e["t_peak_s"])


def clips_make(
    report: dict,
    track,
    video: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    magnification: float = MAGNIFICATION,
    slow: int = SLOW_FACTOR,
    max_clips: int = MAX_CLIPS,
    progress=None,
) -> list[dict]:
    """Make one clip per twitch (:func:`clip_events`) and ``clips.json`` listing them.

    Parameters
    ----------
    report : dict
        report.json's content (its twitch events).
    track : LandmarkTrack
        The video's track (places the crop and aligns the frames).
    video : path
        The analysed video (decoded as the tracker decoded it: longer side at most 1280 px).
    out_dir : path
        Directory for ``event-<id>.mp4`` and ``clips.json`` (created).
    magnification : float
        How many times the movement is enlarged in the right half.
    slow : int
        How many times slower than real time the clip plays.
    max_clips : int
        At most this many clips.
    progress : callable, optional
        ``progress(done_clips, total_clips)``.

    Returns
    -------
    list of dict
        One per clip: ``event_id``, ``file``, ``region``, ``side``, ``t_peak_s``,
        ``amplitude_mm``, ``magnification``, ``slow``, ``seconds`` (its length as played).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    events = clip_events(report, max_clips)
    mirrored = bool((report.get("input") or {}).get("mirrored", False))
    quality = report.get("quality") or {}
    plans = [p for p in (_plan(e, track, mirrored, quality) for e in events) if p is not None]
    frames_for = _frames_in_windows(video, plans, int(track.info.get("turned_deg") or 0))
    made = []
    for k, plan in enumerate(plans):
        frames = frames_for[k]
        if len(frames) >= 3:
            panels = _panels(plan, frames, track, magnification)
            if panels:
                name = f"event-{int(plan['event']['id']):03d}.mp4"
                seconds = _encode(out / name, panels, [t for t, _ in frames], slow)
                e = plan["event"]
                made.append(
                    {
                        "event_id": int(e["id"]),
                        "file": name,
                        "region": e["region"],
                        "side": e["side"],
                        "t_peak_s": e["t_peak_s"],
                        "amplitude_mm": e.get("amplitude_mm"),
                        "direction": e.get("direction"),
                        "counted": counted(e),
                        "magnification": float(magnification),
                        "slow": int(slow),
                        "seconds": round(seconds, 2),
                        "panel_px_per_mm": round(plan["panel_px_per_mm"], 3),
                        # where the halves come from: video time of the first frame and of the
                        # baseline frame (s); the crop in the baseline frame's pixels and its
                        # scale to the clip's (for measuring the clips)
                        "t_first_s": round(frames[0][0], 4),
                        "t_baseline_s": round(float(track.t[plan["base"]]), 4),
                        "crop_px": [round(float(v), 2) for v in plan["box"]],
                        "crop_scale": round(plan["scale"], 5),
                    }
                )
        if progress is not None:
            progress(k + 1, len(plans))
    doc = {
        "note": CLIP_NOTE,
        "magnification": float(magnification),
        "slow": int(slow),
        "clips": made,
    }
    write_atomically(
        out / "clips.json",
        lambda tmp: tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8"),
    )
    return made


# -- planning --------------------------------------------------------------------------------
def _plan(event: dict, track, mirrored: bool, report_quality: dict | None = None) -> dict | None:
    """Window, baseline frame and crop (in the baseline frame's pixels) of one event."""
    t = np.asarray(track.t)
    found = np.asarray(track.found, bool)
    t0 = float(event["t_start_s"]) - BEFORE_S
    t1 = float(event["t_end_s"]) + AFTER_S
    in_win = np.flatnonzero((t >= t0) & (t <= t1) & found)
    if in_win.size < 3:
        return None
    t_base = float(event["t_start_s"]) - BASELINE_BEFORE_S
    cand = in_win[t[in_win] <= float(event["t_start_s"])]
    cand = cand if cand.size else in_win
    base = int(cand[np.argmin(np.abs(t[cand] - t_base))])
    p = track.points[base, :, :2]
    region = event["region"]
    idx = [i for side in ("left", "right") for i in REGION_LANDMARKS.get((region, side), ())]
    if not idx:
        return None
    pts = p[idx]
    iod = float(np.linalg.norm(p[263] - p[33]))
    if not np.all(np.isfinite(pts)) or not np.isfinite(iod) or iod < 4:
        return None
    pad = 0.22 * iod
    x0, y0 = pts.min(axis=0) - pad
    x1, y1 = pts.max(axis=0) + pad
    w, h = x1 - x0, y1 - y0
    # at least 4:3 and at least half the eye distance tall, centred on the region
    h = max(h, 0.5 * iod, w * 0.5)
    w = max(w, h * 4 / 3)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ppm = float(np.ravel(iris_px_per_mm(track.points[base]))[0])
    if not np.isfinite(ppm) or ppm <= 0:
        # else the report's, else the outer eye corners taken as 90 mm apart
        ppm = float((report_quality or {}).get("px_per_mm") or 0) or iod / 90.0
    return {
        "px_per_mm": ppm,
        "event": event,
        "t0": t0,
        "t1": t1,
        "base": base,
        "frames": in_win,
        "box": (cx - w / 2, cy - h / 2, w, h),
        "mirrored": mirrored,
    }


def _frames_in_windows(video, plans: list[dict], turn_deg: int = 0) -> list[list]:
    """Decode ``video`` once and keep, per plan, the frames of its window (t, rgb).

    ``turn_deg``: as the tracker turned them (the track's ``info["turned_deg"]``).
    """
    out: list[list] = [[] for _ in plans]
    if not plans:
        return out
    end = max(p["t1"] for p in plans)
    with VideoReader(video, max_side=1280, turn_deg=turn_deg) as reader:
        for frame in reader:
            if frame.t_s > end + 0.05:
                break
            for k, p in enumerate(plans):
                if p["t0"] - 0.02 <= frame.t_s <= p["t1"] + 0.02:
                    out[k].append((frame.t_s, frame.rgb))
    return out


# -- stabilise, measure, magnify -------------------------------------------------------------
def _panels(plan: dict, frames: list, track, magnification: float) -> list[np.ndarray]:
    """Side-by-side RGB panels (as filmed | magnified) for the frames of one event."""
    t = np.asarray(track.t)
    found = np.asarray(track.found, bool)
    base_pts = track.points[plan["base"], ALIGN_LANDMARKS, :2].astype(np.float32)
    x, y, w, h = plan["box"]
    scale = PANEL_HEIGHT / h
    plan["scale"] = scale
    pw = int(round(w * scale / 2)) * 2
    ph = PANEL_HEIGHT
    # baseline pixels -> panel pixels
    crop = np.array([[scale, 0, -x * scale], [0, scale, -y * scale], [0, 0, 1]], np.float64)
    found_idx = np.flatnonzero(found)
    warped = []
    base_panel = None
    for t_s, rgb in frames:
        i = int(found_idx[np.argmin(np.abs(t[found_idx] - t_s))])
        m = _similarity(track.points[i, ALIGN_LANDMARKS, :2].astype(np.float32), base_pts)
        full = crop @ np.vstack([m, [0, 0, 1]])
        panel = cv2.warpAffine(
            rgb, full[:2], (pw, ph), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )
        warped.append(panel)
        if i == plan["base"]:
            base_panel = panel
    if base_panel is None:
        base_panel = warped[0]
    panel_ppm = plan["px_per_mm"] * scale
    plan["panel_px_per_mm"] = panel_ppm
    still, magnified = magnify(
        base_panel, warped, magnification, max_px=MAX_MAGNIFIED_MM * panel_ppm
    )
    out = []
    for filmed, mag in zip(still, magnified, strict=True):
        pair = np.concatenate([filmed, np.full((ph, 4, 3), 255, np.uint8), mag], axis=1)
        _label(pair, "as filmed", 6)
        _label(pair, f"movement x{magnification:g}", pw + 10)
        out.append(pair)
    return out


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Return the 2x3 similarity transform taking ``src`` points onto ``dst``.

    2x3 similarity transform (rotation, scale, shift) taking ``src`` points onto ``dst`` (least
    squares over the finite pairs; identity when too few).
    """
    ok = np.all(np.isfinite(src), axis=1) & np.all(np.isfinite(dst), axis=1)
    if ok.sum() < 3:
        return np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    s, d = src[ok].astype(np.float64), dst[ok].astype(np.float64)
    sc, dc = s.mean(axis=0), d.mean(axis=0)
    s0, d0 = s - sc, d - dc
    # complex least squares: d0 = z * s0 with z = a + ib (scaled rotation)
    zs = s0[:, 0] + 1j * s0[:, 1]
    zd = d0[:, 0] + 1j * d0[:, 1]
    z = np.vdot(zs, zd) / max(np.vdot(zs, zs).real, 1e-9)
    a, b = z.real, z.imag
    rot = np.array([[a, -b], [b, a]])
    shift = dc - rot @ sc
    return np.hstack([rot, shift[:, None]])


def flow_dense(a_gray: np.ndarray, b_gray: np.ndarray) -> np.ndarray:
    """Dense optical flow (DIS, medium preset) from ``a_gray`` to ``b_gray``, (h, w, 2) px."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a_gray, b_gray, None)


def magnify(
    baseline: np.ndarray, frames: list[np.ndarray], factor: float, *, max_px: float = np.inf
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Frames held still on ``baseline``, and the same with their movement enlarged.

    The flow from ``baseline`` to each frame is measured (DIS, smoothed); its median, a shift
    of the whole crop (what landmark alignment left of head motion), is removed from both
    outputs; what moves locally is then moved ``factor`` times as far in the second.

    Parameters
    ----------
    baseline : ndarray, (h, w, 3) uint8
        The reference frame (before the movement), aligned with ``frames``.
    frames : list of ndarray, (h, w, 3) uint8
        Aligned frames (the same crop of the face).
    factor : float
        Magnification: a skin movement of d px appears as ``factor * d`` px.
    max_px : float
        Movements up to this many px are magnified fully; larger ones get
        ``(factor - 1) * max_px`` px added, no more.

    Returns
    -------
    filmed, magnified : list of ndarray
        The frames held still (as filmed otherwise), and magnified; (h, w, 3) uint8.
    """
    h, w = baseline.shape[:2]
    g0 = cv2.cvtColor(baseline, cv2.COLOR_RGB2GRAY)
    sigma = max(1.0, h / 60.0)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    filmed, magnified = [], []
    for f in frames:
        flow = flow_dense(g0, cv2.cvtColor(f, cv2.COLOR_RGB2GRAY))
        flow = cv2.GaussianBlur(flow, (0, 0), sigma)
        shift = np.median(flow.reshape(-1, 2), axis=0)
        local = flow - shift
        size = np.linalg.norm(local, axis=2, keepdims=True)
        gain = np.float32(factor - 1.0) * np.minimum(1.0, max_px / np.maximum(size, 1e-6))
        extra = (local * gain).astype(np.float32)
        sx, sy = np.float32(shift[0]), np.float32(shift[1])
        filmed.append(
            cv2.remap(f, gx + sx, gy + sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        )
        magnified.append(
            cv2.remap(
                f,
                gx + sx - extra[..., 0],
                gy + sy - extra[..., 1],
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )
    return filmed, magnified


def _label(img: np.ndarray, text: str, x: int) -> None:
    """Burn a small label into the top of ``img`` (white on a dark box).

    So that a clip shared alone says what it shows.
    """
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    y0, y1 = 4, 4 + th + base + 6
    x1 = min(img.shape[1], x + tw + 8)
    img[y0:y1, x:x1] = (img[y0:y1, x:x1] * 0.35).astype(np.uint8)
    cv2.putText(img, text, (x + 4, y0 + th + 3), font, scale, (255, 255, 255), thick, cv2.LINE_AA)


# -- encoding --------------------------------------------------------------------------------
def _encode(path: Path, panels: list[np.ndarray], times_s: list[float], slow: int) -> float:
    """Write ``panels`` as H.264 MP4 (yuv420p, faststart: plays in every browser).

    Each frame at its own time in the video (``times_s``) times ``slow``: every frame is shown, none
    is made up. Returns the clip's length as played, in seconds.
    """
    h, w = panels[0].shape[:2]
    tb = Fraction(1, 1000)
    t = np.asarray(times_s, float) - float(times_s[0])
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1 / 30
    pts = np.round(t * slow * 1000).astype(int)
    for k in range(1, pts.size):  # strictly increasing
        pts[k] = max(pts[k], pts[k - 1] + 1)
    rate = max(1, int(round(1 / max(dt * slow, 1e-3))))

    def write(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as c:
            s = c.add_stream(
                "libx264", rate=rate, options={"crf": "18", "preset": "veryfast", "tune": "film"}
            )
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            s.time_base = tb
            s.codec_context.time_base = tb
            for rgb, p in zip(panels, pts, strict=True):
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                vf.pts = int(p)
                vf.time_base = tb
                c.mux(s.encode(vf))
            c.mux(s.encode(None))

    write_atomically(path, write, suffix=".tmp.mp4")
    return float(pts[-1]) / 1000.0 + dt * slow


# -- measuring a clip (tests, benchmarks/clips.py) -----------------------------------------------
def _bump_warp(img: np.ndarray, c: np.ndarray, v: np.ndarray, sigma: float) -> np.ndarray:
    """Return ``img`` with the skin around ``c`` moved by ``v * gaussian(sigma)``.

    ``img`` with the skin around ``c`` moved by ``v * gaussian(sigma)`` (as
    :mod:`facetwitch.simulation` plants a twitch).
    """
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * sigma**2)).astype(np.float32)
    mx = (xx - np.float32(v[0]) * g).astype(np.float32)
    my = (yy - np.float32(v[1]) * g).astype(np.float32)
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _bump_scale(base: np.ndarray, peak: np.ndarray, c, v, sigma: float, top: int) -> float:
    """Return the multiple ``a`` of the planted displacement ``v`` that best matches ``peak``.

    The multiple ``a`` of the planted displacement ``v`` for which moving ``base`` by ``a * v`` (a
    Gaussian bump at ``c``) best matches ``peak`` (least squares over the bump, a search over 0-8
    refined by a parabola).
    """
    h, w = base.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    win = ((xx - c[0]) ** 2 + (yy - c[1]) ** 2 < (2.5 * sigma) ** 2) & (yy > top)
    b = cv2.GaussianBlur(base.astype(np.float32), (0, 0), 1.0)
    p = cv2.GaussianBlur(peak.astype(np.float32), (0, 0), 1.0)
    grid = np.linspace(0.0, 8.0, 161)
    err = np.array([np.mean((_bump_warp(b, c, a * v, sigma)[win] - p[win]) ** 2) for a in grid])
    k = int(np.argmin(err))
    if 0 < k < grid.size - 1:
        d = err[k - 1] - 2 * err[k] + err[k + 1]
        if d > 0:
            return float(grid[k] + 0.5 * (err[k - 1] - err[k + 1]) / d * (grid[1] - grid[0]))
    return float(grid[k])


def magnification_measure(clip_file: str | os.PathLike, clip: dict, truth: dict) -> dict:
    """How large a planted twitch looks in each half of its clip.

    Parameters
    ----------
    clip_file : path
        The clip (``event-NNN.mp4``).
    clip : dict
        Its entry in ``clips.json``.
    truth : dict
        The planted event (:func:`facetwitch.simulation.video_inject`'s truth: ``t_peak_s``,
        ``centre_px``, ``vector_px``, ``sigma_px`` in the video's pixels).

    Returns
    -------
    dict
        ``filmed`` and ``magnified``: the planted displacement's multiple that best explains
        the change from the baseline frame to the peak frame in each half (1 = as planted),
        and ``ratio`` = magnified / filmed (the magnification the clip shows).
    """
    with av.open(str(clip_file)) as c:
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24"))
                  for f in c.decode(video=0)]  # fmt: skip
    t_video = np.array([clip["t_first_s"] + t / clip["slow"] for t, _ in frames])
    b = int(np.argmin(np.abs(t_video - clip["t_baseline_s"])))
    p = int(np.argmin(np.abs(t_video - float(truth["t_peak_s"]))))
    h, w = frames[0][1].shape[:2]
    pw = (w - 4) // 2
    s = clip["crop_scale"]
    centre = (np.asarray(truth["centre_px"], float) - clip["crop_px"][:2]) * s
    vector = np.asarray(truth["vector_px"], float) * s
    sigma = float(truth["sigma_px"]) * s
    out = {}
    for name, cols in (("filmed", slice(0, pw)), ("magnified", slice(pw + 4, w))):
        g0 = cv2.cvtColor(np.ascontiguousarray(frames[b][1][:, cols]), cv2.COLOR_RGB2GRAY)
        g1 = cv2.cvtColor(np.ascontiguousarray(frames[p][1][:, cols]), cv2.COLOR_RGB2GRAY)
        out[name] = _bump_scale(g0, g1, centre, vector, sigma, top=26)
    out["ratio"] = out["magnified"] / out["filmed"] if out["filmed"] > 0.05 else float("nan")
    return out
