"""Accuracy of twitch detection by the video's frame rate: the calm set at 15, 24, 30 and 60 fps.

The accuracy benchmark (``benchmarks/accuracy.py``) measures 30 fps clips only; phones record at
24-60 fps, cheap webcams at 15. Here the calm clips (``benchmarks/calm_clips.py``) are rendered
at each rate (``calm_<stem>_<fps>fps.mp4``: the same photo, the same head pose as a function of
time, the 30 fps clip's blinks), and the same twitches are injected into every version: for
each seed, the twitches of the accuracy benchmark's own 30 fps injected clip
(``calm_<stem>.seed<k>.mp4``, planned by ``accuracy.plan_make``), in seconds, with
``accuracy.injected(..., tag="plan30seed", plan=...)``. ``plan_make`` is not called per rate:
its plan depends on the clip's name (the plan seed) and on the clean track's last frame time (the
span the twitches are spread over), so each rate would get other twitches.
:func:`facetwitch.simulation.video_inject` moves each twitch's peak onto the nearest frame: by up to
half a frame interval at 15 and 24 fps, not at all at 60 (30 fps frames are 60 fps frames too).

A natively rendered clip has every twitch's peak on a frame: the best case. A camera samples
a twitch at whatever phase it happens to have, so two more versions drop every other frame of
another rate's clips (clean and injected; the kept frames re-encoded losslessly, so they are that
clip's pixels): ``15drop``, the 30 fps clips' even frames, as a webcam that falls behind does
(the peak frame is dropped for the twitches that peak on an odd 30 fps frame, about half); and
``30drop``, the 60 fps clips' odd frames, where every peak falls half a frame interval (1/60 s)
from the nearest kept frame: the worst phase at 30 fps. Time 0 is the first kept frame (as for
any video), so the truth's times move with it.

Each video is tracked (``track_video``, cached beside it in ``--work``), analysed
(``analysis_run``, the shipped defaults) and matched to its truth by ``accuracy.seed_row`` (peak
time within 0.25 s, one to one, nearest first) and scored by ``accuracy.scores``. Prints per rate:
precision, recall, F1, side and region accuracy, median direction error (deg), median amplitude
ratio (detected / injected), median dur10_ratio (duration against the injected time above 10 %
of the peak), median onset error (s), false twitches per minute on the clean clips, the median
noise of the clean clips (report ``quality.noise_mm``), the report's quality warnings (how
many of the rate's reports gave each), and how long the rate took (making, tracking and
analysing; cached videos and tracks cost nothing). Run by hand (60 fps is the slow one: about
1200 frames per clip and seed, 30-60 ms each):

    python benchmarks/framerate.py --work /tmp/fpsbench       # 15 15drop 24 30 30drop 60
    python benchmarks/framerate.py --rates 30 60 --seeds 2 --max-clips 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (benchmarks/accuracy.py: plans, caching, matching, scores)
import calm_clips  # noqa: E402  (benchmarks/calm_clips.py)

from facetwitch.analysis import analysis_run  # noqa: E402

RATES = ("15", "15drop", "24", "30", "30drop", "60")
#: Versions made by dropping every other frame of another rate's clips: (rate, first frame kept).
DROPS = {"15drop": ("30", 0), "30drop": ("60", 1)}
#: Truth fields that video_inject measures on the video it injects into (not part of a plan).
_MEASURED = ("sigma_px", "vector_px", "centre_px")


def plan_30(src30: Path, seed: int, work: Path) -> list[dict]:
    """Return the 30 fps twitch plan of ``src30`` with ``seed`` (accuracy benchmark).

    The twitches of the 30 fps clip ``src30`` injected with ``seed`` by the accuracy benchmark (made
    there when missing), as a plan: times in seconds, peaks on 30 fps frames.
    """
    clean = accuracy.cached_track(src30, work)
    _, truth = accuracy.injected(src30, seed, work, clean)
    return [{k: v for k, v in e.items() if k not in _MEASURED}
            for e in truth["events"] if e["kind"] == "twitch"]  # fmt: skip


def every_second_frame(src: Path, dst: Path, first: int) -> Path:
    """Frames ``first``, ``first + 2``, ... of ``src`` (timestamps kept).

    Losslessly re-encoded (H.264, crf 0, the decoded yuv420p planes as they are); its truth, if any,
    beside, with times from the first kept frame. Cached: an existing ``dst`` is reused.
    """
    import av
    from av.video.frame import PictureType

    if dst.exists():
        return dst
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as cin, av.open(str(tmp), mode="w") as cout:
        sin = cin.streams.video[0]
        rate = Fraction(sin.average_rate or 30) / 2
        st = cout.add_stream("libx264", rate=rate)
        st.width, st.height, st.pix_fmt = sin.width, sin.height, "yuv420p"
        st.time_base = st.codec_context.time_base = sin.time_base
        st.options = {"crf": "0", "preset": "medium"}
        t_first, n = None, 0
        for i, frame in enumerate(cin.decode(sin)):
            n += 1
            if i % 2 == first:
                if t_first is None:
                    t_first = float(frame.pts * sin.time_base)
                frame.pict_type = PictureType.NONE  # let the encoder choose, not the source
                cout.mux(st.encode(frame))
        cout.mux(st.encode(None))
    truth_src = src.with_suffix(".truth.json")
    if truth_src.exists():
        truth = json.loads(truth_src.read_text())
        for e in truth["events"]:
            for k in ("t_start_s", "t_peak_s", "t_end_s"):
                e[k] = round(e[k] - t_first, 4)
        truth.update({"video": dst.name, "frames": len(range(first, n, 2)),
                      "every_second_frame_of": src.name, "first_frame_kept": first})  # fmt: skip
        dst.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    tmp.rename(dst)
    return dst


def _dropped(path: Path, rate: str) -> Path:
    """``calm_<stem>[_<fps>fps][.<tag><k>].mp4`` -> ``calm_<stem>_<rate>[.<tag><k>].mp4``."""
    head, _, tail = path.name.partition(".")
    head = head.removesuffix(f"_{DROPS[rate][0]}fps")
    return path.with_name(f"{head}_{rate}.{tail}")


def clip_versions(rate: str, work: Path, max_clips: int) -> list[tuple[Path, Path]]:
    """``[(30 fps clip, this rate's clean clip)]`` of the calm set, made when missing."""
    if rate in DROPS:
        base, first = DROPS[rate]
        return [(c30, every_second_frame(c, _dropped(c, rate), first))
                for c30, c in clip_versions(base, work, max_clips)]  # fmt: skip
    clips30 = calm_clips.calm_clips(work, max_clips)
    return list(zip(clips30, calm_clips.calm_clips(work, max_clips, int(rate)), strict=True))


def injected_version(rate: str, src30: Path, seed: int, work: Path) -> tuple[Path, dict]:
    """Return this rate's version of the 30 fps clip ``src30`` with the seed's twitches.

    And its truth (the 30 fps plan, see module doc).
    """
    if rate in DROPS:
        base, first = DROPS[rate]
        video, _ = injected_version(base, src30, seed, work)
        dst = every_second_frame(video, _dropped(video, rate), first)
        return dst, json.loads(dst.with_suffix(".truth.json").read_text())
    if rate == "30":
        return accuracy.injected(src30, seed, work, accuracy.cached_track(src30, work))
    src = calm_clips.clip_path(src30.stem.removeprefix("calm_"), work, int(rate))
    # the plan ignores this clip's own track (clean=None): it is the 30 fps clip's
    return accuracy.injected(src, seed, work, None, tag="plan30seed",
                             plan=lambda *_: plan_30(src30, seed, work))  # fmt: skip


def rate_run(rate: str, args) -> dict:
    """Clean and injected runs of every clip at ``rate``.

    Rows for ``accuracy.scores`` and the clean clips' false twitches, minutes, noise and the
    reports' warnings.
    """
    t0 = time.perf_counter()
    rows, n_fp, minutes, noise, warns, n_reports = [], 0, 0.0, [], Counter(), 0
    for src30, src in clip_versions(rate, args.work, args.max_clips):
        clean = accuracy.cached_track(src, args.work)
        rep = analysis_run(clean).report
        fp = sum(e["kind"] == "twitch" for e in rep["events"])
        n_fp += fp
        minutes += rep["summary"]["analysed_s"] / 60.0
        noise.append(rep["quality"]["noise_mm"])
        warns.update(rep["quality"]["warnings"])
        n_reports += 1
        line = []
        for seed in range(args.seeds):
            video, truth = injected_version(rate, src30, seed, args.work)
            rep = analysis_run(accuracy.cached_track(video, args.work)).report
            warns.update(rep["quality"]["warnings"])
            n_reports += 1
            rows.append(accuracy.seed_row(rep, truth))
            r = rows[-1]
            line.append(f"{r['tp']}/{r['truth']} ({r['detected']} det)")
        print(f"  {src.name}: {len(clean)} frames, clean {fp} false; seeds "
              f"{', '.join(line)}", flush=True)  # fmt: skip
    return {"rows": rows, "fp": n_fp, "minutes": minutes, "noise_mm": float(np.median(noise)),
            "warnings": warns, "reports": n_reports, "clips": len(noise),
            "seconds": time.perf_counter() - t0}  # fmt: skip


_COLUMNS = (("precision", "P", ".3f"), ("recall", "R", ".3f"), ("f1", "F1", ".3f"),
            ("side_acc", "side", ".2f"), ("region_acc", "region", ".2f"),
            ("dir_err_deg", "dir err (deg)", ".1f"), ("amp_ratio", "amp ratio", ".2f"),
            ("dur10_ratio", "dur10 ratio", ".2f"),
            ("onset_err_s", "onset err (s)", ".3f"))  # fmt: skip


def table_print(results: dict, seeds: int) -> None:
    """Print the figures of every rate as one markdown table, then each rate's quality warnings."""
    head = ["rate", "clips x seeds", "injected", *(c[1] for c in _COLUMNS), "clean false/min",
            "clean noise (mm)", "time (s)"]  # fmt: skip
    print("\n| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for rate, res in results.items():
        s = accuracy.scores(res["rows"])
        rate_fp = res["fp"] / res["minutes"] if res["minutes"] else float("nan")
        cells = [rate, f"{res['clips']} x {seeds}", str(s["truth"]),
                 *(format(s[k], f) for k, _, f in _COLUMNS),
                 f"{rate_fp:.2f} ({res['fp']} in {res['minutes']:.2f} min)",
                 f"{res['noise_mm']:.3f}", f"{res['seconds']:.0f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    for rate, res in results.items():
        print(f"\n{rate}: quality warnings in {res['reports']} reports (clean and injected):")
        for text, n in sorted(res["warnings"].items()):
            print(f"  {n:3d} x {text}")
        if not res["warnings"]:
            print("  none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", nargs="+", default=list(RATES), choices=RATES,
                    help="frame rates (fps) to render at; 15drop, 30drop: every other frame of "
                         "the 30 and 60 fps clips (default: all)")  # fmt: skip
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--max-clips", type=int, default=calm_clips.MAX_CLIPS)
    ap.add_argument("--work", type=Path, default=calm_clips.default_work())
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"calm set, {args.max_clips} clips x {args.seeds} seeds, match +-{accuracy.MATCH_S} s, "
          f"work {args.work}")  # fmt: skip
    results = {}
    for rate in args.rates:
        print(f"\n== {rate} ==", flush=True)
        results[rate] = rate_run(rate, args)
    table_print(results, args.seeds)


if __name__ == "__main__":
    main()
