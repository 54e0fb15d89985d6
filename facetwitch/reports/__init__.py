"""Reports: report.json -> ``report.html``, ``report.pdf`` and ``summary.txt``.

All three derive from the report.json dict only (numbers formatted once, in
:mod:`facetwitch.reports.text`); key frames are re-read from the video by timestamp and placed
with the LandmarkTrack.

>>> paths = report_render("report.json", "out/", video="clip.mp4",
...                       track="track.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from .._files import write_atomic as _write
from ..errors import FacetwitchError, FacetwitchWarning, OutputError, RenderError
from .glyphs import pdf_inline_quote
from .keyframes import keyframes_extract, keyframes_select, keyframes_video_problem
from .text import report_facts, report_load, summary_text

logger = logging.getLogger("facetwitch")

__all__ = [
    "report_render",
    "summary_text",
    "report_load",
    "report_facts",
    "keyframes_extract",
    "keyframes_select",
]


def report_render(
    report: dict | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    track=None,
    face_images: bool = True,
    n_keyframes: int = 3,
    video_sha256: str | None = None,
) -> dict[str, Path]:
    """Render a report.json into ``report.html``, ``report.pdf`` and ``summary.txt``.

    Parameters
    ----------
    report : dict or path
        The report.json dict, or its path.
    out_dir : path
        Output directory (created if missing); existing report files are replaced.
    video : path, optional
        The analysed video, for key-frame pictures.
    track : LandmarkTrack or path to its ``.npz``, optional
        Places the key-frame crops; without it there are no key frames.
    face_images : bool
        False: key frames are drawings of the landmarks instead of face pictures (privacy).
    n_keyframes : int
        Number of strongest twitches shown as key frames.
    video_sha256 : str, optional
        ``video``'s sha256 when the caller knows it. Face pictures are cut only from the video
        the report measured (its ``input.sha256``); another file gives landmark drawings, a
        :class:`~facetwitch.errors.FacetwitchWarning` and a note in the reports saying why.
        Without it, the video is hashed once, and only when face pictures are to be cut.

    Returns
    -------
    dict
        ``{"html": Path, "pdf": Path, "summary": Path}``.
    """
    data = report_load(report)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    failed: dict[str, BaseException] = {}
    keyframes, note, video_note = _keyframes_made(
        data, video, track, face_images, n_keyframes, video_sha256, failed
    )
    paths = _outputs_made(data, out, keyframes, note, video_note, face_images, failed)
    if failed:
        report_json = Path(report) if not isinstance(report, dict) else out / "report.json"
        raise RenderError(render_failure(failed, report_json, [p.name for p in paths.values()]),
                          failed=failed, paths=paths) from next(iter(failed.values()))  # fmt: skip
    logger.info("report written to %s", out)
    return paths


def _keyframes_made(data, video, track, face_images, n_keyframes, video_sha256, failed):
    """Key frames (and the notes that go with them) for the HTML and the PDF.

    Key frames are a part of the report, not the report: a video or track that cannot be read
    (an input error) leaves them out with a warning and a note; a bug leaves them out too and
    is put in ``failed`` (the rest is still made).
    """
    video_note = ""
    try:
        if (face_images and video is not None and track is not None
                and keyframes_select(data, n_keyframes)):  # fmt: skip
            problem = keyframes_video_problem(data, video, video_sha256=video_sha256)
            if problem:
                warnings.warn(f"{problem}: key frames without face pictures", FacetwitchWarning,
                              stacklevel=3)  # fmt: skip
                video_note = (f"No face pictures: {problem}. The key frames show the tracked "
                              "landmarks instead.")  # fmt: skip
                video = None
            else:  # checked: the same file, not to be hashed again
                video_sha256 = str(data["input"]["sha256"]).lower()
        keyframes = keyframes_extract(
            data, video=video, track=track, n=n_keyframes, face_images=face_images,
            video_sha256=video_sha256,
        )  # fmt: skip
    except (KeyboardInterrupt, OutputError):
        raise
    except Exception as exc:  # noqa: BLE001 - the report goes on without them
        if not isinstance(exc, FacetwitchError):
            failed["key frames"] = exc
        warnings.warn(f"key frames could not be made ({_reason(exc)}): the report has none",
                      FacetwitchWarning, stacklevel=3)  # fmt: skip
        note = f"Key frames could not be made: {_reason(exc)}."
        return [], note, note
    if keyframes:
        note = video_note
    elif track is None:
        note = "Key frames need the landmark track of the video (track.npz); none was given."
    elif not keyframes_select(data, n_keyframes):
        note = "No twitches, so no key frames."
    else:
        note = "The face was not found near the twitches, so no key frames could be cut."
    return keyframes, note, video_note


def _outputs_made(data, out, keyframes, note, video_note, face_images, failed) -> dict[str, Path]:
    """Make report.html, report.pdf and summary.txt, each on its own.

    report.html, report.pdf and summary.txt, each on its own: one that cannot be made (its
    exception goes in ``failed``) does not keep the others from being written. Writing errors
    (:class:`OutputError`, a full disk) and interrupts are not caught.
    """
    from .html import html_render
    from .pdf import pdf_render

    facts: list[dict] = []  # made once, for the HTML and the PDF

    def the_facts() -> dict:
        if not facts:
            facts.append(report_facts(data))
        return facts[0]

    makers = {
        "html": ("report.html", lambda: html_render(data, the_facts(), keyframes,
                                                    face_images=face_images,
                                                    keyframes_note=note)),
        # the PDF's own facts: words in a script it cannot draw are named, not quoted
        "pdf": ("report.pdf", lambda: pdf_render(data, report_facts(data, quote=pdf_inline_quote),
                                                 keyframes, keyframes_note=video_note)),
        "summary": ("summary.txt", lambda: summary_text(data)),
    }  # fmt: skip
    paths: dict[str, Path] = {}
    for key, (name, make) in makers.items():
        try:
            content = make()
        except (KeyboardInterrupt, OutputError):
            raise
        except Exception as exc:  # noqa: BLE001 - said once all the others are written
            logger.debug("%s could not be made", name, exc_info=True)
            failed[name] = exc
            continue
        paths[key] = _write(out / name, content)
    return paths


def _reason(exc: BaseException) -> str:
    """Return an exception as one short line.

    An exception as one short line: ``ValueError: ...``.
    """
    text = " ".join(str(exc).split())
    text = text if len(text) <= 200 else text[:197] + "..."
    if isinstance(exc, FacetwitchError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def render_failure(failed: dict, report_json: Path, written: list[str]) -> str:
    """Return the message for outputs that could not be made.

    The message for outputs that could not be made: which, why, what is on disk, and the
    command that makes them again.

    Parameters
    ----------
    failed : dict
        Output name (``report.pdf``, ``key frames``) -> the exception.
    report_json : Path
        The report.json the outputs are made from.
    written : list of str
        Names of the files that are on disk.
    """
    import shlex

    from .._text import display_name

    # --force: the renderings that could be made are on disk, and `report` overwrites them only
    # when asked (facetwitch.process.report_process)
    what = "; ".join(f"{name} could not be made ({_reason(exc)})" for name, exc in failed.items())
    order = ("report.json", "events.csv", "track.npz", "report.html", "report.pdf", "summary.txt")
    names = sorted((n for n in written if n), key=lambda n: order.index(n) if n in order else 9)
    kept = f"{', '.join(names)} written in {display_name(str(report_json.parent))}; " if names \
        else ""  # fmt: skip
    again = ", ".join(n for n in failed if n != "key frames") or "the key frames"
    return (
        f"{what}; {kept}to make {again} again: facetwitch report "
        f"{shlex.quote(display_name(str(report_json)))} --force (if it fails again, it is a bug: "
        "rerun with --debug and report it)"
    )
