"""The detector in one call: region signals in, every event and every setting used out.

Pipeline (each step public and usable alone, each in its own module):

1. :func:`~.peaks.events_find` -- per (region, side), peaks of the displacement magnitude
   by prominence above a robust noise floor and by width *in seconds*; onset/offset where the
   magnitude falls back under a fraction of the peak; pulses closer than ``burst_gap_s``
   merged into one event with a pulse count. Peaks at the edges of a tracked stretch are not
   events.
2. :func:`~.classify.events_group` -- one physical movement shows in neighbouring regions
   too: within each side and region group (eye / mouth) simultaneous candidates are merged
   into the strongest region.
3. :func:`~.classify.events_classify` -- ``blink``, ``movement`` or ``twitch``.
4. :func:`~.classify.events_link` -- ids, confidences, and eye and mouth twitches on one side
   within ``link_s`` linked in ``co_occurring`` (the hemifacial-spasm sign).

:func:`events_process` runs 1-4 twice: on the raw signals for blinks and movements, and on
:func:`residual_signals` -- each side less what the other side of the face explains
(:mod:`.coupling`) -- for twitches. On an expressive face the raw signals move by millimetres
everywhere and a 1-3 mm twitch drowns; most of that motion is shared by both sides, a twitch
is not. Blinks also come from the blendshapes (:func:`~.blendshapes.blinks_find`: both eyes'
``eyeBlink`` rising and falling within 0.6 s), which see the rapid and double blinks that the
lids' flow merges into one movement. Eye candidates during a blink are dropped (an uneven blink
is not a twitch). Contractions held for seconds come from :mod:`.sustained`; faces too small
to measure (:data:`MIN_PX_PER_MM`) keep only their blinks.

Times are seconds, amplitudes mm, directions face-frame degrees (CONVENTIONS.md).
"""

from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np

from .._validate import check_flag, check_positive
from ..conventions import EYE_REGIONS, REGIONS, direction_deg, round_or_none
from .annotate import annotations_find, events_count
from .blendshapes import BLINK_RISE, BlendshapeBlink, blink_rise, blinks_find
from .classify import _peak_pulse, events_classify, events_group, events_link
from .coupling import coupled_residual
from .event import Event
from .peaks import PRE_ONSET_S, events_find, events_measured
from .regions import RegionSignals
from .sustained import SUSTAINED_BASELINE_S, SUSTAINED_LINK_S, sustained_find, sustained_merge


def residual_signals(
    signals: RegionSignals, *, find_kwargs: dict | None = None, **coupling_kwargs
) -> RegionSignals:
    """Each side less what the other side explains (:func:`~.coupling.coupled_residual`).

    In two passes: events found in the first pass are left out of the second pass's fits, so that an
    event cannot pull the fit toward itself (which would shrink its amplitude).
    """
    first = coupled_residual(signals, **coupling_kwargs)
    exclude = np.zeros(first.displacement_mm.shape[:2], bool)
    t = first.t
    for e in events_find(first, **(find_kwargs or {})):
        j = first.keys.index((e.region, e.side))
        exclude[(t >= e.t_start_s - 0.1) & (t <= e.t_end_s + 0.1), j] = True
    del first  # (not held through the second pass)
    return coupled_residual(signals, exclude=exclude, **coupling_kwargs)


#: A raw movement and a twitch of the same region and side peaking this close (seconds) are
#: one event (:func:`events_process`).
SAME_PEAK_S = 0.1


#: Below this many pixels per mm the face is too small to measure a twitch: only blinks are
#: reported (at 0.77-0.98 px/mm the small webcam and talking clips of benchmarks/talk_clips.py
#: gave 12-26 false twitches a minute).
MIN_PX_PER_MM = 1.0


#: Every amplitude read from the region flow is multiplied by this before it is reported: the
#: measurement chain reads a twitch small. Measured on twitches injected into real footage and
#: encoded as a phone or recorder would (CRF 18), stage by stage (benchmarks/amplitude_chain.py;
#: benchmarks/README.md, "Seventh round"): the flow's disks read about 0.9 of a bump on the
#: decoded frames themselves, about 0.8 in the encoded video, the face-frame signal, baseline
#: and residual less again. Reported over injected, median per tuning source 0.66-0.84 (calm set
#: 0.82, real clips at rest and talking 0.71), about the same at 1 mm as at 3 mm (a factor, not
#: an offset); 1.3 puts the middle of that range on 1.0. Detection is not changed by it: the
#: thresholds stay in the raw reading (the 0.5 mm floor reads 0.65 mm reported).
FLOW_AMPLITUDE_GAIN = 1.3

#: ... and, for a region whose disk the flow reads smaller than the others', by this too. The
#: mouth corner's disk takes in the edge of the mouth opening: on the decoded frames themselves,
#: before any encoding or signal stage, it read 0.76-0.78 of the simulator's bump where the
#: other regions read 0.88-0.94 (median 0.90; benchmarks/amplitude_chain.py, tuning and held-out
#: seeds alike), and that loss carried through to the report (mouth corner 0.65-0.76 of the
#: injected size where all regions together read 0.85-0.94). 0.90 / 0.78 = 1.15. The other
#: regions' spatial readings lie within 0.98-1.04 of the median and get none; the nose's disk
#: (about 0.7) would need one too, but no twitch is injected there to check it, so it has none.
REGION_AMPLITUDE_GAIN = {"mouth_corner": 1.15}

#: An event's size read at the camera's frames is at most this many times its size on the grid
#: (:func:`_peaks_on_frames`): a grid sample half a frame from the peak frame reads a one-frame
#: peak at about half, so 2 is the most the grid can lose; 1.5 keeps a noisy frame from making
#: a small event large.
PEAK_ON_FRAMES_MAX = 1.5
#: ... and it is read only for events at least this large on the grid (mm): under it the
#: ratio is noise.
PEAK_ON_FRAMES_MIN_MM = 0.2


def events_process(
    signals: RegionSignals,
    *,
    coupled: bool = True,
    find: dict | None = None,
    classify: dict | None = None,
    coupling: dict | None = None,
    sustained: dict | None = None,
    annotate: dict | None = None,
    blink: dict | None = None,
    min_px_per_mm: float = MIN_PX_PER_MM,
    amplitude_gain: float | None = None,
    region_gain: dict | None = None,
    peak_on_frames: bool = True,
) -> tuple[list[Event], dict]:
    """Detect every event of a recording: the whole detector in one call.

    Only chains the public steps: find -> group -> classify (blinks and movements, from the raw
    signals), the same on :func:`residual_signals` for twitches (each side less what the other
    side explains), eyelid candidates during a blink dropped, onsets and offsets measured,
    contractions held for seconds added (:func:`~.sustained.sustained_find`), ids, links and
    confidences (:func:`~.classify.events_link`); then the time that cannot be assessed
    (:func:`~.annotate.annotations_find`: talking, expressions, head motion, a lost face,
    noise), and every event whose peak lies in it marked ``counted=False``
    (:func:`~.annotate.events_count`).

    Parameters
    ----------
    signals : RegionSignals
        Region displacement signals (:func:`~.regions.regions_signal`).
    coupled : bool
        Find twitches in the residual (default). False: in the raw signals (for comparison).
    find, classify, coupling, sustained, annotate : dict, optional
        Settings other than the defaults for :func:`~.peaks.events_find`,
        :func:`~.classify.events_classify`, :func:`~.coupling.coupled_residual`,
        :func:`~.sustained.sustained_find` and :func:`~.annotate.annotations_find`, by
        parameter name.
    min_px_per_mm : float
        Below this scale (px per mm) the face is too small: only blinks are reported.
    amplitude_gain : float, optional
        Reported amplitudes are the measured ones times this (after detection, which it does
        not change). Default :data:`FLOW_AMPLITUDE_GAIN` for flow signals (what the flow and
        the video's encoding lose of a twitch), 1 for landmark signals (not calibrated); 1
        reports the raw reading.
    region_gain : dict, optional
        Per region (name -> factor), a further factor on the reported amplitude (after
        detection, like ``amplitude_gain``). Default :data:`REGION_AMPLITUDE_GAIN` for flow
        signals, none for landmark signals; ``{}`` applies none.
    peak_on_frames : bool
        Read each event's size at the tracked frames around its peak, not only on the even
        grid the signals are resampled to (:func:`_peaks_on_frames`; after detection, which it
        does not change). False: the grid's reading, as before.

    Returns
    -------
    events : list of Event
        Sorted by peak time, numbered from 1.
    info : dict
        Every setting used, by step (NeuroKit's ``info``), with the signals' own (grid rate,
        baseline, scale, method): written into report.json so that a report can be
        reproduced; and, under ``"annotations"``, the ``BAD_`` spans found (a list of
        :class:`~.annotate.Annotation`), as NeuroKit's ``info`` holds the peaks it found.

    Examples
    --------
    >>> events, info = events_process(signals)  # doctest: +SKIP
    >>> info["find"]["k_noise"]  # doctest: +SKIP
    5.0
    """
    # each section's values as checked (settings_check): a whole number given as a float
    # (lags [-1.0, 0, 1.0], iterations 3.0) is that number, as analyze() gives it
    names = ("find", "classify", "coupling", "sustained", "annotate", "blink")
    given = (find, classify, coupling, sustained, annotate, blink)
    checked = settings_check(dict(zip(names, given, strict=True)))
    find, classify, coupling, sustained, annotate, blink = (dict(checked[n] or {}) for n in names)
    if amplitude_gain is None:
        amplitude_gain = FLOW_AMPLITUDE_GAIN if signals.method == "flow" else 1.0
    check_positive("amplitude_gain", amplitude_gain)
    if region_gain is None:
        region_gain = REGION_AMPLITUDE_GAIN if signals.method == "flow" else {}
    region_gain = {str(k): float(v) for k, v in dict(region_gain).items()}
    for k, v in region_gain.items():
        if k not in REGIONS:
            raise ValueError(f"region_gain: unknown region {k!r}; regions: {', '.join(REGIONS)}")
        check_positive(f"region_gain[{k!r}]", v)
    info = _settings_info(
        signals, coupled=coupled, find=find, classify=classify, coupling=coupling,
        sustained=sustained, annotate=annotate, blink=blink, min_px_per_mm=min_px_per_mm,
        amplitude_gain=float(amplitude_gain), region_gain=region_gain,
        peak_on_frames=bool(peak_on_frames),
    )  # fmt: skip
    if not len(signals.t):
        info["annotations"] = []
        return [], info
    raw = events_classify(events_group(events_find(signals, **find)), signals, **classify)
    raw = _blinks_merge(raw, blinks_find(signals, **blink), signals)
    if coupled:
        resid = residual_signals(signals, find_kwargs=find, **coupling)
        cand = events_classify(
            events_group(events_find(resid, **find)), resid, raw=signals, **classify
        )
        twitches = _outside_blinks([e for e in cand if e.kind == "twitch"], raw, signals)
        # a movement of the raw signals that peaks with a twitch of the same region and side is
        # that twitch seen before the other side was taken out (smeared "slow" by a coarse
        # encoding): one event, listed once
        raw = [e for e in raw if e.kind != "twitch" and not _seen_as_twitch(e, twitches)]
        raw += twitches
    events = events_link(events_measured(raw))
    if peak_on_frames:
        events = _peaks_on_frames(events, signals)
    # contractions held for seconds, which the signals' 2 s baseline absorbs
    held = sustained_find(signals.rebaselined(SUSTAINED_BASELINE_S), **sustained)
    if held:
        events = sustained_merge(events, held)
    if np.isfinite(signals.px_per_mm) and signals.px_per_mm < min_px_per_mm:
        events = [e for e in events if e.kind == "blink"]
    annotations = annotations_find(
        signals, mouth_mm=signals.mouth_mm, voice_t=signals.voice_t,
        voice_active=signals.voice_active, **annotate,
    )  # fmt: skip
    info["annotations"] = annotations
    if amplitude_gain != 1.0 or region_gain:  # reported size only: every decision above used
        # the raw reading
        events = [
            replace(e, amplitude_mm=e.amplitude_mm * amplitude_gain * region_gain.get(e.region, 1))
            for e in events
        ]
    return events_count(events, annotations), info


def _seen_as_twitch(e: Event, twitches: list[Event]) -> bool:
    """Return whether raw movement ``e`` peaks with a twitch of its region and side."""
    return e.kind == "movement" and any(
        (w.region, w.side) == (e.region, e.side) and abs(w.t_peak_s - e.t_peak_s) <= SAME_PEAK_S
        for w in twitches
    )


def _peaks_on_frames(events: list[Event], signals: RegionSignals) -> list[Event]:
    """``events`` with each size read at the tracked frames around its peak.

    The signals are resampled to an even grid at the median frame rate, starting at the first
    frame. When the frames do not lie on the grid (a first frame off the rhythm, a dropped
    frame, a variable frame rate, parts at 25 and 30 fps), each grid sample is a mix of the two
    frames either side, and a twitch whose peak fills one frame is read lower: by 0.37 of it on
    a real webcam clip whose first frame came 12 ms early (benchmarks/README.md, "Seventh
    round"). Detection stays on the grid (its thresholds were set there). For the size, the
    event's region is read again at the frames nearest the grid samples within one sample of
    its peak (``signals.frame_position_mm``), along the event's direction, from the same
    place just before its onset; the event's size is scaled by that reading over the grid's,
    between 1 and :data:`PEAK_ON_FRAMES_MAX`. Where the frames lie on the grid the two agree
    and nothing changes. Sustained contractions (held for seconds) are left as they are.
    """
    pos, near = signals.position_mm, signals.frame_position_mm
    if pos is None or near is None or not len(signals.t):
        return events
    t, fs = signals.t, signals.fs_hz
    pre_n = max(1, int(round(PRE_ONSET_S * fs)))
    out = []
    for e in events:
        key = (e.region, e.side)
        if e.kind == "sustained" or key not in signals.keys or not np.isfinite(e.direction_deg):
            out.append(e)
            continue
        j = signals.keys.index(key)
        grid = signals.displacement_mm[:, j]
        p = int(np.clip(np.searchsorted(t, e.t_peak_s), 0, len(t) - 1))
        a = int(np.searchsorted(t, e.onset_s if np.isfinite(e.onset_s) else e.t_start_s))
        pre = grid[max(0, a - pre_n) : a]
        ref = pre.mean(axis=0) if len(pre) and np.all(np.isfinite(pre)) else np.zeros(2)
        u = np.array([np.cos(np.radians(e.direction_deg)), np.sin(np.radians(e.direction_deg))])
        w = slice(max(0, p - 1), p + 2)
        frames = near[w, j] - (pos[w, j] - grid[w])  # the same baseline removed
        on_grid, on_frames = _largest((grid[w] - ref) @ u), _largest((frames - ref) @ u)
        if not (np.isfinite(on_frames) and on_grid >= PEAK_ON_FRAMES_MIN_MM):
            out.append(e)
            continue
        factor = float(np.clip(on_frames / on_grid, 1.0, PEAK_ON_FRAMES_MAX))
        out.append(replace(e, amplitude_mm=e.amplitude_mm * factor))
    return out


def _largest(x: np.ndarray) -> float:
    """Return the largest finite value of ``x``; NaN when there is none."""
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else float("nan")


def _blinks_merge(raw: list[Event], found: list[BlendshapeBlink],
                  signals: RegionSignals) -> list[Event]:  # fmt: skip
    """``raw`` with the blinks the blendshapes see (:func:`~.blendshapes.blinks_find`) in it.

    A blendshape blink that a flow blink already reports (its peak within 0.1 s of the blink's
    half-closed span, the nearest one) adds nothing. Otherwise the upper lids' largest movement
    in it becomes the blink, or, with none found, a blink event is measured from the upper
    lids' signals. Flow blinks the blendshapes do not see stay.
    """
    out = list(raw)
    claimed: set[int] = set()
    for b in found:

        def inside(e: Event, b: BlendshapeBlink = b) -> bool:
            return b.t_close_s - 0.1 <= e.t_peak_s <= b.t_open_s + 0.1

        have = [e for e in out if e.kind == "blink" and inside(e) and id(e) not in claimed]
        if have:
            claimed.add(id(min(have, key=lambda e: abs(e.t_peak_s - b.t_peak_s))))
            continue
        lids = [e for e in out if e.region == "upper_eyelid" and e.kind != "twitch" and inside(e)]
        blink = (replace(max(lids, key=lambda e: e.amplitude_mm), kind="blink", side="both",
                         reason_code="blink") if lids else _blink_event(signals, b))  # fmt: skip
        if blink is None:
            continue
        out = [e for e in out if not any(e is f for f in lids)] + [blink]
        claimed.add(id(blink))
    return sorted(out, key=lambda e: (e.t_peak_s, e.region, e.side))


def _blink_event(signals: RegionSignals, b: BlendshapeBlink) -> Event | None:
    """Return a blink event for a blendshape blink, sized by the upper lids' largest excursion.

    From where each lid was over 0.1 s before the blink began; its strongest pulse (``rise_s``,
    ``fall_s``) is the half-closed span.
    """
    t = signals.t
    best = None
    for side in ("left", "right"):
        if ("upper_eyelid", side) not in signals.keys:
            continue
        d = signals.column("upper_eyelid", side)
        pre = d[(t >= b.t_start_s - 0.1) & (t < b.t_start_s)]
        pre = pre[np.all(np.isfinite(pre), axis=1)]
        ref = pre.mean(axis=0) if len(pre) else np.zeros(2)
        sel = np.where((t >= b.t_start_s) & (t <= b.t_end_s))[0]
        mag = np.linalg.norm(d[sel] - ref, axis=-1) if len(sel) else np.zeros(0)
        if not np.any(np.isfinite(mag)):
            continue
        i = int(np.nanargmax(mag))
        if best is None or mag[i] > best[0]:
            best = (float(mag[i]), d[sel[i]] - ref)
    if best is None:
        return None
    amp, vec = best
    return Event(kind="blink", region="upper_eyelid", side="both", t_start_s=b.t_start_s,
                 t_peak_s=b.t_peak_s, t_end_s=b.t_end_s, amplitude_mm=amp,
                 direction_deg=float(direction_deg(vec[0], vec[1])), reason_code="blink",
                 rise_s=max(0.0, b.t_peak_s - b.t_close_s),
                 fall_s=max(0.0, b.t_open_s - b.t_peak_s), onset_s=b.t_start_s,
                 offset_s=b.t_end_s)  # fmt: skip


def _outside_blinks(twitches: list[Event], raw: list[Event], signals: RegionSignals) -> list[Event]:
    """``twitches`` less the eye ones during a blink.

    An eyelid event during a blink (a blink event, or both eyes' blink blendshapes rising) is
    the blink's uneven part, not a twitch: on one frame the two cannot be told apart. A brow
    event is also dropped during any other movement of both eyes' regions (a frown, both brows
    raised). A lid event is not: during a slow movement of both lids that is no blink (eyes
    widening, a glance) a one-sided lid twitch stands out. Dropping those lost 2 of the 30
    twitches injected into vitallens at rest (1.2 and 1.7 mm upper-lid twitches on a 0.6 mm
    drift of both lids) and kept no false one (benchmarks/README.md, "Sixth round").
    "During" is the bilateral event's strongest pulse, not all of it: a blink merged with
    earlier lid pulses into one burst spanned up to 1 s before its peak on real footage, and
    an injected one-sided lid twitch could be such a pulse itself.
    """
    lids = [e for e in raw if e.region in EYE_REGIONS and e.side == "both"]
    both_blink = blink_rise(signals) >= BLINK_RISE
    t = signals.t
    blinks = [e for e in lids if e.kind == "blink"]

    def in_blink(e: Event) -> bool:
        near = (t >= e.t_peak_s - 0.1) & (t <= e.t_peak_s + 0.1)
        return bool(np.any(both_blink[near])) or any(
            b0 - 0.1 <= e.t_peak_s <= b1 + 0.1
            for b0, b1 in map(_peak_pulse, lids if e.region == "brow" else blinks)
        )

    return [e for e in twitches if not (e.region in EYE_REGIONS and in_blink(e))]


#: Keyword arguments of the steps that are the data, not settings (events_process passes them).
_NOT_SETTINGS = frozenset({"raw", "mouth_mm", "voice_t", "voice_active"})

#: The sections of :func:`events_process`'s settings, each a dict of one step's settings.
SETTING_SECTIONS = ("find", "classify", "coupling", "sustained", "annotate", "blink",
                    "region_gain")  # fmt: skip


def _setting_checked(where: str, value, default):
    """``value`` of setting ``where`` if it is of its default's kind, else TypeError/ValueError.

    A number given as a string (``{"k_noise": "6"}``) had failed deep in numpy (UFuncTypeError).
    A tuple of numbers (``coupling.lags``) takes a list or tuple of numbers, whole numbers if
    the default's are (returned as a tuple of int): ``"abc"`` and ``(0, "x")`` had failed deep
    in numpy too, and ``[-1.0, 0, 1.0]`` as an IndexError.
    """
    import math
    from numbers import Integral, Real

    if isinstance(default, bool):
        return check_flag(where, value)
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"setting {where!r} must be a number, got {value!r}")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"setting {where!r} must be a finite number >= 0, got {value!r}")
        if isinstance(default, int) and not (isinstance(value, Integral) or value == int(value)):
            raise ValueError(f"setting {where!r} must be a whole number, got {value!r}")
        return int(value) if isinstance(default, int) else value
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"setting {where!r} must be a list, like {list(default)}, got "
                            f"{value!r}")  # fmt: skip
        if not all(isinstance(d, Real) and not isinstance(d, bool) for d in default):
            return value
        whole = all(isinstance(d, Integral) for d in default)
        kind = "whole numbers" if whole else "numbers"
        for item in value:
            if isinstance(item, bool) or not isinstance(item, Real):
                raise TypeError(f"setting {where!r} must be a list of {kind}, got {value!r}")
            if not math.isfinite(item) or (whole and item != int(item)):
                raise ValueError(f"setting {where!r} must be a list of finite {kind}, got "
                                 f"{value!r}")  # fmt: skip
        return tuple(int(item) for item in value) if whole else tuple(value)
    return value


def settings_check(settings) -> dict:
    """Return ``settings`` (:func:`events_process`'s keyword arguments) checked, as a new dict.

    Raises TypeError for settings that are not a dict (or a section that is not one) and for a
    value of the wrong type, ValueError for an unknown name; the sections' names and values are
    checked as :func:`events_process` checks them. Done before any work starts.
    """
    from collections.abc import Mapping

    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise TypeError(f"settings must be a dict of detector settings, got {settings!r}")
    allowed = [n for n in inspect.signature(events_process).parameters if n != "signals"]
    allowed.append("sensitivity")  # the analysis' (facetwitch.signal.sensitivity), not this one's
    unknown = sorted(str(k) for k in settings if k not in allowed)
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    out = dict(settings)
    for name in (*SETTING_SECTIONS, "sensitivity"):
        if out.get(name) is not None and not isinstance(out[name], Mapping):
            raise TypeError(f"setting {name!r} must be a dict, got {out[name]!r}")
    if out.get("sensitivity") is not None:
        out["sensitivity"] = sensitivity_settings(out["sensitivity"])
    for name in ("coupled", "peak_on_frames"):
        if name in out:
            out[name] = check_flag(name, out[name])
    if "min_px_per_mm" in out:
        out["min_px_per_mm"] = _setting_checked("min_px_per_mm", out["min_px_per_mm"], 1.0)
    if out.get("amplitude_gain") is not None:
        out["amplitude_gain"] = _setting_checked("amplitude_gain", out["amplitude_gain"], 1.0)
    for k, v in dict(out.get("region_gain") or {}).items():
        _setting_checked(f"region_gain.{k}", v, 1.0)
    for name, func in (("find", events_find), ("classify", events_classify),
                       ("coupling", coupled_residual), ("sustained", sustained_find),
                       ("annotate", annotations_find), ("blink", blinks_find)):  # fmt: skip
        given = dict(out.get(name) or {})
        checked = _defaults(func, given, section=name)
        if out.get(name) is not None:  # the values as checked: a whole number given as 3.0
            out[name] = {k: checked[k] for k in given}  # is 3 (range(3.0) fails)
    return out


def sensitivity_settings(given: dict | None = None) -> dict:
    """Return the sensitivity test's settings (:func:`~.sensitivity.sensitivity_test`), checked.

    ``given`` over the defaults; ValueError for a name it does not take, TypeError or
    ValueError for a value not of its default's kind.
    """
    from .sensitivity import sensitivity_test

    names = ("seed", "levels_mm", "tests_per_level", "max_runs")
    params = inspect.signature(sensitivity_test).parameters
    unknown = sorted(str(k) for k in set(given or {}) - set(names))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)} for sensitivity; allowed: "
                         f"{', '.join(names)}")  # fmt: skip
    out = {n: params[n].default for n in names}
    for name, value in dict(given or {}).items():
        out[name] = _setting_checked(f"sensitivity.{name}", value, params[name].default)
    from ..simulation.plan import MAX_AMPLITUDE_MM

    if not out["levels_mm"] or any(not 0 < x <= MAX_AMPLITUDE_MM for x in out["levels_mm"]):
        raise ValueError(f"setting 'sensitivity.levels_mm' must be sizes above 0 mm and up to "
                         f"{MAX_AMPLITUDE_MM:g} mm, got {list(out['levels_mm'])}")  # fmt: skip
    out["levels_mm"] = tuple(sorted(float(x) for x in out["levels_mm"]))
    return out


def _defaults(func, given: dict, section: str | None = None) -> dict:
    """``func``'s keyword settings (those with defaults) with ``given`` applied, by name.

    Raises ValueError for a name ``func`` does not take (a misspelt setting must not be
    silently ignored), TypeError or ValueError for a value not of its default's kind.
    """
    params = {n: p for n, p in inspect.signature(func).parameters.items()
              if n not in _NOT_SETTINGS}  # fmt: skip
    unknown = sorted(str(k) for k in set(given) - set(params))
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(unknown)} for {func.__name__}; allowed: "
            f"{', '.join(n for n, p in params.items() if p.default is not p.empty)}"
        )
    given = {
        name: _setting_checked(f"{section or func.__name__}.{name}", value, params[name].default)
        for name, value in given.items()
    }
    out = {
        name: p.default
        for name, p in params.items()
        if p.default is not p.empty and p.default is not None and name != "raw"
    }
    out.update(given)
    return out


def _settings_info(signals: RegionSignals, **settings) -> dict:
    """Return the ``info`` of :func:`events_process`.

    Every setting used.
    """
    from . import blendshapes, classify, peaks

    return {
        "method": signals.method,
        "fs_hz": round_or_none(signals.fs_hz, 6),
        "baseline_s": float(signals.baseline_s),
        "px_per_mm": round_or_none(signals.px_per_mm, 4),
        "coupled": bool(settings["coupled"]),
        "min_px_per_mm": float(settings["min_px_per_mm"]),
        "amplitude_gain": float(settings["amplitude_gain"]),
        "region_gain": dict(settings["region_gain"]),
        "peak_on_frames": bool(settings["peak_on_frames"]),
        "find": _defaults(events_find, settings["find"]),
        "classify": _defaults(events_classify, settings["classify"]),
        "coupling": _defaults(coupled_residual, settings["coupling"]),
        "blink": _defaults(blinks_find, settings["blink"]),
        "sustained": {
            **_defaults(sustained_find, settings["sustained"]),
            "baseline_s": SUSTAINED_BASELINE_S,
            "link_s": SUSTAINED_LINK_S,
        },
        "link": _defaults(events_link, {}),
        "annotate": {
            k: v
            for k, v in _defaults(annotations_find, settings["annotate"]).items()
            if k not in ("mouth_mm", "voice_t", "voice_active")
        },
        "sound": signals.voice_t is not None,
        "constants": {
            "peak_distance_s": peaks.PEAK_DISTANCE_S,
            "edge_fraction": peaks.EDGE_FRACTION,
            "edge_k_noise": peaks.EDGE_K_NOISE,
            "edge_max_s": peaks.EDGE_MAX_S,
            "pulse_fraction": peaks.PULSE_FRACTION,
            "pulse_distance_s": peaks.PULSE_DISTANCE_S,
            "blink_rise": blendshapes.BLINK_RISE,
            "blink_onset_s": blendshapes.BLINK_ONSET_S,
            "max_head_dps": classify.MAX_HEAD_DPS,
            "rise_min_samples": classify.RISE_MIN_SAMPLES,
        },
    }
