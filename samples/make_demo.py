"""Make samples/demo_upper_lip.mp4 and its truth from scikit-image's public-domain astronaut photo.

The photo (NASA portrait of Eileen Collins, public domain, shipped as ``skimage/data/astronaut.png``
in scikit-image) is fetched sha256-pinned out of the scikit-image 0.26.0 wheel into facetwitch's
cache, exactly as the test suite's ``astronaut_png`` fixture does (the wheel is never installed).
Then:

1. a clean clip: the face cropped and enlarged to 480x360, 30 fps, 15 s, with gentle, slow
   synthetic head motion (translation of a few px, roll of about 2 deg, zoom of about 3%);
2. :func:`facetwitch.simulation.twitch_simulate` plans upper-lip twitches on the patient's LEFT
   (image right: the video is not mirrored) moving up-left (35-55 deg in the CONVENTIONS face
   frame, 0 = toward the patient's left, 90 = up; 1.5-2.5 mm; some bursts) and a few blinks,
   with a fixed seed;
3. :func:`facetwitch.simulation.video_inject` warps them in and writes the demo and its truth.

Re-runnable: ``/work/venv/bin/python samples/make_demo.py`` (same seed, same plan; the encoder
output may differ by a few bytes between x264 builds).
"""

from __future__ import annotations

import json
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from facetwitch import _media
from facetwitch.simulation import twitch_simulate, video_inject

HERE = Path(__file__).resolve().parent
OUT = HERE / "demo_upper_lip.mp4"

FPS = 30
DURATION_S = 15.0
SIZE = (480, 360)  # output width, height
CROP_CENTRE = (225.0, 122.0)  # face centre in the 512x512 photo, px
ZOOM = 2.0  # output px per photo px
SEED = 20210217  # the consult's date
N_TWITCHES, N_BLINKS = 7, 3


def astronaut_path() -> Path:
    """scikit-image's astronaut.png, fetched sha256-pinned (facetwitch._media)."""
    return _media.astronaut_fetch()


def head_pose(t: float) -> tuple[float, float, float, float]:
    """Slow synthetic head motion at ``t`` s: (dx px, dy px, roll deg, zoom factor)."""
    dx = 7.0 * np.sin(2 * np.pi * 0.11 * t) + 2.0 * np.sin(2 * np.pi * 0.31 * t + 1.0)
    dy = 4.0 * np.sin(2 * np.pi * 0.17 * t + 0.5)
    roll = 2.0 * np.sin(2 * np.pi * 0.13 * t + 0.3)
    zoom = 1.0 + 0.03 * np.sin(2 * np.pi * 0.07 * t + 1.0)
    return float(dx), float(dy), float(roll), float(zoom)


def render(photo_rgb: np.ndarray, t: float) -> np.ndarray:
    """One clean frame: the face crop under the head pose of time ``t``."""
    w, h = SIZE
    dx, dy, roll, zoom = head_pose(t)
    m = cv2.getRotationMatrix2D(CROP_CENTRE, roll, ZOOM * zoom)
    m[0, 2] += w / 2 - CROP_CENTRE[0] + dx
    m[1, 2] += h / 2 - CROP_CENTRE[1] + dy
    return cv2.warpAffine(
        photo_rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101
    )


def write_frames(path: Path, frame_at, *, size=SIZE, fps=FPS, duration_s=DURATION_S) -> None:
    """Write ``frame_at(t_s) -> RGB`` for t = 0, 1/fps, ... nearly losslessly (crf 8).

    With exact timestamps (time base 1/15360 s).
    """
    tb = Fraction(1, 15360)
    with av.open(str(path), mode="w") as c:
        st = c.add_stream("libx264", rate=fps)
        st.width, st.height = size
        st.pix_fmt = "yuv420p"
        st.time_base = tb
        st.codec_context.time_base = tb
        st.options = {"crf": "8", "preset": "veryfast"}
        for i in range(int(round(duration_s * fps))):
            t = i / fps
            vf = av.VideoFrame.from_ndarray(frame_at(t), format="rgb24")
            vf.pts, vf.time_base = int(round(t / tb)), tb
            c.mux(st.encode(vf))
        c.mux(st.encode(None))


def main() -> None:
    """Make the demo clip and its truth from the astronaut photo."""
    photo = cv2.cvtColor(cv2.imread(str(astronaut_path())), cv2.COLOR_BGR2RGB)
    events = twitch_simulate(
        N_TWITCHES,
        DURATION_S,
        regions=["upper_lip"],
        sides=["left"],
        amplitude_mm=(1.5, 2.5),
        direction_deg=(35.0, 55.0),
        burst_fraction=0.25,
        n_blinks=N_BLINKS,
        min_spacing_s=1.2,
        margin_s=0.8,
        seed=SEED,
    )
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "astronaut_clean.mp4"
        write_frames(clean, lambda t: render(photo, t))
        truth = video_inject(clean, OUT, events, crf=18)
    truth["source"] = (
        "astronaut.png (scikit-image 0.26.0; NASA, public domain), cropped to the face, "
        "synthetic head motion; made by samples/make_demo.py"
    )
    truth["source_sha256"] = _media.ASTRONAUT_SHA256
    truth["seed"] = SEED
    OUT.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    n_tw = sum(e["kind"] == "twitch" for e in truth["events"])
    print(
        f"{OUT}: {OUT.stat().st_size / 1e6:.2f} MB, {truth['frames']} frames, "
        f"{n_tw} twitches, {len(truth['events']) - n_tw} blinks, "
        f"px_per_mm {truth['px_per_mm']}, skipped {truth['skipped_events']}"
    )


if __name__ == "__main__":
    main()
