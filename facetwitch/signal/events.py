"""Events from region signals: peaks (scipy.signal), bursts, kinds, co-occurrence.

Pipeline (each step public and usable alone):

1. :func:`events_find` -- per (region, side), peaks of the displacement magnitude by prominence
   above a robust noise floor and by width *in seconds*; onset/offset where the magnitude falls
   back under a fraction of the peak; pulses closer than ``burst_gap_s`` merged into one event
   with a pulse count. Peaks at the very edges of a tracked stretch are not events.
2. :func:`events_group` -- one physical movement shows in neighbouring regions too (a warp of
   the upper lip moves the mouth corner a little): within each side and region group (eye /
   mouth) simultaneous candidates are merged into the strongest region.
3. :func:`events_classify` -- ``blink`` (both upper eyelids down together), ``movement``
   (bilateral, widespread, slow, carried by an expression in the blendshapes, or during a fast
   head turn) or ``twitch`` (brief, local, one side).
4. :func:`events_link` -- eye and mouth twitches on one side within ``link_s`` are linked in
   ``co_occurring`` (the hemifacial-spasm sign).

:func:`events_process` runs 1-4 twice: on the raw signals for blinks and movements, and on
:func:`residual_signals` -- each side less what the other side of the face explains
(:mod:`.coupling`) -- for twitches. On an expressive face the raw signals move by millimetres
everywhere and a 1-3 mm twitch drowns; most of that motion is shared by both sides, a twitch
is not. Eyelid candidates during a blink are dropped (an uneven blink is not a twitch).

Times are seconds, amplitudes mm, directions face-frame degrees (CONVENTIONS.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, median_filter
from scipy.signal import find_peaks

from ..conventions import (
    EYE_REGIONS,
    MOUTH_REGIONS,
    angle_diff_deg,
    direction_deg,
    direction_word,
    flip_side,
)
from .coupling import coupled_residual
from .regions import RegionSignals, _segments


@dataclass(frozen=True)
class Event:
    """One event, in the units of CONVENTIONS.md (seconds, mm, face-frame degrees)."""

    kind: str
    region: str
    side: str
    t_start_s: float
    t_peak_s: float
    t_end_s: float
    amplitude_mm: float
    direction_deg: float
    confidence: float = 0.0
    pulse_count: int = 1
    snr: float = 0.0
    id: int = 0
    co_occurring: tuple[int, ...] = field(default_factory=tuple)
    also_moved: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""
    #: Rise of the strongest pulse from 25 % of its peak to the peak, in seconds (NaN: unknown,
    #: then ``t_peak_s - t_start_s``). For a burst this is not the burst's own rise.
    rise_s: float = float("nan")
    #: Fall of the strongest pulse from its peak to 25 % of it, in seconds (NaN: unknown, then
    #: ``t_end_s - t_peak_s``). With :attr:`rise_s` it spans that pulse inside a burst.
    fall_s: float = float("nan")
    #: Onset and offset as reported (:data:`EDGE_FRACTION`), in seconds; NaN: not measured.
    #: Detection and kinds use the 25 % edges ``t_start_s``/``t_end_s``, which
    #: :func:`events_measured` replaces with these at the end.
    onset_s: float = float("nan")
    offset_s: float = float("nan")

    def __post_init__(self) -> None:
        if not (self.t_start_s <= self.t_peak_s <= self.t_end_s):
            raise ValueError(
                f"event times must satisfy start <= peak <= end, got "
                f"{self.t_start_s}, {self.t_peak_s}, {self.t_end_s}"
            )
        if self.amplitude_mm < 0:
            raise ValueError(f"amplitude_mm must be >= 0, got {self.amplitude_mm}")

    @property
    def duration_s(self) -> float:
        """t_end_s - t_start_s, in seconds."""
        return self.t_end_s - self.t_start_s

    @property
    def direction(self) -> str:
        """Eight-sector word of ``direction_deg``."""
        return direction_word(self.direction_deg)

    def to_dict(self) -> dict:
        """The report.json event object (CONVENTIONS field names, plus a few extras)."""
        d = asdict(self)
        return {
            "id": self.id,
            "kind": self.kind,
            "region": self.region,
            "side": self.side,
            "t_start_s": round(self.t_start_s, 3),
            "t_peak_s": round(self.t_peak_s, 3),
            "t_end_s": round(self.t_end_s, 3),
            "duration_s": round(self.duration_s, 3),
            "amplitude_mm": round(self.amplitude_mm, 2),
            "direction_deg": round(self.direction_deg, 1) % 360.0,
            "direction": self.direction,
            "co_occurring": list(d["co_occurring"]),
            "confidence": round(self.confidence, 2),
            "pulse_count": self.pulse_count,
            "snr": round(self.snr, 1),
            "also_moved": list(d["also_moved"]),
            "reason": self.reason,
        }


# -- 1. peaks ---------------------------------------------------------------------------------
def noise_estimate(displacement_mm: np.ndarray) -> float:
    """Robust noise of a baseline-removed 2-D displacement signal, in mm.

    The per-axis standard deviation from the median absolute deviation (1.4826 × MAD, which
    ignores sparse events), averaged over the two axes; NaN for fewer than 3 valid samples.
    """
    d = np.asarray(displacement_mm, float)
    d = d[np.all(np.isfinite(d), axis=-1)]
    if len(d) < 3:
        return float("nan")
    mad = np.median(np.abs(d - np.median(d, axis=0)), axis=0)
    return float(np.mean(1.4826 * mad))


def noise_local(displacement_mm: np.ndarray, fs_hz: float, *, window_s: float = 4.0) -> np.ndarray:
    """Time-varying robust noise (mm) of a baseline-removed 2-D displacement: 1.4826 × the
    running median of |displacement| per axis over ``window_s`` seconds, averaged over axes.

    Expressive stretches (speech, laughter) raise it; quiet stretches keep it low, so that a
    threshold built on it is strict where the face is busy and sensitive where it is still.
    """
    d = np.abs(np.asarray(displacement_mm, float))
    glob = noise_estimate(displacement_mm)
    if not np.isfinite(glob):
        return np.full(len(d), np.nan)
    d = np.where(np.isfinite(d), d, glob / 1.4826)
    size = max(3, int(round(window_s * fs_hz)) | 1)
    loc = 1.4826 * median_filter(d, size=(size, 1), mode="nearest")
    # never below half the whole signal's noise: a stretch that happens to be flat (a frozen
    # frame, the edge of a face gap) must not make every wiggle after it significant
    return np.maximum(loc.mean(axis=1), 0.5 * glob)


def events_find(
    signals: RegionSignals,
    *,
    k_noise: float = 5.0,
    min_amplitude_mm: float = 0.5,
    min_width_s: float = 0.015,
    max_width_s: float = 1.2,
    burst_gap_s: float = 0.35,
    edge_fraction: float = 0.25,
    edge_guard_s: float = 0.4,
) -> list[Event]:
    """Candidate events (all of kind ``twitch`` for now), one list over all regions.

    Parameters
    ----------
    signals : RegionSignals
    k_noise : float
        A peak must rise ``k_noise`` × the signal's local robust noise (:func:`noise_local`, mm)
        above its surroundings.
    min_amplitude_mm : float
        ... and at least this much, in mm.
    min_width_s, max_width_s : float
        Peak width at half prominence, in seconds (never under one sample). The sharpest
        twitches (a 30 ms rise) are about 0.03 s wide: at 30 fps one sample decides (0.03 s is
        0.9 samples), at 60 fps 0.03 s (1.8 samples) rejected them (benchmarks/framerate.py);
        0.015 s keeps the floor of one sample up to 66 fps (below 33 fps nothing changes).
    burst_gap_s : float
        Peaks whose surroundings are closer than this (seconds) form one event (a burst).
    edge_fraction : float
        Onset/offset: where the magnitude falls under this fraction of the peak.
    edge_guard_s : float
        Peaks this close (seconds) to the start or end of a tracked stretch are not events:
        there the running baseline sees one side only, and a posture change reads as a bump.
    """
    out: list[Event] = []
    fs = signals.fs_hz
    t = signals.t
    pre_n = max(1, int(round(0.1 * fs)))
    edge_n = int(round(EDGE_MAX_S * fs))
    for j, (region, side) in enumerate(signals.keys):
        d = signals.displacement_mm[:, j]
        noise = noise_estimate(d)
        if not np.isfinite(noise):
            continue
        mag = np.linalg.norm(np.where(np.isfinite(d), d, 0.0), axis=-1)
        local = noise_local(d, fs)
        thr = np.maximum(min_amplitude_mm, k_noise * local)
        peaks, props = find_peaks(
            mag,
            prominence=min_amplitude_mm,
            width=(max(1.0, min_width_s * fs), max_width_s * fs),
            rel_height=0.5,
            distance=max(1, int(round(PEAK_DISTANCE_S * fs))),
        )
        keep = props["prominences"] >= thr[peaks]
        inner = _inner(np.isfinite(d[:, 0]), int(round(edge_guard_s * fs)))
        peaks = peaks[keep]
        spans = []
        finite = np.isfinite(d[:, 0])
        for p in peaks:
            a, b = _extent(mag, p, p, edge_fraction * mag[p], finite)
            # the rise and the return must both be seen: an event cut by the start or end of
            # the tracked stretch cannot be told from a posture step and is not measured
            starts_cut = a == 0 or not finite[a - 1]
            ends_cut = b == len(mag) - 1 or not finite[b + 1]
            if starts_cut or ends_cut or not inner[p]:
                continue
            spans.append([a, p, b, a, b])  # start, peak, end, the peak pulse's start and end
        merged: list[list[int]] = []
        for s in spans:
            if merged and (t[s[0]] - t[merged[-1][2]]) <= burst_gap_s:
                m = merged[-1]
                m[2] = max(m[2], s[2])
                if mag[s[1]] > mag[m[1]]:
                    m[1], m[3], m[4] = s[1], s[0], s[2]
            else:
                merged.append(list(s))
        for m_i, (a, p, b, pa, pb) in enumerate(merged):
            # Amplitude and direction: the excursion from where the skin was just before the
            # event (mean over 0.1 s before its onset), not from the 2 s running median, which
            # the event's own samples and the slow drift of real footage pull about. Measured
            # (same detections): direction error calm 2.4 -> 2.1 deg, vitallens 4.3 -> 3.7,
            # hard 7.6 -> 6.0, franck 8.5 -> 6.6; amplitude ratio calm 0.814 -> 0.820,
            # vitallens 0.749 -> 0.766, franck 0.762 -> 0.770, hard 0.744 -> 0.724.
            vec = d[p]
            pre = d[max(0, a - pre_n) : a]
            ref = None
            if len(pre) == pre_n and np.all(np.isfinite(pre)):
                ref = pre.mean(axis=0)
                vec = d[p] - ref
            # Onset and offset as reported: where the movement is within EDGE_FRACTION of its
            # peak (the rise on the running-baseline magnitude, the return on the distance from
            # where the skin was before); not past the neighbouring events of this signal.
            level = max(EDGE_FRACTION * mag[p], EDGE_K_NOISE * local[p])
            first = max(merged[m_i - 1][2] if m_i else 0, a - edge_n)
            last = min(merged[m_i + 1][0] if m_i + 1 < len(merged) else len(mag) - 1, b + edge_n)
            back = mag
            if ref is not None:  # only where the offset walk can look: b .. last + 1
                back = mag.copy()
                w = slice(b, min(last + 2, len(mag)))
                back[w] = np.linalg.norm(np.nan_to_num(d[w] - ref), axis=-1)
            onset = _crossing(mag, a, -1, level, first - 1, finite, t)
            offset = _crossing(back, b, +1, level, last + 1, finite, t)
            out.append(
                Event(
                    kind="twitch",
                    region=region,
                    side=side,
                    t_start_s=float(t[a]),
                    t_peak_s=float(t[p]),
                    t_end_s=float(t[b]),
                    amplitude_mm=float(np.hypot(*vec)),
                    direction_deg=float(direction_deg(vec[0], vec[1])),
                    pulse_count=_pulses(mag, a, b, PULSE_FRACTION * mag[p], k_noise * local[p], fs),
                    snr=float(min(mag[p] / max(local[p], 1e-6), 999.0)),
                    rise_s=float(t[p] - t[pa]),
                    fall_s=float(t[pb] - t[p]),
                    onset_s=float(min(onset, t[p])),
                    offset_s=float(max(offset, t[p])),
                )
            )
    out.sort(key=lambda e: (e.t_peak_s, e.region, e.side))
    return out


#: Peaks of one signal at least this far apart (seconds, rounded to samples); a smaller peak
#: closer to a larger one is not a peak of its own. It was ``int(0.15 * fs)`` samples: 0.133 s
#: at 30 fps but 0.15 s at 60, where a burst whose pulses came 0.133-0.15 s apart lost its
#: middle pulses and fell apart into two events (benchmarks/framerate.py). 0.13 s gives the same
#: samples as before from 14 to 33 fps, and 0.133 s at 60.
PEAK_DISTANCE_S = 0.13


#: Reported onset and offset: where the movement is within this fraction of its peak. The 25 %
#: edges that detection, bursts and kinds use cut a twitch's fast rise and slow return short:
#: measured on injected twitches (benchmarks/accuracy.py), they gave a median 0.36 of the true
#: duration and 0.00 s for 1 in 6 (a 100 ms pulse is one frame above 25 % at 30 fps).
EDGE_FRACTION = 0.1
#: ... or where it falls into the noise (this many times the local noise), if that is higher.
EDGE_K_NOISE = 3.0
#: ... and at most this far (s) beyond the 25 % edges.
EDGE_MAX_S = 0.4


#: A pulse of a burst: a peak inside the event's span that stands out by this fraction of the
#: event's peak (and, like any event, by ``k_noise`` x the local noise), at least
#: :data:`PULSE_DISTANCE_S` from the next. Counting only the peaks that qualify as events on
#: their own (at least 0.5 mm above their surroundings, 0.15 s apart) found the right count for
#: 12 of 31 injected bursts on the calm set (seeds 0-2) and 5 of 29 on vitallens 1; this finds
#: 19 and 10. Single twitches read as one pulse as before (97 of 97 and 102 of 104).
PULSE_FRACTION = 0.25
PULSE_DISTANCE_S = 0.06


def _pulses(mag: np.ndarray, a: int, b: int, min_fraction_mm: float, min_noise_mm: float,
            fs: float) -> int:  # fmt: skip
    """Number of pulses of the event spanning samples ``a``..``b`` of ``mag`` (at least 1)."""
    seg = np.r_[0.0, mag[a : b + 1], 0.0]  # a pulse may peak on the span's edge sample
    peaks, _ = find_peaks(seg, prominence=max(min_fraction_mm, min_noise_mm),
                          distance=max(1, int(round(PULSE_DISTANCE_S * fs))))  # fmt: skip
    return max(1, len(peaks))


def _walk(m: np.ndarray, i: int, step: int, level: float, ok: np.ndarray | None = None,
          stop: int | None = None) -> int:  # fmt: skip
    """``i`` moved by ``step`` (-1 or +1) while the next sample is above ``level`` (and ``ok``,
    where given), short of index ``stop`` and of the array's ends."""
    while (0 <= i + step < len(m) and i + step != stop and m[i + step] > level
           and (ok is None or ok[i + step])):  # fmt: skip
        i += step
    return i


def _crossing(
    m: np.ndarray, i: int, step: int, level: float, stop: int, ok: np.ndarray, t: np.ndarray
) -> float:
    """The time ``m`` crosses ``level`` walking from sample ``i`` (:func:`_walk`), interpolated
    between the last sample above it and the next; the last sample's time when the walk was
    stopped otherwise."""
    j = _walk(m, i, step, level, ok, stop)
    k = j + step
    if 0 <= k < len(m) and ok[k] and m[k] <= level < m[j]:
        return float(t[j] + (m[j] - level) / (m[j] - m[k]) * (t[k] - t[j]))
    return float(t[j])


def _extent(mag: np.ndarray, a: int, b: int, level: float,
            ok: np.ndarray | None = None) -> tuple[int, int]:  # fmt: skip
    """``a`` moved back and ``b`` forward while the neighbouring sample stays above ``level``
    (and ``ok``, where given)."""
    return _walk(mag, a, -1, level, ok), _walk(mag, b, +1, level, ok)


def _inner(valid: np.ndarray, guard: int) -> np.ndarray:
    """``valid`` less ``guard`` samples at both ends of each of its runs."""
    out = np.zeros(len(valid), bool)
    for a, b in _segments(valid):
        out[a + guard : b - guard] = True
    return out


# -- 2. grouping --------------------------------------------------------------------------------
def _group_of(region: str) -> str:
    return "eye" if region in EYE_REGIONS else "mouth" if region in MOUTH_REGIONS else region


def events_group(events: list[Event], *, within_s: float = 0.12,
                 together=None) -> list[Event]:  # fmt: skip
    """Merge simultaneous candidates of one side and region group into the strongest one.

    The merged-away regions are kept by name in ``also_moved``. ``together(e, f)`` says whether
    two candidates are one movement; by default, when their peaks are within ``within_s``.
    """
    if together is None:

        def together(e: Event, f: Event) -> bool:
            return abs(f.t_peak_s - e.t_peak_s) <= within_s

    remaining = sorted(events, key=lambda e: -e.amplitude_mm)
    kept: list[Event] = []
    used = [False] * len(remaining)
    for i, e in enumerate(remaining):
        if used[i]:
            continue
        used[i] = True
        others = []
        for j in range(i + 1, len(remaining)):
            f = remaining[j]
            if used[j] or f.side != e.side or _group_of(f.region) != _group_of(e.region):
                continue
            if together(e, f):
                used[j] = True
                others.append(f.region)
        kept.append(replace(e, also_moved=tuple(sorted(set(others) - {e.region}))))
    kept.sort(key=lambda e: (e.t_peak_s, e.region, e.side))
    return kept


#: Head rotation (degrees per second) above which a candidate is a movement (see
#: :func:`events_classify`).
MAX_HEAD_DPS = 45.0


# -- 3. kinds -------------------------------------------------------------------------------------
#: Blendshapes that do not carry voluntary expression (name prefixes): gaze, blinks and lid
#: aperture belong to the eyes' own events; everything else (brows, cheeks, jaw, mouth, nose)
#: is expression (speech, smiles, frowns).
NON_EXPRESSION_BLENDSHAPES = ("_neutral", "eyeBlink", "eyeLook", "eyeSquint", "eyeWide")


#: Blendshapes that a twitch of a region itself drives (name prefixes, both sides): they are left
#: out of the expression measure for that region's events, so a twitch cannot veto itself.
#: Whole-mouth expressions (smile, frown, jaw) stay in for every region.
REGION_BLENDSHAPES = {
    "upper_lip": ("mouthUpperUp", "noseSneer"),
    "lower_lip": ("mouthLowerDown",),
    "mouth_corner": ("mouthDimple", "mouthStretch"),
    "cheek": ("cheekSquint", "cheekPuff"),
    "lower_eyelid": ("cheekSquint",),
    "upper_eyelid": (),
    "brow": ("browDown", "browInnerUp", "browOuterUp"),
    "nose": ("noseSneer",),
    "chin": ("mouthShrugLower",),
}  # fmt: skip


def blendshape_ranges(signals: RegionSignals, *, window_s: float = 0.4) -> np.ndarray:
    """How far each blendshape moves around each grid sample: max - min over ``window_s``
    seconds, shape (m, 52); NaN where the window holds no tracked face. Computed once, summed
    over different blendshape sets by :func:`expression_activity`."""
    b = np.where(np.isfinite(signals.blendshapes), signals.blendshapes, np.nan)
    half = max(1, int(round(window_s * signals.fs_hz / 2)))
    n = len(b)
    out = np.full(b.shape, np.nan)
    for i in range(n):
        w = b[max(0, i - half) : min(n, i + half + 1)]
        if np.all(np.isnan(w)):
            continue
        out[i] = np.nanmax(w, axis=0) - np.nanmin(w, axis=0)
    return out


def expression_activity(
    signals: RegionSignals,
    *,
    window_s: float = 0.4,
    exclude: tuple[str, ...] = (),
    ranges: np.ndarray | None = None,
) -> np.ndarray:
    """How much the face's expression changes around each grid sample (sum of blendshape
    changes over ``window_s`` seconds; dimensionless, 0 = still). Blendshapes whose names start
    with one of ``exclude`` are left out. ``ranges``: :func:`blendshape_ranges` of ``signals``
    for this window, when already computed."""
    names = signals.blendshape_names
    skip = NON_EXPRESSION_BLENDSHAPES + tuple(exclude)
    cols = [i for i, n in enumerate(names) if not n.startswith(skip)]
    if not cols or not len(signals.t):
        return np.zeros(len(signals.t))
    if ranges is None:
        ranges = blendshape_ranges(signals, window_s=window_s)
    return np.nansum(ranges[:, cols], axis=1)


#: Blendshapes that rise with a blink on real faces (name prefixes): at two real blinks of a man
#: at rest (vitallens sample 1), browInnerUp rose 0.28 and browOuterUp 0.18-0.20 more than
#: elsewhere in the clip, enough to read as an expression and veto the lip, cheek and mouth-
#: corner twitches injected near a blink. Leaving them out near blinks: recall on that clip
#: 0.77 -> 0.85 (seeds 0-11, where this was found) and 0.63 -> 0.83 (seeds 12-17, injected
#: afterwards), no false twitch added there; calm clips 0.944 -> 0.956.
BLINK_BLENDSHAPES = ("browInnerUp", "browOuterUp")


def near_blink(signals: RegionSignals, blinking: np.ndarray | None = None) -> np.ndarray:
    """Grid samples within 0.2 s of a blink (both eyes' blink blendshapes rising: ``blinking``,
    computed from ``signals`` when not given)."""
    if blinking is None:
        blinking = blink_rise(signals) >= BLINK_RISE
    size = max(3, int(round(0.4 * signals.fs_hz)) | 1)
    return maximum_filter1d(blinking.astype(np.uint8), size=size, mode="nearest").astype(bool)


def expression_level(
    signals: RegionSignals,
    region: str,
    *,
    ranges: np.ndarray | None = None,
    blink: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`expression_activity` for events of ``region`` (its own blendshapes left out), less
    its median over the video (a face's own blendshape jitter differs from face to face). Within
    0.2 s of a blink (both eyes closing) the blendshapes that rise with blinks are left out too:
    a blink is not an expression. ``ranges`` (:func:`blendshape_ranges`) and ``blink``
    (:func:`near_blink`) of ``signals`` may be passed when already computed."""
    own = REGION_BLENDSHAPES.get(region, ())
    valid = signals.valid
    if ranges is None:
        ranges = blendshape_ranges(signals)

    def level(exclude):
        act = expression_activity(signals, exclude=exclude, ranges=ranges)
        return act - np.median(act[valid]) if np.any(valid) else act

    act = level(own)
    if region == "brow":
        return act
    near = near_blink(signals) if blink is None else blink
    if not np.any(near):
        return act
    return np.where(near, level(own + BLINK_BLENDSHAPES), act)


def events_classify(
    events: list[Event],
    signals: RegionSignals,
    *,
    blink_within_s: float = 0.1,
    contra_ratio: float = 0.5,
    max_twitch_s: float = 0.5,
    expression_max: float = 0.4,
    widespread_groups: int = 3,
    max_head_dps: float = MAX_HEAD_DPS,
    max_rise_s: float = 0.2,
    raw: RegionSignals | None = None,
) -> list[Event]:
    """Assign ``blink``, ``movement`` or ``twitch`` to each event (see module doc).

    Parameters
    ----------
    raw : RegionSignals, optional
        When ``signals`` is a residual (:func:`residual_signals`), the signals it was taken
        from. A residual leaks an event into the other side (each side less what the *other*
        side predicts, and blinks teach the fit that the two lids move alike): a one-sided lid
        twitch showed a mirror image on the still side, and was called "both sides moved".
        So a residual event whose own region moved less than ``contra_ratio`` as far in these
        is that image, not an event, and the other side counts as moving only if it moved in
        these too.
    contra_ratio : float
        The same region on the other side moving at least this fraction as far at the peak
        makes the event bilateral (a ``movement`` with side ``both``).
    max_twitch_s : float
        Events whose duration per pulse exceeds this (seconds) are movements (measured between
        the 25 %-of-peak crossings, so a twitch of 0.6 s in all measures about 0.4 s).
    expression_max : float
        Blendshape activity (:func:`expression_activity`, less its median over the video, so
        that a face's own blendshape jitter does not count) above this at the peak is an
        expression, hence a movement.
    widespread_groups : int
        This many other regions (either side) moving at least half as far within 0.15 s:
        a movement.
    max_rise_s : float
        Events whose strongest pulse takes longer than this (seconds) to rise from 25 % of its
        peak to the peak are movements (a burst's own start does not count: a train of fast
        clonic pulses lasting seconds is a burst of twitches, not a slow movement). A twitch
        rises in tens of milliseconds; every injected calm-set twitch that was found rose
        within 0.17 s as measured, while most false events on expressive footage rose over
        0.12-0.46 s.
    max_head_dps : float
        Head rotation faster than this (degrees per second) at the peak: a movement. A fast
        turn or nod moves the face in 3-D, which the 2-D head-motion fit does not remove; on the
        expressive clip the false twitches of a 80-90 deg/s head swing went away at 45, and no
        injected twitch was lost (all sat at <= 13 deg/s).
    """
    if not events:
        return []
    closing = blink_rise(signals) >= BLINK_RISE
    ranges, blink = blendshape_ranges(signals), near_blink(signals, closing)
    acts = {region: expression_level(signals, region, ranges=ranges, blink=blink)
            for region in {e.region for e in events}}  # fmt: skip
    t = signals.t
    head_speed = signals.head_speed()

    # An upper-lid event is blink-like when the lid moves down, or when both eyes' blink
    # blendshapes rise at its peak: on a small, compressed face the flow of a closing lid can
    # point well off down (a real annotated blink read 329 deg on one lid), and a lid event can
    # be grouped into a stronger lower-lid one of the same eye (then only the blendshapes tell).
    def closing_at(e: Event) -> bool:
        return bool(np.any(closing[(t >= e.t_peak_s - 0.1) & (t <= e.t_peak_s + 0.1)]))

    blinkish = [
        e for e in events
        if (e.region == "upper_eyelid"
            and (angle_diff_deg(e.direction_deg, 270.0) <= 60.0 or closing_at(e)))
        or ("upper_eyelid" in e.also_moved and closing_at(e))
    ]  # fmt: skip
    # Pairs of one left and one right blink-like event within blink_within_s: one blink each,
    # told by an upper-lid event of the pair where there is one.
    blink_of: dict[int, bool] = {}  # id -> True: reports the blink; False: its partner
    for e in blinkish:
        if id(e) in blink_of:
            continue
        for f in blinkish:
            if (id(f) not in blink_of and f.side != e.side
                    and abs(f.t_peak_s - e.t_peak_s) <= blink_within_s):  # fmt: skip
                lead = f if e.region != "upper_eyelid" and f.region == "upper_eyelid" else e
                blink_of[id(lead)] = True
                blink_of[id(f if lead is e else e)] = False
                break
    out: list[Event] = []
    for e in events:
        if any(
            o.side == "both" and o.region == e.region and abs(o.t_peak_s - e.t_peak_s) <= 0.15
            for o in out
        ):
            continue  # the other side of a bilateral movement already reported
        if raw is not None and (
            _peak_near(raw, e.region, e.side, e.t_peak_s) < contra_ratio * e.amplitude_mm
        ):
            continue  # the residual's image of the other side's event
        reason = ""
        kind = "twitch"
        side = e.side
        i = int(np.clip(np.searchsorted(t, e.t_peak_s), 0, len(t) - 1))
        if id(e) in blink_of:
            if blink_of[id(e)]:
                out.append(replace(e, kind="blink", side="both", reason="both upper eyelids"))
            continue  # else: reported as one blink with its partner
        contra = _contra_amplitude(e, signals)
        if raw is not None:
            contra = min(contra, _contra_amplitude(e, raw))
        # Other regions moving at least half as far at the same moment (either side).
        simultaneous = {
            (f.region, f.side) for f in events
            if abs(f.t_peak_s - e.t_peak_s) <= 0.15 and f.amplitude_mm >= 0.5 * e.amplitude_mm
        }  # fmt: skip
        if contra >= contra_ratio * e.amplitude_mm:
            kind, side, reason = "movement", "both", "both sides moved"
        elif (e.duration_s / e.pulse_count > max_twitch_s
              or _rise_s(e) > max_rise_s):  # fmt: skip
            kind, reason = "movement", "too slow for a twitch"
        elif acts[e.region][i] > expression_max:
            kind, reason = "movement", "facial expression"
        elif len({r for r, _ in simultaneous} - {e.region}) >= widespread_groups:
            kind, reason = "movement", "many regions moved"
        elif head_speed[i] > max_head_dps:
            kind, reason = "movement", "fast head motion"
        out.append(replace(e, kind=kind, side=side, reason=reason))
    return out


def _rise_s(e: Event) -> float:
    """Rise time of ``e``'s strongest pulse (seconds); of the whole event when unknown."""
    return e.rise_s if np.isfinite(e.rise_s) else e.t_peak_s - e.t_start_s


def _peak_pulse(e: Event) -> tuple[float, float]:
    """Start and end (seconds) of ``e``'s strongest pulse; the whole event's when unknown."""
    fall = e.fall_s if np.isfinite(e.fall_s) else e.t_end_s - e.t_peak_s
    return e.t_peak_s - _rise_s(e), e.t_peak_s + fall


def _contra_amplitude(e: Event, signals: RegionSignals) -> float:
    """Peak displacement (mm) of the same region on the other side around ``e``'s peak."""
    return _peak_near(signals, e.region, flip_side(e.side), e.t_peak_s)


def _peak_near(signals: RegionSignals, region: str, side: str, t_s: float) -> float:
    """Peak displacement (mm) of ``(region, side)`` within 0.06 s of ``t_s``; 0 when absent."""
    key = (region, side)
    if key not in signals.keys:
        return 0.0
    d = signals.column(*key)
    sel = (signals.t >= t_s - 0.06) & (signals.t <= t_s + 0.06)
    if not np.any(sel):
        return 0.0
    mag = np.linalg.norm(d[sel], axis=-1)
    mag = mag[np.isfinite(mag)]
    return float(mag.max()) if mag.size else 0.0


# -- 4. co-occurrence, ids, confidence --------------------------------------------------------
def events_link(events: list[Event], *, link_s: float = 0.15) -> list[Event]:
    """Number events (1..N, by peak time) and link one-sided eye and mouth twitches on the same
    side within ``link_s`` seconds in ``co_occurring``; set a confidence in [0, 1]."""
    events = sorted(events, key=lambda e: (e.t_peak_s, e.region, e.side))
    events = [replace(e, id=i + 1) for i, e in enumerate(events)]
    links: dict[int, list[int]] = {e.id: [] for e in events}
    tw = [e for e in events if e.kind == "twitch" and e.side in ("left", "right")]
    for a in tw:
        for b in tw:
            if a.id >= b.id or a.side != b.side:
                continue
            groups = {_group_of(a.region), _group_of(b.region)}
            if groups == {"eye", "mouth"} and abs(a.t_peak_s - b.t_peak_s) <= link_s:
                links[a.id].append(b.id)
                links[b.id].append(a.id)
    out = []
    for e in events:
        conf = float(np.clip((e.snr - 4.0) / 8.0, 0.0, 1.0)) if np.isfinite(e.snr) else 1.0
        out.append(replace(e, co_occurring=tuple(sorted(links[e.id])), confidence=conf))
    return out


#: Both eyes' blink blendshapes rising this much (:func:`blink_rise`): a blink.
#: Measured: blink-related false eyelid events rose 0.16-0.43 on both eyes; 40 of 42 injected
#: eyelid twitches rose at most 0.08 on either (the other two fell on a real blink).
BLINK_RISE = 0.1
#: ... or above their lowest value this many seconds before: a blink into a glance down keeps
#: the eyes half shut, the running median follows, and a real blink a person had marked rose
#: only 0.09 above it (0.27-0.28 above the value 0.25 s before).
BLINK_ONSET_S = 0.25


def blink_rise(signals: RegionSignals, *, window_s: float = 1.0) -> np.ndarray:
    """The smaller of the two eyes' rise of ``eyeBlink*`` (0..1): high only when both eyes close
    together. Each eye's rise is the larger of its rise above its ``window_s`` running median
    and above its lowest value in the last :data:`BLINK_ONSET_S`. Zeros when the blendshapes
    are missing."""
    names = signals.blendshape_names
    if "eyeBlinkLeft" not in names or "eyeBlinkRight" not in names or not len(signals.t):
        return np.zeros(len(signals.t))
    size = max(3, int(round(window_s * signals.fs_hz)) | 1)
    k = max(2, int(round(BLINK_ONSET_S * signals.fs_hz)) + 1)
    rise = []
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        b = np.nan_to_num(signals.blendshapes[:, names.index(name)], nan=0.0)
        before = sliding_window_view(np.r_[np.full(k - 1, b[0]), b], k).min(axis=1)
        rise.append(np.maximum(b - median_filter(b, size=size, mode="nearest"), b - before))
    return np.minimum(*rise)


def residual_signals(
    signals: RegionSignals, *, find_kwargs: dict | None = None, **coupling_kwargs
) -> RegionSignals:
    """Each side less what the other side explains (:func:`~.coupling.coupled_residual`), in
    two passes: events found in the first pass are left out of the second pass's fits, so that
    an event cannot pull the fit toward itself (which would shrink its amplitude)."""
    first = coupled_residual(signals, **coupling_kwargs)
    exclude = np.zeros(first.displacement_mm.shape[:2], bool)
    t = first.t
    for e in events_find(first, **(find_kwargs or {})):
        j = first.keys.index((e.region, e.side))
        exclude[(t >= e.t_start_s - 0.1) & (t <= e.t_end_s + 0.1), j] = True
    return coupled_residual(signals, exclude=exclude, **coupling_kwargs)


def events_process(
    signals: RegionSignals,
    *,
    coupled: bool = True,
    classify_kwargs: dict | None = None,
    coupling_kwargs: dict | None = None,
    **find_kwargs,
) -> list[Event]:
    """find -> group -> classify -> link, with the defaults of each step.

    With ``coupled`` (the default), twitches are found in :func:`residual_signals` (each side
    less what the other side explains), blinks and movements in the raw signals. Without it,
    everything comes from the raw signals.
    """
    raw = events_classify(events_group(events_find(signals, **find_kwargs)), signals)
    if not coupled:
        return events_link(events_measured(raw))
    resid = residual_signals(signals, find_kwargs=find_kwargs, **(coupling_kwargs or {}))
    cand = events_classify(events_group(events_find(resid, **find_kwargs)), resid, raw=signals,
                           **(classify_kwargs or {}))  # fmt: skip
    # an eyelid event during a blink (any movement of both eyelids, or both eyes' blink
    # blendshapes rising) is the blink's uneven part, not a twitch: on one frame the two
    # cannot be told apart. "During" is the bilateral event's strongest pulse, not all of it:
    # a blink merged with earlier lid pulses into one burst spanned up to 1 s before its peak
    # on real footage, and an injected one-sided lid twitch could be such a pulse itself.
    lids = [e for e in raw if e.region in EYE_REGIONS and e.side == "both"]
    both_blink = blink_rise(signals) >= BLINK_RISE
    t = signals.t

    def in_blink(e: Event) -> bool:
        near = (t >= e.t_peak_s - 0.1) & (t <= e.t_peak_s + 0.1)
        return bool(np.any(both_blink[near])) or any(
            b0 - 0.1 <= e.t_peak_s <= b1 + 0.1 for b0, b1 in map(_peak_pulse, lids)
        )

    twitches = [
        e for e in cand
        if e.kind == "twitch" and not (e.region in EYE_REGIONS and in_blink(e))
    ]  # fmt: skip
    return events_link(events_measured([e for e in raw if e.kind != "twitch"] + twitches))


def events_measured(events: list[Event]) -> list[Event]:
    """``events`` with ``t_start_s``/``t_end_s`` set to their measured onset and offset (where
    the movement is within :data:`EDGE_FRACTION` of its peak), where those were measured."""
    return [
        replace(e, t_start_s=min(e.onset_s, e.t_peak_s), t_end_s=max(e.offset_s, e.t_peak_s))
        if np.isfinite(e.onset_s) and np.isfinite(e.offset_s) else e
        for e in events
    ]  # fmt: skip


# -- sustained one-sided contractions -----------------------------------------------------------
#: Baseline (running median, seconds) of the signals :func:`sustained_find` reads: long enough
#: that a contraction held for a few seconds is not absorbed by it, as it is by the twitch
#: signals' 2 s baseline (a 2 mm contraction held 2 s gave no event at all there).
SUSTAINED_BASELINE_S = 10.0

SUSTAINED_REASON = "sustained one-sided contraction (a tonic spasm, or a one-sided expression held)"


def sustained_find(
    signals: RegionSignals,
    *,
    min_hold_s: float = 0.6,
    k_noise: float = 6.0,
    min_amplitude_mm: float = 1.5,
    max_onset_s: float = 0.3,
    contra_ratio: float = 0.5,
    max_head_dps: float = MAX_HEAD_DPS,
) -> list[Event]:
    """One-sided displacements that rise fast and are held (tonic spasm), as ``movement`` events
    with reason :data:`SUSTAINED_REASON`.

    A twitch lasts at most ~0.6 s; the tonic phase of hemifacial spasm holds a contraction for
    seconds, which the twitch signals' short baseline absorbs. Read from signals with a long
    baseline (``signals.rebaselined(SUSTAINED_BASELINE_S)``), raw, not the
    coupled residual (its 3 s local fit explains a plateau away). Kind ``movement``, not
    ``twitch``: on real talking and laughing footage, one-sided expressions held for a second
    look the same (they are not counted in the twitch rate, but they are listed and counted).

    Parameters
    ----------
    min_hold_s : float
        The displacement stays above threshold at least this long (seconds).
    k_noise, min_amplitude_mm : float
        Threshold: the larger of ``k_noise`` × the signal's robust noise and this many mm, on
        the displacement magnitude smoothed by a 0.2 s running median. At 1.0 mm a calm
        benchmark clip (small face, slow synthetic head motion) gave a 1.1 mm "hold" of 3 s on
        one lower lid in 2 of 6 injected seeds: the flow's slow drift, not a contraction.
    max_onset_s : float
        Rise from 25 % to 75 % of the held level within this many seconds (a contraction, not
        a drift).
    contra_ratio : float
        The same region of the other side moving at least this fraction as far (median over the
        hold): both sides, not reported.
    max_head_dps : float
        Median head rotation speed over the hold above this: not reported.
    """
    out: list[Event] = []
    fs = signals.fs_hz
    t = signals.t
    if len(t) < 3:
        return out
    win = max(3, int(round(0.2 * fs)) | 1)
    speed = signals.head_speed()
    mags = {}
    for j, key in enumerate(signals.keys):
        d = signals.displacement_mm[:, j]
        m = np.linalg.norm(np.where(np.isfinite(d), d, 0.0), axis=-1)
        mags[key] = median_filter(m, size=win, mode="nearest")
    for j, (region, side) in enumerate(signals.keys):
        d = signals.displacement_mm[:, j]
        noise = noise_estimate(d)
        if not np.isfinite(noise):
            continue
        mag = mags[(region, side)]
        above = (mag > max(min_amplitude_mm, k_noise * noise)) & np.isfinite(d[:, 0])
        for a, b in _segments(above):
            if t[b - 1] - t[a] < min_hold_s or a == 0 or b == len(t):
                continue  # too short, or cut by the recording's start or end
            level = float(np.median(mag[a:b]))
            i25, end = _extent(mag, a, b - 1, 0.25 * level)  # onset and offset at 25 %
            i75 = i25
            while i75 < b - 1 and mag[i75] < 0.75 * level:
                i75 += 1
            if t[i75] - t[i25] > max_onset_s:
                continue
            other = mags.get((region, flip_side(side)))
            if other is not None and np.median(other[a:b]) >= contra_ratio * level:
                continue
            if np.median(speed[a:b]) > max_head_dps:
                continue
            if region in EYE_REGIONS and _both_eyes_act(signals, i25, b):
                continue  # a gaze shift or a half-closing of both eyes, not one-sided
            p = a + int(np.argmax(mag[a:b]))
            vec = np.nanmedian(d[a:b], axis=0)
            out.append(Event(
                kind="movement", region=region, side=side, t_start_s=float(t[i25]),
                t_peak_s=float(t[p]), t_end_s=float(t[end]), amplitude_mm=level,
                direction_deg=float(direction_deg(vec[0], vec[1])),
                snr=float(min(level / max(noise, 1e-6), 999.0)), reason=SUSTAINED_REASON,
                rise_s=float(t[i75] - t[i25]),
            ))  # fmt: skip
    # one contraction shows in neighbouring regions of one side: keep the strongest of each
    # region group (eye / mouth) among overlapping ones, the others in also_moved
    return events_group(out, together=lambda e, f: min(e.t_end_s, f.t_end_s) >
                        max(e.t_start_s, f.t_start_s))  # fmt: skip


#: Eye blendshapes (left/right pairs) whose joint rise means both eyes acted together.
_EYE_ACTIONS = ("eyeBlink", "eyeLookDown", "eyeLookUp", "eyeSquint", "eyeWide")


def _both_eyes_act(signals: RegionSignals, a: int, b: int, *, rise: float = 0.1) -> bool:
    """Both eyes' blink, gaze or squint blendshapes rose alike (each by ``rise`` or more, the
    smaller at least half the larger) over samples ``a:b`` against the 0.5 s before: looking
    down or half-closing both eyes moves the lids of both sides, which the region flow of one
    side can over-read (seen at rest: 4.5 mm on one lower lid while looking down, both eyes'
    blendshapes up by 0.5-0.7)."""
    names = signals.blendshape_names
    pre = slice(max(0, a - max(1, int(round(0.5 * signals.fs_hz)))), max(a, 1))
    for action in _EYE_ACTIONS:
        cols = [names.index(action + s) for s in ("Left", "Right") if action + s in names]
        if len(cols) < 2:
            continue
        bs = signals.blendshapes[:, cols]
        up = np.nanmedian(bs[a:b], axis=0) - np.nanmedian(bs[pre], axis=0)
        # both rose, and alike: a wink (one eye closing) that the other eye's blendshape
        # echoes a little is still one-sided
        if np.all(np.isfinite(up)) and up.min() >= max(rise, 0.5 * up.max()):
            return True
    return False


#: Eye and mouth contractions of one side beginning this close (seconds) are linked.
SUSTAINED_LINK_S = 0.3


def sustained_merge(events: list[Event], sustained: list[Event]) -> list[Event]:
    """``events`` (from :func:`events_process`) plus ``sustained``; movements of the same region
    and side that peak inside a sustained event are its onset seen by the short baseline and
    are dropped. Ids, links and confidences are redone (:func:`events_link`); an eye and a mouth
    contraction of one side that begin within ``link_s`` of each other are linked in
    ``co_occurring`` (the tonic form of the hemifacial-spasm sign)."""

    def inside(e: Event) -> bool:
        return any(s.side == e.side and (s.region == e.region or e.region in s.also_moved)
                   and s.t_start_s <= e.t_peak_s <= s.t_end_s for s in sustained)  # fmt: skip

    keep = [e for e in events if not (e.kind == "movement" and inside(e))]
    out = events_link(keep + list(sustained))
    held = [e for e in out if e.reason == SUSTAINED_REASON]
    links = {e.id: set(e.co_occurring) for e in held}
    for a in held:
        for b in held:
            if (a.id < b.id and a.side == b.side
                    and {_group_of(a.region), _group_of(b.region)} == {"eye", "mouth"}
                    and abs(a.t_start_s - b.t_start_s) <= SUSTAINED_LINK_S):  # fmt: skip
                links[a.id].add(b.id)
                links[b.id].add(a.id)
    return [replace(e, co_occurring=tuple(sorted(links[e.id]))) if e.id in links else e
            for e in out]  # fmt: skip
