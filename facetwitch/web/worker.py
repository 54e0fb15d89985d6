"""One analysis job, in its own process: ``python -m facetwitch.web.worker --data DIR --job N``.

Started by the server's :class:`~facetwitch.web.jobs.JobRunner`. Writes its progress into the
diary (the page reads it from there); ends the job ``done`` or ``failed`` with the one-line
message of the library's error. Stopped (SIGTERM, the server shutting down), it leaves the
job ``running``, which the next server start queues again.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import traceback

from ..diary import Diary
from ..errors import FacetwitchError, Terminated


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _ParentGone(KeyboardInterrupt):
    """The server that started this worker is gone: stop (the job resumes at its restart)."""


def job_run(diary: Diary, job_id: int) -> None:
    """Run job ``job_id``: finalise a browser recording if need be, analyse, make clips."""
    from . import pipeline

    job = diary.job(job_id)
    rec = diary.recording(job.recording_id)
    parent = os.getppid()
    last = [0.0]

    def progress(stage: str, fraction: float, eta_s, detail: str = "") -> None:
        if os.getppid() != parent:
            raise _ParentGone
        now = time.monotonic()
        if now - last[0] < 0.3 and fraction < 1:
            return
        last[0] = now
        diary.job_progress(job_id, stage, fraction, eta_s, detail)

    diary.job_progress(job_id, "checking", 0.0, None, "", pid=os.getpid())
    if rec.source == "browser":
        if (rec.dir / "recording.json").is_file():
            # every chunk received, also after a lost one: a recording that went stale (a tab
            # closed) had been analysed up to its first gap, the rest left on disk
            pipeline.chunks_append(rec.dir, final=True)
        chunks = rec.dir / "recording.webm"
        stats = pipeline.recording_finalise(chunks, rec.dir / "recording.mkv")
        diary.recording_update(rec.id, video="recording.mkv", duration_s=stats["duration_s"])
        rec = diary.recording(rec.id)
    if rec.video_path is None or not rec.video_path.is_file():
        raise FacetwitchError("the video of this recording is missing from the diary")
    pipeline.analysis_process(
        rec.video_path,
        rec.report_dir,
        rec.clips_dir,
        mirrored=rec.mirrored,
        complaint=rec.complaint,
        markers=rec.markers,
        progress=progress,
    )
    diary.job_finish(job_id)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process; returns its exit code."""
    parser = argparse.ArgumentParser(prog="python -m facetwitch.web.worker")
    parser.add_argument("--data", required=True)
    parser.add_argument("--job", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def on_term(signum, frame):  # noqa: ARG001
        raise Terminated

    signal.signal(signal.SIGTERM, on_term)
    diary = Diary(args.data, create=False)
    try:
        job_run(diary, args.job)
    except KeyboardInterrupt:  # SIGTERM, Ctrl-C, the server gone: the job resumes later
        logging.info("job %d stopped; it resumes when the server starts again", args.job)
        return 143
    except FacetwitchError as exc:
        diary.job_finish(args.job, error=_one_line(exc))
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: said in the page, traceback in the log
        traceback.print_exc()
        diary.job_finish(
            args.job,
            error=(
                f"internal error: {type(exc).__name__}: {_one_line(exc)} (a bug: the traceback is "
                "in this recording's analysis.log)"
            ),
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
