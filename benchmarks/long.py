"""Long recordings: time and memory of the analysis, and the saved track's size, against length.

A twitch that comes "several times a day" needs long recordings. This tracks the demo clip
(``samples/demo_upper_lip.mp4``, real MediaPipe inference; cached in ``--work``), repeats its
track end to end, with timestamps continued, to each length asked for (a stand-in for a long
recording: same faces, same events per minute; always forward, each repeat a cut back to the
clip's first frame, never played backwards), and for each length, in a fresh process so that
peak memory is that length's own, prints:

- the analysis's wall time (``analysis_run``: signals, events, sustained contractions, quality,
  summary), and its time per minute of video over the shortest length's (1.0 = linear);
- the process's peak resident memory before the analysis (Python, MediaPipe's libraries, the
  track) and the peak added by the analysis, and that per minute of video;
- ``track.npz``: the time to save and load it, its size in MB and MB per minute of video;
- the events found, per minute (the same clip repeated: equal per minute at every length);
- the process's whole peak (VmHWM: the track, over memory maps of a spool file as the tracker
  hands it over, plus the analysis) against the 10 min one's (the tracking side of the same
  question is in ``speed.py``);
- the same for the saved ``track.npz`` loaded and analysed in a fresh process (what
  ``facetwitch analyze X.track.npz`` does).

Usage::

    python benchmarks/long.py [--minutes 1 10 60] [--work DIR] [--complaint TEXT]

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
sys.path.insert(0, str(ROOT))  # this checkout's facetwitch, not an installed one
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
    """``track`` repeated end to end up to ``minutes`` of video, timestamps continued.

    Spooled like the tracker's output (:class:`~facetwitch.landmarks.store.FrameStore`: blocks
    written to an unlinked temporary file, handed out over memory maps), so that what is
    measured is what ``facetwitch analyze VIDEO`` holds: the analysis of a track, not a
    whole-length copy of it made here.
    """
    from facetwitch.landmarks.store import FRAME_FIELDS, FrameStore

    step = float(track.t[-1] + np.median(np.diff(track.t)))
    reps = max(1, int(np.ceil(minutes * 60.0 / step)))
    store = FrameStore()
    for k in range(reps):
        store.extend({name: track.t + k * step if name == "t" else getattr(track, name)
                      for name in FRAME_FIELDS})  # fmt: skip
    return dataclasses.replace(track, **store.arrays())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _complaint() -> str | None:
    """Return the parent's ``--complaint`` (its children read it from the environment)."""
    return os.environ.get("FACETWITCH_LONG_COMPLAINT") or None


def child_saved(saved: Path) -> dict:
    """Load a saved long track and analyse it, in this process (``facetwitch analyze X.npz``)."""
    from facetwitch.analysis import analysis_run
    from facetwitch.landmarks import LandmarkTrack

    before = _peak_mb()
    track = LandmarkTrack.load(saved)
    loaded = _peak_mb()
    analysis_run(track, complaint=_complaint())
    return {"rss_before_mb": before, "rss_loaded_mb": loaded, "rss_peak_mb": _peak_mb()}


def child(track_path: Path, minutes: float, out: Path) -> dict:
    """One length, measured in this process; the track is saved to ``out``."""
    from facetwitch.analysis import analysis_run
    from facetwitch.landmarks import LandmarkTrack

    track = repeated(LandmarkTrack.load(track_path), minutes)
    video_min = float(track.t[-1] - track.t[0]) / 60.0
    before = _peak_mb()
    t0 = time.perf_counter()
    an = analysis_run(track, complaint=_complaint())
    analysis_s = time.perf_counter() - t0
    after = _peak_mb()
    # (the save and load below can raise the peak too; the analysis's figures are above)
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
    ap.add_argument("--complaint", default=None,
                    help="analyse with this description (a region named: the focused "
                         "sensitivity test runs too)")  # fmt: skip
    ap.add_argument("--child", nargs=3, metavar=("TRACK", "MINUTES", "OUT"),
                    help=argparse.SUPPRESS)  # fmt: skip
    ap.add_argument("--child-saved", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), float(args.child[1]), Path(args.child[2]))))
        return 0
    if args.child_saved:
        print(json.dumps(child_saved(args.child_saved)))
        return 0
    track_path = demo_track(args.work)
    rows = []

    def run(*child_args) -> dict:
        env = {**os.environ, "FACETWITCH_LONG_COMPLAINT": args.complaint or ""}
        out = subprocess.run([sys.executable, __file__, *map(str, child_args)], check=True,
                             capture_output=True, text=True, env=env).stdout  # fmt: skip
        return json.loads(out.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for m in sorted(args.minutes):
            saved = Path(tmp) / f"{m:g}min.track.npz"
            rows.append(run("--child", track_path, m, saved))
            rows[-1]["saved"] = run("--child-saved", saved)
            saved.unlink()
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
    for r in rows:
        s, s0 = r["saved"], ref["saved"]
        print(f"saved track.npz loaded and analysed (facetwitch analyze X.npz), {r['minutes']:.0f}"
              f" min: peak {s['rss_peak_mb']:.0f} MB (after loading {s['rss_loaded_mb']:.0f}); "
              f"/ {ref['minutes']:.0f} min's {s0['rss_peak_mb']:.0f} MB = "
              f"{s['rss_peak_mb'] / s0['rss_peak_mb']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
