"""Words and number formats of the reports: every number becomes text here, once.

Used by :mod:`facetwitch.reports.text` (sentences, table rows), the plots and the key frames,
so that report.html, report.pdf and summary.txt cannot format one number two ways.
"""

from __future__ import annotations

import math

from .._text import plural

REGION_LABELS = {
    "upper_lip": "upper lip", "lower_lip": "lower lip", "mouth_corner": "corner of the mouth",
    "upper_eyelid": "upper eyelid", "lower_eyelid": "lower eyelid", "cheek": "cheek",
    "brow": "eyebrow", "nose": "nose", "chin": "chin",
}  # fmt: skip
DIRECTION_PHRASES = {
    "left": "to the left", "up-left": "up and to the left", "up": "up",
    "up-right": "up and to the right", "right": "to the right",
    "down-right": "down and to the right", "down": "down", "down-left": "down and to the left",
}  # fmt: skip
VERDICT_LABELS = {
    "agrees": "agrees", "differs": "differs", "no_data": "nothing to compare",
    "not_measurable": "cannot be measured from video",
}  # fmt: skip
ASPECT_LABELS = {
    "region": "Where", "side": "Side", "direction": "Direction", "frequency": "How often",
    "duration": "How long", "sensation": "Feeling",
}  # fmt: skip

#: Causes of time that cannot be assessed (``BAD_`` annotation descriptions), in words:
#: ``(label, while-phrase, while-phrase said to the patient)``. Others read from their name.
BAD_WORDS = {
    "BAD_talking": ("talking", "while talking", "while you were talking"),
    "BAD_expression": ("facial expression", "during a facial expression",
                       "during a facial expression"),
    "BAD_head_motion": ("head movement", "during head movement", "while your head moved"),
    "BAD_noisy": ("noisy measurement", "while the measurement was noisy",
                  "while the measurement was noisy"),
    "BAD_occlusion": ("face covered or touched", "while the face was covered or touched",
                      "while your face was covered or touched"),
    "BAD_frozen": ("picture frozen", "while the picture was frozen",
                   "while the picture was frozen"),
    "BAD_out_of_frame": ("face partly out of the picture",
                         "while part of the face was out of the picture",
                         "while part of your face was out of the picture"),
    "BAD_face_lost": ("face not found", "while the face was not found",
                      "where your face was not found"),
}  # fmt: skip


def bad_label(description: str) -> str:
    """``talking`` for ``BAD_talking`` (a description facetwitch does not know: its name)."""
    if description in BAD_WORDS:
        return BAD_WORDS[description][0]
    return str(description).removeprefix("BAD_").replace("_", " ") or "not assessed"


def bad_while(description: str, *, you: bool = False) -> str:
    """``while talking`` (``while you were talking`` with ``you``) for ``BAD_talking``."""
    if description in BAD_WORDS:
        return BAD_WORDS[description][2 if you else 1]
    return f"during {bad_label(description)}" if description else "in time not assessed"


# -- number formats (the only place numbers become text) -----------------------------------
def _finite(x) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def fmt_mm(x, decimals: int = 1) -> str:
    """``1.6 mm`` (one decimal)."""
    return f"{x:.{decimals}f} mm" if _finite(x) else "–"


def fmt_deg(x) -> str:
    """``112°`` (whole degrees)."""
    return f"{x:.0f}°" if _finite(x) else "–"


def fmt_s(x, decimals: int = 2) -> str:
    """``0.24 s``."""
    return f"{x:.{decimals}f} s" if _finite(x) else "–"


def fmt_time(x) -> str:
    """Format a time in the recording.

    A time in the recording: ``12.3 s``.
    """
    return f"{x:.1f} s" if _finite(x) else "–"


def fmt_clock(t, whole_s=None) -> str:
    """Format a time in the recording as a video player shows it.

    A time in the recording: ``12.3 s``; in a recording of 2 minutes or more ``45:12.3``
    (``1:02:03.4`` past the hour), as a video player shows it.
    """
    if not _finite(t):
        return "–"
    if not (_finite(whole_s) and whole_s >= 120):
        return fmt_time(t)
    tenths = int(round(float(t) * 10))
    s, tenth = divmod(tenths, 10)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}.{tenth}" if h else f"{m}:{sec:02d}.{tenth}"


def fmt_length(duration_s) -> str:
    """Format a recording length.

    Recording length: ``62 s`` (``2.4 s`` under 10 s, ``60.2 min`` from 2 minutes).
    """
    if not _finite(duration_s):
        return "–"
    if duration_s >= 120:
        return f"{duration_s / 60:.1f} min"
    return f"{duration_s:.0f} s" if duration_s >= 10 else f"{duration_s:.1f} s"


def fmt_rate(x, decimals: int = 0) -> str:
    """``14/min``."""
    return f"{x:.{decimals}f}/min" if _finite(x) else "–"


def fmt_pct(x) -> str:
    """``98%``."""
    return f"{100 * x:.0f}%" if _finite(x) else "–"


def _num(x, decimals: int) -> str:
    return f"{x:.{decimals}f}" if _finite(x) else "–"


def region_label(region: str) -> str:
    """``upper lip`` for ``upper_lip``."""
    return REGION_LABELS.get(region, str(region).replace("_", " "))


def side_phrase(side: str, *, you: bool = True) -> str:
    """``on your left side`` / ``on both sides`` (anatomical)."""
    if side == "both":
        return "on both sides"
    return f"on your {side} side" if you else f"on the patient's {side} side"


def duration_words(d) -> str:
    """``about a quarter of a second (0.24 s)``."""
    if not _finite(d):
        return ""
    if d < 0.15:
        words = "a brief flick"
    elif d < 0.38:
        words = "about a quarter of a second"
    elif d < 0.65:
        words = "about half a second"
    elif d < 1.3:
        words = "about a second"
    elif d < 3.0:  # 1.4 s or 2.2 s is not "several seconds"
        words = "over a second"
    else:
        words = "several seconds"
    return f"{words} ({fmt_s(d)})"


_plural = plural  # the command line and the capture use it too, without the reports


def fmt_span(seconds, whole_s) -> str:
    """Format a stretch of time in the unit that suits ``whole_s``.

    A stretch of time in the unit that suits ``whole_s`` (the recording's length): ``8.4 s``
    under 2 minutes, else ``21.5 min``.
    """
    if not _finite(seconds):
        return "–"
    return f"{seconds / 60:.1f} min" if _finite(whole_s) and whole_s >= 120 else f"{seconds:.1f} s"


def fmt_per_min(x) -> str:
    """Format a rate with its unit in words.

    A rate said with its unit in words: ``19.5 a minute``.
    """
    return f"{x:.1f} a minute" if _finite(x) else "–"


def kinds_said(rows: list[dict]) -> str:
    """``1 twitch, 6 blinks and 44 other movements``: the kinds of event rows, none said as 0.

    It had been "0 twitches, 3 blinks or movements" of three blinks (the PDF's events left
    out, and the blinks and movements seen in time not assessed).
    """
    twitches = sum(e["kind"] == "twitch" for e in rows)
    blinks = sum(e["kind"] == "blink" for e in rows)
    others = len(rows) - twitches - blinks
    parts = [plural(n, word) for n, word in ((twitches, "twitch"), (blinks, "blink"),
                                             (others, "other movement")) if n]  # fmt: skip
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
