"""Does the landmark model see it? How much of each injected twitch a track's landmarks follow.

MediaPipe smooths fast motion away: :func:`injection_check` measures what part of each injected
displacement the landmark model's points follow in a track of the injected video.
"""

from __future__ import annotations

import numpy as np

from ..conventions import direction_deg
from ..regions import REGION_LANDMARKS
from .face import _mesh_side, _patient_axes

#: Landmarks of the nose bridge and forehead: the reference of :func:`injection_check`.
REFERENCE_LANDMARKS = (168, 6, 197, 9, 151, 10)


def injection_check(
    truth: dict, track, *, clean_track=None, baseline_s: float = 0.4, lag_s: float = 0.15
) -> dict:
    """Measure how much of each injected twitch the landmarks of ``track`` follow.

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
        What :func:`~facetwitch.simulation.video_inject` returned (or its JSON).
    track : LandmarkTrack
        Track of the injected video.
    clean_track : LandmarkTrack, optional
        Track of the source video (same frames).
    baseline_s : float
        Length of the baseline before each onset, in s.
    lag_s : float
        How long after each peak the landmarks may answer, in s.

    Returns
    -------
    dict
        ``events``: per twitch ``id``, ``region``, ``side``, ``injected_mm`` (amplitude),
        ``at_landmarks_mm`` (the injected displacement averaged over the region's landmarks: what a
        perfect landmark model would show), ``seen_mm`` (component along the injected direction),
        ``seen_fraction`` (seen / at_landmarks), ``seen_direction_deg``, ``lag_s``;
        ``by_region``: median ``seen_fraction`` per region and side; ``median_seen_fraction``.
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
    face = {"ppm": ppm, "mirrored": mirrored, "baseline_s": baseline_s, "lag_s": lag_s}
    rows = []
    for ev in truth["events"]:
        if ev["kind"] != "twitch" or ev["side"] == "both":
            continue
        row = _event_check(ev, t, pts, clean, found, **face)
        if row is not None:
            rows.append(row)
    return _check_summary(rows)


def _event_check(ev, t, pts, clean, found, *, ppm, mirrored, baseline_s, lag_s) -> dict | None:
    """Return one twitch's row of :func:`injection_check`, or None without enough face."""
    mside = _mesh_side(ev["side"], mirrored)
    idx = list(REGION_LANDMARKS[(ev["region"], mside)])
    base = found & (t >= ev["t_start_s"] - baseline_s) & (t < ev["t_start_s"] - 0.02)
    win = found & (t >= ev["t_peak_s"] - 0.02) & (t <= ev["t_peak_s"] + lag_s)
    k_peak = int(np.argmin(np.abs(t - ev["t_peak_s"])))
    if base.sum() < 2 or not win.any() or not found[k_peak]:
        return None
    rel = _relative_centroid(pts, idx)  # (n, 2) image px
    ex, ey = _patient_axes(pts[k_peak], mirrored)
    d_img = rel[win] - np.median(rel[base], axis=0)
    if clean is not None:
        rel0 = _relative_centroid(clean, idx)
        d_img = d_img - (rel0[win] - np.median(rel0[base], axis=0))
    d_face = np.stack([d_img @ ex, d_img @ ey], axis=1) / ppm  # mm, face frame
    th = np.radians(ev["direction_deg"])
    u = np.array([np.cos(th), np.sin(th)])
    along = d_face @ u
    j = int(np.argmax(along))
    at_lm = _at_landmarks_mm(ev, pts[k_peak, idx])
    return {
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


def _relative_centroid(points: np.ndarray, idx: list[int]) -> np.ndarray:
    """Return the centroid of landmarks ``idx`` less that of :data:`REFERENCE_LANDMARKS`.

    Per frame, (n, 2) image px.
    """
    return points[:, idx].mean(axis=1) - points[:, list(REFERENCE_LANDMARKS)].mean(axis=1)


def _at_landmarks_mm(ev: dict, region_points: np.ndarray) -> float:
    """Return what a perfect follower would show, in mm.

    The bump's mean weight at the region's landmarks (at the peak frame, px) times the
    amplitude.
    """
    sig = float(ev.get("sigma_px", np.nan))
    c = region_points.mean(axis=0)
    w = 1.0
    if np.isfinite(sig):
        w = np.exp(-np.sum((region_points - c) ** 2, axis=1) / (2 * sig**2))
    return float(ev["amplitude_mm"]) * float(np.mean(w))


def _check_summary(rows: list[dict]) -> dict:
    """Return :func:`injection_check`'s result: the rows, and medians by region and overall."""
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
