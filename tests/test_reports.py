"""Reports: report.json -> report.html / report.pdf / summary.txt, checked in a real browser.

The report dict below follows CONVENTIONS.md exactly; every number the outputs print is
checked against it (one source of truth). Key frames use a real video and a real MediaPipe
track (session fixtures of conftest.py). Browser tests drive headless Chromium over the
DevTools protocol (``--remote-debugging-pipe``) and record every network request.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from facetwitch.complaint import complaint_check, complaint_parse
from facetwitch.conventions import circular_mean_deg, direction_word
from facetwitch.errors import FacetwitchWarning, InputError
from facetwitch.landmarks.video import file_sha256
from facetwitch.reports import keyframes_extract, report_render, summary_text
from facetwitch.reports.text import limits
from facetwitch.signal import FLOW_AMPLITUDE_GAIN

SEED_QUESTION = (
    "Hello Doctor, I have recently noticed that my upper lip has been twitching frequently. "
    "It's not a shake, but rather a spasm similar to an eyelid twitch. When I look in the "
    "mirror or when friends observe me closely, they can see that my upper lip is continuously "
    "twitching. The movement is upwards and to the left. It feels very numb, almost like a "
    "paralysis, and is quite uncomfortable. This has been happening several times a day for the "
    "past few days, and I'm unsure if I should see a neurologist."
)
XSS = '<script>alert(1)</script><img src="https://example.com/x.png"> my <b>upper lip</b> & "left"'


def make_report(
    duration_s: float = 62.0, twitch_times=None, *, markers=None, path: str = "/data/lip_left.mp4"
) -> dict:
    """Return a report.json dict as the analysis writes it.

    9 twitches of the left upper lip moving up-left, one left upper-eyelid twitch co-occurring with
    the 4th (hemifacial sign), blinks at 14/min and one voluntary movement; summary.by_region
    computed from the events.
    """
    if twitch_times is None:
        twitch_times = [4.2, 9.8, 15.1, 22.6, 28.0, 33.4, 41.7, 49.9, 57.3]
    dirs = [40, 52, 47, 58, 38, 49, 45, 43, 55]
    amps = [1.4, 1.9, 1.6, 2.3, 1.2, 1.6, 1.7, 1.5, 2.0]
    durs = [0.22, 0.27, 0.24, 0.31, 0.2, 0.25, 0.23, 0.26, 0.24]

    def event(kind, region, side, t_start, dur, amp, deg, conf):
        return {
            "kind": kind,
            "region": region,
            "side": side,
            "t_start_s": round(t_start, 3),
            "t_peak_s": round(t_start + dur * 0.4, 3),
            "t_end_s": round(t_start + dur, 3),
            "duration_s": dur,
            "amplitude_mm": amp,
            "direction_deg": float(deg),
            "direction": direction_word(deg),
            "co_occurring": [],
            "confidence": conf,
        }

    events = [
        event("twitch", "upper_lip", "left", t - 0.1, durs[k % 9], amps[k % 9], dirs[k % 9], 0.9)
        for k, t in enumerate(twitch_times)
    ]
    k4 = min(3, len(twitch_times) - 1)
    events.append(
        event("twitch", "upper_eyelid", "left", twitch_times[k4] - 0.08, 0.2, 0.9, 265, 0.8)
    )
    n_blinks = int(round(duration_s * 14 / 62))
    for tb in np.linspace(1.5, duration_s - 1.5, n_blinks):
        events.append(event("blink", "upper_eyelid", "both", float(tb), 0.2, 8.5, 270, 0.95))
    events.append(event("movement", "mouth_corner", "both", duration_s * 0.6, 1.0, 4.1, 90, 0.7))
    events.sort(key=lambda e: e["t_peak_s"])
    for i, e in enumerate(events, 1):
        e["id"] = i
    lip = [e for e in events if e["region"] == "upper_lip"][k4]
    eye = next(e for e in events if e["region"] == "upper_eyelid" and e["kind"] == "twitch")
    lip["co_occurring"], eye["co_occurring"] = [eye["id"]], [lip["id"]]
    twitches = [e for e in events if e["kind"] == "twitch"]
    by_region = []
    for region, side in sorted({(e["region"], e["side"]) for e in twitches}):
        ev = [e for e in twitches if (e["region"], e["side"]) == (region, side)]
        by_region.append(
            {
                "region": region,
                "side": side,
                "count": len(ev),
                "rate_per_min": round(len(ev) / duration_s * 60, 2),
                "median_amplitude_mm": float(np.median([e["amplitude_mm"] for e in ev])),
                "mean_direction_deg": round(
                    circular_mean_deg(np.array([e["direction_deg"] for e in ev])), 1
                ),
                "median_duration_s": float(np.median([e["duration_s"] for e in ev])),
            }
        )
    report = {
        "schema_version": "1",
        "tool": {"name": "facetwitch", "version": "0.1.0"},
        "input": {
            "path": path,
            "sha256": "ab" * 32,
            "duration_s": duration_s,
            "frames": int(duration_s * 30),
            "fps_mean": 30.0,
            "width": 640,
            "height": 360,
            "rotation_deg": 0,
            "mirrored": False,
        },
        "quality": {
            "face_found_fraction": 0.98,
            "px_per_mm": 3.42,
            "noise_mm": 0.12,
            "warnings": ["head turned away between 30.1 s and 31.0 s"],
        },
        "events": events,
        "summary": {
            "twitch_count": len(twitches),
            "twitch_rate_per_min": round(len(twitches) / duration_s * 60, 2),
            "blink_rate_per_min": round(n_blinks / duration_s * 60, 1),
            "by_region": by_region,
        },
        "complaint": None,
    }
    if markers is not None:
        report["markers"] = markers
    return report


_REPORT = make_report(markers=[{"t_s": 22.5}])
_REPORT["complaint"] = complaint_check(complaint_parse(SEED_QUESTION), _REPORT, text=SEED_QUESTION)


@pytest.fixture()
def report() -> dict:
    return copy.deepcopy(_REPORT)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    return report_render(copy.deepcopy(_REPORT), tmp_path_factory.mktemp("report"))


def expected_numbers(report: dict) -> list[str]:
    """Return the summary's numbers, formatted independently from report.json."""
    lip = next(r for r in report["summary"]["by_region"] if r["region"] == "upper_lip")
    return [
        f"{report['input']['duration_s']:.0f} s",
        f"{lip['count']} twitches",
        f"{lip['median_amplitude_mm']:.1f} mm",
        f"{lip['mean_direction_deg']:.0f}°",
        f"{lip['median_duration_s']:.2f} s",
        f"{report['summary']['blink_rate_per_min']:.0f}/min",
        f"{report['summary']['twitch_rate_per_min']:.1f}/min",
    ]


def pdf_text(path: Path) -> tuple[str, list]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(text.split()), list(reader.pages)


def html_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<style.*?</style>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


# -- summary ---------------------------------------------------------------------------------
def test_summary_text_reads_like_the_issue(report):
    s = summary_text(report)
    assert s.startswith(
        "In 62 s of video: 9 twitches of the upper lip on your left side, "
        "median 1.6 mm, moving up and to the left (47°), each about a quarter "
        "of a second (0.24 s)"
    )
    assert "Blinks 14/min (typical 8-21)." in s
    assert "hemifacial spasm" in s and "On your left side the eye and the mouth" in s
    assert "not a diagnosis" in s and "\n" not in s.rstrip("\n")
    # one twitch has its own size and length: no "median", no "each"
    one = copy.deepcopy(report)
    row = max(one["summary"]["by_region"], key=lambda r: r["count"])
    one["summary"]["by_region"] = [{**row, "count": 1}]
    one["summary"]["twitch_count"] = 1
    s = summary_text(one)
    assert "1 twitch of the upper lip on your left side, 1.6 mm, moving up and to the left " \
        "(47°), lasting about a quarter of a second (0.24 s)" in s, s  # fmt: skip
    # twitches that went every which way are not given their mean direction
    scattered = copy.deepcopy(report)
    lip = [e for e in scattered["events"] if e["kind"] == "twitch" and e["region"] == "upper_lip"]
    assert len(lip) >= 4
    for i, e in enumerate(lip):  # alternately to the left (0) and up (100): mean about 50
        e["direction_deg"] = 0.0 if i % 2 else 100.0
    s = summary_text(scattered)
    assert "of the upper lip on your left side, median 1.6 mm, moving in varying directions " \
        "(up, left), each" in s, s  # fmt: skip
    assert "moving up and to the left" not in s


def test_direction_rose_draws_the_mean_only_where_the_twitches_went(report):
    from facetwitch.reports.plots import plot_rose

    def arrows(rep) -> int:
        ax = plot_rose(rep).axes[0]
        return sum(getattr(t, "arrow_patch", None) is not None for t in ax.texts)

    assert arrows(report) == 1  # the demo's lip twitches all go up-left
    scattered = copy.deepcopy(report)
    for i, e in enumerate(e for e in scattered["events"] if e["kind"] == "twitch"):
        e["direction_deg"] = 0.0 if i % 2 else 100.0  # mean about 50, where none went
    scattered["summary"]["mean_direction_deg"] = 50.0
    assert arrows(scattered) == 0


def test_summary_without_twitches_or_eyelid_events(report):
    report["events"] = [e for e in report["events"] if e["kind"] == "blink"]
    report["summary"].update(twitch_count=0, twitch_rate_per_min=0.0, by_region=[])
    report["complaint"] = None
    s = summary_text(report)
    assert "In 62 s of video: no twitches were found." in s
    assert "Eyelids: no twitches; blinks 14/min (typical 8-21)." in s
    assert "hemifacial" not in s


def test_summary_without_twitches_says_a_rare_twitch_may_not_have_come(report):
    report["events"] = [e for e in report["events"] if e["kind"] == "blink"]
    report["summary"].update(twitch_count=0, twitch_rate_per_min=0.0, by_region=[])
    for text, advice in (
        ("my upper lip twitches upward several times a day", True),
        ("my upper lip twitches upward", False),
    ):
        report["complaint"] = complaint_check(complaint_parse(text), report)
        s = summary_text(report)
        assert "Your description could not be compared: no twitches were measured" in s
        assert (
            "A twitch that comes several times a day may not happen in 62 s of video: "
            "record while it is happening, or for longer." in s
        ) is advice


def test_summary_names_a_steady_rhythm_only_when_there_is_one(report):
    from facetwitch.analysis import intervals_describe

    times = [e["t_peak_s"] for e in report["events"] if e["kind"] == "twitch"]
    report["summary"]["intervals"] = intervals_describe(times)
    assert "rhythm" not in summary_text(report)  # the fixture's twitches come irregularly
    report["summary"]["intervals"] = intervals_describe(np.arange(2.0, 60.0, 2.5))
    assert "The twitches came at a steady rhythm, about every 2.5 s (0.40 per second)." in (
        summary_text(report)
    )


def test_summary_flags_unreliable_numbers(report):
    report["quality"].update(
        reliable=False, unreliable_reasons=["face found in 40% of frames"], face_found_fraction=0.4
    )
    # said first, before any count
    assert summary_text(report).startswith(
        "Caution: these numbers are unreliable: face found in 40% of frames. In 62 s of video"
    )


@pytest.mark.render
def test_reasons_without_reliable_read_as_unreliable_everywhere(report, tmp_path):
    """Quality reasons without ``reliable`` read as unreliable everywhere.

    A report.json whose quality names reasons but lacks ``reliable`` (hand-edited) is not shown as
    reliable: the summary, the HTML and the PDF all give the caution and the reason.
    """
    reason = "noisy measurement (0.45 mm; at most 0.3 mm for a reliable twitch count)"
    report["quality"]["unreliable_reasons"] = [reason]
    assert "reliable" not in report["quality"]
    caution = f"Caution: these numbers are unreliable: {reason}."
    assert summary_text(report).startswith(caution + " In 62 s of video")
    out = report_render(report, tmp_path)
    page = html_text(out["html"])
    assert caution in page and f"Reliability unreliable: {reason}" in page
    pdf, _ = pdf_text(out["pdf"])
    assert "Caution: these numbers are unreliable" in pdf and "unreliable: noisy" in pdf


# -- the three outputs -----------------------------------------------------------------------
@pytest.mark.render
def test_render_writes_three_files(rendered):
    assert set(rendered) == {"html", "pdf", "summary"}
    for p in rendered.values():
        assert p.is_file() and p.stat().st_size > 0
    assert not list(rendered["html"].parent.glob(".*tmp*"))


@pytest.mark.render
def test_numbers_agree_across_outputs_and_with_report_json(rendered):
    report = _REPORT
    summary = rendered["summary"].read_text(encoding="utf-8")
    page = html_text(rendered["html"])
    pdf, _ = pdf_text(rendered["pdf"])
    for number in expected_numbers(report):
        assert number in summary, number
        assert number in page, number
        assert number in pdf, number
    assert summary.strip() == summary_text(report).strip()
    # every summary sentence is printed verbatim in the HTML
    for sentence in summary_text(report).split(". ")[:3]:
        assert sentence.strip() in page
    # event table: each twitch's time, amplitude and direction as in report.json
    for e in report["events"]:
        if e["kind"] != "twitch":
            continue
        row = (
            f"{e['t_peak_s']:.1f} s",
            f"{e['amplitude_mm']:.1f} mm",
            f"{e['direction']} ({e['direction_deg']:.0f}°)",
            f"{e['duration_s']:.2f} s",
        )
        for cell in row:
            assert cell in page and cell in pdf, cell


@pytest.mark.render
def test_pdf_is_a4_and_at_most_two_pages(rendered):
    text, pages = pdf_text(rendered["pdf"])
    assert 1 <= len(pages) <= 2
    for p in pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert abs(w - 595.3) < 1.5 and abs(h - 841.7) < 1.5  # A4 in points
    for words in (
        "Your description vs the measurements".upper(),
        "EVENTS",
        "not a diagnosis",
        "cannot be measured from video",
        "agrees",
        "hemifacial spasm",
    ):
        assert words in text, words


@pytest.mark.render
def test_complaint_table_shows_claims_and_verdicts(rendered):
    page = html_text(rendered["html"])
    assert "Your description vs the measurements" in page
    assert "left (inferred)" in page
    assert "9 in 62 s" in page
    assert page.count("agrees") >= 4
    assert "cannot be measured from video" in page
    assert "upwards and to the left" in page  # the patient's own words are quoted


@pytest.mark.render
def test_html_is_self_contained(rendered):
    raw = rendered["html"].read_text(encoding="utf-8")
    assert not re.search(r"https?://", raw)
    assert "<script" not in raw.lower() and "<link" not in raw.lower()
    srcs = re.findall(r"""\bsrc\s*=\s*["']([^"']*)""", raw)
    assert len(srcs) >= 3 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"url\(", raw)  # no CSS fetches either
    assert "default-src 'none'" in raw  # CSP: the page may not load anything even if altered


@pytest.fixture(scope="module")
def xss_rendered(tmp_path_factory) -> dict[str, Path]:
    report = copy.deepcopy(_REPORT)
    report["complaint"] = complaint_check(complaint_parse(XSS), report, text=XSS)
    return report_render(report, tmp_path_factory.mktemp("xss"))


@pytest.mark.render
def test_complaint_html_is_escaped(xss_rendered):
    out = xss_rendered
    raw = out["html"].read_text(encoding="utf-8")
    assert "<script>" not in raw and "<b>" not in raw and '<img src="https' not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "&lt;b&gt;upper lip&lt;/b&gt; &amp; &#34;left&#34;" in raw
    assert "alert(1)" in pdf_text(out["pdf"])[0]  # shown as text in the PDF too


@pytest.mark.render
def test_no_complaint_no_events(tmp_path, report):
    report["complaint"] = None
    report["events"] = []
    report["summary"].update(
        twitch_count=0, twitch_rate_per_min=0.0, blink_rate_per_min=0.0, by_region=[]
    )
    out = report_render(report, tmp_path / "sub" / "dir")
    page = html_text(out["html"])
    assert "No description was given" in page and "No events were found" in page
    assert "no twitches were found" in out["summary"].read_text()
    assert len(pdf_text(out["pdf"])[1]) <= 2


@pytest.mark.render
def test_description_that_cannot_be_read_is_shown_and_said_so(tmp_path, report):
    """A description in another language gives no claims.

    It is not "no description": the summary, the HTML and the PDF show the text and say nothing in
    it could be compared.
    """
    text = "Meine Oberlippe zuckt links nach oben, mehrmals am Tag"
    report["complaint"] = complaint_check(complaint_parse(text), report, text=text)
    assert report["complaint"]["claims"] == []
    s = summary_text(report)
    assert (
        f"Your description (\u201c{text}\u201d) could not be read. Nothing in it could be "
        "compared with the measurements: facetwitch reads descriptions in English" in s
    )
    out = report_render(report, tmp_path)
    page = html_text(out["html"])
    assert "No description was given" not in page
    assert text in page and "Nothing in it could be compared with the measurements" in page
    pdf, _ = pdf_text(out["pdf"])
    assert "No description was given" not in pdf
    assert "Meine Oberlippe zuckt" in pdf and "Nothing in it could be compared" in pdf


def test_analyze_help_says_the_complaint_is_read_in_english():
    from typer.testing import CliRunner

    from facetwitch.cli import app

    result = CliRunner().invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "in English" in " ".join(result.output.split())


@pytest.mark.render
def test_many_events_still_fit_two_pages(tmp_path):
    rep = make_report(200.0, twitch_times=list(np.arange(3.0, 197.0, 5.0)))
    out = report_render(rep, tmp_path)
    text, pages = pdf_text(out["pdf"])
    assert len(pages) == 2
    assert "more counted events" in text
    # every limit is on page 2, or the PDF says how many more are in report.html
    flat = " ".join(text.split())
    own = limits(rep)  # the limits of this report's detector
    shown = sum(" ".join(lim.split()[:6]) in flat for lim in own)
    if shown < len(own):
        rest = len(own) - shown
        said = "One more note" if rest == 1 else f"{rest} more notes"
        assert f"{said}" in flat and "report.html" in flat


@pytest.mark.render
def test_millimetres_limit_says_whether_the_amplitudes_are_corrected(tmp_path):
    # a report made before the correction (no detector.amplitude_gain) holds raw readings
    raw = make_report(200.0, twitch_times=list(np.arange(3.0, 197.0, 5.0)))
    corrected = copy.deepcopy(raw)
    corrected["detector"] = {
        "method": "flow", "fs_hz": 30.0, "px_per_mm": 1.6, "min_px_per_mm": 1.0,
        "amplitude_gain": FLOW_AMPLITUDE_GAIN,
    }  # fmt: skip
    framed = copy.deepcopy(corrected)  # sizes read at the frames: the range measured since
    framed["detector"]["peak_on_frames"] = True
    cases = ((raw, "read small", "corrected for"),
             (corrected, "loses (0.7-1.1 of", "read small"),
             (framed, "loses (0.75-1.1 of", "0.7-1.1"))  # fmt: skip
    for k, (rep, said, not_said) in enumerate(cases):
        out = report_render(rep, tmp_path / f"case{k}")
        text, pages = pdf_text(out["pdf"])
        page = html_text(out["html"])
        assert len(pages) == 2  # the corrected limit still leaves the first three on page 2
        for shown in (text, page):
            assert said in shown and not_said not in shown
            assert "Twitches under 1 mm are mostly missed" in shown


@pytest.mark.render
def test_limits_say_how_many_counted_twitches_are_false(tmp_path):
    # a clinician reading a count needs the false-alarm rate measured at rest beside it, for
    # the detector it was measured on; a report of an earlier one keeps the advice, not figures
    now = make_report()
    now["detector"] = {"method": "flow", "fs_hz": 30.0, "px_per_mm": 1.6,
                       "amplitude_gain": FLOW_AMPLITUDE_GAIN, "peak_on_frames": True}  # fmt: skip
    earlier = make_report()  # no detector.peak_on_frames: made before it was measured
    for k, (rep, figures) in enumerate(((now, True), (earlier, False))):
        out = report_render(rep, tmp_path / f"case{k}")
        text, _ = pdf_text(out["pdf"])
        for shown in (" ".join(text.split()), " ".join(html_text(out["html"]).split())):
            assert "Not every counted twitch is real" in shown
            assert "again and again is strong" in shown
            assert ("0.8 false ones a minute" in shown) == figures
            assert ("up to 4 a minute" in shown) == figures
            assert "81 of 102 over 1 mm" in shown


def test_report_load_errors(tmp_path, report):
    with pytest.raises(InputError, match="no such file"):
        report_render(tmp_path / "missing.json", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not a readable report.json"):
        report_render(bad, tmp_path)
    # NaN is not JSON (facetwitch writes null): one line, not a report of "nan" mm
    nan = json.loads(json.dumps(report))
    nan["events"][0]["t_peak_s"] = float("nan")
    bad.write_text(json.dumps(nan))
    with pytest.raises(InputError, match="NaN is not a JSON number"):
        report_render(bad, tmp_path)
    # saved again by Windows Notepad: a byte-order mark first, read as the same report
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(report).encode())
    assert report_render(bom, tmp_path / "bom")["html"].exists()
    report["schema_version"] = "3"
    with pytest.raises(InputError, match="schema_version"):
        report_render(report, tmp_path)


def _set(value, *path):
    def edit(r):
        obj = r
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value

    return edit


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r["events"][1].pop("region"), "events[1].region is missing"),
    (lambda r: r["events"][1].pop("t_peak_s"), "events[1].t_peak_s is missing"),
    (_set("1.2", "events", 1, "t_peak_s"), 'events[1].t_peak_s must be a number, not "1.2"'),
    (_set(None, "events"), "events must be a list of objects, not null"),
    (_set("none", "events"), 'events must be a list of objects, not "none"'),
    (_set(None, "quality"), "quality must be an object, not null"),
    (_set([], "input"), "input must be an object, not []"),
    (_set("my lip twitches", "complaint"), "complaint must be an object"),
    (_set("three", "summary", "twitch_count"), "summary.twitch_count must be an integer"),
    (_set("dark video", "quality", "warnings"), "quality.warnings must be a list of strings"),
    (_set([{"region": "x"}], "summary", "by_region"), "summary.by_region[0].side is missing"),
    (lambda r: r["complaint"]["claims"][0].pop("verdict"),
     "complaint.claims[0].verdict is missing"),
], ids=["event_region_missing", "event_t_peak_missing", "t_peak_a_string", "events_null",
        "events_a_string", "quality_null", "input_a_list", "complaint_a_string",
        "twitch_count_a_string", "warnings_a_string", "by_region_row_incomplete",
        "claim_verdict_missing"])  # fmt: skip
def test_malformed_report_is_an_input_error_naming_the_field(edit, message, report, tmp_path):
    """A malformed report.json is an input error naming the field.

    A hand-edited report.json whose nested fields are missing or of the wrong type is refused up
    front, naming the field (exit 3 from the CLI), instead of failing inside a renderer as an
    internal error; a string of warnings is not shown one character per line.
    """
    edit(report)
    with pytest.raises(InputError) as caught:
        report_render(report, tmp_path / "out")
    assert str(caught.value).startswith(f"report.json: {message}"), caught.value
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()  # refused before anything is written


@pytest.mark.parametrize(("text_edit", "message"), [
    (lambda t: t.replace('"t_peak_s": ', '"t_peak_s": 1' + "0" * 400 + " + 0 * ", 1)
     .replace(" + 0 * ", ", \"_x\": ", 1), "a number out of range (100000000000..., 401 digits)"),
    (lambda t: t[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    (lambda t: t.replace('"t_peak_s": ', '"t_peak_s": 1e400, "_x": ', 1),
     "a number out of range (1e400)"),
], ids=["an_integer_of_401_digits", "nested_100000_deep", "1e400"])  # fmt: skip
@pytest.mark.hand_edited_report
def test_report_json_with_json_no_float_can_hold_is_an_input_error(text_edit, message, report,
                                                                     tmp_path):  # fmt: skip
    """Valid JSON that no float can hold, or nested past the parser, is refused when read.

    ``10**400`` is valid JSON: it used to pass the schema (an integer is a number) and fail in
    every renderer (OverflowError, exit 8, with advice to rerun that failed the same way); a
    100,000-deep list stopped the parser (RecursionError, an internal error, exit 1).
    """
    path = tmp_path / "report.json"
    path.write_text(text_edit(json.dumps(report)), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        report_render(path, tmp_path / "out")
    assert str(caught.value) == f"{path}: not a readable report.json ({message})"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
@pytest.mark.hand_edited_report
def test_cli_report_on_a_hand_edited_report_exits_3_with_one_line(tmp_path, report):
    report["events"][1]["t_peak_s"] = "1.2"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "facetwitch", "report", str(path)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f'facetwitch: error: {path}: events[1].t_peak_s must be a number, not "1.2"'
    ]
    assert not (tmp_path / "report.html").exists()


@pytest.mark.render
def test_render_from_path_and_cli(tmp_path, report):
    from typer.testing import CliRunner

    from facetwitch.cli import app

    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "html:" in result.output and (tmp_path / "o" / "report.pdf").is_file()
    assert (tmp_path / "o" / "summary.txt").read_text() == summary_text(report)
    # a missing report.json is the library's one-line input error (exit 3 through main()),
    # not typer's usage block
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nope.json")])
    assert type(result.exception).__name__ == "InputError", result
    assert str(result.exception).endswith("nope.json: no such file")


def test_pdf_wrapping_keeps_a_number_with_its_unit(tmp_path):
    """report.pdf split "0.28" (at a line's end) from its "s" (on the next line).

    Paragraphs and table cells are wrapped with the number and its unit together, and the two
    are drawn with a normal space between them (read back from the rendered PDF with pypdf).
    """
    import io

    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from pypdf import PdfReader

    from facetwitch.reports.pdf import _Flow
    from facetwitch.reports.plots import RC

    facts = {"title": "facetwitch report", "subtitle": "", "recording": "clip.mp4",
             "sha256": "0" * 12, "tool": "facetwitch", "schema_version": "2"}  # fmt: skip
    # words of every length before each number: some line would end right after a number
    text = " ".join("a" * k + " 0.28 s" for k in range(1, 30))
    cells = [["x " * k + "12.5 mm long", f"{k} fps"] for k in range(1, 12)]
    buf = io.BytesIO()
    with matplotlib.rc_context(RC), PdfPages(buf) as pdf:
        flow = _Flow(pdf, facts)
        flow.paragraph(text, 9.0, width=3.0)
        flow.table(["where", "rate"], cells, [1.2, 1.0])
        flow.finish()
    drawn = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(buf.getvalue())).pages)
    lines = drawn.splitlines()
    split = [(a, b) for a, b in zip(lines, lines[1:], strict=False)
             if re.search(r"\d$", a) and re.match(r"(s|mm|fps)\b", b)]  # fmt: skip
    assert split == [], split
    assert "\u00a0" not in drawn  # the no-break space is drawn as a space
    assert drawn.count("0.28 s") == 29 and drawn.count("12.5 mm") == 11


# -- key frames (real video, real MediaPipe track) -------------------------------------------
def clip_report(video: Path, track, *, directions=(0.0, 90.0), mirrored=False) -> dict:
    """Return a report over ``video`` whose two twitches point to ``directions``."""
    t_end = float(track.t[-1])
    rep = make_report(round(t_end, 2), twitch_times=[0.9, 1.7], path=str(video))
    rep["input"]["mirrored"] = mirrored
    rep["input"]["sha256"] = file_sha256(video)  # face pictures come only from this video
    lip = [e for e in rep["events"] if e["region"] == "upper_lip"]
    for e, d in zip(lip, directions, strict=True):
        e["direction_deg"], e["direction"], e["amplitude_mm"] = d, direction_word(d), 2.0
    return rep


def test_keyframe_arrows_point_the_measured_way(feat_data, single_face_track):
    video = feat_data / "single_face.mp4"
    rep = clip_report(video, single_face_track)
    kfs = keyframes_extract(rep, video=video, track=single_face_track, n=2)
    assert len(kfs) == 2
    left, up = sorted(kfs, key=lambda k: k.event["direction_deg"])
    for k in kfs:
        assert k.baseline.shape == k.peak.shape == (k.size, k.size, 3)
        assert k.baseline.dtype == np.uint8 and k.peak.std() > 5  # a real picture
        assert k.t_baseline_s < k.t_peak_s
        assert 0 <= k.origin[0] <= k.size and 0 <= k.origin[1] <= k.size
        assert k.magnification >= 1
    # 0 deg = patient's left = image right in an unmirrored video; 90 deg = up = image -y
    assert left.arrow[0] > 3 * abs(left.arrow[1])
    assert -up.arrow[1] > 3 * abs(up.arrow[0])
    mirrored = keyframes_extract(
        clip_report(video, single_face_track, mirrored=True),
        track=single_face_track,
        face_images=False,
        n=2,
    )
    m_left = min(mirrored, key=lambda k: k.event["direction_deg"])
    assert m_left.arrow[0] < -3 * abs(m_left.arrow[1])
    assert m_left.baseline is None  # landmark drawings only


def test_render_with_key_frames_and_privacy_mode(tmp_path, feat_data, single_face_track):
    video = feat_data / "single_face.mp4"
    track_path = single_face_track.save(tmp_path / "track.npz")
    rep = clip_report(video, single_face_track)
    faces = report_render(rep, tmp_path / "faces", video=video, track=track_path)
    private = report_render(
        rep, tmp_path / "private", video=video, track=track_path, face_images=False
    )
    for out in (faces, private):
        page = html_text(out["html"])
        assert "Key frames" in page and "#" in page and "drawn ×" not in page
        assert page.count("upper lip, left · 2.0 mm") == 2
        assert len(re.findall(r'src="data:image/png', out["html"].read_text())) == 3 + 3
        assert "KEY FRAMES" in pdf_text(out["pdf"])[0]
    assert "privacy mode" in html_text(private["html"])
    assert "privacy mode" not in html_text(faces["html"])
    assert faces["pdf"].stat().st_size > private["pdf"].stat().st_size  # photos embedded


def test_key_frames_from_another_video_show_no_face(tmp_path, feat_data, single_face_track):
    """A video whose sha256 is not the report's is not cut into "the twitch".

    The key frames are landmark drawings, with a warning and a note in the HTML and the PDF saying
    why.
    """
    video = feat_data / "single_face.mp4"
    other = feat_data / "no_face.mp4"
    rep = clip_report(video, single_face_track)
    with pytest.warns(FacetwitchWarning, match=r"no_face.mp4 is not the analysed video") as rec:
        out = report_render(rep, tmp_path, video=other, track=single_face_track)
    assert len(rec) == 1 and "\n" not in str(rec[0].message)
    page = html_text(out["html"])
    assert "No face pictures:" in page and "is not the analysed video" in page
    assert page.count("upper lip, left · 2.0 mm") == 2  # the key frames, drawn
    assert "No face pictures:" in pdf_text(out["pdf"])[0]
    with pytest.warns(FacetwitchWarning, match="is not the analysed video"):
        kfs = keyframes_extract(rep, video=other, track=single_face_track, n=2)
    assert kfs and all(k.baseline is None and k.peak is None for k in kfs)


def test_video_hashed_once_and_only_for_face_pictures(
    tmp_path, feat_data, single_face_track, monkeypatch
):
    from facetwitch.landmarks import video as video_module

    video = feat_data / "single_face.mp4"
    rep = clip_report(video, single_face_track)
    calls = []
    monkeypatch.setattr(video_module, "file_sha256",
                        lambda path: calls.append(path) or file_sha256(path))  # fmt: skip
    kfs = keyframes_extract(rep, video=video, track=single_face_track, n=2)
    assert len(calls) == 1 and all(k.peak is not None for k in kfs)
    calls.clear()
    report_render(rep, tmp_path / "a", video=video, track=single_face_track)
    assert len(calls) == 1  # checked once by report_render, not again for the frames
    calls.clear()
    # known (facetwitch analyze passes the hash of the video it tracked), or no face pictures
    kfs = keyframes_extract(rep, video=video, track=single_face_track, n=2,
                            video_sha256=rep["input"]["sha256"])  # fmt: skip
    assert all(k.peak is not None for k in kfs)
    keyframes_extract(rep, video=video, track=single_face_track, n=2, face_images=False)
    assert calls == []


# -- a real browser --------------------------------------------------------------------------
def _chromium_exe() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = _chromium_exe()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is required in CI: apt-get install chromium")
        pytest.skip("Chromium not installed (apt-get install chromium); required when CI is set")
    return exe


_FD_WRAPPER = """
import fcntl, os, sys
fds = [fcntl.fcntl(int(a), fcntl.F_DUPFD, 10) for a in sys.argv[1:3]]
for a in sys.argv[1:3]:
    os.close(int(a))
os.dup2(fds[0], 3)
os.dup2(fds[1], 4)
for fd in fds:
    os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""


class DevTools:
    """Minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, exe: str, profile: Path):
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            "--disable-extensions",
            "--mute-audio",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.log = open(profile.parent / "chromium.log", "wb")  # noqa: SIM115
        # Chromium reads commands on fd 3 and writes replies on fd 4: a tiny exec wrapper
        # puts the pipe ends there (no preexec_fn, which is unsafe with threads).
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FD_WRAPPER, str(to_r), str(from_w), *cmd],
            pass_fds=(to_r, from_w),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
        )
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_w)
        os.close(self._from_r)
        self.log.close()

    def _read(self, timeout: float) -> dict | None:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._from_r], [], [], left)[0]:
                return None
            chunk = os.read(self._from_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = self._read(end - time.monotonic())
            if m is None:
                break
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
        raise TimeoutError(method)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        end = time.monotonic() + timeout
        while True:
            for m in self.events:
                if m.get("method") == method:
                    return m
            m = self._read(max(0.0, end - time.monotonic()))
            if m is None:
                raise TimeoutError(method)
            self.events.append(m)


def browse(exe: str, page: Path, tmp: Path, screenshot: Path) -> dict:
    """Load ``page`` in headless Chromium; return requests, errors, DOM facts, screenshot."""
    (tmp / "profile").mkdir(parents=True, exist_ok=True)
    dt = DevTools(exe, tmp / "profile")
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.send(f"{domain}.enable", session=session)
        dt.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1240, "height": 1754, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        dt.events.clear()
        dt.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        dt.wait_event("Page.loadEventFired")
        facts = dt.send(
            "Runtime.evaluate",
            {
                "returnByValue": True,
                "expression": """
            JSON.stringify({scripts: document.scripts.length,
                            text: document.body.innerText,
                            images: [...document.images].map(i => [i.complete, i.naturalWidth]),
                            height: document.documentElement.scrollHeight})""",
            },
            session=session,
        )["result"]["value"]
        facts = json.loads(facts)
        shot = dt.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1240, "height": facts["height"], "scale": 1},
            },
            session=session,
        )
        import base64

        screenshot.write_bytes(base64.b64decode(shot["data"]))
        time.sleep(0.2)
        while (m := dt._read(0.2)) is not None:
            dt.events.append(m)
    finally:
        dt.close()
    requests = [
        m["params"]["request"]["url"]
        for m in dt.events
        if m.get("method") == "Network.requestWillBeSent"
    ]
    errors = [
        m["params"]
        for m in dt.events
        if m.get("method") in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
    ]
    errors += [
        m["params"]
        for m in dt.events
        if m.get("method") == "Runtime.consoleAPICalled"
        and m["params"].get("type") in ("error", "warning", "assert")
    ]
    errors += [
        m["params"]
        for m in dt.events
        if m.get("method") == "Log.entryAdded"
        and m["params"]["entry"].get("level") in ("error", "warning")
    ]
    return {"requests": requests, "errors": errors, **facts}


@pytest.mark.browser
def test_browser_loads_report_offline_without_errors(chromium, rendered, tmp_path):
    shot = tmp_path / "report.png"
    seen = browse(chromium, rendered["html"], tmp_path, shot)
    assert seen["errors"] == []
    outside = [u for u in seen["requests"] if not u.startswith(("file://", "data:"))]
    assert outside == [], outside
    assert seen["scripts"] == 0
    assert seen["images"] and all(ok and w > 100 for ok, w in seen["images"])
    for number in expected_numbers(_REPORT):
        assert number in seen["text"], number
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1240 and height > 1754


@pytest.mark.browser
def test_browser_shows_hostile_complaint_as_text(chromium, tmp_path, xss_rendered):
    seen = browse(chromium, xss_rendered["html"], tmp_path, tmp_path / "xss.png")
    assert seen["errors"] == []  # no dialog, no CSP violation: nothing tried to run
    assert seen["scripts"] == 0
    assert [u for u in seen["requests"] if not u.startswith(("file://", "data:"))] == []
    assert '<script>alert(1)</script><img src="https://example.com/x.png">' in seen["text"]
    assert len(seen["images"]) == 3  # only the three plots: the <img> in the text is text


@pytest.mark.browser
def test_browser_harness_sees_requests_and_errors(chromium, tmp_path):
    """The checks above are not vacuous: a page that fetches and logs an error is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">'
        '<script>console.error("boom")</script></body></html>'
    )
    seen = browse(chromium, page, tmp_path, tmp_path / "bad.png")
    assert any(u.startswith("http://example.invalid/") for u in seen["requests"])
    assert seen["errors"] and seen["scripts"] == 1
