"""Make ``demo_face.npz``: one frame's 478 landmarks (and 52 blendshapes) of the project's demo.

The fast signal tests build synthetic tracks on a real face's geometry (``tests/synth.py``).
That face is the first frame (t = 0 s, before any injected event) of
``samples/demo_upper_lip.mp4``, which this project made from a public-domain NASA photo
(``samples/README.md``), as MediaPipe's Face Landmarker (the pinned model, IMAGE mode) places
it. Committed (about 6 KB), so those tests run offline without the model.

Re-make it (it changes only if the demo, the model or MediaPipe changes)::

    /work/venv/bin/python tests/data/make_demo_face.py

``demo_face.npz`` holds ``points`` (478, 3) float32 px (x, y in the 480x360 frame, z on the
x scale; the tracker's own float32 precision), ``blendshapes`` (52,) float32, and
``source`` (a JSON string: the video, its sha256, the frame, the model's sha256, the
MediaPipe version).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent.parent / "samples" / "demo_upper_lip.mp4"
OUT = HERE / "demo_face.npz"


def main() -> None:
    """Track the demo's first frame and write :data:`OUT`."""
    from importlib.metadata import version

    from facetwitch.landmarks.model import model_resolve
    from facetwitch.landmarks.tracker import FaceTracker
    from facetwitch.landmarks.video import VideoReader, file_sha256

    model = model_resolve()
    with VideoReader(DEMO) as reader:
        frame = next(iter(reader))
    with FaceTracker(model.path, mode="image", flow=False) as tracker:
        r = tracker.process(frame)
    if not r.found:
        raise SystemExit(f"{DEMO}: no face in frame {frame.index}")
    source = {
        "video": "samples/demo_upper_lip.mp4",
        "video_sha256": file_sha256(DEMO),
        "frame_index": int(frame.index),
        "t_s": float(frame.t_s),
        "frame_size": [int(frame.rgb.shape[1]), int(frame.rgb.shape[0])],
        "model_sha256": model.sha256,
        "mediapipe": version("mediapipe"),
        "mode": "image",
        "made_by": "tests/data/make_demo_face.py",
    }
    np.savez_compressed(
        OUT,
        points=r.points.astype(np.float32),
        blendshapes=r.blendshapes.astype(np.float32),
        source=np.array(json.dumps(source)),
    )
    print(f"{OUT}: {OUT.stat().st_size} bytes; {source}")


if __name__ == "__main__":
    main()
