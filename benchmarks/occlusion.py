"""A hand on the face: what facetwitch counts while part of a real face is covered (issue 15).

What ``BAD_occlusion`` (``facetwitch.signal.annotate.mesh_unfollowed``) catches of a hand,
and what is counted when it does not. Into each clean at-rest clip of the real set
(``real.py``'s cache, CRF 18) it paints a skin-coloured occluder
(``facetwitch.simulation.occlude``: an ellipse in the face's own median skin colour, shaded,
with a fixed smooth texture, about 30 x 45 mm; with ``--arm`` a forearm to the frame's bottom
edge) that slides in from the side over 0.6 s, rests on one place of the face for 2.6 s with a
hand's slow sway (2-3 px at 1-3 Hz), and slides out over 0.6 s; the simulator's writer encodes
it (libx264, CRF 18, on one thread so that every run makes the same video); it is tracked and
analysed. Places: ``cheek`` (one side), ``mouth`` (the middle of the mouth), ``eye`` (one
eye), and ``none``: the same decoding and second encoding with nothing painted, the control (a
second generation of CRF 18 makes its own false twitches). Printed per clip and place: the
occluded time, the share of it annotated ``BAD_`` (any cause; and by which), the counted twitches
in it (all false: the clip is clean) with the control's count in the same time beside, and
the counted twitches elsewhere (control beside). Tracks are cached in ``--work``/occlusion;
videos are deleted once tracked.

    python benchmarks/occlusion.py --work $FACETWITCH_BENCH/real   # msu 001/005, vitallens 1, bob
    python benchmarks/occlusion.py --clips msu_client005 --places cheek
    python benchmarks/occlusion.py --arm          # the occluder with a forearm (a hand)
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from fractions import Fraction
from multiprocessing import get_context
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_clips  # noqa: E402

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402
from facetwitch.simulation.encode import _Writer  # noqa: E402
from facetwitch.simulation.occlude import ENTER_S, HOLD_S, LEAVE_S, video_occlude  # noqa: E402
from facetwitch.simulation.occlude import PLACES as OCCLUDE_PLACES  # noqa: E402

CLIPS = ("msu_client001", "msu_client005", "vitallens_sample_video_1", "bob_testvideo")
#: Where the occluder rests (``facetwitch.simulation.occlude.PLACES``), and ``none``: the control.
PLACES = ("none", *OCCLUDE_PLACES)


def _reencode(src: Path, out: Path) -> None:
    """``src`` decoded and encoded again as :func:`video_occlude` encodes, nothing painted."""
    inp = av.open(str(src))
    stream = inp.streams.video[0]
    writer = None
    for frame in inp.decode(stream):
        img = frame.to_ndarray(format="rgb24")
        if writer is None:
            h, w = img.shape[:2]
            rate = float(stream.average_rate or 30)
            writer = _Writer(out, w, h, Fraction(1, 90000), 18, rate, {"threads": "1"})
        writer.write(img, float(frame.time))
    if writer is not None:
        writer.close()
    inp.close()


def _union_s(annotations: list[dict], start: float, end: float) -> float:
    """Seconds of ``[start, end]`` inside any ``BAD_`` span (causes overlap: counted once)."""
    grid = np.arange(start, end, 0.01)
    inside = np.zeros(len(grid), bool)
    for a in annotations:
        inside |= (grid >= a["onset_s"]) & (grid <= a["onset_s"] + a["duration_s"])
    return float(inside.sum() * 0.01)


def run(job: tuple) -> dict:
    """Occlude clip ``name`` at ``place`` (``arm``: with a forearm); track; analyse; count.

    ``job``: (work, name, place, arm, settings), settings as ``analysis_run`` takes them.
    """
    work, name, place, arm, settings = job
    cache = work / "occlusion"
    cache.mkdir(exist_ok=True)
    clean_track = LandmarkTrack.load(work / f"{name}.mp4.track.npz")
    dur = float(clean_track.t[-1])
    start = max(1.0, dur / 2 - (ENTER_S + HOLD_S + LEAVE_S) / 2)
    end = start + ENTER_S + HOLD_S + LEAVE_S
    tag = f"{name}.{place}" + (".arm" if arm and place != "none" else "")
    path = cache / f"{tag}.track.npz"
    if path.exists():
        track = LandmarkTrack.load(path)
    else:
        video = cache / f"{tag}.mp4"
        if place == "none":  # the same decoding and second encoding, nothing painted
            _reencode(work / f"{name}.mp4", video)
        else:
            video_occlude(work / f"{name}.mp4", video, clean_track, place, start, arm=arm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            track = track_video(video)
        track.save(path)
        video.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        rep = analysis_run(track, settings=settings).report
        control = (rep if place == "none"
                   else run((work, name, "none", False, settings))["report"])  # fmt: skip
    bad: dict[str, float] = {}
    for a in rep["annotations"]:
        lo, hi = max(a["onset_s"], start), min(a["onset_s"] + a["duration_s"], end)
        if hi > lo:
            bad[a["description"]] = bad.get(a["description"], 0.0) + hi - lo

    def counted(r: dict, inside: bool) -> list[dict]:
        return [e for e in r["events"] if e["kind"] == "twitch" and e["counted"]
                and (start - 0.3 <= e["t_peak_s"] <= end + 0.3) == inside]  # fmt: skip

    return {
        "clip": name, "place": place, "occluded_s": end - start,
        "bad_s": _union_s(rep["annotations"], start, end), "bad": bad,
        "in": [(e["region"], e["side"], round(e["t_peak_s"], 2), round(e["amplitude_mm"], 2))
               for e in counted(rep, True)],
        "control_in": len(counted(control, True)),
        "out": len(counted(rep, False)), "control_out": len(counted(control, False)),
        "report": rep,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=real_clips.real_dir())
    ap.add_argument("--clips", nargs="+", default=list(CLIPS))
    ap.add_argument("--places", nargs="+", default=[p for p in PLACES if p != "none"],
                    choices=list(PLACES))  # fmt: skip
    ap.add_argument(
        "--arm",
        action="store_true",
        help="the occluder carries a forearm to the frame's bottom edge (a hand)",
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--settings", type=json.loads, default=None,
                    help="detector settings as JSON, as facetwitch.analyze(settings=...) "
                         "takes them, e.g. "
                         "'{\"annotate\": {\"occlusion_outline_mm_s\": 1e9}}'")  # fmt: skip
    args = ap.parse_args()
    jobs = [(args.work, c, p, args.arm, args.settings) for c in args.clips for p in args.places]
    # the controls first (the occluded runs read their cached tracks)
    with get_context("spawn").Pool(args.jobs) as pool:
        pool.map(run, [(args.work, c, "none", False, args.settings) for c in args.clips])
        rows = [r for r in pool.map(run, jobs) if r["place"] != "none"]
    print(f"{'clip':26s} {'place':6s} {'occl s':>6s} {'BAD':>5s}  counted twitches while "
          "occluded (control) | elsewhere (control)")  # fmt: skip
    for r in rows:
        causes = ", ".join(f"{k[4:]} {v:.1f}" for k, v in r["bad"].items())
        print(
            f"{r['clip']:26s} {r['place']:6s} {r['occluded_s']:6.1f} "
            f"{r['bad_s'] / r['occluded_s']:5.2f}  {len(r['in'])} ({r['control_in']}) "
            f"{r['in']} | {r['out']} ({r['control_out']})   [{causes}]"
        )
    if rows:
        occl = sum(r["occluded_s"] for r in rows)
        print(
            f"pooled: {len(rows)} occlusions, {occl:.0f} s occluded, "
            f"{sum(r['bad_s'] for r in rows) / occl:.2f} of it BAD; counted twitches while "
            f"occluded {sum(len(r['in']) for r in rows)} (controls "
            f"{sum(r['control_in'] for r in rows)}), elsewhere "
            f"{sum(r['out'] for r in rows)} (controls {sum(r['control_out'] for r in rows)})"
        )
    print(json.dumps([{k: v for k, v in r.items() if k != "report"} for r in rows]))


if __name__ == "__main__":
    main()
