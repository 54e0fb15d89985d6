"""Step 1 of the detector: candidate events from peaks of each region's displacement.

Per (region, side), peaks of the displacement magnitude by prominence above a robust noise floor
and by width *in seconds*; onset/offset where the magnitude falls back under a fraction of the
peak; pulses closer than ``burst_gap_s`` merged into one event with a pulse count. Peaks at the
very edges of a tracked stretch are not events.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from ..conventions import (
    direction_deg,
)
from .event import Event
from .regions import RegionSignals, _segments


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
    """Time-varying robust noise (mm) of a baseline-removed 2-D displacement.

    1.4826 × the running median of |displacement| per axis over ``window_s`` seconds, averaged over
    axes.

    Expressive stretches (speech, laughter) raise it; quiet stretches keep it low, so that a
    threshold built on it is strict where the face is busy and sensitive where it is still.
    """
    d = np.abs(np.asarray(displacement_mm, float))
    glob = noise_estimate(displacement_mm)
    if not np.isfinite(glob):
        return np.full(len(d), np.nan)
    d = np.where(np.isfinite(d), d, glob / 1.4826)
    size = max(3, int(round(window_s * fs_hz)) | 1)
    # one axis at a time: scipy's 1-D median filter is ~30x faster than the same window run as
    # an n-D (size, 1) filter, with the same numbers
    loc = 1.4826 * np.stack([median_filter(d[:, i], size=size, mode="nearest")
                             for i in range(d.shape[1])], axis=1)  # fmt: skip
    # never below half the whole signal's noise: a stretch that happens to be flat (a frozen
    # frame, the edge of a face gap) must not make every wiggle after it significant
    return np.maximum(loc.mean(axis=1), 0.5 * glob)


#: An event's size and direction are its excursion from where the skin was over this long
#: (seconds) before its onset (:func:`events_find`; read again at the frames by
#: ``detect._peaks_on_frames``).
PRE_ONSET_S = 0.1


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
    pre_n = max(1, int(round(PRE_ONSET_S * fs)))
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
    """Return the number of pulses in samples ``a``..``b`` of ``mag`` (at least 1)."""
    seg = np.r_[0.0, mag[a : b + 1], 0.0]  # a pulse may peak on the span's edge sample
    peaks, _ = find_peaks(seg, prominence=max(min_fraction_mm, min_noise_mm),
                          distance=max(1, int(round(PULSE_DISTANCE_S * fs))))  # fmt: skip
    return max(1, len(peaks))


def _walk(m: np.ndarray, i: int, step: int, level: float, ok: np.ndarray | None = None,
          stop: int | None = None) -> int:  # fmt: skip
    """Return ``i`` moved by ``step`` while the next sample is above ``level``.

    ``i`` moved by ``step`` (-1 or +1) while the next sample is above ``level`` (and ``ok``, where
    given), short of index ``stop`` and of the array's ends.
    """
    while (0 <= i + step < len(m) and i + step != stop and m[i + step] > level
           and (ok is None or ok[i + step])):  # fmt: skip
        i += step
    return i


def _crossing(
    m: np.ndarray, i: int, step: int, level: float, stop: int, ok: np.ndarray, t: np.ndarray
) -> float:
    """Return the time ``m`` crosses ``level`` walking from sample ``i`` (:func:`_walk`).

    Interpolated between the last sample above it and the next; the last sample's time when the walk
    was stopped otherwise.
    """
    j = _walk(m, i, step, level, ok, stop)
    k = j + step
    if 0 <= k < len(m) and ok[k] and m[k] <= level < m[j]:
        return float(t[j] + (m[j] - level) / (m[j] - m[k]) * (t[k] - t[j]))
    return float(t[j])


def _extent(mag: np.ndarray, a: int, b: int, level: float,
            ok: np.ndarray | None = None) -> tuple[int, int]:  # fmt: skip
    """Return ``a`` and ``b`` widened while the neighbouring sample stays above ``level``.

    ``a`` moved back and ``b`` forward while the neighbouring sample stays above ``level`` (and
    ``ok``, where given).
    """
    return _walk(mag, a, -1, level, ok), _walk(mag, b, +1, level, ok)


def _inner(valid: np.ndarray, guard: int) -> np.ndarray:
    """Return ``valid`` less ``guard`` samples at both ends of each of its runs."""
    out = np.zeros(len(valid), bool)
    for a, b in _segments(valid):
        out[a + guard : b - guard] = True
    return out


def events_measured(events: list[Event]) -> list[Event]:
    """Return ``events`` with ``t_start_s``/``t_end_s`` set to their measured onset and offset.

    ``events`` with ``t_start_s``/``t_end_s`` set to their measured onset and offset (where the
    movement is within :data:`EDGE_FRACTION` of its peak), where those were measured.
    """
    return [
        replace(e, t_start_s=min(e.onset_s, e.t_peak_s), t_end_s=max(e.offset_s, e.t_peak_s))
        if np.isfinite(e.onset_s) and np.isfinite(e.offset_s) else e
        for e in events
    ]  # fmt: skip
