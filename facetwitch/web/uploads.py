"""Uploads: a multipart form streamed to disk as it arrives, never held in memory.

python-multipart's push parser is fed the request body chunk by chunk; the file part goes
straight into a temporary file in the data directory (``DATA/tmp``, on the same file system
as the diary, so it is moved in, not copied), the other fields (small) are kept in memory.
More than ``max_file_bytes`` of body, a second file, an over-long field, a field sent twice or
more than :data:`MAX_FORM_FIELDS` fields stops the upload and removes what was written; so does
a body that stops arriving (no byte for :data:`UPLOAD_STALL_S` seconds: :func:`body_chunks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from .security import size_words

#: Bytes of an upload's form around its video (fields of up to 64 KB, the part headers).
FORM_BYTES = 1024 * 1024
#: Most text fields in one upload's form (the upload page sends 3: mirrored, complaint,
#: markers). More are refused, not dropped: one of them could be the patient's marker times.
MAX_FORM_FIELDS = 20
#: Seconds a request body may go without a single byte before it is abandoned (408, what was
#: written removed). The gap between chunks is timed, never the whole upload: a slow phone
#: upload that keeps sending is not cut off. A minute rides out what a phone's connection
#: does while it lives (a switch from Wi-Fi to mobile data, TCP's retransmissions backing off
#: to tens of seconds apart); silent for longer, the connection is lost (a stalled upload had
#: waited for ever, holding its partial file in DATA/tmp and its request).
UPLOAD_STALL_S = 60.0

logger = logging.getLogger("facetwitch")


@dataclass
class Form:
    """A received form.

    The file (a temporary path the caller moves or removes), its name as the browser gave it (text
    to show, never a path), and the fields.
    """

    file: Path | None = None
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)


async def body_chunks(request, stall_s: float = UPLOAD_STALL_S, what: str = "the upload"):
    """Yield ``request``'s body as it arrives (as ``request.stream()`` does).

    Raises
    ------
    facetwitch.web.app.WebError
        408 when no byte arrives for ``stall_s`` seconds (between two chunks, or before the
        first); said in one line in the server's log too. The caller removes what it wrote.
    starlette.requests.ClientDisconnect
        The client went away.
    """
    from .app import WebError

    chunks = request.stream()
    received = 0
    while True:
        try:
            async with asyncio.timeout(stall_s):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            length = request.headers.get("content-length", "")
            of = f" of {size_words(int(length))}" if length.isdigit() else ""
            logger.warning(
                "%s %s stalled: no data for %g s after %s%s; abandoned, nothing of it kept",
                request.method, request.url.path, stall_s, size_words(received), of,
            )  # fmt: skip
            raise WebError(
                408,
                f"{what} stalled: no data arrived for {stall_s:g} s (was the network lost?); "
                "nothing of it was kept, send it again",
            ) from None
        received += len(chunk)
        yield chunk


async def multipart_receive(
    request,
    tmp_dir: Path,
    max_file_bytes: int,
    max_field_bytes: int,
    stall_s: float = UPLOAD_STALL_S,
) -> Form:
    """Receive ``request``'s multipart/form-data body (one file at most).

    Raises
    ------
    facetwitch.web.app.WebError
        400 for a body that is not such a form or holds two files, 413 when the body
        exceeds ``max_file_bytes`` (plus 1 MB for the form itself) or a field
        ``max_field_bytes``, 408 when no byte of it arrives for ``stall_s`` seconds
        (:func:`body_chunks`). Nothing stays on disk then.
    """
    from .app import WebError

    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise WebError(400, "expected a multipart/form-data upload")
    form = Form()
    state = {
        "headers": {},
        "field": b"",
        "value": b"",
        "name": None,
        "is_file": False,
        "fh": None,
        "error": None,
        "file_bytes": 0,
    }
    limit = max_file_bytes + FORM_BYTES
    too_large = (
        f"the video is larger than {size_words(max_file_bytes)}; start facetwitch serve with "
        "a larger --max-upload-mb"
    )

    def on_part_begin():
        state["headers"] = {}
        state["value"] = b""
        state["name"] = None
        state["is_file"] = False

    def on_header_field(data, start, end):
        state["field"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished():
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = disp.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disp:
            if form.file is not None:
                state["error"] = (400, "one video per upload")
                raise _Stop
            state["is_file"] = True
            form.filename = _display_name(disp[b"filename"].decode("utf-8", "replace"))
            form.file = tmp_dir / f"upload-{secrets.token_hex(8)}.part"
            state["fh"] = open(form.file, "xb")  # noqa: SIM115 - closed at the part's end
        state["value"] = b""

    def on_part_data(data, start, end):
        if state["is_file"]:
            state["file_bytes"] += end - start
            if state["file_bytes"] > max_file_bytes:  # the video itself, not the form around it
                state["error"] = (413, too_large)
                raise _Stop
            state["fh"].write(data[start:end])
        else:
            state["value"] += data[start:end]
            if len(state["value"]) > max_field_bytes:
                state["error"] = (413, f"the field {state['name'][:40]!r} is too long")
                raise _Stop

    def on_part_end():
        if state["is_file"]:
            fh = state["fh"]
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            state["fh"] = None
        elif state["name"]:
            name = state["name"]
            if name in form.fields:  # the later had replaced the earlier without a word
                again = " (several marker times go in one, separated by commas)" * (
                    name == "markers"
                )
                state["error"] = (400, f"the form field {name[:40]!r} is sent twice; send it "
                                       f"once{again}")  # fmt: skip
                raise _Stop
            if len(form.fields) >= MAX_FORM_FIELDS:  # those after the 20th had been dropped
                state["error"] = (
                    400,
                    f"the upload's form has more than {MAX_FORM_FIELDS} fields (the upload page "
                    "sends mirrored, complaint and markers): nothing was kept; send it again "
                    "without the others",
                )
                raise _Stop
            form.fields[name] = state["value"].decode("utf-8", "replace")
        state["value"] = b""

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    received = 0
    try:
        async for chunk in body_chunks(request, stall_s):
            received += len(chunk)
            if received > limit:
                raise WebError(413, too_large)
            try:
                parser.write(chunk)
            except _Stop:
                raise WebError(*state["error"]) from None
            except Exception as exc:  # noqa: BLE001 - a malformed form
                raise WebError(400, f"a malformed upload ({type(exc).__name__})") from None
        with contextlib.suppress(Exception):
            parser.finalize()
        if state["error"] is not None:  # a refusal met while finishing the last part
            raise WebError(*state["error"])
        if state["fh"] is not None:  # the body ended inside the file part
            raise WebError(400, "the upload was cut short")
    except BaseException:
        if state["fh"] is not None:
            state["fh"].close()
        if form.file is not None:
            with contextlib.suppress(OSError):
                form.file.unlink()
        raise
    return form


class _Stop(Exception):
    """Stop parsing (the reason is in the parser's state)."""


def _display_name(name: str) -> str:
    """Return the file's own name, for display.

    No directories, no control characters.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ord(ch) >= 32 and ord(ch) != 127)
    return name.strip()[:200]
