"""The web app: pages and API routes (Starlette), behind :class:`~facetwitch.web.security.Guard`.

Pages (GET): ``/`` the diary, ``/record``, ``/upload``, ``/consult``, ``/r/<id>`` one
recording (its progress while analysed, then its report and clips). Files (GET):
``/r/<id>/report.html|report.pdf|report.json``, ``/r/<id>/clips/event-NNN.mp4``,
``/bundles/<name>.zip``, ``/static/...``. API (POST, token and Origin checked):
``/api/upload``, ``/api/rec/start``, ``/api/rec/<id>/chunk?seq=N``, ``/api/rec/<id>/marker``,
``/api/rec/<id>/stop``, ``/api/face``, ``/api/r/<id>/delete``, ``/api/r/<id>/retry``,
``/api/bundle``; ``GET /api/r/<id>/progress`` streams progress (server-sent events).

Every file path is built from a recording id the diary made and a fixed name (or one
matching a fixed pattern): nothing a user typed goes into a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import time
from importlib import resources

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .._validate import json_checked
from ..analysis import MARKER_MAX_S, marker_seconds
from ..diary import (
    Diary,
    bundle_write,
    diary_summary,
    id_check,
    length_words,
    rate_by_day,
    region_phrase,
)
from ..errors import FacetwitchError, InputError
from ..reports.words import _plural
from . import pipeline
from .jobs import JobRunner
from .security import Guard, size_words
from .uploads import FORM_BYTES, UPLOAD_STALL_S, body_chunks

logger = logging.getLogger("facetwitch")

#: Default largest upload (bytes): a long 4K phone video fits.
MAX_UPLOAD_BYTES = 2 * 1024**3
#: Largest recording chunk (bytes; a browser sends about 1 MB a second).
MAX_CHUNK_BYTES = 64 * 1024**2
#: Largest JSON body and form field (bytes).
MAX_SMALL_BYTES = 64 * 1024
#: Most marker times in one recording (typed with an upload, or pressed while recording).
MAX_MARKERS = 1000
#: Largest live frame (RGBA bytes).
MAX_FACE_BYTES = 1280 * 1280 * 4

_CLIP_RE = re.compile(r"^event-[0-9]{3}\.mp4$")
_BUNDLE_RE = re.compile(r"^consult-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}\.zip$")


class WebError(Exception):
    """A refusal with an HTTP status and a one-line message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _templates() -> jinja2.Environment:
    root = resources.files("facetwitch.web") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["length"] = length_words
    env.filters["region"] = lambda g: region_phrase(g["region"], g["side"])
    env.filters["rate"] = lambda x, d=1: "-" if x is None else f"{x:.{d}f}"
    env.filters["plural"] = _plural  # {{ n | plural("twitch") }}: "1 twitch", "2 twitches"
    return env


def parse_markers(text: str) -> list[dict]:
    """Marker times typed by the patient ("12.5, 41, 1:05") as ``[{"t_s": ...}]``.

    Seconds, or ``m:ss`` / ``h:mm:ss``; separated by commas, semicolons or spaces. A comma
    between digits (``12,5``) is refused as ambiguous, never guessed.
    Raises :class:`~facetwitch.errors.InputError` naming the first item that is not a time.
    """
    ambiguous = re.search(r"\d+,\d+", text or "")
    if ambiguous:  # 12,5 is twelve and a half seconds in much of Europe, 12 and 5 elsewhere
        a, b = ambiguous.group().split(",", 1)
        raise InputError(
            f"marker times: {ambiguous.group()!r} could be {a}.{b} s or two times; write "
            f"{a}.{b} for one, or {a}, {b} for two"
        )
    out = []
    for item in re.split(r"[,;\s]+", (text or "").strip()):
        if not item:
            continue
        try:
            t = marker_seconds(item)
        except ValueError:
            raise InputError(
                f"marker times: {item[:20]!r} is not a time (seconds, or m:ss)"
            ) from None
        if t > MARKER_MAX_S:  # 1e308 had made the report's timeline fail
            raise InputError(f"marker times: {item[:20]!r} is more than a week into the video")
        out.append({"t_s": round(t, 3)})
    if len(out) > MAX_MARKERS:
        raise InputError(f"marker times: at most {MAX_MARKERS}")
    return sorted(out, key=lambda m: m["t_s"])


def app_make(
    diary: Diary,
    *,
    port: int,
    token: str | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    upload_stall_s: float = UPLOAD_STALL_S,
    runner: JobRunner | None = None,
):
    """Yield the ASGI app for ``diary`` served on 127.0.0.1:``port``.

    Parameters
    ----------
    diary : Diary
        The diary (data directory).
    port : int
        The port it is served on (the Host and Origin checks need it).
    token : str, optional
        The session token (made here when omitted).
    max_upload_bytes : int
        Largest upload accepted.
    upload_stall_s : float
        Seconds without a byte after which a request body still arriving (an upload, a
        recording's chunk) is abandoned with a 408
        (:data:`~facetwitch.web.uploads.UPLOAD_STALL_S`).
    runner : JobRunner, optional
        The analysis queue (started and stopped with the app).

    Returns
    -------
    ASGI application
        The routes behind the security guard; ``.state`` of the inner app holds the diary,
        the token and the runner.
    """
    from .security import token_new

    token = token or token_new()
    env = _templates()
    static_dir = str(resources.files("facetwitch.web") / "static")
    faces = pipeline.FaceFinder()
    locks: dict[str, asyncio.Lock] = {}
    tmp_dir = diary.root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    # what an upload cut off by a hard kill left (one server per data directory: none is ours)
    for stale in tmp_dir.glob("upload-*.part"):
        with contextlib.suppress(OSError):
            stale.unlink()
    (diary.root / "bundles").mkdir(parents=True, exist_ok=True)

    def page(name: str, request: Request, status: int = 200, **context) -> HTMLResponse:
        html = env.get_template(name).render(
            token=token, path=request.url.path, status=status, **context
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def rec_or_404(rid: str):
        try:
            return diary.recording(id_check(rid))
        except InputError:
            raise WebError(404, "no such recording") from None

    async def small_json(request: Request) -> dict:
        body = b""
        async for chunk in body_chunks(request, upload_stall_s, "the request"):
            body += chunk
            if len(body) > MAX_SMALL_BYTES:
                raise WebError(413, "request too large")
        try:  # nested too deeply or a number out of range: not JSON this app sends (was a 500)
            data = json_checked(body or b"{}")
        except ValueError:
            raise WebError(400, "the request is not JSON") from None
        if not isinstance(data, dict):
            raise WebError(400, "the request must be a JSON object")
        return data

    # -- pages --------------------------------------------------------------------------------
    async def home(request: Request):
        recs = await run_in_threadpool(diary.recordings)
        days = rate_by_day(recs)
        return page(
            "diary.html",
            request,
            recordings=recs,
            days=days,
            chart=_rate_chart(days),
            summary=diary_summary(recs),
        )

    async def record_page(request: Request):
        return page("record.html", request)

    async def upload_page(request: Request):
        return page(
            "upload.html",
            request,
            max_upload_bytes=max_upload_bytes,
            max_upload=size_words(max_upload_bytes),
        )

    async def consult_page(request: Request):
        recs = [r for r in await run_in_threadpool(diary.recordings) if r.status == "done"]
        return page("consult.html", request, recordings=recs, summary=diary_summary(recs))

    async def recording_page(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        report = rec.report() if rec.status == "done" else None
        clips = _clips(rec) if report else {"clips": []}
        job = diary.job_latest(rec.id)
        return page(
            "recording.html",
            request,
            rec=rec,
            report=report,
            n=rec.numbers,
            clips=clips,
            job=job,
            stage_labels=pipeline.STAGE_LABELS,
        )

    # -- files --------------------------------------------------------------------------------
    async def report_file(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        name = request.path_params["name"]
        kinds = {
            "report.html": "text/html; charset=utf-8",
            "report.pdf": "application/pdf",
            "report.json": "application/json",
            "summary.txt": "text/plain; charset=utf-8",
        }
        if name not in kinds:
            raise WebError(404, "no such file")
        path = rec.report_dir / name
        if not path.is_file():
            raise WebError(404, "no such file (not analysed yet?)")
        headers = {"cache-control": "no-store"}
        if name == "report.html":  # the report's own policy: inline CSS and images, nothing else
            headers["content-security-policy"] = (
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'"
            )
        download = f"facetwitch-{rec.created[:10]}-{rec.id[-4:]}-{name}"
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return FileResponse(
            path,
            media_type=kinds[name],
            filename=download,
            content_disposition_type=disposition,
            headers=headers,
        )

    async def clip_file(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        name = request.path_params["name"]
        if not _CLIP_RE.match(name) or not (rec.clips_dir / name).is_file():
            raise WebError(404, "no such clip")
        return FileResponse(
            rec.clips_dir / name, media_type="video/mp4", headers={"cache-control": "no-store"}
        )

    async def bundle_file(request: Request):
        name = request.path_params["name"]
        path = diary.root / "bundles" / name
        if not _BUNDLE_RE.match(name) or not path.is_file():
            raise WebError(404, "no such bundle")
        return FileResponse(
            path, media_type="application/zip", filename=name, headers={"cache-control": "no-store"}
        )

    # -- API: upload --------------------------------------------------------------------------
    async def upload(request: Request):
        from .uploads import multipart_receive

        form = await multipart_receive(
            request, tmp_dir, max_upload_bytes, MAX_SMALL_BYTES, upload_stall_s
        )
        try:
            if form.file is None:
                raise WebError(400, "no video file in the upload")
            markers = parse_markers(form.fields.get("markers", ""))
            try:
                info = await run_in_threadpool(pipeline.video_check, form.file)
            except InputError as exc:
                msg = str(exc).replace(str(form.file), form.filename or "the file")
                msg = msg.replace(form.file.name, form.filename or "the file")
                raise WebError(400, " ".join(msg.split())) from None
            rec = diary.recording_new(
                source="upload",
                title=form.filename or "upload",
                mirrored=_truthy(form.fields.get("mirrored")),
                complaint=form.fields.get("complaint") or None,
                markers=markers,
            )
            name = "video" + info["ext"]
            os.replace(form.file, rec.dir / name)
            diary.recording_update(rec.id, video=name)
            job = diary.job_add(rec.id)
            if runner is not None:
                runner.wake()
        finally:
            if form.file is not None:
                with contextlib.suppress(OSError):
                    form.file.unlink()
        return JSONResponse({"id": rec.id, "url": f"/r/{rec.id}", "job": job.id}, status_code=201)

    # -- API: recording in the browser --------------------------------------------------------
    async def rec_start(request: Request):
        data = await small_json(request)
        rec = diary.recording_new(
            source="browser",
            status="recording",
            title="recorded here",
            complaint=str(data.get("complaint") or "") or None,
            mirrored=False,
        )
        (rec.dir / "recording.webm").touch()
        pipeline.json_write(
            rec.dir / "recording.json",
            {"next": 0, "mime": str(data.get("mime", ""))[:100], "started": time.time()},
        )
        pipeline.json_write(
            rec.dir / "markers.json", {"time": "seconds from the first frame", "markers": []}
        )
        return JSONResponse({"id": rec.id, "url": f"/r/{rec.id}"}, status_code=201)

    def _recording_open(rid: str):
        rec = rec_or_404(rid)
        if rec.source != "browser" or rec.status != "recording":
            raise WebError(409, "this recording has ended")
        return rec

    async def rec_chunk(request: Request):
        rec = _recording_open(request.path_params["rid"])
        try:
            seq = int(request.query_params.get("seq", ""))
            if not 0 <= seq < 10_000_000:
                raise ValueError
        except ValueError:
            raise WebError(400, "seq must be a chunk number") from None
        part = rec.dir / "chunks" / f"{seq:08d}.part"
        size = 0
        # a name of its own: the same chunk sent twice at once (a retry, two tabs) had made one
        # request's os.replace fail on the other's temporary file (a 500)
        tmp = part.with_name(f"{seq:08d}.{secrets.token_hex(4)}.tmp")
        try:
            part.parent.mkdir(exist_ok=True)
            with open(tmp, "wb") as f:
                async for data in body_chunks(request, upload_stall_s, "the recording's chunk"):
                    size += len(data)
                    if size > MAX_CHUNK_BYTES:
                        raise WebError(413, "chunk too large")
                    f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, part)
            lock = locks.setdefault(rec.id, asyncio.Lock())
            async with lock:
                nxt = await run_in_threadpool(pipeline.chunks_append, rec.dir)
        except FileNotFoundError:
            if rec.dir.is_dir():
                raise
            raise WebError(404, "no such recording (it was deleted)") from None
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        diary.recording_touch(rec.id)
        return JSONResponse({"received": seq, "next": nxt})

    async def rec_marker(request: Request):
        rec = _recording_open(request.path_params["rid"])
        data = await small_json(request)
        try:
            t = float(data.get("t_s"))
            if not 0 <= t < 24 * 3600:
                raise ValueError
        except (TypeError, ValueError):
            raise WebError(400, "t_s must be seconds from the start of the recording") from None
        lock = locks.setdefault(rec.id, asyncio.Lock())
        async with lock:
            rec = diary.recording(rec.id)
            if len(rec.markers) >= MAX_MARKERS:  # as an upload's (3,000 had been taken)
                raise WebError(409, f"at most {MAX_MARKERS} marks in one recording")
            markers = rec.markers + [{"t_s": round(t, 3), "label": "felt"}]
            diary.recording_update(rec.id, markers=markers)
            pipeline.json_write(
                rec.dir / "markers.json",
                {
                    "time": "seconds from the first frame",
                    "markers": diary.recording(rec.id).markers,
                },
            )
        diary.recording_touch(rec.id)
        return JSONResponse({"markers": len(markers)})

    async def rec_stop(request: Request):
        rec = _recording_open(request.path_params["rid"])
        data = await small_json(request)
        lock = locks.setdefault(rec.id, asyncio.Lock())
        async with lock:
            await run_in_threadpool(pipeline.chunks_append, rec.dir, True)
            if data.get("complaint"):
                diary.recording_update(rec.id, complaint=str(data["complaint"])[:4000])
            diary.job_add(rec.id)
        if runner is not None:
            runner.wake()
        return JSONResponse({"id": rec.id, "url": f"/r/{rec.id}"})

    async def face(request: Request):
        try:
            w, h = int(request.query_params["w"]), int(request.query_params["h"])
        except (KeyError, ValueError):
            raise WebError(400, "w and h (pixels) are needed") from None
        body = b""
        async for chunk in body_chunks(request, upload_stall_s, "the frame"):
            body += chunk
            if len(body) > MAX_FACE_BYTES:
                raise WebError(413, "frame too large")
        try:
            found = await run_in_threadpool(faces.find, body, w, h)
        except InputError as exc:
            raise WebError(400, str(exc)) from None
        return JSONResponse(found)

    # -- API: diary ---------------------------------------------------------------------------
    async def rec_delete(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        if runner is not None:
            await run_in_threadpool(runner.cancel, rec.id)
        await run_in_threadpool(diary.recording_delete, rec.id)
        return JSONResponse({"deleted": rec.id, "url": "/"})

    async def rec_retry(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        if rec.status != "failed":
            raise WebError(409, "only a failed analysis can be run again")
        diary.job_add(rec.id)
        if runner is not None:
            runner.wake()
        return JSONResponse({"id": rec.id, "url": f"/r/{rec.id}"})

    async def rec_status(request: Request):
        rec = rec_or_404(request.path_params["rid"])
        return JSONResponse(_status(diary, rec))

    async def rec_progress(request: Request):
        rec = rec_or_404(request.path_params["rid"])

        async def events():
            last = None
            while True:
                try:
                    state = await run_in_threadpool(_status, diary, diary.recording(rec.id))
                except InputError:
                    state = {"id": rec.id, "status": "deleted"}
                text = json.dumps(state)
                if text != last:
                    yield f"data: {text}\n\n"
                    last = text
                if state["status"] in ("done", "failed", "deleted"):
                    return
                if await request.is_disconnected() or inner.state.stopping():
                    return
                await asyncio.sleep(0.5)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def bundle(request: Request):
        data = await small_json(request)
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise WebError(400, "ids must be a list of recording ids")
        for i in ids:
            rec_or_404(i)
        clips = data.get("clips", False)
        if not isinstance(clips, bool):  # "no" had been read as true
            raise WebError(400, "clips must be true or false")
        name = f"consult-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}.zip"
        out = diary.root / "bundles" / name
        await run_in_threadpool(bundle_write, diary, ids, out, clips=clips)
        summary = diary_summary(diary.recordings(list(dict.fromkeys(ids))))
        return JSONResponse(
            {"url": f"/bundles/{name}", "name": name, "summary": summary["text"]}, status_code=201
        )

    # -- errors -------------------------------------------------------------------------------
    async def web_error(request: Request, exc: WebError):
        # HEAD as GET: the same status and type (its page, without the body)
        if request.url.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
            # a stalled body is left unread: close the connection after the answer, as the
            # guard's refusals do (it had been kept open, waiting for the rest)
            close = {"connection": "close"} if exc.status == 408 else None
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=close)
        return page("error.html", request, status=exc.status, message=str(exc))

    async def not_allowed(request: Request, exc):
        # Starlette's own was plain text ("Method Not Allowed"); the app answers in JSON
        allow = (getattr(exc, "headers", None) or {}).get("Allow", "")
        return JSONResponse(
            {"error": f"method {request.method} is not allowed here"
                      + (f" (only {allow})" if allow else "")},
            status_code=405,
            headers={"allow": allow} if allow else None,
        )  # fmt: skip

    async def lib_error(request: Request, exc: FacetwitchError):
        return JSONResponse({"error": " ".join(str(exc).split())}, status_code=400)

    async def gone(request: Request, exc: ClientDisconnect):
        # the client went away mid-request (a tab closed during an upload): what it sent is
        # cleaned up where it was being received; no one is left to read an answer
        return Response(status_code=400)

    async def not_found(request: Request, exc):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "not found"}, status_code=404)
        return page("error.html", request, status=404, message="no such page")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if runner is not None:
            await run_in_threadpool(runner.start)
        try:
            yield
        finally:
            if runner is not None:
                await run_in_threadpool(runner.stop)
            faces.close()

    rid = "{rid:str}"
    routes = [
        Route("/", home),
        Route("/record", record_page),
        Route("/upload", upload_page),
        Route("/consult", consult_page),
        Route(f"/r/{rid}", recording_page),
        Route(f"/r/{rid}/clips/{{name:str}}", clip_file),
        Route(f"/r/{rid}/{{name:str}}", report_file),
        Route("/bundles/{name:str}", bundle_file),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/rec/start", rec_start, methods=["POST"]),
        Route(f"/api/rec/{rid}/chunk", rec_chunk, methods=["POST"]),
        Route(f"/api/rec/{rid}/marker", rec_marker, methods=["POST"]),
        Route(f"/api/rec/{rid}/stop", rec_stop, methods=["POST"]),
        Route("/api/face", face, methods=["POST"]),
        Route(f"/api/r/{rid}", rec_status),
        Route(f"/api/r/{rid}/progress", rec_progress),
        Route(f"/api/r/{rid}/delete", rec_delete, methods=["POST"]),
        Route(f"/api/r/{rid}/retry", rec_retry, methods=["POST"]),
        Route("/api/bundle", bundle, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=static_dir), name="static"),
        Route("/favicon.ico", lambda r: Response(status_code=204)),
    ]
    inner = Starlette(
        routes=routes,
        exception_handlers={
            WebError: web_error,
            FacetwitchError: lib_error,
            ClientDisconnect: gone,
            404: not_found,
            405: not_allowed,
        },
        lifespan=lifespan,
    )
    inner.state.diary = diary
    inner.state.token = token
    inner.state.runner = runner
    inner.state.stopping = lambda: False  # the server sets it: progress streams end at shutdown

    def body_limit(path: str) -> tuple[int, str]:
        if path == "/api/upload":  # the form's own bytes around the file too
            allowed = f"a video of at most {size_words(max_upload_bytes)}"
            return max_upload_bytes + FORM_BYTES, allowed
        if path.startswith("/api/rec/") and path.endswith("/chunk"):
            return MAX_CHUNK_BYTES, f"at most {size_words(MAX_CHUNK_BYTES)}"
        if path == "/api/face":
            return MAX_FACE_BYTES, f"at most {size_words(MAX_FACE_BYTES)}"
        return MAX_SMALL_BYTES, f"at most {size_words(MAX_SMALL_BYTES)}"

    guarded = Guard(_RangesChecked(inner), port=port, token=token, body_limit=body_limit)
    outer = _QuietAtShutdown(guarded, inner.state)
    outer.state = inner.state  # type: ignore[attr-defined]
    return outer


#: One byte-range-spec of RFC 9110 (14.1.1): ``first-last``, ``first-`` or ``-suffix``.
_RANGE_SPEC = re.compile(r"^(?:([0-9]+)-([0-9]*)|-([0-9]+))$")


def range_usable(value: bytes) -> bool:
    """Return True for a Range header the files may be served by (RFC 9110, 14.1-14.2).

    ``bytes=`` and well-formed byte-range-specs, none with its last byte before its first.
    Anything else (``bytes=50-10``, ``bytes=abc``, another unit) is ignored by the server
    (the whole file, 200), as RFC 9110 lets it: Starlette answered 400. A valid range past
    the file's end is still 416.
    """
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return False
    unit, sep, specs = text.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return False
    parts = [p.strip() for p in specs.split(",")]
    if not any(parts):
        return False
    for part in filter(None, parts):  # empty list elements are allowed (the #rule)
        m = _RANGE_SPEC.match(part)
        if m is None:
            return False
        first, last = m.group(1), m.group(2)
        if first is not None and last and int(last) < int(first):
            return False
    return True


class _RangesChecked:
    """Drop a Range header that :func:`range_usable` refuses, before any route sees it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = scope.get("headers") or []
            if any(k.lower() == b"range" and not range_usable(v) for k, v in headers):
                scope = dict(scope, headers=[(k, v) for k, v in headers if k.lower() != b"range"])
        await self.app(scope, receive, send)


class _QuietAtShutdown:
    """End a request that the server's shutdown cancels without a traceback.

    On Ctrl-C the server waits a few seconds for requests under way, then cancels them; an
    upload still arriving was printed as "Exception in ASGI application" with a traceback
    ending in CancelledError. Its temporary file is removed where it is received.
    """

    def __init__(self, app, state):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send):
        started = False

        async def sending(message):
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if not (scope["type"] == "http" and self.state.stopping()):
                raise
            if not started:  # an answer, so that the server has one to send (or drop)
                body = b'{"error": "the server is stopping"}'
                headers = [(b"content-type", b"application/json"),
                           (b"content-length", str(len(body)).encode())]  # fmt: skip
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.start", "status": 503, "headers": headers})
                    await send({"type": "http.response.body", "body": body})


# -- helpers ---------------------------------------------------------------------------------
def _truthy(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "on", "yes")


def _status(diary: Diary, rec) -> dict:
    """Return what the progress view shows.

    Status, stage, fraction, time left, error.
    """
    job = diary.job_latest(rec.id)
    out = {
        "id": rec.id,
        "status": rec.status,
        "error": rec.error,
        "stage": None,
        "stage_label": None,
        "fraction": 0.0,
        "eta_s": None,
        "detail": "",
        "ahead": 0,
    }
    if rec.status == "done":
        out.update(stage="done", stage_label="done", fraction=1.0, eta_s=0)
    if job is not None and rec.status in ("queued", "analysing"):
        out.update(
            stage=job.stage,
            stage_label=pipeline.STAGE_LABELS.get(job.stage, job.stage),
            fraction=round(job.fraction, 4),
            eta_s=job.eta_s,
            detail=job.detail,
        )
        if job.status == "queued":
            out["ahead"] = sum(
                1 for j in diary.jobs() if j.status in ("queued", "running") and j.id < job.id
            )
            out["stage_label"] = pipeline.STAGE_LABELS["waiting"]
    return out


def _clips(rec) -> dict:
    path = rec.clips_dir / "clips.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"clips": [], "note": "", "magnification": None, "slow": None}
    doc["clips"] = [c for c in doc.get("clips", []) if _CLIP_RE.match(str(c.get("file", "")))]
    return doc


def _rate_chart(days: list[dict], width: int = 640, height: int = 180) -> dict:
    """Bars of the twitch rate per assessable minute per day, as numbers for an SVG."""
    rates = [d["rate_per_min"] or 0.0 for d in days]
    top = max(rates + [0.1])
    nice = next((v for v in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if v >= top), top)
    left, bottom, right, top_pad = 44, 28, 8, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    n = max(len(days), 1)
    bw = min(plot_w / n, 60.0)
    bars = []
    for k, (d, r) in enumerate(zip(days, rates, strict=True)):
        bh = plot_h * r / nice
        bars.append(
            {
                "x": round(left + k * bw + bw * 0.15, 1),
                "w": round(bw * 0.7, 1),
                "y": round(top_pad + plot_h - bh, 1),
                "h": round(bh, 1),
                "label": d["day"][5:],
                "rate": r,
                "day": d["day"],
                "count": d["twitch_count"],
                "assessable_s": d["assessable_s"],
                "lx": round(left + k * bw + bw / 2, 1),
            }
        )
    ticks = [
        {"y": round(top_pad + plot_h - plot_h * f, 1), "v": f"{nice * f:g}"} for f in (0, 0.5, 1)
    ]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "left": left,
        "base": top_pad + plot_h,
        "right": width - right,
        "label_y": height - 10,
        "show_labels": n <= 16,
    }
