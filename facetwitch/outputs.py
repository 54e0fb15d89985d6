"""Outputs: report.json, events.csv and track.npz (and the rendered reports), all or nothing.

Every output of a run is written into a hidden staging directory inside ``--out`` and moved into
place together (:class:`_Staging`): a failed write (a full disk) or an interrupt leaves an
earlier report as it was, and no temporary file behind. A run holds its ``--out`` alone
(:func:`out_dir_claim`): a second run into it stops at once, and what a killed run left there
is cleaned up by the next.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import shlex
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._files import dir_claim, path_given, write_atomic
from ._signals import made_whole, signals_held
from ._text import json_text_clean
from .conventions import EVENT_FIELDS
from .errors import FacetwitchWarning, OutputError, RenderError

if TYPE_CHECKING:
    from .analysis import Analysis

logger = logging.getLogger("facetwitch")


#: Files an earlier run may have left in an output directory (replaced, or removed once the
#: new ones are in place). report.json first: it is moved aside first and put in place last.
_OUTPUT_NAMES = ("report.json", "events.csv", "track.npz", "report.html", "report.pdf",
                 "summary.txt")  # fmt: skip
#: What ``facetwitch report`` writes (and needs ``--force`` to overwrite).
RENDERED_NAMES = ("report.html", "report.pdf", "summary.txt")
#: The staging directories' names: ``.facetwitch-<random>.tmp``.
_STAGING_PREFIX, _STAGING_SUFFIX = ".facetwitch-", ".tmp"
#: Temporary files of the outputs' writers (``.report.html.<random>.tmp``, facetwitch 0.1's
#: ``.report.html.tmp`` and ``.track.npz.tmp.npz``), removed when a killed run left them.
_OUTPUT_NAME_RE = "|".join(re.escape(n) for n in _OUTPUT_NAMES)
_TEMP_NAME = re.compile(rf"\.(?:{_OUTPUT_NAME_RE})\.(?:[a-z0-9_]{{8}}\.)?tmp(?:\.npz)?")
#: In a staging directory: the earlier outputs moved aside, and the names of the new ones,
#: written before the first is moved in (what a run killed while installing had done).
_ASIDE, _JOURNAL = ".earlier", ".moving-in"


class _Staging:
    """A run's new outputs.

    Written into a hidden directory inside ``out`` and moved into place together by :meth:`install`.

    Until then ``out`` is as it was: a failed write (a full disk) or an interrupt leaves the
    earlier report untouched, and leaving the ``with`` block removes the hidden directory, so
    no temporary file stays either. Errors name the outputs as the user knows them
    (``out/report.json``, not the hidden directory's copy).
    """

    def __init__(self, out: Path):
        self.out = out
        self.dir: Path = None  # type: ignore[assignment]  # made by __enter__
        self._keep = False  # set when an earlier output could not be put back: never delete it

    def __enter__(self) -> _Staging:
        # made here, not in __init__: a stop signal between the two would leave it unnoticed
        def make() -> Path:
            return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, suffix=_STAGING_SUFFIX,
                                         dir=self.out))  # fmt: skip

        try:
            self.dir = made_whole(make, lambda d: shutil.rmtree(d, ignore_errors=True))
        except OSError as exc:
            raise OutputError(f"{self.out}: cannot write ({exc.strerror or exc})") from None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.dir is not None and not self._keep:
            with signals_held():  # a stop in the middle would leave it half removed
                shutil.rmtree(self.dir, ignore_errors=True)
        if isinstance(exc, OutputError) and str(self.dir) in str(exc):
            raise OutputError(str(exc).replace(str(self.dir), str(self.out))) from None

    def install(self, staged: dict[str, Path]) -> dict[str, Path]:
        """Move the ``staged`` files (key -> file in :attr:`dir`) into ``out``.

        Returns key -> path in ``out``.

        The earlier run's outputs are moved aside (report.json first), then the new files moved
        in (report.json last: a report.json in ``out`` always has its companions); the earlier
        ones are deleted with the hidden directory only after every new one is in place. Should a
        move fail or be interrupted, the new files are taken out and the earlier ones put back.
        """
        for name in _OUTPUT_NAMES:  # would fail only once other files were already moved
            target = self.out / name
            if target.is_dir() and not target.is_symlink():
                raise OutputError(f"{target}: cannot write (Is a directory)")
        aside = self.dir / _ASIDE
        aside.mkdir()
        target = self.out
        try:
            for name in _OUTPUT_NAMES:
                target = self.out / name
                if os.path.lexists(target):
                    os.replace(target, aside / name)
            names = sorted((src.name for src in staged.values()), key=lambda n: n == "report.json")
            with open(self.dir / _JOURNAL, "w", encoding="utf-8") as f:
                f.write("\n".join(names) + "\n")
            for name in names:
                target = self.out / name
                os.replace(self.dir / name, target)
        except BaseException as exc:
            with signals_held():  # a second stop must not leave the undoing half done
                self._keep = not _restore(self.dir, self.out)
            if isinstance(exc, OSError):
                raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None
            raise
        return {key: self.out / src.name for key, src in staged.items()}


def _restore(stage: Path, out: Path, *, finished_is_done: bool = False) -> bool:
    """Undo an install from the staging directory ``stage`` into ``out`` that did not finish.

    Take out the new files already moved in and put the earlier ones back; True when every earlier
    output is back.

    Decided by what is on disk (a rename is atomic), not by what an interrupted loop noted, so
    it serves both an interrupted :meth:`_Staging.install` (carried on through a second Ctrl-C)
    and a run killed while installing (found by the next run, :func:`_stale_recover`). With
    ``finished_is_done``, an install whose report.json (moved in last) is in place is left as
    it is.
    """
    moving = _journal(stage)
    if finished_is_done and _install_finished(stage):
        return True
    for name in moving:
        if name in _OUTPUT_NAMES and not os.path.lexists(stage / name):  # it was moved in
            with contextlib.suppress(BaseException):
                (out / name).unlink(missing_ok=True)
    restored = True
    aside = stage / _ASIDE
    for earlier in sorted(aside.iterdir()) if aside.is_dir() else ():
        if earlier.name not in _OUTPUT_NAMES:  # nothing but what install moved aside
            continue
        try:
            os.replace(earlier, out / earlier.name)
        except BaseException:
            restored = False
            logger.warning("could not put back %s; it is kept in %s", earlier.name, aside)
    return restored


def _journal(stage: Path) -> list[str]:
    """Return the names an install was moving into place ([] if it had not begun)."""
    try:
        return (stage / _JOURNAL).read_text(encoding="utf-8").split()
    except OSError:
        return []


def _install_finished(stage: Path) -> bool:
    """Return True if the install from ``stage`` got as far as moving report.json (the last) in."""
    moving = _journal(stage)
    return "report.json" in moving and not os.path.lexists(stage / "report.json")


def _stale_recover(out: Path) -> None:
    """Clean what runs killed in ``out`` (``kill -9``, a power cut) left behind.

    Called by :func:`out_dir_claim` once the directory is held, so that no live run is
    writing here. A staging directory (``.facetwitch-*.tmp``) is removed; one whose run was
    killed while moving its files into place first has that undone (the earlier report put
    back, with a warning). Temporary files of the output names (``.report.html.*.tmp``) are
    removed. Only what facetwitch names so is touched, and links are removed, never followed.
    """
    try:
        entries = list(os.scandir(out))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if (name.startswith(_STAGING_PREFIX) and name.endswith(_STAGING_SUFFIX)
                and entry.is_dir(follow_symlinks=False)):  # fmt: skip
            stage = Path(entry.path)
            aside = stage / _ASIDE
            undone = not _install_finished(stage) and aside.is_dir() and any(aside.iterdir())
            if not _restore(stage, out, finished_is_done=True):
                continue  # an earlier output could not be put back: keep it where it is
            if undone:
                warnings.warn(
                    f"{stage}: a run killed while writing its report into {out} had moved the "
                    "earlier report aside; it is put back as it was",
                    FacetwitchWarning,
                    stacklevel=3,
                )
            with signals_held():
                shutil.rmtree(stage, ignore_errors=True)
            logger.info("removed %s, left by a run that was killed", stage)
        elif _TEMP_NAME.fullmatch(name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
            logger.info("removed %s, left by a run that was killed", entry.path)


@contextlib.contextmanager
def out_dir_claim(out_dir: str | os.PathLike, *, what: str = "analyze"):
    """Create ``out_dir`` if needed and hold it alone for the body; yields its path.

    A second run into the same directory stops at once with :class:`OutputError` (exit 5);
    see :func:`facetwitch._files.dir_claim` (a lock released by the kernel when its holder
    dies). Once held, whatever a killed run left in it is cleaned up (:func:`_stale_recover`).
    A directory created here is removed again if the run leaves it empty.
    """
    with dir_claim(path_given(out_dir, "--out"), what=what) as out:
        _stale_recover(out)
        yield out


def out_dir_check(
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    names: tuple[str, ...] = _OUTPUT_NAMES,
    force_option: bool = True,
) -> Path:
    """Check, without creating anything, that ``out_dir`` can receive a report.

    Raises :class:`OutputError` if it is (or would be inside) a file, is a symbolic link to
    nothing, is not writable, has a directory where an output goes, or already holds a file
    named like an output (``names``: ``report.json``, ``events.csv``, ..., a user's own too)
    and ``force`` is false (the message offers ``--force`` only with ``force_option``: ``record``
    has none); :class:`~facetwitch.errors.UsageError` if it is empty (``""``
    would be the current directory). Cheap: called before tracking so a long run does not end
    in an output error.
    """
    out = path_given(out_dir, "--out")
    if out.is_symlink() and not out.exists():
        raise OutputError(f"{out}: is a symbolic link to {os.readlink(out)}, which does not "
                          "exist; create that directory or choose another --out")  # fmt: skip
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
    for name in names:  # even --force cannot put a file there
        if (out / name).is_dir() and not (out / name).is_symlink():
            raise OutputError(f"{out / name}: cannot write (Is a directory)")
    existing = [name for name in names if os.path.lexists(out / name)]
    if existing and not force:
        if "report.json" in existing:
            raise OutputError(
                f"{out}: already holds a report.json; "
                + ("use --force to overwrite it or choose " if force_option else "choose ")
                + "another --out"
            )
        # Not facetwitch's perhaps: a user's own events.csv or summary.txt is not overwritten
        # (nor removed as an earlier run's) without being asked.
        raise OutputError(
            f"{out}: already holds {', '.join(existing)}, which facetwitch would overwrite; "
            + ("use --force to overwrite or choose " if force_option else "choose ")
            + "another --out"
        )
    return out


def events_csv(report: dict) -> str:
    """Return the events table as CSV text.

    Its cells are numbers and facetwitch's own words (kinds, regions, sides, directions), none
    of them user text; should one ever begin like a spreadsheet formula (``=``, ``+``, ``-``,
    ``@``, tab, carriage return) without being a number, it is written with a leading ``'``
    so that a spreadsheet shows it instead of running it (numbers such as ``-0.5`` stay
    numbers). True and false are written ``true`` and ``false``, as in report.json (Python's
    ``True``/``False`` had been written).
    """
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EVENT_FIELDS)
    for e in report["events"]:
        row = [_csv_value(e.get(k)) for k in EVENT_FIELDS]
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue()


def _csv_value(value):
    """Return an events.csv cell: a list space-separated, a bool as JSON writes it (``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as a CSV cell a spreadsheet shows and never evaluates.

    Text that starts like a formula and is not a number gets a leading ``'`` (OWASP's advice on CSV
    injection).
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


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
    text = json.dumps(json_text_clean(_json_clean(analysis.report)), indent=2, allow_nan=False)
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
    out_dir_check(out_dir, force=True)  # before the claim creates anything
    with out_dir_claim(out_dir, what="render") as out:
        return outputs_install(
            analysis, out, video=video, video_sha256=video_sha256, force=force, render=render,
            face_images=face_images,
        )  # fmt: skip


def outputs_install(
    analysis: Analysis,
    out: Path,
    *,
    video: str | os.PathLike | None = None,
    video_sha256: str | None = None,
    force: bool = False,
    render: bool = True,
    face_images: bool = True,
) -> dict[str, Path]:
    """:func:`outputs_write` into ``out``.

    A directory this run already holds (:func:`out_dir_claim`).
    """
    out_dir_check(out, force=force)  # now that no other run can change it
    video = Path(video) if video is not None else None
    # Every output is made in a hidden directory first and moved into place at the end: a
    # failure (a full disk) or an interrupt leaves an earlier report as it was.
    with _Staging(out) as staging:
        staged = _analysis_stage(analysis, staging.dir)
        if render:
            try:
                staged.update(_render(analysis, staging.dir, video, face_images, video_sha256))
            except KeyboardInterrupt:  # and Terminated: nothing computed is lost
                _interrupted_rendering(staging.install(staged))
                raise
            except RenderError as exc:  # one output failed: the others are kept
                paths = staging.install({**staged, **exc.paths})
                raise _render_failed(exc, paths, analysis) from exc.__cause__
        return staging.install(staged)


def _render_failed(exc: RenderError, paths: dict[str, Path], analysis: Analysis) -> RenderError:
    """``exc`` said of the outputs now in place (not of the hidden directory they were made in).

    With the analysis attached.
    """
    from .reports import render_failure

    message = render_failure(exc.failed, paths["report"], [p.name for p in paths.values()])
    return RenderError(message, failed=exc.failed, paths=paths, analysis=analysis)


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

    ``video_sha256``: the video's hash when known (it was just tracked), not computed again.
    """
    try:
        from .reports import report_render
    except ImportError:  # pragma: no cover - reports package not installed
        warnings.warn("report rendering unavailable", FacetwitchWarning, stacklevel=3)
        return {}
    return report_render(analysis.report, out, video=video, track=analysis.track,
                         face_images=face_images, video_sha256=video_sha256)  # fmt: skip
