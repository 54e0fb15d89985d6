"""Words and numbers of the report, formatted once, used by every output.

:func:`report_facts` turns a report.json dict into the strings that the HTML, the PDF and
``summary.txt`` print, so that the three cannot disagree with each other or with report.json
(one source of truth: every number is formatted here, from the report's own fields).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from statistics import median

from .._text import display_name, isolated, json_text_clean, path_info_clean
from .._validate import json_checked
from ..conventions import (
    EVENT_REASONS,
    EYE_REGIONS,
    FACE_FOUND_WARN,
    MOUTH_REGIONS,
    SCHEMA_VERSIONS_READ,
    TYPICAL_BLINK_RATE_PER_MIN,
    counted_twitches,
    direction_word,
    directions_varied,
    mouth_warned,
)
from ..conventions import counted as is_counted
from ..errors import InputError
from .assess import (
    assessable_sentence,
    has_assessable_time,
    marker_rows,
    markers_sentence,
    recording_s,
    uncounted_sentence,
)
from .schema import references_problem, report_problem
from .words import (
    ASPECT_LABELS,
    DIRECTION_PHRASES,
    VERDICT_LABELS,
    _finite,
    _num,
    _plural,
    bad_while,
    duration_words,
    fmt_clock,
    fmt_deg,
    fmt_length,
    fmt_mm,
    fmt_pct,
    fmt_per_min,
    fmt_rate,
    fmt_s,
    fmt_span,
    kinds_said,
    region_label,
    side_phrase,
)

#: Said when a description was given but nothing in it could be read as a claim.
COMPLAINT_UNREAD = (
    "Nothing in it could be compared with the measurements: facetwitch reads descriptions in "
    "English of where the twitch is (e.g. upper lip, left eyelid), on which side, in which "
    "direction and how often it comes."
)

#: The millimetres limit of a report whose amplitudes are corrected for what the flow and the
#: video's encoding lose (``detector.amplitude_gain`` > 1, facetwitch.signal.FLOW_AMPLITUDE_GAIN):
#: per-clip median of reported over injected, 0.70-1.10 on the real and calm benchmark clips.
MM_LIMIT_CORRECTED = (
    "Millimetres come from the iris (11.7 mm), corrected for what video loses (0.7-1.1 of the "
    "true size in tests). "
)
#: ... of a report whose sizes were also read at the camera's frames (``detector.
#: peak_on_frames``): median reported over injected size by source 0.76-1.12
#: (benchmarks/README.md, "Eleventh round").
MM_LIMIT_FRAMES = (
    "Millimetres come from the iris (11.7 mm), corrected for what video loses (0.75-1.1 of the "
    "true size in tests). "
)
#: ... of a report of raw readings (made before the correction, or with ``amplitude_gain`` 1).
MM_LIMIT_RAW = (
    "Millimetres come from the iris (11.7 mm) and read small (0.7-0.8 of the true size in tests). "
)
#: What is found by size: real faces at rest with injected twitches, as a phone records them
#: (benchmarks/compressed.py at CRF 18: six clips, seeds 0-5, 130 twitches in assessable time).
SMALL_LIMIT = (
    "Twitches under 1 mm are mostly missed (tests at rest found 5 of 28; 81 of 102 over 1 mm): "
    "none found does not rule them out."
)
#: ... of a report whose video was tested for it (``summary.sensitivity``): its own figures
#: are in the summary.
SMALL_LIMIT_TESTED = (
    "Small twitches are often missed; how small a twitch this video could show was tested by "
    "adding synthetic ones to it (see the summary): none found does not rule them out."
)
#: How many counted twitches are false: the same benchmark, counted twitches with no injected
#: one near, per assessable minute (0.8 at CRF 18; 1.6 at CRF 23 and 4.0 at CRF 28, the same
#: clips encoded once harder, as a messaging app would).
FALSE_LIMIT = (
    "Not every counted twitch is real: tests on real faces at rest counted 0.8 false ones a "
    "minute, and up to 4 a minute on video compressed again (by a messaging app, say). One "
    "twitch alone is weak evidence; the same region, side and direction again and again is strong."
)
#: ... in a report made by an earlier detector (no ``detector.peak_on_frames``), whose false
#: twitches were not measured as these were: the advice without the figures.
FALSE_LIMIT_EARLIER = (
    "Not every counted twitch is real. One twitch alone is weak evidence; the same region, side "
    "and direction again and again is strong."
)


def _limits(mm_limit: str, false_limit: str = FALSE_LIMIT) -> tuple[str, ...]:
    """Return the report's limits, with ``mm_limit`` and ``false_limit`` as those of its detector.

    The PDF keeps room for the first three (the rest, on a full page, are said to be in
    report.html): what a clinician needs to read a count comes first.
    """
    return (
        "This is a measurement, not a diagnosis. Only a doctor who examines you can say what "
        "causes the twitches.",
        mm_limit + SMALL_LIMIT,
        false_limit,
        "A video shows movement only: it cannot measure numbness, pain, tingling or weakness you "
        "feel, nor how many days the problem has lasted.",
        "One recording shows one moment. Twitches that come a few times a day may not appear in "
        "a short video.",
        "More reliable: good, even light, the camera at arm's length, head still, facing the "
        "camera, no glasses if you can, face relaxed and silent (talk and smiles look like "
        "twitches), at least 60 s while it twitches, at 30 fps or more; press the marker key when "
        "you feel a twitch.",
    )


#: The limits of a report of corrected amplitudes (:func:`limits` words them per report).
LIMITS = _limits(MM_LIMIT_FRAMES)


# ------------------------------------------------------------------------------------------
def _no_constant(name: str):
    """Refuse ``NaN``/``Infinity`` in a report.json: facetwitch writes null, JSON has neither."""
    raise ValueError(f"{name} is not a JSON number (facetwitch writes null for a missing value)")


def report_load(report: dict | str | os.PathLike) -> dict:
    """Load a report.json (a dict or a path), checked against its JSON Schema.

    A report.json that is not one facetwitch wrote (hand-edited, damaged) raises
    :class:`InputError` naming the first field that is missing or of the wrong type
    (:mod:`facetwitch.reports.schema`). A schema-1 report is checked against the schema's
    version-1 branch, then upgraded (:func:`_upgraded`): the renderers read one shape.

    Parameters
    ----------
    report : dict or path
        The report.json dict, or its path.

    Returns
    -------
    dict
        A checked copy (a :class:`LoadedReport`), every string valid Unicode.
    """
    if isinstance(report, LoadedReport):
        return report  # checked (and upgraded) already
    where = "report.json"
    if isinstance(report, dict):
        data = report
    else:
        path = Path(report)
        where = str(path)
        try:  # utf-8-sig: a report.json saved again by Windows Notepad starts with a BOM
            data = json_checked(path.read_text(encoding="utf-8-sig"), parse_constant=_no_constant)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            raise InputError(f"{path}: not a readable report.json ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where} must hold a JSON object")
    required = ("schema_version", "input", "quality", "events", "summary")
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(f"{where} lacks {', '.join(missing)}")
    if str(data["schema_version"]) not in SCHEMA_VERSIONS_READ:
        raise InputError(
            f"{where} schema_version {data['schema_version']!r} is not supported "
            f"(this facetwitch reads versions {', '.join(SCHEMA_VERSIONS_READ)})"
        )
    problem = report_problem(data) or references_problem(data)
    if problem:
        raise InputError(f"{where}: {problem}")
    # every string as valid Unicode (a report.json written before file names that are not UTF-8
    # were kept as path_bytes_hex holds them as lone surrogates, which no output can encode)
    data = json_text_clean({**data, "input": path_info_clean(data["input"])})
    return LoadedReport(_upgraded(data))


class LoadedReport(dict):
    """A report.json dict checked against the schema and upgraded.

    A report.json dict that :func:`report_load` has checked against the schema and upgraded
    to the latest schema's shape: loading it again returns it as it is (the renderers each
    load what they are given, and a 60-minute report is not validated five times).
    """


def _upgraded(data: dict) -> dict:
    """Upgrade a schema-1 report to the shape of schema 2.

    A schema-1 report with the fields of schema 2 that it implies (a copy): every event
    counted, no annotation, all face time assessable, ``reason_code`` from its words. The
    renderers then read one shape. Schema-2 reports are returned as they are.
    """
    if str(data["schema_version"]) != "1":
        return data
    codes = {words: code for code, words in EVENT_REASONS.items()}
    data = {**data, "annotations": list(data.get("annotations") or [])}
    data["events"] = [
        {"counted": True, "annotation": "", "reason_code": codes.get(e.get("reason") or "", ""),
         **e}
        for e in data["events"]
    ]  # fmt: skip
    summary = dict(data["summary"])
    summary.setdefault("assessable_s", summary.get("analysed_s"))
    summary.setdefault("not_assessable_s", {})
    summary.setdefault("uncounted_twitch_count", 0)
    data["summary"] = summary
    return data


# ------------------------------------------------------------------------------------------
def twitch_events(report: dict) -> list[dict]:
    """Return the report's ``twitch`` events.

    The report's ``twitch`` events.
    """
    return [e for e in report.get("events", []) if e.get("kind") == "twitch"]


def by_region_rows(report: dict) -> list[dict]:
    """``summary.by_region`` rows with twitches, most twitches first."""
    rows = [r for r in report.get("summary", {}).get("by_region") or [] if r.get("count", 0) > 0]
    return sorted(rows, key=lambda r: (-r["count"], r["region"], r["side"]))


def hemifacial_pairs(report: dict) -> dict[str, int]:
    """Count the eye-mouth twitch pairs per side.

    Per side, how many twitch pairs of an eye region and a mouth region co-occurred: the
    hemifacial-spasm sign (``summary.eye_mouth_co_occurrence.pairs_by_side``).
    """
    co = (report.get("summary") or {}).get("eye_mouth_co_occurrence") or {}
    if isinstance(co.get("pairs_by_side"), dict):
        return {k: int(v) for k, v in co["pairs_by_side"].items() if v}
    return _pairs_counted(report)  # a report written before the summary held them


def _pairs_counted(report: dict) -> dict[str, int]:
    """:func:`hemifacial_pairs` of a report whose summary does not hold them."""
    by_id = {e.get("id"): e for e in report.get("events", [])}
    seen: set[tuple] = set()
    out: dict[str, int] = {}
    for e in twitch_events(report):
        for other_id in e.get("co_occurring") or []:
            o = by_id.get(other_id)
            if o is None or o.get("kind") != "twitch" or o.get("side") != e.get("side"):
                continue
            regions = {e["region"], o["region"]}
            if not (regions & set(EYE_REGIONS) and regions & set(MOUTH_REGIONS)):
                continue
            key = tuple(sorted((e.get("id"), other_id)))
            if key in seen:
                continue
            seen.add(key)
            out[e["side"]] = out.get(e["side"], 0) + 1
    return out


def unreliable(report: dict) -> bool:
    """Return whether the report says its numbers cannot be trusted.

    Whether the report says its numbers cannot be trusted: ``quality.reliable`` is false, or
    ``quality.unreliable_reasons`` names any reason. Reasons count even when ``reliable`` is
    missing or true (a hand-edited report): a caution shown once too often costs less than
    numbers trusted against the report's own reasons.
    """
    q = report.get("quality") or {}
    return q.get("reliable") is False or bool(q.get("unreliable_reasons"))


def quoted(text: str) -> str:
    r"""Quote the patient's words inside a sentence.

    The patient's words (or a file name) inside a sentence: ``“...”``, isolated as a unit
    when it holds right-to-left letters, so that a Hebrew or Arabic description does not pull
    the English words and punctuation around it into its own order; control characters (a
    terminal's escape sequences) and bidi overrides written out (``\x1b``), not obeyed by
    whatever shows summary.txt.
    """
    return f"\u201c{isolated(display_name(text))}\u201d"  # controls shown, never obeyed


def summary_sentences(report: dict, *, quote=quoted) -> list[str]:
    """Return the plain-language summary as sentences.

    The plain-language summary, as sentences a patient understands.

    In order: a caution when the numbers are unreliable (first, so that nobody reads a count
    before learning it cannot be trusted), how much of the video could be assessed, the
    counted twitches (a rate always with the time it was measured over), those seen but not
    counted, blinks, held contractions, the hemifacial sign, rhythm, notes on the recording,
    the patient's markers and description.

    Parameters
    ----------
    report : dict
        A report.json dict.
    quote : callable
        ``quote(text)`` puts the patient's own words into a sentence (the PDF, which cannot
        draw every script, passes its own).

    Returns
    -------
    list of str
    """
    report = report_load(report)
    steps = (
        _caution_sentences,
        _assessable_sentences,
        _twitch_sentences,
        _uncounted_sentences,
        _sensitivity_sentences,
        _blink_sentences,
        _held_sentences,
        _hemifacial_sentences,
        _rhythm_sentences,
        _recording_notes,
        _marker_sentences,
    )
    sentences = [s for step in steps for s in step(report)]
    return sentences + _complaint_sentences(report, quote)


def _assessed_over(report: dict) -> tuple[str, bool]:
    """Return the time the counts are over, in words.

    The time the counts are over, in words, and whether it is assessable time (schema 2):
    ``("15.0 s of assessable video", True)``; ``("62 s of video", False)`` for schema 1.
    """
    summary = report.get("summary", {})
    if has_assessable_time(report) and _finite(summary.get("assessable_s")):
        return f"{fmt_span(summary['assessable_s'], recording_s(report))} of assessable video", True
    return f"{fmt_length(report['input'].get('duration_s'))} of video", False


def _caution_sentences(report: dict) -> list[str]:
    if not unreliable(report):
        return []
    reasons = "; ".join(_reasons_said(report))
    return ["Caution: these numbers are unreliable" + (f": {reasons}" if reasons else "") + "."]


def _reasons_said(report: dict) -> list[str]:
    """Return ``quality.unreliable_reasons`` as the reports say them.

    Too little assessable time is said without the causes of the rest where the report says
    them next anyway (the "Assessable:" sentence and row): "too little assessable time (0.0 s
    of 11.8 s of face video, need 3 s)". The caution had listed them once and the sentence
    after it again, word for word (lp_d3, a talking clip).
    """
    reasons = [str(r) for r in (report.get("quality") or {}).get("unreliable_reasons") or []]
    if not assessable_sentence(report):  # a schema-1 report: the reason says them alone
        return reasons
    return [re.sub(r"; not assessed: [^()]*\)$", ")", r)
            if r.startswith("too little assessable time (") else r for r in reasons]  # fmt: skip


def _assessable_sentences(report: dict) -> list[str]:
    s = assessable_sentence(report)
    return [s] if s else []


def _region_angles(report: dict, r: dict) -> list[float]:
    """Directions (degrees) of the counted twitches of ``r``'s region and side."""
    return [float(e["direction_deg"]) for e in counted_twitches(report.get("events"))
            if (e.get("region"), e.get("side")) == (r.get("region"), r.get("side"))
            and _finite(e.get("direction_deg"))]  # fmt: skip


def _region_phrase(r: dict, report: dict) -> str:
    """Return the phrase describing the twitches of one region and side.

    "of the upper lip on your left side, median 1.6 mm, moving up and to the left (47°),
    each about a quarter of a second (0.24 s)"; of one twitch, "..., 1.6 mm, ..., lasting
    about ...".
    """
    one = r.get("count") == 1  # one twitch: its own size and length, not a median
    text = (f"of the {region_label(r['region'])} {side_phrase(r['side'])}, "
            f"{'' if one else 'median '}{fmt_mm(r.get('median_amplitude_mm'))}")  # fmt: skip
    deg = r.get("mean_direction_deg")
    angles = _region_angles(report, r)
    if _finite(deg) and directions_varied(angles, deg):  # the mean would mislead
        said = [direction_word(a) for a in angles]  # in time order; the most frequent first
        words = sorted(dict.fromkeys(said), key=lambda w: -said.count(w))
        more = f" and {len(words) - 3} more" if len(words) > 3 else ""
        text += f", moving in varying directions ({', '.join(words[:3])}{more})"
    elif _finite(deg):
        text += f", moving {DIRECTION_PHRASES[direction_word(deg)]} ({fmt_deg(deg)})"
    if _finite(r.get("median_duration_s")):
        words = duration_words(r["median_duration_s"])
        text += f", {words}" if one and words.startswith("a ") else \
            f", {'lasting' if one else 'each'} {words}"  # fmt: skip
    return text


#: What the reports say for a rate over too little assessable time (``summary`` has null then).
NO_RATE = "too little time for a rate"


def _twitch_sentences(report: dict) -> list[str]:
    """Return the sentences on the counted twitches by region.

    The counted twitches by region, with the time they were counted in and their rate.
    """
    summary = report.get("summary", {})
    rows = by_region_rows(report)
    over, assessable = _assessed_over(report)
    if not assessable:
        return [_twitch_sentence_v1(report, rows, over)]
    if not rows:
        if not summary.get("assessable_s"):
            return ["No time could be assessed, so no twitches were counted."]
        return [f"No twitches in {over}."]
    total = summary.get("twitch_count")
    total = int(total if total is not None else sum(r["count"] for r in rows))
    rate = summary.get("twitch_rate_per_min")
    head = (
        f"{_plural(total, 'twitch')} in {over} ({fmt_per_min(rate) if _finite(rate) else NO_RATE})"
    )
    if len(rows) == 1:
        return [f"{head}, {'all ' if total > 1 else ''}{_region_phrase(rows[0], report)}."]
    parts = [f"{r['count']} {_region_phrase(r, report)}" for r in rows[:3]]
    rest = sum(r["count"] for r in rows[3:])
    if rest:
        parts.append(f"{rest} elsewhere (see the table)")
    return [f"{head}: " + "; ".join(parts) + "."]


def _twitch_sentence_v1(report: dict, rows: list[dict], over: str) -> str:
    """Return the twitch sentence of a schema-1 report.

    The twitch sentence of a schema-1 report (no assessable time): over the video.
    """
    if not rows:
        return f"In {over}: no twitches were found."
    parts = [f"{_plural(r['count'], 'twitch')} {_region_phrase(r, report)}" for r in rows[:3]]
    rest = sum(r["count"] for r in rows[3:])
    if rest:
        parts.append(f"{_plural(rest, 'more twitch')} elsewhere (see the table)")
    first = f"In {over}: " + "; ".join(parts) + "."
    if len(rows) > 1:
        summary = report.get("summary", {})
        total = summary.get("twitch_count")
        total = int(total if total is not None else sum(r["count"] for r in rows))
        rate = fmt_rate(summary.get("twitch_rate_per_min"), 1)
        first += f" In all {_plural(total, 'twitch')} in {over}, {rate}."
    return first


def _uncounted_sentences(report: dict) -> list[str]:
    s = uncounted_sentence(report)
    return [s] if s else []


def _sensitivity_sentences(report: dict) -> list[str]:
    """How small a twitch the video could show (``summary.sensitivity``), when it was tested.

    "Test twitches added to this video: 1.5-3 mm found 16 of 18, 1 mm 5 of 6; under 0.8 mm
    none can be found." Largest first, by the test's groups (sizes pooled where a larger one
    was found less often: ``groups``); then the detector's floor.
    """
    test = (report.get("summary") or {}).get("sensitivity") or {}
    found = _tested_found(test)
    if not found:
        return []
    floor = test.get("floor_mm")
    tail = f"; under {floor:.1f} mm none can be found" if _finite(floor) else ""
    return ["Test twitches added to this video: " + found + tail + "."]


def _tested_found(test: dict) -> str:
    """``2-3 mm found 11 of 12, 1.5 mm 4 of 6`` from a sensitivity test's groups ("": none)."""
    parts = []
    for g in reversed([g for g in test.get("groups") or [] if g.get("tested")]):
        lo, hi = g["from_mm"], g["to_mm"]
        sizes = f"{lo:g}-{hi:g} mm" if hi > lo else f"{lo:g} mm"
        parts.append(f"{sizes}{' found' if not parts else ''} {g['found']} of {g['tested']}")
    return ", ".join(parts)


def complaint_sensitivity_sentence(report: dict) -> str:
    """How small a twitch could be found where the description says (``complaint.sensitivity``).

    "Test twitches added at your left upper lip: 2-3 mm found 15 of 16, 1.5 mm 6 of 8, 1 mm 3
    of 8." ("" when the description's region was not tested.)
    """
    test = (report.get("complaint") or {}).get("sensitivity") or {}
    found = _tested_found(test)
    if not found:
        return ""
    regions = [region_label(r) for r in test.get("regions") or []]
    where = " and ".join(regions) if len(regions) < 3 else \
        ", ".join(regions[:-1]) + " and " + regions[-1]  # fmt: skip
    sides = list(test.get("sides") or [])
    where = f"your {sides[0]} {where}" if len(sides) == 1 else f"your {where} (both sides)"
    return f"Test twitches added at {where}: {found}."


def _blink_sentences(report: dict) -> list[str]:
    """Blinks (counted ones over assessable time), with the typical range."""
    summary = report.get("summary", {})
    rows = by_region_rows(report)
    over, assessable = _assessed_over(report)
    lo, hi = TYPICAL_BLINK_RATE_PER_MIN
    rate = summary.get("blink_rate_per_min")
    if assessable and not summary.get("assessable_s"):
        return []  # no assessable time: nothing to say of blinks either
    if assessable and summary.get("blink_count") == 0:
        blinks = f"no blinks in {over}"
    elif assessable and isinstance(summary.get("blink_count"), int) and _finite(rate):
        blinks = f"{_plural(summary['blink_count'], 'blink')} in {over} ({rate:.0f} a minute; " \
            f"typical {lo}-{hi})"  # fmt: skip
    elif assessable and isinstance(summary.get("blink_count"), int):
        blinks = f"{_plural(summary['blink_count'], 'blink')} in {over} ({NO_RATE})"
    elif assessable:
        return []
    else:
        blinks = f"blinks {fmt_rate(rate)} (typical {lo}-{hi})"
    if not any(r["region"] in ("upper_eyelid", "lower_eyelid") for r in rows):
        return [f"Eyelids: no twitches; {blinks}."]
    return [blinks[0].upper() + blinks[1:] + "."]


def _held_part(held: list[dict]) -> str:
    """Where the contractions were held, how far and how long (medians when several)."""
    e, n = held[0], len(held)
    mm = median(x.get("amplitude_mm") or 0.0 for x in held)
    dur = median(x["duration_s"] for x in held)
    if n == 1:
        return f"{region_label(e['region'])} {side_phrase(e['side'])}, {fmt_mm(mm)} for " \
            f"{duration_words(dur)}"  # fmt: skip
    return f"{region_label(e['region'])} {side_phrase(e['side'])} {n} times, median " \
        f"{fmt_mm(mm)} for {duration_words(dur)}"  # fmt: skip


def _held_sentences(report: dict) -> list[str]:
    held = [e for e in report.get("events", []) if _is_held(e)]
    if not held:
        return []
    # those in time not assessed are not counted (summary.sustained_count): said apart, as
    # twitches there are, so that the number agrees with the summary's
    counted = [e for e in held if is_counted(e)]
    apart = len(held) - len(counted)
    described = counted or held
    places = {}  # (region, side) -> its held contractions, the most held first
    for e in described:
        places.setdefault((e["region"], e["side"]), []).append(e)
    groups = sorted(places.values(), key=len, reverse=True)
    parts = [_held_part(g) for g in groups[:3]]
    more = f" and {sum(map(len, groups[3:]))} more elsewhere" if len(groups) > 3 else ""
    if counted:
        what = _plural(len(counted), "held one-sided contraction")
        tail = f", and {apart} more in time not assessed" if apart else ""
    else:
        what, tail = f"{_plural(apart, 'held one-sided contraction')} in time not assessed", ""
    sentences = [
        f"{what} ({'; '.join(parts)}{more}){tail}: a "
        "tonic spasm, or a one-sided expression held; not counted as twitches."
    ]
    # the sign, like the twitches' eye-mouth pairs, from counted ones held together
    ids = {e.get("id") for e in counted}
    for side in sorted({e["side"] for e in counted if ids & set(e.get("co_occurring") or ())}):
        sentences.append(
            f"On your {side} side the eye and the mouth were held together, "
            "the pattern of a tonic hemifacial spasm: please mention it."
        )
    return sentences


def _hemifacial_sentences(report: dict) -> list[str]:
    return [
        f"On your {side} side the eye and the mouth twitched at the same moment "
        f"{'once' if n == 1 else f'{n} times'}: doctors look for this pattern "
        "(a sign of hemifacial spasm), so please mention it."
        for side, n in sorted(hemifacial_pairs(report).items())
    ]


def _rhythm_sentences(report: dict) -> list[str]:
    rhythm = report.get("summary", {}).get("intervals") or {}
    if not (rhythm.get("rhythmic") and _finite(rhythm.get("median_s"))):
        return []
    hz = rhythm.get("peak_hz")
    return [
        f"The twitches came at a steady rhythm, about every {rhythm['median_s']:.1f} s"
        + (f" ({hz:.2f} per second)" if _finite(hz) else "")
        + "."
    ]


def _recording_notes(report: dict) -> list[str]:
    """Say the face lost for a while, and a mouth that moved as in talking."""
    q = report.get("quality", {})
    notes = []
    ff = q.get("face_found_fraction")
    if not unreliable(report) and _finite(ff) and ff < FACE_FOUND_WARN:
        notes.append(
            f"Note: the face was found in only {fmt_pct(ff)} of the video, so "
            "some twitches may have been missed."
        )
    mouth_s, face_s = q.get("mouth_active_s"), report.get("summary", {}).get("analysed_s")
    if _finite(mouth_s) and _finite(face_s) and mouth_warned(mouth_s, face_s):
        then = (
            ": the time of talking and of expressions is not assessed"  # schema 2: annotated
            if has_assessable_time(report)
            else ""
        )
        notes.append(
            f"Note: the mouth moved as in talking, smiling or laughing for "
            f"{mouth_s:.1f} s ({fmt_pct(mouth_s / face_s)} of the time the face was seen); such "
            f"movements can look like twitches, around the mouth above all{then}."
        )
    return notes


def _marker_sentences(report: dict) -> list[str]:
    s = markers_sentence(report)
    return [s] if s else []


def _complaint_sentences(report: dict, quote) -> list[str]:
    """Return the sentences on the patient's description.

    The patient's description: unread, or how many measurable points agree (and which
    differ).
    """
    sentences = []
    unread = complaint_unread_text(report)
    if unread:
        short = unread if len(unread) <= 120 else unread[:117].rstrip() + "..."
        sentences.append(
            f"Your description ({quote(short)}) could not be read. " + COMPLAINT_UNREAD
        )
    complaint = report.get("complaint")
    if complaint and complaint.get("claims"):
        sentences.append(_complaint_verdict(report, complaint["claims"]) + ".")
    focus = complaint_sensitivity_sentence(report)
    if focus:
        sentences.append(focus)
    return sentences


def _complaint_verdict(report: dict, claims: list[dict]) -> str:
    comparable = [c["verdict"] for c in claims if c["verdict"] in ("agrees", "differs")]
    if comparable:
        s = (f"Your description: {comparable.count('agrees')} of {len(comparable)} measurable "
             "points agree")  # fmt: skip
    elif not by_region_rows(report):
        over, assessable = _assessed_over(report)
        s = ("Your description could not be compared: no twitches were "
             + ("counted" if assessable else "measured"))  # fmt: skip
        freq = next((c for c in claims if c["aspect"] == "frequency"), None)
        if freq and freq["verdict"] == "no_data":
            # a twitch "several times a day" seldom comes during a short recording
            s += (f". A twitch that comes {freq['claimed']} may not happen in {over}: record "
                  "while it is happening, or for longer")  # fmt: skip
    else:
        s = "Your description names nothing the video can measure"
    differs = [c for c in claims if c["verdict"] == "differs"]
    if differs:
        s += " (" + "; ".join(
            f"{ASPECT_LABELS.get(c['aspect'], c['aspect']).lower()}: you said "
            f"{_value_label(c['aspect'], c['claimed'])}, measured "
            f"{_value_label(c['aspect'], c['measured'])}"
            for c in differs
        ) + ")"  # fmt: skip
    feelings = [c["claimed"] for c in claims
                if c["verdict"] == "not_measurable" and c["aspect"] == "sensation"]  # fmt: skip
    if feelings:
        s += f"; what you feel ({', '.join(feelings)}) cannot be measured from video"
    return s


def summary_text(report: dict | str | os.PathLike) -> str:
    """Return a plain paragraph to paste into an online question.

    A plain paragraph to paste into an online question (``summary.txt``).

    Examples
    --------
    "In 62 s of video: 9 twitches of the upper lip on your left side, median 1.6 mm, moving
    up and to the left (112°), each about a quarter of a second (0.24 s). Eyelids: no
    twitches; blinks 14/min (typical 8-21)."
    """
    report = report_load(report)
    text = " ".join(summary_sentences(report))
    name = isolated(display_name(Path(str(report["input"].get("path") or "")).name))
    tool = report.get("tool") or {}
    version = f" {tool['version']}" if tool.get("version") else ""
    return (
        f"{text} (Measured with {tool.get('name', 'facetwitch')}{version} from the video "
        f"{name}; not a diagnosis.)\n"
    )


def _value_label(aspect: str, value) -> str:
    if value is None:
        return "–"
    if aspect == "region":
        return region_label(value)
    if aspect == "direction":
        return DIRECTION_PHRASES.get(value, value)
    return str(value)


def complaint_unread_text(report: dict) -> str:
    """Return the patient's description when no claim could be read.

    The patient's description, on one line, when one was given but no claim could be read
    from it (another language, or nothing about the twitch); else "". Shown with
    :data:`COMPLAINT_UNREAD` rather than as "no description was given".
    """
    complaint = report.get("complaint") or {}
    if complaint.get("claims"):
        return ""
    return " ".join(str(complaint.get("text") or "").split())


def complaint_rows(report: dict) -> list[dict]:
    """Rows of the "your description vs the measurements" table (display strings)."""
    complaint = report.get("complaint")
    if not complaint:
        return []
    rows = []
    for c in complaint.get("claims") or []:
        claimed = _value_label(c["aspect"], c.get("claimed"))
        if c.get("inferred"):
            claimed += " (inferred)"
        measured = _value_label(c["aspect"], c.get("measured"))
        if c.get("detail") and c["verdict"] in ("agrees", "differs"):
            measured += f" — {c['detail']}"
        rows.append(
            {
                "aspect": ASPECT_LABELS.get(c["aspect"], c["aspect"]),
                "claimed": claimed,
                "measured": measured if c.get("measured") is not None else (c.get("detail") or "–"),
                "verdict": c["verdict"],
                "verdict_label": VERDICT_LABELS.get(c["verdict"], c["verdict"]),
                "note": c.get("note", ""),
            }
        )
    return rows


def _is_held(e: dict) -> bool:
    """Return whether ``e`` is a sustained one-sided contraction.

    A sustained one-sided contraction (a movement with that reason).
    """
    return e.get("kind") == "movement" and e.get("reason_code") == "sustained"


def event_rows(report: dict, *, counted: bool | None = None, kinds=None) -> list[dict]:
    """Rows of an event table, in time order (display strings).

    Parameters
    ----------
    report : dict
        A loaded report.json dict.
    counted : bool, optional
        Only the counted events (True) or those not counted (False); all by default.
    kinds : collection of str, optional
        Only events of these kinds.

    Returns
    -------
    list of dict
        ``id``, ``time``, ``region``, ``side``, ``kind``, ``amplitude``, ``direction``,
        ``duration``, ``co_occurring``, ``confidence``, ``why`` (where an event was not
        counted: "while talking").
    """
    whole = recording_s(report)
    events = [e for e in report.get("events", [])
              if (counted is None or is_counted(e) == counted)
              and (kinds is None or e.get("kind") in kinds)]  # fmt: skip
    events.sort(key=lambda e: (e.get("t_peak_s") or 0, e.get("id") or 0))
    return [_event_row(e, whole) for e in events]


def _event_row(e: dict, whole_s) -> dict:
    deg = e.get("direction_deg")
    direction = e.get("direction") or ""
    return {
        "id": e.get("id"),
        "time": fmt_clock(e.get("t_peak_s"), whole_s),
        "region": region_label(e.get("region", "")),
        "side": e.get("side", ""),
        "kind": ("held, one side" if _is_held(e) else e.get("kind", "")),
        "amplitude": fmt_mm(e.get("amplitude_mm")),
        "direction": f"{direction} ({fmt_deg(deg)})" if _finite(deg) and direction else "–",
        "duration": fmt_s(e.get("duration_s")),
        "co_occurring": ", ".join(f"#{i}" for i in e.get("co_occurring") or []) or "",
        "confidence": f"{e['confidence']:.2f}" if _finite(e.get("confidence")) else "",
        "why": ("seen " + bad_while(e.get("annotation") or "")) if not is_counted(e) else "",
    }


def _uncounted_other_sentence(events: list[dict]) -> str:
    """Return the line on blinks and movements seen in time not assessed ("" when none).

    "1 blink and 13 other movements seen in time that could not be assessed are in
    report.json and events.csv."
    """
    if not events:
        return ""
    verb = "is" if len(events) == 1 else "are"
    return (f"{kinds_said(events)} seen in time that could not be assessed {verb} in "
            "report.json and events.csv.")  # fmt: skip


def _events_none_sentence(report: dict) -> str:
    """Return what the events section says when it has no counted event to list.

    "No events were found." only when none were; else none were counted.
    """
    return "No events were counted." if report.get("events") else "No events were found."


def quality_rows(report: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of the quality notes."""
    q = report.get("quality", {})
    i = report.get("input", {})
    rows = []
    if unreliable(report):
        rows.append(
            (
                "Reliability",
                "unreliable: " + "; ".join(_reasons_said(report)) or "unreliable",
            )
        )
    rows += [
        ("Face found", f"{fmt_pct(q.get('face_found_fraction'))} of frames"),
        (
            "Frames",
            f"{i.get('frames', '–')} in {fmt_length(i.get('duration_s'))}, "
            f"{_num(i.get('fps_mean'), 1)} fps mean",
        ),
        (
            "Picture",
            f"{i.get('width', '–')} × {i.get('height', '–')} px"
            + (f", rotated {i['rotation_deg']}°" if i.get("rotation_deg") else "")
            + (
                f", turned {i['turned_deg']}° to show the face upright"
                if i.get("turned_deg")
                else ""
            )  # fmt: skip
            + (
                ", shown mirrored by the file (analysed unmirrored)"
                if i.get("display_flipped")
                else ""
            )  # fmt: skip
            + (", interlaced (deinterlaced)" if i.get("interlaced") else "")
            + (", mirrored (sides corrected)" if i.get("mirrored") else ""),
        ),
        ("Scale", f"{_num(q.get('px_per_mm'), 2)} px/mm (iris = 11.7 mm)"),
        ("Noise", _noise_value(report)),
    ]
    return rows + _time_rows(report)


def _noise_value(report: dict) -> str:
    """Return the noise row: "0.04 mm (a twitch must stand well above it)".

    It had said "(smaller movements are not counted)", as if a 0.1 mm movement over 0.04 mm
    of noise were counted: the detector finds a twitch only several times above the local
    noise and from its floor up (0.65 mm as reported; the limits say what is missed by size).
    Short, so that the PDF's quality column keeps its other rows.
    """
    noise = (report.get("quality") or {}).get("noise_mm")
    return f"{fmt_mm(noise, 2)} (a twitch must stand well above it)" if _finite(noise) else "–"


def _time_rows(report: dict) -> list[tuple[str, str]]:
    """Assessable time, gaps in the video's time and dropped frames (schema 2)."""
    q = report.get("quality", {})
    whole = recording_s(report)
    rows = []
    assessable = assessable_sentence(report)
    if assessable:
        rows.append(("Assessable", assessable.removeprefix("Assessable: ").rstrip(".")))
    gaps = [(a, b) for a, b in q.get("gaps_s") or [] if _finite(a) and _finite(b)]
    if gaps:
        shown = ", ".join(f"{fmt_clock(a, whole)}-{fmt_clock(b, whole)}" for a, b in gaps[:6])
        more = f" and {len(gaps) - 6} more" if len(gaps) > 6 else ""
        rows.append(("Gaps", f"no video {shown}{more} (nothing measured across them)"))
    if q.get("frames_missing"):
        rows.append(("Dropped frames", f"{q['frames_missing']} (by the camera or the encoder)"))
    return rows


def report_facts(report: dict, *, quote=quoted) -> dict:
    """Everything the renderers print, as display strings, from one report.json dict.

    Parameters
    ----------
    report : dict
        A report.json dict.
    quote : callable
        Puts the patient's words into a sentence (see :func:`summary_sentences`).

    Returns
    -------
    dict
        Titles, the summary sentences, key numbers, the description's rows, the markers'
        sentence and rows, the counted events and the twitches not counted, quality rows,
        warnings and limits.
    """
    report = report_load(report)
    i = report["input"]
    tool = report.get("tool") or {}
    q = report.get("quality", {})
    complaint = report.get("complaint")
    uncounted_other = [e for e in report.get("events", [])
                       if not is_counted(e) and e.get("kind") != "twitch"]  # fmt: skip
    return {
        "title": "Facial twitch measurement",
        "subtitle": "Video analysis for a consultation",
        "recording": (
            f"{isolated(display_name(Path(str(i.get('path') or '')).name))}"
            f" · {fmt_length(i.get('duration_s'))}"
            f" · {_num(i.get('fps_mean'), 0)} fps"
        ),
        "sha256": str(i.get("sha256") or "")[:16],
        "tool": f"{tool.get('name', 'facetwitch')} {tool.get('version', '')}".strip(),
        "schema_version": str(report.get("schema_version")),
        "summary": summary_sentences(report, quote=quote),
        "caution": unreliable(report),
        "key_numbers": key_numbers(report),
        "complaint_text": (complaint or {}).get("text"),
        "complaint_rows": complaint_rows(report),
        "complaint_sensitivity": complaint_sensitivity_sentence(report),
        # a description given, but nothing in it read: shown, with why nothing is compared
        "complaint_unread": COMPLAINT_UNREAD if complaint_unread_text(report) else "",
        "markers_sentence": markers_sentence(report),
        "marker_rows": marker_rows(report),
        "events": event_rows(report, counted=True),
        "uncounted": event_rows(report, counted=False, kinds=("twitch",)),
        # blinks and movements in time not assessed: no table of their own, but counted
        "uncounted_other": _uncounted_other_sentence(uncounted_other),
        "events_none": _events_none_sentence(report),
        "quality": quality_rows(report),
        "warnings": [str(w) for w in q.get("warnings") or []],
        "limits": limits(report),
        "sides_note": (
            "Left and right are the patient's own sides throughout (as a clinician "
            "writes them), whatever the camera showed."
        ),
    }


def limits(report: dict) -> list[str]:
    """Return the report's limits (:data:`LIMITS`).

    The millimetres one as the report's amplitudes were made: corrected
    (``detector.amplitude_gain`` above 1; with the range measured since sizes are read at the
    frames, ``detector.peak_on_frames``) or raw (a report made before the correction, or
    asked for raw readings). The false twitches' figures only for the detector they were
    measured on (:data:`FALSE_LIMIT`); :data:`FALSE_LIMIT_EARLIER` otherwise.
    """
    detector = report.get("detector") or {}
    gain = detector.get("amplitude_gain")
    # the false twitches were measured on this detector's flow signals (it is the one that
    # writes peak_on_frames, true or false)
    measured = "peak_on_frames" in detector and detector.get("method", "flow") == "flow"
    if not (isinstance(gain, (int, float)) and gain > 1):
        mm_limit = MM_LIMIT_RAW
    else:
        mm_limit = MM_LIMIT_FRAMES if detector.get("peak_on_frames") else MM_LIMIT_CORRECTED
    out = list(_limits(mm_limit, FALSE_LIMIT if measured else FALSE_LIMIT_EARLIER))
    if _sensitivity_sentences(report):  # this video's own figures are in the summary
        out[1] = mm_limit + SMALL_LIMIT_TESTED
    return out


def key_numbers(report: dict) -> list[tuple[str, str]]:
    """Return the key numbers as (label, value) pairs.

    (label, value) of the key numbers: counted twitches, assessable time, rates, not
    counted, face found.
    """
    summary = report.get("summary", {})
    q = report.get("quality", {})
    if not has_assessable_time(report):
        return [
            ("Twitches", str(summary.get("twitch_count") or 0)),
            ("Twitch rate", fmt_rate(summary.get("twitch_rate_per_min"), 1)),
            ("Blink rate", fmt_rate(summary.get("blink_rate_per_min"))),
            ("Face found", fmt_pct(q.get("face_found_fraction"))),
        ]
    whole = recording_s(report)
    return [
        ("Twitches counted", str(summary.get("twitch_count") or 0)),
        ("Assessable", f"{fmt_span(summary.get('assessable_s'), whole)} of "
                       f"{fmt_span(whole, whole)}"),
        ("Twitches / assessable min", _num(summary.get("twitch_rate_per_min"), 1)),
        ("Blinks / assessable min", _num(summary.get("blink_rate_per_min"), 0)),
        ("Not counted", _plural(int(summary.get("uncounted_twitch_count") or 0), "twitch")),
    ]  # fmt: skip
