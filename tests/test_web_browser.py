"""The web app in a real browser.

Debian's headless Chromium, a fake camera fed with real face footage (the demo sample as .y4m) and a
fake microphone (a voice made by espeak-ng).

One server and one browser for the module; the analyses run one after another in the server's
queue: an upload through the page (with a server restart and a page reload in the middle of
its analysis), a 10 s recording with two "I felt one" presses, and a recording whose tab is
closed while recording. Screenshots of every page go to ``$FACETWITCH_SCREENSHOTS`` (if set)
or the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import wave
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from webtools import REPO, Browser, Server

from facetwitch.diary import Diary

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DEMO = REPO / "samples" / "demo_upper_lip.mp4"


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if exe := shutil.which(name):
            return exe
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is required in CI: apt-get install chromium")
    pytest.skip("Chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    path = Path(os.environ.get("FACETWITCH_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def y4m_write(src: Path, dst: Path, seconds: float) -> list[np.ndarray]:
    """Write the first ``seconds`` of ``src`` as a raw YUV 4:2:0 .y4m.

    The first ``seconds`` of ``src`` as a raw YUV 4:2:0 .y4m (what Chromium's fake camera reads, in
    a loop); returns the frames written (RGB) for comparisons.
    """
    frames = []
    with av.open(str(src)) as c:
        s = c.streams.video[0]
        rate = s.average_rate
        for f in c.decode(video=0):
            if f.time is not None and f.time >= seconds:
                break
            frames.append(f)
    w, h = frames[0].width, frames[0].height
    with open(dst, "wb") as out:
        out.write(
            f"YUV4MPEG2 W{w} H{h} F{rate.numerator}:{rate.denominator} Ip A1:1 C420jpeg\n".encode()
        )
        for f in frames:
            out.write(b"FRAME\n")
            out.write(f.reformat(format="yuv420p").to_ndarray().tobytes())
    return [f.to_ndarray(format="rgb24") for f in frames]


@pytest.fixture(scope="module")
def fake_media(tmp_path_factory):
    """(y4m, wav, frames): 5 s of the demo face, and a voice saying a sentence."""
    tmp = tmp_path_factory.mktemp("media")
    frames = y4m_write(DEMO, tmp / "face.y4m", 5.0)
    wav = tmp / "voice.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(wav), "my upper lip twitches upward and to the left"],
        check=True,
        capture_output=True,
    )
    with wave.open(str(wav)) as w:
        assert w.getnframes() > w.getframerate()  # more than a second of sound
    return tmp / "face.y4m", wav, frames


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("web") / "data", args=("--stale-s", "3"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(chromium, fake_media, tmp_path_factory):
    y4m, wav, _ = fake_media
    b = Browser(chromium, tmp_path_factory.mktemp("chromium") / "profile", video=y4m, audio=wav)
    yield b
    b.close()


def page_text(browser: Browser) -> str:
    return browser.js("document.body.innerText")


def no_errors(browser: Browser) -> None:
    errors = [e for e in browser.errors() if "favicon" not in json.dumps(e)]
    assert errors == [], errors


# -- upload ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uploaded(web, browser, shots):
    """Return the demo uploaded through the page.

    The server restarted while it is analysed and the page reloaded: the analysis resumes and the
    page follows it to the report.
    """
    browser.open(f"{web.url}/upload")
    browser.js(
        "document.getElementById('complaint').value = "
        "'my upper lip twitches upward and to the left'"
    )
    browser.js("document.getElementById('markers').value = '3.5, 0:09'")
    browser.set_files("#files", [DEMO])
    seen = browser.wait_for(
        "(() => { const s = document.querySelector('.upload-item .state');"
        " return s && /finding the face/.test(s.textContent) && /[1-9][0-9]* %/.test(s.textContent)"
        " && s.textContent; })()",
        timeout=300,
    )
    browser.screenshot(shots / "upload.png")
    no_errors(browser)
    rid = browser.js("document.querySelector('.upload-item').dataset.id")
    assert "left" in seen or "%" in seen
    job = Diary(web.data).job_latest(rid)
    assert job.status == "running" and job.attempts == 1
    # the server stops mid-analysis and starts again on the same data
    web.stop()
    assert Diary(web.data).job(job.id).status == "running"  # not lost, not failed
    web.start()
    browser.navigate(f"{web.url}/r/{rid}")
    resumed = browser.wait_for(
        "(() => { const s = document.querySelector('#progress .stage');"
        " return s && s.textContent !== 'waiting' && document.querySelector('#progress .percent')"
        ".textContent; })()",
        timeout=300,
    )
    browser.screenshot(shots / "progress.png")
    browser.reload()  # a reload in the middle: the progress view comes back
    browser.wait_for("document.querySelector('#progress .percent') !== null")
    browser.wait_for("document.getElementById('report-frame') !== null", timeout=600)
    assert Diary(web.data).job(job.id).attempts == 2
    return {"id": rid, "resumed": resumed}


def test_upload_resumes_after_restart_and_shows_the_report(web, browser, uploaded, shots):
    rid = uploaded["id"]
    rec = Diary(web.data).recording(rid)
    assert rec.status == "done" and rec.source == "upload" and rec.title == DEMO.name
    report = rec.report()
    assert report["input"]["sha256"] and rec.video == "video.mp4"
    assert [m["t_s"] for m in report["markers"]] == [3.5, 9.0]
    browser.wait_for(
        "document.getElementById('report-frame').contentDocument.body.innerText.length > 500"
    )
    browser.js("new Promise(r => setTimeout(r, 1500))")
    text = page_text(browser)
    n = rec.numbers
    assert f"{n['twitch_count']}" in browser.js(
        "document.getElementById('twitch-count').textContent"
    )
    assert n["twitch_count"] >= 5 and n["regions"][0] == {
        "region": "upper_lip",
        "side": "left",
        "count": n["regions"][0]["count"],
    }
    assert "left upper lip" in text and "Download the PDF" in text
    assert "my upper lip twitches upward" in text
    # the report inside the page: the same numbers as report.json
    frame_text = browser.js(
        "document.getElementById('report-frame').contentDocument.body.innerText"
    )
    assert "upper lip" in frame_text and "left" in frame_text
    # the markers are listed
    assert browser.js("document.querySelectorAll('#markers li').length") == 2
    # one clip per twitch (up to the limit), each playing
    clips = json.loads((rec.clips_dir / "clips.json").read_text())["clips"]
    assert len(clips) >= 5
    assert browser.js("document.querySelectorAll('.clip video').length") == len(clips)
    playing = browser.wait_for(
        "(() => { const v = [...document.querySelectorAll('.clip video')];"
        " return v.every(x => x.readyState >= 2 && x.videoWidth > 0) && v.length; })()",
        timeout=60,
    )
    assert playing == len(clips)
    assert "movement magnified 4 times" in text and "4 times slower" in text
    browser.screenshot(shots / "report.png")
    no_errors(browser)
    # the PDF downloads
    pdf = web.get(f"/r/{rid}/report.pdf?download=1")
    assert pdf.status == 200 and pdf.body[:5] == b"%PDF-"
    assert "attachment" in pdf.headers["content-disposition"]


def test_diary_page_lists_the_recording(web, browser, uploaded, shots):
    browser.navigate(f"{web.url}/")
    text = page_text(browser)
    rec = Diary(web.data).recording(uploaded["id"])
    assert rec.created[:10] in text and DEMO.name in text
    assert f"{rec.numbers['twitch_count']}" in text and "left upper lip" in text
    assert browser.js("document.querySelectorAll('svg rect.chart-bar').length") >= 1
    n = rec.numbers["twitch_count"]
    title = browser.js("document.querySelector('svg rect.chart-bar title').textContent")
    assert f": {n} twitch{'' if n == 1 else 'es'} in " in title, title
    browser.screenshot(shots / "diary.png")
    no_errors(browser)


def test_consult_bundle_through_the_page(web, browser, uploaded, shots, tmp_path):
    browser.navigate(f"{web.url}/consult")
    browser.js(
        "document.querySelectorAll('input[name=ids]').forEach(b => "
        f"b.checked = b.value === {json.dumps(uploaded['id'])})"
    )
    browser.js("document.getElementById('clips').checked = true")
    browser.click("#make-bundle")
    url = browser.wait_for(
        "(() => { const r = document.getElementById('bundle-ready');"
        " return !r.hidden && document.getElementById('bundle-link')"
        ".getAttribute('href'); })()",
        timeout=120,
    )
    summary = browser.js("document.getElementById('bundle-summary').textContent")
    browser.screenshot(shots / "consult.png")
    no_errors(browser)
    res = web.get(url)
    assert res.status == 200 and res.headers["content-type"] == "application/zip"
    path = tmp_path / "bundle.zip"
    path.write_bytes(res.body)
    rec = Diary(web.data).recording(uploaded["id"])
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        readme = z.read("README.txt").decode()
        data = json.loads(z.read("summary.json"))
    n = rec.numbers["twitch_count"]
    assert summary.startswith(f"{n} twitches in ") and summary in readme
    assert "left upper lip" in summary
    folder = data["recordings"][0]["folder"]
    for name in ("report.pdf", "report.html", "summary.txt", "report.json", "events.csv"):
        assert f"{folder}/{name}" in names
    clips = [x for x in names if x.startswith(f"{folder}/clips/") and x.endswith(".mp4")]
    assert len(clips) == len(json.loads((rec.clips_dir / "clips.json").read_text())["clips"])
    assert "magnified 4 times" in readme
    assert not any(x.endswith((".webm", ".mkv")) or "video.mp4" in x for x in names)


# -- recording in the browser ----------------------------------------------------------------
@pytest.fixture(scope="module")
def recorded(web, browser, shots, uploaded):
    """About 10 s recorded in the page with two "I felt one" presses (space, then the button)."""
    browser.open(f"{web.url}/record")
    browser.wait_for(
        "window.facetwitchRecorder && window.facetwitchRecorder.faceChecks > 0 "
        "&& !document.getElementById('start').disabled",
        timeout=60,
    )
    face = browser.js("window.facetwitchRecorder.faceFound")
    browser.js("document.getElementById('complaint').value = 'twitch in my upper lip'")
    browser.click("#start")
    browser.wait_for("window.facetwitchRecorder.recording")
    t0 = time.monotonic()
    time.sleep(3.0)
    browser.key()  # the space bar
    time.sleep(3.0)
    browser.click("#felt")
    time.sleep(2.0)
    browser.screenshot(shots / "record.png")
    time.sleep(max(0.0, 10.0 - (time.monotonic() - t0)))
    state = browser.js("JSON.stringify(window.facetwitchRecorder)")
    browser.click("#stop")
    browser.wait_for("location.pathname.startsWith('/r/')", timeout=60)
    rid = browser.js("location.pathname.split('/')[2]")
    browser.wait_for("document.getElementById('report-frame') !== null", timeout=600)
    no_errors(browser)
    return {"id": rid, "state": json.loads(state), "face": face}


def test_record_in_the_browser_with_two_markers(web, browser, recorded, fake_media, shots):
    state = recorded["state"]
    assert recorded["face"] is True  # the live face check found the face on this computer
    assert state["audio"] and state["mime"].startswith("video/webm")
    assert state["chunksSent"] >= 8  # a chunk a second
    assert len(state["markers"]) == 2
    rec = Diary(web.data).recording(recorded["id"])
    assert rec.status == "done" and rec.source == "browser" and rec.video == "recording.mkv"
    report = rec.report()
    marks = [m["t_s"] for m in report["markers"]]
    assert len(marks) == 2 and marks == pytest.approx(state["markers"], abs=0.01)
    assert 2.5 < marks[0] < 4.5 and 5.5 < marks[1] < 7.5
    if report.get("schema_version") == "2":  # the lead's marker verdicts
        assert all(
            m["verdict"] in ("twitch_measured", "none_measured", "not_assessable")
            for m in report["markers"]
        )
    assert 9.0 < report["input"]["duration_s"] < 12.0
    assert browser.js("document.querySelectorAll('#markers li').length") == 2
    assert "twitch in my upper lip" in page_text(browser)
    browser.screenshot(shots / "recording-report.png")
    # the file: indexed Matroska with a duration, with the sound, and not mirrored
    with av.open(str(rec.dir / "recording.mkv")) as c:
        assert c.duration is not None and c.duration / 1e6 == pytest.approx(
            report["input"]["duration_s"], abs=0.5
        )
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "opus"
        c.seek(int(2e6))  # cues: seekable
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    _, _, sent = fake_media
    import cv2

    small = [f[::4, ::4].astype(float) for f in sent]
    h, w = sent[0].shape[:2]
    got = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)[::4, ::4].astype(float)
    as_is = min(np.mean(np.abs(got - s)) for s in small)
    flipped = min(np.mean(np.abs(got - s[:, ::-1])) for s in small)
    assert as_is < flipped / 2  # saved as the camera sees the patient, not as the mirror shows


def test_closing_the_tab_keeps_what_was_recorded(web, browser, recorded, shots):
    browser.open(f"{web.url}/record")
    browser.wait_for("!document.getElementById('start').disabled", timeout=60)
    browser.click("#start")
    browser.wait_for("window.facetwitchRecorder.chunksSent >= 4", timeout=30)
    rid = browser.js("window.facetwitchRecorder.id")
    sent = browser.js("window.facetwitchRecorder.chunksSent")
    browser.close_tab()  # no stop, no goodbye
    diary = Diary(web.data)
    assert diary.recording(rid).status == "recording"
    state = web.wait_status(rid, timeout=600)  # finalised after 3 s without data, analysed
    assert state["status"] == "done", state
    rec = diary.recording(rid)
    assert rec.video == "recording.mkv"
    assert rec.numbers["duration_s"] >= sent - 1.5
    browser.open(f"{web.url}/r/{rid}")
    assert browser.js("document.getElementById('report-frame') !== null")
    # and it can be deleted from its page, after a confirmation
    browser.click("#delete")
    assert browser.js("!document.getElementById('confirm').hidden")
    # what shows: the question and its two buttons, not the first button again
    assert browser.js("getComputedStyle(document.getElementById('delete')).display") == "none"
    browser.js("document.getElementById('confirm').scrollIntoView()")
    browser.screenshot(shots / "delete-confirm.png", full=False)
    browser.click("#confirm-delete")
    browser.wait_for("location.pathname === '/'", timeout=30)
    with pytest.raises(Exception, match="no such recording"):
        diary.recording(rid)
    assert not (web.data / "recordings" / rid).exists()
