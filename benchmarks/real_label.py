"""Tools for labelling the real clips by eye, and the voiced-time rule (``benchmarks/labels``).

The labels in ``benchmarks/labels/<clip>.json`` are our own annotations: MNE-style stretches
``{"onset_s", "duration_s", "description"}`` with descriptions ``rest``, ``talking``,
``expression``, ``head_motion``, ``occlusion`` and, for clips with sound, ``voiced``. They were
made by looking at the pictures this script draws (PNG files, viewed one by one):

- ``sheet``: a contact sheet of a prepared clip (``real_clips.py``), one face crop every
  ``--step`` seconds, each stamped with its time;
- ``cues``: the tracked cues over time (inner-lip opening, head speed, blendshape activity,
  eye blinks, smile), with the clip's label stretches shaded once they exist: where to look
  closer, never a label by itself;
- ``audio``: waveform, spectrogram and speech-band energy of the clip's sound, with the
  threshold and the voiced spans found by :func:`voiced_spans` drawn over them.

**Voiced time** (``voiced_spans``): mono sound, 25 ms Hann frames every 10 ms, energy in the
speech band 300-3400 Hz in dB; the clip's silence floor is the 10th percentile of that energy
and its loud level the 99th; a frame is voiced when its band energy is over the floor by 12 dB
or by 0.4 of the floor-to-loud range, whichever is more (lip clicks and breaths before a GRID
sentence rose 20-26 dB over the floor, its vowels 50-60 dB); voiced runs closer than 0.25 s
are joined, runs shorter than 0.1 s dropped, and each run padded by 0.05 s. The
spans were then checked by eye on each clip's ``audio`` picture (speech shows as harmonic
stripes and formants; breaths, clicks and music do not) and corrected by hand where the rule
was wrong; each label file says whether it was.

    python benchmarks/real_label.py CLIP [--step 0.2] [--t0 S --t1 S] [--out DIR]
    python benchmarks/real_label.py CLIP --voiced      # print the rule's voiced spans as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's facetwitch, not whichever one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LABELS_DIR = Path(__file__).resolve().parent / "labels"
DESCRIPTIONS = ("rest", "talking", "expression", "head_motion", "occlusion", "voiced")

#: The voiced-time rule (see the module doc).
VOICE_BAND_HZ = (300.0, 3400.0)
VOICE_FRAME_S, VOICE_HOP_S = 0.025, 0.010
VOICE_FLOOR_PERCENTILE = 10.0
VOICE_ABOVE_DB = 12.0
VOICE_RANGE_FRACTION = 0.4
VOICE_JOIN_S, VOICE_MIN_S, VOICE_PAD_S = 0.25, 0.1, 0.05


def band_energy_db(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Speech-band energy (dB) of mono ``samples`` per frame, and the frames' centre times."""
    n = int(round(VOICE_FRAME_S * rate))
    hop = int(round(VOICE_HOP_S * rate))
    if len(samples) < n:
        return np.zeros(0), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(samples, n)[::hop] * np.hanning(n)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    f = np.fft.rfftfreq(n, 1.0 / rate)
    band = (f >= VOICE_BAND_HZ[0]) & (f <= VOICE_BAND_HZ[1])
    e = 10 * np.log10(spec[:, band].sum(axis=1) + 1e-12)
    t = (np.arange(len(e)) * hop + n / 2) / rate
    return e, t


def voiced_spans(samples: np.ndarray, rate: int) -> tuple[list[tuple[float, float]], dict]:
    """Voiced spans ``[(start_s, end_s)]`` of mono ``samples`` by the rule in the module doc.

    And the figures used (``floor_db``, ``threshold_db``).
    """
    e, t = band_energy_db(samples, rate)
    if not e.size:
        return [], {"floor_db": None, "threshold_db": None}
    floor = float(np.percentile(e, VOICE_FLOOR_PERCENTILE))
    loud = float(np.percentile(e, 99))
    thr = floor + max(VOICE_ABOVE_DB, VOICE_RANGE_FRACTION * (loud - floor))
    on = e >= thr
    runs, i = [], 0
    while i < len(on):
        if on[i]:
            j = i
            while j + 1 < len(on) and on[j + 1]:
                j += 1
            runs.append([t[i] - VOICE_HOP_S / 2, t[j] + VOICE_HOP_S / 2])
            i = j + 1
        else:
            i += 1
    joined = []
    for r in runs:
        if joined and r[0] - joined[-1][1] < VOICE_JOIN_S:
            joined[-1][1] = r[1]
        else:
            joined.append(r)
    end = len(samples) / rate
    out = [(max(0.0, a - VOICE_PAD_S), min(end, b + VOICE_PAD_S)) for a, b in joined
           if b - a >= VOICE_MIN_S]  # fmt: skip
    return out, {
        "floor_db": round(floor, 1),
        "loud_db": round(loud, 1),
        "threshold_db": round(thr, 1),
    }


def clip_sound(prepared: Path) -> tuple[np.ndarray, int] | None:
    """Return the prepared clip's sound, mono float32, and its rate.

    None without sound.
    """
    from real_clips import audio_read

    sound = audio_read(prepared)
    if sound is None:
        return None
    samples, rate, _ = sound
    return samples.mean(axis=1), rate


def labels_load(name: str) -> dict | None:
    """``benchmarks/labels/<name>.json``, or None."""
    p = LABELS_DIR / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _face_box(track, shape) -> tuple[int, int, int, int]:
    """Return a square crop around the face (median landmark box, 40 % margin).

    Clipped to the frame.
    """
    pts = track.points[track.found][:, :, :2]
    lo, hi = np.nanmedian(pts.min(axis=1), axis=0), np.nanmedian(pts.max(axis=1), axis=0)
    c, half = (lo + hi) / 2, 0.7 * float(np.max(hi - lo))
    h, w = shape[:2]
    x0, y0 = int(max(0, c[0] - half)), int(max(0, c[1] - half))
    x1, y1 = int(min(w, c[0] + half)), int(min(h, c[1] + half))
    return x0, y0, x1, y1


def sheet_draw(
    prepared: Path,
    out: Path,
    *,
    step_s: float = 0.2,
    t0: float = 0.0,
    t1: float | None = None,
    cols: int = 8,
    thumb: int = 200,
    track=None,
) -> Path:
    """Contact sheet.

    A face crop every ``step_s`` seconds from ``t0`` to ``t1``, each stamped with its time (s).
    """
    import cv2

    from facetwitch.landmarks.video import VideoReader

    picked = []
    with VideoReader(prepared) as reader:
        frames = iter(reader)
        prev = None
        target = t0
        for fr in frames:
            if t1 is not None and fr.t_s > t1 + 1e-6:
                break
            if fr.t_s + 1e-6 >= target:
                use = fr if prev is None or abs(fr.t_s - target) <= abs(prev.t_s - target) else prev
                picked.append(use)
                target += step_s
                while fr.t_s + 1e-6 >= target:
                    target += step_s
            prev = fr
    if not picked:
        raise SystemExit(f"{prepared}: no frame between {t0} and {t1}")
    box = _face_box(track, picked[0].rgb.shape) if track is not None else None
    tiles = []
    for fr in picked:
        img = fr.rgb
        if box is not None:
            img = img[box[1] : box[3], box[0] : box[2]]
        h, w = img.shape[:2]
        s = thumb / max(h, w)
        img = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        tile = np.full((thumb + 18, thumb, 3), 255, np.uint8)
        tile[18 : 18 + img.shape[0], : img.shape[1]] = img
        cv2.putText(tile, f"{fr.t_s:.2f}", (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        tiles.append(tile)
    rows = [tiles[i : i + cols] for i in range(0, len(tiles), cols)]
    blank = np.full_like(tiles[0], 255)
    grid = np.vstack([np.hstack(r + [blank] * (cols - len(r))) for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return out


def _shade(ax, labels: dict | None) -> None:
    colours = {"rest": "#cfe8cf", "talking": "#f6c6c6", "expression": "#f6e3a6",
               "head_motion": "#c6d8f6", "occlusion": "#bbbbbb", "voiced": "#e0c6f6"}  # fmt: skip
    if not labels:
        return
    for s in labels.get("annotations", []):
        if s["description"] == "voiced":
            ax.axvspan(s["onset_s"], s["onset_s"] + s["duration_s"], ymin=0.9, ymax=1.0,
                       color=colours["voiced"], lw=0)  # fmt: skip
        else:
            ax.axvspan(s["onset_s"], s["onset_s"] + s["duration_s"],
                       color=colours.get(s["description"], "#eeeeee"), alpha=0.6, lw=0)  # fmt: skip


def cues_draw(track, out: Path, *, labels: dict | None = None, title: str = "",
              t0: float = 0.0, t1: float | None = None) -> Path:  # fmt: skip
    """Return the tracked cues over time.

    The label stretches shaded (rest green, talking red, expression yellow, head motion blue,
    occlusion grey, voiced purple band on top).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from real import _signal_fn  # benchmarks/real.py: wherever this version keeps them

    from facetwitch.signal import regions_signal

    expression_activity = _signal_fn("expression_activity")
    mouth_activity = _signal_fn("mouth_activity")

    sig = regions_signal(track)
    names = list(sig.blendshape_names)
    bs = sig.blendshapes
    fig, axes = plt.subplots(5, 1, figsize=(14, 9), sharex=True)
    lip = track.points[:, 14, :2] - track.points[:, 13, :2]
    gap = np.linalg.norm(lip, axis=1) / sig.px_per_mm
    ax = axes[0]
    ax.plot(track.t, gap, lw=0.8, label="inner-lip opening (mm)")
    ma = mouth_activity(track, sig)
    ax.plot(sig.t, ma * 10, lw=0.8, label="mouth activity x10 (mm)")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[1]
    ax.plot(sig.t, sig.head_speed(), lw=0.8, label="head speed (deg/s)")
    ax.axhline(45, color="k", lw=0.5, ls=":")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[2]
    ax.plot(sig.t, expression_activity(sig), lw=0.8, label="blendshape activity (0.4 s)")
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[3]
    for n in ("eyeBlinkLeft", "eyeBlinkRight", "jawOpen"):
        ax.plot(sig.t, bs[:, names.index(n)], lw=0.8, label=n)
    ax.legend(loc="upper right", fontsize=7)
    ax = axes[4]
    for n in ("mouthSmileLeft", "mouthSmileRight", "browDownLeft", "browInnerUp"):
        ax.plot(sig.t, bs[:, names.index(n)], lw=0.8, label=n)
    ax.legend(loc="upper right", fontsize=7)
    for ax in axes:
        _shade(ax, labels)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    t1 = sig.t[-1] if t1 is None else min(t1, sig.t[-1])
    step = 1.0 if t1 - t0 < 60 else 5.0
    axes[-1].set_xticks(np.arange(t0, t1 + step, step))
    axes[-1].set_xlim(t0, t1)
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def audio_draw(prepared: Path, out: Path, *, labels: dict | None = None,
               title: str = "") -> Path | None:  # fmt: skip
    """Waveform, spectrogram and speech-band energy with :func:`voiced_spans` drawn over them.

    None when the clip has no sound.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sound = clip_sound(prepared)
    if sound is None:
        return None
    x, rate = sound
    spans, figs = voiced_spans(x, rate)
    e, te = band_energy_db(x, rate)
    fig, axes = plt.subplots(3, 1, figsize=(14, 8), sharex=True)
    t = np.arange(len(x)) / rate
    axes[0].plot(t, x, lw=0.4)
    axes[0].set_ylabel("waveform")
    axes[1].specgram(x, NFFT=512, Fs=rate, noverlap=384, cmap="magma", vmin=-120)
    axes[1].set_ylim(0, 5000)
    axes[1].set_ylabel("Hz")
    axes[2].plot(te, e, lw=0.6)
    if figs["threshold_db"] is not None:
        axes[2].axhline(figs["floor_db"], color="g", lw=0.6, ls=":")
        axes[2].axhline(figs["threshold_db"], color="r", lw=0.6, ls="--")
    axes[2].set_ylabel("300-3400 Hz dB")
    for a, b in spans:
        for ax in (axes[0], axes[2]):
            ax.axvspan(a, b, color="orange", alpha=0.25, lw=0)
    if labels:
        for s in labels.get("annotations", []):
            if s["description"] == "voiced":
                axes[1].axvspan(s["onset_s"], s["onset_s"] + s["duration_s"], ymin=0.95,
                                ymax=1.0, color="cyan", lw=0)  # fmt: skip
    step = 0.5 if t[-1] < 15 else (1.0 if t[-1] < 40 else 5.0)
    axes[-1].set_xticks(np.arange(0, t[-1] + step, step))
    axes[-1].set_xlabel("time (s); orange: the rule's voiced spans; cyan: the labels' voiced")
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def main() -> None:
    import real_clips
    from accuracy import cached_track

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clip", help="a clip name of benchmarks/real_clips.py (e.g. grid_bbaf2n)")
    ap.add_argument("--step", type=float, default=0.2, help="seconds between sheet frames")
    ap.add_argument("--t0", type=float, default=0.0, help="sheet from this time (s)")
    ap.add_argument("--t1", type=float, default=None, help="sheet up to this time (s)")
    ap.add_argument("--cols", type=int, default=8, help="sheet columns")
    ap.add_argument("--thumb", type=int, default=200, help="sheet tile size (px)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/realset-label"),
                    help="where the PNGs go (never the repository)")  # fmt: skip
    ap.add_argument("--voiced", action="store_true",
                    help="print the voiced-time rule's spans as label JSON and stop")  # fmt: skip
    ap.add_argument("--no-sheet", action="store_true", help="cues and audio pictures only")
    ap.add_argument(
        "--no-track",
        action="store_true",
        help="do not track the clip when its track is not cached (no cues then)",
    )
    args = ap.parse_args()
    clip = next((c for c in real_clips.clips_all() if c.name == args.clip), None)
    if clip is None:
        raise SystemExit(f"real_label.py: no clip {args.clip!r} in benchmarks/real_clips.py")
    prepared = real_clips.clip_prepared(clip)
    if prepared is None:
        raise SystemExit(f"real_label.py: {clip.name} is not available here")
    if args.voiced:
        sound = clip_sound(prepared)
        if sound is None:
            print("[]")
            return
        spans, figs = voiced_spans(*sound)
        print(json.dumps({"rule": figs, "annotations": [
            {"onset_s": round(a, 2), "duration_s": round(b - a, 2), "description": "voiced"}
            for a, b in spans]}, indent=1))  # fmt: skip
        return
    cached = real_clips.real_dir() / f"{prepared.name}.track.npz"
    if args.no_track and not cached.exists():
        track = None  # no cues, whole frames
    else:
        track = cached_track(prepared, real_clips.real_dir())
    labels = labels_load(clip.name)
    tag = "" if args.t0 == 0 and args.t1 is None else f"_{args.t0:g}-{args.t1 or 'end'}"
    made = [audio_draw(prepared, args.out / f"{clip.name}_audio.png", labels=labels,
                       title=clip.name)]  # fmt: skip
    if track is not None:
        made.append(cues_draw(track, args.out / f"{clip.name}_cues{tag}.png", labels=labels,
                              title=clip.name, t0=args.t0, t1=args.t1))  # fmt: skip
    if not args.no_sheet:
        made.append(sheet_draw(prepared, args.out / f"{clip.name}_sheet{tag}.png",
                               step_s=args.step, t0=args.t0, t1=args.t1, cols=args.cols,
                               thumb=args.thumb, track=track))  # fmt: skip
    for p in made:
        if p is not None:
            print(p)


if __name__ == "__main__":
    main()
