"""Key frames: the region at baseline and at the peak of the strongest twitches.

Frames are re-read from the video by timestamp (:func:`~facetwitch.landmarks.video.
video_frames_at`); the crop is placed with the LandmarkTrack's landmarks of the region
(:data:`~facetwitch.regions.REGION_LANDMARKS`). The arrow shows the measured displacement
(``amplitude_mm`` toward ``direction_deg``), magnified, drawn in image coordinates:

- face-frame +x is the patient's left. The eye-corner axis (landmark 33 -> 263) points that way
  in an unmirrored video (``input.mirrored`` false) and the opposite way in a mirrored one; it
  also carries the head's roll;
- face-frame +y (up) is the perpendicular of that axis that points toward the forehead
  (landmark 152 chin -> 10 forehead).

With ``face_images=False`` the photos are replaced by drawings of the landmarks only (privacy).
So are they when the video given is not the one the report measured (its sha256 is not
report.json's ``input.sha256``): another video's face must not be shown as "the twitch".
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..conventions import counted, flip_side
from ..errors import FacetwitchWarning
from ..geometry import face_axes, iris_px_per_mm
from ..regions import EYE_OUTER_CORNER, REGION_LANDMARKS
from .plots import INK, KIND_COLORS
from .words import fmt_mm, fmt_time, region_label

logger = logging.getLogger("facetwitch")

#: Seconds before ``t_start_s`` taken as the baseline picture.
BASELINE_BEFORE_S = 0.3


@dataclass(frozen=True)
class KeyFrame:
    """One event's baseline and peak pictures (crops) and its arrow, in crop pixels.

    ``baseline`` / ``peak`` are RGB crops (uint8) or None in landmark-only mode;
    ``points_baseline`` / ``points_peak`` are all landmarks in crop pixels (x right, y down);
    ``region_idx`` the region's landmark indices; ``origin`` and ``arrow`` the arrow's start
    and vector (crop px, already magnified by ``magnification``); ``size`` the crop side.
    """

    event: dict
    t_baseline_s: float
    t_peak_s: float
    baseline: np.ndarray | None
    peak: np.ndarray | None
    points_baseline: np.ndarray
    points_peak: np.ndarray
    region_idx: tuple[int, ...]
    origin: np.ndarray
    arrow: np.ndarray
    magnification: float
    size: int


def keyframes_select(report: dict, n: int = 3) -> list[dict]:
    """Select the ``n`` strongest counted twitch events.

    The ``n`` strongest counted twitch events (largest ``amplitude_mm``), in time order.

    A twitch not counted (its peak in time that could not be assessed: talk, an expression)
    is no picture of "the twitch".
    """
    tw = [
        e
        for e in report.get("events", [])
        if e.get("kind") == "twitch" and counted(e) and e.get("amplitude_mm") is not None
    ]
    tw.sort(key=lambda e: (-float(e["amplitude_mm"]), e["t_peak_s"]))
    return sorted(tw[:n], key=lambda e: e["t_peak_s"])


def _nearest_found(track, t_s: float) -> int | None:
    found = np.flatnonzero(np.asarray(track.found, bool))
    if found.size == 0:
        return None
    return int(found[np.argmin(np.abs(np.asarray(track.t)[found] - t_s))])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.array([1.0, 0.0])


def face_axes_in_image(
    points: np.ndarray, *, mirrored: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Image-pixel unit vectors (x right, y down) of face-frame +x (patient's left) and +y (up).

    ``points`` are one frame's landmarks (478, >=2) in image pixels
    (:func:`facetwitch.geometry.face_axes`, +x flipped for a mirrored video).
    """
    ex, up = face_axes(points)
    return (-ex if mirrored else ex), up


def _nice_magnification(raw: float) -> float:
    if not np.isfinite(raw) or raw <= 1:
        return 1.0
    for m in (1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50):
        if m >= raw * 0.8:
            return float(m)
    return 50.0


def _crop(rgb: np.ndarray, x0: int, y0: int, size: int) -> np.ndarray:
    """Square crop with a grey border where it leaves the frame."""
    out = np.full((size, size, 3), 235, np.uint8)
    h, w = rgb.shape[:2]
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + size), min(h, y0 + size)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out


def keyframes_video_problem(
    report: dict, video: str | os.PathLike, *, video_sha256: str | None = None
) -> str | None:
    """Why face pictures must not be cut from ``video`` for ``report``, or None if they may.

    ``video`` must be the file the report measured: its sha256 must be report.json's
    ``input.sha256`` (a report moved next to another recording, or ``--video`` naming the wrong
    one, would otherwise show another video's face as the twitch). ``video_sha256`` is the
    file's hash when the caller knows it already (``facetwitch analyze``: the video it has just
    tracked): hashing a long video takes seconds. A file that does not exist is not judged
    here: reading it says what is wrong.
    """
    expected = str((report.get("input") or {}).get("sha256") or "").lower()
    if video_sha256 is None:
        if not Path(video).is_file():
            return None
        from ..landmarks.video import file_sha256

        try:
            video_sha256 = file_sha256(video)
        except OSError as exc:
            return f"{video} cannot be read ({exc.strerror or exc})"
    if not expected:
        return f"report.json gives no sha256 of its video, so {video} cannot be checked against it"
    if video_sha256.lower() != expected:
        return (f"{video} is not the analysed video (its sha256 is {video_sha256[:12]}..., "
                f"report.json's {expected[:12]}...)")  # fmt: skip
    return None


def keyframes_extract(
    report: dict,
    *,
    video: str | os.PathLike | None = None,
    track=None,
    n: int = 3,
    face_images: bool = True,
    video_sha256: str | None = None,
) -> list[KeyFrame]:
    """Key frames of the ``n`` strongest twitches.

    Parameters
    ----------
    report : dict
        report.json dict.
    video : path, optional
        The analysed video; needed for face pictures (``face_images=True``).
    track : LandmarkTrack or path to its ``.npz``
        Places the crop and the arrow. Without a track there are no key frames (``[]``).
    n : int
        How many events.
    face_images : bool
        False: landmark drawings instead of photos (the video is then not read).
    video_sha256 : str, optional
        ``video``'s sha256 if known (else it is hashed, once, before frames are cut). A video
        whose sha256 is not the report's gives drawings, with a :class:`FacetwitchWarning`.

    Returns
    -------
    list of KeyFrame
        Empty when there is no track, no twitch, or the face was not found near the events.
    """
    if track is None:
        return []
    if not hasattr(track, "points"):
        from ..landmarks.track import LandmarkTrack

        track = LandmarkTrack.load(track)
    plans = _plans(track, keyframes_select(report, n))
    if not plans:
        return []
    if face_images and video is not None:
        problem = keyframes_video_problem(report, video, video_sha256=video_sha256)
        if problem:
            warnings.warn(f"{problem}: key frames without face pictures", FacetwitchWarning,
                          stacklevel=2)  # fmt: skip
            video = None
    elif face_images:
        logger.info("key frames: no video given, drawing landmarks only")
    frames, scale = _frames_read(track, plans, video if face_images else None)
    out = []
    for i, (e, _t_base, kb, kp) in enumerate(plans):
        images = (frames[i].rgb, frames[len(plans) + i].rgb) if frames is not None else None
        kf = _keyframe(report, track, e, kb, kp, scale, images)
        if kf is not None:
            out.append(kf)
    return out


def _plans(track, events: list[dict]) -> list[tuple[dict, float, int, int]]:
    """Plan the baseline and peak frames of each event.

    ``(event, baseline time, baseline frame, peak frame)`` of each event whose baseline and
    peak have a frame with a face.
    """
    plans = []
    for e in events:
        t_base = max(0.0, float(e["t_start_s"]) - BASELINE_BEFORE_S)
        kb, kp = _nearest_found(track, t_base), _nearest_found(track, float(e["t_peak_s"]))
        if kb is not None and kp is not None:
            plans.append((e, t_base, kb, kp))
    return plans


def _frames_read(track, plans: list, video) -> tuple[list | None, float]:
    """Read the baseline and peak frames of ``plans`` from ``video``.

    The baseline frames then the peak frames of ``plans`` from ``video`` (None without a
    video), and the scale from the track's pixels to the frames'.
    """
    if video is None:
        return None, 1.0
    from ..landmarks.video import video_frames_at

    times = [float(track.t[kb]) for _, _, kb, _ in plans]
    times += [float(track.t[kp]) for _, _, _, kp in plans]
    frames = video_frames_at(video, times, turn_deg=int(track.info.get("turned_deg") or 0))
    track_w = track.info.get("width")
    return frames, (frames[0].rgb.shape[1] / float(track_w) if track_w else 1.0)


def _region_idx(region: str, side: str) -> tuple:
    """Return the landmark indices of a region and side.

    The landmark indices of a region and side (side ``both``: the two sides together).
    """
    idx = REGION_LANDMARKS.get((region, side))
    if idx is None:
        idx = tuple(REGION_LANDMARKS.get((region, "left"), ())) + tuple(
            REGION_LANDMARKS.get((region, "right"), ())
        )
    return tuple(idx)


def _keyframe(report: dict, track, e: dict, kb: int, kp: int, scale: float, images):
    """Make one event's :class:`KeyFrame`.

    One event's :class:`KeyFrame` (None when its region has no landmarks): the crop
    around the region at baseline, the arrow of the measured movement, magnified.
    """
    mirrored = bool(report.get("input", {}).get("mirrored", False))
    pb = np.asarray(track.points[kb], float)[:, :2] * scale
    pp = np.asarray(track.points[kp], float)[:, :2] * scale
    idx = _region_idx(e["region"], flip_side(e["side"]) if mirrored else e["side"])
    if not idx:
        return None
    centre = np.nanmean(pb[list(idx)], axis=0)
    eye_dist = float(np.hypot(*(pb[EYE_OUTER_CORNER["left"]] - pb[EYE_OUTER_CORNER["right"]])))
    size = int(max(48, round(0.85 * eye_dist)))
    x0, y0 = int(round(centre[0] - size / 2)), int(round(centre[1] - size / 2))
    ex, up = face_axes_in_image(pb, mirrored=mirrored)
    ppm = float(iris_px_per_mm(pb))
    if not np.isfinite(ppm):
        ppm = float(report.get("quality", {}).get("px_per_mm") or 1.0) * scale
    d = math.radians(float(e.get("direction_deg") or 0.0))
    vec_px = (math.cos(d) * ex + math.sin(d) * up) * float(e.get("amplitude_mm") or 0.0) * ppm
    mag = _nice_magnification(0.3 * size / max(float(np.hypot(*vec_px)), 1e-6))
    return KeyFrame(
        event=e,
        t_baseline_s=float(track.t[kb]),
        t_peak_s=float(track.t[kp]),
        baseline=_crop(images[0], x0, y0, size) if images else None,
        peak=_crop(images[1], x0, y0, size) if images else None,
        points_baseline=pb - [x0, y0],
        points_peak=pp - [x0, y0],
        region_idx=idx,
        origin=centre - [x0, y0],
        arrow=vec_px * mag,
        magnification=mag,
        size=size,
    )


def plot_keyframe(kf: KeyFrame, axes=None) -> Figure:
    """Baseline and peak side by side; the arrow (magnified, labelled in mm) on the peak."""
    if axes is None:
        fig = Figure(figsize=(4.6, 2.5))
        axes = fig.subplots(1, 2)
    fig = axes[0].figure
    e = kf.event
    for ax, img, pts, title in (
        (axes[0], kf.baseline, kf.points_baseline, f"before ({fmt_time(kf.t_baseline_s)})"),
        (axes[1], kf.peak, kf.points_peak, f"peak ({fmt_time(kf.t_peak_s)})"),
    ):
        if img is not None:
            ax.imshow(img, interpolation="lanczos")
        else:
            ax.set_facecolor("#f7f8fa")
            inside = np.all((pts >= 0) & (pts <= kf.size), axis=1)
            ax.scatter(pts[inside, 0], pts[inside, 1], s=2.5, color="#9aa1ab", lw=0)
            reg = pts[list(kf.region_idx)]
            ax.scatter(reg[:, 0], reg[:, 1], s=9, color=KIND_COLORS["twitch"], lw=0)
        ax.set_xlim(0, kf.size)
        ax.set_ylim(kf.size, 0)
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_visible(True)
            s.set_color("#c3c8cf")
        ax.set_title(title, fontsize=7.5, fontweight="normal", loc="center", color="#4a5160")
    ox, oy = kf.origin
    ax = axes[1]
    ax.annotate(
        "",
        xy=(ox + kf.arrow[0], oy + kf.arrow[1]),
        xytext=(ox, oy),
        arrowprops={
            "arrowstyle": "-|>,head_width=0.35,head_length=0.6",
            "color": "#ffd23f",
            "lw": 2.2,
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )
    ax.annotate(
        "",
        xy=(ox + kf.arrow[0], oy + kf.arrow[1]),
        xytext=(ox, oy),
        arrowprops={
            "arrowstyle": "-|>,head_width=0.3,head_length=0.5",
            "color": INK,
            "lw": 0.9,
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )
    label = f"{fmt_mm(e.get('amplitude_mm'))}, drawn ×{kf.magnification:g}"
    ax.text(
        0.03,
        0.04,
        label,
        transform=ax.transAxes,
        fontsize=7,
        color=INK,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.85},
    )
    return fig


def keyframe_caption(kf: KeyFrame) -> str:
    """``#4 upper lip, left · 2.3 mm up-left (58°) at 22.6 s``."""
    e = kf.event
    return (
        f"#{e.get('id')} {region_label(e['region'])}, {e['side']} · "
        f"{fmt_mm(e.get('amplitude_mm'))} {e.get('direction', '')} "
        f"({float(e.get('direction_deg') or 0):.0f}°) at {fmt_time(e.get('t_peak_s'))}"
    )
