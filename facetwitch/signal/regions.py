"""Region signals: 2-D displacement in mm, face frame, per (region, side), on an even time grid.

Two methods (chosen by ``method=``; one dict maps names to private functions):

- ``"flow"`` (default): the pixel motion measured inside each landmark-placed region (head motion
  already removed by the rigid fit in :mod:`facetwitch.landmarks.flow`), turned into face-frame
  mm per frame and integrated into a position.
- ``"landmarks"``: the region's landmark centroid, relative to the rigid landmarks (forehead,
  nose bridge), in face-frame mm. Kept for comparison: MediaPipe smooths fast motion away.

Either way a baseline that follows slow posture changes (running median, ``baseline_s``) is
subtracted, so what remains is fast local displacement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d

from .._validate import check_option, check_positive
from ..conventions import flip_side
from ..geometry import nanmean
from ..regions import LIP_APERTURE_PAIRS, REGION_KEYS, REGION_LANDMARKS, RIGID_LANDMARKS
from .faceframe import FaceFrame, faceframe_fit
from .timing import gaps_find, grid_make


@dataclass(frozen=True)
class RegionSignals:
    """Displacement of every (region, side) on an even time grid.

    Attributes
    ----------
    t : ndarray, shape (m,)
        Grid times in seconds (PTS-based; t = 0 at the first frame).
    fs_hz : float
        Grid rate, in Hz (samples per second).
    keys : tuple of (region, side)
        Column order; sides are the patient's own (already flipped for mirrored video).
    displacement_mm : ndarray, shape (m, K, 2)
        Baseline-removed displacement in mm, face frame (+x patient's left, +y up). NaN where
        the face was not tracked.
    valid : ndarray of bool, shape (m,)
        Grid samples with a tracked face.
    blendshapes : ndarray, shape (m, 52)
        MediaPipe blendshapes on the same grid (for telling expressions from twitches).
    blendshape_names : tuple of str
    px_per_mm : float
        Session scale.
    method : str
    head_speed_dps : ndarray, shape (m,), optional
        Head rotation speed in degrees per second (MediaPipe's head pose, median over 0.25 s);
        NaN where unknown.
    position_mm : ndarray, shape (m, K, 2), optional
        The same displacement before the baseline was removed (for :meth:`rebaselined`).
    baseline_s : float
        Running-median window of the baseline removed from ``position_mm``, in seconds.
    mouth_mm : ndarray, shape (m,), optional
        Mouth activity (:func:`mouth_activity`): the lips opening and closing at syllable
        rate, in mm (talking, laughing).
    voice_t, voice_active : ndarray, optional
        The recording's voice activity (frame times in seconds on the video's clock, and 0/1
        or a probability), when it has sound; None without.
    still : ndarray of bool, shape (m,), optional
        The picture did not change: no region's flow reached :data:`STILL_FLOW_PX` (a frozen
        camera, a still image made into a video). None when the track has no region flow.
    outside : ndarray of bool, shape (m,), optional
        Part of the face lay outside the picture: some region's landmarks centred beyond the
        frame's edge (:func:`_outside_frames`; a face filmed too close, the mouth below the
        frame). MediaPipe places the whole mesh even there, and the flow reads the picture's
        edge. None when the track does not say its frame size.
    mesh_mm : ndarray, shape (m, K, 2), optional
        For ``method="flow"``: what the face mesh says of the same regions -- the displacement
        the ``"landmarks"`` method gives, baseline removed the same way, on the same grid. Skin
        that moves pulls the mesh along (partly: MEDIAPIPE-NOTES.md); a hand sliding over the
        face moves the flow and leaves the mesh where the face is
        (:func:`~.annotate.mesh_unfollowed`). None for ``method="landmarks"``.
    outline_mm_s : ndarray, shape (m,), optional
        How fast something moved just outside the face's outline, where a hand comes from on
        its way to the face (the track's ``outline_flow``, mm/s; the frame holding each grid
        sample; NaN where unknown: :func:`~.annotate.hand_near`). None when the track did not
        measure it.
    frame_position_mm : ndarray, shape (m, K, 2), optional
        ``position_mm`` as read at the tracked frame nearest each grid sample, not
        interpolated between frames. A grid sample lying between two frames reads a
        one-frame peak lower (by up to half, at half a frame off); the camera's own frames
        carry it whole. For the reported size of an event (``events_process(peak_on_frames=
        ...)``), never for detection.
    """

    t: np.ndarray
    fs_hz: float
    keys: tuple[tuple[str, str], ...]
    displacement_mm: np.ndarray
    valid: np.ndarray
    blendshapes: np.ndarray
    blendshape_names: tuple[str, ...]
    px_per_mm: float
    method: str
    head_speed_dps: np.ndarray | None = None
    position_mm: np.ndarray | None = None
    baseline_s: float = 2.0
    mouth_mm: np.ndarray | None = None
    voice_t: np.ndarray | None = None
    voice_active: np.ndarray | None = None
    still: np.ndarray | None = None
    mesh_mm: np.ndarray | None = None
    frame_position_mm: np.ndarray | None = None
    outside: np.ndarray | None = None
    outline_mm_s: np.ndarray | None = None

    def rebaselined(self, baseline_s: float) -> RegionSignals:
        """Return these signals with another baseline window (seconds).

        The face-frame fit, the flow integration and the resampling are not repeated.
        """
        check_positive("baseline_s", baseline_s)
        if self.position_mm is None:
            raise ValueError("these signals keep no positions to re-baseline")
        disp = _baseline_remove(self.position_mm, self.valid, baseline_s, self.fs_hz)
        return replace(self, displacement_mm=disp, baseline_s=float(baseline_s))

    def head_speed(self) -> np.ndarray:
        """``head_speed_dps`` with 0 where unknown (NaN, or no pose at all)."""
        if self.head_speed_dps is None:
            return np.zeros(len(self.t))
        return np.nan_to_num(self.head_speed_dps, nan=0.0)

    def column(self, region: str, side: str) -> np.ndarray:
        """Displacement (m, 2) of one (region, side)."""
        return self.displacement_mm[:, self.keys.index((region, side))]


def _flow_positions(track, frame: FaceFrame, mirrored: bool) -> np.ndarray:
    """Integrated region flow in face-frame mm, per frame: (n, K, 2)."""
    steps = frame.to_face_mm(track.region_flow, mirrored=mirrored)  # (n, K, 2)
    steps = np.where(np.isfinite(steps), steps, 0.0)
    # the flow of a frame after a gap compares pictures minutes or hours apart: not a movement
    for i, _, _ in gaps_find(track.t):
        steps[i + 1] = 0.0
    return np.cumsum(steps, axis=0)


def landmarks_xy(points, idx) -> np.ndarray:
    """Return the x, y of landmarks ``idx`` of every frame, as float64: ``(n, len(idx), 2)``.

    Read block by block (:func:`~facetwitch.landmarks.store.row_blocks`): neither all 478
    landmarks of every frame (1.2 GB an hour as float64) nor, for a track over memory maps,
    all of its pages are held at once.
    """
    from ..landmarks.store import row_blocks

    idx = list(idx)
    out = np.empty((len(points), len(idx), 2))
    a = 0
    for block in row_blocks(points):
        out[a : a + len(block)] = block[:, idx, :2]
        a += len(block)
    return out


def _region_centroids(points) -> np.ndarray:
    """Each region's landmark centroid (px) in every frame: ``(n, K, 2)``, K in REGION_KEYS order.

    Read block by block, as :func:`landmarks_xy` reads.
    """
    from ..landmarks.store import row_blocks

    groups = [list(REGION_LANDMARKS[k]) for k in REGION_KEYS]
    out = np.empty((len(points), len(groups), 2))
    a = 0
    for block in row_blocks(points):
        out[a : a + len(block)] = np.stack(
            [nanmean(block[:, g, :2].astype(float), axis=1) for g in groups], axis=1
        )
        a += len(block)
    return out


def _landmark_positions(cents: np.ndarray, track, frame: FaceFrame, mirrored: bool) -> np.ndarray:
    """Region landmark centroids relative to the rigid centroid, face-frame mm: (n, K, 2).

    ``cents``: the regions' centroids in px (:func:`_region_centroids`).
    """
    anchor = nanmean(landmarks_xy(track.points, list(RIGID_LANDMARKS)), axis=1)  # (n, 2)
    return frame.to_face_mm(cents - anchor[:, None, :], mirrored=mirrored)


#: The measurements of a region's movement (``regions_signal(method=...)``).
_METHODS = ("flow", "landmarks")


def regions_signal(
    track,
    *,
    mirrored: bool = False,
    method: str = "flow",
    fs_hz: float | None = None,
    baseline_s: float = 2.0,
    max_gap_s: float = 0.25,
    frame: FaceFrame | None = None,
) -> RegionSignals:
    """Region displacement signals of a :class:`~facetwitch.landmarks.LandmarkTrack`.

    Parameters
    ----------
    track : LandmarkTrack
    mirrored : bool
        The video is mirrored (webcam preview style): sides are swapped and x negated.
    method : {"flow", "landmarks"}
    fs_hz : float, optional
        Grid rate in Hz; default the video's mean frame rate, clamped to [10, 60].
    baseline_s : float
        Running-median window, in seconds, of the slow baseline that is removed.
    max_gap_s : float
        Gaps between tracked frames longer than this (seconds) stay NaN on the grid.
    frame : FaceFrame, optional
        The track's face frame, already fitted (:func:`~.faceframe.faceframe_fit`); default:
        fitted here. Given for a stretch of a longer track (:meth:`FaceFrame.rows`), so that
        every stretch has the whole recording's scale.
    """
    check_option("method", method, tuple(_METHODS))
    check_positive("baseline_s", baseline_s)
    keys = tuple((r, flip_side(s)) if mirrored else (r, s) for r, s in REGION_KEYS)
    n = len(track)
    found = np.asarray(track.found, bool)
    names = tuple(track.blendshape_names)
    k = len(keys)
    if n == 0 or found.sum() < 2:
        empty_t = np.zeros(0)
        return RegionSignals(empty_t, float(fs_hz or 30.0), keys, np.zeros((0, k, 2)),
                             np.zeros(0, bool), np.zeros((0, len(names))), names,
                             float("nan"), method, None, np.zeros((0, k, 2)),
                             float(baseline_s))  # fmt: skip

    if frame is None:
        frame = faceframe_fit(track.points, found)
    elif len(frame.px_per_mm) != n:
        raise ValueError(f"frame has {len(frame.px_per_mm)} frames, the track {n}")
    # the mesh's regions, in px: the landmarks method's positions, the flow's mesh check, and
    # whether each region is in the picture
    cents = _region_centroids(track.points)
    pos = (_landmark_positions(cents, track, frame, mirrored) if method == "landmarks"
           else _flow_positions(track, frame, mirrored))  # (n, K, 2) at frame times  # fmt: skip

    t_frames = np.asarray(track.t, float)
    if fs_hz is None:
        fs_hz = grid_rate(t_frames)
    check_positive("fs_hz", fs_hz)
    # per stretch between the gaps in the frame times: sized by the frames, never by the
    # times (a 4 s clip with a 4 h pause used to ask for 5.9 GB)
    t, in_gap = grid_make(t_frames, fs_hz)

    # Validity on the grid: near a tracked frame, and not inside a long gap.
    tf = t_frames[found]
    idx = np.clip(np.searchsorted(tf, t), 1, len(tf) - 1)
    left, right = tf[idx - 1], tf[idx]
    inside = (t >= tf[0]) & (t <= tf[-1]) & ((right - left) <= max_gap_s)
    near = np.minimum(np.abs(t - left), np.abs(t - right)) <= max_gap_s
    valid = (inside | near & (t >= tf[0] - 0.5 / fs_hz) & (t <= tf[-1] + 0.5 / fs_hz)) & ~in_gap

    position = _on_grid(pos, found, t_frames, t, valid)
    disp = _baseline_remove(position, valid, baseline_s, fs_hz)
    mesh = None
    if method == "flow":
        mesh_pos = _on_grid(_landmark_positions(cents, track, frame, mirrored), found, t_frames, t,
                            valid)  # fmt: skip
        mesh = _baseline_remove(mesh_pos, valid, baseline_s, fs_hz)
        del mesh_pos

    blend = np.full((t.size, len(names)), np.nan)
    okb = found & np.all(np.isfinite(track.blendshapes), axis=1)
    if okb.sum() >= 2:
        for j in range(len(names)):
            blend[:, j] = np.interp(t, t_frames[okb], track.blendshapes[okb, j])
    blend[~valid] = np.nan
    # head rotation speed on the grid (median over 0.25 s: one jittery pose is not a turn)
    speed = np.full(t.size, np.nan)
    sp = _head_speed_frames(track)
    fin = np.isfinite(sp)
    if fin.sum() >= 2:
        speed = np.interp(t, t_frames[fin], sp[fin])
        speed = median_filter(speed, size=max(3, int(round(0.25 * fs_hz)) | 1), mode="nearest")
    speed[~valid] = np.nan
    signals = RegionSignals(t, float(fs_hz), keys, disp, valid, blend, names,
                            float(frame.px_per_mm_session), method, speed, position,
                            float(baseline_s))  # fmt: skip
    voice_t, voice_active = getattr(track, "voice_t", None), getattr(track, "voice_active", None)
    still = _still_frames(track, found)
    held = np.clip(np.searchsorted(t_frames, t, side="right") - 1, 0, n - 1)
    if still is not None:  # the frame holding each grid sample
        still = still[held] & valid
    outside = _outside_frames(cents, found, track.info)
    del cents
    if outside is not None:
        outside = outside[held] & valid
    outline = _outline_frames(track, frame)
    if outline is not None:
        outline = np.where(valid, outline[held], np.nan)
    return replace(
        signals,
        still=still,
        outside=outside,
        outline_mm_s=outline,
        mesh_mm=mesh,
        frame_position_mm=_nearest_on_grid(pos, found, t_frames, t, valid),
        mouth_mm=mouth_activity(track, signals),
        voice_t=None if voice_t is None else np.asarray(voice_t, float),
        voice_active=None if voice_active is None else np.asarray(voice_active, float),
    )


def _on_grid(pos: np.ndarray, found: np.ndarray, t_frames: np.ndarray, t: np.ndarray,
             valid: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per-frame positions (n, K, 2) interpolated onto the grid ``t``; NaN where not valid."""
    out = np.full((t.size,) + pos.shape[1:], np.nan)
    ok = found & np.all(np.isfinite(pos), axis=(1, 2))
    if ok.sum() >= 2:
        for j in range(pos.shape[1]):
            for a in range(pos.shape[2]):
                out[:, j, a] = np.interp(t, t_frames[ok], pos[ok, j, a])
    out[~valid] = np.nan
    return out


def _nearest_on_grid(pos: np.ndarray, found: np.ndarray, t_frames: np.ndarray, t: np.ndarray,
                     valid: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per-frame positions (n, K, 2) at the frame nearest each grid time (NaN: not valid)."""
    out = np.full((t.size,) + pos.shape[1:], np.nan)
    ok = np.flatnonzero(found & np.all(np.isfinite(pos), axis=(1, 2)))
    if ok.size >= 2:
        tf = t_frames[ok]
        i = np.clip(np.searchsorted(tf, t), 1, tf.size - 1)
        i -= (t - tf[i - 1]) <= (tf[i] - t)  # the nearer of the frames either side
        out[:] = pos[ok[i]]
    out[~valid] = np.nan
    return out


#: A frame whose every region moved less than this (px) since the last one shows the same
#: picture. Real footage never stays under it: the longest run on the 42 real clips and the
#: calm set was 0.53 s (sensor noise, breathing), against whole stretches of a frozen camera
#: or of a still image made into a video (whose re-encoding wobbles it by up to 0.04 px).
STILL_FLOW_PX = 0.05

#: ... and a run of such frames broken by at most this many moving ones (an encoder's
#: keyframe) stays one run.
STILL_BRIDGE_FRAMES = 3


def _still_frames(track, found: np.ndarray) -> np.ndarray | None:
    """Per frame, whether the picture stood still (:data:`STILL_FLOW_PX`); None without flow."""
    flow = getattr(track, "region_flow", None)
    if flow is None or len(flow) != len(found):
        return None
    from ..landmarks.store import row_blocks

    moved = np.empty(len(found))
    a = 0
    for block in row_blocks(flow):
        moved[a : a + len(block)] = np.max(np.abs(np.nan_to_num(block, nan=np.inf)), axis=(1, 2))
        a += len(block)
    still = found & (moved < STILL_FLOW_PX)
    for a, b in _segments(~still):  # a keyframe's wobble between still frames
        if b - a <= STILL_BRIDGE_FRAMES and a > 0 and b < len(still):
            still[a:b] = True
    return still


def _outside_frames(cents: np.ndarray, found: np.ndarray, info: dict | None) -> np.ndarray | None:
    """Per frame, whether some region's centroid (:func:`_region_centroids`) is outside the picture.

    None when the track's ``info`` does not give the tracked frames' width and height.
    """
    w, h = (info or {}).get("width"), (info or {}).get("height")
    if not w or not h:
        return None
    x, y = cents[..., 0], cents[..., 1]
    with np.errstate(invalid="ignore"):
        beyond = (x < 0) | (x > w) | (y < 0) | (y > h)
    return found & beyond.any(axis=1)


#: Frame intervals within this much (seconds) of the median one are the frames' own rhythm in
#: :func:`grid_rate`: a millisecond clock's rounding (33 and 34 ms for 30 fps, 41 and 42 ms for
#: 24) is in it; a dropped frame (67 ms), or a part at another rate (41.7 ms beside 40 ms:
#: 24 and 25 fps joined), is not.
REGULAR_S = 0.0011
#: ... and their mean sets the grid's rate only where it is more than this fraction from the
#: median one; closer (a grid sliding a frame in 200 frames or more), the median is kept.
REGULAR_DRIFT = 0.005


def grid_rate(t_frames: np.ndarray) -> float:
    """Return the default grid rate of frame times: the frames' own rate, clamped to [10, 60] Hz.

    The mean of the intervals near the median one (:data:`REGULAR_S`) where it differs from the
    median by over :data:`REGULAR_DRIFT`, else the median interval:
    Matroska and WebM (``facetwitch record``'s files, a browser's) keep times in whole
    milliseconds, so 30 fps comes as 33, 33, 34 ms, whose median made a 30.30 Hz grid that
    slid a whole frame against the frames every 3.3 s, reading twitches between frames
    (the demo remuxed to MKV: durations 0.45 -> 0.15 s). 30 Hz for fewer than two frames.
    """
    dt = np.diff(np.asarray(t_frames, float))
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if not dt.size:
        return 30.0
    mid = float(np.median(dt))
    mean = float(np.mean(dt[np.abs(dt - mid) <= REGULAR_S]))
    # the median where the two agree within REGULAR_DRIFT (every clip the detector was tuned
    # on: 0.1 % at most, a frame in 1000 or more); the mean where a clock's rounding sets them
    # apart (1 % for 30 fps in whole milliseconds)
    fps = 1.0 / (mid if abs(mean - mid) <= REGULAR_DRIFT * mid else mean)
    return float(np.clip(fps, 10.0, 60.0))


def _baseline_remove(position: np.ndarray, valid: np.ndarray, baseline_s: float,
                     fs_hz: float) -> np.ndarray:  # fmt: skip
    """``position`` less its running median over ``baseline_s`` seconds.

    Per valid segment (the slow posture changes, and the slow drift of the integrated flow).
    """
    disp = position.copy()
    win = max(3, int(round(baseline_s * fs_hz)) | 1)
    for s0, s1 in _segments(valid):
        # column by column, in place: the same numbers as one filter over (time, 1, 1), without
        # whole-length temporaries of every column (31 MB each an hour)
        size = min(win, (s1 - s0) | 1)
        for j in range(disp.shape[1]):
            for a in range(disp.shape[2]):
                col = disp[s0:s1, j, a]
                col -= median_filter(col, size=size, mode="nearest")
    return disp


#: Syllable-rate band (Hz) of the mouth's opening and closing in :func:`mouth_activity`.
MOUTH_BAND_HZ = (1.5, 7.0)
#: The mouth counts as moving as in talking or laughing where :func:`mouth_activity` exceeds
#: this (mm)...
MOUTH_ACTIVE_MM = 0.5


def mouth_activity(track, signals: RegionSignals, *, window_s: float = 1.0) -> np.ndarray:
    """How much the mouth opens and closes at syllable rate around each grid sample, in mm.

    The RMS over ``window_s`` of the inner-lip opening band-passed to :data:`MOUTH_BAND_HZ`, the
    smaller of the two sides (a one-sided lip twitch opens one side only). Talking, laughing and
    smiling raise it; NaN outside the tracked face.

    Measured (fraction of the face time over 0.5 mm): 0 on every calm and at-rest clip, with
    or without injected twitches (81 tracks); 0.20-0.78 on real talking, smiling and laughing
    footage (benchmarks/README.md).
    """
    from scipy.signal import butter, sosfiltfilt

    out = np.full(len(signals.t), np.nan)
    found = np.asarray(track.found, bool)
    if len(signals.t) < 8 or found.sum() < 8 or not np.isfinite(signals.px_per_mm):
        return out
    t_frames = np.asarray(track.t, float)
    hi = min(MOUTH_BAND_HZ[1], 0.45 * signals.fs_hz)
    sos = butter(2, [MOUTH_BAND_HZ[0], hi], btype="band", fs=signals.fs_hz, output="sos")
    k = max(1, int(round(window_s * signals.fs_hz)))
    pairs = list(LIP_APERTURE_PAIRS.values())
    # the lip pairs only, block by block (never all 478 landmarks of every frame at once)
    lips = landmarks_xy(track.points, [i for pair in pairs for i in pair])
    sides = []
    for j in range(len(pairs)):
        ap = np.linalg.norm(lips[:, 2 * j] - lips[:, 2 * j + 1], axis=1) / signals.px_per_mm
        ok = found & np.isfinite(ap)
        a = np.interp(signals.t, t_frames[ok], ap[ok])
        y = np.zeros_like(a)
        for s0, s1 in _segments(signals.valid):
            if s1 - s0 > 15:  # sosfiltfilt needs a few samples beyond its padding
                y[s0:s1] = sosfiltfilt(sos, a[s0:s1])
        sides.append(np.sqrt(np.maximum(uniform_filter1d(y**2, size=k, mode="nearest"), 0.0)))
    out = np.minimum(*sides)
    out[~signals.valid] = np.nan
    return out


def _outline_frames(track, frame: FaceFrame) -> np.ndarray | None:
    """Per frame, the motion just outside the face's outline in mm/s; None if never measured.

    The track's ``outline_flow`` (pixels from the previous frame) over the frame's scale and
    the time since the previous frame.
    """
    px = getattr(track, "outline_flow", None)
    if px is None:
        return None
    px = np.asarray(px, float)
    if not np.any(np.isfinite(px)):
        return None
    t = np.asarray(track.t, float)
    dt = np.diff(t, prepend=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dt > 0, px / frame.px_per_mm / dt, np.nan)


def _head_speed_frames(track) -> np.ndarray:
    """Head rotation speed (deg/s) at each frame.

    From MediaPipe's pose matrices (rotation part made orthonormal: the pose carries scale); NaN
    where there is no pose before it.
    """
    pose = np.asarray(track.pose, float)
    n = len(pose)
    speed = np.full(n, np.nan)
    if pose.ndim != 3 or pose.shape[1:] != (4, 4):
        return speed
    rot = pose[:, :3, :3]
    ok = np.asarray(track.found, bool) & np.all(np.isfinite(rot.reshape(n, -1)), axis=1)
    idx = np.flatnonzero(ok)
    if idx.size < 2:
        return speed
    u, _, vt = np.linalg.svd(rot[idx])
    r = u @ vt
    rel = r[1:] @ np.transpose(r[:-1], (0, 2, 1))  # rotation from one posed frame to the next
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    dt = np.diff(np.asarray(track.t, float)[idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed[idx[1:]] = np.where(dt > 0, np.degrees(np.arccos(cos)) / dt, np.nan)
    return speed


def _segments(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of ``mask``."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(int))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))
