"""Region -> MediaPipe landmark index table (478-point mesh). Data, not logic.

Sides are the patient's own: in an unmirrored video the patient's right is on the image left.
Indices were checked by drawing them on real frames (``docs/regions.png``, made by
``benchmarks/draw_regions.py``). The rigid set anchors the face frame: points that facial
spasms move least (forehead, nose bridge, temples).
"""

from __future__ import annotations

#: (region, side) -> landmark indices that outline / sample the region.
REGION_LANDMARKS: dict[tuple[str, str], tuple[int, ...]] = {
    ("upper_lip", "right"): (185, 40, 39, 37, 191, 80, 81, 82),
    ("upper_lip", "left"): (409, 270, 269, 267, 415, 310, 311, 312),
    ("lower_lip", "right"): (146, 91, 181, 84, 95, 88, 178, 87),
    ("lower_lip", "left"): (375, 321, 405, 314, 324, 318, 402, 317),
    ("mouth_corner", "right"): (61, 78, 62, 76),
    ("mouth_corner", "left"): (291, 308, 292, 306),
    ("upper_eyelid", "right"): (160, 159, 158, 161, 157),
    ("upper_eyelid", "left"): (387, 386, 385, 388, 384),
    ("lower_eyelid", "right"): (144, 145, 153, 163, 154),
    ("lower_eyelid", "left"): (373, 374, 380, 390, 381),
    ("cheek", "right"): (50, 101, 118, 36, 205),
    ("cheek", "left"): (280, 330, 347, 266, 425),
    ("brow", "right"): (70, 63, 105, 66, 107, 46, 53, 52, 65, 55),
    ("brow", "left"): (300, 293, 334, 296, 336, 276, 283, 282, 295, 285),
    ("nose", "right"): (129, 98, 64, 48),
    ("nose", "left"): (358, 327, 294, 278),
    # inside the face outline, on the chin pad (mentalis): the outline points 148/176/149/150
    # that an earlier table used sit on the jaw edge, where the face meets the neck
    ("chin", "right"): (208, 171, 140, 201),
    ("chin", "left"): (428, 396, 369, 421),
}

#: Ordered list of (region, side) pairs; the order of ``region_flow`` columns in a track.
REGION_KEYS: tuple[tuple[str, str], ...] = tuple(REGION_LANDMARKS)

#: Landmarks that spasms move least: forehead, nose bridge, temples.
RIGID_LANDMARKS: tuple[int, ...] = (10, 151, 9, 8, 168, 6, 197, 195, 109, 338, 67, 297, 54, 284)

#: Iris rings: (left-end, right-end) of the horizontal iris diameter, per patient side.
IRIS_HORIZONTAL = {"right": (469, 471), "left": (474, 476)}

#: Inner-lip (upper, lower) landmark pairs, one each side of the midline: the mouth's opening
#: (talking, laughing) on either side.
LIP_APERTURE_PAIRS = {"right": (82, 87), "left": (312, 317)}

#: Outer eye corners: the vector right->left points toward the patient's left.
EYE_OUTER_CORNER = {"right": 33, "left": 263}


def region_key_name(region: str, side: str) -> str:
    """Column name of a (region, side) pair, e.g. ``upper_lip_left``."""
    return f"{region}_{side}"
