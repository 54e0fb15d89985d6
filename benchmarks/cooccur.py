"""Eye-mouth co-contraction (the hemifacial-spasm sign) against injected ground truth.

Hemifacial spasm moves the eye and the mouth of one side together: the lids close (orbicularis
oculi) while the mouth corner, upper lip or cheek is pulled up and out. The report links an eye
twitch and a mouth twitch of one side whose peaks are within 150 ms (``co_occurring``) and says
so in ``summary.eye_mouth_co_occurrence``. This benchmark injects, into real face footage
(the calm clips and vitallens 1, a real man at rest; see accuracy.py), anchors of four kinds:

- ``pair``: an eyelid twitch and a mouth twitch on the same side, onsets within 40 ms (the
  sign; should be linked);
- ``cross``: the same, but the mouth twitch on the other side (should not be linked);
- ``apart``: the same side, the mouth twitch 0.45-0.6 s after the eye's (should not be linked);
- ``single``: one eyelid or one mouth twitch alone.

Eyelids move as in a spasm (upper lid down, lower lid up, 1-3 mm), mouth regions up and toward
their own side. Detected twitches are matched to the truth one to one by peak time within
0.25 s, same side and same region group (eye / mouth). Prints, per set and overall:

- pair recall: injected pairs whose two twitches were both found and linked to each other
  (and the share linked of those whose two twitches were both found);
- link precision: reported links whose two ends are the two twitches of one injected pair;
- the summary's sign (``eye_mouth_co_occurrence.present`` and its sides) on each injected
  plan, against whether that plan holds a pair on that side, and on each clean clip;
- recall of the pairs' members, of the ``cross`` anchors' twitches, and of twitches alone
  (``single`` and ``apart``): does moving together hide either?

Injected videos and tracks are cached in ``--work`` (as accuracy.py's). Run by hand:

    python benchmarks/cooccur.py --seeds 3                                     # calm + vitallens 1
    python benchmarks/cooccur.py --seeds 10 --clips vitallens_sample_video_1   # one real clip
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import cached_track, clip_sets, face_span, injected, match  # noqa: E402

from facetwitch.analysis import analysis_run  # noqa: E402
from facetwitch.conventions import direction_word  # noqa: E402
from facetwitch.signal.classify import _group_of  # noqa: E402  (eye / mouth, as the linker groups)

EYELIDS = ("upper_eyelid", "lower_eyelid")
MOUTH = ("mouth_corner", "upper_lip", "cheek")
KINDS = ("pair", "cross", "apart", "single")
KIND_P = (0.5, 0.15, 0.15, 0.2)
ANCHOR_SPACING_S = 2.4  # peak to peak: room for an "apart" partner and both events' ends


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _direction(region: str, side: str, rng: np.random.Generator) -> float:
    """As in a spasm.

    The upper lid down, the lower lid up, the mouth up and toward its side (face frame: 0 = toward
    the patient's left, 90 = up).
    """
    if region == "upper_eyelid":
        return float(rng.uniform(250, 290))
    if region == "lower_eyelid":
        return float(rng.uniform(70, 110))
    lateral = rng.uniform(20, 70)
    return float(lateral if side == "left" else 180 - lateral)


def plan_make(src: Path, seed: int, clean) -> list[dict]:
    """Return the seed's plan for ``src``.

    Anchors every ~2.4 s of its face span (module docstring).
    """
    from facetwitch.simulation import twitch_simulate

    t0, t1 = face_span(clean)
    span = t1 - t0
    n = max(1, int((span - 1.0) / ANCHOR_SPACING_S))
    plan_seed = 7_000_003 + seed * 100_003 + zlib.crc32(src.stem.encode()) % 100_000
    rng = np.random.default_rng(plan_seed)
    # two independent plans give timing and temporal profiles: the anchors, and their partners
    anchors = twitch_simulate(n, span - 0.7, seed=rng, min_spacing_s=ANCHOR_SPACING_S)
    partners = twitch_simulate(n, span - 0.7, seed=rng, min_spacing_s=ANCHOR_SPACING_S)
    events = []
    for k, (a, b) in enumerate(zip(anchors, partners, strict=True)):
        kind = str(rng.choice(KINDS, p=KIND_P))
        side = str(rng.choice(["left", "right"]))
        eye = str(rng.choice(EYELIDS))
        mouth = str(rng.choice(MOUTH))
        if kind == "single":
            alone = eye if rng.uniform() < 0.5 else mouth
            events.append(_event(a, alone, side, 0.0, k, kind, rng))
            continue
        events.append(_event(a, eye, side, 0.0, k, kind, rng))
        shift = (
            a["t_start_s"]
            - b["t_start_s"]
            + (rng.uniform(-0.04, 0.04) if kind != "apart" else rng.uniform(0.45, 0.6))
        )
        events.append(_event(b, mouth, _other(side) if kind == "cross" else side, shift, k, kind,
                             rng))  # fmt: skip
    for e in events:
        for key in ("t_start_s", "t_peak_s", "t_end_s"):
            e[key] = round(e[key] + t0, 4)
    events.sort(key=lambda e: e["t_peak_s"])
    for i, e in enumerate(events):
        e["id"] = i + 1
    return events


def _event(template: dict, region: str, side: str, shift_s: float, anchor: int, kind: str,
           rng: np.random.Generator) -> dict:  # fmt: skip
    e = json.loads(json.dumps(template))
    deg = _direction(region, side, rng)
    e.update(
        {
            "region": region,
            "side": side,
            "direction_deg": round(deg, 1),
            "direction": direction_word(deg),
            "anchor": anchor,
            "anchor_kind": kind,
        }
    )
    for key in ("t_start_s", "t_peak_s", "t_end_s"):
        e[key] = e[key] + shift_s
    return e


def plan_score(report: dict, truth: dict) -> dict:
    """Count for one injected plan (see the module docstring)."""
    det = [e for e in report["events"] if e["kind"] == "twitch"]
    tru = [e for e in truth["events"] if e["kind"] == "twitch"]
    pairs = match(det, tru, compatible=lambda d, t: d["side"] == t["side"]
                  and _group_of(d["region"]) == _group_of(t["region"]))  # fmt: skip
    found = {id(t): d for d, t in pairs}
    by_anchor: dict[int, list[dict]] = {}
    for t in tru:
        by_anchor.setdefault(t["anchor"], []).append(t)
    out = {"pairs": 0, "pairs_found": 0, "pairs_linked": 0, "members": 0, "members_found": 0,
           "cross": 0, "cross_found": 0, "alone": 0, "alone_found": 0, "links": 0,
           "links_true": 0, "sign_sides_truth": set(), "sign_sides": set()}  # fmt: skip
    true_links = set()
    for evs in by_anchor.values():
        kind = evs[0]["anchor_kind"]
        key = {"cross": "cross", "apart": "alone", "single": "alone"}.get(kind)
        if key:
            out[key] += len(evs)
            out[key + "_found"] += sum(id(t) in found for t in evs)
        if kind != "pair":
            continue
        out["pairs"] += 1
        out["members"] += len(evs)
        out["sign_sides_truth"].add(evs[0]["side"])
        ds = [found.get(id(t)) for t in evs]
        out["members_found"] += sum(d is not None for d in ds)
        if all(d is not None for d in ds):
            out["pairs_found"] += 1
            link = frozenset(d["id"] for d in ds)
            true_links.add(link)
            if ds[1]["id"] in ds[0]["co_occurring"]:
                out["pairs_linked"] += 1
    reported = {frozenset((e["id"], o)) for e in det for o in e["co_occurring"]}
    out["links"] = len(reported)
    out["links_true"] = len(reported & true_links)
    out["sign_sides"] = set(report["summary"]["eye_mouth_co_occurrence"]["sides"])
    return out


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
    ap.add_argument("--clips", nargs="*", default=None, help="only these clips (names or stems)")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sets = {"calm": clip_sets("calm", args.work, args.clips).get("calm", [])}
    talk = clip_sets("talk", args.work, args.clips or ["vitallens_sample_video_1"])
    real = talk.get("talk", [])
    sets["real: " + ", ".join(c.stem for c in real)] = real
    totals = []
    for name, clips in sets.items():
        if not clips:
            continue
        acc: dict = {}
        side_conf = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
        clean_signs = []
        for src in clips:
            clean = cached_track(src, args.work)
            ca = analysis_run(clean).report
            clean_signs.append((src.stem, ca["summary"]["eye_mouth_co_occurrence"]["sides"]))
            for seed in range(args.seeds):
                video, truth = injected(src, seed, args.work, clean, tag="cooccur",
                                        plan=plan_make)  # fmt: skip
                rep = analysis_run(cached_track(video, args.work)).report
                s = plan_score(rep, truth)
                for k in ("pairs", "pairs_found", "pairs_linked", "members", "members_found",
                          "cross", "cross_found", "alone", "alone_found", "links",
                          "links_true"):  # fmt: skip
                    acc[k] = acc.get(k, 0) + s[k]
                for side in ("left", "right"):
                    want, got = side in s["sign_sides_truth"], side in s["sign_sides"]
                    side_conf[
                        {(1, 1): "tp", (1, 0): "fn", (0, 1): "fp", (0, 0): "tn"}[
                            (int(want), int(got))
                        ]
                    ] += 1
                print(f"  {src.stem} seed {seed}: pairs {s['pairs']} linked {s['pairs_linked']}"
                      f", links {s['links']} ({s['links_true']} true), sign on "
                      f"{sorted(s['sign_sides']) or 'no side'} (truth "
                      f"{sorted(s['sign_sides_truth']) or 'no side'})")  # fmt: skip
                if args.verbose:
                    for t in truth["events"]:
                        print(
                            f"      {t['anchor']:2d} {t['anchor_kind']:6s} {t['t_peak_s']:6.2f}"
                            f" {t['region']:13s} {t['side']:5s} {t['amplitude_mm']:.2f}mm"
                        )
                    for e in rep["events"]:
                        if e["kind"] == "twitch":
                            print(
                                f"      det {e['id']:3d} {e['t_peak_s']:6.2f} {e['region']:13s}"
                                f" {e['side']:5s} {e['amplitude_mm']:.2f}mm "
                                f"co {e['co_occurring']}"
                            )
        totals.append((name, acc, side_conf, clean_signs))
    for name, acc, conf, clean_signs in totals:
        _print(name, acc, conf, clean_signs, args.seeds)
    if len(totals) > 1:
        acc = {k: sum(t[1][k] for t in totals) for k in totals[0][1]}
        conf = {k: sum(t[2][k] for t in totals) for k in totals[0][2]}
        _print("overall", acc, conf, [c for t in totals for c in t[3]], args.seeds)


def _print(name: str, acc: dict, conf: dict, clean_signs: list, seeds: int) -> None:
    def ratio(a, b):
        return f"{a / b:.3f} ({a}/{b})" if b else "n/a"

    print(f"\n{name} ({len(clean_signs)} clips x {seeds} seeds):")
    print(f"  pair recall        {ratio(acc['pairs_linked'], acc['pairs'])}")
    print(f"  linked when both found {ratio(acc['pairs_linked'], acc['pairs_found'])}")
    print(f"  link precision     {ratio(acc['links_true'], acc['links'])}")
    print(f"  member recall      {ratio(acc['members_found'], acc['members'])}")
    print(
        f"  recall, eye and mouth at once on opposite sides "
        f"{ratio(acc['cross_found'], acc['cross'])}"
    )
    print(f"  recall, eye or mouth alone {ratio(acc['alone_found'], acc['alone'])}")
    print(f"  sign per plan side: {conf['tp']} right, {conf['fn']} missed, {conf['fp']} false, "
          f"{conf['tn']} rightly absent")  # fmt: skip
    false_clean = [(c, s) for c, s in clean_signs if s]
    print(
        f"  sign on the clean clips: {len(false_clean)} of {len(clean_signs)}"
        + (f" {false_clean}" if false_clean else "")
    )


if __name__ == "__main__":
    main()
