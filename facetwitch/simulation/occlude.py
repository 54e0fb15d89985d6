"""A hand on the face: paint a skin-coloured occluder into real face footage, with its truth.

What the analysis must not read as twitches (``BAD_occlusion``): a hand that slides in over an
eye, a cheek or the mouth, rests there with a hand's slow sway, and slides out. The occluder is
an ellipse about 30 x 45 mm in the face's own skin colour (the cheeks' median, a little darker,
shaded top to bottom, with a fixed smooth texture); with ``arm`` it carries a wrist and forearm
(a band about 0.8 of its width) running down and away from the middle of the face to the
frame's bottom edge, as a real hand does -- a hand is joined to an arm, so in the picture it
always crosses the face's outline. Timing: ``enter_s`` sliding in from the side, ``hold_s``
resting (a sway of 2-3 px at 1.3 and 2.7 Hz), ``leave_s`` sliding out.

The frames are placed by a track of the clean video (its landmarks and scale); the result is
encoded as the simulator encodes (H.264, the source frames' timestamps), on one thread, so
that the same call makes the same video every time.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

#: Landmarks the occluder rests on (MediaPipe mesh indices): the patient's left cheek, the
#: middle of the mouth, the patient's left eye (image right for an unmirrored video).
PLACES = {
    "cheek": (425, 411, 427),
    "mouth": (13, 14, 61, 291),
    "eye": (386, 374, 263, 362),
}
#: Seconds sliding in, resting, sliding out.
ENTER_S, HOLD_S, LEAVE_S = 0.6, 2.6, 0.6
#: The occluder's size (width, height) in mm.
SIZE_MM = (30.0, 45.0)


def video_occlude(src: str | os.PathLike, dst: str | os.PathLike, track, place: str,
                  start_s: float, *, arm: bool = True, crf: float = 18.0) -> dict:  # fmt: skip
    """Paint the occluder into ``src`` from ``start_s`` at ``place``; write ``dst``.

    Parameters
    ----------
    src, dst : path
        The clean video, and the H.264 MP4 to write.
    track : LandmarkTrack
        A track of ``src`` (frame by frame: its landmarks place and size the occluder).
    place : {"cheek", "mouth", "eye"}
    start_s : float
        When the occluder starts sliding in (seconds, on the track's clock).
    arm : bool
        With a wrist and forearm to the frame's bottom edge (see the module).
    crf : float
        x264's constant rate factor.

    Returns
    -------
    dict
        The truth: ``place``, ``arm``, ``onset_s`` (the start of the slide in) and
        ``duration_s`` (until it has slid out).
    """
    import av
    import cv2

    from ..geometry import iris_px_per_mm
    from .encode import _Writer

    if place not in PLACES:
        raise ValueError(f"place must be one of {', '.join(PLACES)}, not {place!r}")
    inp = av.open(str(src))
    writer = None
    try:
        stream = inp.streams.video[0]
        rate = float(stream.average_rate or 30)
        pts = np.asarray(track.points)[:, :, :2]
        found = np.asarray(track.found, bool)
        scale = float(np.nanmedian(iris_px_per_mm(pts[found])))
        ax = (int(SIZE_MM[0] * scale / 2), int(SIZE_MM[1] * scale / 2))
        rng = np.random.default_rng(7)
        texture, colour = None, None
        end_s = start_s + ENTER_S + HOLD_S + LEAVE_S
        for i, frame in enumerate(inp.decode(stream)):
            img = frame.to_ndarray(format="rgb24")
            h, w = img.shape[:2]
            if i == 0:
                # the simulator's writer (the frames' own times, preset medium), on one thread:
                # a threaded x264 made a different video on every run
                writer = _Writer(Path(dst), w, h, Fraction(1, 90000), crf, rate, {"threads": "1"})
                noise = rng.normal(0, 10, (h, w, 3)).astype(np.float32)
                texture = cv2.GaussianBlur(noise, (0, 0), 2.5)
            j = min(i, len(found) - 1)
            t = float(track.t[j])
            if colour is None and found[j]:
                cheek = pts[j, [205, 425]].mean(axis=0).astype(int)
                y, x = max(0, cheek[1] - 10), max(0, cheek[0] - 10)
                patch = img[y : cheek[1] + 10, x : cheek[0] + 10]
                colour = np.median(patch.reshape(-1, 3), axis=0).astype(np.float32) * 0.92
            if start_s <= t <= end_s and found[j]:
                img = _paint(img, pts[j], place, t, start_s, ax, colour, texture, arm)
            writer.write(img, float(frame.time))
    finally:
        if writer is not None:
            writer.close()
        inp.close()
    return {"place": place, "arm": bool(arm), "onset_s": float(start_s),
            "duration_s": ENTER_S + HOLD_S + LEAVE_S}  # fmt: skip


def _paint(img, pts, place, t, start_s, ax, colour, texture, arm):
    import cv2

    h, w = img.shape[:2]
    centre = pts[list(PLACES[place])].mean(axis=0)
    u = t - start_s
    side = -1.0 if place == "cheek" else 1.0  # enter from the image side it rests nearer
    off = 0.0
    if u < ENTER_S:
        off = side * 3 * ax[0] * (1 - u / ENTER_S)
    elif u > ENTER_S + HOLD_S:
        off = side * 3 * ax[0] * (u - ENTER_S - HOLD_S) / LEAVE_S
    sway = np.array([2.5 * np.sin(2 * np.pi * 1.3 * t), 2.0 * np.sin(2 * np.pi * 2.7 * t)])
    cx, cy = (centre + [off, 0] + sway).astype(int)
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (int(cx), int(cy)), ax, 15, 0, 360, 1.0, -1)
    if arm:  # down and out, away from the middle of the face, to the bottom edge
        out_x = 1.0 if cx >= np.nanmean(pts[:, 0]) else -1.0
        wide = int(1.6 * ax[0])
        cv2.line(mask, (int(cx), int(cy + ax[1] // 2)),
                 (int(cx + out_x * 2.5 * ax[0]), h + wide), 1.0, wide)  # fmt: skip
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0)[..., None]
    shade = np.linspace(1.05, 0.9, h, dtype=np.float32)[:, None, None]
    skin = colour * shade + np.roll(texture, (int(cy), int(cx)), axis=(0, 1))
    return (img * (1 - mask) + skin * mask).clip(0, 255).astype(np.uint8)


__all__ = ["ENTER_S", "HOLD_S", "LEAVE_S", "PLACES", "SIZE_MM", "video_occlude"]
