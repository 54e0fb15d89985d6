"""A long recording analysed stretch by stretch, in memory that does not grow with its length.

The signal stage works on whole arrays: 36 displacement columns, their positions, 52
blendshapes and the residual passes' arrays on a 30 Hz grid, about 6 MB per minute of video
as float64 (``benchmarks/long.py``). An hour held at once is 400 MB more than ten minutes.
So a track longer than :data:`STRETCH_S` (+ :data:`STRETCH_MARGIN_S`) of recorded time (its
pauses left out) is cut into equal stretches of at most :data:`STRETCH_S`; each is analysed with
:data:`STRETCH_MARGIN_S` of the frames on either side (every window of the detector is local
and far shorter: the 2 s and 10 s running baselines, the 3 s coupling windows, the 4 s noise
windows, the annotations' margins), and what falls in its own stretch is kept: the events
peaking there, the ``BAD_`` spans clipped to it (a span crossing the cut is joined again),
and a few columns for the whole recording's figures (face time, mouth activity, head speed,
the noise regions' displacement). Ids and eye-mouth links are redone over all events.

What a stretch does not see: the detector's few whole-recording medians (each column's robust
noise, the blendshapes' and the bilateral expression's resting level) are those of the
stretch and its margins, ten minutes of the same face; the face frame (axes, iris scale,
zoom) is fitted once over the whole track and shared. A track of at most
``STRETCH_S + STRETCH_MARGIN_S`` is one stretch: analysed exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._validate import check_callable
from ..conventions import GAP_S
from .annotate import BAD_DESCRIPTIONS, Annotation
from .detect import events_process
from .event import Event
from .faceframe import faceframe_fit
from .regions import RegionSignals, grid_rate, regions_signal
from .sensitivity import Sensitivity, sensitivity_test
from .sustained import sustained_merge

#: Longest stretch (seconds of the recording's own frames) analysed at once: 10 min (18,000
#: frames at 30 fps; about 70 MB of signals).
STRETCH_S = 600.0
#: Frames on either side of a stretch that its analysis also reads (seconds): longer than
#: every window of the detector, so that what lies in the stretch is found as in one piece.
STRETCH_MARGIN_S = 30.0
#: Regions whose displacement is kept whole-length for the quality's noise figure
#: (:func:`facetwitch.quality.quality_assess`).
NOISE_REGIONS = ("upper_lip", "lower_lip", "upper_eyelid", "mouth_corner")


@dataclass(frozen=True)
class Stretched:
    """What :func:`events_by_stretch` returns.

    Attributes
    ----------
    events : list of Event
        Sorted by peak time, numbered from 1, linked, counted (as :func:`events_process`).
    info : dict
        :func:`events_process`'s ``info`` (every setting used) without its annotations, with
        ``stretches``: ``count``, ``max_s`` and ``margin_s``.
    annotations : list of Annotation
        The ``BAD_`` spans of the whole recording, sorted by onset.
    signals : RegionSignals
        The whole recording's region signals when it was one stretch; otherwise the stretches'
        own grid samples joined, with the :data:`NOISE_REGIONS` columns only (no blendshapes,
        no positions): enough for face time, assessable time, mouth activity, head speed and
        noise, a few floats per sample.
    count : int
        Stretches analysed.
    sensitivity : Sensitivity or None
        Synthetic twitches added to the stretches' signals and found, by size
        (:func:`~.sensitivity.sensitivity_test`); None when not tested (asked not to, a face
        too small to measure, or signals from the landmarks, whose loss was not measured).
    sensitivity_focus : Sensitivity or None
        The same, with the test twitches in the ``focus`` regions and sides only (the
        patient's complaint); None when no focus was given or nothing was tested.
    """

    events: list[Event]
    info: dict
    annotations: list[Annotation]
    signals: RegionSignals
    count: int
    sensitivity: Sensitivity | None = None
    sensitivity_focus: Sensitivity | None = None


def stretches_plan(
    t: np.ndarray, *, max_s: float = STRETCH_S, margin_s: float = STRETCH_MARGIN_S
) -> list[tuple[int, int, int, int]]:
    """Cut frame times into stretches: ``(read_start, own_start, own_stop, read_stop)`` indices.

    Frames ``own_start:own_stop`` are the stretch's own, ``read_start:read_stop`` what its
    analysis reads (its own and up to ``margin_s`` seconds on either side). A recording of at
    most ``max_s + margin_s`` seconds of recorded time (pauses left out) is one stretch; a
    longer one, ``ceil(recorded / max_s)`` stretches of equal recorded time.
    """
    t = np.asarray(t, float)
    n = len(t)
    # recorded time: a pause (a gap between frames, :func:`~.timing.gaps_find`) counts as
    # nothing, so that a 4 s clip with a 4 h pause, or times of 1e12 s, is one stretch
    step = np.diff(t)
    recorded = np.concatenate([[0.0], np.cumsum(np.where(step > GAP_S, 0.0, step))])
    if n == 0 or recorded[-1] <= max_s + margin_s:
        return [(0, 0, n, n)]
    k = int(np.ceil(recorded[-1] / max_s))  # at most ~n / (max_s x fps): bounded by the frames
    cuts = recorded[-1] * np.arange(1, k) / k
    own = [0, *np.searchsorted(recorded, cuts).tolist(), n]
    plan = []
    for a, b in zip(own[:-1], own[1:], strict=True):
        if b <= a:
            continue
        lo = int(np.searchsorted(t, t[a] - margin_s, side="left"))
        hi = int(np.searchsorted(t, t[b - 1] + margin_s, side="right"))
        plan.append((lo, a, b, hi))
    return plan


def annotations_joined(parts: list[list[Annotation]]) -> list[Annotation]:
    """Join the stretches' ``BAD_`` spans (each already clipped to its stretch).

    Spans of one description that touch or overlap (a span crossing the cut between two
    stretches comes as two) become one.
    """
    order = {d: i for i, d in enumerate(BAD_DESCRIPTIONS)}
    out: dict[str, list[list[float]]] = {}
    for a in sorted((a for part in parts for a in part), key=lambda x: x.onset_s):
        spans = out.setdefault(a.description, [])
        if spans and a.onset_s <= spans[-1][1] + 1e-9:
            spans[-1][1] = max(spans[-1][1], a.end_s)
        else:
            spans.append([a.onset_s, a.end_s])
    joined = [Annotation(a, b - a, d) for d, spans in out.items() for a, b in spans]
    return sorted(joined, key=lambda x: (x.onset_s, order.get(x.description, len(order))))


def _clipped(annotations: list[Annotation], lo: float, hi: float) -> list[Annotation]:
    out = []
    for a in annotations:
        a0, a1 = max(a.onset_s, lo), min(a.end_s, hi)
        if a1 > a0:
            out.append(Annotation(a0, a1 - a0, a.description))
    return out


def _faceless(part, empty: RegionSignals, fs_hz: float) -> tuple[RegionSignals, list]:
    """Return a faceless stretch's grid (nothing valid) and its ``BAD_face_lost`` span."""
    from .timing import grid_make

    t, _ = grid_make(np.asarray(part.t, float), fs_hz)
    k = len(empty.keys)
    signals = replace(
        empty, t=t, fs_hz=fs_hz, displacement_mm=np.full((len(t), k, 2), np.nan),
        valid=np.zeros(len(t), bool), blendshapes=np.full((len(t), len(empty.blendshape_names)),
                                                          np.nan),
        head_speed_dps=np.full(len(t), np.nan), position_mm=None, mouth_mm=np.zeros(len(t)),
    )  # fmt: skip
    return signals, [Annotation(float(t[0]), float(t[-1] - t[0]), "BAD_face_lost")]


def _relinked(events: list[Event]) -> list[Event]:
    """Redo ids, eye-mouth links and confidences over the stretches' events together."""
    held = [e for e in events if e.reason_code == "sustained"]
    rest = [e for e in events if e.reason_code != "sustained"]
    return sustained_merge(rest, held)


def events_by_stretch(
    track,
    *,
    mirrored: bool = False,
    method: str = "flow",
    coupled: bool = True,
    settings: dict | None = None,
    max_s: float | None = None,
    margin_s: float | None = None,
    progress=None,
    sensitivity: dict | None = None,
    focus: dict | None = None,
) -> Stretched:
    """Region signals, events and ``BAD_`` spans of a track, stretch by stretch.

    Parameters
    ----------
    track : LandmarkTrack
    mirrored, method
        As :func:`~.regions.regions_signal`.
    coupled, settings
        As :func:`~.detect.events_process` (``settings``: its keyword arguments).
    max_s, margin_s : float, optional
        Longest stretch and the margin read on either side, in seconds
        (:func:`stretches_plan`); default :data:`STRETCH_S` and :data:`STRETCH_MARGIN_S`.
    progress : callable, optional
        ``progress(done_frames, total_frames)`` before the first stretch and after each, for a
        track of more than one (then its ``close()``, if it has one).
    sensitivity : dict, optional
        Settings of :func:`~.sensitivity.sensitivity_test` (``tests_per_level``, ``max_runs``,
        ``seed``, ``levels_mm``); ``{"tests_per_level": 0}`` tests nothing.
    focus : dict, optional
        ``{"regions": (...), "sides": (...)}``: test these regions and sides once more on their
        own (:attr:`Stretched.sensitivity_focus`; the patient's complaint).

    Returns
    -------
    Stretched
    """
    check_callable("progress", progress, "progress(done_frames, total_frames)")
    settings = dict(settings or {})
    max_s = STRETCH_S if max_s is None else float(max_s)
    margin_s = STRETCH_MARGIN_S if margin_s is None else float(margin_s)
    t_all = np.asarray(track.t, float)
    plan = stretches_plan(t_all, max_s=max_s, margin_s=margin_s)
    stretch_info = {"count": len(plan), "max_s": float(max_s), "margin_s": float(margin_s)}
    test = dict(sensitivity or {})
    if len(plan) == 1:
        signals = regions_signal(track, mirrored=mirrored, method=method)
        events, info = events_process(signals, coupled=coupled, **settings)
        annotations = info.pop("annotations")
        info["stretches"] = stretch_info
        found = _tested(signals, events, annotations, info, settings, coupled, test, 0, focus)
        return Stretched(events, info, annotations, signals, 1, *found)

    found = np.asarray(track.found, bool)
    frame = faceframe_fit(track.points, found)  # block by block: one scale for every stretch
    fs_hz = grid_rate(t_all)  # the whole track's, as one piece would have it
    events: list[Event] = []
    spans: list[list[Annotation]] = []
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("t", "valid", "mouth", "head", "disp", "still", "outside")
    }
    info: dict = {}
    keys = None
    tested: list[Sensitivity | None] = [None, None]
    if progress is not None:
        progress(0, len(t_all))
    for i, (lo, a, b, hi) in enumerate(plan):
        part = track.frames(lo, hi)
        signals = regions_signal(part, mirrored=mirrored, method=method, fs_hz=fs_hz,
                                 frame=frame.rows(lo, hi))  # fmt: skip
        t0 = t_all[a] if i else -np.inf
        t1 = t_all[b] if b < len(t_all) else np.inf
        found_events, found_info = events_process(signals, coupled=coupled, **settings)
        found_spans = found_info.pop("annotations")
        spans.append(_clipped(found_spans, t0, t1))
        if len(signals.t):
            more = _tested(signals, found_events, found_spans, found_info, settings, coupled,
                           test, i, focus, within_s=(t0, t1))  # fmt: skip
            tested = [a if b is None else b if a is None else a + b
                      for a, b in zip(tested, more, strict=True)]  # fmt: skip
        if not len(signals.t):  # no face in the whole stretch: its grid, all of it lost
            signals, lost = _faceless(part, signals, fs_hz)
            spans.append(_clipped(lost, t0, t1))
            info = info or found_info
        else:
            info = found_info
        events += [e for e in found_events if t0 <= e.t_peak_s < t1]
        own = (signals.t >= t0) & (signals.t < t1)
        cols = [j for j, (r, _) in enumerate(signals.keys) if r in NOISE_REGIONS]
        keys = tuple(signals.keys[j] for j in cols)
        parts["t"].append(signals.t[own])
        parts["valid"].append(signals.valid[own])
        parts["mouth"].append(signals.mouth_mm[own])
        parts["head"].append(signals.head_speed_dps[own])
        parts["disp"].append(signals.displacement_mm[own][:, cols])
        for name in ("still", "outside"):
            flags = getattr(signals, name)
            flags = flags if flags is not None else np.zeros(len(signals.t), bool)
            parts[name].append(flags[own])
        del signals, found_events
        part.pages_release()
        if progress is not None:
            progress(b, len(t_all))
    if callable(getattr(progress, "close", None)):
        progress.close()
    info["stretches"] = stretch_info
    t = np.concatenate(parts["t"])
    joined = RegionSignals(
        t=t,
        fs_hz=fs_hz,
        keys=keys,
        displacement_mm=np.concatenate(parts["disp"]),
        valid=np.concatenate(parts["valid"]),
        blendshapes=np.zeros((len(t), 0)),
        blendshape_names=(),
        px_per_mm=float(frame.px_per_mm_session),
        method=method,
        head_speed_dps=np.concatenate(parts["head"]),
        position_mm=None,
        baseline_s=float(info.get("baseline_s", 2.0)),
        mouth_mm=np.concatenate(parts["mouth"]),
        voice_t=None if track.voice_t is None else np.asarray(track.voice_t, float),
        voice_active=None if track.voice_active is None else np.asarray(track.voice_active, float),
        still=np.concatenate(parts["still"]),
        outside=np.concatenate(parts["outside"]),
    )
    return Stretched(_relinked(events), info, annotations_joined(spans), joined, len(plan),
                     *tested)  # fmt: skip


#: The focus test's seeds are the general test's plus this, so that the two draw apart.
FOCUS_SEED = 7919


def _tested(signals, events, annotations, info, settings, coupled, test, index, focus=None, *,
            within_s=(-np.inf, np.inf)) -> tuple[Sensitivity | None, ...]:  # fmt: skip
    """Return :func:`~.sensitivity.sensitivity_test` of a stretch, and of its ``focus``.

    None where not tested: when asked not to (``tests_per_level`` or ``max_runs`` 0), for a
    face under the detector's smallest scale (it reports no twitch at any size), for signals
    from the landmarks (their loss was not measured), and for the focus when none is given or
    none of its regions can be tested. Stretch ``index`` gets its own seed.
    """
    if not (test.get("tests_per_level", 1) and test.get("max_runs", 1)) or signals.method != "flow":
        return None, None
    floor = info.get("min_px_per_mm", 0.0)
    if not (np.isfinite(signals.px_per_mm) and signals.px_per_mm >= floor):
        return None, None
    seed = int(test.get("seed", 0)) + index
    run = {**test, "seed": seed}
    general = sensitivity_test(signals, events, annotations, settings=settings, coupled=coupled,
                               within_s=within_s, **run)  # fmt: skip
    if not focus:
        return general, None
    run = {**run, "seed": seed + FOCUS_SEED, "regions": tuple(focus.get("regions") or ()),
           "sides": tuple(focus.get("sides") or ("left", "right"))}  # fmt: skip
    return general, sensitivity_test(signals, events, annotations, settings=settings,
                                     coupled=coupled, within_s=within_s, **run)  # fmt: skip


__all__ = [
    "NOISE_REGIONS",
    "STRETCH_MARGIN_S",
    "STRETCH_S",
    "Stretched",
    "annotations_joined",
    "events_by_stretch",
    "stretches_plan",
]
