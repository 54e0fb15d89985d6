"""How the H.264 encoding of a recording changes what facetwitch measures: a CRF sweep.

A twitch is a small, fast warp of the skin; an encoder that spends few bits can smooth it away,
and its artefacts (a keyframe's texture jump, blocks that shimmer) can look like one. This
benchmark encodes the same injected twitches (the accuracy benchmark's plans, same clips, same
seeds), and the same clips clean, with the encoder settings ``facetwitch record`` uses
(:data:`facetwitch.capture.recorder.X264_OPTIONS`: ultrafast, zerolatency, a keyframe every
2 s) at each CRF asked for, plus a lossless run (CRF 0) as the baseline of the same run; then
tracks and analyses each and prints, per CRF: bit rate, false twitches per minute on the clean
clips, precision, recall, median amplitude ratio (detected / injected) and that ratio against
the lossless run, median direction error.

The truth is the warp applied to the pixels before encoding, so the lossless run measures the
tool and the others the tool plus the encoding. Encoded videos are deleted once tracked; tracks
and truths are cached in ``--work``/encoding. Run by hand (about 40 s per clip, seed and CRF on
2 cores):

    python benchmarks/encoding.py --crf 0,12,18 --seeds 2
    python benchmarks/encoding.py --seeds 0 --clips calm_0-f15-hao-ph   # clean clips only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (benchmarks/accuracy.py: plans, matching, clip sets)

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.capture.recorder import RECORD_CRF, X264_OPTIONS  # noqa: E402
from facetwitch.conventions import angle_diff_deg  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402
from facetwitch.simulation import video_inject  # noqa: E402

DEFAULT_CLIPS = ("vitallens_sample_video_1", "calm_astronaut", "calm_single_face",
                 "calm_0-f1-su-ph")  # fmt: skip


def encoded_run(src: Path, plan: list[dict], tag: str, crf: int, work: Path) -> dict:
    """Inject ``plan`` into ``src`` encoded as a recording at ``crf``; track; analyse."""
    stem = f"{src.stem}.{tag}.crf{crf}"
    track_path, truth_path = work / f"{stem}.track.npz", work / f"{stem}.truth.json"
    if track_path.exists() and truth_path.exists():
        track, truth = LandmarkTrack.load(track_path), json.loads(truth_path.read_text())
    else:
        video = work / f"{stem}.mp4"
        truth = video_inject(src, video, plan, crf=crf, x264_options=X264_OPTIONS)
        truth["bytes"] = video.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            track = track_video(video)
        track.save(track_path)
        truth_path.write_text(json.dumps(truth))
        video.unlink()
        video.with_suffix(".truth.json").unlink(missing_ok=True)
    report = analysis_run(track).report
    return {"truth": truth, "report": report}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--crf",
        default=f"0,12,{RECORD_CRF}",
        help="comma-separated CRFs; 0 (lossless) is the baseline and is always run",
    )
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--clips", nargs="*", default=list(DEFAULT_CLIPS))
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(
            os.environ.get("FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")
        ),
    )
    args = ap.parse_args()
    crfs = sorted({0} | {int(c) for c in args.crf.split(",")})
    work = args.work / "encoding"
    work.mkdir(parents=True, exist_ok=True)
    sets = accuracy.clip_sets("all", args.work, args.clips)
    clips = [c for v in sets.values() for c in v]
    print(
        f"encoder {X264_OPTIONS} (facetwitch record: CRF {RECORD_CRF}); CRFs {crfs}; "
        f"clips {[c.stem for c in clips]}; seeds {args.seeds}"
    )
    stats = {crf: {"bits": 0.0, "seconds": 0.0, "clean_fp": 0, "clean_min": 0.0, "tp": 0,
                   "det": 0, "truth": 0, "amp": [], "dir": []} for crf in crfs}  # fmt: skip
    for src in clips:
        clean = accuracy.cached_track(src, args.work)
        jobs = [("clean", [])] + [(f"seed{s}", accuracy.plan_make(src, s, clean))
                                  for s in range(args.seeds)]  # fmt: skip
        for tag, plan in jobs:
            for crf in crfs:
                r = encoded_run(src, plan, tag, crf, work)
                truth, rep = r["truth"], r["report"]
                st = stats[crf]
                st["bits"] += 8.0 * truth.get("bytes", 0)
                st["seconds"] += truth["duration_s"]
                det = [e for e in rep["events"] if e["kind"] == "twitch"]
                if tag == "clean":
                    st["clean_fp"] += len(det)
                    st["clean_min"] += rep["summary"]["analysed_s"] / 60.0
                    line = f"{len(det)} false twitches"
                else:
                    tru = [e for e in truth["events"] if e["kind"] == "twitch"]
                    pairs = accuracy.match(det, tru)
                    st["tp"] += len(pairs)
                    st["det"] += len(det)
                    st["truth"] += len(tru)
                    st["amp"] += [d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs]
                    st["dir"] += [angle_diff_deg(d["direction_deg"], t["direction_deg"])
                                  for d, t in pairs]  # fmt: skip
                    line = f"truth {len(tru)} detected {len(det)} matched {len(pairs)}"
                print(f"  {src.stem} {tag} CRF {crf}: {line}", flush=True)
    base = np.median(stats[0]["amp"]) if stats[0]["amp"] else float("nan")
    print("\nCRF  Mbit/s  clean false/min  precision  recall  amplitude  vs lossless  direction")
    for crf in crfs:
        st = stats[crf]
        head = (
            f"{crf:3d}  {st['bits'] / max(st['seconds'], 1e-9) / 1e6:6.1f}  "
            f"{st['clean_fp']:3d} ({st['clean_fp'] / max(st['clean_min'], 1e-9):4.2f}/min)"
        )
        if not st["truth"]:  # --seeds 0: clean clips only
            print(head)
            continue
        amp, direction = np.median(st["amp"]), np.median(st["dir"])
        print(f"{head}  {st['tp'] / max(st['det'], 1):9.3f}  {st['tp'] / st['truth']:6.3f}  "
              f"{amp:9.3f}  {amp / base:11.3f}  {direction:6.1f} deg")  # fmt: skip


if __name__ == "__main__":
    main()
