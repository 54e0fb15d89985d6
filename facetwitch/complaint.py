"""The patient's own description, as claims, checked against the measurements.

Two public steps:

- :func:`complaint_parse` turns free text ("my upper lip twitches upwards and to the left,
  several times a day, and feels numb") into :class:`Claim` objects, one per aspect
  (``region``, ``side``, ``direction``, ``frequency``, ``duration``, ``sensation``);
  :func:`complaint_from_flags` makes the same claims from explicit command-line flags.
- :func:`complaint_check` compares claims with a report.json dict and returns CONVENTIONS.md's
  ``complaint`` object: ``{"text", "claims": [{"aspect", "claimed", "measured", "verdict"}]}``.

Parsing is deterministic keyword / regular-expression matching (English), no learned model.

Sides and directions (the frame of reference)
---------------------------------------------
Claimed values use CONVENTIONS.md's vocabularies: sides and horizontal directions are the
**patient's own** (anatomical). A side or direction the patient writes is taken as their own,
unless the sentence (or the sentence just before it) says it is seen *from outside*: a
friend's or other person's view, "in the video", "on screen", "in the photo". Then ``left`` and
``right`` are flipped, because someone facing the patient sees the patient's left on their
right. A mirror shows the patient's left on the left, so "in the mirror, to the left" is the
patient's left (no flip). When a sentence names *both* a mirror and an outside viewer (the
seed consult: "When I look in the mirror or when friends observe me closely ... The movement
is upwards and to the left"), the mirror wins: the patient is the one describing the
direction, and what she saw herself was her mirror image; the claim gets a ``note`` saying
the reading was ambiguous. "my left", "my own left", "the patient's left" are always anatomical.

Side inferred from the direction
--------------------------------
When no side is named but the movement has a left/right component, the side claim is taken
from that component and marked ``inferred``: a one-sided twitch pulls the lip (or cheek, or
eyelid) toward the side of the contracting muscle, so "my upper lip moves up and to the left"
most plausibly describes the left side. The rendered table says that the side was inferred.

Vague words
-----------
"eye" / "eyelid" without upper/lower -> ``upper_eyelid`` with ``lower_eyelid`` also accepted;
"lip" without upper/lower -> ``upper_lip`` with ``lower_lip`` and ``mouth_corner`` also
accepted ("also" in :class:`Claim`). Negated sensations ("no pain", "doesn't hurt") are not
claims; similes ("almost like a paralysis") are not claims of weakness.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_option
from .conventions import (
    DIRECTION_WORDS,
    REGIONS,
    SIDES,
    angle_diff_deg,
    circular_mean_deg,
    counted_twitches,
    direction_word,
    flip_side,
    word_to_deg,
)

ASPECTS = ("region", "side", "direction", "frequency", "duration", "sensation")
VERDICTS = ("agrees", "differs", "no_data", "not_measurable")

#: Largest angle between the claimed direction word's centre and the measured mean direction
#: that still agrees, in degrees: for diagonal words (up-left) one sector; for words naming a
#: single axis (left, up) the patient usually names only the main component, so 67.5 deg.
#: Of two or more twitches, more than half must also lie that close to the claim themselves:
#: the mean of scattered directions can land on a claim no twitch moved along.
DIRECTION_TOLERANCE_DEG = {"diagonal": 45.0, "axis": 67.5}


@dataclass(frozen=True)
class Claim:
    """One thing the patient says about the twitch.

    Attributes
    ----------
    aspect : str
        One of ``region``, ``side``, ``direction``, ``frequency``, ``duration``, ``sensation``.
    claimed : str
        In CONVENTIONS' vocabulary for region / side (anatomical) / direction; the patient's
        phrase (normalised) for frequency and duration; a sensation word (``numb``, ``pain``,
        ``tingling``, ``burning``, ``itching``, ``weakness``) for sensation.
    evidence : str
        The words of the text the claim was read from ("" for flags).
    also : tuple of str
        Other values that also agree (a vague "eyelid" accepts upper and lower lid).
    inferred : bool
        True when the value was not written but inferred (side from the direction).
    note : str
        Why the claim was read the way it was (frame of reference, vagueness), or "".
    """

    aspect: str
    claimed: str
    evidence: str = ""
    also: tuple[str, ...] = field(default_factory=tuple)
    inferred: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        check_option("aspect", self.aspect, ASPECTS)
        if self.aspect == "region":
            check_option("region", self.claimed, REGIONS)
        elif self.aspect == "side":
            check_option("side", self.claimed, SIDES)
        elif self.aspect == "direction":
            check_option("direction", self.claimed, DIRECTION_WORDS)


# ------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------
_MIRROR = re.compile(r"\bmirror(?:ed)?\b", re.I)
_VIEWER = re.compile(
    r"\b(?:friends?|others|other people|people|(?:my\s+)?(?:wife|husband|partner|mother|mum|mom|"
    r"father|dad|sister|brother|colleagues?|boyfriend|girlfriend|doctor)\s+(?:says?|said|sees?|saw|"
    r"notice[sd]?|told|observe[sd]?|looks?|looked|watch(?:es|ed)?)|viewer|onlooker|"
    r"from (?:the )?outside|from the front|as (?:you|others|people) (?:look|see)|"
    r"in (?:the|my|this) (?:video|recording|clip|photo|picture|footage)|"
    r"on (?:the )?(?:screen|video|recording|photo|picture)|seen by|as seen from)\b",
    re.I,
)
_OWN = re.compile(r"\b(?:my own|patient'?s|anatomical|my)\s+(left|right)\b", re.I)

_REGION_PATTERNS: tuple[tuple[re.Pattern, str, tuple[str, ...], str], ...] = tuple(
    (re.compile(p, re.I), region, also, note)
    for p, region, also, note in (
        (r"\b(?:upper|top)\s+(?:(?:left|right)\s+)?lip\b|\blip,?\s+upper\b|\bupper-lip\b",
         "upper_lip", (), ""),
        (r"\b(?:lower|bottom)\s+(?:(?:left|right)\s+)?lip\b|\blower-lip\b", "lower_lip", (), ""),
        (r"\bcorners?\s+of\s+(?:my|the|her|his)\s+(?:mouth|lips?)\b|\bmouth\s+corners?\b|"
         r"\b(?:side|edge)\s+of\s+(?:my|the)\s+mouth\b", "mouth_corner", (), ""),
        (r"\b(?:upper|top)\s+(?:(?:left|right)\s+)?(?:eye)?lids?\b", "upper_eyelid", (), ""),
        (r"\b(?:lower|bottom)\s+(?:(?:left|right)\s+)?(?:eye)?lids?\b|\b(?:under|below)\s+"
         r"(?:my|the)\s+(?:(?:left|right)\s+)?eyes?\b|\btear\s+trough\b", "lower_eyelid", (), ""),
        (r"\bcheeks?\b|\bcheekbones?\b", "cheek", (), ""),
        (r"\b(?:eye)?brows?\b|\bforehead\b", "brow", (), ""),
        (r"\bnose\b|\bnostrils?\b", "nose", (), ""),
        (r"\bchin\b", "chin", (), ""),
    )
)  # fmt: skip
_VAGUE_REGIONS: tuple[tuple[re.Pattern, str, tuple[str, ...], str], ...] = (
    (re.compile(r"\b(?:eye)?lids?\b|\beyes?\b", re.I), "upper_eyelid", ("lower_eyelid",),
     "upper or lower eyelid not said; either agrees"),
    (re.compile(r"\blips?\b|\bmouth\b", re.I), "upper_lip", ("lower_lip", "mouth_corner"),
     "upper or lower lip not said; any part of the mouth agrees"),
)  # fmt: skip

_H = r"(left|right)"
_V = r"(up|upwards?|upward|down|downwards?|downward)"
_DIRECTION_COMBINED = (
    # "upwards and to the left", "up-left", "up to the left", "upward and left"
    re.compile(rf"\b{_V}\s*(?:-|,|and|&)?\s*(?:to(?:wards?)?\s+)?(?:the\s+|my\s+)?{_H}\b"
               r"(?!\s+(?:side|eye|lip|cheek|brow|corner|half))", re.I),
    # "to the left and up", "left and upwards"
    re.compile(rf"\b(?:to(?:wards?)?\s+(?:the\s+|my\s+)?)?{_H}(?:wards?)?\s*(?:and|,|&)\s*{_V}\b",
               re.I),
    # "to the upper left", "toward the lower right"
    re.compile(rf"\bto(?:wards?)?\s+(?:the\s+|my\s+)?(upper|lower)\s*-?\s*{_H}\b"
               r"(?!\s+(?:side|eye|lip|cheek|brow|corner|half|lid|eyelid))", re.I),
)  # fmt: skip
_DIRECTION_H = re.compile(
    rf"\bto(?:wards?)?\s+(?:the\s+|my\s+)?{_H}\b(?!\s+(?:eye|lip|cheek|brow|corner|lid|eyelid))"
    rf"|\b{_H}wards?\b|\b(?:pull\w*|jerk\w*|mov\w*|go\w*|drawn|drag\w*)\s+{_H}\b",
    re.I,
)
_DIRECTION_V = re.compile(
    r"\b(upwards?|upward|downwards?|downward)\b|\b(?:pull\w*|jerk\w*|mov\w*|goes|going|lift\w*|"
    r"twitch\w*|drawn|raise\w*|jump\w*|flick\w*)\s+(?:\w+\s+)?(up|down)\b",
    re.I,
)
_SIDE = re.compile(
    r"\b(?:on\s+(?:the|my)\s+)?(left|right)\b(?!\s*(?:-|and\s+|&\s*)?(?:up|down))(?!wards?)"
    r"|\b(both)\s+(?:sides|eyes|lips|cheeks|eyelids|lids|corners)\b|\bon\s+(both)\s+sides?\b",
    re.I,
)
_SENSATIONS = (
    (re.compile(r"\bnumb(?:ness)?\b|\bno feeling\b|\bdead feeling\b", re.I), "numb"),
    (re.compile(r"\bpain(?:ful)?\b|\bhurts?\b|\bhurting\b|\baches?\b|\baching\b|\bsore\b", re.I),
     "pain"),
    (re.compile(r"\btingl\w*\b|\bpins and needles\b|\bprickl\w*\b", re.I), "tingling"),
    (re.compile(r"\bburn(?:ing|s)?\b", re.I), "burning"),
    (re.compile(r"\bitch(?:y|ing|es)?\b", re.I), "itching"),
    (re.compile(r"\bweak(?:ness)?\b|\bparaly\w*\b|\bdroop\w*\b|\bpalsy\b", re.I), "weakness"),
)  # fmt: skip
_NEGATION = re.compile(r"\b(?:no|not|without|never|nor|neither)\b|n't\b", re.I)
_SIMILE = re.compile(r"\b(?:like|as if|as though|similar to)\s+(?:a\s+|an\s+)?$", re.I)

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "once": 1, "two": 2, "twice": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a few": 3, "few": 3,
    "several": 4, "many": 10, "a couple of": 2, "couple of": 2, "dozens of": 30,
}  # fmt: skip
_PER_MIN = {"second": 60.0, "sec": 60.0, "minute": 1.0, "min": 1.0, "hour": 1 / 60,
            "day": 1 / 1440, "week": 1 / 10080}  # fmt: skip
_NUM = r"(\d+|a few|few|a couple of|couple of|dozens of|several|many|one|two|three|four|five|six|seven|eight|nine|ten|once|twice)"  # noqa: E501
_UNIT = r"(second|sec|minute|min|hour|day|week)s?"
_FREQ_TIMES = re.compile(rf"\b{_NUM}(?:\s+times?)?\s+(?:a|an|per|each|every)\s+{_UNIT}\b", re.I)
_FREQ_EVERY = re.compile(rf"\bevery\s+(?:{_NUM}\s+)?{_UNIT}\b", re.I)
_FREQ_CONSTANT = re.compile(
    r"\b(?:constantly|continuously|continuous|constant|all the time|non-?stop|nonstop|"
    r"all day(?: long)?)\b",
    re.I,
)
_FREQ_VAGUE = re.compile(
    r"\b(?:frequently|often|(?:several|many) times|repeatedly|on and off|now and then|"
    r"occasionally|sometimes|from time to time|daily|every day)\b",
    re.I,
)
_DURATION_HISTORY = re.compile(
    rf"\b(?:for|over)\s+(?:the\s+)?(?:past|last)?\s*(?:about\s+|around\s+|almost\s+|nearly\s+)?"
    rf"(?:{_NUM}|\d+)?\s*(?:days?|weeks?|months?|years?)\b|\bsince\s+(?:yesterday|last\s+\w+|"
    r"\w+day|\d{4}|a\s+(?:few\s+)?(?:days?|weeks?|months?))\b", re.I)  # fmt: skip
_DURATION_EPISODE = re.compile(
    rf"\b(?:lasts?|lasting|takes?)\s+(?:for\s+)?(?:about\s+|around\s+|only\s+|just\s+)?"
    rf"(?:{_NUM}|\d+(?:\.\d+)?|a split|half a|a fraction of a|an?)\s*(second|sec|minute|min)s?\b"
    r"|\b(?:split[- ]second|a fraction of a second|brief(?:ly)?|quick|short)\b", re.I)  # fmt: skip
_NUMBER_FLOAT = re.compile(r"\d+(?:\.\d+)?")


#: The longest description read, in characters (about 1,500 words, three pages). A patient's
#: description is a few sentences; a longer text is refused before anything runs rather than
#: read in part (:func:`complaint_text_check`). The parser itself takes time in proportion to
#: the text at any length (benchmarks/complaint_cost.py).
MAX_COMPLAINT_CHARS = 10_000

#: How far back (characters) a negation or a simile is looked for before a word.
_LOOK_BACK = 40


def complaint_text_check(text: str) -> str:
    """Check a description before anything is run on it; return it ready to parse and store.

    Bytes that were not UTF-8 text (Python hands them over as lone surrogates, e.g. from a
    Latin-1 terminal) become U+FFFD with a :class:`~facetwitch.errors.FacetwitchWarning`, so
    that every output can hold the text. Longer than :data:`MAX_COMPLAINT_CHARS` characters:
    :class:`~facetwitch.errors.UsageError` (exit 2), before the model runs.

    Parameters
    ----------
    text : str
        The description as given.

    Returns
    -------
    str
        The description, with undecodable bytes as U+FFFD.
    """
    import warnings

    from ._text import text_clean
    from .errors import FacetwitchWarning, UsageError

    if not isinstance(text, str):
        raise TypeError(f"complaint text must be a str, got {type(text).__name__}")
    if len(text) > MAX_COMPLAINT_CHARS:
        raise UsageError(
            f"the description is {len(text):,} characters long; facetwitch reads at most "
            f"{MAX_COMPLAINT_CHARS:,} (about 1,500 words): keep what describes the twitch "
            "(where, which side, which direction, how often)"
        )
    clean = text_clean(text)
    if clean != text:
        warnings.warn(
            "the description holds bytes that are not UTF-8 text; they are shown as \ufffd "
            "(use --complaint-file with a UTF-8 file to keep every character)",
            FacetwitchWarning,
            stacklevel=2,
        )
    # control characters (NUL, ESC, ...) but tab and line breaks: no writing has them, and
    # HTML may not hold them (a NUL from a --complaint-file went raw into report.html)
    plain = _CONTROL.sub("\ufffd", clean)
    if plain != clean:
        warnings.warn(
            "the description holds control characters (such as NUL or ESC); they are shown "
            "as \ufffd",
            FacetwitchWarning,
            stacklevel=2,
        )
    return plain


#: C0 and C1 control characters and DEL, but tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def complaint_read(path) -> str:
    """Read the patient's description from a UTF-8 text file.

    The description in a UTF-8 text file (``--complaint-file``).

    Raises :class:`~facetwitch.errors.InputError` (exit 3) for a file that is missing, a
    directory, or not UTF-8 text, and :class:`~facetwitch.errors.UsageError` (exit 2) for one
    far longer than :data:`MAX_COMPLAINT_CHARS` (read no further than that). A UTF-8 byte order
    mark is dropped.

    Parameters
    ----------
    path : str or PathLike
        The file.

    Returns
    -------
    str
        Its text.
    """
    from pathlib import Path

    from .errors import InputError, UsageError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a text file")
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):  # a FIFO would be waited on for ever: refused, as for a video
        from ._files import _kind

        raise InputError(f"{path}: is {_kind(mode)}, not a text file")
    limit = 4 * MAX_COMPLAINT_CHARS + 8  # UTF-8 takes at most 4 bytes a character (+ a BOM)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise UsageError(
            f"{path}: the description is over {limit:,} bytes long; facetwitch reads at most "
            f"{MAX_COMPLAINT_CHARS:,} characters (about 1,500 words)"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Windows Notepad's "Unicode"
        raise InputError(f"{path}: UTF-16 text, not UTF-8; save the description as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the description as UTF-8 text"
        ) from None
    if not text.strip():
        import warnings

        from .errors import FacetwitchWarning

        warnings.warn(f"{path}: the description file is empty: there is nothing to compare "
                      "the measurements with", FacetwitchWarning, stacklevel=2)  # fmt: skip
    return text


def _whitespace_normalised(text: str) -> str:
    r"""``text`` with every run of white space one space, or one line break if it holds one.

    Runs of white space made the parser's regular expressions backtrack over every way of
    sharing the run between neighbouring ``\s*`` (30,000 spaces after "for" took hours); one
    character of white space leaves each of them one way to match.
    """
    return re.sub(r"\s+", lambda m: "\n" if "\n" in m.group() else " ", text).strip()


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;])\s+|\n+", text.strip())
    return [p.strip() for p in parts if p.strip()]


class _Covered:
    """Track which character positions of a sentence are covered.

    Character positions of a sentence covered by earlier matches: O(1) to ask, O(length of
    the matches) to fill (a list of spans asked with ``any(...)`` made long texts quadratic).
    """

    def __init__(self, n: int):
        self._mask = bytearray(n + 1)

    def add(self, start: int, end: int) -> None:
        end = min(end, len(self._mask))
        if end > start:
            self._mask[start:end] = b"\x01" * (end - start)

    def __contains__(self, pos: int) -> bool:
        return bool(self._mask[pos])


def _frame(sentence: str, previous: str | None) -> tuple[str, str]:
    """Frame of reference of ``sentence`` (``own`` / ``mirror`` / ``viewer``) and a note."""
    for s in (sentence, previous or ""):
        mirror, viewer = bool(_MIRROR.search(s)), bool(_VIEWER.search(s))
        if mirror and viewer:
            return "mirror", (
                "mirror and onlookers both mentioned: read as seen in the mirror, where "
                "left is the patient's left"
            )
        if mirror:
            return "mirror", "seen in a mirror: left is the patient's left"
        if viewer:
            return "viewer", "seen from outside, facing the patient: left/right swapped"
    return "own", ""


def _to_anatomical(side: str, frame: str, start: int, sentence: str) -> str:
    """Patient's own side for a left/right word at ``start`` of ``sentence``."""
    own = _OWN.search(sentence[max(0, start - 16) : start + 6])
    if frame == "viewer" and not own:
        return flip_side(side)
    return side


def _vertical(word: str) -> str:
    return "up" if word.lower().startswith("up") or word.lower() == "upper" else "down"


def _combine(vertical: str | None, horizontal: str | None) -> str | None:
    if vertical and horizontal:
        return f"{vertical}-{horizontal}"
    return vertical or horizontal


def _directions(sentence: str, frame: str) -> list[tuple[str, str, int]]:
    """Direction words in ``sentence``: (word, evidence, position)."""
    found: list[tuple[str, str, int]] = []
    taken = _Covered(len(sentence))
    for i, pattern in enumerate(_DIRECTION_COMBINED):
        for m in pattern.finditer(sentence):
            if i == 1:
                h, v = m.group(1), m.group(2)
                h_at = m.start(1)
            else:
                v, h = m.group(1), m.group(2)
                h_at = m.start(2)
            h = _to_anatomical(h.lower(), frame, h_at, sentence)
            found.append((_combine(_vertical(v), h), m.group(0), m.start()))
            taken.add(*m.span())
    if found:
        return found

    h_word, v_word, ev, pos = None, None, [], None
    for m in _DIRECTION_H.finditer(sentence):
        if m.start() not in taken:
            g = next(x for x in m.groups() if x)
            h_word = _to_anatomical(g.lower(), frame, m.start(), sentence)
            ev.append(m.group(0))
            pos = m.start() if pos is None else pos
            break
    for m in _DIRECTION_V.finditer(sentence):
        if m.start() not in taken:
            g = next(x for x in m.groups() if x)
            v_word = _vertical(g)
            ev.append(m.group(0))
            pos = m.start() if pos is None else min(pos, m.start())
            break
    word = _combine(v_word, h_word)
    return [(word, " ... ".join(ev), pos or 0)] if word else []


def _before(sentence: str, start: int) -> str:
    """Return the characters of ``sentence`` just before ``start``.

    The :data:`_LOOK_BACK` characters of ``sentence`` before ``start``.
    """
    return sentence[max(0, start - _LOOK_BACK) : start]


def _negated(sentence: str, start: int) -> bool:
    before = re.split(r"[,;:]|\bbut\b|\bhowever\b", _before(sentence, start))[-1]
    words = re.findall(r"[\w']+", before)[-4:]
    return bool(_NEGATION.search(" ".join(words)))


def _simile_before(sentence: str, start: int) -> bool:
    """Whether ``sentence`` says "like a" / "similar to" just before ``start``."""
    return bool(_SIMILE.search(_before(sentence, start)))


def _frequency(text: str) -> Claim | None:
    for pattern in (_FREQ_TIMES, _FREQ_EVERY, _FREQ_CONSTANT, _FREQ_VAGUE):
        m = pattern.search(text)
        if m:
            phrase = re.sub(r"\s+", " ", m.group(0).lower())
            return Claim("frequency", phrase, evidence=m.group(0))
    return None


@dataclass
class _Read:
    """What has been read so far, one claim per aspect value, in the order first read."""

    regions: dict[str, Claim] = field(default_factory=dict)
    sides: dict[str, Claim] = field(default_factory=dict)
    directions: dict[str, Claim] = field(default_factory=dict)
    sensations: dict[str, Claim] = field(default_factory=dict)
    durations: dict[str, Claim] = field(default_factory=dict)


def _regions_read(sentence: str, read: _Read) -> None:
    """Read the regions named in ``sentence``.

    Regions named in ``sentence``: specific phrases first, vague words ("lip", "eye") only
    where no specific one matched.
    """
    regions = read.regions
    covered = _Covered(len(sentence))
    for pattern, region, _also, _note in _REGION_PATTERNS:
        for m in pattern.finditer(sentence):
            covered.add(*m.span())
            regions.setdefault(region, Claim("region", region, evidence=m.group(0)))
    for pattern, region, also, note in _VAGUE_REGIONS:
        for m in pattern.finditer(sentence):
            if m.start() in covered:
                continue
            if _simile_before(sentence, m.start()):
                continue  # "similar to an eyelid twitch" names no region
            if region in regions or (
                region == "upper_lip" and {"lower_lip", "mouth_corner"} & regions.keys()
            ):
                continue
            if region == "upper_eyelid" and "lower_eyelid" in regions:
                continue
            regions.setdefault(
                region, Claim("region", region, evidence=m.group(0), also=also, note=note)
            )


def _directions_read(sentence: str, frame: str, note: str, read: _Read) -> _Covered:
    """Read the directions named in ``sentence``.

    Directions (movement) in ``sentence``; returns the positions they cover, which are not
    sides (location): "to the left" is a direction.
    """
    covered = _Covered(len(sentence))
    for word, evidence, pos in _directions(sentence, frame):
        covered.add(pos, pos + len(evidence))
        if word not in read.directions:
            read.directions[word] = Claim(
                "direction", word, evidence=evidence, note=note if frame != "own" else ""
            )
    return covered


def _sides_read(sentence: str, frame: str, note: str, directions: _Covered, read: _Read) -> None:
    """Sides named in ``sentence`` outside its directions, as the patient's own."""
    for m in _SIDE.finditer(sentence):
        if m.start() in directions:
            continue
        pre = sentence[max(0, m.start() - 12) : m.start()].lower()
        if m.group(1) and re.search(r"\bto(?:wards?)?\s+(?:the\s+|my\s+)?$", pre):
            continue  # "to the left" is a direction, handled above
        side = _to_anatomical(m.group(1).lower(), frame, m.start(1), sentence) if m.group(1) \
            else "both"  # fmt: skip
        if side not in read.sides:
            read.sides[side] = Claim(
                "side", side, evidence=m.group(0),
                note=note if frame != "own" and side != "both" else "",
            )  # fmt: skip


def _sensations_read(sentence: str, read: _Read) -> None:
    """Sensations in ``sentence``, not negated ("no pain") nor similes ("like a paralysis")."""
    for pattern, word in _SENSATIONS:
        for m in pattern.finditer(sentence):
            if _negated(sentence, m.start()):
                continue
            if word == "weakness" and _simile_before(sentence, m.start()):
                continue
            read.sensations.setdefault(word, Claim("sensation", word, evidence=m.group(0)))


def _durations_read(sentence: str, read: _Read) -> None:
    """Read how long the problem and one twitch last from ``sentence``.

    How long the problem has lasted ("for the past few days") and how long one twitch lasts
    ("lasts a second") in ``sentence``.
    """
    for pattern, kind in ((_DURATION_HISTORY, "history"), (_DURATION_EPISODE, "episode")):
        for m in pattern.finditer(sentence):
            phrase = re.sub(r"\s+", " ", m.group(0).lower()).strip()
            read.durations.setdefault(
                phrase,
                Claim("duration", phrase, evidence=m.group(0),
                      note="how long the problem has lasted" if kind == "history"
                      else "how long one twitch lasts"),
            )  # fmt: skip


def _side_inferred(read: _Read) -> None:
    """Infer the side from a left/right direction when no side is named.

    With no side named, the side a left/right direction points to (a one-sided twitch pulls
    toward its own side), marked inferred.
    """
    if read.sides:
        return
    horizontal = [d for d in read.directions if d.split("-")[-1] in ("left", "right")]
    if horizontal:
        side = horizontal[0].split("-")[-1]
        read.sides[side] = Claim(
            "side", side, evidence=read.directions[horizontal[0]].evidence, inferred=True,
            note="no side named: taken from the direction (a one-sided twitch pulls toward "
            "its own side)",
        )  # fmt: skip


def _claims_ordered(read: _Read, frequency: Claim | None) -> list[Claim]:
    """Return the claims in a fixed order.

    The claims in the order region(s), side(s), direction(s), frequency, durations,
    sensations.
    """
    claims = [*read.regions.values(), *read.sides.values(), *read.directions.values()]
    if frequency is not None:
        claims.append(frequency)
    return claims + [*read.durations.values(), *read.sensations.values()]


def complaint_parse(text: str) -> list[Claim]:
    """Read a patient's free-text description into claims.

    Takes time in proportion to the text's length, whatever its content (white space runs,
    repeated keywords); :func:`complaint_text_check` bounds the length a user may give.

    Parameters
    ----------
    text : str
        The description, in English, e.g. "My upper lip twitches upwards and to the left
        several times a day; it feels numb."

    Returns
    -------
    list of Claim
        In the order region(s), side(s), direction(s), frequency, duration(s), sensation(s);
        each aspect value at most once. Sides and directions are anatomical (see the module
        docstring for the mirror / outside-viewer rule). Evidence is quoted with each run of
        white space as one space.

    Examples
    --------
    >>> [(c.aspect, c.claimed) for c in complaint_parse("My left lower eyelid twitches.")]
    [('region', 'lower_eyelid'), ('side', 'left')]
    """
    if not isinstance(text, str):
        raise TypeError(f"complaint text must be a str, got {type(text).__name__}")
    text = _whitespace_normalised(text)
    read = _Read()
    previous = None
    for sentence in _sentences(text):
        frame, frame_note = _frame(sentence, previous)
        _regions_read(sentence, read)
        directions = _directions_read(sentence, frame, frame_note, read)
        _sides_read(sentence, frame, frame_note, directions, read)
        _sensations_read(sentence, read)
        _durations_read(sentence, read)
        previous = sentence
    _side_inferred(read)
    return _claims_ordered(read, _frequency(text))


def complaint_from_flags(
    *,
    region: str | None = None,
    side: str | None = None,
    direction: str | None = None,
    frequency: str | None = None,
    sensation: str | None = None,
) -> list[Claim]:
    """Claims from explicit values (command-line flags), validated against the vocabularies.

    ``side`` and ``direction`` are the patient's own (anatomical), as in CONVENTIONS.md.
    """
    claims = []
    if region is not None:
        claims.append(Claim("region", check_option("region", region, REGIONS)))
    if side is not None:
        claims.append(Claim("side", check_option("side", side, SIDES)))
    if direction is not None:
        claims.append(Claim("direction", check_option("direction", direction, DIRECTION_WORDS)))
    if frequency is not None:
        claims.append(Claim("frequency", str(frequency).strip().lower()))
    if sensation is not None:
        claims.append(Claim("sensation", str(sensation).strip().lower()))
    return claims


def claims_text(claims: list[Claim]) -> str:
    """Return a one-line text for flag claims.

    A one-line text for flag claims: ``region=upper_lip, side=left``.
    """
    return ", ".join(f"{c.aspect}={c.claimed}" for c in claims)


# ------------------------------------------------------------------------------------------
# Checking claims against a report
# ------------------------------------------------------------------------------------------
def _twitches(report: dict) -> list[dict]:
    """Return the counted twitches.

    The counted twitches: a twitch peaking in time that cannot be assessed (``counted``
    false, schema 2) may be speech or a smile, and confirms nothing.
    """
    return counted_twitches(report.get("events"))


def _dominant(events: list[dict]) -> tuple[str, str] | None:
    """Most frequent (region, side) among ``events``; ties by summed amplitude, then name."""
    if not events:
        return None
    score: dict[tuple[str, str], list[float]] = {}
    for e in events:
        s = score.setdefault((e["region"], e["side"]), [0, 0.0])
        s[0] += 1
        s[1] += float(e.get("amplitude_mm") or 0.0)
    return sorted(score, key=lambda k: (-score[k][0], -score[k][1], k))[0]


def _by_region(report: dict, region: str, side: str) -> dict | None:
    for row in report.get("summary", {}).get("by_region", []):
        if row.get("region") == region and row.get("side") == side:
            return row
    return None


def mean_direction_deg(report: dict, region: str, side: str) -> float:
    """Return the mean twitch direction of one region and side.

    Mean twitch direction of one region x side: the summary's value, else the circular mean
    of its events' ``direction_deg`` (NaN if none).
    """
    row = _by_region(report, region, side)
    if row is not None and row.get("mean_direction_deg") is not None:
        return float(row["mean_direction_deg"])
    angles = [
        e["direction_deg"]
        for e in _twitches(report)
        if e["region"] == region and e["side"] == side and e.get("direction_deg") is not None
    ]
    return circular_mean_deg(np.asarray(angles, float))


def _relevant(claims: list[Claim], twitches: list[dict]) -> tuple[list[dict], set[str]]:
    """Twitches of the claimed region(s) if any were seen there, else all twitches."""
    wanted = set()
    for c in claims:
        if c.aspect == "region":
            wanted |= {c.claimed, *c.also}
    sel = [e for e in twitches if e["region"] in wanted]
    return (sel if sel else twitches), wanted


def _fmt_count(n: int, duration_s: float, assessable: bool = False) -> str:
    """Format a twitch count with the time it was counted in.

    ``9 in 62 s`` (``in 2.4 s`` under 10 s, ``in 45.2 min`` from 2 minutes), ``assessable``
    added for assessable time.
    """
    if duration_s >= 120:
        text = f"{n} in {duration_s / 60:.1f} min"
    else:
        text = f"{n} in {duration_s:.0f} s" if duration_s >= 10 else f"{n} in {duration_s:.1f} s"
    return text + " assessable" if assessable else text


def _claimed_rate_per_min(phrase: str) -> float | None:
    """Events per minute a frequency phrase states, or None when it states no rate."""
    m = _FREQ_TIMES.search(phrase)
    if m:
        n = m.group(1).lower()
        count = float(n) if n.isdigit() else _NUMBER_WORDS.get(n, 1)
        return count * _PER_MIN[m.group(2).lower()]
    m = _FREQ_EVERY.search(phrase)
    if m:
        n = (m.group(1) or "1").lower()
        every = float(n) if n.isdigit() else _NUMBER_WORDS.get(n, 1)
        return _PER_MIN[m.group(2).lower()] / every
    if _FREQ_CONSTANT.search(phrase):
        return float("inf")
    return None


def _check_frequency(
    claim: Claim, n: int, duration_s: float, *, assessable: bool = False
) -> tuple[str, str]:
    """Verdict of a frequency claim given ``n`` twitches in ``duration_s`` seconds.

    Rules: a rate of a few per day/hour, or a vague word ("frequently", "several times"),
    agrees with any twitch seen in the recording; with none seen it is ``no_data`` (a short
    recording can miss them). "constantly" / "all the time" agrees with >= 1 per minute and
    differs when none were seen in >= 30 s. A stated rate per minute or second agrees within a
    factor of 3 of the measured rate, and differs otherwise once the recording is long enough
    to expect >= 3 twitches at the lower of the two rates.
    """
    measured = _fmt_count(n, duration_s, assessable)
    minutes = duration_s / 60.0 if duration_s > 0 else float("nan")
    rate = _claimed_rate_per_min(claim.claimed)
    if rate is None or rate < 1 / 60:  # vague, or slower than one per hour
        return measured, ("agrees" if n > 0 else "no_data")
    measured_rate = n / minutes if minutes > 0 else float("nan")
    if rate == float("inf"):
        if n > 0 and measured_rate >= 1.0:
            return measured, "agrees"
        return measured, ("differs" if duration_s >= 30 else "no_data")
    if rate < 1.0:  # per hour, a few per minute at most: any twitch agrees
        return measured, ("agrees" if n > 0 else "no_data")
    if n > 0 and rate / 3 <= measured_rate <= rate * 3:
        return measured, "agrees"
    expected = min(rate, measured_rate if n else rate) * minutes
    return measured, ("differs" if expected >= 3 or n > 0 else "no_data")


def _check_episode(claim: Claim, durations_s: list[float]) -> tuple[str | None, str]:
    if not durations_s:
        return None, "no_data"
    med = float(np.median(durations_s))
    measured = f"median {med:.2f} s"
    phrase = claim.claimed
    m = _NUMBER_FLOAT.search(phrase)
    if m and re.search(r"min", phrase):
        want = float(m.group(0)) * 60
    elif m:
        want = float(m.group(0))
    elif re.search(r"\b(?:split|fraction|brief|quick|short)", phrase):
        want = 0.3
    elif re.search(r"half a", phrase):
        want = 0.5
    else:
        n = next((v for k, v in _NUMBER_WORDS.items() if re.search(rf"\b{k}\b", phrase)), 1)
        want = float(n) * (60 if "min" in phrase else 1)
    ok = want / 4 <= med <= want * 4 or (want <= 0.5 and med <= 1.0)
    return measured, ("agrees" if ok else "differs")


def _assessable_s(report: dict) -> float | None:
    """Return the assessable seconds of a report, or None.

    ``summary.assessable_s`` (schema 2: face time outside every ``BAD_`` span), or None for
    a report that does not hold it.
    """
    value = (report.get("summary") or {}).get("assessable_s")
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def _recorded_s(report: dict) -> float:
    """Return the seconds of video the measurements come from.

    Seconds of video the measurements come from: ``input.duration_s`` less the gaps in the
    video's timestamps (``quality.gaps_s``: a paused recording is not hours of watching). For
    a report without assessable time (schema 1).
    """
    duration_s = float(report.get("input", {}).get("duration_s") or 0.0)
    gaps = (report.get("quality") or {}).get("gaps_s") or []
    missing = sum(float(b) - float(a) for a, b in gaps if a is not None and b is not None)
    return max(0.0, duration_s - missing)


@dataclass(frozen=True)
class _Measured:
    """Hold what a claim is checked against.

    What a claim is checked against: the report, its twitches, and those of the claimed
    region(s) (all twitches if none there).
    """

    report: dict
    twitches: list[dict]
    relevant: list[dict]
    recorded_s: float
    #: True when ``recorded_s`` is the assessable time (schema 2), said as "9 in 62 s assessable".
    assessable: bool = False


def _check_sensation(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    return None, "not_measurable", "a video shows movement, not feeling"


def _check_frequency_claim(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    measured, verdict = _check_frequency(c, len(m.relevant), m.recorded_s, assessable=m.assessable)
    return measured, verdict, ""


def _check_duration(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    if c.note.startswith("how long the problem"):
        return None, "not_measurable", "one recording cannot show how many days it has gone on"
    measured, verdict = _check_episode(c, [float(e["duration_s"]) for e in m.relevant])
    return measured, verdict, ""


def _check_region(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    accepted = {c.claimed, *c.also}
    hits = [e for e in m.twitches if e["region"] in accepted]
    if hits:
        measured, verdict = _dominant(hits)[0], "agrees"
    else:
        measured, verdict = _dominant(m.twitches)[0], "differs"
    counts: dict[str, int] = {}
    for e in m.twitches:
        counts[e["region"]] = counts.get(e["region"], 0) + 1
    detail = ", ".join(f"{k.replace('_', ' ')}: {v}"
                       for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))  # fmt: skip
    return measured, verdict, detail


def _check_side(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    n_left = sum(e["side"] == "left" for e in m.relevant)
    n_right = sum(e["side"] == "right" for e in m.relevant)
    n_both = sum(e["side"] == "both" for e in m.relevant)
    if c.claimed == "both":
        measured = "both" if (n_left and n_right) or n_both else _dominant(m.relevant)[1]
        verdict = "agrees" if measured == "both" else "differs"
    else:
        measured = _dominant(m.relevant)[1]
        verdict = "agrees" if measured == c.claimed else "differs"
    detail = f"left: {n_left}, right: {n_right}" + (f", both: {n_both}" if n_both else "")
    return measured, verdict, detail


def _check_direction(c: Claim, m: _Measured) -> tuple[str | None, str, str]:
    region, side = _dominant(m.relevant)
    deg = mean_direction_deg(m.report, region, side)
    if not np.isfinite(deg):
        return None, "no_data", ""
    kind = "diagonal" if "-" in c.claimed else "axis"
    claimed, tol = word_to_deg(c.claimed), DIRECTION_TOLERANCE_DEG[kind]
    ok = angle_diff_deg(deg, claimed) <= tol
    detail = f"{deg:.0f}° mean of {region.replace('_', ' ')} ({side})"
    # the mean of scattered directions can land on the claim while no twitch moved that way
    # (one up-right and one to the left: mean up-left): a majority must move as claimed
    angles = [float(e["direction_deg"]) for e in m.relevant
              if (e["region"], e["side"]) == (region, side)
              and e.get("direction_deg") is not None]  # fmt: skip
    if len(angles) > 1:
        near = sum(angle_diff_deg(a, claimed) <= tol for a in angles)
        ok = ok and 2 * near > len(angles)
        detail += f"; {near} of {len(angles)} moved that way"
    return direction_word(deg), "agrees" if ok else "differs", detail


#: One checker per aspect: (claim, what was measured) -> (measured, verdict, detail).
_CHECKS = {
    "sensation": _check_sensation,
    "frequency": _check_frequency_claim,
    "duration": _check_duration,
    "region": _check_region,
    "side": _check_side,
    "direction": _check_direction,
}
#: Aspects that need twitches to compare with (none measured: ``no_data``).
_NEED_TWITCHES = ("region", "side", "direction")


def _claim_row(c: Claim, m: _Measured) -> dict:
    """One row of the ``complaint.claims`` list."""
    if c.aspect in _NEED_TWITCHES and not m.twitches:
        measured, verdict, detail = None, "no_data", "no twitches were measured"
    else:
        measured, verdict, detail = _CHECKS[c.aspect](c, m)
    if c.aspect in _NEED_TWITCHES and measured is None:
        verdict = "no_data"
    row: dict = {"aspect": c.aspect, "claimed": c.claimed, "measured": measured,
                 "verdict": verdict}  # fmt: skip
    if detail:
        row["detail"] = detail
    if c.inferred:
        row["inferred"] = True
    if c.note:
        row["note"] = c.note
    return row


def complaint_check(claims: list[Claim], report: dict, *, text: str | None = None) -> dict:
    """Compare claims with a report.json dict; CONVENTIONS.md's ``complaint`` object.

    Parameters
    ----------
    claims : list of Claim
        From :func:`complaint_parse` or :func:`complaint_from_flags`.
    report : dict
        A report.json dict (``events``, ``summary``, ``input.duration_s``, and
        ``quality.gaps_s`` if the video's timestamps jump).
    text : str, optional
        The patient's text; defaults to a ``aspect=value`` line of the claims (flags).

    Returns
    -------
    dict
        ``{"text": str, "claims": [{"aspect", "claimed", "measured", "verdict", ...}]}``, with
        ``note`` / ``inferred`` / ``detail`` added where they say something.

    Notes
    -----
    Only counted ``twitch`` events count: blinks and voluntary movements never confirm a
    claim, nor do twitches peaking in time that could not be assessed (``counted`` false: they
    may be speech or a smile).

    - **region**: agrees when at least one twitch was measured in the claimed region (or a
      region a vague word also accepts); ``measured`` is that region, else the dominant one
      (most twitches), and the verdict is ``differs``. No twitches at all: ``no_data``.
    - **side**: among the twitches of the claimed region (all twitches if none there), the
      side with most twitches is ``measured``; ``both`` agrees when both sides twitched.
    - **direction**: the mean direction of the dominant region x side of those twitches
      (report summary's ``mean_direction_deg``, else the circular mean of the events), as a
      word; agrees within :data:`DIRECTION_TOLERANCE_DEG` of the claimed word's centre.
    - **frequency**: see :func:`_check_frequency`, on the twitches of the claimed region (all
      twitches if none there), over the assessable time (``summary.assessable_s``; for a
      schema-1 report, the recorded time, the gaps in the video's timestamps left out);
      ``measured`` is "9 in 62 s assessable" ("9 in 62 s" for schema 1).
    - **duration**: how long the problem has lasted (days, weeks) is ``not_measurable``; how
      long one twitch lasts is compared with the median twitch duration (within a factor 4).
    - **sensation** (numbness, pain, ...): ``not_measurable``: video shows movement only.
    """
    twitches = _twitches(report)
    relevant, _wanted = _relevant(claims, twitches)
    assessable_s = _assessable_s(report)
    seconds = _recorded_s(report) if assessable_s is None else assessable_s
    measured = _Measured(report, twitches, relevant, seconds, assessable_s is not None)
    rows = [_claim_row(c, measured) for c in claims]
    return {"text": claims_text(claims) if text is None else text, "claims": rows}
