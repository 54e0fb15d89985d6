"""Outputs: report.json, events.csv and track.npz (and the rendered reports), all or nothing.

Every output of a run is written into a hidden staging directory inside ``--out`` and moved into
place together (:class:`_Staging`): a failed write (a full disk) or an interrupt leaves an
earlier report as it was, and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import shlex
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._files import write_atomic
from .conventions import EVENT_FIELDS
from .errors import FacetwitchWarning, OutputError

if TYPE_CHECKING:
    from .analysis import Analysis

logger = logging.getLogger("facetwitch")


#: Files an earlier run may have left in an output directory (replaced, or removed once the
#: new ones are in place). report.json first: it is moved aside first and put in place last.
_OUTPUT_NAMES = ("report.json", "events.csv", "track.npz", "report.html", "report.pdf",
                 "summary.txt")  # fmt: skip


class _Staging:
    """A run's new outputs, written into a hidden directory inside ``out`` and moved into place
    together by :meth:`install`.

    Until then ``out`` is as it was: a failed write (a full disk) or an interrupt leaves the
    earlier report untouched, and leaving the ``with`` block removes the hidden directory, so
    no temporary file stays either. Errors name the outputs as the user knows them
    (``out/report.json``, not the hidden directory's copy).
    """

    def __init__(self, out: Path):
        self.out = out
        try:
            self.dir = Path(tempfile.mkdtemp(prefix=".facetwitch-", suffix=".tmp", dir=out))
        except OSError as exc:
            raise OutputError(f"{out}: cannot write ({exc.strerror or exc})") from None
        self._keep = False  # set when an earlier output could not be put back: never delete it

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if isinstance(exc, OutputError) and str(self.dir) in str(exc):
            raise OutputError(str(exc).replace(str(self.dir), str(self.out))) from None

    def install(self, staged: dict[str, Path]) -> dict[str, Path]:
        """Move the ``staged`` files (key -> file in :attr:`dir`) into ``out``; returns key ->
        path in ``out``.

        The earlier run's outputs are moved aside (report.json first), then the new files moved
        in (report.json last: a report.json in ``out`` always has its companions); the earlier
        ones are deleted with the hidden directory only after every new one is in place. Should a
        move fail or be interrupted, the new files are taken out and the earlier ones put back.
        """
        for name in _OUTPUT_NAMES:  # would fail only once other files were already moved
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                raise OutputError(f"{target}: cannot write (Is a directory)")
        aside = self.dir / ".earlier"
        aside.mkdir()
        target = self.out
        try:
            for name in _OUTPUT_NAMES:
                target = self.out / name
                if os.path.lexists(target):
                    os.replace(target, aside / name)
            for src in sorted(staged.values(), key=lambda p: p.name == "report.json"):
                target = self.out / src.name
                os.replace(src, target)
        except BaseException as exc:
            self._undo(staged, aside)
            if isinstance(exc, OSError):
                raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
            raise
        return {key: self.out / src.name for key, src in staged.items()}

    def _undo(self, staged: dict[str, Path], aside: Path) -> None:
        """Take out the new files already moved in and put the earlier ones back. Decided by
        what is on disk (a rename is atomic), not by what the interrupted loop noted, and
        carried on through a second Ctrl-C; an earlier output that cannot be put back keeps
        the hidden directory from being removed."""
        self._keep = True
        for src in staged.values():
            if not src.exists():  # it was moved in
                with contextlib.suppress(BaseException):
                    (self.out / src.name).unlink(missing_ok=True)
        restored = True
        for earlier in sorted(aside.iterdir()):
            try:
                os.replace(earlier, self.out / earlier.name)
            except BaseException:
                restored = False
                logger.warning("could not put back %s; it is kept in %s", earlier.name, aside)
        self._keep = not restored


def out_dir_check(out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Check, without creating anything, that ``out_dir`` can receive a report.

    Raises :class:`OutputError` if it is (or would be inside) a file, is not writable, has a
    directory where an output goes, or already holds a file named like an output
    (``report.json``, ``events.csv``, ..., a user's own too) and ``force`` is false. Cheap:
    called before tracking so a long run does not end in an output error.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    if not out.exists():
        parent = out.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputError(
                f"{out}: cannot create the output directory ({parent} is a file, not a directory)"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(
                f"{out}: cannot create the output directory ({parent} is not writable)"
            )
        return out
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output directory is not writable")
    for name in _OUTPUT_NAMES:  # even --force cannot put a file there
        if (out / name).is_dir() and not (out / name).is_symlink():
            raise OutputError(f"{out / name}: cannot write (Is a directory)")
    existing = [name for name in _OUTPUT_NAMES if os.path.lexists(out / name)]
    if existing and not force:
        if "report.json" in existing:
            raise OutputError(
                f"{out}: already holds a report.json; use --force to overwrite it or choose "
                "another --out"
            )
        # Not facetwitch's perhaps: a user's own events.csv or summary.txt is not overwritten
        # (nor removed as an earlier run's) without being asked.
        raise OutputError(
            f"{out}: already holds {', '.join(existing)}, which facetwitch would overwrite; "
            "use --force to overwrite or choose another --out"
        )
    return out


def prepare_out_dir(out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Create ``out_dir`` (or check it); refuse to overwrite a report unless ``force``."""
    out = out_dir_check(out_dir, force=force)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    return out_dir_check(out, force=force)  # now that it exists: writable, no report in it


def events_csv(report: dict) -> str:
    """The events table as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EVENT_FIELDS)
    for e in report["events"]:
        row = [" ".join(map(str, v)) if isinstance(v, list) else v
               for v in (e.get(k) for k in EVENT_FIELDS)]  # fmt: skip
        w.writerow(row)
    return buf.getvalue()


def analysis_write(
    analysis: Analysis, out_dir: str | os.PathLike, *, write_track: bool = True
) -> dict[str, Path]:
    """Write report.json, events.csv and track.npz into ``out_dir``: all of them or nothing.

    All three are written to temporary files first and then renamed into place, report.json
    last: a report.json on disk is complete and its companions belong to it. The outputs of
    an earlier run (``--force``; its report.html, report.pdf and summary.txt too, which would
    no longer belong) are removed only once every new file is in place: if writing fails (a
    full disk: :class:`OutputError`) or is interrupted, the earlier run's files are untouched
    and no temporary file is left. Non-finite numbers are written as ``null`` (report.json is
    strict JSON).
    """
    with _Staging(Path(out_dir)) as staging:
        return staging.install(_analysis_stage(analysis, staging.dir, write_track=write_track))


def _analysis_stage(
    analysis: Analysis, stage: Path, *, write_track: bool = True
) -> dict[str, Path]:
    """Write report.json, events.csv (and track.npz) into the staging directory ``stage``."""
    text = json.dumps(_json_clean(analysis.report), indent=2, allow_nan=False)
    table = events_csv(analysis.report)
    paths = {}
    if write_track:
        paths["track"] = analysis.track.save(stage / "track.npz")
    paths["events_csv"] = write_atomic(stage / "events.csv", table)
    paths["report"] = write_atomic(stage / "report.json", text + "\n")
    return paths


def _json_clean(o):
    """``o`` with numpy scalars as Python numbers and NaN/inf as None (strict JSON)."""
    if isinstance(o, dict):
        return {k: _json_clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_json_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _json_clean(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not np.isfinite(o):
        return None
    return o


def outputs_write(
    analysis: Analysis,
    out_dir: str | os.PathLike,
    *,
    video: str | os.PathLike | None = None,
    video_sha256: str | None = None,
    force: bool = False,
    render: bool = True,
    face_images: bool = True,
) -> dict[str, Path]:
    """Write every output of ``analysis`` into ``out_dir``, all of them or none.

    report.json, events.csv and track.npz, and unless ``render`` is false report.html,
    report.pdf and summary.txt, are made in a hidden directory inside ``out_dir`` and moved into
    place together: a failure (a full disk) or an interrupt leaves an earlier report as it was,
    and a new directory is removed again.

    Parameters
    ----------
    analysis : Analysis
        What :func:`facetwitch.analysis.analysis_run` returned.
    out_dir : path
        Output directory (created if needed).
    video : path, optional
        The analysed video, for the key frames of the rendered reports.
    video_sha256 : str, optional
        Its sha256 when already known (it was just tracked); otherwise the key frames check it
        against report.json's before showing a face.
    force : bool
        Replace an earlier report (and files named like facetwitch's outputs) in ``out_dir``.
    render : bool
        Also make report.html, report.pdf and summary.txt.
    face_images : bool
        Face crops in the rendered reports (False: landmark drawings only).

    Returns
    -------
    dict of str to Path
        ``report``, ``events_csv``, ``track`` and the rendered ``html``, ``pdf``, ``summary``.

    Raises
    ------
    OutputError
        ``out_dir`` cannot be written, or already holds a report and ``force`` is false.

    Notes
    -----
    Interrupted (Ctrl-C, SIGTERM) while report.html, report.pdf and summary.txt are made, the
    finished analysis is not thrown away: report.json, events.csv and track.npz are put in
    place, a :class:`FacetwitchWarning` says so and how to make the rest
    (``facetwitch report DIR/report.json``), and the interrupt goes on.
    """
    created = not Path(out_dir).exists()
    out = prepare_out_dir(out_dir, force=force)
    video = Path(video) if video is not None else None
    try:
        # Every output is made in a hidden directory first and moved into place at the end:
        # a failure (a full disk) or an interrupt leaves an earlier report as it was.
        with _Staging(out) as staging:
            staged = _analysis_stage(analysis, staging.dir)
            if render:
                try:
                    staged.update(_render(analysis, staging.dir, video, face_images, video_sha256))
                except KeyboardInterrupt:  # and Terminated: nothing computed is lost
                    _interrupted_rendering(staging.install(staged))
                    raise
            return staging.install(staged)
    except BaseException:
        if created:  # nothing new on disk: not even the directory (only removed when empty)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise


def _interrupted_rendering(paths: dict[str, Path]) -> None:
    """Say what an analysis interrupted while rendering has written, and how to finish it."""
    report = paths["report"]
    warnings.warn(
        f"interrupted while making report.html, report.pdf and summary.txt; the analysis is "
        f"complete and kept in {report.parent} (report.json, events.csv, track.npz); to make "
        f"the rest: facetwitch report {shlex.quote(str(report))}",
        FacetwitchWarning,
        stacklevel=3,
    )


def _render(
    analysis: Analysis,
    out: Path,
    video: Path | None,
    face_images: bool,
    video_sha256: str | None = None,
) -> dict:
    """report.html, report.pdf and summary.txt into ``out`` (none if rendering is missing).
    ``video_sha256``: the video's hash when known (it was just tracked), not computed again."""
    try:
        from .reports import report_render
    except ImportError:  # pragma: no cover - reports package not installed
        warnings.warn("report rendering unavailable", FacetwitchWarning, stacklevel=3)
        return {}
    return report_render(analysis.report, out, video=video, track=analysis.track,
                         face_images=face_images, video_sha256=video_sha256)  # fmt: skip
