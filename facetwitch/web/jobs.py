"""The analysis queue: one worker at a time, persistent in the diary's SQLite.

Tracking uses every core, so analyses run one after another, never side by side; two uploads
at once are queued. Each analysis runs in its own process (``python -m
facetwitch.web.worker``): a crash in the decoder or the model ends that analysis with its
reason, not the server, and the server stays responsive while it runs.

Nothing is lost on a restart: a job still marked running when the server starts again is
queued again (re-run from the saved video), or marked failed with the reason once it has
been interrupted :data:`MAX_ATTEMPTS` times. Browser recordings that stopped receiving chunks
(a closed tab, a crashed browser) are finalised after :attr:`JobRunner.stale_s` seconds
and at server start, and queued like the others.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

from ..diary import Diary

logger = logging.getLogger("facetwitch")

#: A job interrupted this many times (server stopped or worker crashed) is not tried again.
MAX_ATTEMPTS = 3
#: A browser recording that received no chunk for this long is taken as ended (s).
STALE_S = 20.0


class JobRunner:
    """Runs queued analyses one at a time in worker processes, on a background thread.

    Parameters
    ----------
    diary : Diary
        The diary whose ``jobs`` table is the queue.
    stale_s : float
        Seconds without a chunk after which a browser recording is finalised and queued.
    """

    def __init__(self, diary: Diary, *, stale_s: float = STALE_S):
        self.diary = diary
        self.stale_s = float(stale_s)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._job_id: int | None = None
        self._cancelled: set[int] = set()
        self._thread = threading.Thread(target=self._loop, name="facetwitch-jobs", daemon=True)

    def start(self) -> None:
        """Recover what a previous server left and start the worker thread.

        Recover what a previous server left (running jobs, unfinished recordings) and start the
        worker thread.
        """
        for job in self.diary.jobs_recover(max_attempts=MAX_ATTEMPTS):
            logger.info("job %d of %s: %s after a restart", job.id, job.recording_id, job.status)
        self.stale_finalise(older_than_s=0.0)
        self._thread.start()

    def wake(self) -> None:
        """Return a job was queued.

        Look at the queue now.
        """
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread.

        An analysis in progress is stopped and left to resume at the next start (it stays
        ``running`` in the diary, which the next start requeues).
        """
        self._stop.set()
        self._wake.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def cancel(self, recording_id: str) -> None:
        """Stop the analysis of ``recording_id`` if it is the one running (before a delete)."""
        with self._lock:
            proc, job_id = self._proc, self._job_id
        if proc is None or job_id is None:
            return
        job = self.diary.job(job_id)
        if job.recording_id == recording_id and proc.poll() is None:
            self._cancelled.add(job_id)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stale_finalise(self, *, older_than_s: float | None = None) -> list[str]:
        """Queue the analysis of browser recordings that stopped receiving chunks.

        Returns their ids.
        """
        limit = self.stale_s if older_than_s is None else older_than_s
        now = time.time()
        queued = []
        for rec in self.diary.recordings_stale(now - limit):
            self.diary.recording_update(rec.id, error=None)
            self.diary.job_add(rec.id)
            queued.append(rec.id)
            logger.info("recording %s: no chunk for %.0f s; finalised and queued", rec.id, limit)
        return queued

    # -- the thread ---------------------------------------------------------------------------
    def _loop(self) -> None:
        next_stale = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_stale:
                next_stale = time.monotonic() + min(2.0, self.stale_s / 4)
                try:
                    self.stale_finalise()
                except Exception:  # noqa: BLE001 - the queue must go on
                    logger.exception("finalising stale recordings failed")
            job = self.diary.job_claim()
            if job is None:
                self._wake.wait(timeout=min(1.0, self.stale_s / 4))
                self._wake.clear()
                continue
            self._run(job.id)

    def _run(self, job_id: int) -> None:
        cmd = [
            sys.executable,
            "-m",
            "facetwitch.web.worker",
            "--data",
            str(self.diary.root),
            "--job",
            str(job_id),
        ]
        env = dict(os.environ)
        env.setdefault("GLOG_minloglevel", "2")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        rec_dir = self.diary.recording_dir(self.diary.job(job_id).recording_id)
        log_path = rec_dir / "analysis.log"
        try:
            log = open(log_path, "ab")  # noqa: SIM115 - closed below
        except OSError:
            log = subprocess.DEVNULL
        try:
            with self._lock:
                self._proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
                )
                self._job_id = job_id
            code = self._proc.wait()
        finally:
            with self._lock:
                self._proc, self._job_id = None, None
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            job = self.diary.job(job_id)
        except Exception:  # noqa: BLE001 - deleted while it ran
            return
        if job.status != "running":
            return
        if job_id in self._cancelled:
            self._cancelled.discard(job_id)
            return
        if self._stop.is_set():
            return  # left running: requeued at the next start
        self.diary.job_finish(
            job_id,
            error=(
                f"the analysis stopped unexpectedly (worker exit code {code}); details in "
                f"{log_path}"
            ),
        )
