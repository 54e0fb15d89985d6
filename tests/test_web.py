"""The web app's server and diary: real server subprocess, real HTTP, real SQLite.

Security: every refused request is checked to leave the data directory as it was (no file,
no diary row). Nothing here runs the face model on a whole clip (the browser tests do, in
tests/test_web_browser.py).
"""

from __future__ import annotations

import html
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from webtools import Server, multipart, tree

from facetwitch.diary import (
    Diary,
    bundle_write,
    diary_summary,
    rate_by_day,
    report_numbers,
)
from facetwitch.errors import InputError, UsageError
from facetwitch.web.app import parse_markers

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)"> & "quoted"'


def schema1_report(n_twitches=3, duration_s=60.0) -> dict:
    """Return a report.json (schema 1) as the landed analysis writes it (the fields read here)."""
    events = [
        {
            "id": k + 1,
            "kind": "twitch",
            "region": "upper_lip",
            "side": "left",
            "t_start_s": 5.0 * k + 1,
            "t_peak_s": 5.0 * k + 1.1,
            "t_end_s": 5.0 * k + 1.3,
            "duration_s": 0.3,
            "amplitude_mm": 1.5,
            "direction_deg": 45.0,
            "direction": "up-left",
            "co_occurring": [],
            "confidence": 0.9,
        }
        for k in range(n_twitches)
    ]
    events.append(
        {
            "id": n_twitches + 1,
            "kind": "blink",
            "region": "upper_eyelid",
            "side": "both",
            "t_start_s": 30.0,
            "t_peak_s": 30.1,
            "t_end_s": 30.2,
            "duration_s": 0.2,
            "amplitude_mm": 8.0,
            "direction_deg": 270.0,
            "direction": "down",
            "co_occurring": [],
            "confidence": 0.95,
        }
    )
    return {
        "schema_version": "1",
        "input": {
            "path": "/x.mp4",
            "sha256": "ab" * 32,
            "duration_s": duration_s,
            "mirrored": False,
        },
        "quality": {"reliable": True, "unreliable_reasons": [], "warnings": []},
        "events": events,
        "summary": {
            "twitch_count": n_twitches,
            "analysed_s": duration_s - 2.0,
            "blink_rate_per_min": 1.0,
            "twitch_rate_per_min": 1.0,
            "by_region": [],
        },
        "markers": [{"t_s": 1.0}],
        "complaint": None,
    }


# -- the diary's numbers ---------------------------------------------------------------------
def test_report_numbers_schema1_counts_every_twitch_over_analysed_time():
    n = report_numbers(schema1_report(3, 60.0))
    assert n["schema_version"] == "1"
    assert n["assessable_s"] == 58.0  # summary.analysed_s stands for the assessable time
    assert n["twitch_count"] == 3 and n["uncounted_count"] == 0
    assert n["twitch_rate_per_min"] == round(3 / (58.0 / 60), 2)
    assert n["regions"] == [{"region": "upper_lip", "side": "left", "count": 3}]
    assert n["direction"] == "up-left" and n["direction_deg"] == 45.0
    assert n["markers"] == [{"t_s": 1.0, "verdict": None, "event_ids": []}]


def test_report_numbers_schema2_counts_only_counted_twitches_over_assessable_time():
    r = schema1_report(4, 120.0)
    r["schema_version"] = "2"
    r["summary"].update(assessable_s=90.0, twitch_count=3)
    for e in r["events"]:
        e["counted"] = True
    r["events"][1]["counted"] = False  # seen while talking
    r["events"][1]["region"], r["events"][1]["side"] = "cheek", "right"
    r["markers"] = [{"t_s": 1.2, "verdict": "twitch_measured", "event_ids": [1]}]
    n = report_numbers(r)
    assert n["assessable_s"] == 90.0 and n["twitch_count"] == 3 and n["uncounted_count"] == 1
    assert n["twitch_rate_per_min"] == 2.0
    assert n["regions"] == [{"region": "upper_lip", "side": "left", "count": 3}]  # not the cheek
    assert n["markers"][0]["verdict"] == "twitch_measured"


def test_report_numbers_without_assessable_time_gives_no_rate():
    r = schema1_report(0, 0.0)
    r["summary"]["analysed_s"] = 0.0
    n = report_numbers(r)
    assert n["twitch_rate_per_min"] is None and n["twitch_count"] == 0 and n["direction"] is None


def test_parse_markers():
    assert parse_markers("12.5, 41 1:05;0:00:03") == [
        {"t_s": 3.0},
        {"t_s": 12.5},
        {"t_s": 41.0},
        {"t_s": 65.0},
    ]
    assert parse_markers("") == []
    for bad in ("12s", "-1", "1:75", "a", "1:2:3:4"):
        with pytest.raises(InputError, match="not a time"):
            parse_markers(bad)
    # a decimal comma, or two times without a space: asked, never guessed ("12,5" had been
    # read as the two markers 5 and 12)
    with pytest.raises(InputError, match=r"'12,5' could be 12.5 s or two times; write 12.5 for"):
        parse_markers("3; 12,5")
    assert parse_markers("12,  5") == [{"t_s": 5.0}, {"t_s": 12.0}]
    # as `analyze --marker` refuses it: 1e308 had made the report's timeline fail
    for far in ("1e308", "604801", "200:00:00"):
        with pytest.raises(InputError, match="more than a week into the video"):
            parse_markers(f"3, {far}")


# -- the store -------------------------------------------------------------------------------
def _add(diary: Diary, tmp: Path, report: dict, name: str) -> str:
    d = tmp / name
    d.mkdir()
    (d / "report.json").write_text(json.dumps(report))
    (d / "report.pdf").write_bytes(b"%PDF-1.4 test")
    (d / "summary.txt").write_text("In 60 s of video ...")
    return diary.add_analysed(d, None, source="analyze", title=name).id


def test_diary_add_list_summary_bundle_delete(tmp_path):
    diary = Diary(tmp_path / "data")
    a = _add(diary, tmp_path, schema1_report(3, 62.0), "a")
    b = _add(diary, tmp_path, schema1_report(2, 122.0), "b")
    recs = diary.recordings()
    assert [r.id for r in recs] == sorted([a, b], reverse=True)
    assert all(r.status == "done" and r.numbers["twitch_count"] in (2, 3) for r in recs)
    s = diary_summary(recs)
    assert s["twitch_count"] == 5 and s["assessable_s"] == 60.0 + 120.0
    assert s["text"].startswith("5 twitches in 3 min of assessable video over 1 day (2 recordings")
    assert "all left upper lip, moving up-left" in s["text"]
    days = rate_by_day(recs)
    assert len(days) == 1 and days[0]["rate_per_min"] == round(5 / 3, 2)

    out = bundle_write(diary, [a, b], tmp_path / "bundle.zip")
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        readme = z.read("README.txt").decode()
    assert "README.txt" in names and "summary.json" in names
    assert sum(n.endswith("/report.pdf") for n in names) == 2
    assert not any("/clips/" in n for n in names)
    assert s["text"] in readme

    path = diary.recording(a).dir
    assert path.is_dir()
    diary.recording_delete(a)
    assert not path.exists() and [r.id for r in diary.recordings()] == [b]
    with pytest.raises(InputError, match="no such recording"):
        diary.recording(a)


def test_diary_summary_words_a_rate_as_the_report_does(tmp_path):
    """The diary's summary said "1895.7 per assessable hour" of a few seconds of assessable time.

    Now as the report's summary: a rate per minute after the time it was measured over, and
    none under 3 s of assessable time (MIN_ASSESSABLE_S), where a count cannot be a rate.
    """
    from facetwitch.quality import MIN_ASSESSABLE_S
    from facetwitch.reports.words import fmt_per_min

    def short(n: int, analysed_s: float) -> dict:  # schema 1: the analysed time is assessable
        r = schema1_report(n, 20.0)
        r["summary"]["analysed_s"] = analysed_s
        return r

    diary = Diary(tmp_path / "data")
    _add(diary, tmp_path, short(3, 5.7), "a")
    s = diary_summary(diary.recordings())
    assert s["rate_per_min"] == round(3 / (5.7 / 60), 2) and "rate_per_hour" not in s
    assert s["text"].startswith(
        f"3 twitches in 5.7 s of assessable video over 1 day (1 recording; "
        f"{fmt_per_min(s['rate_per_min'])}), all left upper lip"
    ), s["text"]
    assert "31.6 a minute" in s["text"] and "hour" not in s["text"]
    diary = Diary(tmp_path / "data2")
    _add(diary, tmp_path, short(2, MIN_ASSESSABLE_S - 0.5), "b")
    s = diary_summary(diary.recordings())
    assert s["rate_per_min"] is None
    assert s["text"].startswith(
        "2 twitches in 2.5 s of assessable video over 1 day (1 recording; too little "
        "assessable time for a rate, under 3 s), all left upper lip"
    ), s["text"]


def test_diary_ids_are_checked_before_any_path_is_built(tmp_path):
    diary = Diary(tmp_path / "data")
    for bad in ("../../etc", "20250101-000000-abcd/..", "x", "", "20250101-000000-ABCD"):
        with pytest.raises(InputError, match="not a recording id"):
            diary.recording_dir(bad)


def test_bundle_refuses_unanalysed_and_empty(tmp_path):
    diary = Diary(tmp_path / "data")
    rec = diary.recording_new(source="upload", title="x")
    with pytest.raises(UsageError, match="not analysed yet"):
        bundle_write(diary, [rec.id], tmp_path / "b.zip")
    with pytest.raises(UsageError, match="at least one"):
        bundle_write(diary, [], tmp_path / "b.zip")
    # a failed one will not be analysed by waiting: it had been "not analysed yet" too
    diary.recording_update(rec.id, status="failed", error="no face found")
    with pytest.raises(UsageError, match=f"its analysis failed, so not in a bundle: {rec.id}"):
        bundle_write(diary, [rec.id], tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_jobs_queue_in_order_and_recover_after_a_restart(tmp_path):
    diary = Diary(tmp_path / "data")
    r1 = diary.recording_new(source="upload", title="1")
    r2 = diary.recording_new(source="upload", title="2")
    j1, j2 = diary.job_add(r1.id), diary.job_add(r2.id)
    claimed = diary.job_claim()
    assert claimed.id == j1.id and claimed.status == "running" and claimed.attempts == 1
    assert diary.recording(r1.id).status == "analysing"
    assert diary.recording(r2.id).status == "queued"
    # the server stops mid-analysis: at the next start the job is queued again, first in line
    diary.jobs_recover(max_attempts=3)
    assert diary.job(j1.id).status == "queued" and diary.recording(r1.id).status == "queued"
    assert diary.job_claim().id == j1.id
    for _ in range(2):  # interrupted again and again: failed with the reason, not retried
        diary.jobs_recover(max_attempts=3)
        diary.job_claim()
    diary.jobs_recover(max_attempts=3)
    assert diary.job(j1.id).status == "failed"
    assert "interrupted 3 times" in diary.recording(r1.id).error
    assert diary.job_claim().id == j2.id


# -- the server: security --------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("web") / "data", args=("--max-upload-mb", "1", "--stale-s", "2")
    )
    srv.start()
    yield srv
    srv.stop()


def snapshot(server: Server) -> tuple:
    """Every file of the data directory and every diary row and job."""
    diary = Diary(server.data)
    return tree(server.data), [r.id for r in diary.recordings()], [j.id for j in diary.jobs()]


def _unchanged(server: Server, before: tuple) -> None:
    assert snapshot(server) == before


def test_a_second_server_or_a_busy_port_is_refused_in_one_line(server, tmp_path):
    """One server per data directory; a port in use: each said in one line, nothing made.

    A busy port had been found only after a new ``--data`` directory was created.
    """
    import subprocess
    import sys

    from webtools import REPO, free_port

    def serve(*args):
        return subprocess.run(
            [sys.executable, "-m", "facetwitch", "serve", "--no-browser", *map(str, args)],
            cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    run = serve("--port", free_port(), "--data", server.data)
    assert run.returncode == 5, run
    assert (
        run.stderr.strip()
        .splitlines()[-1]
        .endswith("another 'facetwitch serve' is using this data directory")
    ), run.stderr
    new = tmp_path / "new data"
    run = serve("--port", server.port, "--data", new)
    assert run.returncode == 2, run
    assert f"cannot listen on 127.0.0.1 port {server.port}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and not new.exists()


def test_pages_load_with_security_headers(server):
    for path in ("/", "/record", "/upload", "/consult"):
        res = server.get(path)
        assert res.status == 200, path
        csp = res.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["cross-origin-resource-policy"] == "same-origin"
        assert server.token in res.text
        assert "<script>" not in res.text  # no inline script: all from /static
    assert server.get("/nope").status == 404
    assert server.get("/static/record.js").status == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "127.0.0.1:1",
        "localhost",
        "[::1]:{port}",
        "127.0.0.1.evil.example:{port}",
    ],
)
def test_wrong_host_is_refused(server, host):
    """DNS rebinding: another name resolving to 127.0.0.1 carries that name in Host."""
    before = snapshot(server)
    host = host.format(port=server.port)
    assert server.get("/", host=host).status == 403
    res = server.post("/api/rec/start", {"complaint": "x"}, host=host)
    assert res.status == 403 and "Host" in res.json()["error"]
    _unchanged(server, before)


def test_localhost_is_accepted(server):
    assert server.get("/", host=f"localhost:{server.port}").status == 200


@pytest.mark.parametrize(
    ("origin", "token"),
    [
        ("http://evil.example", "default"),
        (None, "default"),
        ("null", "default"),
        ("http://127.0.0.1:1", "default"),
        ("default", None),
        ("default", "wrong-token"),
        ("default", ""),
    ],
)
def test_state_changing_requests_need_our_origin_and_the_token(server, origin, token):
    before = snapshot(server)
    for path, body in (
        ("/api/rec/start", {"complaint": "x"}),
        ("/api/bundle", {"ids": []}),
        ("/api/r/20250101-000000-abcd/delete", None),
    ):
        res = server.post(path, body, origin=origin, token=token)
        assert res.status == 403, (path, res.status, res.text)
    body, headers = multipart({"complaint": "x"}, "file", "a.mp4", b"\x00" * 1000)
    res = server.post("/api/upload", body, headers=headers, origin=origin, token=token)
    assert res.status == 403
    _unchanged(server, before)


def test_cross_site_reads_and_other_methods_are_refused(server):
    res = server.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert res.status == 403
    # the patient following a link from elsewhere still gets the page
    res = server.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert res.status == 200
    assert server.request("PUT", "/api/rec/start", b"{}").status == 405
    assert server.request("DELETE", "/api/r/20250101-000000-abcd").status == 405


def test_wrong_methods_bad_ranges_and_head_are_answered_as_the_app_answers(server):
    """Three answers that were not the app's own.

    A wrong method on one of the app's routes got Starlette's plain-text 405; a Range header
    that is not valid (``bytes=50-10``) got a 400, where RFC 9110 lets a server ignore it; a
    HEAD on a missing recording got JSON where its GET gets the error page.
    """

    def allowed(res) -> set[str]:
        return {m.strip() for m in res.headers["allow"].split(",")}

    for method, path, allow in (
        ("GET", "/api/upload", {"POST"}),
        ("POST", "/record", {"GET", "HEAD"}),
        ("POST", "/static/record.js", {"GET", "HEAD"}),
        ("PUT", "/api/rec/start", {"GET", "HEAD", "POST"}),  # no route takes PUT: the guard
    ):
        res = server.request(method, path, b"")
        assert res.status == 405, (method, path)
        assert res.headers["content-type"] == "application/json", (method, path)
        error = res.json()["error"]
        assert error.startswith(f"method {method} is not allowed here (only ") and "\n" not in error
        assert allowed(res) == allow, (method, path)
    whole = server.get("/static/record.js")
    assert whole.status == 200 and len(whole.body) > 100
    for bad in ("bytes=50-10", "bytes=abc", "bytes=", "lines=0-5", "bytes=0-5,9-3"):
        res = server.get("/static/record.js", headers={"Range": bad})
        assert (res.status, res.body) == (200, whole.body), bad
    res = server.get("/static/record.js", headers={"Range": "bytes=10-19"})
    assert (res.status, res.body) == (206, whole.body[10:20])
    res = server.get("/static/record.js", headers={"Range": "bytes=99999999-"})
    assert res.status == 416  # a valid range past the end: RFC 9110's answer
    for path in ("/r/20250101-000000-abcd", "/r/20250101-000000-abcd/report.pdf", "/nope",
                 "/api/r/20250101-000000-abcd"):  # fmt: skip
        get, head = server.get(path), server.request("HEAD", path)
        assert (head.status, head.headers["content-type"]) == (
            get.status,
            get.headers["content-type"],
        ), path
        assert get.status == 404 and head.body == b""
    assert server.get("/r/20250101-000000-abcd").headers["content-type"].startswith("text/html")


def test_text_file_named_mp4_is_refused(server):
    before = snapshot(server)
    body, headers = multipart(
        {"complaint": "lip"}, "file", "holiday.mp4", b"this is not a video, only text\n" * 100
    )
    res = server.post("/api/upload", body, headers=headers)
    assert res.status == 400
    msg = res.json()["error"]
    assert msg.startswith("holiday.mp4: not a readable video") and "\n" not in msg
    _unchanged(server, before)
    assert not list((server.data / "tmp").iterdir())


def test_form_fields_past_the_twentieth_or_sent_twice_are_refused_not_dropped(server):
    """Form fields after the 20th were dropped unread; a field sent twice kept the later one.

    Either could silently lose the patient's marker times (or description) while the upload
    was accepted. Now each is a 400 saying so, and nothing is kept.
    """
    before = snapshot(server)
    fields = {f"extra{k}": "x" for k in range(20)} | {"markers": "12.5, 41"}
    body, headers = multipart(fields, "file", "clip.mp4", b"not looked at" * 100)
    res = server.post("/api/upload", body, headers=headers)
    assert res.status == 400
    assert res.json()["error"] == (
        "the upload's form has more than 20 fields (the upload page sends mirrored, complaint "
        "and markers): nothing was kept; send it again without the others"
    )
    b = "----facetwitchtwice"
    part = 'Content-Disposition: form-data; name="markers"\r\n\r\n'
    body = (f"--{b}\r\n{part}12.5\r\n--{b}\r\n{part}41\r\n--{b}\r\n"
            'Content-Disposition: form-data; name="file"; filename="clip.mp4"\r\n\r\n'
            f"not looked at\r\n--{b}--\r\n").encode()  # fmt: skip
    res = server.post(
        "/api/upload", body, headers={"Content-Type": f"multipart/form-data; boundary={b}"}
    )
    assert res.status == 400
    assert res.json()["error"] == (
        "the form field 'markers' is sent twice; send it once (several marker times go in "
        "one, separated by commas)"
    )
    _unchanged(server, before)
    assert not list((server.data / "tmp").iterdir())


def _raw_upload(server: Server, body: bytes, headers: dict, *, chunked: bool) -> bytes:
    """Send an upload over a bare socket.

    Reading the answer as soon as there is one (the server answers an oversize upload without
    reading it all, and closes).
    """
    import select
    import socket

    head = {
        "Host": f"127.0.0.1:{server.port}",
        "Origin": server.origin,
        "X-Facetwitch-Token": server.token,
        **headers,
    }
    if chunked:
        head["Transfer-Encoding"] = "chunked"
    else:
        head["Content-Length"] = str(len(body))
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        b"POST /api/upload HTTP/1.1\r\n"
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in head.items())
        + b"\r\n"
    )
    answer = b""
    try:
        for k in range(0, len(body), 65536):
            if select.select([sock], [], [], 0.02)[0]:
                break  # answered already
            piece = body[k : k + 65536]
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while not _whole_answer(answer) and (chunk := sock.recv(65536)):
            answer += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return answer


def _whole_answer(answer: bytes) -> bool:
    """Whether ``answer`` holds a response's head and all the body its Content-Length gives.

    Read no further: the server may hold the connection open to its keep-alive timeout (5 s)
    after answering an upload it did not read to the end.
    """
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def test_oversize_upload_is_refused_before_and_while_reading(server):
    before = snapshot(server)
    big = b"\x00" * (2 * 1024 * 1024)  # the server takes 1 MB
    body, headers = multipart({}, "file", "big.mp4", big)
    # Content-Length says it: refused before the body is read
    answer = _raw_upload(server, body, headers, chunked=False)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # without a length (chunked): counted as it streams, stopped at the limit, removed
    assert b"too large: 2 MB (a video of at most 1 MB here)" in answer, answer[-300:]
    answer = _raw_upload(server, body, headers, chunked=True)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the video is larger than 1 MB; start facetwitch serve with a larger" in answer
    # 1.5 MB: within the form's allowance, so the video itself is counted (it had been let in)
    body, headers = multipart({}, "file", "big.mp4", big[: 3 * 1024 * 1024 // 2])
    answer = _raw_upload(server, body, headers, chunked=False)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the video is larger than 1 MB" in answer
    assert "up to 1 MB" in server.get("/upload").text  # the page says the same
    time.sleep(0.3)
    _unchanged(server, before)
    assert not list((server.data / "tmp").iterdir())


def test_paths_are_never_built_from_request_text(server):
    before = snapshot(server)
    for path in (
        "/r/..%2F..%2Fdiary.sqlite3",
        "/r/../diary.sqlite3",
        "/r/20250101-000000-abcd/..%2F..%2Fdiary.sqlite3",
        "/r/20250101-000000-abcd/clips/..%2F..%2F..%2Fdiary.sqlite3",
        "/bundles/..%2Fdiary.sqlite3",
        "/static/..%2F..%2Fdiary.py",
        "/r/20250101-000000-abcd/report.json",
    ):
        res = server.get(path)
        assert res.status in (400, 404), (path, res.status)
        assert b"SQLite" not in res.body and b"import" not in res.body
    res = server.post("/api/r/..%2F..%2Ftmp/delete")
    assert res.status in (400, 404)
    _unchanged(server, before)


def test_upload_with_a_traversal_name_stays_inside_the_diary(server, tmp_path):
    """A file named ../../escape.mp4 is a title to show, never a path.

    The video goes to recordings/<id>/video.<ext from its content>, and the name is shown escaped.
    """
    from media import make_clip

    clip = make_clip(
        [np.full((64, 64, 3), 120, np.uint8)] * 8, np.arange(8) / 8.0, tmp_path / "grey.mp4"
    )
    outside = sorted(p.name for p in server.data.parent.iterdir())
    shown = '<img src=x onerror="alert(3)"> & lip.mov'
    name = f"../..\\{shown}"
    body, headers = multipart(
        {"complaint": XSS, "markers": "1.5, 0:02"}, "file", name, clip.read_bytes()
    )
    res = server.post("/api/upload", body, headers=headers)
    assert res.status == 201, res.text
    rid = res.json()["id"]
    rec = Diary(server.data).recording(rid)
    assert rec.video == "video.mp4"  # from the content (an MP4), not from ".mov"
    assert (rec.dir / "video.mp4").read_bytes() == clip.read_bytes()
    assert rec.title == shown  # the directories dropped, the rest kept as text
    assert rec.markers == [{"t_s": 1.5}, {"t_s": 2.0}]
    assert sorted(p.name for p in server.data.parent.iterdir()) == outside
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in server.get(f"/r/{rid}").text  # complaint
    for page in (server.get(f"/r/{rid}").text, server.get("/").text):
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=&#34;alert(3)&#34;&gt; &amp; lip.mov" in page
    # a grey clip: no face, the analysis fails with the CLI's one-line reason
    state = server.wait_status(rid, timeout=300)
    assert state["status"] in ("done", "failed")
    res = server.post(f"/api/r/{rid}/delete")
    assert res.status == 200 and not rec.dir.exists()


def test_recording_chunks_markers_and_a_stale_recording(server):
    """Chunks are appended in order whatever order they arrive in, retries are ignored.

    And a recording that stops receiving data is finalised and queued (here: nothing decodable, so
    the analysis fails with one line, shown in the page).
    """
    res = server.post("/api/rec/start", {"complaint": XSS, "mime": "video/webm"})
    assert res.status == 201
    rid = res.json()["id"]
    for seq, data in ((1, b"BBBB"), (0, b"AAAA"), (0, b"AAAA"), (3, b"DDDD"), (2, b"CCCC")):
        assert server.post(f"/api/rec/{rid}/chunk?seq={seq}", data).status == 200
    assert server.post(f"/api/rec/{rid}/marker", {"t_s": 2.25}).status == 200
    assert server.post(f"/api/rec/{rid}/marker", {"t_s": "soon"}).status == 400
    rec = Diary(server.data).recording(rid)
    assert (rec.dir / "recording.webm").read_bytes() == b"AAAABBBBCCCCDDDD"
    assert rec.markers == [{"t_s": 2.25, "label": "felt"}]
    assert json.loads((rec.dir / "markers.json").read_text())["markers"][0]["t_s"] == 2.25
    page = server.get(f"/r/{rid}").text
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    state = server.wait_status(rid, timeout=120)  # no chunk for 2 s: finalised, queued, failed
    assert state["status"] == "failed"
    assert state["error"].startswith("the recording cannot be read") and "\n" not in state["error"]
    assert html.escape(state["error"], quote=True) in server.get(f"/r/{rid}").text
    assert server.post(f"/api/rec/{rid}/chunk?seq=4", b"EEEE").status == 409  # it has ended
    assert server.post(f"/api/r/{rid}/delete").status == 200


def test_a_recordings_page_says_what_the_analysis_said_of_the_video(server, tmp_path):
    """A cut-off phone video: the page gave "Length 4 s" and its numbers, not the warning.

    The report's warnings (here a damaged stretch) are listed under the numbers, escaped.
    """
    report = schema1_report()
    report["quality"]["warnings"] = [
        "damaged video: nothing usable could be decoded from 3.77 s to 15.00 s",
        "<b>a file name</b> & more",
    ]
    rid = _add(Diary(server.data), tmp_path, report, "cut")
    page = server.get(f"/r/{rid}").text
    assert "damaged video: nothing usable could be decoded from 3.77 s to 15.00 s" in page
    assert "&lt;b&gt;a file name&lt;/b&gt; &amp; more" in page and "<b>a file" not in page
    # kept with the diary's numbers of the recording (a row written before has none: no list)
    old = Diary(server.data).recording(rid)
    assert old.numbers["warnings"] == report["quality"]["warnings"]
    assert server.post(f"/api/r/{rid}/delete").status == 200


def test_a_stale_recording_keeps_the_chunks_after_a_lost_one(server):
    """A tab closed after a chunk was lost: every chunk received is analysed, in order.

    Chunks 0, 2 and 3 arrived (1 was lost), then nothing: the stale recording had been analysed
    from chunk 0 alone, and 2 and 3 were left on disk. Stopping appended them; going stale now
    does too, with the gap noted.
    """
    rid = server.post("/api/rec/start", {"mime": "video/webm"}).json()["id"]
    for seq, data in ((0, b"AAAA"), (2, b"CCCC"), (3, b"DDDD")):
        assert server.post(f"/api/rec/{rid}/chunk?seq={seq}", data).status == 200
    rec = Diary(server.data).recording(rid)
    assert (rec.dir / "recording.webm").read_bytes() == b"AAAA"  # waiting for chunk 1
    state = server.wait_status(rid, timeout=120)  # stale after 2 s: finalised, analysed
    assert state["status"] == "failed"  # nothing decodable in it
    assert (rec.dir / "recording.webm").read_bytes() == b"AAAACCCCDDDD"
    assert json.loads((rec.dir / "recording.json").read_text())["gaps"] == [[1, 2]]
    assert not list((rec.dir / "chunks").glob("*.part"))
    assert server.post(f"/api/r/{rid}/delete").status == 200


def _post_slowly(server, path: str, length: int, content_type: str = ""):
    """Start a POST of ``length`` bytes on a bare socket; send the body later, or never."""
    import socket

    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nOrigin: {server.origin}\r\n"
        f"X-Facetwitch-Token: {server.token}\r\nContent-Length: {length}\r\n".encode()
        + (f"Content-Type: {content_type}\r\n" if content_type else "").encode()
        + b"\r\n"
    )
    return sock


#: The start of a video upload's form, up to the file's bytes.
UPLOAD_HEAD = (
    b'--B\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n'
    b"Content-Type: video/mp4\r\n\r\n"
)


def _answer(sock) -> bytes:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"content-length" in answer.lower():
                head, _, body = answer.partition(b"\r\n\r\n")
                n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= n:
                    break
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    return answer


def test_requests_cut_off_or_racing_are_answered_without_a_traceback(server):
    """What a closed tab, a retrying client or a hostile page sends mid-request.

    Each had printed a traceback in the server's output, three of them with an HTTP 500: a
    client gone mid-upload; JSON nested 5,000 deep; one chunk sent twice at once (both wrote
    one temporary file); a chunk arriving while its recording was deleted.
    """
    log_at = server.log.stat().st_size
    # JSON nested deeper than the parser goes: a 400, as any other request that is not JSON
    for path in ("/api/rec/start", "/api/bundle"):
        res = server.post(path, b"[" * 5000, headers={"Content-Type": "application/json"})
        assert (res.status, res.json()) == (400, {"error": "the request is not JSON"}), path
    # the client goes away in the middle of an upload: nothing kept, nothing printed
    sock = _post_slowly(server, "/api/upload", 500_000, "multipart/form-data; boundary=B")
    sock.sendall(UPLOAD_HEAD + b"x" * 100_000)
    time.sleep(0.3)
    assert list((server.data / "tmp").glob("upload-*.part"))  # being received
    sock.close()
    # one chunk sent twice at once: both stored (the same bytes), appended once
    rid = server.post("/api/rec/start", {"mime": "video/webm"}).json()["id"]
    a, b = (_post_slowly(server, f"/api/rec/{rid}/chunk?seq=0", 200_000) for _ in range(2))
    for sock in (a, b):
        sock.sendall(b"A" * 100_000)
    time.sleep(0.3)
    for sock in (a, b):
        sock.sendall(b"A" * 100_000)
    answers = [_answer(a), _answer(b)]
    assert all(x.startswith(b"HTTP/1.1 200") for x in answers), [x[:300] for x in answers]
    rec = Diary(server.data).recording(rid)
    assert (rec.dir / "recording.webm").read_bytes() == b"A" * 200_000
    res = server.post("/api/bundle", {"ids": [rid], "clips": "no"})  # had been read as true
    assert (res.status, res.json()) == (400, {"error": "clips must be true or false"})
    # a chunk still arriving when its recording is deleted: told so, not resurrected
    sock = _post_slowly(server, f"/api/rec/{rid}/chunk?seq=1", 200_000)
    sock.sendall(b"B" * 100_000)
    time.sleep(0.3)
    assert server.post(f"/api/r/{rid}/delete").status == 200
    sock.sendall(b"B" * 100_000)
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 404") and b"it was deleted" in answer, answer[:300]
    assert not rec.dir.exists()
    time.sleep(0.5)
    printed = server.log.read_bytes()[log_at:].decode(errors="replace")
    assert "Traceback" not in printed and "Exception in ASGI" not in printed, printed[-3000:]
    assert not list((server.data / "tmp").iterdir())


def test_ctrl_c_while_an_upload_is_arriving_says_so_in_one_line(tmp_path):
    """Ctrl-C with an upload stalled mid-body: the server stops without a traceback.

    uvicorn cancels what is still running after its 3 s of grace; that was printed as
    "Exception in ASGI application" with a traceback ending in CancelledError, under an
    ERROR line in uvicorn's own words.
    """
    import signal

    srv = Server(tmp_path / "data").start()
    try:
        sock = _post_slowly(srv, "/api/upload", 10_000_000, "multipart/form-data; boundary=B")
        sock.sendall(UPLOAD_HEAD + b"x" * 200_000)
        time.sleep(0.5)
        assert list((srv.data / "tmp").glob("upload-*.part"))  # being received
        code = srv.stop(signal.SIGINT)
        sock.close()
    finally:
        srv.stop()
    printed = srv.log.read_text(errors="replace")
    assert "Traceback" not in printed and "Exception in ASGI" not in printed, printed[-3000:]
    assert "ERROR" not in printed, printed[-3000:]  # "returned without starting response"
    assert "stopped while data was still arriving: an upload cut off so is not kept" in printed
    assert code == 130, printed[-2000:]  # as every command (docs/errors.md)
    assert printed.rstrip().endswith("facetwitch: interrupted"), printed[-2000:]
    assert not list((srv.data / "tmp").iterdir())


#: The stall timeout of :func:`stall_server` (``--upload-stall-s``; 60 s by default).
STALL_S = 1.0


@pytest.fixture(scope="module")
def stall_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("web") / "data", args=("--upload-stall-s", f"{STALL_S:g}"))
    srv.start()
    yield srv
    srv.stop()


def _answer_and_close(sock, timeout: float = 10.0) -> tuple[bytes, float, bool]:
    """Read until the server closes: what it sent, seconds taken, whether it closed.

    ``timeout`` s without a byte ends the wait (not closed then).
    """
    start = time.monotonic()
    sock.settimeout(timeout)
    answer, closed = b"", False
    try:
        while chunk := sock.recv(65536):
            answer += chunk
        closed = True
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass
    sock.close()
    return answer, time.monotonic() - start, closed


def test_a_stalled_upload_is_answered_408_and_removed(stall_server, tmp_path):
    """A client that stops sending mid-body: abandoned after the stall timeout, nothing kept.

    A phone that lost its network (or a client sending headers and half the body, then
    nothing) had been waited for for ever, its partial file held in DATA/tmp.
    """
    from media import make_clip

    srv = stall_server
    before = snapshot(srv)
    log_at = srv.log.stat().st_size
    # headers and 100 KB of a 500 KB upload, then nothing
    sock = _post_slowly(srv, "/api/upload", 500_000, "multipart/form-data; boundary=B")
    sock.sendall(UPLOAD_HEAD + b"x" * 100_000)
    sent = time.monotonic()
    time.sleep(0.3)
    assert list((srv.data / "tmp").glob("upload-*.part"))  # being received
    answer, _, closed = _answer_and_close(sock)
    took = time.monotonic() - sent
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert STALL_S <= took < STALL_S + 2.0, took  # the gap is timed, with a margin
    assert closed  # not kept open for the rest
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body) == {
        "error": "the upload stalled: no data arrived for 1 s (was the network lost?); "
        "nothing of it was kept, send it again"
    }
    _unchanged(srv, before)  # the partial file removed, nothing in the diary or its queue
    assert not list((srv.data / "tmp").iterdir())
    # a recording's chunk whose body never starts: the same, its temporary file removed
    rid = srv.post("/api/rec/start", {"mime": "video/webm"}).json()["id"]
    chunks = Diary(srv.data).recording(rid).dir / "chunks"
    answer, took, closed = _answer_and_close(_post_slowly(srv, f"/api/rec/{rid}/chunk?seq=0", 1000))
    assert answer.startswith(b"HTTP/1.1 408") and b"the recording's chunk stalled" in answer
    assert took < STALL_S + 2.0 and closed, (took, closed)
    assert not list(chunks.iterdir())
    assert srv.post(f"/api/r/{rid}/delete").status == 200
    time.sleep(0.3)
    printed = srv.log.read_bytes()[log_at:].decode(errors="replace")
    assert "Traceback" not in printed and "Exception in ASGI" not in printed, printed[-3000:]
    said = [line for line in printed.splitlines() if "stalled" in line]
    assert said == [
        "facetwitch: WARNING: POST /api/upload stalled: no data for 1 s after 97.75 KB of "
        "488.28 KB; abandoned, nothing of it kept",
        f"facetwitch: WARNING: POST /api/rec/{rid}/chunk stalled: no data for 1 s after 0 "
        "bytes of 1000 bytes; abandoned, nothing of it kept",
    ], printed[-3000:]
    # the next upload is received as ever
    clip = make_clip(
        [np.full((64, 64, 3), 120, np.uint8)] * 8, np.arange(8) / 8.0, tmp_path / "grey.mp4"
    )
    body, headers = multipart({}, "file", "next.mp4", clip.read_bytes())
    res = srv.post("/api/upload", body, headers=headers)
    assert res.status == 201, res.text
    rec = Diary(srv.data).recording(res.json()["id"])
    assert (rec.dir / "video.mp4").read_bytes() == clip.read_bytes()
    assert srv.post(f"/api/r/{rec.id}/delete").status == 200


def test_a_slow_but_steady_upload_is_not_cut_off(stall_server, tmp_path):
    """The stall timeout times the gap between chunks, not the whole upload.

    A phone on a poor network sending a piece every 0.6 s (under the 1 s timeout) for 4 s
    (four times the timeout) is received in full.
    """
    from media import make_clip

    srv = stall_server
    clip = make_clip(
        [np.full((64, 64, 3), 90, np.uint8)] * 8, np.arange(8) / 8.0, tmp_path / "slow.mp4"
    )
    body, headers = multipart({"markers": "0.5"}, "file", "slow.mp4", clip.read_bytes())
    sock = _post_slowly(srv, "/api/upload", len(body), headers["Content-Type"])
    start = time.monotonic()
    pieces = 8
    step = -(-len(body) // pieces)
    for k in range(0, len(body), step):
        time.sleep(0.6 * STALL_S)
        sock.sendall(body[k : k + step])
    answer = _answer(sock)
    took = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 201"), answer[:500]
    assert took > 4 * STALL_S, took
    rid = json.loads(answer.partition(b"\r\n\r\n")[2])["id"]
    rec = Diary(srv.data).recording(rid)
    assert (rec.dir / "video.mp4").read_bytes() == clip.read_bytes()
    assert rec.markers == [{"t_s": 0.5}]
    assert srv.post(f"/api/r/{rid}/delete").status == 200
    assert not list((srv.data / "tmp").iterdir())


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [("SIGTERM", 143, "facetwitch: terminated"),
     ("SIGHUP", 129, "facetwitch: hung up (SIGHUP, e.g. the terminal was closed)")],
)  # fmt: skip
def test_serve_stopped_by_a_signal_exits_with_its_code_in_one_line(sig, code, line, tmp_path):
    """A stopped server says how it was stopped (Ctrl-C: 130, above), without a traceback.

    SIGHUP (a closed terminal) had been raised inside the server's event loop: uvicorn printed
    a traceback before the closing line. Now it stops the server as SIGTERM does.
    """
    import signal

    srv = Server(tmp_path / "data").start()
    try:
        got = srv.stop(getattr(signal, sig))
    finally:
        srv.stop()
    printed = srv.log.read_text(errors="replace")
    assert got == code, printed[-2000:]
    assert "Traceback" not in printed and "ERROR" not in printed, printed[-3000:]
    assert printed.rstrip().endswith(line), printed[-2000:]


def test_cli_diary_commands(tmp_path):
    from typer.testing import CliRunner

    from facetwitch.cli import app

    data = tmp_path / "data"
    runner = CliRunner()
    res = runner.invoke(app, ["diary", "list", "--data", str(data)])
    assert res.exit_code != 0  # no diary yet: a clear error, nothing created
    assert not data.exists()
    diary = Diary(data)
    rid = _add(diary, tmp_path, schema1_report(3, 62.0), "a")
    res = runner.invoke(app, ["diary", "list", "--data", str(data)])
    assert res.exit_code == 0 and rid in res.output and "3 left upper lip" in res.output
    res = runner.invoke(app, ["diary", "show", rid, "--data", str(data)])
    assert res.exit_code == 0 and "3 twitches counted" in res.output
    out = tmp_path / "c.zip"
    res = runner.invoke(app, ["diary", "export", "--out", str(out), "--data", str(data)])
    assert res.exit_code == 0 and zipfile.is_zipfile(out)
    res = runner.invoke(app, ["diary", "rm", rid, "--yes", "--data", str(data)])
    assert res.exit_code == 0 and diary.recordings() == []


@pytest.mark.slow  # starts facetwitch in a new Python, four times
def test_cli_diary_rm_answered_no_removes_nothing_and_is_not_an_error(tmp_path):
    """``diary rm`` answered "n" at its confirmation exited 1, the code of a bug.

    Declined, it removes nothing, says so and exits 0 (the user's answer was carried out); with
    the input closed (no answer at all) it is a usage error (exit 2) that names --yes. A real
    process, its answers on its standard input.
    """
    import subprocess
    import sys

    data = tmp_path / "data"
    diary = Diary(data)
    rid = _add(diary, tmp_path, schema1_report(3, 62.0), "a")
    cmd = [sys.executable, "-m", "facetwitch", "diary", "rm", rid, "--data", str(data)]
    for answer in ("n\n", "\n"):  # "n", and Enter (the default is no)
        done = subprocess.run(cmd, input=answer, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done
        assert f"nothing removed: {rid} is kept" in done.stdout and done.stderr == ""
        assert [r.id for r in diary.recordings()] == [rid]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done
    assert done.stderr.splitlines() == [
        f"facetwitch: error: no answer to the confirmation (the input is closed): nothing "
        f"removed; to delete {rid} without being asked: facetwitch diary rm {rid} --yes"
    ]
    assert [r.id for r in diary.recordings()] == [rid]
    done = subprocess.run(cmd, input="y\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"deleted {rid}" in done.stdout, done
    assert diary.recordings() == []


def test_cli_diary_export_refuses_an_existing_file_without_force(tmp_path):
    """``diary export --out X.zip`` replaced an existing X.zip without a word.

    Every other output of facetwitch asks for --force first (exit 5): an earlier consult's
    bundle, or any file of the user's of that name, is kept untouched, and --force replaces it.
    """
    from clirun import assert_user_error, cli

    from facetwitch.errors import EXIT_OUTPUT

    data = tmp_path / "data"
    rid = _add(Diary(data), tmp_path, schema1_report(3, 62.0), "a")
    out = tmp_path / "consult.zip"
    out.write_bytes(b"the bundle sent to the neurologist last month")
    link = tmp_path / "link.zip"
    link.symlink_to(tmp_path / "nowhere.zip")
    for target in (out, link):
        run = cli("diary", "export", rid, "--data", data, "--out", target)
        assert_user_error(
            run, EXIT_OUTPUT, f"{target}: exists already; use --force to overwrite it"
        )
    assert out.read_bytes() == b"the bundle sent to the neurologist last month"
    assert link.is_symlink() and not (tmp_path / "nowhere.zip").exists()
    run = cli("diary", "export", rid, "--data", data, "--out", out, "--force")
    assert run.code == 0, run
    assert zipfile.is_zipfile(out) and f"bundle: {out}" in run.out
    new = tmp_path / "new.zip"  # a new name needs no --force
    assert cli("diary", "export", rid, "--data", data, "--out", new).code == 0
    assert zipfile.is_zipfile(new)


@pytest.mark.slow
def test_analyze_diary_adds_the_result(single_face_track, feat_data, tmp_path):
    """``facetwitch analyze VIDEO --diary``.

    The report and a copy of the video go into the diary (the user's own file untouched); the diary
    lists it with its numbers.
    """
    import shutil

    from typer.testing import CliRunner

    from facetwitch.cli import app

    video = tmp_path / "mine.mp4"
    shutil.copy(feat_data / "single_face.mp4", video)
    before = video.read_bytes()
    track = tmp_path / "track.npz"
    single_face_track.save(track)
    data = tmp_path / "data"
    res = CliRunner().invoke(
        app, ["analyze", str(track), "--out", str(tmp_path / "r"), "--diary", "--data", str(data)]
    )
    assert res.exit_code in (0, 7), res.output
    assert "diary: added as" in res.output
    (rec,) = Diary(data).recordings()
    assert rec.status == "done" and rec.source == "analyze"
    assert (rec.report_dir / "report.json").is_file() and rec.numbers is not None
    # a saved track: its video is the one it was tracked from, not copied from the .npz path
    assert rec.numbers["duration_s"] == pytest.approx(2.4, abs=0.1)
    assert video.read_bytes() == before
    res = CliRunner().invoke(
        app, ["analyze", str(video), "--out", str(tmp_path / "r2"), "--diary", "--data", str(data)]
    )
    assert res.exit_code in (0, 7), res.output
    recs = Diary(data).recordings()
    assert len(recs) == 2
    newest = recs[0]
    assert newest.video == "video.mp4" and (newest.dir / "video.mp4").read_bytes() == before
    clips = json.loads((newest.clips_dir / "clips.json").read_text())  # as the app makes them
    twitches = [e for e in newest.report()["events"] if e["kind"] == "twitch"]
    assert len(clips["clips"]) == min(24, len(twitches))
    assert video.read_bytes() == before  # the user's file is untouched


def test_a_diary_recording_added_without_renderings_has_them_in_every_bundle(tmp_path):
    """A bundle of a recording added with ``analyze --diary --no-report`` has its PDF and HTML.

    Such a recording went into the diary without report.html/report.pdf, and a bundle of it held
    only report.json and events.csv. Now the diary renders them on adding (its page shows them);
    a recording that still lacks them (added before, or its rendering failed) gets them when a
    bundle is made. Real files: a saved track (synthetic, on the demo's real face), the real
    command, the zip read back, its PDF read with pypdf.
    """
    import io

    from clirun import cli
    from pypdf import PdfReader
    from synth import Plant, demo_face, synthetic_track

    from facetwitch.errors import EXIT_OK, EXIT_UNRELIABLE

    plant = Plant("upper_lip", "left", t_peak_s=3.0, amplitude_mm=1.5, direction_deg=45.0)
    track = synthetic_track(demo_face(), plants=(plant,)).save(tmp_path / "t.npz")
    data, out = tmp_path / "data", tmp_path / "r"
    run = cli("analyze", track, "--out", out, "--no-report", "--diary", "--data", data)
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    assert sorted(p.name for p in out.iterdir()) == ["events.csv", "report.json", "track.npz"]
    (rec,) = Diary(data).recordings()
    names = {"report.html", "report.pdf", "summary.txt", "report.json", "events.csv", "track.npz"}
    assert {p.name for p in rec.report_dir.iterdir()} == names  # nothing hidden left either
    # an older diary's recording: its renderings missing; the bundle makes them
    for name in ("report.html", "report.pdf", "summary.txt"):
        (rec.report_dir / name).unlink()
    zipped = tmp_path / "b.zip"
    run = cli("diary", "export", rec.id, "--out", zipped, "--data", data)
    assert run.code == 0, run
    with zipfile.ZipFile(zipped) as z:
        got = {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if "/" in n}
    assert set(got) == {"report.pdf", "report.html", "summary.txt", "report.json", "events.csv"}
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(got["report.pdf"])).pages)
    count = json.loads(got["report.json"])["summary"]["twitch_count"]
    assert "SUMMARY" in pdf and f"{count} twitch" in " ".join(pdf.split())
    assert b"<html" in got["report.html"] and got["summary.txt"].strip()
    assert {p.name for p in rec.report_dir.iterdir()} == names  # and kept for the page


def test_analyze_diary_that_cannot_be_opened_is_said_before_any_work(single_face_track, tmp_path):
    """``--diary --data`` inside a file: exit 5 at once, and no report (exit 5 means nothing new).

    It used to be found after the whole analysis, with the report written and exit 5 all the
    same (a hostile sweep, 2026-12-05).
    """
    from clirun import assert_user_error, cli

    from facetwitch.errors import EXIT_OUTPUT

    track = tmp_path / "track.npz"
    single_face_track.save(track)
    a_file = tmp_path / "a_file"
    a_file.write_text("hi")
    out = tmp_path / "r"
    run = cli("analyze", track, "--out", out, "--diary", "--data", a_file / "sub")
    assert_user_error(run, EXIT_OUTPUT, "sub: cannot create the data directory (Not a directory)")
    assert not out.exists()
