"""The sensitivity self-test (``summary.sensitivity``) against twitches injected into the video.

facetwitch tests each recording for how small a twitch it could show: synthetic twitches of
1, 1.5, 2 and 3 mm are added to the recording's own region signals, sized as the measurement
reads a real one (``facetwitch.signal.sensitivity.READ_FRACTION``), and the detector runs
again (:func:`facetwitch.signal.sensitivity.sensitivity_test`). Here that estimate is checked
against the ground truth of ``benchmarks/real.py``: twitches injected into the video itself,
re-encoded as a phone would, tracked by MediaPipe and measured by the flow. For each clean clip
the self-test runs on its track; its injected copies (the same clip, other seeds) give the share
of injected twitches in assessable time that were counted, by injected size, in bins around
the self-test's sizes (0.75-1.25, 1.25-1.75, 1.75-2.5, 2.5-3 mm). Printed per source and pooled,
tuning and held-out parts as in ``real.py``.

    python benchmarks/sensitivity.py --work ~/.cache/facetwitch/bench/real --part tune
    python benchmarks/sensitivity.py --part heldout --tests 30
    python benchmarks/sensitivity.py --read-fraction 0.58 --read-spread 0   # another model
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real  # noqa: E402
import real_clips  # noqa: E402
from assess import _analyse, _bad, _match  # noqa: E402

from facetwitch.landmarks.track import LandmarkTrack  # noqa: E402
from facetwitch.signal import sensitivity  # noqa: E402
from facetwitch.signal.sensitivity import LEVELS_MM  # noqa: E402

#: Injected sizes (mm) compared with each self-test size: the bins around it.
BINS = ((0.75, 1.25), (1.25, 1.75), (1.75, 2.5), (2.5, 3.01))


def clip_run(job: dict) -> dict | None:
    """Self-test of one clean clip, and the injected copies' share found by size."""
    work, name = Path(job["work"]), job["name"]
    path = work / f"{name}.mp4.track.npz"
    if not path.exists():
        return None
    settings = {"sensitivity": {"tests_per_level": job["tests"], "max_runs": 4 * job["tests"]}}
    a = _analyse(LandmarkTrack.load(path), settings)
    test = a.report["summary"]["sensitivity"]
    if test is None:  # a face under the small-face floor: nothing is tested
        return None
    out = {"name": name, "source": job["source"],
           "self": [(lv["found"], lv["tested"]) for lv in test["levels"]],
           "video": [[0, 0] for _ in BINS]}  # fmt: skip
    for t, hit in _injected(work, name, job["seeds"]):
        for b, (lo, hi) in enumerate(BINS):
            if lo <= t["amplitude_mm"] < hi:
                out["video"][b][0] += hit
                out["video"][b][1] += 1
    return out


def _injected(work: Path, name: str, seeds) -> list[tuple[dict, bool]]:
    """Return the injected twitches in assessable time of the clip's copies, each with a hit.

    A hit: a counted twitch peaking within 0.25 s (matched one to one, nearest first).
    """
    out = []
    for seed in seeds:
        video = work / f"{name}.real{seed}.mp4"
        tpath, truth_p = work / f"{video.name}.track.npz", video.with_suffix(".truth.json")
        if not (tpath.exists() and truth_p.exists()):
            continue
        rep = _analyse(LandmarkTrack.load(tpath), {"sensitivity": {"tests_per_level": 0}}).report
        truth = [e for e in json.loads(truth_p.read_text())["events"] if e["kind"] == "twitch"]
        in_a = [t for t in truth if not _bad(rep, t["t_peak_s"])]
        det = [e for e in rep["events"] if e["kind"] == "twitch" and e["counted"]]
        found = {id(t) for _, t in _match(det, in_a)}
        out += [(t, id(t) in found) for t in in_a]
    return out


def clip_regions(job: dict) -> dict | None:
    """Run the test focused on each region in turn; count the injected twitches by region.

    As the patient's complaint focuses it (``complaint.sensitivity``): test twitches in one
    region only, both sides. Shares are pooled over sizes in two bins, 1 mm (injected
    0.75-1.25 mm) and 1.5-3 mm (injected 1.25-3 mm).
    """
    from facetwitch.signal.stretches import events_by_stretch
    from facetwitch.simulation.plan import DEFAULT_REGIONS

    work, name = Path(job["work"]), job["name"]
    path = work / f"{name}.mp4.track.npz"
    if not path.exists():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        done = events_by_stretch(LandmarkTrack.load(path), sensitivity={"tests_per_level": 0})
    if done.count != 1 or not done.info.get("min_px_per_mm", 0) <= done.signals.px_per_mm:
        return None
    out = {"name": name, "source": job["source"], "self": {}, "video": {}}
    for i, region in enumerate(DEFAULT_REGIONS):
        test = sensitivity.sensitivity_test(done.signals, done.events, done.annotations,
                                            regions=(region,), seed=101 * i,
                                            tests_per_level=job["tests"],
                                            max_runs=4 * job["tests"])  # fmt: skip
        small = (test.found[0], test.tested[0])
        big = (sum(test.found[1:]), sum(test.tested[1:]))
        out["self"][region] = [small, big]
        out["video"][region] = [[0, 0], [0, 0]]
    for t, hit in _injected(work, name, job["seeds"]):
        a = t["amplitude_mm"]
        b = 0 if 0.75 <= a < 1.25 else 1 if 1.25 <= a <= 3.01 else None
        if b is None or t["region"] not in out["video"]:
            continue
        out["video"][t["region"]][b][0] += hit
        out["video"][t["region"]][b][1] += 1
    return out


def _regions_print(results: list[dict]) -> None:
    """Per region, pooled over the clips: the focused test against the video."""
    from scipy.stats import spearmanr

    from facetwitch.simulation.plan import DEFAULT_REGIONS

    print(f"{'region':14s} {'test 1 mm':>14s} {'video 1 mm':>14s} {'test 1.5-3':>14s} "
          f"{'video 1.5-3':>14s}")  # fmt: skip
    big_t, big_v = [], []
    for region in DEFAULT_REGIONS:
        st = np.sum([r["self"][region] for r in results], axis=0)
        vi = np.sum([r["video"][region] for r in results], axis=0)
        print(f"{region:14s} {_cells([st[0]]):>14s} {_cells([vi[0]]):>14s} "
              f"{_cells([st[1]]):>14s} {_cells([vi[1]]):>14s}")  # fmt: skip
        if vi[1][1]:
            big_t.append(st[1][0] / st[1][1])
            big_v.append(vi[1][0] / vi[1][1])
    if len(big_t) > 2:
        rho = spearmanr(big_t, big_v).statistic
        print(f"regions, 1.5-3 mm, test against video: Spearman {rho:.2f}, mean difference "
              f"{np.mean(np.subtract(big_t, big_v)):+.2f}, largest "
              f"{np.max(np.abs(np.subtract(big_t, big_v))):.2f}")  # fmt: skip


def _cells(pairs) -> str:
    return "  ".join(f"{k:3d}/{n:<3d} {k / n if n else float('nan'):4.2f}" for k, n in pairs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--part", choices=("tune", "heldout"), default="tune")
    ap.add_argument("--source", nargs="*", choices=real_clips.SOURCES,
                    default=["vitallens", "msu", "bob", "mixed"])  # fmt: skip
    ap.add_argument("--tests", type=int, default=30, help="self-test twitches per size and clip")
    ap.add_argument("--read-fraction", type=float, default=None,
                    help="another READ_FRACTION for the self-test (what a twitch in the video "
                         "reads in the signals; default the shipped one)")  # fmt: skip
    ap.add_argument("--read-spread", type=float, default=None,
                    help="another READ_SPREAD (its spread from twitch to twitch)")  # fmt: skip
    ap.add_argument("--read-alike", action="store_true",
                    help="every region reads a twitch alike (READ_BY_REGION all 1)")  # fmt: skip
    ap.add_argument("--by-region", action="store_true",
                    help="the test focused on one region at a time (as a complaint focuses "
                         "it), against the injected twitches of that region")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", type=Path, default=real_clips.real_dir())
    args = ap.parse_args()
    # as many runs as --tests asks for: this measures the test's answer, not its cost (the
    # workers are forked: they see these)
    sensitivity.MAX_TEST_SAMPLES = 1 << 40
    if args.read_fraction is not None:
        sensitivity.READ_FRACTION = args.read_fraction
    if args.read_spread is not None:
        sensitivity.READ_SPREAD = args.read_spread
    if args.read_alike:
        sensitivity.READ_BY_REGION = {}
    jobs = []
    for c in real_clips.clips_all():
        if c.source not in args.source:
            continue
        held = c.name in real.HELD_OUT_CLIPS
        if args.part == "tune" and held:
            continue
        if args.part == "tune":
            seeds = real.TUNE_SEEDS
        else:
            seeds = real.TUNE_SEEDS + real.HELD_OUT_SEEDS if held else real.HELD_OUT_SEEDS
        jobs.append({"name": c.name, "source": c.source, "work": str(args.work), "seeds": seeds,
                     "tests": args.tests})  # fmt: skip
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with get_context("fork").Pool(args.jobs) as pool:
            results = [r for r in pool.map(clip_regions if args.by_region else clip_run, jobs,
                                           chunksize=1) if r]  # fmt: skip
    if args.by_region:
        print(f"part={args.part}, {args.tests} test twitches per size, region and clip, "
              f"{len(results)} clips ({time.time() - t0:.0f} s)")  # fmt: skip
        _regions_print(results)
        return
    print(f"part={args.part}, {args.tests} self-test twitches per size and clip, read fraction "
          f"{sensitivity.READ_FRACTION} +- {sensitivity.READ_SPREAD}, by region "
          f"{sensitivity.READ_BY_REGION or 'alike'} "
          f"({time.time() - t0:.0f} s)")  # fmt: skip
    head = "  ".join(f"{mm:g} mm".center(12) for mm in LEVELS_MM)
    print(f"{'clip':28s} {'':6s} {head}")
    pooled = {"self": np.zeros((len(LEVELS_MM), 2), int), "video": np.zeros((len(BINS), 2), int)}
    for src in args.source:
        res = [r for r in results if r["source"] == src]
        if not res:
            continue
        total = {"self": np.zeros((len(LEVELS_MM), 2), int), "video": np.zeros((len(BINS), 2), int)}
        for r in res:
            print(f" {r['name']:27s} self   {_cells(r['self'])}")
            print(f" {'':27s} video  {_cells(r['video'])}")
            for k in total:
                total[k] += np.array(r[k], int)
        print(f"= {src:26s} self   {_cells(total['self'])}")
        print(f"  {'':26s} video  {_cells(total['video'])}")
        for k in pooled:
            pooled[k] += total[k]
    print(f"== {'pooled':25s} self   {_cells(pooled['self'])}")
    print(f"   {'':25s} video  {_cells(pooled['video'])}")
    print("(self: synthetic twitches of each size added to the clean clip's signals, found; "
          "video: twitches injected into the video, in assessable time, counted, by injected "
          "size in the bins 0.75-1.25, 1.25-1.75, 1.75-2.5, 2.5-3 mm)")  # fmt: skip


if __name__ == "__main__":
    main()
