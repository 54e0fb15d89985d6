"""Where on the face: sides of the mesh, face axes, the clip's scale and sizes, eyelid curves.

The iris scale and the face axes are the project's one definition
(:func:`facetwitch.geometry.iris_px_per_mm`, :func:`facetwitch.geometry.face_axes`).
"""

from __future__ import annotations

import numpy as np

from ..geometry import face_axes, iris_px_per_mm
from ..regions import EYE_OUTER_CORNER

# Eyelid curves, outer corner -> inner corner, by MediaPipe's (subject's own) side.
_UPPER_LID = {
    "right": (33, 246, 161, 160, 159, 158, 157, 173, 133),
    "left": (263, 466, 388, 387, 386, 385, 384, 398, 362),
}
_LOWER_LID = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133),
    "left": (263, 249, 390, 373, 374, 380, 381, 382, 362),
}


def _mesh_side(side: str, mirrored: bool) -> str:
    """Return MediaPipe's side label of the patient's ``side``."""
    if not mirrored:
        return side
    return {"left": "right", "right": "left"}[side]


def _region_sides(side: str) -> list[str]:
    """Return the patient's sides an event on ``side`` moves (``both``: left, then right)."""
    return ["left", "right"] if side == "both" else [side]


def _patient_axes(p: np.ndarray, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return image-space unit vectors of face +x (patient's left) and +y (forehead).

    :func:`facetwitch.geometry.face_axes` of one frame's points (478, 2) px, +x flipped for a
    mirrored video (the mesh's "left" is then the patient's right).
    """
    ex, ey = face_axes(p)
    return (-ex if mirrored else ex), ey


def _clip_px_per_mm(points: np.ndarray, found: np.ndarray) -> float:
    """Return the median over the frames with a face of the iris scale (px per mm).

    NaN when no frame has a face.
    """
    p = points[found]
    if len(p) == 0:
        return float("nan")
    return float(np.nanmedian(iris_px_per_mm(p)))


def _zoom(points: np.ndarray, found: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Return each frame's size of the face relative to the clip's median (NaN where unusable).

    The size is the distance between the outer eye corners, in px.
    """
    corners = points[:, EYE_OUTER_CORNER["left"]] - points[:, EYE_OUTER_CORNER["right"]]
    eye_dist = np.linalg.norm(corners, axis=1)
    eye_med = float(np.median(eye_dist[found]))
    return np.where(usable, eye_dist / eye_med, np.nan)


def _lid_curves(p: np.ndarray, mesh_side: str):
    """Return the outer corner, eye axis unit vectors (along, down) and (u, v) of both lids."""
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
    """Return the largest distance between the lids of one eye, in px."""
    _, _, _, (uu, vu), (ul, vl) = _lid_curves(p, mesh_side)
    grid = np.linspace(0.0, float(max(uu[-1], 1e-6)), 41)
    return float(np.max(np.interp(grid, ul, vl) - np.interp(grid, uu, vu)))
