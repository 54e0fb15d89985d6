"""How much the event clips magnify: planted twitches measured in each half of their clips.

The public-domain astronaut portrait moved as samples/make_demo.py moves it (slow head
translation, roll, zoom), twitches of a known size planted with facetwitch.simulation in the
lips, lids, mouth corners and cheeks, the real tracker, the clip maker and its encoder. Each
clip is measured with :func:`facetwitch.web.clips.magnification_measure` (the planted warp
fitted to the change from the clip's baseline frame to its peak frame, in each half). Prints,
per amplitude: the filmed half's size against the planted one, the magnified half's, and their
ratio (the magnification a viewer sees; stated: MAGNIFICATION). Run by hand (~1 min per seed):

    python benchmarks/clips.py --seeds 4 --amplitudes 1,2
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from facetwitch import _media  # noqa: E402
from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import track_video  # noqa: E402
from facetwitch.simulation import twitch_simulate, video_inject  # noqa: E402
from facetwitch.web.clips import MAGNIFICATION, clips_make, magnification_measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REGIONS = ["upper_lip", "lower_lip", "upper_eyelid", "lower_eyelid", "mouth_corner", "cheek"]


def _make_demo():
    spec = importlib.util.spec_from_file_location("make_demo", REPO / "samples" / "make_demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(seed: int, amplitude_mm: float, work: Path) -> list[dict]:
    """Plant 5 twitches of ``amplitude_mm`` (seed ``seed``) and measure their clips."""
    md = _make_demo()
    photo = cv2.cvtColor(cv2.imread(str(_media.astronaut_fetch())), cv2.COLOR_BGR2RGB)
    clean = work / "clean.mp4"
    if not clean.exists():
        md.write_frames(clean, lambda t: md.render(photo, t), duration_s=8.0)
    plan = twitch_simulate(
        5,
        8.0,
        regions=REGIONS,
        amplitude_mm=amplitude_mm,
        burst_fraction=0,
        min_spacing_s=1.2,
        margin_s=0.8,
        seed=seed,
    )
    video = work / f"planted-{seed}-{amplitude_mm:g}.mp4"
    truth = video_inject(clean, video, plan, crf=18)
    track = track_video(video)
    events = [dict(e, id=k + 1) for k, e in enumerate(truth["events"])]
    report = {"events": events, "input": {"mirrored": False}, "quality": {}}
    made = clips_make(report, track, video, work / f"clips-{seed}-{amplitude_mm:g}")
    by_id = {c["event_id"]: c for c in made}
    rows = []
    for e in events:
        c = by_id.get(e["id"])
        if c is None:
            continue
        m = magnification_measure(work / f"clips-{seed}-{amplitude_mm:g}" / c["file"], c, e)
        rows.append({"seed": seed, "region": e["region"], "amplitude_mm": amplitude_mm, **m})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--amplitudes", default="1,2")
    args = parser.parse_args()
    warnings.simplefilter("ignore", FacetwitchWarning)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for amp in (float(a) for a in args.amplitudes.split(",")):
            for seed in range(args.seeds):
                rows += run(seed, amp, Path(tmp))
    print(f"stated magnification: {MAGNIFICATION:g}")
    print(
        f"{'mm':>4} {'n':>3} {'filmed/planted':>15} {'magnified/planted':>18} {'ratio':>6} "
        f"{'ratio p10-p90':>14}"
    )
    for amp in sorted({r["amplitude_mm"] for r in rows}):
        sel = [r for r in rows if r["amplitude_mm"] == amp and np.isfinite(r["ratio"])]
        ratio = np.array([r["ratio"] for r in sel])
        print(
            f"{amp:4g} {len(sel):3d} {np.median([r['filmed'] for r in sel]):15.2f} "
            f"{np.median([r['magnified'] for r in sel]):18.2f} {np.median(ratio):6.2f} "
            f"{np.percentile(ratio, 10):6.2f}-{np.percentile(ratio, 90):.2f}"
        )
    for r in rows:
        print(
            f"  seed {r['seed']} {r['region']:<13} {r['amplitude_mm']:g} mm: filmed "
            f"{r['filmed']:.2f}, magnified {r['magnified']:.2f}, ratio {r['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
