"""Expression-coupled motion: what the other side of the face explains, removed.

On an expressive face (speech, laughter, crying) every region moves by millimetres, far more
than a 1-3 mm twitch. Most of that motion is *coupled*: a smile pulls both mouth corners, a
frown both brows, a laugh the lips, cheeks and lower lids of both sides together. A twitch of
hemifacial spasm or myokymia is one-sided. So each (region, side) signal is predicted from the
signals of the *other* side of the face (every region there, both axes) by a local linear fit,
and the prediction is subtracted: the residual keeps what only this side did.

The fit is local (a sliding window of a few seconds, so the coupling may change as expressions
change), ridge-regularised (22 predictors on ~90 samples) and robust (Huber-weighted, so that a
twitch inside the window does not pull the fit toward itself). The mirror region also enters one
grid sample earlier and later: the two sides of an expression need not move on the same frame.
Lagged copies of *every* region were tried and rejected: with 54 predictors the fit began to
explain part of a slow one-sided movement, leaving a fast-looking residual (a false twitch).
Only the other side is used as predictor: a spasm that moves the eye and mouth of one side
together must stay in the residual (that co-contraction is the hemifacial-spasm sign).

What this removes by construction: symmetric motion of both sides -- blinks, smiles, and also a
truly bilateral spasm (blepharospasm). Those are read from the raw signals
(:func:`facetwitch.signal.events_process` uses both).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._validate import check_positive
from .regions import RegionSignals


def coupled_residual(
    signals: RegionSignals,
    *,
    window_s: float = 3.0,
    step_s: float = 0.25,
    ridge: float = 0.05,
    iterations: int = 3,
    huber_k: float = 2.0,
    exclude: np.ndarray | None = None,
    lags: tuple[int, ...] = (-1, 0, 1),
) -> RegionSignals:
    """Return the signals less what the other side of the face predicts.

    The signals less what the other side of the face predicts (see module doc).

    Parameters
    ----------
    signals : RegionSignals
        Baseline-removed displacement signals (mm).
    window_s : float
        Length of the window (seconds) each fit uses, centred on the samples it is applied to.
    step_s : float
        The fit is redone every ``step_s`` seconds and applied to that many seconds of samples.
    ridge : float
        Ridge penalty, as a fraction of the mean predictor power in the window.
    iterations : int
        Robust reweighting passes (1 = plain ridge).
    huber_k : float
        Samples whose residual exceeds ``huber_k`` × the window's robust residual scale are
        down-weighted (Huber).
    exclude : ndarray of bool, shape (m, K), optional
        Samples left out of the fit of each column (still predicted): the spans of events
        found in a first pass, so that an event cannot pull the fit toward itself.
    lags : tuple of int
        Grid-sample shifts at which the mirror region (same region, other side) is a predictor.

    Returns
    -------
    RegionSignals
        Same grid and keys; ``displacement_mm`` is the residual (NaN where the input is), and
        ``method`` gains the suffix ``+residual``.
    """
    check_positive("window_s", window_s)
    check_positive("step_s", step_s)
    d = np.asarray(signals.displacement_mm, float)
    m, k, _ = d.shape
    out = np.full_like(d, np.nan)
    if m == 0 or k == 0:
        return replace(signals, displacement_mm=out, method=f"{signals.method}+residual")
    fs = signals.fs_hz
    half = max(2, int(round(window_s * fs / 2)))
    step = max(1, int(round(step_s * fs)))
    ok = np.all(np.isfinite(d.reshape(m, -1)), axis=1)
    dz = np.where(np.isfinite(d), d, 0.0)
    sides = [s for _, s in signals.keys]
    use = ok[:, None] & (True if exclude is None else ~np.asarray(exclude, bool))  # (m, K)
    use = np.broadcast_to(use, (m, k))
    pred = np.zeros_like(dz)
    wsum = np.zeros(m)
    # the mirror region's signal shifted by each nonzero lag (edges held); a key without a
    # mirror gets zeros there, which the fit ignores (never its own past: that would let a
    # twitch predict itself)
    keys = list(signals.keys)
    shifts = [lag for lag in lags if lag != 0]
    mirror = {}  # target column -> its mirror's column (None: no mirror)
    for j, (region, side) in enumerate(keys):
        mirror[j] = next((i for i, (r, sd) in enumerate(keys) if r == region and sd != side),
                         None)  # fmt: skip
    # targets grouped by side: all targets of one side share the other side's predictors, so
    # their fits are solved together (batched), each with its own robust weights
    groups = []
    for side in dict.fromkeys(sides):
        targets = [j for j in range(k) if sides[j] == side]
        cols = [i for i in range(k) if sides[i] != side]
        if cols:
            groups.append((targets, cols))
    for c in range(-half, m, step):
        a, b = max(0, c - half), min(m, c + step + half)
        if b - a < 3:
            continue
        # each fit predicts its whole window; overlapping predictions are blended with a Hann
        # taper, so the coupling changes smoothly (a fit per block would leave steps)
        taper = np.hanning(b - a + 2)[1:-1]
        ok_w = ok[a:b].astype(float)
        if ok_w.sum() < k + 4:  # about as many predictors as samples: no fit
            continue
        wsum[a:b] += taper
        # the window's rows of each lagged copy (sample t holds t - lag; edges held), taken
        # here rather than as whole-length shifted copies of every column
        rows = {lag: np.clip(np.arange(a, b) - lag, 0, m - 1) for lag in shifts}
        zeros = np.zeros((b - a, 2))
        for targets, cols in groups:
            base = dz[a:b][:, cols].reshape(b - a, -1)  # (L, p0): the other side, now
            # plus the mirror region a frame earlier and later (the two sides of an expression
            # need not move on the same frame)
            x = np.stack([
                np.concatenate([base, *(zeros if mirror[j] is None else dz[rows[lag], mirror[j]]
                                        for lag in shifts)], axis=1)
                for j in targets
            ])  # (J, L, p)  # fmt: skip
            y = dz[a:b][:, targets]  # (L, J, 2)
            p = x.shape[2]
            w0 = use[a:b][:, targets].T.astype(float)  # (J, L)
            # mostly excluded: fit on everything rather than on nothing
            w0[w0.sum(axis=1) < p + 4] = ok_w
            w = w0
            yj = y.transpose(1, 0, 2)  # (J, L, 2)
            eye = np.eye(p)
            for _ in range(max(1, iterations)):
                xw = np.swapaxes(w[:, :, None] * x, 1, 2)  # (J, p, L)
                g = xw @ x  # (J, p, p)
                g += (ridge * np.trace(g, axis1=1, axis2=2) / p + 1e-9)[:, None, None] * eye
                coef = np.linalg.solve(g, xw @ yj)  # (J, p, 2)
                fit = x @ coef  # (J, L, 2)
                r = np.linalg.norm(yj - fit, axis=2)  # (J, L)
                scale = 1.4826 * _row_median(r, w0 > 0) + 1e-6
                w = w0 * np.minimum(1.0, huber_k * scale[:, None] / np.maximum(r, 1e-12))
            pred[a:b, targets] += taper[:, None, None] * fit.transpose(1, 0, 2)
    fitted = wsum > 1e-6
    out[fitted] = d[fitted] - pred[fitted] / wsum[fitted, None, None]
    out[~fitted] = d[~fitted]
    out[~ok] = np.nan
    return replace(signals, displacement_mm=out, method=f"{signals.method}+residual")


def _row_median(x: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Return the median of each row of ``x`` over the entries where ``keep`` holds.

    Median of each row of ``x`` over the entries where ``keep`` holds (NaN for none): what
    ``np.nanmedian`` gives with the rest set to NaN, without its slow path for many small rows
    (it took 3.4 of the 7.5 s that analysing 200 s of video took).
    """
    s = np.sort(np.where(keep, x, np.inf), axis=1)
    n = keep.sum(axis=1)
    rows = np.arange(len(x))
    med = 0.5 * (s[rows, np.maximum((n - 1) // 2, 0)] + s[rows, np.maximum(n // 2, 0)])
    return np.where(n > 0, med, np.nan)
