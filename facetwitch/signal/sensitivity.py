"""How small a twitch this recording could show: synthetic twitches added to its own signals.

"No twitch found" means little without the size a twitch needed to be found. That size depends
on the recording: its light, its compression, the face's size in the picture, and how busy the
face was in the time that could be assessed. So it is measured on the recording itself, as
spike detectors measure their detection rate: twitches of known sizes are added to the region
signals (each alone in its region and side, spaced apart, at random assessable moments away
from what was found there), the whole detector (:func:`~.detect.events_process`, with the
analysis' own settings) runs again, and each added twitch is found or not. The profile and the
regions are the simulator's (:func:`~facetwitch.simulation.plan.twitch_simulate`: a 30-80 ms
rise, 0.1-0.6 s in all, a quarter of them bursts; lips, mouth corners, lids, cheeks, brows).

A twitch in the video reaches the region signals smaller than it is: the flow, the video's
encoding and the grid lose part of it, and not always the same part. :data:`READ_FRACTION` and
:data:`READ_SPREAD` are that loss, measured: twitches of 1.5-3 mm injected into real video (the
real set's tuning clips, ``benchmarks/real.py``; 139 twitches) read 0.64 of their size in the
signals (median; a quarter under 0.53, a quarter over 0.71, so a spread of about 0.13). So a
twitch of size A is added as ``r x A``, ``r`` drawn from that spread, and the sizes said are
true sizes, the simulator's. The regions do not read alike (the mouth corner 0.52 of a twitch,
the lower lid 0.72: :data:`READ_BY_REGION`), so ``r`` is the region's own.

``regions`` and ``sides`` focus the test on one place: the patient's complaint
(``complaint.sensitivity``), so that "no twitch at my left upper lip" can be read beside the
size one needed to be found there.

Checked against the video injections themselves (``benchmarks/sensitivity.py``;
benchmarks/README.md, "Sensitivity, tested on each recording"): pooled over the held-out part
of the real set, 0.32 / 0.60 / 0.74 / 0.75 of the test twitches of 1 / 1.5 / 2 / 3 mm were
found, against 0.26 / 0.53 / 0.63 / 0.77 of the twitches injected into the video.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import maximum_filter1d

from .._validate import check_positive
from .annotate import Annotation
from .event import Event
from .regions import RegionSignals

#: The sizes tested (true mm): the benchmarks' injected twitches are 0.5-3 mm, but under
#: ``find.min_amplitude_mm / READ_FRACTION`` (0.78 mm) none is ever found (the detector's
#: floor, said as such: :attr:`Sensitivity.floor_mm`), so testing there would spend runs.
LEVELS_MM = (1.0, 1.5, 2.0, 3.0)
#: What a twitch in the video reads in the region signals, as a fraction of its size, and the
#: standard deviation of that fraction from one twitch to another (see the module's doc; each
#: test twitch's fraction is kept within 0.3-1). Without the spread the test found 0.11-0.12
#: more than the video at 1.5-2 mm (held out): the video's share found rises more slowly.
READ_FRACTION = 0.64
READ_SPREAD = 0.11
#: ... and by region, as a factor on :data:`READ_FRACTION`: the regions do not read a twitch
#: alike. Over the real set's tuning part (all its sources, 170 twitches of 1.5-3 mm injected
#: into the video, 18-28 a region) the median read was 0.61, the mouth corner's 0.52 and the
#: lower lid's 0.72 (bootstrap standard errors 0.02-0.04); each factor is the region's median
#: over that 0.61. :data:`READ_SPREAD` is then the spread within a region (0.125 of 0.15
#: pooled there: 0.13 x 0.83).
READ_BY_REGION = {
    "upper_lip": 0.98,
    "lower_lip": 0.95,
    "mouth_corner": 0.84,
    "upper_eyelid": 1.10,
    "lower_eyelid": 1.17,
    "cheek": 0.92,
    "brow": 1.02,
}
#: Added twitches are at least this far apart (s), all on one side in a run (the other side is
#: what the coupling fit predicts each side from, so an added twitch is never a predictor of
#: another). Over 7 real clips (msu, vitallens, mixed, bob; 40 tests a size) 1.5 s found
#: 0.34 / 0.71 / 0.73 / 0.82 at 1 / 1.5 / 2 / 3 mm and 2.5 s 0.35 / 0.63 / 0.70 / 0.84, in
#: 0.65 of the time.
SPACING_S = 1.5
#: ... and this far (s) from any twitch the analysis found (so that found means this one), and
#: from the edges of the tracked stretch (where no event is measured).
AWAY_S = 0.6
#: An added twitch is found when a counted twitch of its side peaks within this (s) of it (the
#: benchmarks' matching window); its region may be read as a neighbour's, as with real ones.
MATCH_S = 0.25
#: Tests to aim for per size; runs of the detector at most (a short clip holds few twitches at
#: a time, so it takes several runs; a long one, one run).
TESTS_PER_LEVEL = 8
MAX_RUNS = 6
#: ... and at most this many grid samples run through the detector in all (six runs of a
#: minute at 30 Hz), yet always one run: a long stretch with little assessable time (an hour
#: of talking with a few quiet seconds in each 10 min) holds few test twitches a run, and six
#: runs of each 10 min stretch would add six times the detector's time for them.
MAX_TEST_SAMPLES = 6 * 60 * 30


@dataclass(frozen=True)
class Sensitivity:
    """Added twitches found, by size (:func:`sensitivity_test`).

    Attributes
    ----------
    levels_mm : tuple of float
        The sizes tested (true mm).
    tested, found : tuple of int
        Added twitches of each size, and those found.
    """

    levels_mm: tuple[float, ...]
    tested: tuple[int, ...]
    found: tuple[int, ...]
    #: Under this size (true mm) no twitch is ever found: the detector's amplitude floor
    #: (``find.min_amplitude_mm``) over :data:`READ_FRACTION`.
    floor_mm: float = 0.5 / READ_FRACTION

    def fraction(self, i: int) -> float:
        """Share of the twitches of size ``levels_mm[i]`` found (NaN: none tested)."""
        return self.found[i] / self.tested[i] if self.tested[i] else float("nan")

    def blocks(self) -> list[tuple[float, float, int, int]]:
        """Return the sizes in groups whose share found does not fall as the size grows.

        ``(smallest_mm, largest_mm, found, tested)`` per group, smallest sizes first. A larger
        twitch is not harder to find: where a few tests say so (4 of 6 at 3 mm after 6 of 6 at
        2 mm, a test twitch falling on a blink), the neighbouring sizes are pooled
        (pool-adjacent-violators, each size weighted by its tests), so that what is said does
        not hang on one miss. Sizes with no test are left out.
        """
        groups = [[self.found[i], self.tested[i], [i]] for i in range(len(self.levels_mm))
                  if self.tested[i]]  # fmt: skip
        j = 0
        while j < len(groups) - 1:
            a, b = groups[j], groups[j + 1]
            if a[0] / a[1] > b[0] / b[1]:
                groups[j : j + 2] = [[a[0] + b[0], a[1] + b[1], a[2] + b[2]]]
                j = max(0, j - 1)
            else:
                j += 1
        return [(self.levels_mm[m[0]], self.levels_mm[m[-1]], k, n) for k, n, m in groups]

    def fractions_monotone(self) -> np.ndarray:
        """Return the shares found by size, pooled as :meth:`blocks` (NaN: none tested)."""
        out = np.full(len(self.levels_mm), np.nan)
        for lo, hi, k, n in self.blocks():
            out[[i for i, mm in enumerate(self.levels_mm) if lo <= mm <= hi]] = k / n
        return out

    def size_found(self, share: float) -> float | None:
        """Return the smallest size found at least ``share`` of the time (monotone shares).

        None when even the largest was not (or nothing was tested).
        """
        frac = self.fractions_monotone()
        hit = [mm for mm, f in zip(self.levels_mm, frac, strict=True) if f >= share]
        return hit[0] if hit else None

    def __add__(self, other: Sensitivity) -> Sensitivity:
        """Return the two together (the stretches of a long recording)."""
        if self.levels_mm != other.levels_mm:
            raise ValueError("sensitivities of different sizes cannot be added")
        return Sensitivity(self.levels_mm,
                           tuple(a + b for a, b in zip(self.tested, other.tested, strict=True)),
                           tuple(a + b for a, b in zip(self.found, other.found, strict=True)),
                           self.floor_mm)  # fmt: skip

    def to_dict(self) -> dict:
        """report.json's ``summary.sensitivity``."""
        return {
            "levels": [{"amplitude_mm": mm, "tested": n, "found": k}
                       for mm, n, k in zip(self.levels_mm, self.tested, self.found, strict=True)],
            "groups": [{"from_mm": lo, "to_mm": hi, "found": k, "tested": n}
                       for lo, hi, k, n in self.blocks()],
            "found_90_mm": self.size_found(0.9),
            "found_50_mm": self.size_found(0.5),
            "floor_mm": round(self.floor_mm, 2),
            "read_fraction": READ_FRACTION,
            "read_spread": READ_SPREAD,
            "read_by_region": dict(READ_BY_REGION),
            "method": "synthetic twitches added to this recording's region signals, in "
                      "assessable time, and the detector run again",
        }  # fmt: skip


def sensitivity_test(
    signals: RegionSignals,
    events: list[Event],
    annotations: list[Annotation],
    *,
    settings: dict | None = None,
    coupled: bool = True,
    within_s: tuple[float, float] = (-np.inf, np.inf),
    seed: int = 0,
    levels_mm: tuple[float, ...] = LEVELS_MM,
    tests_per_level: int = TESTS_PER_LEVEL,
    max_runs: int = MAX_RUNS,
    regions: tuple[str, ...] | None = None,
    sides: tuple[str, ...] = ("left", "right"),
) -> Sensitivity:
    """Add twitches of known sizes to ``signals``, run the detector again, count those found.

    Parameters
    ----------
    signals : RegionSignals
        The recording's region signals (flow), as analysed.
    events, annotations : list
        What the analysis found in them: added twitches keep :data:`AWAY_S` from its twitches
        and go only where no ``BAD_`` span lies.
    settings, coupled
        The analysis' detector settings (:func:`~.detect.events_process`'s keyword arguments).
    within_s : (float, float)
        Added twitches peak in this time only (a stretch's own part of a long recording).
    seed : int
        Where, which regions, which directions: the same seed gives the same test.
    levels_mm, tests_per_level, max_runs
        Sizes (true mm); tests aimed for per size; runs of the detector at most.
    regions, sides : tuple of str, optional
        Test only these regions (default: every region the simulator moves) and sides (the
        patient's own; one side a run, in turn): the patient's own complaint, tested on its
        own (``complaint.sensitivity``). Regions the simulator does not move (nose, chin) are
        left out; with none left, nothing is tested.

    Returns
    -------
    Sensitivity
        With nothing tested where no moment qualifies (too little assessable time).
    """
    from ..simulation.plan import DEFAULT_REGIONS, event_profile, twitch_simulate
    from .detect import _defaults, events_process
    from .peaks import events_find

    check_positive("tests_per_level", tests_per_level)
    levels = tuple(float(x) for x in levels_mm)
    tested, found = [0] * len(levels), [0] * len(levels)
    find = _defaults(events_find, dict((settings or {}).get("find") or {}), section="find")
    floor_mm = float(find["min_amplitude_mm"]) / READ_FRACTION
    moved = tuple(r for r in (DEFAULT_REGIONS if regions is None else regions)
                  if r in DEFAULT_REGIONS)  # fmt: skip
    sides = tuple(s for s in ("left", "right") if s in sides)
    slots = _slots(signals, events, annotations, within_s)
    if not (len(slots) and moved and sides):
        return Sensitivity(levels, tuple(tested), tuple(found), floor_mm)
    rng = np.random.default_rng(seed)
    t = signals.t
    per_run = _spread(slots, SPACING_S, rng)
    runs = int(min(max_runs, np.ceil(len(levels) * tests_per_level / max(1, len(per_run))),
                   max(1, MAX_TEST_SAMPLES // max(1, len(t)))))  # fmt: skip
    # sizes in shuffled rounds of one each, so that every size gets its share of the tests
    rounds = max(1, runs) * len(per_run) // len(levels) + 2
    sizes = np.concatenate([rng.permutation(len(levels)) for _ in range(rounds)])
    k = 0
    for run in range(max(1, runs)):
        at = per_run if run == 0 else _spread(slots, SPACING_S, rng)
        # one side a run: the other side, which the coupling fit predicts each side from, is
        # left as it was (an added twitch is never a predictor of another)
        side = sides[(run + seed) % len(sides)]
        plan = twitch_simulate(len(at), len(at) + 2.0, min_spacing_s=0.7, margin_s=0.0,
                               regions=moved, sides=(side,),
                               seed=int(rng.integers(1 << 31)))  # fmt: skip
        d = signals.displacement_mm.copy()
        added = []
        for t_peak, ev in zip(at, plan, strict=True):
            lvl = int(sizes[k % len(sizes)])
            k += 1
            ev = dict(ev, t_start_s=ev["t_start_s"] - ev["t_peak_s"] + t_peak, t_peak_s=t_peak)
            j = signals.keys.index((ev["region"], ev["side"]))
            mean = READ_FRACTION * READ_BY_REGION.get(ev["region"], 1.0)
            read = float(np.clip(mean + READ_SPREAD * rng.standard_normal(), 0.3, 1))
            a = levels[lvl] * read * event_profile(ev, t)
            ang = np.radians(ev["direction_deg"])
            d[:, j, 0] += a * np.cos(ang)
            d[:, j, 1] += a * np.sin(ang)
            added.append((t_peak, ev["side"], lvl))
        got, _ = events_process(replace(signals, displacement_mm=d), coupled=coupled,
                                **(settings or {}))  # fmt: skip
        hits = [(e.t_peak_s, e.side) for e in got if e.kind == "twitch" and e.counted]
        for t_peak, side, lvl in added:
            tested[lvl] += 1
            found[lvl] += any(s == side and abs(tp - t_peak) <= MATCH_S for tp, s in hits)
    return Sensitivity(levels, tuple(tested), tuple(found), floor_mm)


def _slots(signals: RegionSignals, events: list[Event], annotations: list[Annotation],
           within_s: tuple[float, float]) -> np.ndarray:  # fmt: skip
    """Return the grid times where a twitch may be added (see :func:`sensitivity_test`)."""
    t = signals.t
    if not len(t):
        return np.zeros(0)
    ok = np.asarray(signals.valid, bool).copy()
    for a in annotations:
        if a.description.startswith("BAD"):
            ok &= ~((t >= a.onset_s) & (t <= a.end_s))
    # away from the edges of every tracked piece (and of the signals): a twitch there is not
    # measured
    n = max(1, int(round(AWAY_S * signals.fs_hz)))
    gone = (~np.asarray(signals.valid, bool)).astype(np.uint8)
    ok &= maximum_filter1d(gone, size=2 * n + 1, mode="constant", cval=1) == 0
    for e in events:
        if e.kind == "twitch":
            ok &= ~((t >= e.t_start_s - AWAY_S) & (t <= e.t_end_s + AWAY_S))
    ok &= (t >= within_s[0]) & (t < within_s[1])
    return t[ok]


def _spread(slots: np.ndarray, spacing_s: float, rng: np.random.Generator) -> list[float]:
    """Return times drawn from ``slots`` at random, at least ``spacing_s`` apart, sorted."""
    import bisect

    chosen: list[float] = []
    for x in rng.permutation(slots):
        i = bisect.bisect(chosen, x)
        if (i == 0 or x - chosen[i - 1] >= spacing_s) and (
            i == len(chosen) or chosen[i] - x >= spacing_s
        ):
            chosen.insert(i, float(x))
    return chosen


__all__ = ["LEVELS_MM", "READ_FRACTION", "READ_SPREAD", "Sensitivity", "sensitivity_test"]
