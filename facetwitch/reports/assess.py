"""Assessable time, twitches not counted and the patient's markers, in words (schema 2).

Everything here reads report.json's own fields (``summary.assessable_s``,
``summary.not_assessable_s``, ``annotations``, events' ``counted`` and ``annotation``,
``markers[].verdict`` and ``event_ids``): nothing is recomputed from signals. A schema-1 report
(upgraded by :func:`~facetwitch.reports.text.report_load`) says nothing of assessable time.
"""

from __future__ import annotations

from collections import Counter

from ..conventions import counted
from .words import (
    _finite,
    _plural,
    bad_label,
    bad_while,
    fmt_clock,
    fmt_mm,
    fmt_span,
    region_label,
    side_phrase,
)

#: The verdicts of a patient's marker, in words.
MARKER_VERDICT_LABELS = {
    "twitch_measured": "twitch measured",
    "none_measured": "nothing measured",
    "not_assessable": "not assessable",
}


def has_assessable_time(report: dict) -> bool:
    """Whether the report splits its time into assessable and not (schema 2 and later)."""
    return str(report.get("schema_version")) != "1"


def recording_s(report: dict) -> float | None:
    """Return the recording's length in seconds.

    The recording's length in seconds (``input.duration_s``; face time if unknown).
    """
    whole = (report.get("input") or {}).get("duration_s")
    if not _finite(whole):
        whole = (report.get("summary") or {}).get("analysed_s")
    return float(whole) if _finite(whole) else None


def not_assessable_parts(report: dict) -> list[tuple[str, float]]:
    """Return the time of each ``BAD_`` cause, most first.

    ``(description, seconds)`` of each ``BAD_`` cause with time, most first.
    """
    parts = (report.get("summary") or {}).get("not_assessable_s") or {}
    out = [(d, float(s)) for d, s in parts.items() if _finite(s) and s > 0]
    return sorted(out, key=lambda p: (-p[1], p[0]))


def gap_seconds(report: dict) -> float:
    """Seconds of the recording with no frame at all (``quality.gaps_s``: a paused recording)."""
    gaps = (report.get("quality") or {}).get("gaps_s") or []
    return sum(float(b) - float(a) for a, b in gaps if _finite(a) and _finite(b))


def _number(seconds: float, whole_s) -> str:
    """:func:`fmt_span` without its unit (``21.5`` of ``21.5 min``)."""
    return fmt_span(seconds, whole_s).rsplit(" ", 1)[0]


def _part_span(seconds: float, whole_s) -> str:
    """:func:`fmt_span` of a part, in seconds when the whole's unit would show it as 0.0."""
    text = fmt_span(seconds, whole_s)
    return fmt_span(seconds, seconds) if text.startswith("0.0 ") and seconds >= 0.05 else text


def assessable_sentence(report: dict) -> str:
    """Return the sentence on how much of the video could be assessed.

    "Assessable: 8.4 of 12.0 s of video (not assessed: talking 3.6 s, noise 1.0 s)."

    Causes may overlap (talking with a head turn): then the sentence says so, since its
    figures add up to more than the time not assessed. "" for a schema-1 report.
    """
    if not has_assessable_time(report):
        return ""
    whole = recording_s(report)
    assessable = (report.get("summary") or {}).get("assessable_s")
    if whole is None or not _finite(assessable):
        return ""
    causes = [f"{bad_label(d)} {_part_span(s, whole)}" for d, s in not_assessable_parts(report)]
    gaps = gap_seconds(report)
    if gaps > 0:
        causes.append(f"no video (gaps) {_part_span(gaps, whole)}")
    if not causes and assessable >= whole - 0.05:
        return f"Assessable: all {fmt_span(whole, whole)} of video."
    head = f"Assessable: {_number(assessable, whole)} of {fmt_span(whole, whole)} of video"
    if not causes:
        return head + "."
    overlap = sum(s for _d, s in not_assessable_parts(report)) + gaps > whole - assessable + 0.05
    return head + f" (not assessed: {', '.join(causes)}{'; causes overlap' if overlap else ''})."


def uncounted_twitches(report: dict) -> list[dict]:
    """Twitches measured in time that could not be assessed (``counted`` false), by time."""
    out = [e for e in report.get("events", []) if e.get("kind") == "twitch" and not counted(e)]
    return sorted(out, key=lambda e: (e.get("t_peak_s") or 0, e.get("id") or 0))


def uncounted_sentence(report: dict) -> str:
    """Return the sentence on the twitches not counted.

    "Not counted: 5 twitches seen in time that could not be assessed (4 while talking, ...)"
    ("" when there are none).
    """
    twitches = uncounted_twitches(report)
    if not twitches:
        return ""
    causes = Counter(e.get("annotation") or "" for e in twitches).most_common()
    why = ", ".join(f"{n} {bad_while(d)}" for d, n in causes)
    if len(causes) == 1:
        why = ("" if len(twitches) == 1 else "all ") + bad_while(causes[0][0])
    looks = list(dict.fromkeys(_BAD_LOOKS.get(d, "what happened there") for d, _n in causes))
    mixed_with = _or_list(looks, most=len(looks))
    one = len(twitches) == 1
    return (
        f"Not counted: {_plural(len(twitches), 'twitch')} seen in time that could not be "
        f"assessed ({why}): there a twitch cannot be told from {mixed_with}, so "
        f"{'it is' if one else 'they are'} listed apart with {'its' if one else 'their'} "
        "measurements."
    )


#: What a twitch in time not assessed cannot be told from, by the time's cause (the sentence
#: on twitches not counted names those of its own twitches, not talk for a noisy stretch).
_BAD_LOOKS = {
    "BAD_talking": "talk",
    "BAD_expression": "an expression",
    "BAD_head_motion": "head movement",
    "BAD_noisy": "the noise of the measurement",
    "BAD_occlusion": "a hand or something moving over the face",
    "BAD_frozen": "a frozen picture",
    "BAD_out_of_frame": "the edge of the picture",
    "BAD_face_lost": "the face being lost",
}


# -- markers ------------------------------------------------------------------------------------
def _events_by_id(report: dict) -> dict:
    return {e.get("id"): e for e in report.get("events", [])}


def _or_list(items: list[str], most: int = 3) -> str:
    """Join ``items`` with "or": ``a``, ``a or b``, ``a, b or c``.

    Past ``most`` items: ``a, b, c or 2 more places``.
    """
    if len(items) > most:
        items = [*items[:most], f"{len(items) - most} more places"]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _twitch_phrase(events: list[dict]) -> str:
    """Return a phrase describing the twitches of ``events``.

    "a twitch of the upper lip on your left side (1.2-1.9 mm, up-left)".
    """
    groups = [k for k, _n in Counter((e.get("region", ""), e.get("side", ""))
                                     for e in events).most_common()]  # fmt: skip
    sides = list(dict.fromkeys(s for _r, s in groups))
    if len(sides) == 1:  # "the upper lip, eyebrow or cheek on your right side"
        where = f"the {_or_list([region_label(r) for r, _s in groups])} {side_phrase(sides[0])}"
    else:
        where = _or_list([f"the {region_label(r)} {side_phrase(s)}" for r, s in groups])
    amps = [float(e["amplitude_mm"]) for e in events if _finite(e.get("amplitude_mm"))]
    size = ""
    if amps:
        lo, hi = min(amps), max(amps)
        size = fmt_mm(lo) if f"{lo:.1f}" == f"{hi:.1f}" else f"{lo:.1f}-{fmt_mm(hi)}"
    words = [
        w
        for w, _n in Counter(e.get("direction") for e in events if e.get("direction")).most_common(
            2
        )
    ]
    details = ", ".join(x for x in (size, " or ".join(words)) if x)
    return f"a twitch of {where}", (f" ({details})" if details else "")


def markers_sentence(report: dict) -> str:
    """Return the sentence on the moments the patient marked.

    "You marked 5 moments; at 4 a twitch of the upper lip on your left side was measured
    (1.2-1.9 mm, up-left); 1 fell while you were talking." ("" without markers).
    """
    markers = report.get("markers") or []
    if not markers:
        return ""
    n = len(markers)
    if not any(m.get("verdict") for m in markers):  # schema 1: no verdicts
        return f"You marked {_plural(n, 'moment')} (the dashed lines on the timeline)."
    by_verdict: dict[str, list[dict]] = {}
    for m in markers:
        by_verdict.setdefault(m.get("verdict") or "", []).append(m)
    parts = [
        p
        for p in (
            _measured_part(report, by_verdict.get("twitch_measured", []), n),
            _none_part(by_verdict.get("none_measured", []), n),
            _not_assessable_part(by_verdict.get("not_assessable", []), n),
        )
        if p
    ]
    if n == 1:
        at = fmt_clock(markers[0].get("t_s"), recording_s(report))
        return f"You marked one moment ({at}): {parts[0] if parts else 'no verdict'}."
    return f"You marked {n} moments; " + "; ".join(parts) + "."


def _at(k: int, n: int) -> str:
    if k == n:
        return "at it" if n == 1 else "at both" if n == 2 else f"at all {n}"
    return f"at {k}"


def _measured_part(report: dict, markers: list[dict], n: int) -> str:
    if not markers:
        return ""
    by_id = _events_by_id(report)
    events = [
        by_id[i] for m in markers for i in dict.fromkeys(m.get("event_ids") or []) if i in by_id
    ]
    what, details = _twitch_phrase(events) if events else ("a twitch", "")
    if n == 1:
        return f"{what} was measured there{details}"
    return f"{_at(len(markers), n)} {what} was measured{details}"


def _none_part(markers: list[dict], n: int) -> str:
    if not markers:
        return ""
    if n == 1:
        return "nothing was measured there, though the time could be assessed"
    return f"{_at(len(markers), n)} nothing was measured, though the time could be assessed"


#: Where a marker after the recording's end fell (``markers[].after_end``).
AFTER_END = "after the recording ended"


def _marker_where(m: dict) -> str:
    """``while you were talking``: where a not-assessable marker fell, in words."""
    return AFTER_END if m.get("after_end") else bad_while(m.get("annotation") or "", you=True)


def _not_assessable_part(markers: list[dict], n: int) -> str:
    if not markers:
        return ""
    causes = Counter(_marker_where(m) for m in markers).most_common()
    if n == 1:
        return f"it fell {causes[0][0]}, so it could not be assessed"
    k = len(markers)
    if len(causes) == 1:
        who = "both" if k == n == 2 else f"all {n}" if k == n else str(k)
        return f"{who} fell {causes[0][0]}"
    (first, k0), *rest = causes
    return ", ".join([f"{k0} fell {first}"] + [f"{k} {where}" for where, k in rest])


def marker_rows(report: dict) -> list[dict]:
    """Return the rows of the markers table.

    Rows of the markers table: ``time``, ``verdict``, ``verdict_label``, ``detail`` (none
    for markers without verdicts, schema 1: the timeline shows them).
    """
    if not any(m.get("verdict") for m in report.get("markers") or []):
        return []
    by_id = _events_by_id(report)
    whole = recording_s(report)
    rows = []
    for m in sorted(report.get("markers") or [], key=lambda m: m.get("t_s") or 0):
        verdict = m.get("verdict") or ""
        rows.append(
            {
                "time": fmt_clock(m.get("t_s"), whole),
                "t_s": m.get("t_s"),
                "verdict": verdict,
                "verdict_label": MARKER_VERDICT_LABELS.get(verdict, verdict or "–"),
                "detail": _marker_detail(m, by_id, report=report),
                "detail_short": _marker_detail(m, by_id, most=1, report=report),
            }
        )
    return rows


def _near_said(m: dict, near: list[dict], most: int | None = None) -> str:
    """Return the twitches ``near`` a marker in words, the nearest first.

    "#3 upper lip, left, 1.8 mm up-left, 0.3 s after; 1 more".
    """
    said = []
    if _finite(m.get("t_s")):  # the nearest first
        near = sorted(near, key=lambda e: abs(float(e["t_peak_s"]) - float(m["t_s"])))
    for e in near:
        i = e.get("id")
        dt = float(e["t_peak_s"]) - float(m["t_s"]) if _finite(m.get("t_s")) else None
        after = f", {abs(dt):.1f} s {'after' if dt >= 0 else 'before'}" if dt is not None else ""
        said.append(
            f"#{i} {region_label(e.get('region', ''))}, {e.get('side', '')}, "
            f"{fmt_mm(e.get('amplitude_mm'))} {e.get('direction') or ''}{after}"
        )
    if most is not None and len(said) > most:
        said = said[:most] + [f"{len(said) - most} more"]
    return "; ".join(said)


def _seen_near(m: dict, report: dict) -> list[dict]:
    """Return the twitches not counted that peak as near a marker as a counted one answers it."""
    from ..analysis import MARKER_WINDOW_S

    if not _finite(m.get("t_s")):
        return []
    return [e for e in uncounted_twitches(report) if _finite(e.get("t_peak_s"))
            and abs(float(e["t_peak_s"]) - float(m["t_s"])) <= MARKER_WINDOW_S]  # fmt: skip


def _marker_detail(m: dict, by_id: dict, most: int | None = None, report=None) -> str:
    verdict = m.get("verdict")
    if verdict == "twitch_measured":
        near = [by_id[i] for i in m.get("event_ids") or [] if i in by_id]
        return _near_said(m, near, most) or "a twitch"
    if verdict == "not_assessable":
        # a twitch seen right there, though not counted, is what the patient may have felt:
        # said, with its measurements (mixed_2: a 3.1 mm cheek twitch at a marker while talking)
        seen = _seen_near(m, report) if report is not None else []
        also = f"; seen there, not counted: {_near_said(m, seen, most)}" if seen else ""
        return f"{_marker_where(m)}: not assessed{also}"
    if verdict == "none_measured":
        return "no twitch near it, in time that could be assessed"
    return ""
