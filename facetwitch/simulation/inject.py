"""Injection: planned events warped into a real face video, written with their truth.

:func:`video_inject` runs the Face Landmarker once over the clean source (VIDEO mode) to place
each event on the face, warps the frames with a smooth local field that moves the skin by the
planned vector (:mod:`.warp`), encodes the result (H.264, the source frames' timestamps kept)
and writes the truth beside it (``<dst>.truth.json``) in report.json's own event fields.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from .._files import target_check, temp_file
from .._validate import check_option
from ..conventions import EVENT_KINDS, REGIONS, direction_word
from ..errors import InputError, OutputError
from ..regions import REGION_LANDMARKS
from .encode import _outputs_check, _time_base, _Writer
from .face import (
    _clip_px_per_mm,
    _eye_opening_px,
    _mesh_side,
    _patient_axes,
    _region_sides,
    _zoom,
)
from .plan import _ordered, _shift, event_profile
from .warp import BLINK_CLOSURE, _bump_sigmas, _warp_blink, _warp_bump

logger = logging.getLogger("facetwitch")

#: Gaps without a face up to this long (s) are bridged by interpolating the landmarks.
MAX_GAP_S = 0.5


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
        From :func:`~facetwitch.simulation.twitch_simulate` (or hand-made with the same fields).
        Each event is shifted (by at most half a frame interval) so that its peak falls on a
        frame: the truth's ``t_peak_s`` is the time of the frame with the largest displacement.
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
    src, dst = Path(src), Path(dst)
    _events_check(events)
    _outputs_check(src, dst)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{dst.parent}: cannot create ({exc})") from None

    t, pts, found, info = _track_source(src, model, progress)
    usable = _fill_gaps(t, pts, found)
    ppm = _clip_px_per_mm(pts, found)
    if not np.isfinite(ppm):
        raise InputError(f"{src}: no face found, nothing to inject into")
    scale = _zoom(pts, found, usable)  # per-frame zoom relative to the median
    sigma = _bump_sigmas(pts, found, ppm)
    planned, skipped = _events_snap(events, t, usable)
    opening_mm = _eye_opening_mm(pts, np.flatnonzero(usable), ppm, scale)
    truth_events = _truth_events(planned, opening_mm, sigma, mirrored)
    clip = {"t": t, "pts": pts, "usable": usable, "scale": scale, "ppm": ppm, "sigma": sigma}
    truth = {
        "schema_version": "1",
        "source": src.name,
        "source_sha256": None,  # filled in by _outputs_write, after the video is written
        "video": dst.name,
        "mirrored": bool(mirrored),
        "px_per_mm": round(ppm, 4),
        "frames": int(len(t)),
        "duration_s": float(info["duration_s"]),
        "face_found_fraction": round(float(found.mean()), 4),
        "events": truth_events,
        "skipped_events": skipped,
    }
    encoding = {"info": info, "crf": crf, "x264_options": x264_options, "progress": progress}
    _outputs_write(src, dst, truth, clip, mirrored, encoding)
    logger.info("injected %d events into %s (%d skipped)", len(truth_events), dst, len(skipped))
    return truth


def _events_check(events: list[dict]) -> None:
    """Refuse events whose kind, region or side is not in the vocabulary."""
    for ev in events:
        check_option("kind", ev["kind"], [k for k in EVENT_KINDS if k != "movement"])
        check_option("region", ev["region"], REGIONS)
        check_option("side", ev["side"], ("left", "right", "both"))


# ------------------------------------------------------------------------------------------
# First pass: the landmarks of the clean source
# ------------------------------------------------------------------------------------------
def _track_source(src: Path, model, progress) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Return (t, points (n,478,2) px, found, info) of the source, one VIDEO-mode pass."""
    from .._signals import signals_held
    from ..landmarks.tracker import FaceTracker
    from ..landmarks.video import VideoReader

    ts, pts, found = [], [], []
    # two faces asked for, as when the benchmarks' injected clips were made: placing the
    # twitches on landmarks smoothed by the one-face tracker would change every one of them
    with (
        VideoReader(src) as reader,
        FaceTracker(model, mode="video", flow=False, num_faces=2) as tracker,
    ):
        total = reader.expected_frames
        # Ctrl-C and SIGTERM are delivered between frames, never inside MediaPipe's wrappers
        # (whose half-built objects print tracebacks when unwound there)
        with signals_held() as deliver:
            for frame in reader:
                r = tracker.process(frame)
                ts.append(frame.t_s)
                pts.append(r.points[:, :2])
                found.append(r.found)
                if progress is not None:
                    progress(len(ts), 2 * max(total, len(ts)))
                deliver()
        info = reader.info.to_dict()
    if not ts:
        raise InputError(f"{src}: no video frames could be decoded")
    return np.asarray(ts), np.stack(pts), np.asarray(found, bool), info


def _fill_gaps(t: np.ndarray, points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Return the mask of frames usable for injection.

    ``points`` are interpolated in place over gaps without a face up to :data:`MAX_GAP_S`.
    """
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


# ------------------------------------------------------------------------------------------
# The truth
# ------------------------------------------------------------------------------------------
def _events_snap(events: list[dict], t: np.ndarray, usable: np.ndarray):
    """Return the events with their peaks moved onto frames, and the skipped ones.

    An event is skipped (``{"id", "reason"}``) when a frame it spans has no usable face, or
    it lies outside the video.
    """
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
    return planned, skipped


def _eye_opening_mm(pts, ok_idx, ppm: float, scale) -> float:
    """Return the median over the usable frames of both eyes' mean opening, in mm."""
    return float(
        np.median(
            [
                np.mean([_eye_opening_px(pts[i], s) for s in ("left", "right")]) / (ppm * scale[i])
                for i in ok_idx
            ]
        )
    )


def _truth_events(planned, opening_mm: float, sigma: dict, mirrored: bool) -> list[dict]:
    """Return the truth's events, in report.json's field order.

    Blinks get their amplitude (:data:`BLINK_CLOSURE` of the eye opening, mm), twitches their
    bump's ``sigma_px``.
    """
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
    return truth_events


def _outputs_write(src: Path, dst: Path, truth: dict, clip: dict, mirrored: bool,
                   encoding: dict) -> None:  # fmt: skip
    """Write the injected video and the truth (completed with the peak vectors) in place.

    Both files go through temporary names and are renamed into place at the end: an
    interrupted or failed run leaves neither a partial video nor a truth for another video.
    """
    from ..landmarks.video import file_sha256

    truth_path = dst.with_suffix(".truth.json")
    tmp_video = tmp_truth = None
    try:
        # new files made exclusively (never through a planted link) that keep the video's
        # extension: PyAV picks the container from it
        target_check(dst)
        target_check(truth_path)
        tmp_video = temp_file(dst, suffix=f".tmp{dst.suffix}")
        tmp_truth = temp_file(truth_path)
        peak_vectors = _encode(src, tmp_video, clip, truth["events"], mirrored, **encoding)
        for ev in truth["events"]:
            if ev["id"] in peak_vectors and ev["kind"] == "twitch":
                vx, vy, cx, cy = peak_vectors[ev["id"]]
                ev["vector_px"] = [round(vx, 3), round(vy, 3)]
                ev["centre_px"] = [round(cx, 2), round(cy, 2)]
        truth["source_sha256"] = file_sha256(src)
        tmp_truth.write_text(json.dumps(truth, indent=1) + "\n")
        truth_path.unlink(missing_ok=True)  # an earlier truth never describes the new video
        os.replace(tmp_video, dst)
        os.replace(tmp_truth, truth_path)
    except BaseException as exc:  # also Ctrl-C / SIGTERM: no temporary file stays behind
        for tmp in (tmp_video, tmp_truth):
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{dst}: cannot write ({exc.strerror or exc})") from None
        raise


# ------------------------------------------------------------------------------------------
# Second pass: warp and encode
# ------------------------------------------------------------------------------------------
def _encode(src, path, clip, events, mirrored, *, info, crf, x264_options, progress):
    """Read ``src`` again, warp each usable frame and encode it to ``path``.

    Returns each twitch's image-space vector and centre at its peak frame
    (``{id: [vx, vy, cx, cy]}``, px).
    """
    from ..landmarks.video import VideoReader

    writer = _Writer(path, int(info["width"]), int(info["height"]), _time_base(src), crf,
                     info["fps_mean"], x264_options)  # fmt: skip
    t, pts, usable, scale = clip["t"], clip["pts"], clip["usable"], clip["scale"]
    n_total = len(t)
    peak_vectors: dict[int, list[float]] = {}
    try:
        with VideoReader(src) as reader:
            for frame in reader:
                i = frame.index
                rgb = frame.rgb
                if i < n_total and usable[i]:
                    rgb = _inject_frame(rgb, frame.t_s, pts[i], scale[i], events, clip["ppm"],
                                        clip["sigma"], mirrored, peak_vectors)  # fmt: skip
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
        if ev["kind"] == "blink":
            _blink_apply(out, p, a)
        else:
            _twitch_apply(out, t_s, p, scale, ev, a, ppm, sigma, mirrored, peak_vectors)
    return rgb if out is None else out


def _blink_apply(out: np.ndarray, p: np.ndarray, a: float) -> None:
    """Close both eyes of ``out`` to ``a`` (0..1) of a blink, one after the other."""
    for s in ("left", "right"):
        _warp_blink(out, out.copy(), p, s, a)


def _twitch_apply(out, t_s, p, scale, ev, a, ppm, sigma, mirrored, peak_vectors) -> None:
    """Move ``ev``'s region(s) of ``out`` by ``a`` (0..1) of its vector.

    On a twitch's peak frame its image-space vector and centre go into ``peak_vectors``.
    """
    ex, ey = _patient_axes(p, mirrored)
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
        _warp_bump(out, out.copy(), c, a * v, sigma[(ev["region"], mside)])
