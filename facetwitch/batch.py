"""``batch_process``: many videos in, one report folder per video and an index out.

Each video is one independent task (:func:`video_run`): hash it, skip it if its report folder
already holds the report of this very content, else track, analyse and write its outputs
(all or nothing: :mod:`facetwitch.outputs`' staging) into ``DIR/<stem>-<8 hex of sha256>/``.
The tasks run in a local process pool (:class:`concurrent.futures.ProcessPoolExecutor`, spawned
processes) or, given a scheduler address, on a Dask distributed cluster (``pip install
facetwitch[cluster]``); the same function runs in both. ``DIR/index.csv`` lists every input
(:data:`INDEX_COLUMNS`) and is rewritten atomically after each video, so a batch killed at
any moment leaves a valid index, complete reports only, and a next run that goes on where it
stopped. docs/batch.md says how a clinic runs it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._files import dir_claim, input_check, path_given, write_atomic
from ._text import display_name, path_text, plural
from ._validate import check_callable, check_flag, check_model, check_path
from .errors import (
    EXIT_BATCH_FAILED,
    EXIT_OK,
    EXIT_RENDER,
    EXIT_UNRELIABLE,
    FacetwitchError,
    FacetwitchWarning,
    InputError,
    ModelError,
    OutputError,
    RenderError,
    UsageError,
)

logger = logging.getLogger("facetwitch")

#: File name extensions taken from a folder (a file named on the command line or in a list
#: file is tried whatever its name).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".3gp",
                    ".ts", ".mts", ".m2ts", ".wmv", ".flv", ".ogv")  # fmt: skip
#: The index's name, at the top of the output directory.
INDEX_NAME = "index.csv"
#: Its columns, one row per input (docs/batch.md says what each holds).
INDEX_COLUMNS = ("path", "sha256", "status", "message", "report_dir", "reliable",
                 "twitch_count", "uncounted_twitch_count", "assessable_s",
                 "twitch_rate_per_min", "blink_rate_per_min", "top_region", "top_side",
                 "top_direction", "duration_s", "frames", "elapsed_s", "attempts")  # fmt: skip
#: ``status``: a report made by this run (reliable numbers or not), none (the message says
#: why), a report found from an earlier run (its numbers are in the row), not yet done.
STATUSES = ("ok", "unreliable", "failed", "skipped", "pending")
#: Runs a video that failed is tried in (the first and one retry); ``retry_failed`` tries more.
MAX_ATTEMPTS = 2
#: How long a task waits for a video's folder held by another process (a killed batch's
#: worker unwinding, or a Dask task of a client that went away, finishing the same video).
FOLDER_WAIT_S = 24 * 3600.0


# -- inputs -----------------------------------------------------------------------------------
def inputs_expand(
    inputs: str | os.PathLike | Iterable[str | os.PathLike], *, skip: Iterable[Path] = ()
) -> list[Path]:
    """Return the videos named by files, folders and list files, in order, each once.

    Parameters
    ----------
    inputs : path or str, or an iterable of them
        One path, or several. Each: a file (taken whatever its extension: a bad one is
        listed as failed), a folder (the
        files under it, recursively, whose extension is in :data:`VIDEO_EXTENSIONS`, sorted;
        hidden files and folders left out), or ``@list.txt``: a UTF-8 text file of such paths,
        one a line (blank lines and lines starting with ``#`` skipped; relative paths are
        relative to the list file's folder).
    skip : iterable of Path
        Folders not to look into (the output directory).

    Returns
    -------
    list of Path
        Absolute paths (symbolic links kept as named), duplicates removed. A path that does not
        exist is kept (the batch lists it as failed: "no such file").

    Raises
    ------
    UsageError
        Nothing was named, or no video was found.
    InputError
        A list file cannot be read.
    TypeError
        ``inputs``, or one of them, is not a path (str or os.PathLike).
    """
    if isinstance(inputs, (str, os.PathLike)):
        # one path: iterated, a str is its characters, and "/" among them is the whole disk
        inputs = [inputs]
    elif isinstance(inputs, bytes) or not isinstance(inputs, Iterable):
        raise TypeError("'inputs' must be a path or a list of paths (videos, folders, "
                        f"@list.txt files), got {inputs!r:.80}")  # fmt: skip
    inputs = [check_path(f"inputs[{i}]", item, "a video, a folder or an @list.txt")
              for i, item in enumerate(inputs)]  # fmt: skip
    skip_dirs = {_abs(s) for s in skip}
    found: list[Path] = []
    named = 0
    for item in inputs:
        text = os.fspath(item)
        if isinstance(text, str) and text.startswith("@"):
            for entry in _list_read(path_given(text[1:], "the list file")):
                named += 1
                found.extend(_expand_one(entry, skip_dirs))
        else:
            named += 1
            found.extend(_expand_one(path_given(text, "an input"), skip_dirs))
    if named == 0:
        raise UsageError("no inputs: give video files, folders or @list.txt")
    unique = list(dict.fromkeys(found))
    if not unique:
        raise UsageError(
            "no videos found in the inputs (folders are searched for "
            f"{', '.join(VIDEO_EXTENSIONS)} files)"
        )
    return unique


def _abs(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _list_read(path: Path) -> list[Path]:
    """Return the paths of a list file (relative ones taken from its folder)."""
    input_check(path, "a list file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise InputError(f"{path}: not UTF-8 text (byte 0x{byte:02x} at offset {exc.start}); "
                         "write the list as UTF-8, one path a line") from None  # fmt: skip
    base = path.parent
    out = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        p = Path(entry).expanduser()
        out.append(p if p.is_absolute() else base / p)
    return out


def _expand_one(path: Path, skip_dirs: set[Path]) -> list[Path]:
    """Return a folder's videos (sorted, recursively), or the path itself."""
    path = _abs(path)
    if not path.is_dir():
        return [path]
    out = []
    for root, dirs, files in os.walk(path):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and here / d not in skip_dirs)
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in VIDEO_EXTENSIONS:
                out.append(here / name)
    if not out:
        warnings.warn(f"{path}: no videos found in it", FacetwitchWarning, stacklevel=3)
    return out


def folder_name(path: str | os.PathLike, sha256: str) -> str:
    """Return a video's report folder.

    ``<stem>-<first 8 hex digits of its sha256>``.

    Two videos of one name in different folders never share a folder (their contents
    differ); the same content under the same name (a copy, a moved file) finds its report
    again. Characters other than letters, digits, ``.``, ``_``, ``-`` and ``+`` are written
    ``_``; the stem is cut at 60 characters and never starts with ``.`` (a hidden folder).
    """
    stem = "".join(c if c.isalnum() or c in "._-+" else "_" for c in Path(path).stem)
    stem = stem[:60].lstrip(".") or "video"
    return f"{stem}-{sha256[:8]}"


# -- one video --------------------------------------------------------------------------------
def video_run(job: dict) -> dict:
    """Analyse one video of a batch into its report folder; its index row.

    The task a process pool or a Dask worker runs: everything it needs is in ``job`` (plain
    data), it reads the video and writes its folder itself, and it never raises for a
    problem with the video (the row says ``failed`` and why), so that one bad file never stops
    a batch. Ctrl-C, SIGTERM and SIGHUP (``KeyboardInterrupt``) do propagate, after the
    outputs being made are removed.

    Parameters
    ----------
    job : dict
        ``path`` (the video), ``out`` (the batch's output directory), ``force`` (redo a video
        that has its report), ``retry_failed`` (try a video that failed :data:`MAX_ATTEMPTS`
        times again), ``render``, ``face_images``, ``mirrored`` (as for ``facetwitch
        analyze``), ``model`` (path or None: resolved here), ``earlier`` (its row in the last
        run's index, or None), ``track_workers`` (processes to track with, default 1; see
        :func:`track_workers`).

    Returns
    -------
    dict
        The row (:data:`INDEX_COLUMNS`), plus ``exit_code`` (that of ``facetwitch analyze`` on
        this video: 0, 7, 8, or the error's) and ``warnings`` (the run's warning lines; those
        about the video are in its report.json too).
    """
    t0 = time.perf_counter()
    path = Path(job["path"])
    earlier = job.get("earlier") or {}
    row = _row_new(path)
    _BUSY.set()
    try:
        return _video_row(row, path, job, earlier, t0)
    finally:
        _BUSY.clear()


#: Set while this process runs a video (:func:`_parent_watch` waits for it to unwind).
_BUSY = threading.Event()


def _video_row(row: dict, path: Path, job: dict, earlier: dict, t0: float) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FacetwitchWarning)
        try:
            _video_into(row, path, job, earlier)
        except FacetwitchError as exc:
            _failed(row, exc, exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - a bug on one video must not stop the batch
            logger.debug("%s: internal error", path, exc_info=True)
            why = f"internal error: {type(exc).__name__}: {exc} (a bug: run facetwitch analyze "
            _failed(row, why + "on this video with --debug and report the traceback)", 1)
    row["warnings"] = [_one_line(str(w.message)) for w in caught
                       if issubclass(w.category, FacetwitchWarning)]  # fmt: skip
    if row["status"] != "skipped" and not (row["status"] == "failed" and row.get("not_tried")):
        row["elapsed_s"] = round(time.perf_counter() - t0, 2)
    row.pop("not_tried", None)
    if row["status"] == "failed" and row["report_dir"]:  # a folder only if it holds a report
        if not (Path(job["out"]) / row["report_dir"] / "report.json").is_file():
            row["report_dir"] = ""
    return row


def _video_into(row: dict, path: Path, job: dict, earlier: dict) -> None:
    """Run the body of :func:`video_run`: fill ``row``."""
    from .landmarks.video import file_sha256

    input_check(path)
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    row["sha256"] = sha
    attempts = _int(earlier.get("attempts")) if earlier.get("sha256") == sha else 0
    row["attempts"] = attempts
    again = job["retry_failed"] or job["force"]
    if earlier.get("status") == "failed" and earlier.get("sha256") == sha and not again and (
            attempts >= MAX_ATTEMPTS):  # fmt: skip
        row.update(status="failed", not_tried=True, exit_code=_int(earlier.get("exit_code")) or 1,
                   message=f"failed in {attempts} runs, not tried again (--retry-failed tries "
                           f"it): {earlier.get('message', '')}")  # fmt: skip
        return
    out_root = Path(job["out"])
    folder = out_root / folder_name(path, sha)
    row["report_dir"] = folder.name
    _folder_wait(folder)
    from .outputs import out_dir_check, out_dir_claim

    with out_dir_claim(folder, what="batch") as out:
        done = _report_read(out / "report.json")
        same = done is not None and done.get("input", {}).get("sha256") == sha
        if same and bool(done["input"].get("mirrored")) != bool(job["mirrored"]):
            done = None  # its sides are the other way round: analysed again, replaced
        if done is not None and not job["force"]:
            if same:
                _numbers(row, done)
                said = "report from an earlier run" + _unreliable_words(done)
                row.update(status="skipped", attempts=attempts or "", message=said)
                if job["render"]:
                    _renderings_complete(row, out, path, job)
                return
            raise OutputError(f"{out}: holds the report of another video (sha256 "
                              f"{done.get('input', {}).get('sha256')}); move it away, or use "
                              "--force to replace it")  # fmt: skip
        row["attempts"] = attempts + 1
        # a report.json that cannot be read is the batch's own, damaged: replaced
        force = job["force"] or (out / "report.json").exists()
        out_dir_check(out, force=force)
        model = _model_here(job.get("model"))
        analysis, paths, render_error = _analysis_write(path, out, sha, model, job, force)
        _renderings_stale_remove(out, paths)
    report = analysis.report
    _numbers(row, report)
    row["status"] = "ok" if report["quality"]["reliable"] else "unreliable"
    row["exit_code"] = EXIT_OK if report["quality"]["reliable"] else EXIT_UNRELIABLE
    row["message"] = _unreliable_words(report).removeprefix("; ")
    if render_error is not None:
        row["exit_code"] = EXIT_RENDER
        row["message"] = "; ".join(m for m in (row["message"], _one_line(render_error)) if m)


def _renderings_complete(row: dict, out: Path, path: Path, job: dict) -> None:
    """Make the report.html, report.pdf and summary.txt an earlier run (``--no-report``) did not.

    From its report.json (as ``facetwitch report`` does); a failure is the row's message and exit
    code 8.
    """
    from .outputs import RENDERED_NAMES
    from .process import report_process

    if all((out / name).exists() for name in RENDERED_NAMES):
        return
    try:
        report_process(out / "report.json", out, video=path,
                       face_images=job["face_images"], force=True)  # fmt: skip
        row["message"] += "; report.html, report.pdf, summary.txt made now"
    except FacetwitchError as exc:
        row.update(exit_code=exc.exit_code, message=f"{row['message']}; {_one_line(exc)}")


def _renderings_stale_remove(out: Path, paths: dict) -> None:
    """Remove the report.html.

    Report.pdf or summary.txt of a replaced report that this run did not make again
    (``--no-report``, or a rendering that failed): they would show the old analysis (its sides, with
    ``--mirrored`` changed) beside the new report.json.
    """
    from .outputs import RENDERED_NAMES

    made = {Path(p).name for p in paths.values()}
    for name in RENDERED_NAMES:
        if name not in made:
            (out / name).unlink(missing_ok=True)


def _analysis_write(path: Path, out: Path, sha: str, model, job: dict, force: bool):
    """Track, analyse and write one video; return (analysis, paths, RenderError or None).

    Track (in ``job["track_workers"]`` processes, default 1: the batch is the parallelism; see
    :func:`track_workers`), analyse, write; (analysis, paths, RenderError or None).
    """
    from .analysis import analysis_run
    from .landmarks.tracker import track_video
    from .outputs import outputs_install

    track = track_video(path, model=model, workers=job.get("track_workers", 1))
    analysis = analysis_run(track, mirrored=job["mirrored"])
    try:
        paths = outputs_install(analysis, out, video=path, video_sha256=sha, force=force,
                                render=job["render"], face_images=job["face_images"])  # fmt: skip
    except RenderError as exc:  # the analysis is written: the row keeps its numbers
        return analysis, exc.paths, exc
    return analysis, paths, None


def _row_new(path: Path) -> dict:
    row = dict.fromkeys(INDEX_COLUMNS, "")
    row.update(path=path_text(path), status="failed", exit_code=1)
    return row


def _failed(row: dict, exc: BaseException | str, code: int) -> None:
    row.update(status="failed", message=_one_line(exc), exit_code=int(code))


def _one_line(exc: BaseException | str) -> str:
    """Return an error's text on one line, control characters written out (as the CLI prints it)."""
    text = " ".join(str(exc).split("\n")).strip()
    return display_name(text) if text else type(exc).__name__


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _report_read(path: Path) -> dict | None:
    """Return a report.json's content, or None if there is none or it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unreliable_words(report: dict) -> str:
    reasons = report.get("quality", {}).get("unreliable_reasons") or []
    return f"; unreliable: {', '.join(map(str, reasons))}" if reasons else ""


def _numbers(row: dict, report: dict) -> None:
    """Copy the summary numbers of a report into its row."""
    s = report.get("summary", {})
    q = report.get("quality", {})
    top = (s.get("by_region") or [{}])[0]
    row.update(
        reliable="true" if q.get("reliable") else "false",
        twitch_count=s.get("twitch_count", ""),
        uncounted_twitch_count=s.get("uncounted_twitch_count", ""),
        assessable_s=s.get("assessable_s", ""),
        twitch_rate_per_min=_blank(s.get("twitch_rate_per_min")),
        blink_rate_per_min=_blank(s.get("blink_rate_per_min")),
        top_region=top.get("region", ""),
        top_side=top.get("side", ""),
        top_direction=_blank(top.get("mean_direction")),
        duration_s=_blank(report.get("input", {}).get("duration_s")),
        frames=_blank(report.get("input", {}).get("frames")),
    )


def _blank(value):
    return "" if value is None else value


def _folder_wait(folder: Path, timeout_s: float = FOLDER_WAIT_S) -> None:
    """Wait while another live process holds ``folder`` (its lock, :func:`dir_claim`).

    A batch killed with ``kill -9`` leaves its workers unwinding for a moment; a Dask task of
    a client that went away goes on to the end of its video. Either ends and lets go (the
    kernel releases a dead holder's lock); waiting for it, rather than failing the video, lets
    the next run take the finished report. Returns at once when nothing holds it.
    """
    from ._files import LOCK_NAME

    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no locks
        return
    lock = folder / LOCK_NAME
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        try:
            fd = os.open(lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
        except OSError:
            return  # no lock file: nobody holds it (dir_claim says what else is wrong)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError:
            return
        finally:
            os.close(fd)
        if time.monotonic() > deadline:
            return  # dir_claim says who holds it
        time.sleep(delay)
        delay = min(2.0, delay * 1.5)


#: The model path this process resolved (a worker analyses many videos).
_MODEL: dict[str, str] = {}


def _model_here(model: str | None) -> str:
    """Return the verified model for this process.

    ``model`` when given (a path every worker sees), else this machine's own (FACETWITCH_MODEL, the
    cache, or a fetch into it, one process of the machine at a time).
    """
    key = model or ""
    if key not in _MODEL:
        from .landmarks.model import model_cache_path, model_resolve

        if model:
            _MODEL[key] = str(model_resolve(model).path)
        else:
            lock = model_cache_path().parent / ".facetwitch-model-fetch.lock"
            with _file_lock(lock):
                _MODEL[key] = str(model_resolve().path)
    return _MODEL[key]


@contextlib.contextmanager
def _file_lock(path: Path):
    """Hold an exclusive lock on ``path`` (created if needed), waiting for it."""
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except (ImportError, OSError):  # no locks here: go on without
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- the batch ---------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What a batch did: one row per input, in the inputs' order, and the index's path.

    Attributes
    ----------
    rows : list of dict
        The index's rows (:data:`INDEX_COLUMNS`), with ``exit_code`` and ``warnings``.
    index : Path
        ``DIR/index.csv``.
    """

    rows: list[dict]
    index: Path
    counts: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        # the dataclass's own listed every row: a screenful per video in a notebook
        by_status: dict[str, int] = {}
        for row in self.rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
        states = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
        return (f"BatchResult({plural(len(self.rows), 'video')}{': ' + states if states else ''}, "
                f"exit_code={self.exit_code}, index={str(self.index)!r})")  # fmt: skip

    @property
    def exit_code(self) -> int:
        """The batch's exit code (docs/errors.md).

        9 when a video gave no report, else 8 when a report's renderings were not all made,
        else 7 when a report's numbers are unreliable, else 0.
        """
        if any(r["status"] in ("failed", "pending") for r in self.rows):
            return EXIT_BATCH_FAILED
        if any(r.get("exit_code") == EXIT_RENDER for r in self.rows):
            return EXIT_RENDER
        if any(r["reliable"] != "true" for r in self.rows):
            return EXIT_UNRELIABLE
        return EXIT_OK


def batch_process(
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    mirrored: bool = False,
    render: bool = True,
    face_images: bool = True,
    model: str | os.PathLike | None = None,
    progress: Callable | None = None,
    on_row: Callable[[dict], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> BatchResult:
    """Analyse many videos, one report folder each, and index them in ``out_dir/index.csv``.

    Parameters
    ----------
    inputs : path or str, or an iterable of them
        Video files, folders, ``@list.txt`` files (:func:`inputs_expand`); one alone may be
        given as it is (``"uploads/"``).
    out_dir : path
        The batch's output directory (created if needed): a folder per video
        (:func:`folder_name`) and ``index.csv``. Held by one batch at a time.
    workers : int, optional
        Processes of the local pool (default: :func:`workers_default`). Not with ``scheduler``.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): one task per video on that cluster,
        whose workers must see the inputs and ``out_dir`` at the same paths.
    force : bool
        Analyse every video again, replacing its report.
    retry_failed : bool
        Try again videos that failed in :data:`MAX_ATTEMPTS` runs already.
    mirrored : bool
        Every video is mirrored (selfie previews saved as shown).
    render : bool
        Also make report.html, report.pdf and summary.txt (else report.json, events.csv and
        track.npz only).
    face_images : bool
        Face crops in the rendered reports.
    model : path, optional
        ``face_landmarker.task`` (with ``scheduler``: a path every worker sees). Default: the
        local pool resolves it once here; each Dask worker resolves its own machine's.
    progress : callable, optional
        ``progress(done_videos, total_videos, remaining_s)`` after each video (``remaining_s``
        None until it can be estimated); may have a ``close()``.
    on_row : callable, optional
        ``on_row(row)`` for each video as it ends.
    echo : callable, optional
        ``echo(str)`` receives the one-line messages of a first-use model fetch.

    Returns
    -------
    BatchResult
        The rows and the index; ``.exit_code`` for the command line.

    Raises
    ------
    UsageError
        No videos found; ``workers`` with ``scheduler``; Dask not installed or the scheduler
        not reachable.
    OutputError
        ``out_dir`` cannot be written, or another batch is writing into it.
    ModelError
        The model cannot be had (before any video is started).

    Examples
    --------
    >>> result = facetwitch.batch_process(["uploads/"], "reports", workers=2)  # doctest: +SKIP
    >>> [(r["path"], r["status"], r["twitch_count"]) for r in result.rows]  # doctest: +SKIP
    [('/data/uploads/monday.mp4', 'ok', 7), ('/data/uploads/notes.mp4', 'failed', '')]
    """
    for name, flag in (("force", force), ("retry_failed", retry_failed), ("mirrored", mirrored),
                       ("render", render), ("face_images", face_images)):  # fmt: skip
        check_flag(name, flag)
    out = path_given(check_path("out_dir", out_dir, "the output directory"), "--out")
    check_model(model)
    for name, func, call in (
        ("progress", progress, "progress(done_videos, total_videos, remaining_s)"),
        ("on_row", on_row, "on_row(row)"), ("echo", echo, "echo(message)"),
    ):  # fmt: skip
        check_callable(name, func, call)
    if scheduler and workers is not None:
        raise UsageError("--workers sets the local pool; with --scheduler the cluster's workers "
                         "run the videos (dask worker --nworkers N)")  # fmt: skip
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)):
        # "2" had failed inside multiprocessing ('<=' not supported), 2.5 there too
        raise TypeError(f"workers must be a whole number of processes, got {workers!r}")
    if workers is not None and int(workers) < 1:
        raise UsageError(f"--workers {workers}: give 1 or more")
    _out_creatable(out)
    videos = inputs_expand(inputs, skip=[out])
    client = _dask_client(scheduler) if scheduler else None
    try:
        if client is None:
            from .landmarks.model import model_resolve

            model_path = str(model_resolve(model, echo=echo).path)  # fetched once, if need be
        else:
            model_path = str(model) if model is not None else None
            _dask_check(client, model_path)
        with dir_claim(out, what="batch") as held:
            return _batch_run(videos, held, client=client, workers=workers, model=model_path,
                              force=force, retry_failed=retry_failed, mirrored=mirrored,
                              render=render, face_images=face_images, progress=progress,
                              on_row=on_row)  # fmt: skip
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if progress is not None and hasattr(progress, "close"):
            progress.close()


def workers_default() -> int:
    """Return the processes of the local pool by default.

    One per two cores (each process's MediaPipe and decoder already keep about two cores busy;
    benchmarks/README.md, "Batch").
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def _out_creatable(out: Path) -> None:
    """Raise :class:`OutputError` unless ``out`` is, or can be made, a writable directory."""
    if out.is_symlink() and not out.exists():
        raise OutputError(f"{out}: is a symbolic link to {os.readlink(out)}, which does not "
                          "exist; create that directory or choose another --out")  # fmt: skip
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    parent = out.absolute()
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{out}: cannot create the output directory ({parent} is a file)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output directory is not writable")


def _batch_run(videos: list[Path], out: Path, *, client, workers, model, progress, on_row,
               **options) -> BatchResult:  # fmt: skip
    """Run the tasks (local pool or Dask), keeping ``out/index.csv`` up to date."""
    index = out / INDEX_NAME
    _index_leftovers_remove(out)
    earlier = index_read(index)
    jobs = [{"path": str(v), "out": str(out.absolute()), "model": model,
             "earlier": earlier.get(path_text(v)), **options} for v in videos]  # fmt: skip
    rows = [_row_pending(v, earlier.get(path_text(v))) for v in videos]
    index_write(index, rows)
    eta = _Eta(videos)
    done = [0]

    def finished(k: int, row: dict) -> None:
        rows[k] = row
        index_write(index, rows)
        done[0] += 1
        eta.add(k, row)
        if on_row is not None:
            on_row(row)
        if progress is not None:
            progress(done[0], len(rows), eta.remaining_s(done[0], len(rows)))

    if progress is not None:
        progress(0, len(rows), None)
    try:
        if client is None:
            _run_local(jobs, finished, workers or workers_default())
        else:
            _run_dask(client, jobs, finished)
    finally:
        index_write(index, rows)  # an interrupted run leaves pending rows, never a partial file
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    return BatchResult(rows=rows, index=index, counts=counts)


def _row_pending(path: Path, earlier: dict | None) -> dict:
    row = _row_new(path)
    row.update(status="pending", exit_code="")
    if earlier:  # what the last run knew, until this one knows better
        for key in ("sha256", "report_dir", "attempts"):
            row[key] = earlier.get(key, "")
    return row


class _Eta:
    """Time left, from the frames the videos announce (a video's work is about its frames).

    The videos' headers are read on a thread of their own (many files on a network share must
    not delay the start); a video not read yet counts as the median of those read.
    """

    def __init__(self, videos: Sequence[Path]):
        self.t0 = time.monotonic()
        self.frames: list[int | None] = [None] * len(videos)
        self.left = set(range(len(videos)))
        self.work_done = 0.0
        threading.Thread(target=self._probe, args=(list(videos),), daemon=True,
                         name="facetwitch-batch-probe").start()  # fmt: skip

    def _probe(self, videos: list[Path]) -> None:
        for k, v in enumerate(videos):
            self.frames[k] = _frames_announced(v)

    def _weight(self, k: int) -> float:
        n = self.frames[k]
        if n:
            return float(n)
        known = sorted(f for f in self.frames if f)
        return float(known[len(known) // 2]) if known else 1.0

    def add(self, k: int, row: dict) -> None:
        self.left.discard(k)
        if row["status"] in ("ok", "unreliable"):  # analysed now: it took its time
            self.work_done += self._weight(k)

    def remaining_s(self, done: int, total: int) -> float | None:
        if done >= total:
            return 0.0
        if self.work_done <= 0:
            return None
        rate = self.work_done / (time.monotonic() - self.t0)
        return sum(self._weight(k) for k in self.left) / rate


def _frames_announced(path: Path) -> int:
    """Return the frame count a video's container announces (0: unknown, or not a video)."""
    try:
        from .landmarks.video import VideoReader

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with VideoReader(path) as reader:
                return int(reader.expected_frames)
    except Exception:  # noqa: BLE001 - only an estimate: a bad file fails in its task
        return 0


# -- the index ---------------------------------------------------------------------------------
def index_write(path: Path, rows: list[dict]) -> Path:
    """Write the index (:data:`INDEX_COLUMNS`) atomically.

    A reader, or a kill, sees the old one or the new one, whole. Cells that would start like a
    spreadsheet formula get a leading ``'`` (:func:`facetwitch.outputs.csv_cell`).
    """
    from .outputs import csv_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(INDEX_COLUMNS)
    for row in rows:
        w.writerow([csv_cell(_cell(row.get(c, ""))) for c in INDEX_COLUMNS])
    return write_atomic(path, buf.getvalue())


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return value


def index_read(path: Path) -> dict[str, dict]:
    """Return a batch index's rows by ``path`` ({} when there is none or it cannot be read)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    out = {}
    for row in rows:
        key = row.get("path")
        if key:
            out[key.removeprefix("'")] = {k: (v or "") for k, v in row.items() if k}
    return out


def _index_leftovers_remove(out: Path) -> None:
    """Remove the index's temporary files a killed batch left (``.index.csv.*.tmp``)."""
    prefix = f".{INDEX_NAME}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(out):
            if (entry.name.startswith(prefix) and entry.name.endswith(".tmp")
                    and entry.is_file(follow_symlinks=False)):  # fmt: skip
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


# -- the local process pool ---------------------------------------------------------------------
def _run_local(
    jobs: list[dict],
    finished: Callable[[int, dict], None],
    workers: int,
    run: Callable[[dict], dict] | None = None,
) -> None:
    """Run ``jobs`` on ``workers`` spawned processes, at most one video each at a time.

    A process that dies (a crash in native code, out of memory, killed) breaks the pool: the
    videos it was running are tried again alone, one at a time, once everything else is done
    (alone, a crash names its video); a video whose process dies again is listed failed.
    ``run`` is what a process does with one job (:func:`video_run`; tests give their own).
    """
    run = run or video_run
    todo = list(range(len(jobs)))
    again: list[int] = []
    while todo:
        done, broken = _pool_run(jobs, todo, finished, workers, run)
        again += broken
        todo = [k for k in todo if k not in done and k not in broken]
    while again:
        done, broken = _pool_run(jobs, again, finished, 1, run)
        for k in broken:
            row = _row_new(Path(jobs[k]["path"]))
            _failed(row, "the process analysing it stopped abruptly, twice (a crash in native "
                         "code, out of memory, or killed)", 1)  # fmt: skip
            finished(k, row)
        again = [k for k in again if k not in done and k not in broken]


def _pool_run(jobs, todo: list[int], finished, workers: int, run) -> tuple[set[int], list[int]]:
    """Run the ``todo`` jobs in one pool until done or a process dies.

    The jobs finished, and those it was running when a process died. A process can die at any
    moment, also between a job finishing and the next one being handed out (``submit`` then
    raises): the job not handed out stays to do, and the jobs in flight are sorted into finished
    (their result came back before the pool broke) and broken.
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    _resource_tracker_start()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))  # fmt: skip
    queue = sorted(todo, key=lambda k: not _done_before(jobs[k]))  # likely skips first
    running: dict = {}
    done: set[int] = set()
    broken: list[int] = []

    def collect(futures) -> None:
        for fut in futures:
            k = running.pop(fut)
            try:
                row = fut.result()
            except BrokenProcessPool:
                broken.append(k)
                continue
            done.add(k)
            finished(k, row)

    try:
        pool_broken = False
        while (queue or running) and not broken and not pool_broken:
            while queue and len(running) < workers:
                later = any(not _done_before(jobs[j]) for j in queue[1:])
                slots = track_workers(workers, len(running), later)
                job = {**jobs[queue[0]], "track_workers": slots}
                try:
                    fut = pool.submit(run, job)
                except BrokenProcessPool:  # a process died since the last wait
                    pool_broken = True
                    break
                running[fut] = queue.pop(0)
            if not pool_broken:
                collect(wait(running, timeout=1.0, return_when=FIRST_COMPLETED)[0])
        # the pool is broken (or all is done): what is in flight has finished or dies with it
        collect(wait(running, timeout=30.0)[0])
        broken.extend(running.values())
    except BaseException:  # Ctrl-C, SIGTERM, SIGHUP (or a bug here): stop the workers
        _pool_stop(pool)
        raise
    _pool_stop(pool, graceful=not broken)
    return done, broken


def track_workers(workers: int, running: int, later: bool) -> int:
    """Return the processes a video about to start in the local pool may track with.

    The batch's processes are the parallelism: a video tracks in its own process alone
    (``1``) while other videos wait to be analysed. Only the last one to start may take the
    pool's free slots (``workers - running``) for chunked tracking
    (:func:`~facetwitch.landmarks.track_video` ``workers=``; a video under a minute is tracked
    in one process whatever it is given). The processes tracking never outnumber ``workers``.

    Parameters
    ----------
    workers : int
        The pool's size (``--workers``).
    running : int
        Videos in flight in the pool (started, not finished), this one not counted.
    later : bool
        Whether videos still waiting to start are likely to need analysing (not skipped).

    Returns
    -------
    int
        1 or more.
    """
    return 1 if later else max(1, workers - running)


def _done_before(job: dict) -> bool:
    """Whether the index says an earlier run analysed this video (it is likely skipped)."""
    earlier = job.get("earlier") or {}
    return earlier.get("status") in ("ok", "unreliable", "skipped") and not job["force"]


def _resource_tracker_start() -> None:
    """Start multiprocessing's resource tracker with SIGHUP blocked.

    Start multiprocessing's resource tracker (which cleans up the pool's semaphores) with SIGHUP
    blocked: a closed terminal sends SIGHUP to the whole process group, and a tracker it killed is
    started again by the next use of a queue, which then prints KeyError tracebacks for the
    semaphores the first one knew. Blocked, not ignored, here: a SIGHUP meanwhile is delivered
    after.
    """
    from multiprocessing import resource_tracker

    hup = getattr(signal, "SIGHUP", None)
    if hup is None or not hasattr(signal, "pthread_sigmask"):
        resource_tracker.ensure_running()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {hup})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _pool_stop(pool, *, graceful: bool = False, wait_s: float = 15.0) -> None:
    """Shut ``pool`` down.

    Nothing new starts, running videos are stopped by SIGTERM (their unfinished outputs removed as
    after Ctrl-C), and a process that does not end within ``wait_s`` is killed. ``graceful``:
    everything is done; just let the processes end.
    """
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    if not graceful:
        for p in procs:
            with contextlib.suppress(Exception):
                if p.is_alive():
                    os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True)


def _worker_init(parent_pid: int) -> None:
    """In each pool process.

    Stop signals handled as in ``facetwitch analyze`` (SIGTERM unwinds, removing unfinished
    outputs), Ctrl-C and SIGHUP left to the batch (which stops us with SIGTERM), and a watch that
    ends us when the batch itself is gone (``kill -9``).
    """
    from .errors import Terminated

    def terminated(signum, frame):  # noqa: ARG001
        if not _BUSY.is_set():  # waiting for a video: nothing to unwind, nothing to say
            os._exit(128 + signal.SIGTERM)
        raise Terminated

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, terminated)
    logging.getLogger("facetwitch").setLevel(logging.ERROR)  # lines go to the index, not here
    threading.Thread(target=_parent_watch, args=(parent_pid,), daemon=True,
                     name="facetwitch-parent-watch").start()  # fmt: skip


def _parent_watch(parent_pid: int, every_s: float = 0.2, unwind_s: float = 10.0) -> None:
    """End this process soon after the batch process is gone.

    A video being made is stopped by SIGTERM (it unwinds, its unfinished outputs removed), then the
    process exits.
    """
    while os.getppid() == parent_pid:
        time.sleep(every_s)
    if _BUSY.is_set():
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + unwind_s
        while _BUSY.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
    os._exit(1)


# -- Dask ------------------------------------------------------------------------------------------
def _dask_client(address: str):
    """Return a ``distributed.Client`` connected to ``address``."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed package: pip install "
                         "'facetwitch[cluster]'") from None  # fmt: skip
    try:
        return Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot connect to the Dask scheduler at {address} ({_one_line(exc)}); "
                         "is 'dask scheduler' running there?") from None  # fmt: skip


def _worker_ready(model: str | None) -> dict:
    """On a Dask worker: this facetwitch's version and the model it will use (or why not)."""
    from . import __version__

    try:
        return {"version": __version__, "model": _model_here(model)}
    except FacetwitchError as exc:
        return {"version": __version__, "error": str(exc)}


def _dask_check(client, model: str | None) -> None:
    """Check that the cluster's workers run facetwitch and have the model, before any task."""
    from . import __version__

    try:
        answers = client.run(_worker_ready, model)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"the Dask workers cannot run facetwitch ({_one_line(exc)}): install "
                         "'facetwitch[cluster]' on every worker") from None  # fmt: skip
    if not answers:
        warnings.warn("the Dask cluster has no workers yet; the videos wait for them",
                      FacetwitchWarning, stacklevel=3)  # fmt: skip
    for worker, ans in sorted(answers.items()):
        if "error" in ans:
            raise ModelError(f"Dask worker {worker}: {ans['error']}")
        if ans["version"] != __version__:
            warnings.warn(f"Dask worker {worker} runs facetwitch {ans['version']}, this client "
                          f"{__version__}", FacetwitchWarning, stacklevel=3)  # fmt: skip


def _run_dask(client, jobs: list[dict], finished: Callable[[int, dict], None]) -> None:
    """One task per video on the cluster.

    A task whose worker died (Dask retries it on another, then gives up: ``KilledWorker``) is listed
    failed.
    """
    from distributed import as_completed

    futures = {}
    for k, job in enumerate(jobs):
        fut = client.submit(video_run, job, key=f"facetwitch-video-{k}-{time.time_ns()}",
                            pure=False)  # fmt: skip
        futures[fut] = k
    try:
        for fut in as_completed(list(futures), loop=client.loop):
            k = futures[fut]
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost worker, a bug there
                row = _row_new(Path(jobs[k]["path"]))
                _failed(row, f"the Dask task failed ({type(exc).__name__}: {exc})", 1)
            finished(k, row)
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        raise
