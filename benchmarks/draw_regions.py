"""Draw facetwitch's region -> landmark table on a real face: ``docs/regions.png``.

The face is scikit-image's public-domain astronaut photo (NASA portrait of Eileen Collins),
fetched sha256-pinned through :func:`facetwitch._media.astronaut_fetch` exactly as the tests'
``astronaut_png`` fixture does. Real MediaPipe FaceLandmarker (facetwitch's own
:class:`~facetwitch.landmarks.tracker.FaceTracker`, IMAGE mode, model from
:func:`~facetwitch.landmarks.model.model_resolve`) gives the 478 landmarks in pixels.

On a crop around the face, upscaled to ``--width`` px, it draws for every (region, side) of
:data:`facetwitch.regions.REGION_LANDMARKS`:

- the region's landmarks (filled dots, one colour per region) and a label ``<region> L|R``
  near the region's centre (with a thin leader line when it had to move away);
- the disk the optical-flow stage samples (:meth:`RegionFlow._measure
  <facetwitch.landmarks.flow.RegionFlow>`): centred on the mean of the region's landmarks,
  radius ``round(REGION_RADIUS * FLOW_FACE_WIDTH_PX)`` crop pixels, i.e. about
  ``REGION_RADIUS`` x face width, face width = max x - min x of all 478 landmarks;

and the :data:`~facetwitch.regions.RIGID_LANDMARKS` (head-motion anchors, white diamonds, with
the smaller disks the rigid fit samples) and the :data:`~facetwitch.regions.IRIS_HORIZONTAL`
points (white crosses). Sides are the patient's own: in this unmirrored photo the patient's left
is on the image right.

The output is deterministic for a given OpenCV / MediaPipe / model: a palette PNG (the photo in
grey, the drawing in colour).

    python benchmarks/draw_regions.py [--out docs/regions.png] [--width 900]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402  (before anything that may import av)
import numpy as np  # noqa: E402

from facetwitch import _media  # noqa: E402
from facetwitch.landmarks.flow import FLOW_FACE_WIDTH_PX, REGION_RADIUS  # noqa: E402
from facetwitch.landmarks.model import model_resolve  # noqa: E402
from facetwitch.landmarks.tracker import FaceTracker  # noqa: E402
from facetwitch.landmarks.video import Frame  # noqa: E402
from facetwitch.regions import (  # noqa: E402
    IRIS_HORIZONTAL,
    REGION_LANDMARKS,
    RIGID_LANDMARKS,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "regions.png"

#: Region -> BGR colour (distinct hues, readable on a grey photo).
COLOURS: dict[str, tuple[int, int, int]] = {
    "brow": (0, 150, 255),  # orange
    "upper_eyelid": (255, 0, 255),  # magenta
    "lower_eyelid": (255, 140, 0),  # azure
    "cheek": (0, 210, 0),  # green
    "nose": (0, 255, 255),  # yellow
    "upper_lip": (40, 40, 255),  # red
    "mouth_corner": (255, 255, 0),  # cyan
    "lower_lip": (255, 90, 170),  # violet
    "chin": (90, 255, 190),  # lime
}
RIGID_COLOUR = (255, 255, 255)  # white diamonds
IRIS_COLOUR = (255, 255, 255)  # white crosses
SIDE_LETTER = {"left": "L", "right": "R"}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def landmarks_find(rgb: np.ndarray, model_path: Path) -> np.ndarray:
    """Return the 478 landmarks of the face in ``rgb`` (upright RGB), (478, 2) in pixels."""
    with FaceTracker(model_path, mode="image", flow=False) as tracker:
        result = tracker.process(Frame(0, 0.0, rgb))
    if not result.found:
        raise SystemExit("MediaPipe found no face in the astronaut photo")
    return result.points[:, :2]


def _text(img, s, org, scale, colour, thick=1) -> None:
    """Text with a dark outline, readable on any background.

    The outline is the text drawn in black at 1 px offsets (a thicker stroke would not do:
    OpenCV 5's fonts advance wider with thickness).
    """
    x, y = org
    for dx, dy in ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)):
        cv2.putText(img, s, (x + dx, y + dy), FONT, scale, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, s, org, FONT, scale, colour, thick, cv2.LINE_AA)


def _overlaps(box, boxes) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _label_place(centre, side, size, taken, points, shape, step):
    """Top-left of a label box near ``centre``.

    The first candidate clear of other labels, landmark dots and disk rims, trying outward (toward
    the patient's side) first, then up and down.
    """
    w, h = size
    out = 1 if side == "left" else -1  # patient's left = image right
    cx, cy = centre
    cands = []
    for k in range(1, 8):
        d = k * step
        cands += [
            (cx + out * d + (0 if out > 0 else -w), cy - h / 2),  # outward
            (cx - w / 2, cy - d - h),  # above
            (cx - w / 2, cy + d),  # below
            (cx + out * d + (0 if out > 0 else -w), cy - d - h),  # outward, above
            (cx + out * d + (0 if out > 0 else -w), cy + d),  # outward, below
        ]
    pad = 3
    for x, y in cands:
        box = (x - pad, y - pad, x + w + pad, y + h + pad)
        if box[0] < 0 or box[1] < 0 or box[2] > shape[1] or box[3] > shape[0]:
            continue
        inside = (points[:, 0] > box[0]) & (points[:, 0] < box[2])
        inside &= (points[:, 1] > box[1]) & (points[:, 1] < box[3])
        if not inside.any() and not _overlaps(box, taken):
            return int(round(x)), int(round(y)), box
    x, y = cands[0]
    return int(round(x)), int(round(y)), (x, y, x + w, y + h)


def regions_draw(rgb: np.ndarray, xy: np.ndarray, *, width: int = 900) -> np.ndarray:
    """BGR drawing of the region table on a crop of ``rgb`` around the landmarks ``xy``."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    face_w = float(hi[0] - lo[0])  # as RegionFlow._measure: all 478 landmarks
    pad = np.array([0.22, 0.12]) * face_w
    x0, y0 = np.maximum(np.floor(lo - pad), 0).astype(int)
    x1 = int(min(rgb.shape[1], np.ceil(hi[0] + pad[0])))
    y1 = int(min(rgb.shape[0], np.ceil(hi[1] + pad[1])))
    scale = width / (x1 - x0)
    size = (width, int(round((y1 - y0) * scale)))
    grey = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC)
    grey = (grey.astype(np.float32) * 0.75 + 20).round().astype(np.uint8)  # dimmed: dots pop
    img = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    p = (xy - [x0, y0]) * scale  # landmarks in drawing pixels

    def ipt(q):
        return int(round(q[0])), int(round(q[1]))

    # The disks the flow samples, in full-frame pixels, then drawing pixels.
    crop_px = face_w / FLOW_FACE_WIDTH_PX  # full-frame px per flow-crop px
    region_r = max(2, int(round(REGION_RADIUS * FLOW_FACE_WIDTH_PX))) * crop_px * scale
    rigid_r = max(2, int(round(0.03 * FLOW_FACE_WIDTH_PX))) * crop_px * scale
    dot = max(3, int(round(width / 220)))

    # rigid anchors: their sample disks (thin), then white diamonds
    for i in RIGID_LANDMARKS:
        cv2.circle(img, ipt(p[i]), int(round(rigid_r)), (170, 170, 170), 1, cv2.LINE_AA)
    for i in RIGID_LANDMARKS:
        cv2.drawMarker(img, ipt(p[i]), (0, 0, 0), cv2.MARKER_DIAMOND, 4 * dot, 4, cv2.LINE_AA)
        cv2.drawMarker(img, ipt(p[i]), RIGID_COLOUR, cv2.MARKER_DIAMOND, 4 * dot, 2, cv2.LINE_AA)
    # iris diameter ends
    for side in ("right", "left"):
        a, b = IRIS_HORIZONTAL[side]
        cv2.line(img, ipt(p[a]), ipt(p[b]), IRIS_COLOUR, 1, cv2.LINE_AA)
        for i in (a, b):
            cv2.drawMarker(img, ipt(p[i]), (0, 0, 0), cv2.MARKER_CROSS, 4 * dot, 4, cv2.LINE_AA)
            cv2.drawMarker(img, ipt(p[i]), IRIS_COLOUR, cv2.MARKER_CROSS, 4 * dot, 2, cv2.LINE_AA)

    # regions: sample disk and centre cross, then the landmark dots
    centres = {}
    for (region, side), idx in REGION_LANDMARKS.items():
        c = p[list(idx)].mean(axis=0)
        centres[region, side] = c
        colour = COLOURS[region]
        cv2.circle(img, ipt(c), int(round(region_r)), (0, 0, 0), 4, cv2.LINE_AA)
        cv2.circle(img, ipt(c), int(round(region_r)), colour, 2, cv2.LINE_AA)
        cv2.drawMarker(img, ipt(c), colour, cv2.MARKER_CROSS, 2 * dot, 1, cv2.LINE_AA)
    for (region, _side), idx in REGION_LANDMARKS.items():
        for i in idx:
            cv2.circle(img, ipt(p[i]), dot + 1, (0, 0, 0), -1, cv2.LINE_AA)
            cv2.circle(img, ipt(p[i]), dot, COLOURS[region], -1, cv2.LINE_AA)

    # labels near each centre, clear of each other, of the dots and of the disks
    fscale = width / 1650
    all_pts = p[sorted({i for idx in REGION_LANDMARKS.values() for i in idx})]
    rim = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    rims = [c + region_r * np.c_[np.cos(rim), np.sin(rim)] for c in centres.values()]
    avoid = np.concatenate([all_pts, *rims])
    taken: list = []
    for (region, side), c in centres.items():
        s = f"{region} {SIDE_LETTER[side]}"
        (tw, th), base = cv2.getTextSize(s, FONT, fscale, 1)
        x, y, box = _label_place(c, side, (tw, th + base), taken, avoid, img.shape,
                                 step=region_r * 0.8)  # fmt: skip
        taken.append(box)
        bx = min(max(c[0], box[0]), box[2])
        by = min(max(c[1], box[1]), box[3])
        if np.hypot(bx - c[0], by - c[1]) > 1.6 * region_r:
            cv2.line(img, ipt(c), ipt((bx, by)), COLOURS[region], 1, cv2.LINE_AA)
        _text(img, s, (x, y + th), fscale, COLOURS[region])

    # legend, in a band under the photo
    ls = width / 1700
    (_, lh), _ = cv2.getTextSize("Ag", FONT, ls, 1)
    row = int(round(lh * 2.0))
    band = np.full((5 * row + row // 2, width, 3), 32, np.uint8)
    col2 = width // 2
    _text(band, "L = patient's left (image right)", (10, row), ls, (255, 255, 255))
    _text(band, "R = patient's right (image left)", (10, 2 * row), ls, (255, 255, 255))
    sym = int(round(lh * 0.7))  # legend symbol radius (not to scale)
    cv2.circle(band, (22, 3 * row - lh // 2), sym, COLOURS["upper_lip"], 2, cv2.LINE_AA)
    _text(band, f"flow disk: r = {REGION_RADIUS} x face width", (40, 3 * row), ls,
          (255, 255, 255))  # fmt: skip
    cv2.circle(band, (22, 4 * row - lh // 2), dot, COLOURS["upper_lip"], -1, cv2.LINE_AA)
    _text(band, "region landmark (REGION_LANDMARKS)", (40, 4 * row), ls, (255, 255, 255))
    mk = (col2 + 12, row - lh // 2)
    cv2.drawMarker(band, mk, RIGID_COLOUR, cv2.MARKER_DIAMOND, 4 * dot, 2, cv2.LINE_AA)
    _text(band, "rigid anchor (RIGID_LANDMARKS)", (col2 + 30, row), ls, (255, 255, 255))
    cv2.circle(band, (col2 + 12, 2 * row - lh // 2), sym, (170, 170, 170), 1, cv2.LINE_AA)
    _text(band, "its flow disk (head motion fit)", (col2 + 30, 2 * row), ls, (255, 255, 255))
    mk = (col2 + 12, 3 * row - lh // 2)
    cv2.drawMarker(band, mk, IRIS_COLOUR, cv2.MARKER_CROSS, 4 * dot, 2, cv2.LINE_AA)
    _text(band, "iris diameter ends (IRIS_HORIZONTAL)", (col2 + 30, 3 * row), ls,
          (255, 255, 255))  # fmt: skip
    foot = "Photo: NASA (public domain), scikit-image astronaut.png; landmarks: MediaPipe"
    _text(band, foot, (10, 5 * row), ls * 0.9, (190, 190, 190))
    return np.vstack([img, band])


def png_write(path: Path, bgr: np.ndarray) -> None:
    """Write ``bgr`` as a small palette PNG, deterministically.

    The palette is fixed: every drawing colour exactly, black, white and the remaining entries
    a grey ramp (the photo is grey); each pixel takes its nearest entry, without dithering.
    """
    from PIL import Image

    fixed = {(0, 0, 0), (255, 255, 255), (170, 170, 170), (32, 32, 32), (190, 190, 190)}
    fixed |= {c[::-1] for c in COLOURS.values()} | {RIGID_COLOUR[::-1], IRIS_COLOUR[::-1]}
    fixed = sorted(fixed)
    n_grey = 256 - len(fixed)
    greys = [(g, g, g) for g in np.linspace(0, 255, n_grey).round().astype(int).tolist()]
    palette = fixed + greys
    pal = Image.new("P", (1, 1))
    pal.putpalette([v for rgb in palette for v in rgb])
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    im = Image.fromarray(rgb).quantize(palette=pal, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, optimize=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    ap.add_argument("--width", type=int, default=900, help="drawing width in px")
    args = ap.parse_args(argv)

    photo = _media.astronaut_fetch(echo=lambda s: print(s, file=sys.stderr))
    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    model = model_resolve()
    xy = landmarks_find(rgb, model.path)
    img = regions_draw(rgb, xy, width=args.width)
    png_write(args.out, img)
    face_w = xy[:, 0].max() - xy[:, 0].min()
    kb = args.out.stat().st_size / 1e3
    print(f"{args.out}: {img.shape[1]}x{img.shape[0]}, {kb:.0f} kB (face width {face_w:.0f} px "
          f"in the 512x512 photo; model sha256 {model.sha256[:12]})")  # fmt: skip


if __name__ == "__main__":
    main()
