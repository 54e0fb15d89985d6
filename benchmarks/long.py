"""Long recordings: time and memory of the analysis, and the saved track's size, against length.

A twitch that comes "several times a day" needs long recordings. This tracks the demo clip
(``samples/demo_upper_lip.mp4``, real MediaPipe inference; cached in ``--work``), repeats its
track end to end, with timestamps continued, to each length asked for (a stand-in for a long
recording: same faces, same events per minute), and for each length, in a fresh process so that
peak memory is that length's own, prints:

- the analysis's wall time (``analysis_run``: signals, events, sustained contractions, quality,
  summary), and its time per minute of video over the shortest length's (1.0 = linear);
- the process's peak resident memory before the analysis (Python, MediaPipe's libraries, the
  track) and the peak added by the analysis, and that per minute of video;
- ``track.npz``: the time to save and load it, its size in MB and MB per minute of video;
- the events found, per minute (the same clip repeated: equal per minute at every length);
- the process's whole peak (VmHWM: the track in memory plus the analysis) against the 10 min
  one's (the tracking side of the same question is in ``speed.py``).

Usage::

    python benchmarks/long.py [--minutes 1 10 60] [--work DIR]

Not a test: figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "samples" / "demo_upper_lip.mp4"


def demo_track(work: Path) -> Path:
    """Return the demo's track (tracked once, then read from ``work``)."""
    from facetwitch.landmarks import track_video

    path = work / "demo_upper_lip.mp4.track.npz"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        track_video(DEMO).save(path)
    return path


def repeated(track, minutes: float):
    """``track`` repeated end to end up to ``minutes`` of video, timestamps continued."""
    n = len(track.t)
    step = float(track.t[-1] + np.median(np.diff(track.t)))
    reps = max(1, int(np.ceil(minutes * 60.0 / step)))
    arrays = {
        f.name: np.concatenate([getattr(track, f.name)] * reps)
        for f in dataclasses.fields(track)
        if f.name != "t" and isinstance(getattr(track, f.name), np.ndarray)
        and getattr(track, f.name).shape[:1] == (n,)
    }  # fmt: skip
    t = np.concatenate([track.t + k * step for k in range(reps)])
    return dataclasses.replace(track, t=t, **arrays)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def child(track_path: Path, minutes: float) -> dict:
    """One length, measured in this process."""
    from facetwitch.analysis import analysis_run
    from facetwitch.landmarks import LandmarkTrack

    track = repeated(LandmarkTrack.load(track_path), minutes)
    video_min = float(track.t[-1] - track.t[0]) / 60.0
    before = _peak_mb()
    t0 = time.perf_counter()
    an = analysis_run(track)
    analysis_s = time.perf_counter() - t0
    after = _peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        # (the save and load below can raise the peak too; the analysis's figures are above)
        out = Path(tmp) / "track.npz"
        t0 = time.perf_counter()
        track.save(out)
        save_s = time.perf_counter() - t0
        size_mb = out.stat().st_size / 1e6
        t0 = time.perf_counter()
        LandmarkTrack.load(out)
        load_s = time.perf_counter() - t0
    return {
        "minutes": video_min, "frames": len(track.t), "analysis_s": analysis_s,
        "rss_before_mb": before, "rss_added_mb": max(0.0, after - before), "rss_peak_mb": after,
        "save_s": save_s, "load_s": load_s, "size_mb": size_mb,
        "events": len(an.report["events"]), "twitches": an.report["summary"]["twitch_count"],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0, 60.0])
    ap.add_argument("--work", type=Path, default=Path(os.environ.get(
        "FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")))  # fmt: skip
    ap.add_argument("--child", nargs=2, metavar=("TRACK", "MINUTES"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), float(args.child[1]))))
        return 0
    track_path = demo_track(args.work)
    rows = []
    for m in sorted(args.minutes):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(track_path), str(m)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  {m:g} min done", file=sys.stderr)
    base = rows[0]["analysis_s"] / rows[0]["minutes"]
    print(
        "| video | frames | analysis s | s per video min | per min / shortest's | peak RSS before"
        " analysis MB | added by analysis MB | added per video min MB | track.npz MB (per min)"
        " | save s | load s | events per min |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        per_min = r["analysis_s"] / r["minutes"]
        print(
            f"| {r['minutes']:.1f} min | {r['frames']} | {r['analysis_s']:.1f} | {per_min:.2f} |"
            f" {per_min / base:.2f} | {r['rss_before_mb']:.0f} | {r['rss_added_mb']:.0f} |"
            f" {r['rss_added_mb'] / r['minutes']:.1f} | {r['size_mb']:.0f}"
            f" ({r['size_mb'] / r['minutes']:.1f}) | {r['save_s']:.1f} | {r['load_s']:.1f} |"
            f" {r['events'] / r['minutes']:.1f} |"
        )
    ref = next((r for r in rows if abs(r["minutes"] - 10.0) < 0.5), rows[0])
    for r in rows:
        print(f"peak RSS through the analysis, {r['minutes']:.0f} min / {ref['minutes']:.0f} "
              f"min: {r['rss_peak_mb']:.0f} / {ref['rss_peak_mb']:.0f} MB = "
              f"{r['rss_peak_mb'] / ref['rss_peak_mb']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
