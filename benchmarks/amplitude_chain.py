r"""Where an injected twitch's size is lost, stage by stage (issue 15; the reported-size gain).

On the real benchmark's cached clips (``real.py``: CRF 18 clips, their injected copies with
truth JSON, and the tracks of both), for every injected twitch of the clips named:

1. **frames**: the flow's own response on the *decoded clean frames*, without any encoding:
   each region's skin is warped by the simulator's bump (``facetwitch.simulation``: its sigma,
   1 mm along x, then along y) on 8 frames spread over the clip, and the region flow
   (``RegionFlow.measure``, the tracker's own measurement) reads the warp back; the median per
   region, as a fraction of the warp (the mean of the x and y responses);
2. **flow**: the tracker's frame-to-frame region flow in the injected video, summed from 0.1 s
   before the twitch's start to its peak frame, less the same sum in the clean video, along the
   injected vector, as a fraction of it (pixels: what the flow saw after the video encoding);
3. **scale**: the signals' px per mm over the truth's (the iris scale);
4. **position**: the face-frame position (mm) at the peak less 0.1 s before the start, clean
   subtracted, along the injected direction;
5. **baseline**: the same on the displacement after the 2 s running median is removed;
6. **residual**: the same on the residual (what the other side does not explain), where the
   detector looks;
7. **reported**: the matched event's reported amplitude (same region and side, peak within
   0.25 s), raw (``amplitude_gain`` 1) and as reported (the default gain).

All as medians over the twitches, per region and pooled.

    python benchmarks/amplitude_chain.py --work /path/to/bench/real \\
        --clips msu_client001 msu_client005 vitallens_sample_video_1 bob_testvideo
"""

from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import assess  # noqa: E402
import real_clips  # noqa: E402

from facetwitch.landmarks.flow import RegionFlow  # noqa: E402
from facetwitch.landmarks.track import LandmarkTrack  # noqa: E402
from facetwitch.regions import REGION_KEYS, REGION_LANDMARKS  # noqa: E402
from facetwitch.signal import residual_signals  # noqa: E402
from facetwitch.simulation.warp import _bump_sigmas, _warp_bump  # noqa: E402

STAGES = ("frames", "flow", "scale", "position", "baseline", "residual", "raw", "reported")


def _frames_at(path: Path, wanted) -> dict[int, np.ndarray]:
    """Frames ``wanted`` (indices) of ``path``, grayscale (the benchmark's clips are upright)."""
    wanted, out = set(int(i) for i in wanted), {}
    cap = cv2.VideoCapture(str(path))
    i = 0
    while len(out) < len(wanted):
        ok, f = cap.read()
        if not ok:
            break
        if i in wanted:
            out[i] = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
        i += 1
    cap.release()
    return out


def frames_response(video: Path, points, found, px_per_mm: float, n: int = 8) -> np.ndarray:
    """Each region's flow response to a 1 mm bump on ``n`` decoded frames: (K,) fractions."""
    rf = RegionFlow()
    sg = _bump_sigmas(points, found, px_per_mm)
    sigma = np.array([sg[k] for k in REGION_KEYS])
    idx = [i for i in np.linspace(0, len(points) - 1, n + 2).astype(int)[1:-1] if found[i]]
    out = []
    for i, frame in _frames_at(video, idx).items():
        xy = points[i]
        cen = np.stack([xy[list(REGION_LANDMARKS[k])].mean(axis=0) for k in REGION_KEYS])
        base = rf.measure(frame, frame, xy)[0]
        resp = np.full((len(REGION_KEYS), 2), np.nan)
        for group in _apart(cen, sigma):
            for ax in (0, 1):
                v = np.zeros(2)
                v[ax] = px_per_mm
                warped = frame.copy()
                for r in group:
                    _warp_bump(warped, frame, cen[r], v, sigma[r])
                read = rf.measure(frame, warped, xy)[0] - base
                for r in group:
                    resp[r, ax] = read[r, ax] / px_per_mm
        out.append(resp.mean(axis=1))
    return np.nanmedian(np.array(out), axis=0)


def _apart(centres: np.ndarray, sigma: np.ndarray, sep: float = 4.0) -> list[list[int]]:
    """Regions in groups whose bumps do not overlap (centres over ``sep`` sigmas apart)."""
    left, groups = list(range(len(centres))), []
    while left:
        g: list[int] = []
        for i in list(left):
            if all(np.hypot(*(centres[i] - centres[j])) > sep * max(sigma[i], sigma[j]) for j in g):
                g.append(i)
                left.remove(i)
        groups.append(g)
    return groups


def clip_rows(job: tuple[Path, str, int]) -> list[dict]:
    """One row per injected twitch of clip ``name``, seed ``seed``: its fraction at each stage."""
    work, name, seed = job
    truth_path = work / f"{name}.real{seed}.truth.json"
    inj_track = work / f"{name}.real{seed}.mp4.track.npz"
    clean_track = work / f"{name}.mp4.track.npz"
    if not (truth_path.exists() and inj_track.exists() and clean_track.exists()):
        return []
    truth = json.loads(truth_path.read_text())
    ti, tc = LandmarkTrack.load(inj_track), LandmarkTrack.load(clean_track)
    a, ac = assess._analyse(ti, None), assess._analyse(tc, None)
    raw = assess._analyse(ti, {"amplitude_gain": 1.0, "region_gain": {}}).report["events"]
    sig, sigc = a.signals, ac.signals
    if sig is None or sigc is None or len(sig.t) != len(sigc.t):
        return []
    res, resc = residual_signals(sig), residual_signals(sigc)
    keys = [str(x) for x in ti.region_flow_names]  # the tracker's order: REGION_KEYS
    found = np.asarray(tc.found, bool)
    resp = frames_response(work / f"{name}.mp4", np.asarray(tc.points)[:, :, :2], found,
                           truth["px_per_mm"])  # fmt: skip
    rows = []
    for ev in truth["events"]:
        if ev["kind"] != "twitch":
            continue
        j = sig.keys.index((ev["region"], ev["side"]))
        k = keys.index(f"{ev['region']}_{ev['side']}")
        rad = np.radians(ev["direction_deg"])
        u = np.array([np.cos(rad), np.sin(rad)])
        ip = int(np.argmin(abs(sig.t - ev["t_peak_s"])))
        i0 = int(np.argmin(abs(sig.t - (ev["t_start_s"] - 0.1))))
        if not (sig.valid[i0] and sig.valid[ip]):
            continue

        def along(x, y, ip=ip, i0=i0, j=j, u=u, amp=ev["amplitude_mm"]):
            return float(((x[ip, j] - x[i0, j]) - (y[ip, j] - y[i0, j])) @ u) / amp

        fp = int(np.argmin(abs(ti.t - ev["t_peak_s"])))
        f0 = int(np.argmin(abs(ti.t - (ev["t_start_s"] - 0.1))))
        v = np.asarray(ev["vector_px"], float)
        seen = (np.nansum(ti.region_flow[f0 + 1 : fp + 1, k], axis=0)
                - np.nansum(tc.region_flow[f0 + 1 : fp + 1, k], axis=0))  # fmt: skip
        row = {
            "clip": name, "seed": seed, "region": ev["region"],
            "amplitude_mm": ev["amplitude_mm"],
            "frames": float(resp[k]),
            "flow": float(seen @ v) / float(v @ v),
            "scale": sig.px_per_mm / truth["px_per_mm"],
            "position": along(sig.position_mm, sigc.position_mm),
            "baseline": along(sig.displacement_mm, sigc.displacement_mm),
            "residual": along(res.displacement_mm, resc.displacement_mm),
        }  # fmt: skip
        for key, events in (("raw", raw), ("reported", a.report["events"])):
            m = [e for e in events
                 if (e["kind"], e["region"], e["side"]) == ("twitch", ev["region"], ev["side"])
                 and abs(e["t_peak_s"] - ev["t_peak_s"]) <= 0.25]  # fmt: skip
            row[key] = m[0]["amplitude_mm"] / ev["amplitude_mm"] if m else float("nan")
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=real_clips.real_dir())
    ap.add_argument("--clips", nargs="+", required=True, help="clip names (real.py's)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    jobs = [(args.work, c, s) for c in args.clips for s in args.seeds]
    with get_context("spawn").Pool(args.jobs) as pool:
        rows = [r for rr in pool.map(clip_rows, jobs) for r in rr]
    if not rows:
        sys.exit("no injected clip with its truth and both tracks in --work")
    print(f"{len(rows)} injected twitches; median fraction of the injected size at each stage")
    print(f"{'':16s}{'n':>4s}" + "".join(f"{s:>10s}" for s in STAGES))

    def line(title, rs):
        med = [np.nanmedian([r[s] for r in rs]) for s in STAGES]
        print(f"{title:16s}{len(rs):4d}" + "".join(f"{m:10.2f}" for m in med))

    for region in sorted({r["region"] for r in rows}):
        line(region, [r for r in rows if r["region"] == region])
    line("all", rows)
    print("(reported: matched events only; raw: the same with amplitude_gain 1)")


if __name__ == "__main__":
    main()
