"""Re-measure only the region flow of cached tracks, with another flow method, into another dir.

The flow of a frame pair depends on the two frames and the first one's landmarks only, so a
flow method can be judged on a benchmark's cached tracks without running MediaPipe again:
for each ``SRC/*.track.npz`` whose video is found (in SRC, or in the tests' media cache), the
video is decoded as :func:`~facetwitch.landmarks.tracker.track_video` decodes it, the region
flow measured anew from the cached landmarks (``RegionFlow.update``, reset across gaps as the
tracker does), and the track written to ``OUT`` with the new ``region_flow``, ``rigid_flow``,
``outline_flow`` and ``info["flow"]`` (everything else, sound included, as cached). Every other
file and folder of SRC (videos, truth, clips' sources) is linked into OUT, so that a benchmark
pointed at OUT finds what it finds in SRC. SRC is only read.

Then, e.g.::

    python benchmarks/reflow.py ~/.cache/facetwitch/bench /tmp/bench-lk --method lk --glob 'calm_*'
    FACETWITCH_BENCH=/tmp/bench-lk python benchmarks/accuracy.py --set calm --seeds 3 --flow lk
    (``--lk KEY=VALUE ...`` on both, for a variant of the Lucas-Kanade settings; ``--dis
    KEY=VALUE ...`` likewise for DIS, e.g. ``--method dis --dis crop=disks iterations=8``)
    python benchmarks/reflow.py ~/.cache/facetwitch/bench/real /tmp/real-lk --method lk
    python benchmarks/assess.py --work /tmp/real-lk --part tune

The flow's CPU time per frame (decoding not included) is printed at the end. ``--method dis``
on a cache made with the shipped settings gives its tracks back bit for bit (a check of this
script).
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import os
import sys
import time
import warnings
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's facetwitch, not an installed one

from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import flow as flow_mod  # noqa: E402
from facetwitch.landmarks.track import LandmarkTrack  # noqa: E402
from facetwitch.landmarks.tracker import GAP_S  # noqa: E402
from facetwitch.landmarks.video import VideoReader  # noqa: E402

SUFFIX = ".track.npz"
#: ``--lk`` keys -> the module constants of facetwitch.landmarks.flow they set.
LK_KEYS = {"step": "LK_STEP_PX", "window": "LK_WINDOW_PX", "lid_window": "LK_LID_WINDOW_PX",
           "max_level": "LK_MAX_LEVEL", "fb_px": "LK_FB_PX",
           "lid_regions": "LK_LID_REGIONS",
           "upper_lid_above_px": "LK_UPPER_LID_ABOVE_PX",
           "lower_lid_above_px": "LK_LOWER_LID_ABOVE_PX"}  # fmt: skip
#: ``--dis`` keys -> the module constants of facetwitch.landmarks.flow they set.
DIS_KEYS = {"iterations": "DIS_ITERATIONS", "stride": "DIS_STRIDE", "patch": "DIS_PATCH",
            "crop": "DIS_CROP", "margin_px": "DIS_MARGIN_PX", "propagation": "DIS_PROPAGATION",
            "mean_normalization": "DIS_MEAN_NORMALIZATION",
            "face_width_px": "FLOW_FACE_WIDTH_PX", "face_pad": "FLOW_FACE_PAD",
            "shear": "SHEAR_FIT", "shear_ratio": "SHEAR_RATIO",
            "shear_window": "SHEAR_WINDOW"}  # fmt: skip


def dis_apply(pairs: list[str] | None) -> None:
    """Set DIS constants of this process from ``KEY=VALUE`` strings (``DIS_KEYS``).

    As :func:`lk_apply`: both ``RegionFlow`` and ``flow_signature`` read them. ``crop`` takes
    ``face`` or ``disks``; ``propagation`` and ``mean_normalization`` take 0 or 1;
    ``face_width_px`` and ``face_pad`` (the face crop's ``FLOW_FACE_WIDTH_PX``, ``FLOW_FACE_PAD``)
    are not DIS's own but set the pixels it runs on.
    """
    for pair in pairs or ():
        key, _, value = pair.partition("=")
        if key not in DIS_KEYS:
            raise SystemExit(f"--dis: unknown key {key!r} (one of {', '.join(DIS_KEYS)})")
        if key == "crop":
            if value not in flow_mod.DIS_CROPS:
                raise SystemExit(f"--dis crop: one of {', '.join(flow_mod.DIS_CROPS)}")
            parsed = value
        elif key in ("propagation", "mean_normalization", "shear"):
            parsed = bool(int(value))
        elif key in ("margin_px", "face_pad", "shear_ratio"):
            parsed = float(value)
        else:
            parsed = int(value)
        setattr(flow_mod, DIS_KEYS[key], parsed)


def lk_apply(pairs: list[str] | None) -> None:
    """Set Lucas-Kanade constants of this process from ``KEY=VALUE`` strings (``LK_KEYS``).

    Both :class:`~facetwitch.landmarks.flow.RegionFlow` and ``flow_signature`` read them, so a
    variant's tracks carry its own signature. ``lid_regions`` takes comma-separated names.
    """
    for pair in pairs or ():
        key, _, value = pair.partition("=")
        if key not in LK_KEYS:
            raise SystemExit(f"--lk: unknown key {key!r} (one of {', '.join(LK_KEYS)})")
        if key == "lid_regions":
            parsed = tuple(v for v in value.split(",") if v)
        elif key in ("upper_lid_above_px", "lower_lid_above_px"):
            parsed = None if value.lower() == "none" else float(value)
        elif key == "fb_px":
            parsed = float(value)
        else:
            parsed = int(value)
        setattr(flow_mod, LK_KEYS[key], parsed)


def video_of(track_path: Path) -> Path | None:
    """Return the video a cached track was made from: beside it, else in the tests' media cache."""
    name = track_path.name[: -len(SUFFIX)]
    here = track_path.with_name(name)
    if here.exists():
        return here
    cache = Path(os.environ.get("FACETWITCH_CACHE", Path.home() / ".cache" / "facetwitch"))
    found = sorted((cache / "testdata").glob(f"*/{name}"))
    return found[0] if found else None


def reflow_one(job: tuple) -> tuple[str, int, float, str]:
    """Re-measure one track's region flow; return (name, frames, flow CPU s, note)."""
    src, dst, method = Path(job[0]), Path(job[1]), job[2]
    lk_apply(job[3])
    dis_apply(job[4])
    video = video_of(src)
    if video is None:
        return src.name, 0, 0.0, "video not found, skipped"
    track = LandmarkTrack.load(src)
    meter = flow_mod.RegionFlow(method=method)
    reg = np.full_like(track.region_flow, np.nan)
    rig = np.full_like(track.rigid_flow, np.nan)
    outl = np.full(len(track), np.nan)
    cpu = 0.0
    last_t = None
    i = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        with VideoReader(video, max_side=1280) as frames:
            for frame in frames:
                if i >= len(track):
                    return src.name, i, cpu, "more frames than the track, skipped"
                if abs(frame.t_s - track.t[i]) > 1e-6:
                    return src.name, i, cpu, f"frame {i} at {frame.t_s} s, track {track.t[i]} s"
                xy = track.points[i, :, :2] if track.found[i] else None
                c = time.process_time()
                if last_t is not None and frame.t_s - last_t > GAP_S:
                    meter.reset()
                last_t = frame.t_s
                reg[i], rig[i], outl[i] = meter.update(frame.rgb, xy)
                cpu += time.process_time() - c
                i += 1
    if i != len(track):
        return src.name, i, cpu, f"{i} frames decoded, track has {len(track)}: skipped"
    info = dict(track.info)
    info["flow"] = flow_mod.flow_signature(method)
    new = dataclasses.replace(track, region_flow=reg, rigid_flow=rig, outline_flow=outl, info=info)
    new.save(dst)
    return src.name, i, cpu, ""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("src", type=Path, help="a benchmark's cache (read only)")
    ap.add_argument("out", type=Path, help="where the re-measured tracks and the links go")
    ap.add_argument("--method", choices=flow_mod.FLOW_METHODS, default="lk")
    ap.add_argument("--glob", nargs="*", default=["*"],
                    help="only tracks whose name matches one of these (e.g. 'calm_*')")  # fmt: skip
    ap.add_argument("--lk", nargs="*", default=None, metavar="KEY=VALUE",
                    help=f"Lucas-Kanade settings other than the module's ({', '.join(LK_KEYS)}),"
                         " e.g. --lk window=7 lid_window=5")  # fmt: skip
    ap.add_argument("--dis", nargs="*", default=None, metavar="KEY=VALUE",
                    help=f"DIS settings other than the module's ({', '.join(DIS_KEYS)}),"
                         " e.g. --dis crop=disks iterations=8")  # fmt: skip
    ap.add_argument("--link-others", action="store_true",
                    help="link the tracks --glob leaves out into OUT as they are (e.g. clips "
                         "under the small-face floor, where the flow is never read)")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    lk_apply(args.lk)
    dis_apply(args.dis)
    src, out = args.src.resolve(), args.out.resolve()
    if src == out:
        ap.error("OUT must not be SRC: the cache is only read")
    out.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        link = out / p.name
        if not p.name.endswith(SUFFIX) and not link.exists() and not link.is_symlink():
            link.symlink_to(p)
    todo = []
    for p in sorted(src.glob("*" + SUFFIX)):
        if not any(fnmatch.fnmatch(p.name, g) for g in args.glob):
            link = out / p.name
            if args.link_others and not link.exists() and not link.is_symlink():
                link.symlink_to(p)
            continue
        dst = out / p.name
        if dst.exists() and LandmarkTrack.load(dst).info.get("flow") == flow_mod.flow_signature(
            args.method
        ):
            continue
        todo.append((str(p), str(dst), args.method, args.lk, args.dis))
    print(f"{len(todo)} tracks to re-measure with {args.method}: "
          f"{flow_mod.flow_signature(args.method)}", flush=True)  # fmt: skip
    frames, cpu = 0, 0.0
    t0 = time.time()
    with get_context("spawn").Pool(args.jobs) as pool:
        for name, n, c, note in pool.imap_unordered(reflow_one, todo):
            frames += n
            cpu += c
            print(f"  {name}: {n} frames {note}", flush=True)
    print(f"region flow ({args.method}) CPU {1000 * cpu / max(frames, 1):.2f} ms/frame over "
          f"{frames} frames; {time.time() - t0:.0f} s wall")  # fmt: skip


if __name__ == "__main__":
    main()
