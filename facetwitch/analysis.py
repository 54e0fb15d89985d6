"""Analysis: events + summary + quality (+ complaint check) -> report.json, the contract.

``analysis_run`` is pure (a LandmarkTrack in, an :class:`Analysis` out). Writing the outputs
is :mod:`facetwitch.outputs`; the quality section is :mod:`facetwitch.quality`; the chain
that tracks, analyses and writes (``facetwitch analyze``) is :mod:`facetwitch.process`.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import welch

from . import __version__
from ._text import path_info_clean
from .conventions import (
    CO_OCCURRENCE_S,
    SCHEMA_VERSION,
    circular_mean_deg,
    direction_word,
    round_or_none,
)
from .landmarks.track import LandmarkTrack
from .quality import MIN_ASSESSABLE_S, duration_s, fps_mean, quality_assess
from .signal import Event, RegionSignals, regions_signal
from .signal.annotate import assessable_seconds, bad_seconds
from .signal.stretches import events_by_stretch
from .signal.timing import frames_missing

logger = logging.getLogger("facetwitch")


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one track: ``report`` is report.json's content.

    ``signals`` are the track's region signals (:func:`~facetwitch.signal.regions_signal`).
    A track longer than :data:`~facetwitch.signal.stretches.STRETCH_S` is analysed stretch by
    stretch (:mod:`facetwitch.signal.stretches`) and never holds them whole: for such a track
    they are made on first use, for the whole track at once.
    """

    report: dict
    events: tuple[Event, ...]
    track: LandmarkTrack = field(repr=False)
    mirrored: bool = False
    method: str = "flow"
    _signals: RegionSignals | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        # the dataclass's own repr printed the whole report (13,000 characters for the demo)
        r = self.report
        summary, quality = r.get("summary") or {}, r.get("quality") or {}
        path = (r.get("input") or {}).get("path")
        rate = summary.get("twitch_rate_per_min")
        parts = [
            f"{summary.get('twitch_count', 0)} twitches"
            + (f" ({rate:g}/min)" if rate is not None else ""),
            f"{summary.get('blink_count', 0)} blinks",
            f"{summary.get('assessable_s', 0):g} s assessable",
            "reliable" if quality.get("reliable", True) else "UNRELIABLE",
        ]
        where = f", input={Path(str(path)).name!r}" if path else ""
        return f"Analysis({', '.join(parts)}, {len(self.events)} events{where})"

    @property
    def signals(self) -> RegionSignals:
        """The region signals of the whole track (made on first use for a long track)."""
        if self._signals is None:
            made = regions_signal(self.track, mirrored=self.mirrored, method=self.method)
            object.__setattr__(self, "_signals", made)
        return self._signals


# -- summary --------------------------------------------------------------------------------------
def summary_compute(
    events: list[Event],
    analysed_s: float,
    *,
    assessable_s: float | None = None,
    not_assessable_s: dict[str, float] | None = None,
    gaps_s=(),
) -> dict:
    """Return the ``summary`` section.

    Counts and rates of the counted events, per region and side.

    Parameters
    ----------
    events : list of Event
        Every event; only those with ``counted`` True are counted (CONVENTIONS.md: a twitch
        peaking in time that cannot be assessed keeps its measurements in ``events``).
    analysed_s : float
        Face time, in seconds.
    assessable_s : float, optional
        Face time outside every ``BAD_`` annotation, in seconds (default: all face time). Rates
        are per assessable minute.
    not_assessable_s : dict, optional
        Face time in each ``BAD_`` description's spans, in seconds (causes may overlap).
    gaps_s : sequence of (float, float)
        Gaps in the video's time (from, to); no interval between twitches is measured across
        one.

    Returns
    -------
    dict
    """
    assessable_s = float(analysed_s if assessable_s is None else assessable_s)
    minutes = assessable_s / 60.0 if assessable_s > 0 else float("nan")
    counted = [e for e in events if e.counted]
    twitches = [e for e in counted if e.kind == "twitch"]
    blinks = [e for e in counted if e.kind == "blink"]
    movements = [e for e in counted if e.kind == "movement"]

    def rate(k: int):
        # none from under MIN_ASSESSABLE_S: 1 twitch in 1.5 s had read "40.9 a minute" (and
        # 1 blink "41 a minute; typical 8-21") in a report that says it is too short to
        # say anything of twitches; the counts and the time stay
        return round(k / minutes, 2) if assessable_s >= MIN_ASSESSABLE_S else None

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
    mean_dir = circular_mean_deg(
        np.array([e.direction_deg for e in twitches]),
        np.array([e.amplitude_mm for e in twitches]) if twitches else None,
    )
    uncounted = [e for e in events if e.kind == "twitch" and not e.counted]
    return {
        "twitch_count": len(twitches),
        "twitch_rate_per_min": rate(len(twitches)),
        "uncounted_twitch_count": len(uncounted),
        "blink_count": len(blinks),
        "blink_rate_per_min": rate(len(blinks)),
        "movement_count": len(movements),
        "sustained_count": sum(e.reason_code == "sustained" for e in movements),
        "analysed_s": round(float(analysed_s), 2),
        "assessable_s": round(assessable_s, 2),
        "not_assessable_s": dict(not_assessable_s or {}),
        "by_region": by_region,
        "mean_direction_deg": round_or_none(mean_dir, 1),
        "mean_direction": direction_word(mean_dir) if np.isfinite(mean_dir) else None,
        "intervals": intervals_describe([e.t_peak_s for e in twitches], gaps_s=gaps_s),
        "eye_mouth_co_occurrence": _co_occurrence(twitches),
    }


def _co_occurrence(twitches: list[Event]) -> dict:
    """``summary.eye_mouth_co_occurrence``: eye and mouth twitching together on one side."""
    ids = {e.id for e in twitches}
    pairs = {tuple(sorted((e.id, o))): e.side for e in twitches for o in e.co_occurring if o in ids}
    sides = sorted(set(pairs.values()))
    return {
        "present": bool(sides),
        "sides": sides,
        "pairs": len(pairs),
        "pairs_by_side": {side: list(pairs.values()).count(side) for side in sides},
        "note": (
            "eye and mouth on the same side twitched together (within "
            f"{CO_OCCURRENCE_S * 1000:.0f} ms): a sign seen in hemifacial spasm"
            if sides
            else "no eye and mouth twitches together on one side"
        ),
    }


#: A marker more than this far (s) into a video is a typing mistake, not a moment in it.
MARKER_MAX_S = 7 * 24 * 3600.0


def marker_seconds(text: str) -> float:
    """Seconds of a marker time as a person types it: ``12.5``, ``12,5``, ``0:12.5``, ``1:02:03``.

    Seconds, with a decimal point or comma, or minutes and seconds as a video player shows them
    (``m:ss``, ``h:mm:ss``, seconds with a fraction). Raises ValueError for anything else (75
    seconds in ``0:75``, words), and for a time that is negative or not finite; its message
    says what a time is, for the caller to show after the text given.
    """
    unreadable = (
        "a time in seconds from the start (12.5) or as a video player shows it (0:12.5, 1:02:03)"
    )
    s = str(text).strip()
    if re.fullmatch(r"\d+,\d+", s):
        s = s.replace(",", ".")
    *whole, last = s.split(":")
    if len(whole) > 2 or not all(re.fullmatch(r"\d+", p) for p in whole):
        raise ValueError(unreadable)
    # digits as a person types them: float() also reads "1_0" (10), "nan" and "infinity"
    if not re.fullmatch(r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", last):
        raise ValueError(unreadable)
    sec = float(last)
    if whole and not (0 <= sec < 60 and (len(whole) < 2 or int(whole[1]) < 60)):
        raise ValueError(unreadable)
    if not (math.isfinite(sec) and sec >= 0):
        raise ValueError("a time in seconds from the start (0 or more)")
    return sum(int(p) * 60 ** (len(whole) - i) for i, p in enumerate(whole)) + sec


#: A counted twitch peaking within this many seconds of a patient's marker ("I felt one") is
#: what the marker felt (CONVENTIONS.md, markers).
MARKER_WINDOW_S = 1.5


#: A marker this close (s) outside the first or last frame with a face is on that frame (a
#: marker at 14.99 s of a 15 s video whose last frame shows at 14.96 s is no lost face).
FRAME_EDGE_S = 0.1


def markers_check(
    markers: list[dict],
    events: list[Event],
    annotations: list,
    *,
    face_span_s=None,
    end_s: float | None = None,
) -> list[dict]:
    """Return a verdict for each of the patient's markers ("I felt one" at ``t_s``).

    Parameters
    ----------
    markers : list of dict
        Each with ``t_s`` (seconds from the first frame); other keys are kept.
    events : list of Event
        The detector's events (with ``counted`` set).
    annotations : list of Annotation
        The ``BAD_`` spans.
    face_span_s : (float, float), optional
        First and last time with a tracked face: a marker outside it is ``not_assessable``.
    end_s : float, optional
        The recording's end (seconds): a marker after it is ``not_assessable`` with
        ``after_end`` true and no ``annotation`` (no span of the recording holds it).

    Returns
    -------
    list of dict
        The markers sorted by time, each with ``verdict`` -- ``twitch_measured`` (a counted
        twitch peaks within :data:`MARKER_WINDOW_S`; its ids in ``event_ids``),
        ``not_assessable`` (the marker falls in a ``BAD_`` span, named in ``annotation``, or
        where there was no face) or ``none_measured`` (assessable, and nothing measured) --
        and ``event_ids``; ``after_end`` for a marker after the recording's end.
    """
    from .signal.annotate import bad_at

    out = []
    twitches = [e for e in events if e.kind == "twitch" and e.counted]
    for m in sorted(markers, key=lambda m: float(m["t_s"])):
        t = float(m["t_s"])
        near = [e.id for e in twitches if abs(e.t_peak_s - t) <= MARKER_WINDOW_S]
        after_end = end_s is not None and t > end_s
        why = "" if after_end else bad_at(annotations, t)
        if (
            not (why or after_end)
            and face_span_s is not None
            and not (face_span_s[0] - FRAME_EDGE_S <= t <= face_span_s[1] + FRAME_EDGE_S)
        ):
            why = "BAD_face_lost"
        verdict = (
            "twitch_measured" if near else "not_assessable" if why or after_end else "none_measured"
        )
        row = {**m, "t_s": round(t, 3), "verdict": verdict, "event_ids": near}
        if after_end:
            row["after_end"] = True
        elif verdict == "not_assessable":
            row["annotation"] = why
        out.append(row)
    return out


#: Intervals varying less than this (coefficient of variation), over at least
#: :data:`RHYTHM_MIN_EVENTS` events, count as rhythmic.
RHYTHM_MAX_CV = 0.25
RHYTHM_MIN_EVENTS = 4


def intervals_describe(peaks_s, *, fs_hz: float = 20.0, gaps_s=()) -> dict:
    """Inter-event intervals (s) and whether the events recur rhythmically.

    Rhythmic: at least :data:`RHYTHM_MIN_EVENTS` events whose intervals vary by less than
    :data:`RHYTHM_MAX_CV` (coefficient of variation). For a rhythmic train, ``peak_hz`` is the
    frequency of the strongest peak of Welch's spectrum of the event train (the events as
    Gaussian pulses 0.15 median intervals wide, sampled at ``fs_hz`` Hz or finer). Bare
    impulses have every harmonic as strong as the rhythm itself, and the strongest bin was
    often a harmonic (a train every 2.0 s read 2.5 Hz, every 5.0 s 5.0 Hz); the pulses weaken
    the second harmonic to a quarter of the first. None when not rhythmic: the spectral peak of
    an irregular train means nothing.

    ``gaps_s``: (from, to) gaps in the video's time (a paused recording): an interval across
    one is not an interval, and the spectrum, which needs the train on one time axis, is not
    computed across them.
    """
    peaks = np.sort(np.asarray(peaks_s, float))
    iv = np.diff(peaks)
    across = np.zeros(iv.size, bool)
    for a, b in gaps_s:
        across |= (peaks[:-1] <= a) & (peaks[1:] >= b)
    iv = iv[~across]
    if iv.size < 1:
        return {"count": int(peaks.size), "median_s": None, "cv": None, "rhythmic": False,
                "peak_hz": None}  # fmt: skip
    cv = float(np.std(iv) / np.mean(iv)) if np.mean(iv) > 0 else float("nan")
    rhythmic = bool(iv.size + 1 >= RHYTHM_MIN_EVENTS and np.isfinite(cv) and cv < RHYTHM_MAX_CV)
    peak_hz = None
    if rhythmic and not across.any():
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
    progress=None,
) -> Analysis:
    """Analyse a track: signals, events, summary, quality, complaint check (pure: no I/O).

    ``coupled=False`` finds twitches in the raw signals instead of in what the other side of
    the face does not explain (:func:`facetwitch.signal.events_process`): for comparison.
    ``settings``: detector settings other than the defaults, as keyword arguments of
    :func:`~facetwitch.signal.events_process` (``find``, ``classify``, ``coupling``,
    ``sustained``, ``min_px_per_mm``). Every setting used is in report.json's ``detector``.
    A track of more than 10.5 min of recorded time is analysed in stretches
    (:func:`~facetwitch.signal.stretches.events_by_stretch`); ``progress(done_frames,
    total_frames)`` is called before the first and after each.
    """
    from .signal.detect import sensitivity_settings, settings_check

    settings = settings_check(settings)  # before any work: a typo must not cost a run
    coupled = settings.pop("coupled", coupled)
    test = sensitivity_settings(settings.pop("sensitivity", None))
    claims = _claims(complaint, complaint_flags) if complaint or complaint_flags else None
    focus = complaint_focus(claims) if claims else None
    done = events_by_stretch(track, mirrored=mirrored, method=method, coupled=coupled,
                             settings=settings, progress=progress,
                             sensitivity=test, focus=focus)  # fmt: skip
    events, detector, annotations, signals = done.events, done.info, done.annotations, done.signals
    analysed_s = float(np.sum(signals.valid) / signals.fs_hz) if len(signals.t) else 0.0
    assessable_s = assessable_seconds(signals, annotations)
    not_assessable = bad_seconds(signals, annotations, t_frames=track.t, found=track.found)
    quality = quality_assess(track, signals, min_px_per_mm=detector["min_px_per_mm"],
                             assessable_s=assessable_s, not_assessable_s=not_assessable,
                             mirrored=mirrored)  # fmt: skip
    info = track.info
    events = _frames_missing_marked(events, track.t, quality)
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "facetwitch", "version": __version__},
        "input": {
            # readable Unicode; path_bytes_hex holds the bytes of a name that is not UTF-8
            **_input_path(info),
            "sha256": str(info.get("sha256", "")),
            "duration_s": round_or_none(duration_s(track), 3),
            "frames": int(info.get("frames", len(track))),
            "fps_mean": round_or_none(fps_mean(track), 3),
            "width": int(info.get("source_width") or info.get("width", 0)),
            "height": int(info.get("source_height") or info.get("height", 0)),
            "analysed_width": int(info.get("width", 0)),
            "analysed_height": int(info.get("height", 0)),
            "rotation_deg": int(info.get("rotation_deg", 0)),
            "turned_deg": int(info.get("turned_deg") or 0),
            "display_flipped": bool(info.get("display_flipped", False)),
            "capture_fps": info.get("capture_fps"),
            "interlaced": bool(info.get("interlaced", False)),
            "stream_index": int(info.get("stream_index", 0)),
            "video_streams": int(info.get("video_streams", 1)),
            "mirrored": bool(mirrored),
            "codec": info.get("codec"),
            "running_mode": info.get("running_mode"),
            "measurement": method,
        },
        "quality": quality,
        "events": [e.to_dict() for e in events],
        "annotations": [a.to_dict() for a in annotations],
        "summary": summary_compute(
            events,
            analysed_s,
            assessable_s=assessable_s,
            not_assessable_s=not_assessable,
            gaps_s=quality["gaps_s"],
        ),  # fmt: skip
        "complaint": None,
        "detector": detector,
    }
    report["summary"]["sensitivity"] = (None if done.sensitivity is None
                                        else done.sensitivity.to_dict())  # fmt: skip
    detector["sensitivity"] = {**test, "levels_mm": list(test["levels_mm"])}
    if markers:
        found = np.flatnonzero(np.asarray(track.found, bool))
        span = (float(track.t[found[0]]), float(track.t[found[-1]])) if found.size else (0, -1)
        end_s = duration_s(track)
        report["markers"] = markers_check(
            markers, events, annotations, face_span_s=span, end_s=end_s
        )
        late = [m["t_s"] for m in report["markers"] if m["t_s"] > end_s]
        if late:  # a typo, or a time noted on another clock: said, not silently "not assessable"
            report["quality"]["warnings"].append(
                f"{len(late)} marker(s) after the end of the video ({end_s:.1f} s): "
                f"{', '.join(f'{t:g} s' for t in late[:5])}; marked not assessable"
            )
    if claims is not None:
        report["complaint"] = _complaint(report, claims)
        if focus and done.sensitivity_focus is not None:
            report["complaint"]["sensitivity"] = {
                **done.sensitivity_focus.to_dict(),
                "regions": list(focus["regions"]),
                "sides": list(focus["sides"]),
            }
    return Analysis(report=report, events=tuple(events), track=track, mirrored=mirrored,
                    method=method, _signals=signals if done.count == 1 else None)  # fmt: skip


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
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str (one of: {', '.join(words)}), got {value!r}")
        word = "".join(sep if ch in " -_" else ch for ch in value.strip().lower())
        if word not in words:
            raise UsageError(f"--{name} {value!r} is not one of: {', '.join(words)}")
        flags[name] = word
    return flags or None


def _input_path(info: dict) -> dict:
    """``{"path": ...}`` of report.json's ``input``.

    Readable Unicode, plus ``path_bytes_hex`` (the exact bytes) for a file name that is not UTF-8
    (facetwitch._text).
    """
    fields = {"path": str(info.get("path", ""))}
    if isinstance(info.get("path_bytes_hex"), str):
        fields["path_bytes_hex"] = info["path_bytes_hex"]
    return path_info_clean(fields)


def _frames_missing_marked(events: list[Event], t: np.ndarray, quality: dict) -> list[Event]:
    """``events`` with ``frames_missing``.

    Frames the camera or encoder dropped between an event's start and end (a twitch whose peak fell
    in a drop reads smaller and shorter); a quality warning names the twitches that have any.
    """
    from dataclasses import replace

    missing = frames_missing(t)
    t = np.asarray(t, float)
    out, hit = [], []
    for e in events:
        # intervals (t[i], t[i + 1]) that overlap [start, end]
        i0 = max(0, int(np.searchsorted(t, e.t_start_s, side="right")) - 1)
        i1 = min(len(missing), int(np.searchsorted(t, e.t_end_s, side="left")))
        e = replace(e, frames_missing=int(missing[i0:i1].sum()) if i1 > i0 else 0)
        if e.frames_missing and e.kind == "twitch":
            hit.append(e)
        out.append(e)
    if hit:
        names = ", ".join(f"#{e.id} at {e.t_peak_s:.2f} s" for e in hit[:5])
        more = f" and {len(hit) - 5} more" if len(hit) > 5 else ""
        quality["warnings"].append(
            f"frames are missing (dropped by the camera or the encoder) during {len(hit)} "
            f"twitch{'es' if len(hit) > 1 else ''} ({names}{more}): a movement between the "
            f"frames that were kept is not seen, so {'these' if len(hit) > 1 else 'it'} may read "
            "smaller or shorter"
        )
    return out


def _claims(text: str | None, flags: dict | None) -> tuple[str, list]:
    """Return the description (checked) and its claims, flags over what the text says."""
    from .complaint import complaint_from_flags, complaint_parse, complaint_text_check

    text = complaint_text_check(text) if text else text
    claims = complaint_parse(text) if text else []
    if flags:
        claims = complaint_from_flags(**{k: v for k, v in flags.items() if v}) + [
            c for c in claims if c.aspect not in {k for k, v in flags.items() if v}
        ]
    return text or "", claims


def complaint_focus(claims: tuple[str, list]) -> dict | None:
    """Regions and sides the description names, for the focused sensitivity test.

    ``{"regions": (...), "sides": (...)}``: every region claim's region and what a vague word
    also accepts ("eyelid": upper and lower), in the vocabulary's order, those the simulator
    moves only (not the nose or chin); the side claim's side (``both``, or none: left and
    right). None when no such region is named.
    """
    from .conventions import REGIONS
    from .simulation.plan import DEFAULT_REGIONS

    _, found = claims
    named = {r for c in found if c.aspect == "region" for r in (c.claimed, *c.also)}
    named &= set(DEFAULT_REGIONS)
    if not named:
        return None
    sides = {c.claimed for c in found if c.aspect == "side"}
    if not sides or "both" in sides:
        sides = {"left", "right"}
    return {"regions": tuple(r for r in REGIONS if r in named),
            "sides": tuple(s for s in ("left", "right") if s in sides)}  # fmt: skip


def _complaint(report: dict, claims: tuple[str, list]) -> dict:
    from .complaint import complaint_check

    text, found = claims
    return complaint_check(found, report, text=text)
