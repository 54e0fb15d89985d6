"""A dim room: real faces at rest, filmed with a webcam's low-light noise (issue 15).

The twitch comes "several times a day", often in the evening, at home, in lamp light. A webcam
in a dim room turns its gain up: the picture is darker and grainy, the grain differs from frame
to frame, and the flow measures it. This benchmark takes the real set's at-rest clips
(``compressed.REST_CLIPS``: msu 001 / 005 / 022, vitallens 1 / 2, bob) and the real set's own
injection plans (``real.py``: same seeds, same twitches, 0.5-3 mm), injects them into the
*original* files without loss (x264 CRF 0), then makes each frame as a camera in less light
would, and encodes it once at CRF 18 (libx264 preset medium, one thread: the same video on
every run), as the real set's own files are:

- the picture is darkened to ``gain`` of its brightness (auto-exposure does not make all of it
  back),
- noise is added with a standard deviation of ``sqrt(shot * value + read)`` (8-bit levels, the
  value after darkening: photon noise grows with the light, the read noise does not),
  independently per colour channel and frame, blurred over about a pixel (demosaicking and
  the camera's own denoising leave grain a few pixels wide, not single-pixel speckle) and
  scaled back to that deviation.

``LEVELS`` gives two rooms: ``dim`` (gain 0.75; deviation about 3.7 levels at mid grey) and
``dark`` (gain 0.5; about 6.9 levels). The clean clips (no injection) made the same way give
the false twitches with nothing to find. The noise is drawn from a generator seeded by clip,
level and seed: the same videos on every run.

Printed per level, per clip and pooled, as ``compressed.py`` prints: face and assessable
minutes, the injected twitches in assessable time found (precision, recall, side, direction
error, amplitude ratio), the counted twitches with no injected one near (and per assessable
minute), and, per level, the time annotated ``BAD_noisy``.

    python benchmarks/lowlight.py                     # seeds 0-2 and the clean clips, both levels
    python benchmarks/lowlight.py --levels dark --seeds 3 4 5 -v

Tracks and truths are cached in ``--work``/lowlight; the videos are deleted once tracked.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import zlib
from fractions import Fraction
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import av
import cv2
import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402
import compressed  # noqa: E402
import real  # noqa: E402
import real_clips  # noqa: E402

from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402
from facetwitch.simulation.encode import _Writer  # noqa: E402

#: level -> (gain, shot, read): the picture times ``gain``, plus noise of deviation
#: ``sqrt(shot * value + read)`` (8-bit levels).
LEVELS = {"dim": (0.75, 0.1, 4.0), "dark": (0.5, 0.5, 16.0)}
#: The grain's blur (Gaussian sigma, px of the video).
GRAIN_SIGMA_PX = 0.8
#: The real set's own encoding of what is tracked.
CRF = real.INJECT_CRF


def darkened(rgb: np.ndarray, level: str, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` (uint8) as a camera in ``level``'s light would give it."""
    gain, shot, read = LEVELS[level]
    value = rgb.astype(np.float32) * gain
    noise = rng.standard_normal(rgb.shape, dtype=np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), GRAIN_SIGMA_PX)
    noise /= max(float(noise.std()), 1e-6)
    out = value + np.sqrt(shot * value + read) * noise
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def remade(src: Path, dst: Path, each) -> None:
    """``src`` decoded, every frame changed, encoded at :data:`CRF` at its own timestamps.

    ``each(rate, duration_s, width)`` returns the change, ``f(rgb, t) -> rgb`` (uint8 RGB, frame
    time in seconds): this benchmark's, ``flicker.py``'s and ``handheld.py``'s.
    """
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = float(stream.average_rate or 30)
        dur = float(stream.duration * stream.time_base) if stream.duration else 600.0
        change = each(rate, dur, stream.codec_context.width)
        writer = None
        for frame in inp.decode(stream):
            t = float(frame.time)
            img = change(frame.to_ndarray(format="rgb24"), t)
            if writer is None:
                h, w = img.shape[:2]
                writer = _Writer(dst, w, h, Fraction(1, 90000), CRF, rate, {"threads": "1"})
            writer.write(img, t)
        if writer is not None:
            writer.close()


def _remake(src: Path, dst: Path, level: str, rng: np.random.Generator) -> None:
    """``src`` with every frame :func:`darkened` (:func:`remade`)."""
    remade(src, dst, lambda rate, dur, width: lambda rgb, t: darkened(rgb, level, rng))


def clip_made(name: str, level: str, seed: int | None, work: Path,
              real_work: Path, remake=None) -> tuple[Path, Path | None]:  # fmt: skip
    """Return the track and truth (None: clean) of ``name`` at ``level``, seed ``seed``'s plan.

    Made (injected without loss, darkened, encoded, tracked) when missing. ``remake(src, dst,
    level, rng)`` makes the video (default :func:`_remake`, darkened; ``flicker.py`` passes
    its own).
    """
    tag = f"{name}.{level}" + ("" if seed is None else f".seed{seed}")
    track_p = work / f"{tag}.track.npz"
    truth_p = None if seed is None else work / f"{name}.lossless{seed}.truth.json"
    if track_p.exists() and (truth_p is None or truth_p.exists()):
        return track_p, truth_p  # scored from the cache: the original is not needed
    clip = {c.name: c for c in real_clips.clips_all()}[name]
    src = real_clips.clip_source(clip)
    if src is None:
        raise SystemExit(f"{name}: its original is not available here")
    if seed is not None:
        clean = LandmarkTrack.load(real_work / f"{name}.mp4.track.npz")

        def plan(s, sd, c):
            return accuracy.plan_make(s, sd, c, amplitude_mm=real.AMPLITUDE_MM, name=name)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            src, _ = accuracy.injected(src, seed, work, clean, tag="lossless", plan=plan,
                                       name=name, crf=0)  # fmt: skip
    if not track_p.exists():
        video = work / f"{tag}.mp4"
        key = zlib.crc32(tag.encode())
        (remake or _remake)(src, video, level, np.random.default_rng(key))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            track_video(video, workers=1).save(track_p)
        video.unlink()
    return track_p, truth_p


def clip_score(job: dict, remake=None) -> dict:
    """Make (if needed) and score one clip, level and seed (``remake``: :func:`clip_made`'s)."""
    track_p, truth_p = clip_made(job["name"], job["level"], job["seed"], Path(job["work"]),
                                 Path(job["real_work"]), remake=remake)  # fmt: skip
    return {**job, **compressed.scored(track_p, truth_p)}


def main_for(doc: str, option: str, levels: dict, folder: str, remake, describe) -> None:
    """Run a benchmark that remakes the real set's at-rest clips: this one, flicker, handheld.

    ``--<option>`` chooses among ``levels``' keys; ``remake`` makes a level's video
    (:func:`clip_made`); ``describe(level, rows)`` gives the line printed above a level's table.
    """
    ap = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(f"--{option}", nargs="+", choices=list(levels), default=list(levels))
    ap.add_argument("--seeds", type=int, nargs="*", default=list(real.TUNE_SEEDS),
                    help="injection plans (the clean clips are always made too)")  # fmt: skip
    compressed.args_shared(ap, folder)
    args = ap.parse_args()
    real_work, work = compressed.work_dirs(args, folder)
    jobs = [{"name": n, "level": lv, "seed": s, "work": str(work), "real_work": real_work}
            for lv in getattr(args, option) for n in args.clips
            for s in [None, *args.seeds]]  # fmt: skip
    with get_context("spawn").Pool(args.jobs) as pool:
        rows = pool.map(partial(clip_score, remake=remake), jobs, chunksize=1)
    print(compressed.HEADER)
    for lv in getattr(args, option):
        at = [r for r in rows if r["level"] == lv]
        print(describe(lv, at))
        for part, rs in (("clean", [r for r in at if r["seed"] is None]),
                         ("injected", [r for r in at if r["seed"] is not None])):  # fmt: skip
            compressed.clips_print(rs, args.clips, f" ({part})", verbose=args.verbose)
            print(compressed.line(f"= pooled ({part})", rs))
    print(compressed.FOOTER)


def _describe(level: str, rows: list[dict]) -> str:
    gain, shot, read = LEVELS[level]
    noisy = sum(r["not_assessable_s"].get("BAD_noisy") or 0 for r in rows) / 60
    return (f"{level}: gain {gain}, noise sqrt({shot} x value + {read}) levels; "
            f"BAD_noisy {noisy:.2f} min")  # fmt: skip


def main() -> None:
    main_for(__doc__, "levels", LEVELS, "lowlight", _remake, _describe)


if __name__ == "__main__":
    main()
