"""Long reports made from real ones: real report.json files joined end to end, over and over.

For tests of the timeline and the renderers at 60 minutes: every event, span and marker is one
the detector really reported, shifted in time.
"""

from __future__ import annotations

import copy
import itertools

from facetwitch.complaint import complaint_check, complaint_parse


def report_joined(reports: list[dict], duration_s: float, *, markers_every: int = 1) -> dict:
    """Schema-2 reports joined end to end, cycling through them, until ``duration_s``.

    Events, annotations and markers are shifted by the length of what comes before them (ids
    renumbered, references kept); counts and seconds are added up; rates are recomputed per
    assessable minute; ``by_region`` rows of one region and side are merged (their count added
    up, the medians of the first kept).

    Parameters
    ----------
    reports : list of dict
        Schema-2 report.json dicts.
    duration_s : float
        The length to reach, in seconds (whole reports: at least this long).
    markers_every : int
        Keep the markers of every n-th report joined only (a patient marks a few moments an
        hour, not two every 12 s).

    Returns
    -------
    dict
        A new schema-2 report.json dict.
    """
    out = copy.deepcopy(reports[0])
    out["events"], out["annotations"], markers = [], [], []
    s = out["summary"]
    counts = ("twitch_count", "uncounted_twitch_count", "blink_count", "movement_count",
              "sustained_count")  # fmt: skip
    for key in counts + ("analysed_s", "assessable_s"):
        s[key] = 0
    s["not_assessable_s"], s["by_region"] = {}, []
    t, n_ids, frames = 0.0, 0, 0
    tests = []  # each joined report's sensitivity test (summary.sensitivity)
    for i, r in enumerate(itertools.cycle(reports)):
        if t >= duration_s:
            break
        _shifted_into(out, markers if i % markers_every == 0 else [], r, t, n_ids)
        for key in counts + ("analysed_s", "assessable_s"):
            s[key] += r["summary"].get(key) or 0
        for d, v in r["summary"]["not_assessable_s"].items():
            s["not_assessable_s"][d] = s["not_assessable_s"].get(d, 0) + v
        _by_region_added(s["by_region"], r["summary"]["by_region"])
        tests.append(r["summary"].get("sensitivity"))
        t += float(r["input"]["duration_s"])
        n_ids += max((e["id"] for e in r["events"]), default=0)
        frames += r["input"]["frames"]
    out["annotations"].sort(key=lambda a: (a["onset_s"], a["description"]))
    out["markers"] = markers
    out["input"].update(duration_s=round(t, 3), frames=frames)
    minutes = s["assessable_s"] / 60
    for key, rate in (("twitch_count", "twitch_rate_per_min"),
                      ("blink_count", "blink_rate_per_min")):  # fmt: skip
        s[rate] = round(s[key] / minutes, 2) if minutes > 0 else None
    for row in s["by_region"]:
        row["rate_per_min"] = round(row["count"] / minutes, 2) if minutes > 0 else None
    s["by_region"].sort(key=lambda row: -row["count"])
    s["analysed_s"], s["assessable_s"] = round(s["analysed_s"], 2), round(s["assessable_s"], 2)
    s["not_assessable_s"] = {d: round(v, 2) for d, v in s["not_assessable_s"].items()}
    s["intervals"] = {**s["intervals"], "count": s["twitch_count"], "rhythmic": False,
                      "peak_hz": None}  # fmt: skip
    if tests and all(tests):  # added up, as a long recording's stretches are
        s["sensitivity"] = _sensitivity_added(tests)
    if out.get("complaint") and out["complaint"].get("text"):  # checked again, on the whole
        text = out["complaint"]["text"]
        out["complaint"] = complaint_check(complaint_parse(text), out, text=text)
    return out


def _sensitivity_added(tests: list[dict]) -> dict:
    """Return the ``summary.sensitivity`` of reports joined: their tests added up."""
    from facetwitch.signal.sensitivity import Sensitivity

    def of(test: dict) -> Sensitivity:
        lv = test["levels"]
        return Sensitivity(tuple(x["amplitude_mm"] for x in lv), tuple(x["tested"] for x in lv),
                           tuple(x["found"] for x in lv), test["floor_mm"])  # fmt: skip

    total = of(tests[0])
    for test in tests[1:]:
        total = total + of(test)
    return total.to_dict()


def _shifted_into(out: dict, markers: list, r: dict, dt: float, di: int) -> None:
    for e in r["events"]:
        e = copy.deepcopy(e)
        e["id"] += di
        e["co_occurring"] = [j + di for j in e["co_occurring"]]
        for key in ("t_start_s", "t_peak_s", "t_end_s"):
            e[key] = round(e[key] + dt, 3)
        out["events"].append(e)
    for a in r.get("annotations") or []:
        out["annotations"].append({**a, "onset_s": round(a["onset_s"] + dt, 3)})
    for m in r.get("markers") or []:
        markers.append({**m, "t_s": round(m["t_s"] + dt, 3),
                        "event_ids": [j + di for j in m.get("event_ids") or []]})  # fmt: skip


def _by_region_added(rows: list[dict], more: list[dict]) -> None:
    for row in more:
        mine = next((x for x in rows if (x["region"], x["side"]) == (row["region"], row["side"])),
                    None)  # fmt: skip
        if mine is None:
            rows.append(dict(row))
        else:
            mine["count"] += row["count"]
