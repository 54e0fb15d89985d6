"""Sustained one-sided contractions (the tonic phase of hemifacial spasm, or a held expression)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.ndimage import median_filter

from ..conventions import (
    EYE_REGIONS,
    direction_deg,
    flip_side,
)
from .classify import MAX_HEAD_DPS, _group_of, events_group, events_link
from .event import Event
from .peaks import _extent, noise_estimate
from .regions import RegionSignals, _segments

# -- sustained one-sided contractions -----------------------------------------------------------
#: Baseline (running median, seconds) of the signals :func:`sustained_find` reads: long enough
#: that a contraction held for a few seconds is not absorbed by it, as it is by the twitch
#: signals' 2 s baseline (a 2 mm contraction held 2 s gave no event at all there).
SUSTAINED_BASELINE_S = 10.0


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
    """One-sided displacements that rise fast and are held (tonic spasm).

    As ``movement`` events with ``reason_code`` ``"sustained"``.

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
                snr=float(min(level / max(noise, 1e-6), 999.0)), reason_code="sustained",
                rise_s=float(t[i75] - t[i25]),
            ))  # fmt: skip
    # one contraction shows in neighbouring regions of one side: keep the strongest of each
    # region group (eye / mouth) among overlapping ones, the others in also_moved
    return events_group(out, together=lambda e, f: min(e.t_end_s, f.t_end_s) >
                        max(e.t_start_s, f.t_start_s))  # fmt: skip


#: Eye blendshapes (left/right pairs) whose joint rise means both eyes acted together.
_EYE_ACTIONS = ("eyeBlink", "eyeLookDown", "eyeLookUp", "eyeSquint", "eyeWide")


def _both_eyes_act(signals: RegionSignals, a: int, b: int, *, rise: float = 0.1) -> bool:
    """Both eyes' blink.

    Gaze or squint blendshapes rose alike (each by ``rise`` or more, the smaller at least half the
    larger) over samples ``a:b`` against the 0.5 s before: looking down or half-closing both eyes
    moves the lids of both sides, which the region flow of one side can over-read (seen at rest: 4.5
    mm on one lower lid while looking down, both eyes' blendshapes up by 0.5-0.7).
    """
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
    """``events`` (from :func:`events_process`) plus ``sustained``.

    Movements of the same region and side that peak inside a sustained event are its onset seen by
    the short baseline and are dropped. Ids, links and confidences are redone (:func:`events_link`);
    an eye and a mouth contraction of one side that begin within ``link_s`` of each other are linked
    in ``co_occurring`` (the tonic form of the hemifacial-spasm sign).
    """

    def inside(e: Event) -> bool:
        return any(s.side == e.side and (s.region == e.region or e.region in s.also_moved)
                   and s.t_start_s <= e.t_peak_s <= s.t_end_s for s in sustained)  # fmt: skip

    keep = [e for e in events if not (e.kind == "movement" and inside(e))]
    out = events_link(keep + list(sustained))
    held = [e for e in out if e.reason_code == "sustained"]
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
