"""A long recording analysed in stretches against the same recording analysed in one piece.

Each real track given (default: the demo's, tracked once and cached as ``long.py`` does) is
repeated forward to ``--minutes`` (timestamps continued, never played backwards), analysed in
one piece and in stretches of ``--max-s`` seconds (the shipped 600 s lowered, so that a few
minutes are cut several times), and compared: events matched by kind, region, side and peak
time (within 0.05 s), the largest amplitude difference, twitch counts, assessable time, the
quality's noise and the number of ``BAD_`` spans.

Usage::

    python benchmarks/stretches.py [TRACK.npz ...] [--minutes 4] [--max-s 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's facetwitch, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parent))

from long import demo_track, repeated  # noqa: E402

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.landmarks import LandmarkTrack  # noqa: E402
from facetwitch.signal import stretches  # noqa: E402

COMPLAINT = "my upper lip twitches upward and to the left"


def compare(whole: dict, cut: dict) -> dict:
    """Match the events of two reports of one track; return the figures printed."""

    def key(e):
        return e["kind"], e["region"], e["side"]

    used, damp = set(), []
    for e in whole["events"]:
        best = None
        for j, f in enumerate(cut["events"]):
            if j in used or key(f) != key(e):
                continue
            d = abs(f["t_peak_s"] - e["t_peak_s"])
            if d <= 0.05 and (best is None or d < best[0]):
                best = (d, j)
        if best is not None:
            used.add(best[1])
            damp.append(abs(cut["events"][best[1]]["amplitude_mm"] - e["amplitude_mm"]))
    return {
        "stretches": cut["detector"]["stretches"]["count"],
        "events": (len(whole["events"]), len(cut["events"])),
        "matched": len(used),
        "max_damp": max(damp, default=0.0),
        "twitches": (whole["summary"]["twitch_count"], cut["summary"]["twitch_count"]),
        "assessable": (whole["summary"]["assessable_s"], cut["summary"]["assessable_s"]),
        "noise": (whole["quality"]["noise_mm"], cut["quality"]["noise_mm"]),
        "spans": (len(whole["annotations"]), len(cut["annotations"])),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tracks", nargs="*", type=Path)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--max-s", type=float, default=60.0)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get(
        "FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")))  # fmt: skip
    args = ap.parse_args(argv)
    paths = args.tracks or [demo_track(args.work)]
    print("| track | min | stretches | events one / cut | matched | max d amp mm | twitches |"
          " assessable s | noise mm | BAD spans |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in paths:
        track = repeated(LandmarkTrack.load(p), args.minutes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            whole = analysis_run(track, complaint=COMPLAINT).report
            shipped, stretches.STRETCH_S = stretches.STRETCH_S, args.max_s
            try:
                cut = analysis_run(track, complaint=COMPLAINT).report
            finally:
                stretches.STRETCH_S = shipped
        r = compare(whole, cut)
        print(f"| {p.name} | {float(track.t[-1]) / 60:.1f} | {r['stretches']} |"
              f" {r['events'][0]} / {r['events'][1]} | {r['matched']} | {r['max_damp']:.2f} |"
              f" {r['twitches'][0]} / {r['twitches'][1]} |"
              f" {r['assessable'][0]} / {r['assessable'][1]} |"
              f" {r['noise'][0]} / {r['noise'][1]} |"
              f" {r['spans'][0]} / {r['spans'][1]} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
