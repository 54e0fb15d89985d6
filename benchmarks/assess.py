"""Assessable time on real footage (issue 15): what is counted, over what time, against labels.

The schema-2 view of ``benchmarks/real.py``'s clips (same cache, same labels, same injections):
a twitch counts only where the recording can be assessed (no ``BAD_`` annotation at its peak),
and rates are per assessable minute. Printed per clip, per source and pooled:

- face time, assessable time, and the share of labelled ``rest`` time that is assessable
  (issue 15: >= 95 % at rest);
- the share of labelled ``voiced`` time annotated ``BAD_`` (>= 90 %);
- counted false twitches on the clean clip per assessable minute (<= 0.5), and those in
  labelled rest;
- on the injected clips (0.5-3 mm): the share of injected twitches peaking in assessable time
  (>= 70 % on mixed footage; beside it, for reference, the share peaking in labelled rest),
  and precision / recall / side / direction error / amplitude ratio of the *counted* twitches
  against the injected twitches in assessable time (>= 0.9, >= 0.9, >= 0.95, <= 20 deg,
  0.8-1.25).

``--settings '{"annotate": {"noisy_mm": 0.4}}'`` runs the analysis with other detector
settings (``facetwitch.analyze(settings=...)``) without editing code, which is how thresholds
are tried. Tuning and held-out parts as in ``real.py`` (``--part``). ``--spans`` lists, per
clean clip, its BAD spans against the labels (what each covers, the talking and voiced time
left assessable, the rest annotated BAD, a timeline): what to tune the annotation on. The mixed
talk + rest clips: ``--source mixed`` (``mixed_clips.py``).

    python benchmarks/assess.py                   # tuning clips, seeds 0-2
    python benchmarks/assess.py --part heldout    # held-out clips and seeds
    python benchmarks/assess.py --source mixed --part all --spans   # the mixed set
    python benchmarks/assess.py --by-amplitude    # ... and what is found, by injected size
    python benchmarks/assess.py --by-region       # ... and by injected region
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

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.conventions import angle_diff_deg  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks.track import LandmarkTrack  # noqa: E402

MATCH_S = real.MATCH_S


def _bad(report: dict, t: float) -> bool:
    return any(a["onset_s"] <= t <= a["onset_s"] + a["duration_s"]
               for a in report["annotations"] if a["description"].startswith("BAD"))  # fmt: skip


def _time_in(report: dict, signals, spans) -> tuple[float, float]:
    """Face seconds inside ``spans`` and, of those, seconds not in any BAD span."""
    t = signals.t
    inside = np.zeros(len(t), bool)
    for a, b in spans:
        inside |= (t >= a) & (t <= b)
    inside &= signals.valid
    bad = np.zeros(len(t), bool)
    for a in report["annotations"]:
        if a["description"].startswith("BAD"):
            bad |= (t >= a["onset_s"]) & (t <= a["onset_s"] + a["duration_s"])
    fs = signals.fs_hz
    return float(inside.sum() / fs), float((inside & ~bad).sum() / fs)


def _analyse(track, settings):
    """``analysis_run`` without the sensitivity test unless ``settings`` ask for one.

    The figures here are the events and the annotations, which the test does not change (it
    runs on a copy of the signals); it tripled this script's time (``sensitivity.py`` measures
    it).
    """
    settings = {"sensitivity": {"tests_per_level": 0}, **(settings or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        return analysis_run(track, settings=settings)


def _match(detected: list[dict], truth: list[dict]) -> list[tuple[dict, dict]]:
    """One to one, nearest first, by peak time within MATCH_S."""
    cand = sorted(((abs(d["t_peak_s"] - t["t_peak_s"]), i, j) for i, d in enumerate(detected)
                   for j, t in enumerate(truth)
                   if abs(d["t_peak_s"] - t["t_peak_s"]) <= MATCH_S))  # fmt: skip
    used_d, used_t, pairs = set(), set(), []
    for _, i, j in cand:
        if i not in used_d and j not in used_t:
            used_d.add(i)
            used_t.add(j)
            pairs.append((detected[i], truth[j]))
    return pairs


#: Label descriptions the span listing (``--spans``) lays against the BAD spans, and their
#: letters on its timeline.
SPAN_LABELS = {"seam": "|", "occlusion": "o", "head_motion": "h", "expression": "e",
               "talking": "t", "rest": "."}  # fmt: skip
#: Timeline resolution of ``--spans`` (s per character).
SPAN_STEP_S = 0.5
#: Pieces shorter than this (s) are left out of the ``--spans`` lists.
SPAN_MIN_S = 0.1


def _runs(mask: np.ndarray, t: np.ndarray, dt: float) -> list[tuple[float, float]]:
    """(start, end) seconds of the runs of ``mask`` on the grid ``t`` (step ``dt``)."""
    out = []
    idx = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    for a, b in zip(idx[::2], idx[1::2], strict=True):
        if (b - a) * dt >= SPAN_MIN_S:
            out.append((float(t[a]), float(t[b - 1] + dt)))
    return out


def spans_versus_labels(report: dict, signals, labels: dict | None) -> list[str]:
    """Lay the report's BAD spans against the clip's labels.

    Lines laying the report's BAD spans against the clip's labels: each BAD span and the
    labelled time it covers; labelled talking and voiced time left assessable (missed); rest
    time annotated BAD (too wide), with the causes; and a timeline (``SPAN_STEP_S`` a
    character) of the labels above the BAD causes.
    """
    t = signals.t
    if not len(t) or not labels:
        return ["    (no track or no labels)"]
    dt = 1.0 / signals.fs_hz
    lab = {d: np.zeros(len(t), bool) for d in (*SPAN_LABELS, "voiced")}
    for a in labels["annotations"]:
        if a["description"] in lab:
            lab[a["description"]] |= (t >= a["onset_s"]) & (t < a["onset_s"] + a["duration_s"])
    bads = [a for a in report["annotations"] if a["description"].startswith("BAD")]
    bad_by: dict[str, np.ndarray] = {}
    for a in bads:
        m = (t >= a["onset_s"]) & (t <= a["onset_s"] + a["duration_s"])
        bad_by[a["description"]] = bad_by.get(a["description"], np.zeros(len(t), bool)) | m
    bad = np.zeros(len(t), bool)
    for m in bad_by.values():
        bad |= m
    out = []
    for a in bads:
        m = (t >= a["onset_s"]) & (t <= a["onset_s"] + a["duration_s"])
        cover = ", ".join(f"{d} {(m & lab[d]).sum() * dt:.1f}" for d in (*SPAN_LABELS, "voiced")
                          if (m & lab[d]).sum() * dt >= SPAN_MIN_S)  # fmt: skip
        out.append(f"    {a['onset_s']:6.2f}-{a['onset_s'] + a['duration_s']:6.2f} "
                   f"{a['description']:16s} [{cover}]")  # fmt: skip

    def causes(x0: float, x1: float) -> str:
        m = (t >= x0) & (t < x1)
        return "+".join(d[4:] for d, b in bad_by.items() if (b & m).any())

    for title, mask in (
        ("talking left assessable", lab["talking"] & ~bad & signals.valid),
        ("voiced left assessable", lab["voiced"] & ~bad & signals.valid),
    ):
        runs = _runs(mask, t, dt)
        out.append(f"    {title} ({sum(b - a for a, b in runs):.1f} s): "
                   + (", ".join(f"{a:.2f}-{b:.2f}" for a, b in runs) or "none"))  # fmt: skip
    runs = _runs(lab["rest"] & bad & signals.valid, t, dt)
    out.append(
        f"    rest annotated BAD ({sum(b - a for a, b in runs):.1f} s): "
        + (", ".join(f"{a:.2f}-{b:.2f} {causes(a, b)}" for a, b in runs) or "none")
    )
    # the timeline: labels (first of seam, occlusion, head, expression, talking, rest; V
    # where voiced), then the BAD causes (first letter; '-' assessable)
    n = int(np.ceil((t[-1] + dt) / SPAN_STEP_S))
    row_l, row_v, row_b = [], [], []
    for i in range(n):
        m = (t >= i * SPAN_STEP_S) & (t < (i + 1) * SPAN_STEP_S)
        if not m.any():
            row_l.append(" ")
            row_v.append(" ")
            row_b.append(" ")
            continue
        row_l.append(next((c for d, c in SPAN_LABELS.items() if lab[d][m].mean() >= 0.5), " "))
        row_v.append("V" if lab["voiced"][m].mean() >= 0.5 else " ")
        hit = [d for d, b in bad_by.items() if b[m].mean() >= 0.5]
        row_b.append(hit[0][4].upper() if len(hit) == 1 else ("*" if hit else "-"))
    for k in range(0, n, 100):
        out.append(f"    {k * SPAN_STEP_S:5.0f}s labels {''.join(row_l[k : k + 100])}")
        out.append(f"           voiced {''.join(row_v[k : k + 100])}")
        out.append(f"           BAD    {''.join(row_b[k : k + 100])}")
    return out


def clip_run(job: dict) -> dict:
    name, work, settings = job["name"], Path(job["work"]), job["settings"]
    labels = real.labels_of(name)
    out = {"name": name, "source": job["source"], "seeds": []}
    path = work / f"{name}.mp4.track.npz"
    if not path.exists():
        return out
    a = _analyse(LandmarkTrack.load(path), settings)
    rep, sig = a.report, a.signals
    ppm = rep["quality"]["px_per_mm"]
    out["refused"] = ppm is not None and ppm < rep["detector"]["min_px_per_mm"]
    face_s = rep["summary"]["analysed_s"]
    rest = real._spans(labels, "rest")
    voiced = real._spans(labels, "voiced") if labels and "voiced_rule" in labels else []
    rest_s, rest_ok = _time_in(rep, sig, rest)
    voiced_s, voiced_ok = _time_in(rep, sig, voiced)
    counted = [e for e in rep["events"] if e["kind"] == "twitch" and e["counted"]]
    out.update(
        clean=job["clean"], face_s=face_s, assess_s=rep["summary"]["assessable_s"],
        rest_s=rest_s, rest_ok=rest_ok, voiced_s=voiced_s, voiced_bad=voiced_s - voiced_ok,
        fp=len(counted), fp_rest=sum(real.label_at(labels, e["t_peak_s"]) == "rest"
                                     for e in counted),
        fp_t=[(e["t_peak_s"], e["region"], e["side"], e["amplitude_mm"],
               real.label_at(labels, e["t_peak_s"])) for e in counted],
        bad=rep["summary"]["not_assessable_s"],
    )  # fmt: skip
    if job.get("spans"):
        out["spans"] = spans_versus_labels(rep, sig, labels)
    for seed in job["seeds"]:
        video = work / f"{name}.real{seed}.mp4"
        tpath = work / f"{video.name}.track.npz"
        truth_p = video.with_suffix(".truth.json")
        if not (tpath.exists() and truth_p.exists()):
            continue
        truth = [e for e in json.loads(truth_p.read_text())["events"] if e["kind"] == "twitch"]
        b = _analyse(LandmarkTrack.load(tpath), settings).report
        in_assess = [t for t in truth if not _bad(b, t["t_peak_s"])]
        det = [e for e in b["events"] if e["kind"] == "twitch" and e["counted"]]
        pairs = _match(det, in_assess)
        pairs_all = _match(det, truth)
        out["seeds"].append({
            "truth": len(truth), "in_assess": len(in_assess), "detected": len(det),
            "in_rest": sum(real.label_at(labels, t["t_peak_s"]) == "rest" for t in truth),
            "tp": len(pairs), "tp_det": len(pairs_all),
            "rest_truth": sum(real.label_at(labels, t["t_peak_s"]) == "rest" for t in truth),
            "rest_in": sum(real.label_at(labels, t["t_peak_s"]) == "rest" for t in in_assess),
            "by_amp": [(t["amplitude_mm"], any(d is t for _, d in pairs)) for t in in_assess],
            "by_region": [(t["region"], any(d is t for _, d in pairs)) for t in in_assess],
            "pairs": [({k: d[k] for k in ("side", "direction_deg", "amplitude_mm", "region")},
                       {k: t[k] for k in ("side", "direction_deg", "amplitude_mm", "region",
                                          "t_peak_s")}) for d, t in pairs],
        })  # fmt: skip
    return out


#: Injected-amplitude bins of ``--by-amplitude`` (mm; the last bin includes 3).
AMPLITUDE_BINS = ((0.5, 1.0), (1.0, 1.5), (1.5, 2.0), (2.0, 3.0))


def _found_by(results: list[dict], key: str, title: str, cells_of) -> None:
    """Print, per source and pooled, injected twitches in assessable time found, in groups.

    ``key`` names each seed's (value, found) rows; ``cells_of(rows)`` makes the cells.
    """
    print(f"injected twitches in assessable time found, by injected {title}:")
    groups = [(src, [r for r in results if r["source"] == src]) for src in real_clips.SOURCES]
    for name, res in [*groups, ("pooled", results)]:
        rows = [a for r in res for sd in r["seeds"] for a in sd.get(key, [])]
        if rows:
            print(f"  {name:14s} " + "   ".join(cells_of(rows)))


def _amplitude_cells(rows: list) -> list[str]:
    """By injected amplitude (:data:`AMPLITUDE_BINS`)."""
    cells = []
    for i, (lo, hi) in enumerate(AMPLITUDE_BINS):
        last = i == len(AMPLITUDE_BINS) - 1
        found = [f for a, f in rows if lo <= a < hi or (last and a == hi)]
        cells.append(f"{lo:g}-{hi:g}: {sum(found)}/{len(found)}")
    return cells


def _region_cells(rows: list) -> list[str]:
    """By injected region, in alphabetical order."""
    cells = []
    for region in dict.fromkeys(sorted(g for g, _ in rows)):
        found = [f for g, f in rows if g == region]
        cells.append(f"{region}: {sum(found)}/{len(found)}")
    return cells


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def line(title: str, res: list[dict]) -> str:
    res = [r for r in res if "face_s" in r and not r.get("refused")]
    if not res:
        return f"{title:26s} (nothing measured)"
    cl = [r for r in res if r["clean"]]
    face = sum(r["face_s"] for r in cl) / 60
    assess = sum(r["assess_s"] for r in cl) / 60
    rest = sum(r["rest_s"] for r in cl)
    rest_ok = sum(r["rest_ok"] for r in cl)
    voiced = sum(r["voiced_s"] for r in cl)
    vbad = sum(r["voiced_bad"] for r in cl)
    fp = sum(r["fp"] for r in cl)
    fpr = sum(r["fp_rest"] for r in cl)
    seeds = [s for r in res for s in r["seeds"]]
    truth = sum(s["truth"] for s in seeds)
    ins = sum(s["in_assess"] for s in seeds)
    inr = sum(s.get("in_rest", 0) for s in seeds)
    det = sum(s["detected"] for s in seeds)
    tp = sum(s["tp"] for s in seeds)
    tp_det = sum(s["tp_det"] for s in seeds)
    pairs = [p for s in seeds for p in s["pairs"]]
    side = np.mean([d["side"] == t["side"] for d, t in pairs]) if pairs else float("nan")
    derr = (np.median([angle_diff_deg(d["direction_deg"], t["direction_deg"]) for d, t in pairs])
            if pairs else float("nan"))  # fmt: skip
    amp = (np.median([d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs])
           if pairs else float("nan"))  # fmt: skip
    f = real._f
    return (f"{title:26s} {face:6.2f} {assess:6.2f} {_ratio(assess, face):5.2f} "
            f"{rest / 60:6.2f} {f(_ratio(rest_ok, rest)):>5s} {voiced / 60:6.2f} "
            f"{f(_ratio(vbad, voiced)):>5s} {fp:4d} {f(_ratio(fp, assess)):>6s} {fpr:3d} | "
            f"{truth:4d} {f(_ratio(ins, truth)):>5s} {f(_ratio(inr, truth)):>5s} "
            f"{f(_ratio(tp_det, det)):>5s} "
            f"{f(_ratio(tp, ins)):>5s} {f(side):>5s} {f(derr, '.1f'):>5s} {f(amp):>5s}"
            )  # fmt: skip


def _split_lines(title: str, res: list[dict]) -> None:
    """Print ``title``'s tuning and held-out clips apart, where it has both."""
    held = [r for r in res if r["name"] in real.HELD_OUT_CLIPS]
    tune = [r for r in res if r["name"] not in real.HELD_OUT_CLIPS]
    if held and tune:
        print(line(f"{title}, tuning", tune))
        print(line(f"{title}, held out", held))


HEADER = (f"{'clip':26s} {'face':>6s} {'assess':>6s} {'frac':>5s} {'rest':>6s} {'ok':>5s} "
          f"{'voiced':>6s} {'bad':>5s} {'FP':>4s} {'/amin':>6s} {'FPr':>3s} | {'inj':>4s} "
          f"{'inA':>5s} {'inR':>5s} {'P':>5s} {'R':>5s} {'side':>5s} {'dir':>5s} "
          f"{'amp':>5s}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--part", choices=("tune", "heldout", "all"), default="tune")
    ap.add_argument("--seeds", type=int, nargs="*", default=None)
    ap.add_argument("--clips", nargs="*", default=None, help="only these clip names")
    ap.add_argument("--source", nargs="*", choices=real_clips.SOURCES, default=None,
                    help="only these sources (e.g. --source mixed)")  # fmt: skip
    ap.add_argument("--spans", action="store_true",
                    help="per clean clip, the BAD spans against the labels: what each span "
                         "covers, talking and voiced time left assessable, rest annotated BAD, "
                         "and a timeline")  # fmt: skip
    ap.add_argument(
        "--settings",
        type=json.loads,
        default=None,
        help='detector settings as JSON, e.g. \'{"annotate": {"noisy_mm": 0.4}}\'',
    )
    ap.add_argument("--by-amplitude", action="store_true",
                    help="per source, injected twitches in assessable time found (a counted "
                         "twitch matched) by injected amplitude (AMPLITUDE_BINS)")  # fmt: skip
    ap.add_argument("--by-region", action="store_true",
                    help="... and by injected region")  # fmt: skip
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", "-v", action="store_true", help="list counted false twitches")
    ap.add_argument("--work", type=Path, default=real_clips.real_dir())
    args = ap.parse_args()
    jobs = []
    for c in real_clips.clips_all():
        if args.clips is not None and c.name not in args.clips:
            continue
        if args.source is not None and c.source not in args.source:
            continue
        held = c.name in real.HELD_OUT_CLIPS
        if args.part == "tune":
            if held:
                continue
            seeds, clean = real.TUNE_SEEDS, True
        elif args.part == "heldout":
            seeds, clean = (real.TUNE_SEEDS + real.HELD_OUT_SEEDS if held
                            else real.HELD_OUT_SEEDS), held  # fmt: skip
        else:
            seeds, clean = real.TUNE_SEEDS + real.HELD_OUT_SEEDS, True
        if args.seeds is not None:
            seeds = tuple(args.seeds)
        jobs.append({"name": c.name, "source": c.source, "work": str(args.work), "seeds": seeds,
                     "clean": clean, "settings": args.settings,
                     "spans": args.spans})  # fmt: skip
    t0 = time.time()
    with get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(clip_run, jobs, chunksize=1)
    print(f"part={args.part} settings={json.dumps(args.settings)} ({time.time() - t0:.0f} s)")
    print(HEADER)
    for src in real_clips.SOURCES:
        res = [r for r in results if r["source"] == src]
        if not res:
            continue
        for r in res:
            star = "*" if r["name"] in real.HELD_OUT_CLIPS else " "
            print(line(star + r["name"], [r]) + ("  (under the small-face floor)"
                                                 if r.get("refused") else ""))  # fmt: skip
            if args.verbose and r.get("clean"):
                for t_s, reg, side, amp, lab in r.get("fp_t", []):
                    print(f"      FP {t_s:7.2f} s {reg} {side} {amp:.2f} mm [{lab}]")
                if r.get("bad"):
                    print(f"      not assessed: {r['bad']}")
            if r.get("spans"):
                print("\n".join(r["spans"]))
        print(line(f"= {src}", res))
        _split_lines(f"= {src}", res)
    print(line("== pooled", results))
    _split_lines("== pooled", results)
    if args.by_amplitude:
        _found_by(results, "by_amp", "amplitude (mm)", _amplitude_cells)
    if args.by_region:
        _found_by(results, "by_region", "region", _region_cells)
    print("(face/assess/rest/voiced in minutes; frac = assessable/face; ok = share of labelled "
          "rest assessable; bad = share of labelled voiced time annotated BAD; FP = counted "
          "false twitches on clean clips, /amin per assessable minute, FPr in labelled rest; "
          "inj = injected twitches, inA = share peaking in assessable time, inR = share "
          "peaking in labelled rest (for reference: what a tool assessing exactly the labelled "
          "rest would give); P/R/side/dir/amp of "
          "counted twitches against those in assessable time)")  # fmt: skip


if __name__ == "__main__":
    main()
