"""Planning: which twitches and blinks, where, when, how big, and their temporal profile.

:func:`twitch_simulate` draws a plan at random, reproducibly by ``seed``: region, side,
amplitude in mm, direction in degrees (CONVENTIONS face frame: 0 = toward the patient's left,
90 = up), onset, and a temporal profile (raised-cosine rise of 30-80 ms, exponential-like decay
back to 0, 100-600 ms in all; sometimes a burst of 2-4 pulses), and optionally blinks.
:func:`event_profile` gives an event's displacement over time as a fraction of its amplitude.
"""

from __future__ import annotations

import numpy as np

from .._text import plural
from .._validate import check_option
from ..conventions import REGIONS, direction_word

#: Shape constant of the exponential-like decay (higher = faster early fall).
DECAY_K = 3.0
#: Default regions of planned twitches.
DEFAULT_REGIONS = (
    "upper_lip",
    "lower_lip",
    "mouth_corner",
    "upper_eyelid",
    "lower_eyelid",
    "cheek",
    "brow",
)

# Fields of report.json's events that the truth carries (CONVENTIONS.md).
_REPORT_FIELDS = (
    "id",
    "kind",
    "region",
    "side",
    "t_start_s",
    "t_peak_s",
    "t_end_s",
    "duration_s",
    "amplitude_mm",
    "direction_deg",
    "direction",
    "pulse_count",
)


# ------------------------------------------------------------------------------------------
# Temporal profile
# ------------------------------------------------------------------------------------------
def _pulse(u: np.ndarray, rise_s: float, decay_s: float, hold_s: float = 0.0) -> np.ndarray:
    """Return one pulse 0 -> 1 -> 0 at times ``u`` (s) after its onset.

    Raised-cosine rise (``rise_s``), held at 1 for ``hold_s`` (a tonic contraction; 0 for a
    twitch), exp-like decay (``decay_s``).
    """
    u = np.asarray(u, dtype=float)
    out = np.zeros_like(u)
    r = (u >= 0) & (u < rise_s)
    out[r] = 0.5 * (1.0 - np.cos(np.pi * u[r] / rise_s))
    out[(u >= rise_s) & (u < rise_s + hold_s)] = 1.0
    d = (u >= rise_s + hold_s) & (u < rise_s + hold_s + decay_s)
    s = (u[d] - rise_s - hold_s) / decay_s
    out[d] = (np.exp(-DECAY_K * s) - np.exp(-DECAY_K)) / (1.0 - np.exp(-DECAY_K))
    return out


def event_profile(event: dict, t_s: np.ndarray | float) -> np.ndarray:
    """Compute the displacement of ``event`` at times ``t_s``, as a fraction of its amplitude.

    Pulses of a burst combine by their maximum, so the amplitude is reached once, at
    ``t_peak_s`` (the first pulse has gain 1, later ones less).

    Parameters
    ----------
    event : dict
        A planned event: ``t_start_s`` (s) and ``profile["pulses"]``, each pulse
        ``[offset_s, gain, rise_s, decay_s]`` (s, from ``t_start_s``), or with a fifth number
        ``hold_s``, held at its peak that long (a tonic contraction).
    t_s : float or ndarray
        Times in seconds (the video's time axis).

    Returns
    -------
    ndarray
        The displacement at each time, 0..1 (at least one dimensional).
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=float)) - float(event["t_start_s"])
    out = np.zeros_like(t)
    for offset_s, gain, rise_s, decay_s, *hold in event["profile"]["pulses"]:
        out = np.maximum(out, gain * _pulse(t - offset_s, rise_s, decay_s, *hold[:1]))
    return out


# ------------------------------------------------------------------------------------------
# Planning
# ------------------------------------------------------------------------------------------
#: The largest twitch :func:`twitch_simulate` plans, in mm: past what facial skin moves (a
#: smile moves a mouth corner about 10-15 mm).
MAX_AMPLITUDE_MM = 20.0


def _as_range(name: str, value, lo_ok: float = 0.0) -> tuple[float, float]:
    from numbers import Real

    pair = (value, value) if isinstance(value, Real) else value
    if (
        isinstance(value, (str, bytes))
        or not hasattr(pair, "__len__")
        or len(pair) != 2
        or not all(isinstance(x, Real) and not isinstance(x, bool) for x in pair)
    ):
        # a str had failed in numpy's isfinite, a 3-tuple as "too many values to unpack"
        raise TypeError(f"{name!r} must be a number or a (low, high) pair of numbers, "
                        f"got {value!r}")  # fmt: skip
    lo, hi = (float(x) for x in pair)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or lo < lo_ok:
        raise ValueError(
            f"{name!r} must be a number or a (low, high) range >= {lo_ok}, got {value!r}."
        )
    return float(lo), float(hi)


def twitch_simulate(
    n_events: int,
    duration_s: float,
    *,
    regions=DEFAULT_REGIONS,
    sides=("left", "right"),
    amplitude_mm=(1.0, 3.0),
    direction_deg=None,
    event_duration_s=(0.1, 0.6),
    rise_s=(0.03, 0.08),
    burst_fraction: float = 0.25,
    n_blinks: int = 0,
    min_spacing_s: float = 1.0,
    margin_s: float = 0.5,
    seed=None,
) -> list[dict]:
    """Plan ``n_events`` twitches (and ``n_blinks`` blinks) at random, reproducibly.

    Parameters
    ----------
    n_events : int
        Number of twitches.
    duration_s : float
        Length of the video the plan is for, in seconds.
    regions, sides : sequence of str
        Drawn from uniformly (CONVENTIONS vocabularies; ``side`` is the patient's own).
    amplitude_mm : float or (low, high)
        Peak skin displacement, in mm (uniform in the range).
    direction_deg : float, (low, high) or None
        Face-frame direction in degrees (0 = toward the patient's left, 90 = up); None draws
        uniformly on the circle.
    event_duration_s : (low, high)
        Total duration of a single-pulse twitch, in s (rise + decay).
    rise_s : (low, high)
        Rise time (onset to peak) of a pulse, in s.
    burst_fraction : float
        Probability that a twitch is a burst of 2-4 pulses (total still within
        ``event_duration_s[1]``).
    n_blinks : int
        Blinks to add (150-300 ms, both upper eyelids).
    min_spacing_s : float
        Minimum time between the peaks of consecutive events, in s (events never overlap).
    margin_s : float
        No event peaks within this many seconds of the start or the end.
    seed : int or numpy Generator, optional
        Same seed, same plan.

    Returns
    -------
    list of dict
        Events sorted by time, in report.json's event fields (``id``, ``kind``, ``region``,
        ``side``, ``t_start_s``, ``t_peak_s``, ``t_end_s``, ``duration_s``, ``amplitude_mm``,
        ``direction_deg``, ``direction``, ``pulse_count``) plus ``profile`` (the pulses:
        ``[offset_s, gain, rise_s, decay_s]``). A blink's ``amplitude_mm`` is None until
        :func:`~facetwitch.simulation.video_inject` measures the eye opening.
    """
    n_events, n_blinks = int(n_events), int(n_blinks)
    regions, sides, amp, dur, rise = _plan_check(
        n_events, n_blinks, regions, sides, amplitude_mm, event_duration_s, rise_s, min_spacing_s
    )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    peaks, kinds = _peaks_draw(rng, n_events, n_blinks, duration_s, dur[1], min_spacing_s, margin_s)
    events = []
    for i, (t_peak, kind) in enumerate(zip(peaks, kinds, strict=True)):
        if kind == "blink":
            ev, pulses, total = _blink_draw(rng)
        else:
            ev, pulses, total = _twitch_draw(
                rng, regions, sides, amp, dur, rise, burst_fraction, direction_deg
            )
        events.append(_event_timed(ev, i + 1, float(t_peak), pulses, total))
    return events


def _plan_check(n_events, n_blinks, regions, sides, amplitude_mm, event_duration_s, rise_s,
                min_spacing_s):  # fmt: skip
    """Validate the planning options.

    Returns the regions, the sides and the (low, high) ranges of amplitude (mm), duration (s)
    and rise (s).
    """
    if n_events < 0 or n_blinks < 0:
        raise ValueError("'n_events' and 'n_blinks' must be >= 0.")
    regions, sides = list(regions), list(sides)
    for r in regions:
        check_option("regions", r, REGIONS)
    for s in sides:
        check_option("sides", s, ("left", "right", "both"))
    if not regions or not sides:
        raise ValueError("'regions' and 'sides' must not be empty.")
    amp = _as_range("amplitude_mm", amplitude_mm)
    if amp[0] <= 0 or amp[1] > MAX_AMPLITUDE_MM:  # 0 is no twitch; 1e9 mm warped a smear into
        # the frame while the truth file recorded a billion millimetres
        raise ValueError(f"'amplitude_mm' must lie in (0, {MAX_AMPLITUDE_MM:g}] mm (a twitch "
                         f"moves skin by millimetres), got {amplitude_mm!r}.")  # fmt: skip
    dur = _as_range("event_duration_s", event_duration_s)
    rise = _as_range("rise_s", rise_s)
    if rise[1] >= dur[0]:
        raise ValueError("'rise_s' must be shorter than the shortest 'event_duration_s'.")
    if dur[1] > min_spacing_s * 0.9:
        raise ValueError("'min_spacing_s' must exceed the longest event by 10%.")
    return regions, sides, amp, dur, rise


def _peaks_draw(rng, n_events, n_blinks, duration_s, longest_s, min_spacing_s, margin_s):
    """Draw the peak times (s, sorted, ``min_spacing_s`` apart) and the kind of each event."""
    n = n_events + n_blinks
    lo, hi = margin_s, float(duration_s) - margin_s - longest_s
    free = (hi - lo) - (n - 1) * min_spacing_s
    if n and free < 0:
        raise ValueError(
            f"{plural(n, 'event')} {min_spacing_s} s apart do not fit in {duration_s} s "
            f"(margins {margin_s} s)."
        )
    peaks = np.sort(rng.uniform(0.0, free, n)) + lo + np.arange(n) * min_spacing_s
    kinds = np.array(["twitch"] * n_events + ["blink"] * n_blinks)
    return peaks, kinds[rng.permutation(n)]


def _blink_draw(rng) -> tuple[dict, list[list[float]], float]:
    """Draw one blink (150-300 ms, rise 40 % of it): its fields, pulses and duration (s)."""
    total = rng.uniform(0.15, 0.3)
    r = 0.4 * total
    ev = {
        "kind": "blink",
        "region": "upper_eyelid",
        "side": "both",
        "amplitude_mm": None,
        "direction_deg": 270.0,
    }
    return ev, [[0.0, 1.0, r, total - r]], total


def _twitch_draw(rng, regions, sides, amp, dur, rise, burst_fraction, direction_deg):
    """Draw one twitch: its fields, pulses and duration (s)."""
    pulses, total = _twitch_pulses_draw(rng, dur, rise, burst_fraction)
    if direction_deg is None:
        ang = rng.uniform(0.0, 360.0)
    else:
        ang = rng.uniform(*_as_range("direction_deg", direction_deg, lo_ok=-360.0))
    ev = {
        "kind": "twitch",
        "region": str(rng.choice(regions)),
        "side": str(rng.choice(sides)),
        "amplitude_mm": round(float(rng.uniform(*amp)), 3),
        "direction_deg": round(float(ang % 360.0), 1),
    }
    return ev, pulses, total


def _twitch_pulses_draw(rng, dur, rise, burst_fraction) -> tuple[list[list[float]], float]:
    """Draw a twitch's pulses (one, or a burst of 2-4) and its total duration (s)."""
    n_pulses = int(rng.integers(2, 5)) if rng.uniform() < burst_fraction else 1
    if n_pulses == 1:
        total = rng.uniform(*dur)
        r = rng.uniform(rise[0], min(rise[1], total - 0.05))
        return [[0.0, 1.0, r, total - r]], total
    r = rng.uniform(rise[0], min(rise[1], 0.045))
    decay = rng.uniform(0.06, 0.09)
    interval = r + decay + rng.uniform(0.0, 0.03)
    interval = min(interval, (dur[1] - (r + decay)) / (n_pulses - 1))
    gains = np.r_[1.0, rng.uniform(0.6, 0.9, n_pulses - 1)]
    pulses = [[k * interval, float(g), r, decay] for k, g in enumerate(gains)]
    return pulses, (n_pulses - 1) * interval + r + decay


def _event_timed(ev: dict, event_id: int, t_peak: float, pulses, total: float) -> dict:
    """Complete ``ev`` with its id, times and profile, in report.json's field order.

    The first pulse peaks at ``t_peak`` (s).
    """
    t_start = t_peak - pulses[0][2]
    ev.update(
        {
            "id": event_id,
            "t_start_s": round(t_start, 4),
            "t_peak_s": round(t_peak, 4),
            "t_end_s": round(t_start + total, 4),
            "duration_s": round(total, 4),
            "direction": direction_word(ev["direction_deg"]),
            "pulse_count": len(pulses),
            "profile": {"pulses": [[round(float(x), 4) for x in p] for p in pulses]},
        }
    )
    return _ordered(ev)


def _ordered(ev: dict) -> dict:
    """Return ``ev`` with report.json's event fields first, in their order."""
    head = {k: ev[k] for k in _REPORT_FIELDS if k in ev}
    return {**head, **{k: v for k, v in ev.items() if k not in head}}


def _shift(ev: dict, dt: float) -> dict:
    """Return a copy of ``ev`` moved by ``dt`` seconds."""
    ev = dict(ev)
    for k in ("t_start_s", "t_peak_s", "t_end_s"):
        ev[k] = round(float(ev[k]) + dt, 4)
    return ev
