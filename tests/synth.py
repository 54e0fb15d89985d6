"""Synthetic LandmarkTracks with planted region displacements, built on a real face's geometry.

The face geometry (478 landmarks) is one frame of a real MediaPipe track; the planted motion is
written in the same units the tracker produces (region flow in image pixels per frame), so the
signal stage sees exactly what it would see from the tracker, with known truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facetwitch.landmarks.track import BLENDSHAPE_NAMES, REGION_FLOW_NAMES, LandmarkTrack
from facetwitch.regions import REGION_KEYS, REGION_LANDMARKS
from facetwitch.signal.faceframe import iris_px_per_mm

#: One frame of the project's own demo as MediaPipe places it: made by
#: ``tests/data/make_demo_face.py`` from samples/demo_upper_lip.mp4 (public-domain NASA photo).
DEMO_FACE = Path(__file__).resolve().parent / "data" / "demo_face.npz"


def demo_face() -> np.ndarray:
    """Return the demo's first frame's 478 landmarks, (478, 3) float px (no model run)."""
    with np.load(DEMO_FACE) as data:
        return data["points"].astype(float)


@dataclass
class Plant:
    region: str
    side: str  # the mesh's side (as MediaPipe labels it; = patient's side when unmirrored)
    t_peak_s: float
    amplitude_mm: float
    direction_deg: float  # face frame as the image shows it (unmirrored convention)
    rise_s: float = 0.05
    decay_s: float = 0.15
    hold_s: float = 0.0  # held at the peak this long before the decay (a tonic contraction)


def profile(t: np.ndarray, p: Plant) -> np.ndarray:
    """0..1 pulse: raised-cosine rise to the peak, exponential-like decay after."""
    a = np.zeros_like(t)
    up = (t >= p.t_peak_s - p.rise_s) & (t <= p.t_peak_s)
    a[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - (p.t_peak_s - p.rise_s)) / p.rise_s)
    a[(t > p.t_peak_s) & (t <= p.t_peak_s + p.hold_s)] = 1.0
    down = t > p.t_peak_s + p.hold_s
    u = (t[down] - p.t_peak_s - p.hold_s) / p.decay_s
    a[down] = np.where(u < 1, 0.5 + 0.5 * np.cos(np.pi * np.clip(u, 0, 1)), 0.0)
    return a


def synthetic_track(
    base_points: np.ndarray,
    *,
    duration_s: float = 6.0,
    fps: float = 30.0,
    plants: tuple[Plant, ...] = (),
    noise_px: float = 0.05,
    head_motion: bool = False,
    seed: int = 0,
) -> LandmarkTrack:
    """Return a synthetic track with planted displacements plus Gaussian noise.

    A track whose landmarks are ``base_points`` (moved rigidly if ``head_motion``) and whose region
    flow carries the planted displacements plus Gaussian noise (px per frame).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    base = np.asarray(base_points, float).copy()
    centre = base[:, :2].mean(axis=0)
    points = np.repeat(base[None], n, axis=0)
    if head_motion:
        ang = np.radians(8.0) * np.sin(2 * np.pi * 0.3 * t)  # +-8 deg roll
        zoom = 1.0 + 0.15 * np.sin(2 * np.pi * 0.2 * t)  # step toward / away
        shift = np.stack([40 * np.sin(2 * np.pi * 0.25 * t), 25 * np.sin(2 * np.pi * 0.4 * t)], 1)
        for k in range(n):
            c, s = np.cos(ang[k]), np.sin(ang[k])
            r = np.array([[c, -s], [s, c]]) * zoom[k]
            points[k, :, :2] = (base[:, :2] - centre) @ r.T + centre + shift[k]
    ppm = float(np.nanmedian(iris_px_per_mm(points)))
    flow = rng.normal(0.0, noise_px, size=(n, len(REGION_FLOW_NAMES), 2))
    flow[0] = np.nan
    for p in plants:
        j = REGION_KEYS.index((p.region, p.side))
        a = profile(t, p)
        xa = points[:, 263, :2] - points[:, 33, :2]
        xa /= np.linalg.norm(xa, axis=1, keepdims=True)
        ya = np.stack([xa[:, 1], -xa[:, 0]], 1)
        th = np.radians(p.direction_deg)
        eye_px = np.linalg.norm(points[:, 263, :2] - points[:, 33, :2], axis=1)
        scale = ppm * eye_px / np.linalg.norm(base[263, :2] - base[33, :2])
        disp = (a * p.amplitude_mm * scale)[:, None] * (np.cos(th) * xa + np.sin(th) * ya)
        flow[1:, j] += np.diff(disp, axis=0)
        # the landmarks follow a part of the motion, as MediaPipe does
        idx = list(REGION_LANDMARKS[(p.region, p.side)])
        points[:, idx, :2] += 0.5 * disp[:, None, :]
    blend = np.full((n, len(BLENDSHAPE_NAMES)), 0.02)
    return LandmarkTrack(
        t=t,
        points=points,
        blendshapes=blend,
        pose=np.repeat(np.eye(4)[None], n, axis=0),
        found=np.ones(n, bool),
        n_faces=np.ones(n, np.int16),
        region_flow=flow,
        rigid_flow=np.tile([1.0, 0, 0, 0, 1.0, 0], (n, 1)),
        info={"fps_mean": fps, "duration_s": n / fps, "frames": n, "width": 640, "height": 360},
    )


#: Both eyes' blink blendshapes: what MediaPipe raises at a blink.
EYES_CLOSING = ("eyeBlinkLeft", "eyeBlinkRight")


def with_blendshapes(track: LandmarkTrack, names, times_s, *, within_s: float,
                     value: float = 0.6) -> LandmarkTrack:  # fmt: skip
    """Return ``track`` with the blendshapes ``names`` set to ``value`` around ``times_s``.

    ``track`` with the blendshapes ``names`` set to ``value`` within ``within_s`` of each of
    ``times_s`` (a blink, a brow raise ... as MediaPipe would report it).
    """
    from dataclasses import replace

    blend = track.blendshapes.copy()
    for t_s in times_s:
        near = np.abs(track.t - t_s) < within_s
        for name in names:
            blend[near, BLENDSHAPE_NAMES.index(name)] = value
    return replace(track, blendshapes=blend)


def repeated_forward(track: LandmarkTrack, frames: int) -> LandmarkTrack:
    """Repeat a real track end to end to at least ``frames`` frames, timestamps continued.

    Always forward (each repeat a cut back to the first frame), never played backwards: a
    face's movement played in reverse is not one a face makes. The sound's voice activity is
    left out.
    """
    import dataclasses

    n = len(track)
    reps = -(-frames // n)
    step = float(track.t[-1] + np.median(np.diff(track.t)))
    arrays = {
        f.name: np.concatenate([getattr(track, f.name)] * reps)
        for f in dataclasses.fields(track)
        if f.name not in ("t", "voice_t", "voice_active")
        and isinstance(getattr(track, f.name), np.ndarray)
        and getattr(track, f.name).shape[:1] == (n,)
    }  # fmt: skip
    t = np.concatenate([track.t + k * step for k in range(reps)])
    return dataclasses.replace(track, t=t, **arrays, voice_t=None, voice_active=None)
