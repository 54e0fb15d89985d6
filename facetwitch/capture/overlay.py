"""The live preview: a mirrored image with the lip and eyelid landmarks, a rough live count of
movements, the time, and short instructions. Pure drawing on arrays (OpenCV), no window.

The live count is deliberately simple and labelled as rough: it counts onsets of fast local
motion in the lip and eyelid regions (region pixel flow, converted to mm/s with the iris
scale), ignoring blinks (both upper eyelids at once). The real analysis runs on the recording
afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

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
_LIVE_COLS = np.array([k for k, (r, _) in enumerate(REGION_KEYS) if r in LIVE_REGIONS])
_UPPER_EYELID_COLS = {side: REGION_KEYS.index(("upper_eyelid", side)) for side in ("left", "right")}


class LiveEventCounter:
    """Rough live count of fast lip/eyelid movements (not the analysis).

    Parameters
    ----------
    speed_mm_s : float
        A region moving faster than this (its own motion, head motion removed) is "moving".
    refractory_s : float
        Onsets closer than this to the previous counted one are not counted again.
    """

    def __init__(self, *, speed_mm_s: float = 15.0, refractory_s: float = 0.5):
        self.speed_mm_s = speed_mm_s
        self.refractory_s = refractory_s
        self.count = 0
        self.t_last_event: float | None = None
        self._scale: list[float] = []
        self._prev_t: float | None = None
        self._was_moving = False

    @property
    def px_per_mm(self) -> float:
        """Median iris scale seen so far (NaN before a face is seen)."""
        return float(np.median(self._scale)) if self._scale else float("nan")

    def update(self, t_s: float, found: bool, points: np.ndarray, region_flow: np.ndarray) -> bool:
        """Feed one tracked frame; True if it starts a counted movement."""
        prev_t, self._prev_t = self._prev_t, t_s
        if not found or prev_t is None or t_s <= prev_t:
            self._was_moving = False
            return False
        s = float(iris_px_per_mm(points))
        if np.isfinite(s):
            self._scale.append(s)
            self._scale = self._scale[-300:]
        scale = self.px_per_mm
        flow = np.asarray(region_flow, dtype=float)
        if not np.isfinite(scale) or not np.isfinite(flow[_LIVE_COLS]).any():
            return False
        speed = np.linalg.norm(flow, axis=1) / scale / (t_s - prev_t)  # mm/s per region
        fast = np.nan_to_num(speed) > self.speed_mm_s
        blink = fast[_UPPER_EYELID_COLS["left"]] and fast[_UPPER_EYELID_COLS["right"]]
        moving = bool(fast[_LIVE_COLS].any()) and not blink
        onset = moving and not self._was_moving
        self._was_moving = moving
        if onset and (self.t_last_event is None or t_s - self.t_last_event >= self.refractory_s):
            self.count += 1
            self.t_last_event = t_s
            return True
        return False


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
    """The preview image (BGR, for ``cv2.imshow``): ``rgb`` mirrored, landmarks and text drawn.

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
    count = f"rough live count: {state.live_count} movements (full analysis after recording)"
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
