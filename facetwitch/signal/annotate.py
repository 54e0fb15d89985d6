"""Assessable time: the stretches of a recording where a twitch cannot be told apart.

A twitch cannot be told from speech, a smile or a head turn while they happen. So the recording
is split into time that can be assessed and time that cannot, as MNE-style annotations: onset
and duration in seconds and a description starting ``BAD_`` (CONVENTIONS.md, "Assessable
time"). Each cue is measured on the region signals' grid; a span must be earned by what
really happens (talking, a whole-face expression, a head turn, a lost face, noise), is widened
by a small margin, and spans closer than a short gap are joined. A twitch (one side, brief)
does not raise any cue: the expression and mouth cues take the *smaller* of the two sides, and
the noise cue is a running median over seconds.

Descriptions: ``BAD_face_lost``, ``BAD_head_motion``, ``BAD_talking``, ``BAD_expression``,
``BAD_noisy``, ``BAD_occlusion`` (something over the face: the skin's flow moves a lot while
the face mesh stays, :func:`mesh_unfollowed`; or a hand moves just outside the face's outline,
:func:`hand_near`), ``BAD_frozen`` (the picture stood still for
seconds: a frozen camera, a still image made into a video), ``BAD_out_of_frame`` (part of
the face outside the picture: MediaPipe places the whole mesh even there, and the flow there
reads the picture's edge).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..conventions import GAP_S, round_or_none
from .blendshapes import blendshape_ranges
from .classify import MAX_HEAD_DPS
from .event import Event
from .peaks import noise_estimate, noise_local
from .regions import MOUTH_ACTIVE_MM, RegionSignals, _segments

#: The descriptions :func:`annotations_find` writes, in the order reports list them.
BAD_DESCRIPTIONS = (
    "BAD_talking",
    "BAD_expression",
    "BAD_head_motion",
    "BAD_noisy",
    "BAD_occlusion",
    "BAD_frozen",
    "BAD_out_of_frame",
    "BAD_face_lost",
)


#: The picture standing still at least this long (seconds) is ``BAD_frozen``.
FROZEN_MIN_S = 2.0


def frozen_seconds(signals: RegionSignals, min_s: float = FROZEN_MIN_S) -> float:
    """Seconds of the picture standing still in runs of at least ``min_s`` (0 without flow)."""
    if signals.still is None or not len(signals.t):
        return 0.0
    runs = [b - a for a, b in _segments(signals.still & signals.valid)]
    return float(sum(r for r in runs if r / signals.fs_hz >= min_s) / signals.fs_hz)


@dataclass(frozen=True)
class Annotation:
    """A stretch of the recording, MNE-style: onset and duration in seconds, a description.

    Descriptions starting with ``BAD_`` mark time that is not assessed.
    """

    onset_s: float
    duration_s: float
    description: str

    def __post_init__(self) -> None:
        if not (np.isfinite(self.onset_s) and np.isfinite(self.duration_s)):
            raise ValueError("annotation onset and duration must be finite")
        if self.duration_s < 0:
            raise ValueError(f"annotation duration must be >= 0, got {self.duration_s}")

    @property
    def end_s(self) -> float:
        """``onset_s + duration_s``, in seconds."""
        return self.onset_s + self.duration_s

    def to_dict(self) -> dict:
        """Return the report.json annotation object.

        The report.json annotation object.
        """
        return {
            "onset_s": round(self.onset_s, 3),
            "duration_s": round(self.duration_s, 3),
            "description": self.description,
        }


def bilateral_expression(signals: RegionSignals, *, window_s: float = 0.4) -> np.ndarray:
    """How much both sides of the face change expression around each grid sample.

    The sum, over MediaPipe's expression blendshapes, of how far each moves within
    ``window_s`` seconds; a left/right pair counts by its smaller side, so that a one-sided
    twitch (which drives its own side's blendshapes) adds little and a smile, a frown or speech
    (both sides) adds fully. Gaze, blinks and lid aperture are left out. Less its median over
    the recording (faces differ in their blendshape jitter). Dimensionless; NaN without a face.

    Parameters
    ----------
    signals : RegionSignals
        With blendshapes on the grid.
    window_s : float
        Window of the max - min range, in seconds.

    Returns
    -------
    ndarray, shape (m,)
    """
    names = list(signals.blendshape_names)
    if not names or not len(signals.t):
        return np.zeros(len(signals.t))
    ranges = blendshape_ranges(signals, window_s=window_s)
    skip = ("_neutral", "eyeBlink", "eyeLook", "eyeSquint", "eyeWide")
    total = np.zeros(len(signals.t))
    done = set()
    for i, name in enumerate(names):
        if name.startswith(skip) or name in done:
            continue
        for a, b in (("Left", "Right"), ("Right", "Left")):
            if name.endswith(a) and name[: -len(a)] + b in names:
                j = names.index(name[: -len(a)] + b)
                total += np.nan_to_num(np.minimum(ranges[:, i], ranges[:, j]))
                done |= {name, names[j]}
                break
        else:
            total += np.nan_to_num(ranges[:, i])
            done.add(name)
    valid = signals.valid
    out = total - (np.median(total[valid]) if np.any(valid) else 0.0)
    out[~valid] = np.nan
    return out


def region_noise(signals: RegionSignals, *, window_s: float = 4.0) -> np.ndarray:
    """Median over all (region, side) signals of their local robust noise, in mm, per sample.

    High while the whole face is busy (speech, expression) or the video is poor; one region's
    twitch moves the median of 18 signals little.
    """
    if not len(signals.t):
        return np.zeros(0)
    cols = [noise_local(signals.displacement_mm[:, j], signals.fs_hz, window_s=window_s)
            for j in range(len(signals.keys))]  # fmt: skip
    out = np.nanmedian(np.stack(cols, axis=1), axis=1) if cols else np.zeros(len(signals.t))
    out[~signals.valid] = np.nan
    return out


def _spans(
    mask: np.ndarray, t: np.ndarray, fs: float, *, min_s: float, margin_s: float, bridge_s: float
) -> list[tuple[float, float]]:
    """Return the (start_s, end_s) spans of the runs of ``mask``.

    (start_s, end_s) of the runs of ``mask`` lasting at least ``min_s``, widened by
    ``margin_s`` on both sides, runs closer than ``bridge_s`` joined.
    """
    half = 0.5 / fs
    runs = [(max(t[0], t[a] - half), min(t[-1], t[b - 1] + half)) for a, b in _segments(mask)]
    runs = [(a, b) for a, b in runs if b - a >= min_s]
    out: list[list[float]] = []
    for a, b in runs:
        a, b = max(0.0, t[0], a - margin_s), min(t[-1], b + margin_s)
        if out and a - out[-1][1] <= bridge_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _voiced_on_grid(t: np.ndarray, voice_t, voice_active) -> np.ndarray | None:
    """Return the voice activity on the signals' grid.

    The voice activity (0/1 or 0..1) on the signals' grid, or None without sound.
    """
    if voice_t is None or voice_active is None or len(voice_t) == 0:
        return None
    vt = np.asarray(voice_t, float)
    va = np.asarray(voice_active, float)
    idx = np.clip(np.searchsorted(vt, t) - 1, 0, len(vt) - 1)  # the VAD frame holding t
    out = va[idx] >= 0.5
    out &= (t >= vt[0]) & (t <= vt[-1] + (vt[-1] - vt[-2] if len(vt) > 1 else 0.03))
    return out


#: ``BAD_occlusion`` settings (:func:`mesh_unfollowed`, :func:`annotations_find`): the flow's
#: RMS over the window (mm), the largest slope of mesh on flow, the window (s), and how many
#: regions of one side must show it at once. Chosen on benchmarks/occlusion.py's hands (15, with
#: a forearm, on 5 real at-rest clips) against the injected twitches of the real and calm sets
#: (benchmarks/README.md, "Tenth round").
OCCLUSION_MM, OCCLUSION_SLOPE, OCCLUSION_WINDOW_S, OCCLUSION_REGIONS = 0.7, 0.1, 1.0, 2
#: ... and the flow's RMS must also exceed this many times the region's robust noise over the
#: whole signal (:func:`~.peaks.noise_estimate`): a small or enlarged face's flow wanders by a
#: millimetre without anything over it.
OCCLUSION_K_NOISE = 6.0
#: Both signals lose their running mean over this many seconds first: the integrated flow of a
#: soft, enlarged picture drifts (a bias in every frame's flow) where the mesh does not, and
#: over a short stretch the 2 s baseline leaves that drift as a slow wave of a millimetre.
OCCLUSION_HP_S = 0.5


def mesh_unfollowed(signals: RegionSignals, *, window_s: float = OCCLUSION_WINDOW_S,
                    flow_mm: float = OCCLUSION_MM, slope: float = OCCLUSION_SLOPE,
                    k_noise: float = OCCLUSION_K_NOISE,
                    hp_s: float = OCCLUSION_HP_S) -> np.ndarray | None:  # fmt: skip
    """Per grid sample and region: the skin's flow moved and the face mesh did not follow.

    Both displacements less their running mean over ``hp_s`` seconds; then over a running
    window of ``window_s`` seconds, the RMS of the region's flow exceeds ``flow_mm`` and
    ``k_noise`` times the region's robust noise (whole signal), while the least-squares slope
    of the mesh's displacement (``signals.mesh_mm``) on it stays under ``slope``. Skin that
    moves drags MediaPipe's mesh along, if only partly (injected twitches: 0.1-0.3 of the
    flow); a hand sliding or resting on the face moves the flow by millimetres while the mesh
    stays on the face it infers (about 0, benchmarks/README.md, "Tenth round"). Shape (m, K)
    bool; None without mesh signals.
    """
    if signals.mesh_mm is None or not len(signals.t):
        return None
    from scipy.ndimage import uniform_filter1d

    f = np.nan_to_num(signals.displacement_mm)
    m = np.nan_to_num(signals.mesh_mm)
    if hp_s > 0:
        h = max(3, int(round(hp_s * signals.fs_hz)))
        f = f - uniform_filter1d(f, h, axis=0, mode="nearest")
        m = m - uniform_filter1d(m, h, axis=0, mode="nearest")
    n = max(3, int(round(window_s * signals.fs_hz)))
    power = uniform_filter1d(np.einsum("tkc,tkc->tk", f, f), n, axis=0, mode="nearest")
    cross = uniform_filter1d(np.einsum("tkc,tkc->tk", f, m), n, axis=0, mode="nearest")
    power = np.maximum(power, 0.0)
    lost = ~np.isfinite(signals.displacement_mm)
    noise = np.array([noise_estimate(np.where(lost[:, j], np.nan, f[:, j]))
                      for j in range(f.shape[1])])  # fmt: skip
    floor = np.maximum(flow_mm, k_noise * np.nan_to_num(noise))
    return (np.sqrt(power) > floor) & (cross < slope * power)


#: Something moving this fast (mm/s) just outside the face's outline, neither still like the
#: background nor with the head, is a hand near the face (:func:`hand_near`). A hand reaching
#: for the face moves faster. At 90 mm/s the at-rest phone clips (msu) lost 4 % of their
#: assessable time to it and the held-out mixed clips 3 % of their injected twitches, at 120 mm/s
#: the latter 1 %; at 150 (and not while the head turns fast) no figure of the real set moved but
#: the one false twitch it was built for (benchmarks/README.md, "Twentieth round").
OUTLINE_MM_S = 150.0
#: ... and its frames are held this long (seconds), so that a hand's moving frames make one run.
OUTLINE_HOLD_S = 0.1


def hand_near(signals: RegionSignals, *, mm_s: float = OUTLINE_MM_S,
              hold_s: float = OUTLINE_HOLD_S,
              max_head_dps: float | None = None) -> np.ndarray | None:  # fmt: skip
    """Per grid sample: something moved fast just outside the face's outline (a hand).

    A finger arriving at the chin moves the chin's skin as a twitch does, in one region of one
    side, where :func:`mesh_unfollowed` needs two; on its way it crosses the band just outside
    the face's outline (``signals.outline_mm_s``: what moves there neither as the background
    nor with the head). Samples over ``mm_s``, each held ``hold_s`` seconds on both sides, and
    (with ``max_head_dps``) not while the head turns faster than that: a head turning fast
    moves its own outline as no flat motion does (the far cheek's edge, the ears), and that
    time is the head's (``BAD_head_motion``), not a hand's. Shape (m,) bool; None when the
    track did not measure the band.
    """
    if signals.outline_mm_s is None or not len(signals.t):
        return None
    from scipy.ndimage import maximum_filter1d

    fast = (np.nan_to_num(signals.outline_mm_s) > mm_s).astype(np.uint8)
    size = 2 * max(0, int(round(hold_s * signals.fs_hz))) + 1
    near = maximum_filter1d(fast, size, mode="constant").astype(bool)
    if max_head_dps is not None:
        near &= signals.head_speed() < max_head_dps
    return near


def annotations_find(
    signals: RegionSignals,
    *,
    mouth_mm: np.ndarray | None = None,
    voice_t: np.ndarray | None = None,
    voice_active: np.ndarray | None = None,
    margin_s: float = 0.3,
    bridge_s: float = 0.5,
    face_lost_min_s: float = 0.2,
    face_lost_margin_s: float = 0.3,
    head_dps: float = MAX_HEAD_DPS,
    head_min_s: float = 0.2,
    talk_mouth_mm: float = MOUTH_ACTIVE_MM,
    talk_min_s: float = 1.0,
    talk_margin_s: float = 0.3,
    voiced_mouth_mm: float = 0.2,
    expression_min: float = 1.0,
    expression_min_s: float = 0.3,
    noisy_mm: float = 0.3,
    noisy_min_s: float = 1.0,
    noisy_window_s: float = 4.0,
    frozen_min_s: float = FROZEN_MIN_S,
    out_of_frame_min_s: float = 0.2,
    occlusion_mm: float = OCCLUSION_MM,
    occlusion_slope: float = OCCLUSION_SLOPE,
    occlusion_window_s: float = OCCLUSION_WINDOW_S,
    occlusion_regions: int = OCCLUSION_REGIONS,
    occlusion_k_noise: float = OCCLUSION_K_NOISE,
    occlusion_hp_s: float = OCCLUSION_HP_S,
    occlusion_min_s: float = 0.2,
    occlusion_outline_mm_s: float = OUTLINE_MM_S,
) -> list[Annotation]:
    """Time that cannot be assessed, per cause, as ``BAD_`` annotations sorted by onset.

    Parameters
    ----------
    signals : RegionSignals
        Region signals (:func:`~.regions.regions_signal`).
    mouth_mm : ndarray, shape (m,), optional
        Mouth activity on the grid (:func:`~.regions.mouth_activity`): the syllable-rate
        opening and closing of the lips, in mm.
    voice_t, voice_active : ndarray, optional
        Voice activity of the recording's sound (frame times in seconds, on the video's clock,
        and 0/1 or a probability): where the recording has sound.
    margin_s : float
        Every span (but a lost face's and talking's) is widened by this much (seconds) on
        both sides: a movement starts before its cue crosses a threshold and ends after.
    bridge_s : float
        Spans of one cause closer than this (seconds) are joined.
    face_lost_min_s, head_min_s, talk_min_s, expression_min_s, noisy_min_s, occlusion_min_s : float
        A cue must hold this long (seconds) to make a span.
    head_dps : float
        Head rotation faster than this (degrees per second): ``BAD_head_motion``.
    face_lost_margin_s : float
        ``BAD_face_lost`` spans are widened by this much (seconds) on both sides. Keep it
        over the 0.25 s the region grid interpolates across a loss
        (``regions_signal(max_gap_s=...)``), or the span covers only a part of the loss.
    talk_margin_s : float
        ``BAD_talking`` spans are widened by this much (seconds) on both sides.
    talk_mouth_mm : float
        Without sound, mouth activity over this (mm) is ``BAD_talking`` (talking, laughing).
    voiced_mouth_mm : float
        With sound, voiced time while the mouth moves more than this (mm) is ``BAD_talking``;
        a voice while the mouth is still (someone else, a radio) is not.
    expression_min : float
        :func:`bilateral_expression` over this: ``BAD_expression`` (a smile, a frown, a
        grimace: both sides of the face).
    noisy_mm : float
        :func:`region_noise` over this (mm): ``BAD_noisy``.
    noisy_window_s : float
        The running window of :func:`region_noise`, in seconds.
    frozen_min_s : float
        The picture standing still this long (seconds; ``signals.still``: a frozen camera, a
        still image made into a video) is ``BAD_frozen``: a face that does not move at all
        shows no twitch and no blink, and its time is no evidence that there were none. Real
        footage never stood still for more than 0.53 s.
    out_of_frame_min_s : float
        Part of the face outside the picture this long (seconds; ``signals.outside``) is
        ``BAD_out_of_frame``: the regions there are not in the video, and the comparisons of
        the two sides and of the whole face that tell a twitch need the whole face.
    occlusion_mm, occlusion_slope, occlusion_window_s, occlusion_k_noise, occlusion_hp_s : float
        :func:`mesh_unfollowed`'s settings (``flow_mm``, ``slope``, ``window_s``, ``k_noise``,
        ``hp_s``).
    occlusion_regions : int
        ... in at least this many regions of one side at once: ``BAD_occlusion`` (a hand, a
        cup, hair over the face). One region alone is not enough: a twitch moves one region.
    occlusion_outline_mm_s : float
        Also ``BAD_occlusion``: something moving faster than this (mm/s) just outside the
        face's outline (:func:`hand_near`), a hand on its way to or from the face (a very
        large value turns the cue off).

    Returns
    -------
    list of Annotation
    """
    t, fs = signals.t, signals.fs_hz
    if not len(t):
        return []
    valid = signals.valid
    masks: dict[str, tuple[np.ndarray, float]] = {
        "BAD_face_lost": (~valid, face_lost_min_s),
        "BAD_head_motion": (valid & (signals.head_speed() > head_dps), head_min_s),
    }
    mouth = np.zeros(len(t)) if mouth_mm is None else np.nan_to_num(np.asarray(mouth_mm, float))
    voiced = _voiced_on_grid(t, voice_t, voice_active)
    talking = mouth > talk_mouth_mm
    if voiced is not None:
        talking |= voiced & (mouth > voiced_mouth_mm)
    masks["BAD_talking"] = (valid & talking, talk_min_s)
    expr = np.nan_to_num(bilateral_expression(signals))
    masks["BAD_expression"] = (valid & (expr > expression_min), expression_min_s)
    noise = np.nan_to_num(region_noise(signals, window_s=noisy_window_s))
    masks["BAD_noisy"] = (valid & (noise > noisy_mm), noisy_min_s)
    unfollowed = mesh_unfollowed(signals, window_s=occlusion_window_s, flow_mm=occlusion_mm,
                                 slope=occlusion_slope, k_noise=occlusion_k_noise,
                                 hp_s=occlusion_hp_s)  # fmt: skip
    covered = None
    if unfollowed is not None:
        sides = np.array([side for _, side in signals.keys])
        covered = np.zeros(len(t), bool)
        for side in ("left", "right"):
            covered |= unfollowed[:, sides == side].sum(axis=1) >= occlusion_regions
    hand = hand_near(signals, mm_s=occlusion_outline_mm_s, max_head_dps=0.5 * head_dps)
    if hand is not None:
        covered = hand if covered is None else covered | hand
    if covered is not None:
        # lips moving fast leave the mesh behind as a hand does; while the mouth moves as in
        # talking, talking is what the time is (BAD either way), not a hand
        masks["BAD_occlusion"] = (valid & covered & ~talking, occlusion_min_s)
    if signals.still is not None:
        masks["BAD_frozen"] = (valid & signals.still, frozen_min_s)
    if signals.outside is not None:
        masks["BAD_out_of_frame"] = (valid & signals.outside, out_of_frame_min_s)
    out = []
    for description, (mask, min_s) in masks.items():
        margin = {"BAD_talking": talk_margin_s, "BAD_face_lost": face_lost_margin_s,
                  "BAD_frozen": 0.0}.get(description, margin_s)  # fmt: skip
        for a, b in _spans(mask, t, fs, min_s=min_s, margin_s=margin, bridge_s=bridge_s):
            out.append(Annotation(float(a), float(b - a), description))
    return sorted(out, key=lambda x: (x.onset_s, BAD_DESCRIPTIONS.index(x.description)))


def bad_mask(annotations: list[Annotation], t: np.ndarray) -> np.ndarray:
    """Return whether each ``t`` falls inside any ``BAD_`` annotation.

    True where ``t`` (seconds) falls inside any ``BAD_`` annotation.
    """
    t = np.asarray(t, float)
    out = np.zeros(t.shape, bool)
    for a in annotations:
        if a.description.startswith("BAD"):
            out |= (t >= a.onset_s) & (t <= a.end_s)
    return out


def bad_at(annotations: list[Annotation], t_s: float) -> str:
    """Return the description of the ``BAD_`` span holding ``t_s``.

    The description of the ``BAD_`` span holding ``t_s`` ("" if none): the first in
    :data:`BAD_DESCRIPTIONS` order where several overlap.
    """
    hits = [a.description for a in annotations
            if a.description.startswith("BAD") and a.onset_s <= t_s <= a.end_s]  # fmt: skip
    order = {d: i for i, d in enumerate(BAD_DESCRIPTIONS)}
    return min(hits, key=lambda d: order.get(d, len(order))) if hits else ""


def assessable_seconds(signals: RegionSignals, annotations: list[Annotation]) -> float:
    """Face time outside every ``BAD_`` span, in seconds."""
    if not len(signals.t):
        return 0.0
    keep = signals.valid & ~bad_mask(annotations, signals.t)
    return float(np.sum(keep) / signals.fs_hz)


def bad_seconds(signals: RegionSignals, annotations: list[Annotation], *,
                t_frames: np.ndarray | None = None,
                found: np.ndarray | None = None) -> dict[str, float]:  # fmt: skip
    """Face time inside the spans of each ``BAD_`` description, in seconds (causes overlap).

    ``BAD_face_lost``: the time without a face inside its spans. Given the frames (``t_frames``
    and ``found``), on the frames, as the quality line's "face found in 82 % of frames; lost at
    ..." counts it: each frame until the next, at most :data:`~facetwitch.conventions.GAP_S` (a
    longer gap is frames missing, not a face lost). On the signals' grid otherwise, which holds
    a face's last place for ``regions_signal``'s ``max_gap_s`` either side of a loss: a 1 s loss
    read 0.5 s there beside "lost at 2.4-3.4 s" (mixed_2).
    """
    out = {}
    for d in BAD_DESCRIPTIONS:
        spans = [a for a in annotations if a.description == d]
        if not (spans and len(signals.t)):
            continue
        if d == "BAD_face_lost" and t_frames is not None and found is not None:
            out[d] = _lost_seconds(np.asarray(t_frames, float), np.asarray(found, bool), spans)
            continue
        inside = bad_mask(spans, signals.t)
        inside &= ~signals.valid if d == "BAD_face_lost" else signals.valid
        out[d] = round_or_none(float(np.sum(inside) / signals.fs_hz), 2)
    return out


def _lost_seconds(t: np.ndarray, found: np.ndarray, spans: list[Annotation]) -> float:
    """Seconds of the frames without a face inside ``spans`` (see :func:`bad_seconds`)."""
    if not len(t):
        return 0.0
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    dt = np.minimum(np.diff(t, append=t[-1] + step), GAP_S)
    return round(float(np.sum(dt[~found & bad_mask(spans, t)])), 2)


def events_count(events: list[Event], annotations: list[Annotation]) -> list[Event]:
    """Mark the events whose peak lies in a ``BAD_`` span as not counted.

    ``events`` with ``counted`` False, and ``annotation`` naming why, where the peak lies in
    a ``BAD_`` span. Nothing is dropped: an uncounted twitch keeps its measurements.
    """
    out = []
    for e in events:
        why = bad_at(annotations, e.t_peak_s)
        out.append(replace(e, counted=not why, annotation=why))
    return out
