"""The face frame: head translation, rotation and zoom removed; millimetres from the iris.

Face-frame axes (CONVENTIONS.md): +x toward the patient's left, +y up (toward the forehead).
In an unmirrored video the patient's left is image-right, so +x follows the eye-corner axis
(landmark 33 -> 263, the subject's right -> left outer eye corner), and +y is that axis turned
toward the forehead. In a mirrored video the sides swap: x is negated (and the region sides are
swapped by the caller).

Scale: px-per-mm = horizontal iris diameter in px / 11.7 mm, per frame, then a session median
(blinks and eyelid spasms cover the iris); zoom is followed by the rigid landmarks' spread
relative to its session median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import face_axes, iris_px_per_mm, nanmean
from ..regions import RIGID_LANDMARKS


@dataclass(frozen=True)
class FaceFrame:
    """Per-frame face axes and scale.

    Attributes
    ----------
    x_axis : ndarray, shape (n, 2)
        Unit vector, in image pixels (x right, y down), of face-frame +x as the *image* shows it
        (toward the subject's apparent left). NaN where there is no face.
    y_axis : ndarray, shape (n, 2)
        Unit vector of face-frame +y (up, toward the forehead) in image pixels.
    px_per_mm : ndarray, shape (n,)
        Pixels per millimetre at each frame (session iris scale × zoom).
    px_per_mm_session : float
        The session's median iris scale (NaN without a face).
    iris_px_per_mm : ndarray, shape (n,)
        The raw per-frame iris scale (for quality figures).
    """

    x_axis: np.ndarray
    y_axis: np.ndarray
    px_per_mm: np.ndarray
    px_per_mm_session: float
    iris_px_per_mm: np.ndarray

    def rows(self, start: int, stop: int) -> FaceFrame:
        """Return frames ``start:stop`` of this face frame (the session scale kept)."""
        k = slice(start, stop)
        return FaceFrame(self.x_axis[k], self.y_axis[k], self.px_per_mm[k],
                         self.px_per_mm_session, self.iris_px_per_mm[k])  # fmt: skip

    def to_face_mm(self, vec_px: np.ndarray, *, mirrored: bool = False) -> np.ndarray:
        """Image-pixel vectors (n, ..., 2) -> face-frame millimetres (n, ..., 2).

        ``mirrored`` negates x so that +x is the patient's own left in a mirrored video.
        """
        vec_px = np.asarray(vec_px, dtype=float)
        extra = vec_px.ndim - 2
        xa = self.x_axis.reshape((-1,) + (1,) * extra + (2,))
        ya = self.y_axis.reshape((-1,) + (1,) * extra + (2,))
        s = self.px_per_mm.reshape((-1,) + (1,) * extra)
        x = np.sum(vec_px * xa, axis=-1) / s
        y = np.sum(vec_px * ya, axis=-1) / s
        if mirrored:
            x = -x
        return np.stack([x, y], axis=-1)


def faceframe_fit(points: np.ndarray, found: np.ndarray | None = None) -> FaceFrame:
    """Face axes and mm scale for every frame of a track.

    Parameters
    ----------
    points : ndarray, shape (n, 478, >=2)
        Landmarks in pixels of the upright frame (NaN where not found).
    found : ndarray of bool, shape (n,), optional
        Frames with a face (default: where the landmarks are finite).
    """
    from ..landmarks.store import row_blocks

    n = len(points)
    found_given = found is not None
    found = np.asarray(found, bool) if found_given else np.zeros(n, bool)
    x_axis, y_axis = np.full((n, 2), np.nan), np.full((n, 2), np.nan)
    iris, spread = np.full(n, np.nan), np.full(n, np.nan)
    # block by block (every value is a frame's own): a whole-length float64 copy of all 478
    # landmarks is 1.2 GB an hour, and a track over memory maps lets go of each block's pages
    a = 0
    for block in row_blocks(points):
        b = np.asarray(block, dtype=float)
        k = slice(a, a + len(b))
        if not found_given:
            found[k] = np.all(np.isfinite(b[:, :, :2]), axis=(1, 2))
        x_axis[k], y_axis[k] = face_axes(b)
        iris[k] = iris_px_per_mm(b)
        rigid = b[:, list(RIGID_LANDMARKS), :2]
        centre = nanmean(rigid, axis=1, keepdims=True)
        spread[k] = np.sqrt(nanmean(np.sum((rigid - centre) ** 2, axis=-1), axis=1))
        a += len(b)
    nan2 = np.full((n, 2), np.nan)
    if n == 0 or not np.any(found):
        return FaceFrame(nan2, nan2.copy(), np.full(n, np.nan), float("nan"), np.full(n, np.nan))

    x_axis[~found] = np.nan
    y_axis[~found] = np.nan
    iris[~found] = np.nan
    session = float(np.nanmedian(iris)) if np.any(np.isfinite(iris)) else float("nan")
    spread[~found] = np.nan
    zoom = spread / np.nanmedian(spread)
    px_per_mm = session * zoom
    return FaceFrame(x_axis, y_axis, px_per_mm, session, iris)
