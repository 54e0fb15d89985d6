"""The diary: every recording a patient made or analysed, in SQLite, with its files beside it.

One store, used by ``facetwitch serve`` (the web app) and by ``facetwitch diary`` (the CLI).
Layout of the data directory (:func:`data_dir`)::

    DATA/diary.sqlite3                 recordings and analysis jobs
    DATA/serve.lock, DATA/tmp/         the running server's lock; uploads while they arrive
    DATA/recordings/<id>/              one directory per recording; <id> is made here
        video.<ext>                    an uploaded or added video (ext from its content: a
                                       ``record --diary`` recording is video.mkv)
        recording.webm, recording.mkv  a browser recording: the chunks as sent, then indexed
                                       (chunks/ and recording.json while it arrives)
        markers.json                   a browser recording's "I felt one" marks (s from the
                                       first frame; others' are in the database)
        report/                        report.json, report.html, report.pdf, summary.txt, ...
        clips/                         one slowed, motion-magnified clip per twitch
        analysis.log                   the output of an analysis the web app ran
    DATA/bundles/                      consult bundles (zip)

Every path is built from a recording id that this module made (:data:`ID_RE`); no text a
user typed ever becomes part of a path. The numbers the diary lists come from each
recording's report.json through one function, :func:`report_numbers`, which reads the
schema-2 fields (assessable time, counted twitches) and falls back to schema 1.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import time
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._text import plural
from .conventions import circular_mean_deg, direction_word
from .conventions import counted as is_counted
from .errors import FacetwitchError, FacetwitchWarning, InputError, OutputError, UsageError

logger = logging.getLogger("facetwitch")

#: Environment variable naming the data directory (``--data`` overrides it).
DATA_ENV = "FACETWITCH_DATA"
#: A recording id: local start time and 4 random hex digits, e.g. ``20250301-143012-9f3a``.
ID_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")
#: Recording states: being recorded in the browser, waiting for analysis, being analysed,
#: analysed, analysis failed (``error`` says why).
STATUSES = ("recording", "queued", "analysing", "done", "failed")
#: Where a recording came from.
SOURCES = ("browser", "upload", "analyze", "record")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    mirrored INTEGER NOT NULL DEFAULT 0,
    complaint TEXT,
    markers TEXT NOT NULL DEFAULT '[]',
    video TEXT,
    duration_s REAL,
    numbers TEXT,
    error TEXT,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT 'waiting',
    fraction REAL NOT NULL DEFAULT 0,
    eta_s REAL,
    detail TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, id);
"""
_USER_VERSION = 1


def data_dir(data: str | os.PathLike | None = None) -> Path:
    r"""Return the diary's data directory.

    ``data``, else ``$FACETWITCH_DATA``, else the per-user one.

    The per-user directory is platformdirs' user data directory for ``facetwitch``
    (Linux ``~/.local/share/facetwitch``, macOS ``~/Library/Application Support/facetwitch``,
    Windows ``%LOCALAPPDATA%\facetwitch``). Nothing is created here.

    Parameters
    ----------
    data : path, optional
        An explicit directory (``--data DIR``).

    Returns
    -------
    Path
        The directory (absolute).
    """
    if data is not None:
        return Path(data).expanduser().absolute()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("facetwitch", appauthor=False)).absolute()


def id_check(recording_id: str) -> str:
    """Return ``recording_id`` if it has the form the diary makes, else raise InputError."""
    if not isinstance(recording_id, str) or not ID_RE.match(recording_id):
        raise InputError(
            f"{str(recording_id)[:40]!r}: not a recording id (e.g. 20250301-143012-9f3a)"
        )
    return recording_id


@dataclass(frozen=True)
class Recording:
    """One diary entry (a row of ``recordings``), with its directory."""

    id: str
    created: str
    source: str
    title: str
    status: str
    mirrored: bool
    complaint: str | None
    markers: list[dict]
    video: str | None
    duration_s: float | None
    numbers: dict | None
    error: str | None
    dir: Path = field(repr=False)

    @property
    def video_path(self) -> Path | None:
        """The video analysis reads (inside :attr:`dir`), or None before there is one."""
        return self.dir / self.video if self.video else None

    @property
    def report_dir(self) -> Path:
        """Where report.json and the rendered reports go."""
        return self.dir / "report"

    @property
    def clips_dir(self) -> Path:
        """Where the event clips go."""
        return self.dir / "clips"

    @property
    def day(self) -> str:
        """The local date the recording was made, ``YYYY-MM-DD``."""
        return self.created[:10]

    def report(self) -> dict | None:
        """report.json's content, or None when there is none (yet)."""
        path = self.report_dir / "report.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class Job:
    """One analysis job (a row of ``jobs``)."""

    id: int
    recording_id: str
    status: str
    stage: str
    fraction: float
    eta_s: float | None
    detail: str
    attempts: int
    pid: int | None
    error: str | None
    updated: float

    def to_dict(self) -> dict:
        """Plain dict for JSON (progress events)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Diary:
    """The diary in ``root`` (see the module docstring for the layout).

    Parameters
    ----------
    root : path, optional
        Data directory (:func:`data_dir` resolves the default).
    create : bool
        Create the directory and the database when missing; False raises
        :class:`~facetwitch.errors.InputError` instead (the CLI's read-only commands).
    """

    def __init__(self, root: str | os.PathLike | None = None, *, create: bool = True):
        self.root = data_dir(root)
        self.db_path = self.root / "diary.sqlite3"
        if not self.db_path.exists():
            if not create:
                raise InputError(f"{self.root}: no diary here (nothing recorded or added yet)")
            try:
                (self.root / "recordings").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(
                    f"{self.root}: cannot create the data directory ({exc.strerror})"
                ) from None
        with self._db() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > _USER_VERSION:
                raise InputError(
                    f"{self.db_path}: made by a newer facetwitch (diary version {version}); "
                    "update facetwitch"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_USER_VERSION}")

    # -- database -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection to the diary in autocommit mode (WAL).

        A connection in autocommit mode (``BEGIN IMMEDIATE`` where a change must be atomic); WAL, so
        that the server, the analysis worker and the CLI can use the diary at once.
        """
        try:
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise OutputError(f"{self.db_path}: cannot open the diary ({exc})") from None
        try:
            db.row_factory = sqlite3.Row
            try:
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as exc:  # overwritten or damaged: not a bug of ours
                raise InputError(
                    f"{self.db_path}: not a readable diary ({exc}); restore it from a backup, "
                    "or move it away to start a new diary"
                ) from None
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA busy_timeout = 30000")
            yield db
        finally:
            db.close()

    # -- recordings ---------------------------------------------------------------------------
    def recording_dir(self, recording_id: str) -> Path:
        """``DATA/recordings/<id>`` for a well-formed id (never from user text)."""
        return self.root / "recordings" / id_check(recording_id)

    def recording_new(
        self,
        *,
        source: str,
        title: str = "",
        status: str = "queued",
        mirrored: bool = False,
        complaint: str | None = None,
        markers: list[dict] | None = None,
    ) -> Recording:
        """Add a recording (and create its directory); returns it.

        ``title`` (an uploaded file's name, say) is stored and shown, never used in a path.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        for _ in range(20):
            now = time.localtime()
            rid = time.strftime("%Y%m%d-%H%M%S", now) + "-" + secrets.token_hex(2)
            path = self.root / "recordings" / rid
            try:
                path.mkdir(parents=True)
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(f"{path}: cannot create ({exc.strerror})") from None
            break
        else:  # pragma: no cover - 20 collisions of 16 random bits in one second
            raise OutputError(f"{self.root}: cannot make a new recording id")
        created = time.strftime("%Y-%m-%dT%H:%M:%S", now) + _utc_offset(now)
        with self._db() as db:
            db.execute(
                "INSERT INTO recordings (id, created, source, title, status, mirrored, "
                "complaint, markers, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rid,
                    created,
                    source,
                    _clean_text(title, 200),
                    status,
                    int(bool(mirrored)),
                    _clean_text(complaint, 4000) or None,
                    json.dumps(_markers_clean(markers)),
                    time.time(),
                ),
            )
        return self.recording(rid)

    def recording(self, recording_id: str) -> Recording:
        """Return the recording ``recording_id``.

        InputError when there is none.
        """
        id_check(recording_id)
        with self._db() as db:
            row = db.execute("SELECT * FROM recordings WHERE id = ?", (recording_id,)).fetchone()
        if row is None:
            raise InputError(f"{recording_id}: no such recording in the diary ({self.root})")
        return self._recording(row)

    def recordings(self, ids: list[str] | None = None) -> list[Recording]:
        """All recordings (or those of ``ids``, in that order), newest first."""
        if ids is not None:
            return [self.recording(i) for i in ids]
        with self._db() as db:
            rows = db.execute("SELECT * FROM recordings ORDER BY id DESC").fetchall()
        return [self._recording(r) for r in rows]

    def _recording(self, row: sqlite3.Row) -> Recording:
        return Recording(
            id=row["id"],
            created=row["created"],
            source=row["source"],
            title=row["title"],
            status=row["status"],
            mirrored=bool(row["mirrored"]),
            complaint=row["complaint"],
            markers=json.loads(row["markers"] or "[]"),
            video=row["video"],
            duration_s=row["duration_s"],
            numbers=json.loads(row["numbers"]) if row["numbers"] else None,
            error=row["error"],
            dir=self.root / "recordings" / row["id"],
        )

    def recording_update(self, recording_id: str, **fields) -> None:
        """Set columns of a recording.

        Set columns of a recording (``status``, ``video``, ``duration_s``, ``markers``, ``numbers``,
        ``error``, ``title``, ``complaint``, ``mirrored``).
        """
        allowed = {
            "status",
            "video",
            "duration_s",
            "markers",
            "numbers",
            "error",
            "title",
            "complaint",
            "mirrored",
        }
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"unknown recording fields: {sorted(bad)}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {fields['status']!r}")
        if "video" in fields and fields["video"] is not None:
            if "/" in fields["video"] or "\\" in fields["video"] or fields["video"].startswith("."):
                raise ValueError("video must be a file name inside the recording's directory")
        values = {}
        for k, v in fields.items():
            if k == "markers":
                v = json.dumps(_markers_clean(v))
            elif k == "numbers":
                v = json.dumps(v) if v is not None else None
            elif k == "mirrored":
                v = int(bool(v))
            values[k] = v
        values["updated"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._db() as db:
            db.execute(
                f"UPDATE recordings SET {sets} WHERE id = ?",
                (*values.values(), id_check(recording_id)),
            )

    def recording_touch(self, recording_id: str) -> None:
        """Note that a browser recording just received data (see :meth:`recordings_stale`)."""
        with self._db() as db:
            db.execute(
                "UPDATE recordings SET updated = ? WHERE id = ?",
                (time.time(), id_check(recording_id)),
            )

    def recordings_stale(self, before: float) -> list[Recording]:
        """Return the browser recordings still ``recording`` whose data stopped before ``before``.

        Browser recordings still ``recording`` whose last data came before ``before`` (a Unix time):
        a closed tab or a crashed browser.
        """
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM recordings WHERE status = 'recording' AND updated < ? ORDER BY id",
                (before,),
            ).fetchall()
        return [self._recording(r) for r in rows]

    def report_attach(self, recording_id: str) -> dict | None:
        """Read the recording's report.json into the diary's numbers (:func:`report_numbers`).

        Returns them (None when there is no report).
        """
        rec = self.recording(recording_id)
        report = rec.report()
        if report is None:
            return None
        numbers = report_numbers(report)
        self.recording_update(recording_id, numbers=numbers, duration_s=numbers["duration_s"])
        return numbers

    def recording_delete(self, recording_id: str) -> None:
        """Remove a recording: its row, its jobs and its directory (videos, reports, clips)."""
        path = self.recording_dir(recording_id)
        self.recording(recording_id)  # InputError if unknown
        with self._db() as db:
            db.execute("DELETE FROM jobs WHERE recording_id = ?", (recording_id,))
            db.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
        if path.is_symlink():  # pragma: no cover - never made by the diary
            path.unlink()
        shutil.rmtree(path, ignore_errors=True)
        if path.exists():
            raise OutputError(f"{path}: could not be removed completely")

    # -- jobs ---------------------------------------------------------------------------------
    def job_add(self, recording_id: str) -> Job:
        """Queue an analysis of the recording (its status becomes ``queued``)."""
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT INTO jobs (recording_id, status, created, updated) "
                "VALUES (?, 'queued', ?, ?)",
                (id_check(recording_id), now, now),
            )
            db.execute(
                "UPDATE recordings SET status = 'queued', error = NULL, updated = ? WHERE id = ?",
                (now, recording_id),
            )
            db.execute("COMMIT")
            job_id = cur.lastrowid
        return self.job(job_id)

    def job(self, job_id: int) -> Job:
        """Return the job ``job_id``.

        InputError when there is none.
        """
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        if row is None:
            raise InputError(f"job {job_id}: no such job")
        return _job(row)

    def job_latest(self, recording_id: str) -> Job | None:
        """Return the newest job of a recording, or None."""
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE recording_id = ? ORDER BY id DESC LIMIT 1",
                (id_check(recording_id),),
            ).fetchone()
        return _job(row) if row else None

    def jobs(self, status: str | None = None) -> list[Job]:
        """Jobs in queue order (oldest first), optionally only those of ``status``."""
        with self._db() as db:
            if status is None:
                rows = db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM jobs WHERE status = ? ORDER BY id", (status,)
                ).fetchall()
        return [_job(r) for r in rows]

    def job_claim(self) -> Job | None:
        """Take the oldest queued job (it becomes ``running``), or None when none waits."""
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT * FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            db.execute(
                "UPDATE jobs SET status = 'running', stage = 'starting', fraction = 0, "
                "eta_s = NULL, attempts = attempts + 1, updated = ? WHERE id = ?",
                (now, row["id"]),
            )
            db.execute(
                "UPDATE recordings SET status = 'analysing', error = NULL, updated = ? "
                "WHERE id = ?",
                (now, row["recording_id"]),
            )
            db.execute("COMMIT")
        return self.job(row["id"])

    def job_progress(
        self,
        job_id: int,
        stage: str,
        fraction: float,
        eta_s: float | None = None,
        detail: str = "",
        pid: int | None = None,
    ) -> None:
        """Store how far a running job is.

        ``stage`` name, overall ``fraction`` (0-1) and the estimated seconds left.
        """
        sets = "stage = ?, fraction = ?, eta_s = ?, detail = ?, updated = ?"
        args: list = [
            stage,
            float(min(max(fraction, 0.0), 1.0)),
            None if eta_s is None or not np.isfinite(eta_s) else float(eta_s),
            detail,
            time.time(),
        ]
        if pid is not None:
            sets += ", pid = ?"
            args.append(int(pid))
        with self._db() as db:
            db.execute(
                f"UPDATE jobs SET {sets} WHERE id = ? AND status = 'running'", (*args, int(job_id))
            )

    def job_finish(self, job_id: int, *, error: str | None = None) -> None:
        """End a job.

        ``done`` (the recording's numbers are read from its report) or ``failed`` with ``error``,
        the one-line reason shown to the patient.
        """
        job = self.job(job_id)
        now = time.time()
        numbers = None
        if error is None:
            rec = self.recording(job.recording_id)
            report = rec.report()
            if report is None:
                error = "the analysis ended without a report (a bug: please report it)"
            else:
                numbers = report_numbers(report)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            if error is None:
                db.execute(
                    "UPDATE jobs SET status = 'done', stage = 'done', fraction = 1, "
                    "eta_s = 0, error = NULL, updated = ? WHERE id = ?",
                    (now, job_id),
                )
                db.execute(
                    "UPDATE recordings SET status = 'done', numbers = ?, duration_s = ?, "
                    "error = NULL, updated = ? WHERE id = ?",
                    (json.dumps(numbers), numbers["duration_s"], now, job.recording_id),
                )
            else:
                db.execute(
                    "UPDATE jobs SET status = 'failed', stage = 'failed', error = ?, "
                    "updated = ? WHERE id = ?",
                    (error, now, job_id),
                )
                db.execute(
                    "UPDATE recordings SET status = 'failed', error = ?, updated = ? WHERE id = ?",
                    (error, now, job.recording_id),
                )
            db.execute("COMMIT")

    def jobs_recover(self, *, max_attempts: int = 3) -> list[Job]:
        """After a server (re)start: requeue jobs that were running when it stopped.

        A job interrupted ``max_attempts`` times is marked failed with the reason rather than
        retried forever (a video that crashes the analysis every time). Returns the jobs
        touched.
        """
        touched = []
        for job in self.jobs("running"):
            if job.attempts >= max_attempts:
                self.job_finish(
                    job.id,
                    error=(
                        f"the analysis was interrupted {job.attempts} times (the server stopped "
                        "or the analysis crashed); not tried again by itself: run it again "
                        "('Analyse again' on its page), or analyse the video with 'facetwitch "
                        "analyze'"
                    ),
                )
            else:
                with self._db() as db:
                    db.execute("BEGIN IMMEDIATE")
                    db.execute(
                        "UPDATE jobs SET status = 'queued', stage = 'waiting', "
                        "detail = 'resumed after a restart', pid = NULL, updated = ? "
                        "WHERE id = ?",
                        (time.time(), job.id),
                    )
                    db.execute(
                        "UPDATE recordings SET status = 'queued', updated = ? WHERE id = ?",
                        (time.time(), job.recording_id),
                    )
                    db.execute("COMMIT")
            touched.append(self.job(job.id))
        return touched

    # -- adding a finished analysis (the CLI's --diary) ---------------------------------------
    def add_analysed(
        self,
        report_dir: str | os.PathLike,
        video: str | os.PathLike | None,
        *,
        source: str = "analyze",
        title: str = "",
        complaint: str | None = None,
        markers: list[dict] | None = None,
        face_images: bool = True,
    ) -> Recording:
        """Add a recording analysed outside the web app: copy its video and report in.

        The video is hard-linked when it is on the same file system, else copied (the
        diary's copy is what a delete removes; the original is never touched). The report
        files (report.json and its companions) are copied into the recording's ``report/``,
        and the event clips are made as the web app makes them (when the video and its
        track.npz are there). report.html, report.pdf and summary.txt that are not there
        (``analyze --diary --no-report``) are rendered from report.json (``face_images``:
        key frames with face pictures, else drawings), so that the recording's page and
        every bundle have them; one that cannot be made is a warning, and a bundle tries
        again.
        """
        report_dir = Path(report_dir)
        report = _report_read(report_dir / "report.json")
        mirrored = bool(report.get("input", {}).get("mirrored", False))
        rec = self.recording_new(
            source=source,
            title=title,
            status="done",
            mirrored=mirrored,
            complaint=complaint,
            markers=markers or report.get("markers"),
        )
        try:
            video_name = None
            if video is not None and Path(video).is_file():
                video_name = "video" + video_ext(video)
                _link_or_copy(Path(video), rec.dir / video_name)
            rec.report_dir.mkdir()
            for name in (
                "report.json",
                "events.csv",
                "track.npz",
                "report.html",
                "report.pdf",
                "summary.txt",
            ):
                if (report_dir / name).is_file():
                    shutil.copy2(report_dir / name, rec.report_dir / name)
            self.recording_update(rec.id, video=video_name)
            try:
                renderings_fill(rec.report_dir, rec.dir / video_name if video_name else None,
                                face_images=face_images)  # fmt: skip
            except FacetwitchError as exc:  # the analysis is in: the renderings can wait
                warnings.warn(f"{exc}; {rec.id} is added without them (a bundle makes them "
                              "again)", FacetwitchWarning, stacklevel=2)  # fmt: skip
            self.report_attach(rec.id)
            if video_name and (rec.report_dir / "track.npz").is_file():
                _clips_for(
                    report, rec.report_dir / "track.npz", rec.dir / video_name, rec.clips_dir
                )
        except OSError as exc:
            self.recording_delete(rec.id)
            raise OutputError(
                f"{self.root}: cannot add to the diary ({exc.strerror or exc})"
            ) from None
        except BaseException:
            self.recording_delete(rec.id)
            raise
        return self.recording(rec.id)


#: The renderings of a report.json that the diary keeps beside it.
RENDERINGS = ("report.html", "report.pdf", "summary.txt")


def renderings_fill(
    report_dir: Path, video: Path | None = None, *, face_images: bool = True
) -> list[str]:
    """Render those of :data:`RENDERINGS` that ``report_dir`` lacks, from its report.json.

    The others are left as they are (rendered into a hidden directory beside them, and only
    the missing ones moved into place). Key frames come from ``video`` (face pictures, when
    ``face_images`` and it is the analysed video) and ``report_dir``'s track.npz.

    Returns the names made (none when nothing was missing). Raises
    :class:`~facetwitch.errors.RenderError` when one cannot be made (the rest are kept).
    """
    report_dir = Path(report_dir)
    missing = [n for n in RENDERINGS if not (report_dir / n).is_file()]
    if not missing:
        return []
    import tempfile

    from .reports import report_render

    track = report_dir / "track.npz"
    tmp = Path(tempfile.mkdtemp(prefix=".render-", dir=report_dir))
    made: list[str] = []
    try:
        try:
            report_render(report_dir / "report.json", tmp, face_images=face_images,
                          video=video if video is not None and video.is_file() else None,
                          track=track if track.is_file() else None)  # fmt: skip
        finally:  # what was made (all, or all but a failed one) goes in
            for name in missing:
                if (tmp / name).is_file():
                    os.replace(tmp / name, report_dir / name)
                    made.append(name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return made


def _clips_for(report: dict, track_path: Path, video: Path, out: Path) -> None:
    """Make the event clips of an added recording.

    A failure costs the clips only (logged).
    """
    from .landmarks.track import LandmarkTrack
    from .web.clips import clips_make

    try:
        clips_make(report, LandmarkTrack.load(track_path), video, out)
    except Exception as exc:  # noqa: BLE001 - the report is in; clips are a comfort
        logger.warning("no event clips for %s: %s", video, exc)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        recording_id=row["recording_id"],
        status=row["status"],
        stage=row["stage"],
        fraction=row["fraction"],
        eta_s=row["eta_s"],
        detail=row["detail"],
        attempts=row["attempts"],
        pid=row["pid"],
        error=row["error"],
        updated=row["updated"],
    )


def _utc_offset(t: time.struct_time) -> str:
    off = t.tm_gmtoff or 0
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"


def _clean_text(text: str | None, limit: int) -> str:
    """``text`` without control characters (newlines kept), at most ``limit`` characters."""
    if not text:
        return ""
    out = "".join(ch for ch in str(text) if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    return out.strip()[:limit]


def _markers_clean(markers) -> list[dict]:
    """Markers as ``[{"t_s": float, ...}]`` sorted by time; other keys kept if plain."""
    out = []
    for m in markers or []:
        try:
            t = float(m["t_s"])
        except (KeyError, TypeError, ValueError):
            continue
        if np.isfinite(t) and t >= 0:
            item = {"t_s": round(t, 3)}
            for k in ("verdict", "event_ids", "label"):
                if k in m:
                    item[k] = m[k]
            out.append(item)
    return sorted(out, key=lambda m: m["t_s"])


def _report_read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable report.json ({exc})") from None


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


#: Container format (FFmpeg demuxer names) -> file extension of the diary's copy.
_FORMAT_EXT = (
    ("matroska", ".mkv"),
    ("mov", ".mp4"),
    ("mp4", ".mp4"),
    ("avi", ".avi"),
    ("mpeg", ".mpg"),
    ("flv", ".flv"),
)


def video_ext(path: str | os.PathLike) -> str:
    """Return the extension for a video from its content (FFmpeg's container format).

    Never its name: ``.mp4``, ``.mkv``, ... (``.video`` for anything else FFmpeg reads).
    """
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            names = c.format.name.split(",")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable video ({exc})") from None
    for name, ext in _FORMAT_EXT:
        if name in names:
            return ext
    return ".video"


# -- numbers ---------------------------------------------------------------------------------
def report_numbers(report: dict) -> dict:
    """Return the diary's numbers of one report.json, whatever its schema version.

    Schema 2 (CONVENTIONS.md, "Assessable time"): ``summary.assessable_s``, only twitches
    with ``counted: true``, marker verdicts. Schema 1 has none of these: the analysed face
    time stands for the assessable time and every twitch counts.

    Parameters
    ----------
    report : dict
        report.json's content.

    Returns
    -------
    dict
        ``duration_s`` (video length, s), ``assessable_s`` (s), ``twitch_count`` (counted),
        ``uncounted_count``, ``twitch_rate_per_min`` (per assessable minute, None without
        assessable time), ``blink_rate_per_min``, ``regions`` (``[{"region", "side",
        "count"}]``, most first), ``direction_deg`` and ``direction`` (amplitude-weighted
        circular mean of the counted twitches, None without any), ``markers``
        (``[{"t_s", "verdict"}]``, verdict None in schema 1), ``reliable``,
        ``unreliable_reasons``, ``warnings`` (``quality.warnings``), ``schema_version``.
    """
    summary = report.get("summary") or {}
    inp = report.get("input") or {}
    quality = report.get("quality") or {}
    events = [e for e in report.get("events") or [] if isinstance(e, dict)]
    twitches = [e for e in events if e.get("kind") == "twitch"]
    counted = [e for e in twitches if is_counted(e)]
    assessable = summary.get("assessable_s")
    if not _finite(assessable):
        assessable = summary.get("analysed_s")
    if not _finite(assessable):
        assessable = inp.get("duration_s")
    assessable = float(assessable) if _finite(assessable) else 0.0
    count = summary.get("twitch_count")
    if not isinstance(count, int) or isinstance(count, bool):
        count = len(counted)
    rate = round(count / (assessable / 60.0), 2) if assessable > 0 else None
    tally: dict[tuple[str, str], int] = {}
    for e in counted:
        key = (str(e.get("region")), str(e.get("side")))
        tally[key] = tally.get(key, 0) + 1
    regions = [
        {"region": r, "side": s, "count": n}
        for (r, s), n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    dirs = [(e.get("direction_deg"), e.get("amplitude_mm")) for e in counted]
    dirs = [(float(d), float(a)) for d, a in dirs if _finite(d) and _finite(a)]
    direction_deg = None
    if dirs:
        mean = circular_mean_deg(np.array([d for d, _ in dirs]), np.array([a for _, a in dirs]))
        direction_deg = round(float(mean), 1) if np.isfinite(mean) else None
    blink = summary.get("blink_rate_per_min")
    markers = [
        {"t_s": float(m["t_s"]), "verdict": m.get("verdict"), "event_ids": m.get("event_ids", [])}
        for m in report.get("markers") or []
        if isinstance(m, dict) and _finite(m.get("t_s"))
    ]
    duration = inp.get("duration_s")
    return {
        "schema_version": str(report.get("schema_version", "1")),
        "duration_s": float(duration) if _finite(duration) else None,
        "assessable_s": round(assessable, 2),
        "twitch_count": int(count),
        "uncounted_count": len(twitches) - len(counted),
        "twitch_rate_per_min": rate,
        "blink_rate_per_min": float(blink) if _finite(blink) else None,
        "regions": regions,
        "direction_deg": direction_deg,
        "direction": direction_word(direction_deg) if direction_deg is not None else None,
        "markers": markers,
        "reliable": quality.get("reliable", not quality.get("unreliable_reasons")) is not False,
        "unreliable_reasons": list(quality.get("unreliable_reasons") or []),
        # what the analysis said of the recording ("damaged video: nothing usable could be
        # decoded from 3.8 s to 15.0 s"): the page showed the numbers without it
        "warnings": [w for w in quality.get("warnings") or [] if isinstance(w, str)],
    }


def _finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and bool(np.isfinite(x))


REGION_WORDS = {
    "upper_lip": "upper lip",
    "lower_lip": "lower lip",
    "mouth_corner": "mouth corner",
    "upper_eyelid": "upper eyelid",
    "lower_eyelid": "lower eyelid",
    "cheek": "cheek",
    "brow": "eyebrow",
    "nose": "nose",
    "chin": "chin",
}


def region_phrase(region: str, side: str) -> str:
    """``left upper lip``, ``both eyebrows``: a region and the patient's side in words."""
    word = REGION_WORDS.get(region, region.replace("_", " "))
    if side == "both":
        return f"both sides, {word}"
    return f"{side} {word}"


def length_words(seconds: float | None) -> str:
    """``45 s``, ``3 min 10 s``, ``3 h 10 min``."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"


def diary_summary(recordings: list[Recording]) -> dict:
    """Return the summary across recordings, for the consult.

    One sentence and its numbers.

    Only analysed recordings count. Example sentence: "27 twitches in 3 h 10 min of
    assessable video over 6 days (12 recordings; 0.1 a minute), all left upper lip, moving
    up-left on average."

    The rate follows the report's summary (:func:`facetwitch.reports.words.fmt_per_min`):
    per assessable minute, said after the time it was measured over, and not given at all
    under :data:`facetwitch.quality.MIN_ASSESSABLE_S` of assessable time, where a count cannot
    be a rate (a rate per hour from a few seconds had read "1895.7 per assessable hour").

    Returns
    -------
    dict
        ``text``, ``recordings`` (analysed), ``days``, ``first_day``, ``last_day``,
        ``assessable_s``, ``twitch_count``, ``rate_per_min`` (None under
        ``MIN_ASSESSABLE_S``), ``regions`` (``[{"region", "side", "count"}]``),
        ``direction``, ``direction_deg``.
    """
    from .quality import MIN_ASSESSABLE_S
    from .reports.words import fmt_per_min

    done = [r for r in recordings if r.numbers]
    days = sorted({r.day for r in done})
    assessable = float(sum(r.numbers["assessable_s"] or 0 for r in done))
    count = int(sum(r.numbers["twitch_count"] for r in done))
    tally: dict[tuple[str, str], int] = {}
    angles, weights = [], []
    for r in done:
        for g in r.numbers["regions"]:
            key = (g["region"], g["side"])
            tally[key] = tally.get(key, 0) + g["count"]
        if r.numbers.get("direction_deg") is not None and r.numbers["twitch_count"]:
            angles.append(r.numbers["direction_deg"])
            weights.append(r.numbers["twitch_count"])
    regions = [
        {"region": k[0], "side": k[1], "count": n}
        for k, n in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    direction_deg = None
    if angles:
        mean = circular_mean_deg(np.array(angles, float), np.array(weights, float))
        direction_deg = round(float(mean), 1) if np.isfinite(mean) else None
    direction = direction_word(direction_deg) if direction_deg is not None else None
    rate = round(count / (assessable / 60.0), 2) if assessable >= MIN_ASSESSABLE_S else None
    if not done:
        text = "No analysed recordings."
    else:
        span = f"over {plural(len(days), 'day')}"
        # to the tenth of a second under a minute, as the report: the rate is checkable
        over = f"{assessable:.1f} s" if assessable < 60 else length_words(assessable)
        text = (
            f"{plural(count, 'twitch')} in {over} of "
            f"assessable video {span} ({plural(len(done), 'recording')}"
        )
        text += f"; {fmt_per_min(rate)})" if rate is not None else ""
        if rate is None:  # as the report: no rate from a few seconds
            text += f"; too little assessable time for a rate, under {MIN_ASSESSABLE_S:g} s)"
        if regions and count:
            top = regions[0]
            where = region_phrase(top["region"], top["side"])
            if top["count"] == count:
                text += f", all {where}"
            else:
                text += f", {top['count']} of them {where}"
                rest = ", ".join(
                    f"{g['count']} {region_phrase(g['region'], g['side'])}" for g in regions[1:4]
                )
                text += f" ({rest})" if rest else ""
            if direction:
                text += f", moving {direction} on average"
        text += "."
    return {
        "text": text,
        "recordings": len(done),
        "days": len(days),
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
        "assessable_s": round(assessable, 1),
        "twitch_count": count,
        "rate_per_min": rate,
        "regions": regions,
        "direction": direction,
        "direction_deg": direction_deg,
    }


def rate_by_day(recordings: list[Recording]) -> list[dict]:
    """Return counted twitches per assessable minute for each day with analysed recordings.

    Oldest first: ``[{"day", "twitch_count", "assessable_s", "rate_per_min"}]``.
    """
    days: dict[str, list[float]] = {}
    for r in recordings:
        if r.numbers:
            d = days.setdefault(r.day, [0, 0.0])
            d[0] += r.numbers["twitch_count"]
            d[1] += r.numbers["assessable_s"] or 0.0
    return [
        {
            "day": day,
            "twitch_count": int(n),
            "assessable_s": round(s, 1),
            "rate_per_min": round(n / (s / 60.0), 2) if s > 0 else None,
        }
        for day, (n, s) in sorted(days.items())
    ]


# -- the consult bundle ----------------------------------------------------------------------
#: Files of a recording's report that go into a bundle (when present).
BUNDLE_REPORT_FILES = ("report.pdf", "report.html", "summary.txt", "report.json", "events.csv")


def bundle_write(
    diary: Diary,
    ids: list[str],
    out: str | os.PathLike,
    *,
    clips: bool = False,
    force: bool = False,
) -> Path:
    """Write the consult bundle.

    One zip with the summary across the chosen recordings, each report, and (only when ``clips``)
    the event clips.

    Layout inside the zip: ``README.txt`` (the summary sentence, a table of the recordings,
    what the clips show and by how much they are magnified), ``summary.json``, and one
    folder per recording (``01_2025-03-01_1430/``) with report.pdf, report.html, summary.txt,
    report.json, events.csv (and ``clips/``). Videos are never included.

    Parameters
    ----------
    diary : Diary
        The diary.
    ids : list of str
        Recording ids, in the order to list them (unanalysed ones are refused).
    out : path
        The zip to write (replaced atomically).
    clips : bool
        Include each recording's event clips.
    force : bool
        Replace a file already at ``out`` (else :class:`OutputError`, before any work).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    UsageError
        For ``out`` inside the diary's folder other than ``bundles/``: the zip would replace
        the diary's database, a video or a report (``--out DATA/diary.sqlite3`` had wiped the
        diary).
    OutputError
        For a file (or a link) already at ``out`` without ``force``: like every other output,
        an earlier bundle or a file of the user's is not replaced without being asked.
    RenderError
        When a recording's report.html, report.pdf or summary.txt is missing (added with
        ``analyze --diary --no-report`` before the diary rendered them) and cannot be made:
        a bundle is not made without them.

    Notes
    -----
    A recording's missing renderings are made from its report.json (into its ``report/``)
    before the zip is written, so that every report in a bundle has its PDF and HTML.
    """
    from ._files import write_atomically

    target = Path(out).resolve()
    root = diary.root.resolve()
    if target == root or (root in target.parents and (root / "bundles") not in target.parents):
        raise UsageError(
            f"{out}: inside the diary's folder ({diary.root}); write the bundle elsewhere, "
            "e.g. in your home folder"
        )
    if not force and os.path.lexists(out) and not Path(out).is_dir():
        raise OutputError(
            f"{out}: exists already; use --force to overwrite it or choose another --out"
        )
    if not ids:
        raise UsageError("choose at least one recording for the bundle")
    recs = diary.recordings(list(dict.fromkeys(ids)))
    failed = [r.id for r in recs if r.status == "failed"]
    if failed:  # it will not be analysed by waiting: said so, with what to do
        raise UsageError(
            f"its analysis failed, so not in a bundle: {', '.join(failed)} (run it again, or "
            "leave it out)"
        )
    missing = [
        r.id for r in recs if r.status != "done" or not (r.report_dir / "report.json").is_file()
    ]
    if missing:
        raise UsageError(f"not analysed yet, so not in a bundle: {', '.join(missing)}")
    recs.sort(key=lambda r: r.id)
    for r in recs:
        renderings_fill(r.report_dir, r.video_path)
    summary = diary_summary(recs)
    folders = [
        f"{i:02d}_{r.created[:10]}_{r.created[11:13]}{r.created[14:16]}"
        for i, r in enumerate(recs, 1)
    ]
    readme = _bundle_readme(recs, folders, summary, clips)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("README.txt", readme)
            z.writestr(
                "summary.json",
                json.dumps(
                    {
                        "summary": summary,
                        "recordings": [
                            {"id": r.id, "folder": f, "created": r.created, "numbers": r.numbers}
                            for r, f in zip(recs, folders, strict=True)
                        ],
                    },
                    indent=2,
                ),
            )
            for r, folder in zip(recs, folders, strict=True):
                for name in BUNDLE_REPORT_FILES:
                    if (r.report_dir / name).is_file():
                        z.write(r.report_dir / name, f"{folder}/{name}")
                if clips and r.clips_dir.is_dir():
                    for clip in sorted(r.clips_dir.iterdir()):
                        if clip.is_file() and not clip.name.startswith("."):
                            z.write(
                                clip,
                                f"{folder}/clips/{clip.name}",
                                compress_type=zipfile.ZIP_STORED,
                            )

    return write_atomically(out, write)


def _bundle_readme(recs: list[Recording], folders: list[str], summary: dict, clips: bool) -> str:
    from .web.clips import CLIP_NOTE

    lines = [
        "facetwitch: recordings for the consult",
        "",
        summary["text"],
        "",
        "Twitches are counted only in assessable time (face visible, not talking, no "
        "expression or head movement); rates are per assessable minute. Sides are the "
        "patient's own. This is a measurement, not a diagnosis.",
        "",
        f"{'folder':<22}{'length':>12}{'assessable':>14}{'twitches':>10}{'per min':>9}  regions",
    ]
    for r, folder in zip(recs, folders, strict=True):
        n = r.numbers or {}
        regions = (
            ", ".join(
                f"{g['count']} {region_phrase(g['region'], g['side'])}"
                for g in n.get("regions", [])
            )
            or "-"
        )
        rate = n.get("twitch_rate_per_min")
        lines.append(
            f"{folder:<22}{length_words(n.get('duration_s')):>12}"
            f"{length_words(n.get('assessable_s')):>14}{n.get('twitch_count', 0):>10}"
            f"{(f'{rate:.1f}' if rate is not None else '-'):>9}  {regions}"
        )
        if r.complaint:
            lines.append(f"    described: {' '.join(r.complaint.split())}")
        marks = n.get("markers") or []
        if marks:
            lines.append(
                "    marked 'I felt one' at: "
                + ", ".join(
                    f"{m['t_s']:.1f} s" + (f" ({m['verdict']})" if m.get("verdict") else "")
                    for m in marks
                )
            )
    lines += [
        "",
        "Each folder: report.pdf (to read), report.html (the same in a browser), "
        "summary.txt, report.json (machine-readable), events.csv.",
    ]
    if clips:
        lines += ["", "clips/: " + CLIP_NOTE]
    return "\n".join(lines) + "\n"
