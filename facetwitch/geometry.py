"""Face geometry from the 478-point mesh: the iris scale and the face axes, defined once.

numpy only, so that every layer (signal, simulate, reports, capture) uses these same
definitions (CONVENTIONS.md, "Space" and "Directions"):

- px-per-mm = mean horizontal iris diameter of both eyes in px / :data:`IRIS_DIAMETER_MM`;
- face +x = the unit vector from the right eye's outer corner (landmark 33) to the left eye's
  (263): toward the patient's left in an unmirrored video; it follows head roll;
- face +y = the perpendicular of +x that points toward the forehead (chin 152 -> forehead 10).
"""

from __future__ import annotations

import numpy as np

from .conventions import IRIS_DIAMETER_MM
from .regions import EYE_OUTER_CORNER, IRIS_HORIZONTAL

#: Forehead and chin landmarks: which way the face's "up" points.
FOREHEAD, CHIN = 10, 152


def nanmean(a: np.ndarray, axis, keepdims: bool = False) -> np.ndarray:
    """Mean ignoring NaN; NaN (silently) where a slice has no finite value.

    Parameters
    ----------
    a : array_like
        Values.
    axis : int or tuple of int
        Axis or axes to average over.
    keepdims : bool
        Keep the reduced axes with size one.

    Returns
    -------
    ndarray
        The mean, NaN where nothing was finite.
    """
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    total = np.sum(np.where(ok, a, 0.0), axis=axis, keepdims=keepdims)
    count = np.sum(ok, axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def iris_px_per_mm(points: np.ndarray) -> np.ndarray:
    """Pixels per mm from the mean horizontal iris diameter of both eyes.

    Parameters
    ----------
    points : ndarray, shape (..., 478, >=2)
        Landmarks in pixels (one frame, or frames along the leading axes).

    Returns
    -------
    ndarray, shape (...)
        px per mm per frame (NaN where neither iris is finite).

    Examples
    --------
    >>> p = np.zeros((478, 2))
    >>> p[471, 0] = p[476, 0] = 23.4  # both irises 23.4 px wide
    >>> float(iris_px_per_mm(p))
    2.0
    """
    points = np.asarray(points, dtype=float)
    diam = [
        np.linalg.norm(points[..., a, :2] - points[..., b, :2], axis=-1)
        for a, b in IRIS_HORIZONTAL.values()
    ]
    return nanmean(np.stack(diam, axis=0), axis=0) / IRIS_DIAMETER_MM


def face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image-space unit vectors of the face's +x and +y axes.

    Parameters
    ----------
    points : ndarray, shape (..., 478, >=2)
        Landmarks in pixels of the upright frame (x right, y down).

    Returns
    -------
    x_axis, y_axis : ndarray, shape (..., 2)
        +x points from landmark 33 to 263 (the patient's left in an unmirrored video: flip it
        for a mirrored one); +y is its perpendicular toward the forehead. NaN where the
        landmarks are not finite.

    Examples
    --------
    >>> p = np.zeros((478, 2))
    >>> p[263] = [10.0, 0.0]; p[10] = [5.0, -8.0]; p[152] = [5.0, 9.0]
    >>> [a.tolist() for a in face_axes(p)]
    [[1.0, 0.0], [0.0, -1.0]]
    """
    points = np.asarray(points, dtype=float)
    axis = points[..., EYE_OUTER_CORNER["left"], :2] - points[..., EYE_OUTER_CORNER["right"], :2]
    with np.errstate(invalid="ignore", divide="ignore"):
        x_axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    # image y points down: (x, y) -> (y, -x) turns +x by 90 deg toward the top of the image,
    # which is the forehead for an anatomically ordered mesh; checked against chin -> forehead
    y_axis = np.stack([x_axis[..., 1], -x_axis[..., 0]], axis=-1)
    up = points[..., FOREHEAD, :2] - points[..., CHIN, :2]
    flip = np.sum(y_axis * up, axis=-1, keepdims=True) < 0
    return x_axis, np.where(flip, -y_axis, y_axis)
