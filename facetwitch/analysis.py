"""Analysis: events + summary + quality (+ complaint check) -> report.json, the contract.

``analysis_run`` is pure (a LandmarkTrack in, an :class:`Analysis` out); ``analysis_write``
writes ``report.json``, ``events.csv`` and ``track.npz`` atomically; ``analyze_process`` chains
tracking (or loading a saved track), analysis, writing and rendering, and is what
``facetwitch analyze`` and ``facetwitch record`` call.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import shlex
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import welch

from . import __version__
from ._files import write_atomic
from .conventions import circular_mean_deg, direction_word
from .errors import FacetwitchWarning, InputError, OutputError
from .landmarks.track import LandmarkTrack
from .signal import Event, RegionSignals, events_process, noise_estimate, regions_signal
from .signal.events import (
    MAX_HEAD_DPS,
    SUSTAINED_BASELINE_S,
    SUSTAINED_REASON,
    sustained_find,
    sustained_merge,
)
from .signal.regions import MOUTH_ACTIVE_MM, mouth_activity, mouth_warned

logger = logging.getLogger("facetwitch")

SCHEMA_VERSION = "1"

#: Below this many pixels per mm the face is too small: no twitches are reported.
MIN_PX_PER_MM = 1.0
#: Below this mean frame rate, short twitches can be missed (warned).
LOW_FPS = 20.0
#: Below this fraction of frames with a face, the numbers are flagged as unreliable.
MIN_FOUND_FRACTION = 0.5
#: Below this many seconds of usable face video, rates and amplitudes are flagged unreliable.
MIN_FACE_S = 1.0
#: Below this mean frame rate (fps) the numbers are flagged unreliable (a twitch lasts ~0.1 s).
MIN_FPS = 8.0
#: Above this median region noise (mm: speech, expression, movement, or a poor video) the twitch
#: count is flagged unreliable. Measured with benchmarks/accuracy.py on real clean footage, every
#: clip above it gave 4.5-26 false twitches per minute (talking: franck 0.31 mm, 17/min; crying
#: and laughing: WolfgangLanger 0.50 mm, 4.5/min; webcam talk: cap12/cap13 0.57-0.64 mm,
#: 23-26/min) and every clip under it at most 1 in 24 s (calm 0.03-0.06 mm, 0 in 1.7 min; at
#: rest and smiling: vitallens 0.09-0.10 mm). The value predates those measurements (it was the
#: old "noisy measurement" warning's); it was not fitted to them.
NOISY_MM = 0.3
#: Typical adult spontaneous blink rate at rest, per minute (shown for context).
TYPICAL_BLINK_RATE = (8.0, 21.0)

_NOISE_REGIONS = ("upper_lip", "lower_lip", "upper_eyelid", "mouth_corner")


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one track: ``report`` is report.json's content."""

    report: dict
    events: tuple[Event, ...]
    signals: RegionSignals
    track: LandmarkTrack = field(repr=False)


# -- quality -------------------------------------------------------------------------------------
def quality_assess(track: LandmarkTrack, signals: RegionSignals) -> dict:
    """``quality`` section: face found fraction, scale, noise, warnings, reliability."""
    warn: list[str] = []
    unreliable: list[str] = []
    n = len(track)
    found_fraction = track.found_fraction
    info = track.info
    fps = float(info.get("fps_mean", float("nan")))
    px_per_mm = float(signals.px_per_mm)

    if n == 0 or not np.any(track.found):
        warn.append("no face was found in the video")
        unreliable.append("no face found")
    elif found_fraction < 0.95:
        lost = _lost_ranges(track.t, track.found)
        pretty = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in lost[:6])
        more = f" and {len(lost) - 6} more" if len(lost) > 6 else ""
        warn.append(
            f"face found in {found_fraction:.0%} of frames; lost at {pretty}{more}"
            if lost
            else f"face found in {found_fraction:.0%} of frames"
        )
        if found_fraction < MIN_FOUND_FRACTION:
            unreliable.append(f"face visible in only {found_fraction:.0%} of the video")
    if np.isfinite(px_per_mm) and px_per_mm < MIN_PX_PER_MM:
        warn.append(
            f"face too small to measure: {px_per_mm:.2f} px per mm (need at least "
            f"{MIN_PX_PER_MM:.0f}); move closer or film at a higher resolution. "
            "Twitches are not reported."
        )
        unreliable.append("face too small")
    if np.isfinite(fps) and fps < LOW_FPS:
        warn.append(
            # measured (benchmarks/framerate.py): at 15 fps a twitch whose peak falls between
            # two frames is often missed, however long it lasts (24 of 28 misses were longer
            # than the 2.5-frame line this warning used to name)
            f"low frame rate ({fps:.1f} fps): a twitch whose fast rise and fall come between "
            "two frames may be missed or read smaller, and durations are coarse; record at 30 "
            "fps or more"
        )
        if fps < MIN_FPS:
            unreliable.append(f"frame rate too low ({fps:.1f} fps, need at least {MIN_FPS:.0f})")
    face_s = float(np.sum(signals.valid) / signals.fs_hz) if len(signals.t) else 0.0
    if n and np.any(track.found) and face_s < MIN_FACE_S:
        shown = _seconds_under(face_s, MIN_FACE_S)
        warn.append(
            f"only {shown} of usable face video ({int(np.sum(track.found))} of {n} "
            f"frames): at least {MIN_FACE_S:.0f} s is needed for rates and amplitudes"
        )
        unreliable.append(f"too little usable face video ({shown}, need {MIN_FACE_S:.0f} s)")
    if int(info.get("multi_face_frames", 0)) > 0:
        warn.append(
            f"more than one face in {int(info['multi_face_frames'])} frames: one face was "
            "followed (the largest, most central at the start)"
        )
    lost_s = []
    for a, b in info.get("lost_ranges_s", []) or []:
        end = "the end" if b is None or not np.isfinite(b) else f"{b:.2f} s"
        warn.append(f"damaged video: nothing usable could be decoded from {a:.2f} s to {end}")
        lost_s.append([_r(a, 3), _r(b, 3) if b is not None else None])
    motion = _head_motion_mm_s(track, px_per_mm)
    if np.isfinite(motion) and motion > 30.0:
        warn.append(
            f"heavy head motion (median {motion:.0f} mm/s): keep the head still or rest it "
            "against something"
        )
    fast_s = _fast_turn_s(signals)
    if fast_s >= 1.0:
        warn.append(
            f"fast head turns for {fast_s:.1f} s (over {MAX_HEAD_DPS:.0f}°/s): twitches during "
            "them are not counted"
        )
    mouth = mouth_activity(track, signals) if len(signals.t) else np.zeros(0)
    mouth_s = float(np.sum(mouth > MOUTH_ACTIVE_MM) / signals.fs_hz) if mouth.size else 0.0
    if mouth_warned(mouth_s, face_s):
        warn.append(
            f"the mouth opened and closed as in talking, smiling or laughing for {mouth_s:.1f} s "
            f"({mouth_s / face_s:.0%} of the face video): such movements can look like twitches; "
            "record at rest, face relaxed and silent"
        )
    noises = [
        noise_estimate(signals.column(r, s))
        for r, s in signals.keys
        if r in _NOISE_REGIONS and len(signals.t)
    ]
    noises = [x for x in noises if np.isfinite(x)]
    noise_mm = float(np.median(noises)) if noises else float("nan")
    if np.isfinite(noise_mm) and noise_mm > NOISY_MM:
        warn.append(
            f"noisy measurement ({noise_mm:.2f} mm): speech, expression or head movement, or a "
            "dark, blurred or heavily compressed video. Brief one-sided movements of speech and "
            "expression look like twitches, and small twitches are missed among them: record "
            "again at rest, in good light"
        )
        unreliable.append(
            f"noisy measurement ({noise_mm:.2f} mm; at most {NOISY_MM} mm for a reliable twitch "
            "count)"
        )
    return {
        "face_found_fraction": round(found_fraction, 4),
        "px_per_mm": _r(px_per_mm, 3),
        "noise_mm": _r(noise_mm, 3),
        "warnings": warn,
        "reliable": not unreliable,
        "unreliable_reasons": unreliable,
        "head_motion_mm_s": _r(motion, 1),
        "fast_head_turn_s": _r(fast_s, 2),
        "mouth_active_s": _r(mouth_s, 2),
        "lost_ranges_s": lost_s,
    }


def _seconds_under(x_s: float, limit_s: float) -> str:
    """``x_s`` (below ``limit_s``) with the decimals it takes to read as below it: ``0.8 s``,
    ``0.97 s`` (not ``1.0 s``, which next to "need 1 s" reads as a contradiction)."""
    for decimals in (1, 2, 3):
        text = f"{x_s:.{decimals}f}"
        if float(text) < limit_s:
            return f"{text} s"
    return f"just under {limit_s:g} s"


def _fast_turn_s(signals) -> float:
    """Seconds of the analysed video with the head turning faster than MAX_HEAD_DPS."""
    return float(np.sum(signals.head_speed() > MAX_HEAD_DPS) / signals.fs_hz)


def _r(x: float, nd: int):
    return round(float(x), nd) if x is not None and np.isfinite(x) else None


def _lost_ranges(t: np.ndarray, found: np.ndarray) -> list[tuple[float, float]]:
    out = []
    m = np.concatenate([[False], ~np.asarray(found, bool), [False]])
    d = np.diff(m.astype(int))
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        out.append((float(t[a]), float(t[b - 1])))
    return out


def _head_motion_mm_s(track: LandmarkTrack, px_per_mm: float) -> float:
    """Median speed of the head (rigid flow translation at the face centre), in mm/s."""
    rf = np.asarray(track.rigid_flow)
    ok = np.all(np.isfinite(rf), axis=1)
    if ok.sum() < 3 or not np.isfinite(px_per_mm) or px_per_mm <= 0:
        return float("nan")
    a = rf[ok].reshape(-1, 2, 3)
    idx = np.flatnonzero(ok)
    # the face centre in chunks of frames: nanmedian copies what it is given, and all 478
    # points of a 10 min track are 0.5 GB
    centre = np.concatenate([
        np.nanmedian(track.points[idx[i: i + 2048], :, :2], axis=1)
        for i in range(0, len(idx), 2048)
    ])  # (m, 2)  # fmt: skip
    moved = np.einsum("mij,mj->mi", a[:, :, :2], centre) + a[:, :, 2] - centre
    dt = np.diff(track.t)
    dt_ok = np.concatenate([[np.median(dt) if dt.size else 1 / 30], dt])[ok]
    speed = np.linalg.norm(moved, axis=1) / px_per_mm / np.maximum(dt_ok, 1e-3)
    return float(np.median(speed))


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
                "mean_direction_deg": _r(mean_dir, 1),
                "mean_direction": direction_word(mean_dir) if np.isfinite(mean_dir) else None,
                "median_duration_s": round(float(np.median([e.duration_s for e in evs])), 3),
            }
        )
    hemifacial = sorted({e.side for e in twitches if e.co_occurring})
    return {
        "twitch_count": len(twitches),
        "twitch_rate_per_min": rate(len(twitches)),
        "blink_count": len(blinks),
        "blink_rate_per_min": rate(len(blinks)),
        "movement_count": len(movements),
        "sustained_count": sum(e.reason == SUSTAINED_REASON for e in movements),
        "analysed_s": round(float(analysed_s), 2),
        "by_region": by_region,
        "intervals": intervals_describe([e.t_peak_s for e in twitches]),
        "eye_mouth_co_occurrence": {
            "present": bool(hemifacial),
            "sides": hemifacial,
            "pairs": sum(len(e.co_occurring) for e in twitches) // 2,
            "note": (
                "eye and mouth on the same side twitched together (within 150 ms): "
                "a sign seen in hemifacial spasm"
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
        "cv": _r(cv, 3),
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
) -> Analysis:
    """Analyse a track: signals, events, summary, quality, complaint check (pure: no I/O).

    ``coupled=False`` finds twitches in the raw signals instead of in what the other side of
    the face does not explain (:func:`facetwitch.signal.events_process`): for comparison.
    """
    signals = regions_signal(track, mirrored=mirrored, method=method)
    events = events_process(signals, coupled=coupled) if len(signals.t) else []
    if len(signals.t):
        # contractions held for seconds, which the signals' 2 s baseline absorbs
        held = sustained_find(signals.rebaselined(SUSTAINED_BASELINE_S))
        if held:
            events = sustained_merge(events, held)
    quality = quality_assess(track, signals)
    if quality["px_per_mm"] is not None and quality["px_per_mm"] < MIN_PX_PER_MM:
        events = [e for e in events if e.kind == "blink"]
    analysed_s = float(np.sum(signals.valid) / signals.fs_hz) if len(signals.t) else 0.0
    info = track.info
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "facetwitch", "version": __version__},
        "input": {
            "path": str(info.get("path", "")),
            "sha256": str(info.get("sha256", "")),
            "duration_s": _r(info.get("duration_s", float("nan")), 3),
            "frames": int(info.get("frames", len(track))),
            "fps_mean": _r(info.get("fps_mean", float("nan")), 3),
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
    }
    if markers:
        report["markers"] = [dict(m) for m in markers]
    if complaint or complaint_flags:
        report["complaint"] = _complaint(report, complaint, complaint_flags)
    return Analysis(report=report, events=tuple(events), signals=signals, track=track)


def _complaint(report: dict, text: str | None, flags: dict | None) -> dict:
    from .complaint import complaint_check, complaint_from_flags, complaint_parse

    claims = complaint_parse(text) if text else []
    if flags:
        claims = complaint_from_flags(**{k: v for k, v in flags.items() if v}) + [
            c for c in claims if c.aspect not in {k for k, v in flags.items() if v}
        ]
    return complaint_check(claims, report, text=text or "")


# -- write -----------------------------------------------------------------------------------------
EVENT_CSV_FIELDS = ("id", "kind", "region", "side", "t_start_s", "t_peak_s", "t_end_s",
                    "duration_s", "amplitude_mm", "direction_deg", "direction", "co_occurring",
                    "confidence", "pulse_count")  # fmt: skip


#: Files an earlier run may have left in an output directory (replaced, or removed once the
#: new ones are in place). report.json first: it is moved aside first and put in place last.
_OUTPUT_NAMES = ("report.json", "events.csv", "track.npz", "report.html", "report.pdf",
                 "summary.txt")  # fmt: skip


class _Staging:
    """A run's new outputs, written into a hidden directory inside ``out`` and moved into place
    together by :meth:`install`.

    Until then ``out`` is as it was: a failed write (a full disk) or an interrupt leaves the
    earlier report untouched, and leaving the ``with`` block removes the hidden directory, so
    no temporary file stays either. Errors name the outputs as the user knows them
    (``out/report.json``, not the hidden directory's copy).
    """

    def __init__(self, out: Path):
        self.out = out
        try:
            self.dir = Path(tempfile.mkdtemp(prefix=".facetwitch-", suffix=".tmp", dir=out))
        except OSError as exc:
            raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
        self._keep = False  # set when an earlier output could not be put back: never delete it

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if isinstance(exc, OutputError) and str(self.dir) in str(exc):
            raise OutputError(str(exc).replace(str(self.dir), str(self.out))) from None

    def install(self, staged: dict[str, Path]) -> dict[str, Path]:
        """Move the ``staged`` files (key -> file in :attr:`dir`) into ``out``; returns key ->
        path in ``out``.

        The earlier run's outputs are moved aside (report.json first), then the new files moved
        in (report.json last: a report.json in ``out`` always has its companions); the earlier
        ones are deleted with the hidden directory only after every new one is in place. Should a
        move fail or be interrupted, the new files are taken out and the earlier ones put back.
        """
        for name in _OUTPUT_NAMES:  # would fail only once other files were already moved
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                raise OutputError(f"{target}: cannot write (Is a directory)")
        aside = self.dir / ".earlier"
        aside.mkdir()
        target = self.out
        try:
            for name in _OUTPUT_NAMES:
                target = self.out / name
                if os.path.lexists(target):
                    os.replace(target, aside / name)
            for src in sorted(staged.values(), key=lambda p: p.name == "report.json"):
                target = self.out / src.name
                os.replace(src, target)
        except BaseException as exc:
            self._undo(staged, aside)
            if isinstance(exc, OSError):
                raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
            raise
        return {key: self.out / src.name for key, src in staged.items()}

    def _undo(self, staged: dict[str, Path], aside: Path) -> None:
        """Take out the new files already moved in and put the earlier ones back. Decided by
        what is on disk (a rename is atomic), not by what the interrupted loop noted, and
        carried on through a second Ctrl-C; an earlier output that cannot be put back keeps
        the hidden directory from being removed."""
        self._keep = True
        for src in staged.values():
            if not src.exists():  # it was moved in
                with contextlib.suppress(BaseException):
                    (self.out / src.name).unlink(missing_ok=True)
        restored = True
        for earlier in sorted(aside.iterdir()):
            try:
                os.replace(earlier, self.out / earlier.name)
            except BaseException:
                restored = False
                logger.warning("could not put back %s; it is kept in %s", earlier.name, aside)
        self._keep = not restored


def out_dir_check(out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Check, without creating anything, that ``out_dir`` can receive a report.

    Raises :class:`OutputError` if it is (or would be inside) a file, is not writable, has a
    directory where an output goes, or already holds a file named like an output
    (``report.json``, ``events.csv``, ..., a user's own too) and ``force`` is false. Cheap:
    called before tracking so a long run does not end in an output error.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    if not out.exists():
        parent = out.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputError(
                f"{out}: cannot create the output directory ({parent} is a file, not a directory)"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(
                f"{out}: cannot create the output directory ({parent} is not writable)"
            )
        return out
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output directory is not writable")
    for name in _OUTPUT_NAMES:  # even --force cannot put a file there
        if (out / name).is_dir() and not (out / name).is_symlink():
            raise OutputError(f"{out / name}: cannot write (Is a directory)")
    existing = [name for name in _OUTPUT_NAMES if os.path.lexists(out / name)]
    if existing and not force:
        if "report.json" in existing:
            raise OutputError(
                f"{out}: already holds a report.json; use --force to overwrite it or choose "
                "another --out"
            )
        # Not facetwitch's perhaps: a user's own events.csv or summary.txt is not overwritten
        # (nor removed as an earlier run's) without being asked.
        raise OutputError(
            f"{out}: already holds {', '.join(existing)}, which facetwitch would overwrite; "
            "use --force to overwrite or choose another --out"
        )
    return out


def prepare_out_dir(out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Create ``out_dir`` (or check it); refuse to overwrite a report unless ``force``."""
    out = out_dir_check(out_dir, force=force)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    return out_dir_check(out, force=force)  # now that it exists: writable, no report in it


def events_csv(report: dict) -> str:
    """The events table as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EVENT_CSV_FIELDS)
    for e in report["events"]:
        row = [e.get(k) for k in EVENT_CSV_FIELDS]
        row[EVENT_CSV_FIELDS.index("co_occurring")] = " ".join(str(i) for i in e["co_occurring"])
        w.writerow(row)
    return buf.getvalue()


def analysis_write(
    analysis: Analysis, out_dir: str | os.PathLike, *, write_track: bool = True
) -> dict[str, Path]:
    """Write report.json, events.csv and track.npz into ``out_dir``: all of them or nothing.

    All three are written to temporary files first and then renamed into place, report.json
    last: a report.json on disk is complete and its companions belong to it. The outputs of
    an earlier run (``--force``; its report.html, report.pdf and summary.txt too, which would
    no longer belong) are removed only once every new file is in place: if writing fails (a
    full disk: :class:`OutputError`) or is interrupted, the earlier run's files are untouched
    and no temporary file is left. Non-finite numbers are written as ``null`` (report.json is
    strict JSON).
    """
    with _Staging(Path(out_dir)) as staging:
        return staging.install(_analysis_stage(analysis, staging.dir, write_track=write_track))


def _analysis_stage(
    analysis: Analysis, stage: Path, *, write_track: bool = True
) -> dict[str, Path]:
    """Write report.json, events.csv (and track.npz) into the staging directory ``stage``."""
    text = json.dumps(_json_clean(analysis.report), indent=2, allow_nan=False)
    table = events_csv(analysis.report)
    paths = {}
    if write_track:
        paths["track"] = analysis.track.save(stage / "track.npz")
    paths["events_csv"] = write_atomic(stage / "events.csv", table)
    paths["report"] = write_atomic(stage / "report.json", text + "\n")
    return paths


def _json_clean(o):
    """``o`` with numpy scalars as Python numbers and NaN/inf as None (strict JSON)."""
    if isinstance(o, dict):
        return {k: _json_clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_json_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _json_clean(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o


def analyze_process(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    mirrored: bool = False,
    complaint: str | None = None,
    complaint_flags: dict | None = None,
    markers: list[dict] | None = None,
    model=None,
    force: bool = False,
    render: bool = True,
    face_images: bool = True,
    progress=None,
    workers: int | None = None,
) -> tuple[Analysis, dict[str, Path]]:
    """Video (or saved ``.npz`` track) in, report files out.

    A ``.npz`` source is a saved LandmarkTrack: the model is not run again. ``workers``: the
    processes tracking a video (:func:`~facetwitch.landmarks.track_video`; None: one per core).
    Returns the analysis and the paths written (report, events_csv, track, and the rendered
    reports).

    Interrupted (Ctrl-C, SIGTERM) while report.html, report.pdf and summary.txt are made, the
    finished analysis is not thrown away: report.json, events.csv and track.npz are put in
    place, a :class:`FacetwitchWarning` says so and how to make the rest
    (``facetwitch report DIR/report.json``), and the interrupt goes on.
    """
    source = Path(source)
    # Checks first (nothing is created on a bad input), then the long part, then the writing.
    out_dir_check(out_dir, force=force)
    if not source.exists():
        raise InputError(f"{source}: no such file")
    if source.is_dir():
        raise InputError(f"{source}: is a directory, not a video file")
    video: Path | None = source
    video_sha256 = None  # known for the video tracked here; a track's video is checked later
    if source.suffix.lower() == ".npz":
        track = LandmarkTrack.load(source)
        video_path = Path(str(track.info.get("path", "")))
        video = video_path if video_path.is_file() else None
    else:
        from .landmarks import track_video

        track = track_video(source, model=model, progress=progress, workers=workers)
        video_sha256 = track.info.get("sha256")
    analysis = analysis_run(
        track, mirrored=mirrored, complaint=complaint, complaint_flags=complaint_flags,
        markers=markers,
    )  # fmt: skip
    for w in analysis.report["quality"]["warnings"]:
        logger.info("quality: %s", w)
    created = not Path(out_dir).exists()
    out = prepare_out_dir(out_dir, force=force)
    try:
        # Every output is made in a hidden directory first and moved into place at the end:
        # a failure (a full disk) or an interrupt leaves an earlier report as it was.
        with _Staging(out) as staging:
            staged = _analysis_stage(analysis, staging.dir)
            if render:
                try:
                    staged.update(_render(analysis, staging.dir, video, face_images, video_sha256))
                except KeyboardInterrupt:  # and Terminated: nothing computed is lost
                    _interrupted_rendering(staging.install(staged))
                    raise
            paths = staging.install(staged)
    except BaseException:
        if created:  # nothing new on disk: not even the directory (only removed when empty)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return analysis, paths


def _interrupted_rendering(paths: dict[str, Path]) -> None:
    """Say what an analysis interrupted while rendering has written, and how to finish it."""
    report = paths["report"]
    warnings.warn(
        f"interrupted while making report.html, report.pdf and summary.txt; the analysis is "
        f"complete and kept in {report.parent} (report.json, events.csv, track.npz); to make "
        f"the rest: facetwitch report {shlex.quote(str(report))}",
        FacetwitchWarning,
        stacklevel=3,
    )


def _render(
    analysis: Analysis,
    out: Path,
    video: Path | None,
    face_images: bool,
    video_sha256: str | None = None,
) -> dict:
    """report.html, report.pdf and summary.txt into ``out`` (none if rendering is missing).
    ``video_sha256``: the video's hash when known (it was just tracked), not computed again."""
    try:
        from .reports import report_render
    except ImportError:  # pragma: no cover - reports package not installed
        warnings.warn("report rendering unavailable", FacetwitchWarning, stacklevel=3)
        return {}
    return report_render(analysis.report, out, video=video, track=analysis.track,
                         face_images=face_images, video_sha256=video_sha256)  # fmt: skip
