"""The live preview.

A mirrored image with the lip and eyelid landmarks, a rough live count of movements, the time, and
short instructions. Pure drawing on arrays (OpenCV), no window.

The live count is labelled as rough: the detector's own peak finder over the last few seconds
of lip and eyelid motion, one-sided peaks only (:class:`LiveEventCounter`). The real analysis
runs on the recording afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .._text import plural
from ..geometry import iris_px_per_mm
from ..regions import REGION_KEYS, REGION_LANDMARKS

#: Regions shown in the preview and watched by the live count.
LIVE_REGIONS = ("upper_lip", "lower_lip", "mouth_corner", "upper_eyelid", "lower_eyelid")

#: Drawing colours, BGR (chosen to be rare in faces, so a screenshot test can find them).
LIP_BGR = (255, 255, 0)  # cyan
EYELID_BGR = (255, 0, 255)  # magenta
TEXT_BGR = (255, 255, 255)
REC_BGR = (0, 0, 255)

INSTRUCTIONS = "Face the light - keep still - relax"
KEYS_HELP = "space: I felt one now   q/Esc: stop"

_LIP_IDX = np.array(
    sorted(
        {i for (r, _), idx in REGION_LANDMARKS.items() if "lip" in r or "mouth" in r for i in idx}
    )  # fmt: skip
)
_EYELID_IDX = np.array(
    sorted({i for (r, _), idx in REGION_LANDMARKS.items() if "eyelid" in r for i in idx})
)


class LiveEventCounter:
    """Rough live count of twitch-like movements: the detector's own peak finder, live.

    The last ``window_s`` seconds of tracked frames are kept; every ``every_s`` seconds they go
    through the same steps as the analysis -- region signals in face-frame mm
    (:func:`facetwitch.signal.regions_signal`) and peaks above the local noise
    (:func:`facetwitch.signal.events_find`) -- and each new candidate in the lip and eyelid
    regions counts once. A region moving on both sides at once (a blink, a smile) does not
    count. Not the analysis: no expression, head-motion or talking checks; the report is made
    from the recording afterwards.

    Parameters
    ----------
    window_s : float
        Seconds of recent frames searched (the peak finder needs a few seconds of baseline).
    every_s : float
        How often, in seconds of video, the recent frames are searched.
    """

    def __init__(self, *, window_s: float = 4.0, every_s: float = 0.5):
        self.window_s = window_s
        self.every_s = every_s
        self.count = 0
        self.t_last_event: float | None = None
        self._rows: list[tuple[float, np.ndarray, np.ndarray]] = []
        self._last_search: float | None = None
        self._scale: list[float] = []

    @property
    def px_per_mm(self) -> float:
        """Median iris scale seen so far (NaN before a face is seen)."""
        return float(np.median(self._scale)) if self._scale else float("nan")

    def update(self, t_s: float, found: bool, points: np.ndarray, region_flow: np.ndarray) -> bool:
        """Feed one tracked frame; True if a new movement was counted."""
        if self._rows and t_s <= self._rows[-1][0]:
            return False  # times must increase
        pts = np.asarray(points, np.float32) if found else np.full((478, 3), np.nan, np.float32)
        flow = np.asarray(region_flow, float) if found else np.full((len(REGION_KEYS), 2), np.nan)
        self._rows.append((float(t_s), pts, flow))
        if found:
            s = float(iris_px_per_mm(pts))
            if np.isfinite(s):
                self._scale = [*self._scale[-299:], s]
        while self._rows and self._rows[0][0] < t_s - self.window_s:
            self._rows.pop(0)
        if self._last_search is not None and t_s - self._last_search < self.every_s:
            return False
        self._last_search = t_s
        # a peak found again in a later search moves by a grid sample or so: not a new one
        new = [e for e in self._candidates() if self.t_last_event is None
               or e.t_peak_s > self.t_last_event + 0.2]  # fmt: skip
        if not new:
            return False
        self.count += len(new)
        self.t_last_event = max(e.t_peak_s for e in new)
        return True

    def _candidates(self) -> list:
        """One-sided peaks in the live regions of the recent frames (events_find)."""
        from ..landmarks.track import BLENDSHAPE_NAMES, LandmarkTrack
        from ..signal import events_find, regions_signal

        n = len(self._rows)
        if n < 8 or self._rows[-1][0] - self._rows[0][0] < 1.5:
            return []
        t = np.array([r[0] for r in self._rows]) - self._rows[0][0]
        points = np.stack([r[1] for r in self._rows]).astype(float)
        found = np.all(np.isfinite(points[:, :, :2]), axis=(1, 2))
        track = LandmarkTrack(
            t=t, points=points, blendshapes=np.full((n, len(BLENDSHAPE_NAMES)), np.nan),
            pose=np.full((n, 4, 4), np.nan), found=found, n_faces=found.astype(np.int16),
            region_flow=np.stack([r[2] for r in self._rows]), rigid_flow=np.full((n, 6), np.nan),
            info={"fps_mean": float((n - 1) / t[-1]) if t[-1] > 0 else 30.0},
        )  # fmt: skip
        signals = regions_signal(track)
        if not len(signals.t):
            return []
        peaks = [e for e in events_find(signals) if e.region in LIVE_REGIONS]
        t0 = self._rows[0][0]
        one_sided = [
            e for e in peaks
            if not any(f.region == e.region and f.side != e.side
                       and abs(f.t_peak_s - e.t_peak_s) <= 0.15 for f in peaks)
        ]  # fmt: skip
        from dataclasses import replace

        return [replace(e, t_start_s=e.t_start_s + t0, t_peak_s=e.t_peak_s + t0,
                        t_end_s=e.t_end_s + t0) for e in one_sided]  # fmt: skip


@dataclass(frozen=True)
class OverlayState:
    """Everything the preview shows besides the image."""

    elapsed_s: float
    duration_s: float | None
    live_count: int
    markers: int
    face_found: bool | None  # None: not tracked yet
    overlay_fraction: float  # frames tracked for the overlay / frames captured
    flash_marker: bool = False


def _fmt_time(t: float) -> str:
    t = max(0.0, t)
    return f"{int(t // 60):02d}:{int(t % 60):02d}"


def _text(img, s, org, scale, color=TEXT_BGR, thick=1):
    shadow = (org[0] + 1, org[1] + 1)  # an offset shadow: readable on any background
    cv2.putText(img, s, shadow, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thick, cv2.LINE_AA)


def overlay_draw(rgb: np.ndarray, points: np.ndarray | None, state: OverlayState) -> np.ndarray:
    """Return the preview image (BGR, for ``cv2.imshow``).

    ``rgb`` mirrored, landmarks and text drawn.

    Parameters
    ----------
    rgb : ndarray (H, W, 3) uint8
        The captured frame, unmirrored, as recorded.
    points : ndarray (478, 3) or None
        Landmarks in pixels of ``rgb`` (unmirrored); drawn mirrored with the image.
    state : OverlayState
        Time, counts and flags to show.
    """
    h, w = rgb.shape[:2]
    img = cv2.flip(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), 1)  # a mirror, for comfort
    scale = max(0.4, w / 1280.0)
    fs = 0.6 * scale / 0.5 if w >= 960 else 0.5
    line = int(24 * fs / 0.5)
    r = max(2, int(round(2 * scale / 0.5)))
    if points is not None and np.isfinite(points[:, :2]).all():
        for idx, color in ((_LIP_IDX, LIP_BGR), (_EYELID_IDX, EYELID_BGR)):
            for x, y in points[idx, :2]:
                cv2.circle(img, (int(round(w - 1 - x)), int(round(y))), r, color, -1, cv2.LINE_AA)
    # top bar: recording state and time
    bar = img[: line * 2 + 8]
    bar[:] = (bar * 0.45).astype(np.uint8)
    cv2.circle(img, (14, line // 2 + 6), max(5, r + 3), REC_BGR, -1, cv2.LINE_AA)
    t = f"REC {_fmt_time(state.elapsed_s)}"
    if state.duration_s:
        t += f"  ({_fmt_time(state.duration_s - state.elapsed_s)} left)"
    t += f"   marks: {state.markers}"
    _text(img, t, (28, line // 2 + 12), fs)
    count = (f"rough live count: {plural(state.live_count, 'movement')} (full analysis after "
             "recording)")  # fmt: skip
    _text(img, count, (8, line + line // 2 + 10), fs * 0.85)
    # bottom bar: instructions and keys
    y0 = h - line * 2 - 8
    bottom = img[y0:]
    bottom[:] = (bottom * 0.45).astype(np.uint8)
    msg = INSTRUCTIONS
    if state.face_found is False:
        msg = "No face found - " + INSTRUCTIONS.lower()
    warn = state.face_found is False
    _text(img, msg, (8, y0 + line - 2), fs, (0, 255, 255) if warn else TEXT_BGR)
    keys = KEYS_HELP
    if state.overlay_fraction < 0.95:
        keys += f"   (overlay on {state.overlay_fraction:.0%} of frames; all are recorded)"
    _text(img, keys, (8, y0 + 2 * line - 4), fs * 0.8)
    if state.flash_marker:
        cv2.rectangle(img, (0, 0), (w - 1, h - 1), (0, 255, 255), max(4, 2 * r))
        _text(img, "marked", (w // 2 - 40, h // 2), fs * 1.4, (0, 255, 255), 2)
    return img
