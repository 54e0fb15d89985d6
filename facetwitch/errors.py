"""Exceptions, warnings and exit codes.

The library raises :class:`FacetwitchError` subclasses for user errors (bad path, unreadable
video, missing model, output not writable). Only the CLI turns them into a one-line message and
the exit code given by the class; the library never prints or exits.

Recoverable problems (face lost for a while, low frame rate, a damaged stretch of video) are
:class:`FacetwitchWarning` warnings and also land in ``report.json``'s ``quality.warnings``.
"""

from __future__ import annotations

# Exit codes: documented in the README's table. Scripts may rely on them.
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: please report it (traceback shown with --debug)
EXIT_USAGE = 2  # bad command-line usage (typer/click use 2 for this too)
EXIT_INPUT = 3  # the input cannot be read as a video (missing, empty, corrupt, no video stream)
EXIT_MODEL = 4  # the face model cannot be found, fetched, or fails its sha256 check
EXIT_OUTPUT = 5  # the output cannot be written (not writable, exists without --force, disk full)
EXIT_CAPTURE = 6  # the camera cannot be opened
EXIT_UNRELIABLE = 7  # a report was written, but its quality section says the numbers are unreliable
EXIT_RENDER = 8  # report.json (and the rest) written, but report.html/.pdf/summary.txt not all made
EXIT_BATCH_FAILED = 9  # a batch ended, but some of its videos gave no report (index.csv: why)
EXIT_HANGUP = 129  # stopped by SIGHUP (128 + 1: the terminal was closed; as for Ctrl-C)
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (whatever was recorded is kept)
EXIT_TERMINATED = 143  # stopped by SIGTERM (128 + 15; whatever was recorded is kept)


class FacetwitchError(Exception):
    """Base class of user-facing errors; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_INTERNAL


class UsageError(FacetwitchError):
    """The command line asks for something that cannot be done.

    The command line asks for something that cannot be done (e.g. an output that is the input
    itself); found before any long work starts.
    """

    exit_code = EXIT_USAGE


class InputError(FacetwitchError):
    """The input file is missing or cannot be decoded as a video."""

    exit_code = EXIT_INPUT


class ModelError(FacetwitchError):
    """The Face Landmarker model cannot be resolved, fetched or verified."""

    exit_code = EXIT_MODEL


class OutputError(FacetwitchError):
    """An output cannot be written."""

    exit_code = EXIT_OUTPUT


class RenderError(FacetwitchError):
    """Some of report.html.

    Report.pdf and summary.txt could not be made (a bug, or something they need is missing);
    report.json and the other outputs are written.

    Attributes
    ----------
    failed : dict
        Output file name -> the exception that stopped it.
    paths : dict
        What was written: key (``report``, ``html``, ``summary``, ...) -> path.
    analysis : Analysis or None
        The analysis whose report it was (set by :func:`facetwitch.analysis.analyze_process`).
    """

    exit_code = EXIT_RENDER

    def __init__(self, message: str, *, failed: dict, paths: dict, analysis=None):
        super().__init__(message)
        self.failed = dict(failed)
        self.paths = dict(paths)
        self.analysis = analysis


class CaptureError(FacetwitchError):
    """A camera cannot be opened or fails."""

    exit_code = EXIT_CAPTURE


class FacetwitchWarning(UserWarning):
    """A recoverable problem: the result is still produced, flagged."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (e.g. the system is shutting down).

    Unwinds like Ctrl-C, so that files being written are closed or removed, and exits with
    :data:`EXIT_TERMINATED`.
    """


class HungUp(KeyboardInterrupt):
    """SIGHUP arrived (the terminal was closed, an SSH session dropped).

    Unwinds like Ctrl-C and exits with :data:`EXIT_HANGUP`. Not raised when SIGHUP is ignored
    (``nohup``).
    """


#: The signals that stop a command as Ctrl-C does (by name: SIGHUP does not exist on Windows):
#: the word of the closing line (``facetwitch: <word>``), the exit code, the exception raised.
STOP_SIGNALS = {
    "SIGINT": ("interrupted", EXIT_INTERRUPTED, KeyboardInterrupt),
    "SIGTERM": ("terminated", EXIT_TERMINATED, Terminated),
    "SIGHUP": ("hung up", EXIT_HANGUP, HungUp),
}
