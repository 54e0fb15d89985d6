"""A hand on the face: what facetwitch counts while part of a real face is covered (issue 15).

``BAD_occlusion`` is reserved in CONVENTIONS.md, but no cue for it is measured: this benchmark
says what happens instead. Into each clean at-rest clip of the real set (``real.py``'s cache,
CRF 18) it paints a skin-coloured occluder -- an ellipse in the face's own median skin colour,
shaded, with a fixed smooth texture, about 30 x 45 mm -- that slides in from the side over
0.6 s, rests on one place of the face for 2.6 s with a hand's slow sway (2-3 px at 1-3 Hz),
and slides out over 0.6 s; then encodes it as the injected clips were (the simulator's writer:
libx264, CRF 18, here on one thread so that every run makes the same video), tracks it and
analyses it. Places: ``cheek`` (one side), ``mouth`` (the middle of the mouth), ``eye`` (one
eye), and ``none``: the same decoding and second encoding with nothing painted, the control (a
second generation of CRF 18 makes its own false twitches). Printed per clip and place: the
occluded time, the share of it annotated ``BAD_`` (and by which cause), the counted twitches
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
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_clips  # noqa: E402

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.geometry import iris_px_per_mm  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402
from facetwitch.simulation.encode import _Writer  # noqa: E402

CLIPS = ("msu_client001", "msu_client005", "vitallens_sample_video_1", "bob_testvideo")
#: Landmarks the occluder rests on (MediaPipe mesh indices): the patient's left cheek, the mouth,
#: the patient's left eye (image right for an unmirrored clip).
PLACES = {
    "none": (),
    "cheek": (425, 411, 427),
    "mouth": (13, 14, 61, 291),
    "eye": (386, 374, 263, 362),
}
ENTER_S, HOLD_S, LEAVE_S = 0.6, 2.6, 0.6
SIZE_MM = (30.0, 45.0)


def occluded_video(src: Path, track: LandmarkTrack, place: str, start_s: float, out: Path,
                   arm: bool = False) -> None:  # fmt: skip
    """Paint the occluder into ``src`` (frames from ``start_s``) and encode ``out`` at CRF 18.

    ``arm``: the occluder carries a wrist and forearm (a band about 0.8 of its width) running
    down and away from the face to the frame's bottom edge, as a real hand does; without it the
    occluder floats on the face and crosses the face's outline only while it slides in and out.
    """
    inp = av.open(str(src))
    stream = inp.streams.video[0]
    rate = float(stream.average_rate or 30)
    writer = None
    pts = np.asarray(track.points)[:, :, :2]
    found = np.asarray(track.found, bool)
    scale = float(np.nanmedian(iris_px_per_mm(pts[found])))
    ax = (int(SIZE_MM[0] * scale / 2), int(SIZE_MM[1] * scale / 2))
    rng = np.random.default_rng(7)
    texture, colour = None, None
    end_s = start_s + ENTER_S + HOLD_S + LEAVE_S
    for i, frame in enumerate(inp.decode(stream)):
        img = frame.to_ndarray(format="rgb24")
        h, w = img.shape[:2]
        if i == 0:
            # the simulator's writer (the frames' own times, preset medium), on one thread: a
            # threaded x264 gave a different video on every run
            writer = _Writer(out, w, h, Fraction(1, 90000), 18, rate, {"threads": "1"})
            texture = cv2.GaussianBlur(rng.normal(0, 10, (h, w, 3)).astype(np.float32), (0, 0), 2.5)
        t = float(track.t[min(i, len(track.t) - 1)])
        if colour is None and found[min(i, len(found) - 1)]:
            cheek = pts[i, [205, 425]].mean(axis=0).astype(int)
            y, x = max(0, cheek[1] - 10), max(0, cheek[0] - 10)
            patch = img[y : cheek[1] + 10, x : cheek[0] + 10]
            colour = np.median(patch.reshape(-1, 3), axis=0).astype(np.float32) * 0.92
        if PLACES[place] and start_s <= t <= end_s and found[min(i, len(found) - 1)]:
            centre = pts[i, list(PLACES[place])].mean(axis=0)
            u = t - start_s
            side = -1.0 if place == "cheek" else 1.0  # enter from the image side it rests nearer
            off = 0.0
            if u < ENTER_S:
                off = side * 3 * ax[0] * (1 - u / ENTER_S)
            elif u > ENTER_S + HOLD_S:
                off = side * 3 * ax[0] * (u - ENTER_S - HOLD_S) / LEAVE_S
            sway = np.array([2.5 * np.sin(2 * np.pi * 1.3 * t), 2.0 * np.sin(2 * np.pi * 2.7 * t)])
            cx, cy = (centre + [off, 0] + sway).astype(int)
            mask = np.zeros((h, w), np.float32)
            cv2.ellipse(mask, (int(cx), int(cy)), ax, 15, 0, 360, 1.0, -1)
            if arm:  # down and out, away from the middle of the face, to the bottom edge
                out_x = 1.0 if cx >= np.nanmean(pts[i, :, 0]) else -1.0
                wide = int(1.6 * ax[0])
                cv2.line(mask, (int(cx), int(cy + ax[1] // 2)),
                         (int(cx + out_x * 2.5 * ax[0]), h + wide), 1.0, wide)  # fmt: skip
            mask = cv2.GaussianBlur(mask, (0, 0), 2.0)[..., None]
            shade = np.linspace(1.05, 0.9, h, dtype=np.float32)[:, None, None]
            skin = colour * shade + np.roll(texture, (int(cy), int(cx)), axis=(0, 1))
            img = (img * (1 - mask) + skin * mask).clip(0, 255).astype(np.uint8)
        writer.write(img, float(frame.time))
    if writer is not None:
        writer.close()
    inp.close()


def run(job: tuple[Path, str, str, bool]) -> dict:
    """Occlude clip ``name`` at ``place`` (``arm``: with a forearm); track; analyse; count."""
    work, name, place, arm = job
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
        occluded_video(work / f"{name}.mp4", clean_track, place, start, video, arm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            track = track_video(video)
        track.save(path)
        video.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        rep = analysis_run(track).report
        control = rep if place == "none" else run((work, name, "none", False))["report"]
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
        "bad_s": sum(bad.values()), "bad": bad,
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
    args = ap.parse_args()
    jobs = [(args.work, c, p, args.arm) for c in args.clips for p in args.places]
    # the controls first (the occluded runs read their cached tracks)
    with get_context("spawn").Pool(args.jobs) as pool:
        pool.map(run, [(args.work, c, "none", False) for c in args.clips])
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
