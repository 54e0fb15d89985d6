"""What MediaPipe's blendshapes say around an event: expression, and both eyes closing (blinks).

Expressions (speech, smiles, frowns) move many blendshapes at once; a twitch moves its own
region's few. Blinks close both eyes together.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import maximum_filter1d, median_filter
from scipy.signal import find_peaks, peak_widths

from .._validate import check_positive
from .regions import RegionSignals

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
    """How far each blendshape moves around each grid sample.

    Max - min over ``window_s`` seconds, shape (m, 52); NaN where the window holds no tracked face.
    Computed once, summed over different blendshape sets by :func:`expression_activity`.
    """
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
    """Return how much the face's expression changes around each grid sample.

    How much the face's expression changes around each grid sample (sum of blendshape changes over
    ``window_s`` seconds; dimensionless, 0 = still). Blendshapes whose names start with one of
    ``exclude`` are left out. ``ranges``: :func:`blendshape_ranges` of ``signals`` for this window,
    when already computed.
    """
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
    """Return the grid samples within 0.2 s of a blink.

    Grid samples within 0.2 s of a blink (both eyes' blink blendshapes rising: ``blinking``,
    computed from ``signals`` when not given).
    """
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
    """:func:`expression_activity` for events of ``region`` (its own blendshapes left out).

    Less its median over the video (a face's own blendshape jitter differs from face to face).
    Within 0.2 s of a blink (both eyes closing) the blendshapes that rise with blinks are left out
    too: a blink is not an expression. ``ranges`` (:func:`blendshape_ranges`) and ``blink``
    (:func:`near_blink`) of ``signals`` may be passed when already computed.
    """
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


#: Both eyes' blink blendshapes rising this much (:func:`blink_rise`): a blink.
#: Measured: blink-related false eyelid events rose 0.16-0.43 on both eyes; 40 of 42 injected
#: eyelid twitches rose at most 0.08 on either (the other two fell on a real blink).
BLINK_RISE = 0.1


#: ... or above their lowest value this many seconds before: a blink into a glance down keeps
#: the eyes half shut, the running median follows, and a real blink a person had marked rose
#: only 0.09 above it (0.27-0.28 above the value 0.25 s before).
BLINK_ONSET_S = 0.25


def blink_rise(signals: RegionSignals, *, window_s: float = 1.0) -> np.ndarray:
    """Return the smaller of the two eyes' rise of ``eyeBlink*`` (0..1).

    High only when both eyes close together. Each eye's rise is the larger of its rise above its
    ``window_s`` running median and above its lowest value in the last :data:`BLINK_ONSET_S`. Zeros
    when the blendshapes are missing.
    """
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


#: A blink is a peak of both eyes' ``eyeBlink*`` blendshapes (the smaller of the two) rising at
#: least this much above the lower of its two sides (scipy's prominence) ...
BLINK_PROMINENCE = 0.25

#: ... and no wider than this at half that rise (seconds): a blink closes and opens in 0.1-0.4 s;
#: eyes narrowed in a smile, a glance down or a held closure (a spasm's tonic phase) stay longer.
BLINK_MAX_WIDTH_S = 0.6


class BlendshapeBlink(NamedTuple):
    """A blink seen in the blendshapes (times in seconds on the signals' clock)."""

    t_start_s: float  #: the lids start to close (a fifth of the rise reached)
    t_peak_s: float  #: most closed
    t_end_s: float  #: open again (back within a fifth of the rise)
    t_close_s: float  #: half closed, on the way down
    t_open_s: float  #: half closed, on the way up
    rise: float  #: how far both eyes' ``eyeBlink*`` rose (0..1, scipy's prominence)


def blinks_find(
    signals: RegionSignals,
    *,
    prominence: float = BLINK_PROMINENCE,
    max_width_s: float = BLINK_MAX_WIDTH_S,
) -> list[BlendshapeBlink]:
    """Blinks seen in the blendshapes: both eyes closing together and opening again.

    Peaks of the smaller of ``eyeBlinkLeft`` and ``eyeBlinkRight`` (so one eye closing alone, a
    wink or a one-sided spasm, is not one) that rise ``prominence`` above their surroundings and
    last no longer than ``max_width_s`` at half that rise. A peak whose span touches a sample
    without a tracked face is left out (a face coming back with its eyes shut is no blink).
    Start and end are where the peak is within a fifth of its rise from its base, and never
    more than ``max_width_s`` from the peak (a blink into a glance down keeps the lids low).

    Returns
    -------
    list of BlendshapeBlink
        Sorted by time. Empty when the blendshapes are missing.
    """
    check_positive("prominence", prominence)
    check_positive("max_width_s", max_width_s)
    names = signals.blendshape_names
    if "eyeBlinkLeft" not in names or "eyeBlinkRight" not in names or len(signals.t) < 3:
        return []
    b = np.minimum(signals.blendshapes[:, names.index("eyeBlinkLeft")],
                   signals.blendshapes[:, names.index("eyeBlinkRight")])  # fmt: skip
    ok = np.isfinite(b) & signals.valid
    if ok.sum() < 3:
        return []
    idx = np.arange(len(b))
    b = np.interp(idx, idx[ok], b[ok])  # across gaps; peaks touching one are dropped below
    fs = signals.fs_hz
    peaks, props = find_peaks(b, prominence=prominence, width=(None, max_width_s * fs),
                              rel_height=0.5)  # fmt: skip
    if not len(peaks):
        return []
    _w, _h, left, right = peak_widths(b, peaks, rel_height=0.8, prominence_data=(
        props["prominences"], props["left_bases"], props["right_bases"]))  # fmt: skip
    t = signals.t
    most = max_width_s * fs

    def at(x: float) -> float:
        return float(np.interp(x, idx, t))

    out = []
    for k, p in enumerate(peaks):
        a, z = max(left[k], p - most), min(right[k], p + most)
        if not ok[int(np.floor(a)) : int(np.ceil(z)) + 1].all():
            continue
        close, open_ = at(props["left_ips"][k]), at(props["right_ips"][k])
        out.append(BlendshapeBlink(at(a), float(t[p]), at(z), close, open_,
                                   float(props["prominences"][k])))  # fmt: skip
    return out
