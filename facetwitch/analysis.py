"""Analysis: events + summary + quality (+ complaint check) -> report.json, the contract.

``analysis_run`` is pure (a LandmarkTrack in, an :class:`Analysis` out). Writing the outputs
is :mod:`facetwitch.outputs`; the quality section is :mod:`facetwitch.quality`; the chain
that tracks, analyses and writes (``facetwitch analyze``) is :mod:`facetwitch.process`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import welch

from . import __version__
from .conventions import CO_OCCURRENCE_S, circular_mean_deg, direction_word, round_or_none
from .landmarks.track import LandmarkTrack
from .quality import quality_assess
from .signal import Event, RegionSignals, events_process, regions_signal

logger = logging.getLogger("facetwitch")

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one track: ``report`` is report.json's content."""

    report: dict
    events: tuple[Event, ...]
    signals: RegionSignals
    track: LandmarkTrack = field(repr=False)


# -- summary --------------------------------------------------------------------------------------
def summary_compute(events: list[Event], analysed_s: float) -> dict:
    """``summary`` section: counts, rates per minute, per region × side, rhythm, blink rate."""
    minutes = analysed_s / 60.0 if analysed_s > 0 else float("nan")
    twitches = [e for e in events if e.kind == "twitch"]
    blinks = [e for e in events if e.kind == "blink"]
    movements = [e for e in events if e.kind == "movement"]

    def rate(k: int):
        return round(k / minutes, 2) if np.isfinite(minutes) and minutes > 0 else None

    by_region = []
    keys = sorted(
        {(e.region, e.side) for e in twitches},
        key=lambda k: (-sum(1 for e in twitches if (e.region, e.side) == k), k),
    )
    for region, side in keys:
        evs = [e for e in twitches if (e.region, e.side) == (region, side)]
        mean_dir = circular_mean_deg(
            np.array([e.direction_deg for e in evs]), np.array([e.amplitude_mm for e in evs])
        )
        by_region.append(
            {
                "region": region,
                "side": side,
                "count": len(evs),
                "rate_per_min": rate(len(evs)),
                "median_amplitude_mm": round(float(np.median([e.amplitude_mm for e in evs])), 2),
                "mean_direction_deg": round_or_none(mean_dir, 1),
                "mean_direction": direction_word(mean_dir) if np.isfinite(mean_dir) else None,
                "median_duration_s": round(float(np.median([e.duration_s for e in evs])), 3),
            }
        )
    hemifacial = sorted({e.side for e in twitches if e.co_occurring})
    mean_dir = circular_mean_deg(
        np.array([e.direction_deg for e in twitches]),
        np.array([e.amplitude_mm for e in twitches]) if twitches else None,
    )
    return {
        "twitch_count": len(twitches),
        "twitch_rate_per_min": rate(len(twitches)),
        "blink_count": len(blinks),
        "blink_rate_per_min": rate(len(blinks)),
        "movement_count": len(movements),
        "sustained_count": sum(e.reason_code == "sustained" for e in movements),
        "analysed_s": round(float(analysed_s), 2),
        "by_region": by_region,
        "mean_direction_deg": round_or_none(mean_dir, 1),
        "mean_direction": direction_word(mean_dir) if np.isfinite(mean_dir) else None,
        "intervals": intervals_describe([e.t_peak_s for e in twitches]),
        "eye_mouth_co_occurrence": {
            "present": bool(hemifacial),
            "sides": hemifacial,
            "pairs": sum(len(e.co_occurring) for e in twitches) // 2,
            "pairs_by_side": {
                side: sum(len(e.co_occurring) for e in twitches if e.side == side) // 2
                for side in hemifacial
            },
            "note": (
                "eye and mouth on the same side twitched together (within "
                f"{CO_OCCURRENCE_S * 1000:.0f} ms): a sign seen in hemifacial spasm"
                if hemifacial
                else "no eye and mouth twitches together on one side"
            ),
        },
    }


#: Intervals varying less than this (coefficient of variation), over at least
#: :data:`RHYTHM_MIN_EVENTS` events, count as rhythmic.
RHYTHM_MAX_CV = 0.25
RHYTHM_MIN_EVENTS = 4


def intervals_describe(peaks_s, *, fs_hz: float = 20.0) -> dict:
    """Inter-event intervals (s) and whether the events recur rhythmically.

    Rhythmic: at least :data:`RHYTHM_MIN_EVENTS` events whose intervals vary by less than
    :data:`RHYTHM_MAX_CV` (coefficient of variation). For a rhythmic train, ``peak_hz`` is the
    frequency of the strongest peak of Welch's spectrum of the event train (the events as
    Gaussian pulses 0.15 median intervals wide, sampled at ``fs_hz`` Hz or finer). Bare
    impulses have every harmonic as strong as the rhythm itself, and the strongest bin was
    often a harmonic (a train every 2.0 s read 2.5 Hz, every 5.0 s 5.0 Hz); the pulses weaken
    the second harmonic to a quarter of the first. None when not rhythmic: the spectral peak of
    an irregular train means nothing.
    """
    peaks = np.sort(np.asarray(peaks_s, float))
    if peaks.size < 2:
        return {"count": int(peaks.size), "median_s": None, "cv": None, "rhythmic": False,
                "peak_hz": None}  # fmt: skip
    iv = np.diff(peaks)
    cv = float(np.std(iv) / np.mean(iv)) if np.mean(iv) > 0 else float("nan")
    rhythmic = bool(peaks.size >= RHYTHM_MIN_EVENTS and np.isfinite(cv) and cv < RHYTHM_MAX_CV)
    peak_hz = None
    if rhythmic:
        sigma_s = 0.15 * float(np.median(iv))
        fs = max(fs_hz, 4.0 / sigma_s)
        span = peaks[-1] - peaks[0] + 8 * sigma_s
        train = np.zeros(int(np.ceil(span * fs)) + 1)
        np.add.at(train, np.round((peaks - peaks[0] + 4 * sigma_s) * fs).astype(int), 1.0)
        train = gaussian_filter1d(train, sigma_s * fs)
        f, p = welch(train - train.mean(), fs=fs, nperseg=len(train))
        band = f > 1.5 / span  # above the window's own lowest bins
        if np.any(band) and np.max(p[band]) > 0:
            peak_hz = round(float(f[band][np.argmax(p[band])]), 3)
    return {
        "count": int(peaks.size),
        "median_s": round(float(np.median(iv)), 3),
        "cv": round_or_none(cv, 3),
        "rhythmic": rhythmic,
        "peak_hz": peak_hz,
    }


# -- run -------------------------------------------------------------------------------------------
def analysis_run(
    track: LandmarkTrack,
    *,
    mirrored: bool = False,
    complaint: str | None = None,
    complaint_flags: dict | None = None,
    markers: list[dict] | None = None,
    method: str = "flow",
    coupled: bool = True,
    settings: dict | None = None,
) -> Analysis:
    """Analyse a track: signals, events, summary, quality, complaint check (pure: no I/O).

    ``coupled=False`` finds twitches in the raw signals instead of in what the other side of
    the face does not explain (:func:`facetwitch.signal.events_process`): for comparison.
    ``settings``: detector settings other than the defaults, as keyword arguments of
    :func:`~facetwitch.signal.events_process` (``find``, ``classify``, ``coupling``,
    ``sustained``, ``min_px_per_mm``). Every setting used is in report.json's ``detector``.
    """
    signals = regions_signal(track, mirrored=mirrored, method=method)
    settings = dict(settings or {})
    events, detector = events_process(signals, coupled=coupled, **settings)
    quality = quality_assess(track, signals, min_px_per_mm=detector["min_px_per_mm"])
    analysed_s = float(np.sum(signals.valid) / signals.fs_hz) if len(signals.t) else 0.0
    info = track.info
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "facetwitch", "version": __version__},
        "input": {
            "path": str(info.get("path", "")),
            "sha256": str(info.get("sha256", "")),
            "duration_s": round_or_none(info.get("duration_s", float("nan")), 3),
            "frames": int(info.get("frames", len(track))),
            "fps_mean": round_or_none(info.get("fps_mean", float("nan")), 3),
            "width": int(info.get("source_width") or info.get("width", 0)),
            "height": int(info.get("source_height") or info.get("height", 0)),
            "analysed_width": int(info.get("width", 0)),
            "analysed_height": int(info.get("height", 0)),
            "rotation_deg": int(info.get("rotation_deg", 0)),
            "mirrored": bool(mirrored),
            "codec": info.get("codec"),
            "running_mode": info.get("running_mode"),
            "measurement": method,
        },
        "quality": quality,
        "events": [e.to_dict() for e in events],
        "summary": summary_compute(events, analysed_s),
        "complaint": None,
        "detector": detector,
    }
    if markers:
        report["markers"] = [dict(m) for m in markers]
    if complaint or complaint_flags:
        report["complaint"] = _complaint(report, complaint, complaint_flags)
    return Analysis(report=report, events=tuple(events), signals=signals, track=track)


def claim_flags(**given: str | None) -> dict | None:
    """Claims given directly (region, side, direction) in the report's vocabulary.

    Returns None when none is given. Raises :class:`~facetwitch.errors.UsageError` for a word
    outside the vocabulary (listing the allowed ones).

    Checked before the model or the video is touched: a typo must not cost a whole tracking
    run and then end as an "internal error". Case, spaces, ``-`` and ``_`` are forgiven
    (``Upper-Lip`` is ``upper_lip``, ``up left`` is ``up-left``).
    """
    from .conventions import DIRECTION_WORDS, REGIONS, SIDES
    from .errors import UsageError

    allowed = {"region": (REGIONS, "_"), "side": (SIDES, "-"), "direction": (DIRECTION_WORDS, "-")}
    flags = {}
    for name, value in given.items():
        if value is None:
            continue
        words, sep = allowed[name]
        word = "".join(sep if ch in " -_" else ch for ch in value.strip().lower())
        if word not in words:
            raise UsageError(f"--{name} {value!r} is not one of: {', '.join(words)}")
        flags[name] = word
    return flags or None


def _complaint(report: dict, text: str | None, flags: dict | None) -> dict:
    from .complaint import complaint_check, complaint_from_flags, complaint_parse

    claims = complaint_parse(text) if text else []
    if flags:
        claims = complaint_from_flags(**{k: v for k, v in flags.items() if v}) + [
            c for c in claims if c.aspect not in {k for k, v in flags.items() if v}
        ]
    return complaint_check(claims, report, text=text or "")
