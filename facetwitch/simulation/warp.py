"""The skin warps: a Gaussian bump that moves a twitching region, and an eyelid that closes.

Spatial model of a twitch: the forward displacement of skin point ``p`` is
``d(p) = A(t) * v * exp(-|p - c|^2 / (2 sigma^2))``, with ``c`` the centroid of the region's
landmarks in that frame, ``sigma`` = :data:`SIGMA_PER_SPREAD` x the region's landmark spread
(the longer side of their bounding box, median over the clip), and ``v`` the amplitude in mm x
px-per-mm along the face-frame direction converted to image axes. The output pixel ``q``
samples the source at the inverse of ``p -> p + d(p)``, found by one fixed-point step:
``p = q - d(q - d(q))``.

A blink moves both upper eyelids down to cover :data:`BLINK_CLOSURE` of the eye opening and
back (a field that follows the lid curves the landmarks give, and squeezes the open eye below
the moving lid instead of dragging the lower lid along).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..regions import REGION_LANDMARKS
from .face import _lid_curves

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


def _bump_sigmas(points: np.ndarray, found: np.ndarray, px_per_mm: float) -> dict:
    """Return each (region, mesh side)'s bump sigma, in px, from its size over the clip.

    ``max(MIN_SIGMA_PX, MIN_SIGMA_MM x px_per_mm, SIGMA_PER_SPREAD x median spread)``, the
    spread being the longer side of the bounding box of the region's landmarks.
    """
    sigma: dict[tuple[str, str], float] = {}
    for (region, mside), idx in REGION_LANDMARKS.items():
        q = points[found][:, list(idx)]
        spread = np.max(q.max(axis=1) - q.min(axis=1), axis=1)
        sigma[(region, mside)] = max(
            MIN_SIGMA_PX, MIN_SIGMA_MM * px_per_mm, SIGMA_PER_SPREAD * float(np.median(spread))
        )
    return sigma


def _box(lo: np.ndarray, hi: np.ndarray, shape: tuple) -> tuple[int, int, int, int] | None:
    """Return the pixel box (x0, x1, y0, y1) covering ``lo``..``hi`` inside ``shape``.

    None when it is empty.
    """
    h, w = shape[:2]
    x0, x1 = int(max(0, np.floor(lo[0]))), int(min(w, np.ceil(hi[0]) + 1))
    y0, y1 = int(max(0, np.floor(lo[1]))), int(min(h, np.ceil(hi[1]) + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, x1, y0, y1


def _remap_into(img, src, box, mx, my, moved) -> None:
    """Sample ``src`` at (``mx``, ``my``) and write the ``moved`` pixels into ``img``'s ``box``.

    Pixels the warp leaves in place keep their exact values (and a neighbouring warp's).
    """
    x0, x1, y0, y1 = box
    warped = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    img[y0:y1, x0:x1][moved] = warped[moved]


def _warp_bump(
    img: np.ndarray, src: np.ndarray, c: np.ndarray, v: np.ndarray, sigma: float
) -> None:
    """Move skin around ``c`` by ``v * gaussian``: writes into ``img`` (sampling ``src``)."""
    amp = float(np.hypot(*v))
    if amp < 1e-3:
        return
    r = 3.5 * sigma + amp + 2
    box = _box(np.asarray(c) - r, np.asarray(c) + r, img.shape)
    if box is None:
        return
    x0, x1, y0, y1 = box
    qx, qy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    k = np.float32(-0.5 / sigma**2)

    def d(x, y):
        return np.exp(((x - c[0]) ** 2 + (y - c[1]) ** 2) * k)

    g0 = d(qx, qy)
    g1 = d(qx - v[0] * g0, qy - v[1] * g0)  # one fixed-point step of p = q - d(p)
    mx = (qx - v[0] * g1).astype(np.float32)
    my = (qy - v[1] * g1).astype(np.float32)
    _remap_into(img, src, box, mx, my, amp * g1 > 1e-3)


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
    box = _box(corners.min(axis=0) - pad, corners.max(axis=0) + pad, img.shape)
    if box is None:
        return
    x0, x1, y0, y1 = box
    qx, qy = np.meshgrid(np.arange(x0, x1, dtype=float), np.arange(y0, y1, dtype=float))
    u = (qx - o[0]) * e[0] + (qy - o[1]) * e[1]
    v = (qx - o[0]) * n[0] + (qy - o[1]) * n[1]
    dd = _lid_field(u, v, (uu, vu), (ul, vl), s, sigma_up)
    mx = (qx - dd * n[0]).astype(np.float32)
    my = (qy - dd * n[1]).astype(np.float32)
    _remap_into(img, src, box, mx, my, dd > 1e-3)


def _lid_field(u, v, upper, lower, s: float, sigma_up: float) -> np.ndarray:
    """Return the destination-side displacement (px, along the eye's down axis) of a blink.

    ``u``, ``v``: pixel coordinates along and across the eye; ``upper``, ``lower``: the lids'
    (u, v) curves, sorted by u; ``s``: closure 0..1. The source is sampled at ``q - D n``.
    """
    (uu, vu), (ul, vl) = upper, lower
    inside = (u > uu[0]) & (u < uu[-1])
    v_up = np.interp(u, uu, vu)
    v_lo = np.maximum(np.interp(u, ul, vl), v_up)
    a = np.where(inside, s * BLINK_CLOSURE * (v_lo - v_up), 0.0)
    above = a * np.exp(-0.5 * ((v_up - v) / sigma_up) ** 2)
    gap = np.maximum(v_lo - v_up - a, 1e-6)
    below = a * np.clip((v_lo - v) / gap, 0.0, 1.0)
    return np.where(v < v_up, above, np.where(v < v_up + a, a, below))
