"""Compressed uploads: real faces at rest, encoded once from their originals at a harder CRF.

A patient's phone video may reach facetwitch through a messaging app or a phone saving space,
encoded harder than issue 15's held-out footage (CRF 18). This benchmark takes the real set's
at-rest clips (``real_clips``: msu 001 / 005 / 022, vitallens 1 / 2, bob) and the real set's
own injection plans (``real.py``: same seeds, same twitches, 0.5-3 mm), injects them into the
*original* files and encodes each once, as the phone's file re-encoded would be, with libx264
preset medium at every CRF asked for. Each is tracked and analysed with the defaults.

Printed per CRF, per clip and pooled, as ``assess.py`` does: assessable time, the injected
twitches in it found (precision, recall, side, direction error, amplitude ratio of the counted
twitches), and the false twitches on the injected clips per assessable minute (a counted
twitch with no injected twitch within ``accuracy.MATCH_S``). At the real set's own CRF
(``real.INJECT_CRF``) the real set's files are the same encoding and are used when present.

    python benchmarks/compressed.py --crf 18 23 28            # seeds 0-5, about 6 min a CRF
    python benchmarks/compressed.py --crf 23 --seeds 0 1 2

Tracks and truths are cached in ``--work``/compressed (the videos are kept beside them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from multiprocessing import get_context
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402
import assess  # noqa: E402
import real  # noqa: E402
import real_clips  # noqa: E402

from facetwitch.conventions import angle_diff_deg  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import LandmarkTrack, track_video  # noqa: E402

#: The real set's clips of faces at rest (clean footage, no talking).
REST_CLIPS = ("msu_client001", "msu_client005", "msu_client022", "vitallens_sample_video_1",
              "vitallens_sample_video_2", "bob_testvideo")  # fmt: skip


def clip_made(name: str, seed: int, crf: int, work: Path, real_work: Path) -> tuple[Path, Path]:
    """Return the track and truth of ``name``, seed ``seed``'s plan, encoded at ``crf``.

    Made (injected, encoded, tracked) when missing.
    """
    if crf == real.INJECT_CRF:
        track_p = real_work / f"{name}.real{seed}.mp4.track.npz"
        truth_p = real_work / f"{name}.real{seed}.truth.json"
        if track_p.exists() and truth_p.exists():
            return track_p, truth_p
    clip = {c.name: c for c in real_clips.clips_all()}[name]
    clean = LandmarkTrack.load(real_work / f"{name}.mp4.track.npz")
    src = real_clips.clip_source(clip)

    def plan(s, sd, c):
        return accuracy.plan_make(s, sd, c, amplitude_mm=real.AMPLITUDE_MM, name=name)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FacetwitchWarning)
        video, _ = accuracy.injected(src, seed, work, clean, tag=f"crf{crf}_", plan=plan,
                                     name=name, crf=crf)  # fmt: skip
        track_p = work / f"{video.name}.track.npz"
        if not track_p.exists():
            track_video(video, workers=1).save(track_p)
    return track_p, video.with_suffix(".truth.json")


def clip_score(job: dict) -> dict:
    """Make (if needed) and score one clip, seed and CRF."""
    track_p, truth_p = clip_made(job["name"], job["seed"], job["crf"], Path(job["work"]),
                                 Path(job["real_work"]))  # fmt: skip
    return {**job, **scored(track_p, truth_p)}


def scored(track_p: Path, truth_p: Path | None) -> dict:
    """Analyse the track at ``track_p`` with the defaults; score it against its truth.

    ``truth_p`` None: a clean clip (every counted twitch is false).
    """
    rep = assess._analyse(LandmarkTrack.load(track_p), None).report
    events = json.loads(truth_p.read_text())["events"] if truth_p is not None else []
    truth = [e for e in events if e["kind"] == "twitch"]
    in_assess = [t for t in truth if not assess._bad(rep, t["t_peak_s"])]
    det = [e for e in rep["events"] if e["kind"] == "twitch" and e["counted"]]
    pairs = assess._match(det, in_assess)
    near_truth = {id(d) for d, _ in assess._match(det, truth)}
    false = [e for e in det if id(e) not in near_truth]
    return {"face_s": rep["summary"]["analysed_s"],
            "assess_s": rep["summary"]["assessable_s"], "truth": len(truth),
            "not_assessable_s": rep["summary"]["not_assessable_s"],
            "in_assess": len(in_assess), "detected": len(det), "tp": len(pairs),
            "false": len(false),
            "side_ok": [d["side"] == t["side"] for d, t in pairs],
            "dir_err": [angle_diff_deg(d["direction_deg"], t["direction_deg"]) for d, t in pairs
                        if d["direction_deg"] is not None],
            "amp": [d["amplitude_mm"] / t["amplitude_mm"] for d, t in pairs],
            "false_at": [(e["t_peak_s"], e["region"], e["side"], e["amplitude_mm"])
                         for e in false]}  # fmt: skip


def line(title: str, rows: list[dict]) -> str:
    """One table line over ``rows``."""

    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    def pooled(key: str) -> list:
        return [x for r in rows for x in r[key]]

    face, amin = total("face_s") / 60, total("assess_s") / 60
    ratio, f = assess._ratio, real._f
    side, dirs, amp = pooled("side_ok"), pooled("dir_err"), pooled("amp")
    return (f"{title:28s} {face:5.2f} {amin:5.2f} {f(ratio(amin, face))} {total('truth'):4d} "
            f"{f(ratio(total('in_assess'), total('truth')))} "
            f"{f(ratio(total('tp'), total('detected')))} "
            f"{f(ratio(total('tp'), total('in_assess')))} "
            f"{f(np.mean(side) if side else None)} "
            f"{f(np.median(dirs) if dirs else None, '.1f'):>5s} "
            f"{f(np.median(amp) if amp else None)} {total('false'):4d} "
            f"{f(ratio(total('false'), amin))}")  # fmt: skip


HEADER = ("clip                          face  asse  frac  inj   inA     P     R  side   dir   "
          "amp  false /amin")  # fmt: skip


def args_shared(ap: argparse.ArgumentParser, folder: str) -> None:
    """Add the options every at-rest benchmark on the real set's clips takes.

    ``folder``: its cache under ``--work``.
    """
    ap.add_argument("--clips", nargs="+", default=list(REST_CLIPS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", "-v", action="store_true", help="list the false twitches")
    ap.add_argument("--work", type=Path, default=real_clips.real_dir().parent,
                    help=f"the benchmark folder: the real set in <work>/real, this in "
                         f"<work>/{folder}")  # fmt: skip


def work_dirs(args: argparse.Namespace, folder: str) -> tuple[str, Path]:
    """Return the real set's folder and this benchmark's (made).

    Exit in one line when the real set is not made.
    """
    real_work = str(args.work / "real")
    missing = [n for n in args.clips if not (args.work / "real" / f"{n}.mp4.track.npz").exists()]
    if missing:
        sys.exit(f"the real set is not made in {real_work} ({', '.join(missing)}): run "
                 f"benchmarks/real.py --make-only --work {real_work} first")  # fmt: skip
    work = args.work / folder
    work.mkdir(parents=True, exist_ok=True)
    return real_work, work


def clips_print(rows: list[dict], clips: list[str], suffix: str = "", *,
                verbose: bool = False) -> None:  # fmt: skip
    """Print a table line per clip of ``rows`` (with its false twitches when ``verbose``)."""
    for n in clips:
        mine = [r for r in rows if r["name"] == n]
        print(line(f" {n}{suffix}", mine))
        if verbose:
            for r in mine:
                for t_s, reg, side, amp in r["false_at"]:
                    print(f"      false: seed {r['seed']} {t_s:6.2f} s {reg} {side} {amp:.2f} mm")


#: What the table's columns are.
FOOTER = ("(face / asse = face and assessable minutes; frac = assessable / face; inj = injected "
          "twitches, inA = share in assessable time; P / R / side / dir / amp of the counted "
          "twitches against those in assessable time; false = counted twitches with no "
          "injected one near, and per assessable minute)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--crf", type=int, nargs="+", default=[18, 23, 28])
    ap.add_argument(
        "--seeds", type=int, nargs="+", default=list(real.TUNE_SEEDS + real.HELD_OUT_SEEDS)
    )
    args_shared(ap, "compressed")
    args = ap.parse_args()
    real_work, work = work_dirs(args, "compressed")
    jobs = [{"name": n, "seed": s, "crf": c, "work": str(work), "real_work": real_work}
            for c in args.crf for n in args.clips for s in args.seeds]  # fmt: skip
    with get_context("spawn").Pool(args.jobs) as pool:
        rows = pool.map(clip_score, jobs, chunksize=1)
    print(HEADER)
    for crf in args.crf:
        at = [r for r in rows if r["crf"] == crf]
        print(f"CRF {crf} (libx264 medium, once from the original)")
        clips_print(at, args.clips, verbose=args.verbose)
        print(line("= pooled", at))
    print(FOOTER)


if __name__ == "__main__":
    main()
