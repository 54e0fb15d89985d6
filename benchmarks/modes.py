"""MediaPipe running mode: VIDEO vs IMAGE, measured on injected twitches.

Tracks one injected clip (default: the committed demo, whose truth lies beside it) in both
running modes and prints, per mode: frames/s, how much of each injected displacement the
*landmarks* show (region landmark centroid relative to the rigid forehead/nose landmarks,
face-frame mm, at the truth's peak +-150 ms minus the 0.4 s before onset, divided by the
injected amplitude), their peak lag, and the landmark jitter (robust SD of frame-to-frame
motion of the lip/eyelid centroids, mm). The region flow, which measures amplitudes in
facetwitch, is the same in both modes; the mode only changes where the regions are placed.

    python benchmarks/modes.py [VIDEO]
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from facetwitch.errors import FacetwitchWarning  # noqa: E402
from facetwitch.landmarks import track_video  # noqa: E402
from facetwitch.signal import regions_signal  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "samples" / "demo_upper_lip.mp4"
    truth = json.loads(video.with_suffix(".truth.json").read_text())
    twitches = [e for e in truth["events"] if e["kind"] == "twitch"]
    print(f"{video.name}: {len(twitches)} injected twitches")
    for mode in ("video", "image"):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FacetwitchWarning)
            track = track_video(video, mode=mode, flow=True)
        fps = len(track) / (time.perf_counter() - t0)
        lm = regions_signal(track, method="landmarks", baseline_s=1e9)  # raw positions
        fl = regions_signal(track, method="flow")
        ratios, lags, flow_ratios = [], [], []
        for e in twitches:
            col = lm.column(e["region"], e["side"])
            base = np.nanmean(col[(lm.t >= e["t_start_s"] - 0.4) & (lm.t < e["t_start_s"])], 0)
            win = (lm.t >= e["t_peak_s"] - 0.15) & (lm.t <= e["t_peak_s"] + 0.15)
            th = np.radians(e["direction_deg"])
            along = (col[win] - base) @ np.array([np.cos(th), np.sin(th)])
            k = int(np.nanargmax(along))
            ratios.append(along[k] / e["amplitude_mm"])
            lags.append(lm.t[win][k] - e["t_peak_s"])
            fcol = fl.column(e["region"], e["side"])
            flow_ratios.append(np.nanmax(np.linalg.norm(fcol[win], axis=1)) / e["amplitude_mm"])
        still = np.ones(len(lm.t), bool)
        for e in truth["events"]:
            still &= ~((lm.t > e["t_start_s"] - 0.3) & (lm.t < e["t_end_s"] + 0.3))
        jit = []
        for key in (("upper_lip", "left"), ("upper_lip", "right"), ("upper_eyelid", "left")):
            d = np.diff(lm.column(*key)[still], axis=0)
            d = d[np.all(np.isfinite(d), axis=1)]
            jit.append(1.4826 * np.median(np.abs(d - np.median(d, 0))))
        print(
            f"  {mode:5s}: {fps:5.1f} frames/s (with flow); landmarks show "
            f"{np.median(ratios):.2f} of the injected amplitude (range {np.min(ratios):.2f}-"
            f"{np.max(ratios):.2f}), peak lag {1000 * np.median(lags):+.0f} ms; jitter "
            f"{np.mean(jit):.3f} mm/frame; region flow shows {np.median(flow_ratios):.2f}"
        )


if __name__ == "__main__":
    main()
