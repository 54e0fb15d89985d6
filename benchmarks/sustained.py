"""Find sustained (tonic) one-sided contractions injected into real face footage.

Are they found?

:func:`facetwitch.signal.sustained.sustained_find` reports a one-sided displacement that rises
fast and is held (the tonic phase of hemifacial spasm) as a movement with the reason
"sustained one-sided contraction ...". This script measures it against ground truth the way
``accuracy.py`` measures twitches: for each clip and seed, contractions of known region, side,
direction and amplitude (2-4 mm), rising in 30-80 ms and held 1-3 s, are injected into real face
footage with :func:`facetwitch.simulation.video_inject` (a pulse with a hold; truth JSON beside the
video), the video is tracked and analysed, and detections are matched to the truth one to one
by **onset time, within 0.3 s** (a held contraction has no single peak), same side.

Clips: the calm set (``calm_clips.py``: five still faces with gentle synthetic head motion) and
vitallens' ``sample_video_1`` (12 s of a real man at rest; ``talk_clips.py``).
Injected videos and tracks are cached in ``--work`` as in ``accuracy.py``.

    python benchmarks/sustained.py --seeds 2 [-v]
"""

from __future__ import annotations

import argparse
import os
import sys
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (benchmarks/accuracy.py: cached tracking, face span)

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.conventions import angle_diff_deg, direction_word  # noqa: E402

MATCH_S = 0.3
REGIONS = ("upper_lip", "lower_lip", "mouth_corner", "upper_eyelid", "lower_eyelid", "cheek",
           "brow")  # fmt: skip


def plan(span_s: float, t0: float, seed: int) -> list[dict]:
    """Held contractions, one every ~8 s of face, at least 1.5 s from the edges and 2 s apart."""
    rng = np.random.default_rng(seed)
    n = max(1, int(span_s // 8))
    slot = span_s / n
    out = []
    for i in range(n):
        hold = float(rng.uniform(1.0, 3.0))
        rise = float(rng.uniform(0.03, 0.08))
        decay = 0.15
        length = rise + hold + decay
        start = t0 + i * slot + 1.5 + float(rng.uniform(0, max(0.0, slot - length - 3.0)))
        deg = float(rng.uniform(0, 360))
        out.append({
            "id": i + 1, "kind": "twitch", "region": str(rng.choice(REGIONS)),
            "side": str(rng.choice(["left", "right"])), "t_start_s": start,
            "t_peak_s": start + rise, "t_end_s": start + length, "duration_s": length,
            "amplitude_mm": float(rng.uniform(2.0, 4.0)), "direction_deg": deg,
            "direction": direction_word(deg), "pulse_count": 1,
            "profile": {"pulses": [[0.0, 1.0, rise, decay, hold]]},
        })  # fmt: skip
    return out


def plan_for(src: Path, seed: int, clean) -> list[dict]:
    """Return the seed's holds for ``src``, on its face span."""
    t0, t1 = accuracy.face_span(clean)
    return plan(t1 - t0, t0, seed * 100_003 + zlib.crc32(src.stem.encode()) % 100_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(
            os.environ.get("FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")
        ),
    )
    ap.add_argument("--no-talk", action="store_true", help="leave out vitallens' clip (no npm)")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    import calm_clips

    clips = calm_clips.calm_clips(args.work)
    if not args.no_talk:
        import talk_clips

        clips += [c for c in talk_clips.talk_clips() if c.stem == "vitallens_sample_video_1"]
    pairs, n_det, n_true, n_false_clean, minutes = [], 0, 0, 0, 0.0
    for src in clips:
        clean = accuracy.cached_track(src, args.work)
        ca = analysis_run(clean).report
        fc = [e for e in ca["events"] if e["reason_code"] == "sustained"]
        n_false_clean += len(fc)
        minutes += ca["summary"]["analysed_s"] / 60
        print(f"{src.name}: clean {ca['summary']['analysed_s']:.1f} s, {len(fc)} sustained")
        for seed in range(args.seeds):
            video, truth = accuracy.injected(src, seed, args.work, clean, tag="held",
                                             plan=plan_for)  # fmt: skip
            rep = analysis_run(accuracy.cached_track(video, args.work)).report
            det = [e for e in rep["events"] if e["reason_code"] == "sustained"]
            tru = truth["events"]
            p = accuracy.match(
                det,
                tru,
                time_key="t_start_s",
                within_s=MATCH_S,
                compatible=lambda d, t: d["side"] == t["side"],
            )
            pairs += p
            n_det += len(det)
            n_true += len(tru)
            print(f"  seed {seed}: truth {len(tru)} detected {len(det)} matched {len(p)}")
            if args.verbose:
                hit = {id(t) for _, t in p}
                for t in tru:
                    d = next((d for d, tt in p if tt is t), None)
                    print(f"    {'hit ' if id(t) in hit else 'MISS'} {t['t_start_s']:.2f} "
                          f"{t['region']} {t['side']} {t['amplitude_mm']:.1f} mm "
                          f"{t['duration_s']:.1f} s"
                          + (f" -> {d['region']} {d['amplitude_mm']:.1f} mm {d['duration_s']:.1f}"
                             f" s" if d else ""))  # fmt: skip
    tp = len(pairs)
    print(f"\nsustained contractions, {len(clips)} clips x {args.seeds} seeds:")
    print(f"  recall    {tp / n_true if n_true else float('nan'):.3f} ({tp} of {n_true})")
    print(f"  precision {tp / n_det if n_det else float('nan'):.3f} ({n_det} detected)")
    if pairs:
        side = np.mean([d["side"] == t["side"] for d, t in pairs])
        region = np.mean([t["region"] == d["region"] or t["region"] in d.get("also_moved", [])
                          for d, t in pairs])  # fmt: skip
        amp = np.median([d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs])
        dur = np.median([abs(d["duration_s"] - t["duration_s"]) for d, t in pairs])
        ang = np.median([angle_diff_deg(d["direction_deg"], t["direction_deg"])
                         for d, t in pairs])  # fmt: skip
        print(
            f"  side {side:.2f}  region (or merged into it) {region:.2f}  direction error "
            f"{ang:.1f} deg  amplitude ratio {amp:.2f}  |duration error| {dur:.2f} s"
        )
    print(f"  on the clean clips: {n_false_clean} sustained in {minutes:.2f} min")


if __name__ == "__main__":
    main()
