"""Units, sides, directions and vocabularies of CONVENTIONS.md, as code.

Every number facetwitch prints follows these:

- time in seconds from presentation timestamps (PTS), t = 0 at the first decoded frame;
- space in millimetres, scale from the iris (:data:`IRIS_DIAMETER_MM`);
- ``left`` / ``right`` are the patient's own (anatomical) sides;
- face-frame axes: +x toward the patient's left, +y up (toward the forehead);
- ``direction_deg`` = degrees(atan2(y, x)) in [0, 360): 0 = patient's left, 90 = up.
"""

from __future__ import annotations

import numpy as np

#: Horizontal visible iris diameter taken as the scale reference, in mm.
IRIS_DIAMETER_MM = 11.7

#: report.json's schema version (CONVENTIONS.md); "2" added assessable time (annotations,
#: ``counted``, ``summary.assessable_s``, marker verdicts). Reports of version "1" still render.
SCHEMA_VERSION = "2"
SCHEMA_VERSIONS_READ = ("1", "2")

#: No frame for longer than this (seconds) is a gap in the video's time (a paused recording,
#: a broken file): nothing is measured across it, and it is reported as a gap
#: (facetwitch.signal.timing).
GAP_S = 1.0

REGIONS = (
    "upper_lip",
    "lower_lip",
    "mouth_corner",
    "upper_eyelid",
    "lower_eyelid",
    "cheek",
    "brow",
    "nose",
    "chin",
)
SIDES = ("left", "right", "both")
EVENT_KINDS = ("twitch", "blink", "movement")

#: The fields of a report.json event, in order (CONVENTIONS.md's, then facetwitch's extras):
#: :meth:`facetwitch.signal.Event.to_dict` writes them, events.csv has one column each.
EVENT_FIELDS = (
    "id",
    "kind",
    "region",
    "side",
    "t_start_s",
    "t_peak_s",
    "t_end_s",
    "duration_s",
    "amplitude_mm",
    "direction_deg",
    "direction",
    "co_occurring",
    "confidence",
    "counted",
    "annotation",
    "pulse_count",
    "frames_missing",
    "snr",
    "also_moved",
    "reason_code",
    "reason",
)

#: Why an event is not a twitch (``reason_code`` -> the words reports show as ``reason``).
EVENT_REASONS = {
    "": "",
    "blink": "both upper eyelids",
    "with_blink": "small, during a blink",
    "bilateral": "both sides moved",
    "slow": "too slow for a twitch",
    "expression": "facial expression",
    "widespread": "many regions moved",
    "head_motion": "fast head motion",
    "sustained": "sustained one-sided contraction (a tonic spasm, or a one-sided expression held)",
}

#: Eye and mouth twitches of one side peaking this close (seconds) co-occur: the
#: hemifacial-spasm sign (``co_occurring``).
CO_OCCURRENCE_S = 0.15

#: Typical adult spontaneous blink rate at rest, per minute (shown for context).
TYPICAL_BLINK_RATE_PER_MIN = (8, 21)

#: Below this fraction of frames with a face, the report says the face was lost for a while
#: (and some twitches may have been missed).
FACE_FOUND_WARN = 0.95

#: Over this fraction of the face time with the mouth moving as in talking
#: (``quality.mouth_active_s``), the report warns that such movement can look like twitches.
#: Measured: 0 on every calm and at-rest clip; 0.20-0.78 on real talking, smiling and laughing
#: footage (benchmarks/README.md).
MOUTH_ACTIVE_WARN = 0.1


def turned_message(turn_deg: int) -> str:
    """Return the warning for frames turned ``turn_deg`` degrees clockwise before tracking."""
    how = "upside down" if turn_deg == 180 else "on its side"
    return (f"the face lay {how} in the picture: every frame was turned {turn_deg}° clockwise "
            "before tracking (the file's rotation tag is missing or wrong); sides and "
            "directions are the patient's own, as always")  # fmt: skip


def display_flip_message(mirrored: bool | None) -> str:
    """Return the warning for a file whose display matrix mirrors its picture.

    ``mirrored``: ``--mirrored`` was given too (None: not known yet, as when tracking).
    """
    head = (
        "the file asks players to show its picture mirrored (a display flip, as some phones "
        "save front-camera video): it was analysed as the camera recorded it, unmirrored"
    )
    if mirrored is None:
        return head + ": sides and directions are the patient's own without --mirrored"
    if not mirrored:
        return head + ", so sides and directions are the patient's own"
    return (head + "; --mirrored was given too, so the sides were swapped as it asks: leave it "
            "out if the video looked mirrored only when played")  # fmt: skip


def interlaced_message(fps: float) -> str:
    """Return the warning for an interlaced video, deinterlaced before analysis.

    ``fps``: its frame rate (frames, not fields, per second; NaN: not known).
    """
    apart = f"1/{2 * fps:.0f} s" if np.isfinite(fps) and fps > 0 else "half a frame"
    return (f"the video is interlaced (each frame holds two fields filmed {apart} apart, as "
            "camcorders, capture cards and TV recordings store 1080i, 576i and 480i; where "
            "anything moved between them the frame combs, which reads as movement): "
            "deinterlaced before analysis, one frame for each frame, at its own time, with "
            "the first field's lines and the other field's filled in, so fine detail that "
            "moved is softer; film progressive (1080p, 720p) when you can")  # fmt: skip


def mouth_warned(mouth_active_s: float, face_s: float) -> bool:
    """Return True when the mouth moved as in talking for too much of the face video.

    True when the mouth moved as in talking (``quality.mouth_active_s``) for more than
    :data:`MOUTH_ACTIVE_WARN` of ``face_s`` seconds of face video: the report says so.
    """
    return face_s > 0 and mouth_active_s / face_s > MOUTH_ACTIVE_WARN


#: Eight direction words, sector centres at 0, 45, ... 315 deg (0 = toward the patient's left).
DIRECTION_WORDS = ("left", "up-left", "up", "up-right", "right", "down-right", "down", "down-left")

#: Regions of the eye and of the mouth: a twitch of each on one side within ~150 ms is the
#: hemifacial-spasm sign.
EYE_REGIONS = ("upper_eyelid", "lower_eyelid", "brow")
MOUTH_REGIONS = ("upper_lip", "lower_lip", "mouth_corner", "cheek", "chin")


def direction_deg(dx: float | np.ndarray, dy: float | np.ndarray) -> float | np.ndarray:
    """Direction of a face-frame vector in degrees, in [0, 360).

    ``dx`` is toward the patient's left, ``dy`` up; 0 = left, 90 = up, 180 = right, 270 = down.
    """
    deg = np.degrees(np.arctan2(dy, dx)) % 360.0
    if np.ndim(deg) == 0:
        deg = float(deg)
        return 0.0 if deg >= 360.0 else deg
    return np.where(deg >= 360.0, 0.0, deg)


def direction_word(deg: float) -> str:
    """Eight-sector word for ``deg`` (sectors of 45 deg centred on 0, 45, ...)."""
    if not np.isfinite(deg):
        raise ValueError(f"direction must be finite, got {deg!r}")
    return DIRECTION_WORDS[int(np.floor(((deg % 360.0) + 22.5) / 45.0)) % 8]


def word_to_deg(word: str) -> float:
    """Centre angle of a direction word (inverse of :func:`direction_word`)."""
    return 45.0 * DIRECTION_WORDS.index(word)


def circular_mean_deg(angles_deg: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Circular mean of angles in degrees, in [0, 360); NaN for no angles."""
    a = np.radians(np.asarray(angles_deg, dtype=float))
    if a.size == 0:
        return float("nan")
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float)
    s, c = np.sum(w * np.sin(a)), np.sum(w * np.cos(a))
    if np.hypot(s, c) < 1e-12:
        return float("nan")
    return float(direction_deg(c, s))


def angle_diff_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two angles, in [0, 180]."""
    d = abs((a - b + 180.0) % 360.0 - 180.0)
    return float(d)


#: Twitches whose directions lie within this many degrees of their mean, in a majority, move
#: "in" that direction; otherwise their mean says little, and they moved in varying directions
#: (:func:`directions_varied`). Half a sector either side of the mean word's 45-degree sector.
DIRECTION_CONSISTENT_DEG = 45.0


def directions_varied(angles_deg, mean_deg: float) -> bool:
    """Return whether two or more twitch directions scatter too widely for their mean to stand.

    True when no more than half of ``angles_deg`` lie within :data:`DIRECTION_CONSISTENT_DEG`
    of ``mean_deg`` (e.g. one twitch up-right and one to the left: their mean, up-left, is
    neither).
    """
    angles = [float(a) for a in angles_deg if np.isfinite(a)]
    if len(angles) < 2 or not np.isfinite(mean_deg):
        return False
    near = sum(angle_diff_deg(a, mean_deg) <= DIRECTION_CONSISTENT_DEG for a in angles)
    return 2 * near <= len(angles)


def flip_side(side: str) -> str:
    """Swap ``left`` and ``right`` (``both`` stays)."""
    return {"left": "right", "right": "left"}.get(side, side)


def round_or_none(x: float | None, nd: int) -> float | None:
    """``x`` rounded to ``nd`` decimals as a Python float; None for None, NaN or infinity.

    report.json is strict JSON: a number that was not measured is ``null``, never NaN.
    """
    return round(float(x), nd) if x is not None and np.isfinite(x) else None


def counted(event: dict) -> bool:
    """Whether an event of report.json is counted.

    An event whose peak lies in time that could not be assessed has ``counted`` false
    (schema 2); a schema-1 event has no such field and counts.
    """
    return event.get("counted", True) is not False


def counted_twitches(events) -> list[dict]:
    """Return the counted twitches among ``events`` (report.json's events), in their order."""
    return [
        e for e in events or [] if isinstance(e, dict) and e.get("kind") == "twitch" and counted(e)
    ]
