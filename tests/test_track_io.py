"""The track on disk and the `facetwitch track` command.

.npz round trip, plain-numpy reading, the wide CSV. One real clip (10 frames of single_face.jpg) is
tracked once, by the CLI.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from media import make_clip

from facetwitch import __version__
from facetwitch.landmarks.track import (
    BLENDSHAPE_NAMES,
    N_LANDMARKS,
    REGION_FLOW_NAMES,
    LandmarkTrack,
    track_fields,
)

FACETWITCH = str(Path(sys.executable).with_name("facetwitch"))
N_FRAMES = 10


def run(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FACETWITCH, *map(str, args)], capture_output=True, text=True, timeout=300, **kw
    )


@pytest.fixture(scope="module")
def cli_track(feat_data, model_path, tmp_path_factory) -> dict:
    """`facetwitch track clip.mp4 -o x.npz --csv x.csv` run once on a short real clip."""
    d = tmp_path_factory.mktemp("cli")
    rgb = cv2.cvtColor(cv2.imread(str(feat_data / "single_face.jpg")), cv2.COLOR_BGR2RGB)
    rgb = rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2]
    frames = [np.roll(rgb, i, axis=0) for i in range(N_FRAMES)]  # a slow tilt of the camera
    times = np.array([0.0, 0.033, 0.070, 0.100, 0.134, 0.201, 0.233, 0.270, 0.301, 0.334])
    clip = make_clip(frames, times, d / "clip.mp4")
    # the CSV goes into a directory that does not exist yet: it is created
    proc = run("track", clip, "-o", d / "x.npz", "--csv", d / "new" / "x.csv", "--model",
               model_path)  # fmt: skip
    return {"proc": proc, "npz": d / "x.npz", "csv": d / "new" / "x.csv", "times": times,
            "dir": d, "clip": clip}  # fmt: skip


def test_cli_track_writes_npz_and_csv(cli_track):
    proc = cli_track["proc"]
    assert proc.returncode == 0, proc.stderr
    assert "10 frames" in proc.stdout and "face found in 100%" in proc.stdout
    assert cli_track["npz"].is_file() and cli_track["csv"].is_file()
    assert "Traceback" not in proc.stderr
    # the region-flow settings travel with the track (a cache can tell stale tracks)
    from facetwitch.landmarks import LandmarkTrack
    from facetwitch.landmarks.flow import flow_signature

    assert LandmarkTrack.load(cli_track["npz"]).info["flow"] == flow_signature()
    # MediaPipe's native start-up chatter does not reach the user
    for noise in ("InitGoogle", "XNNPACK", "W0000", "Feedback manager", "not aligned"):
        assert noise not in proc.stderr, proc.stderr


def test_native_noise_is_held_back_and_other_native_lines_pass(capfd):
    """MediaPipe's native noise (written to file descriptor 2, as C++ code does) is held back.

    LiteRT prints its alignment line once a process, at whichever face count first gets a
    misaligned tensor; the line is kept in ``held`` so the tracker knows it has come and stops
    filtering. Any other native line still reaches the user.
    """
    import os

    from facetwitch.landmarks.tracker import _ALIGN_NOTICE, _native_stderr_filtered

    held: list[str] = []
    with _native_stderr_filtered(held=held):
        os.write(2, b"W0000 00:00 1 compiled_model.cc:1] Input tensor memory is not aligned "
                    b"according to LiteRt's memory alignment requirements.\n"
                    b"E0000 something a user must see\n"
                    b"\rrecording 00:12")  # fmt: skip
    err = capfd.readouterr().err
    assert "E0000 something a user must see\n" in err
    assert err.endswith("\rrecording 00:12")  # another thread's status line, as it was drawn
    assert "not aligned" not in err
    assert len(held) == 1 and _ALIGN_NOTICE in held[0]


def test_native_stderr_filtering_from_two_threads_keeps_stderr(capfd):
    """Two trackers in two threads filter file descriptor 2 at once and lose none of it.

    The face counter's runs are filtered (several a second of video); two threads redirecting
    fd 2 at the same moment could each restore the other's temporary file, and every later
    line of the process's stderr would go nowhere.
    """
    import os
    import threading

    from facetwitch.landmarks.tracker import _native_stderr_filtered

    before = os.fstat(2)
    held: list[list[str]] = [[], []]

    def run(k: int) -> None:
        for i in range(200):
            with _native_stderr_filtered(held=held[k]):
                os.write(2, f"W0000 Input tensor memory is not aligned {k} {i}\n".encode())
                os.write(2, f"user line {k} {i}\n".encode())

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    os.write(2, b"still reaches the user\n")
    err = capfd.readouterr().err
    assert "still reaches the user" in err
    assert all(f"user line {k} {i}\n" in err for k in (0, 1) for i in range(200))
    assert "not aligned" not in err
    assert [len(h) for h in held] == [200, 200]


def test_npz_is_readable_by_plain_numpy(cli_track):
    with np.load(cli_track["npz"], allow_pickle=False) as z:
        for key in ("t", "points", "blendshapes", "pose", "found"):
            assert key in z.files
        n = len(z["t"])
        assert n == N_FRAMES
        np.testing.assert_allclose(z["t"], cli_track["times"], atol=2e-5)
        assert z["points"].shape == (n, N_LANDMARKS, 3)
        assert z["points"].dtype == np.float32  # tracked at float32 precision: stored so
        assert z["blendshapes"].shape == (n, len(BLENDSHAPE_NAMES))
        assert z["pose"].shape == (n, 4, 4)
        assert z["found"].dtype == bool and z["found"].all()
        assert tuple(z["blendshape_names"]) == BLENDSHAPE_NAMES
        info = json.loads(str(z["info_json"]))
    assert info["frames"] == N_FRAMES and info["rotation_deg"] == 0
    assert info["running_mode"] == "video" and len(info["sha256"]) == 64


def test_npz_round_trip(cli_track, tmp_path):
    tr = LandmarkTrack.load(cli_track["npz"])
    again = LandmarkTrack.load(tr.save(tmp_path / "again.npz"))
    for name in track_fields():
        a, b = getattr(tr, name), getattr(again, name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            assert a == b, name
    assert again.blendshape_names == BLENDSHAPE_NAMES
    assert again.region_flow_names == REGION_FLOW_NAMES
    assert again.points.dtype == np.float64
    # points finer than float32 are stored as they are: saving never loses precision
    fine = replace(tr, points=tr.points + 1e-9)
    np.testing.assert_array_equal(
        LandmarkTrack.load(fine.save(tmp_path / "f.npz")).points, fine.points
    )
    # NaN rows survive too (a frame without a face)
    missing = LandmarkTrack.empty(3, info={"note": "x"})
    back = LandmarkTrack.load(missing.save(tmp_path / "empty.npz"))
    assert not back.found.any() and np.isnan(back.points).all() and back.info == {"note": "x"}


def test_a_track_saved_before_the_outline_was_measured_loads(cli_track, tmp_path):
    """The motion outside the face's outline is saved; a track saved without it loads as NaN.

    The CLI's track measured it wherever it measured the regions' flow (the camera tilting:
    the picture and the head move together, so it reads about nothing). A track written before
    ``outline_flow`` existed (the same file without that member) loads, with it all NaN, and
    everything else as saved.
    """
    import zipfile

    tr = LandmarkTrack.load(cli_track["npz"])
    measured = np.isfinite(tr.region_flow[:, 0, 0])
    assert measured.sum() >= N_FRAMES - 2
    assert np.isfinite(tr.outline_flow[measured]).all()
    assert np.isnan(tr.outline_flow[~measured]).all()
    assert np.nanmax(tr.outline_flow) < 1.0  # px: the tilt is 1 px a frame, all of it the head's
    old = tmp_path / "old.npz"
    with zipfile.ZipFile(cli_track["npz"]) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            if item.filename != "outline_flow.npy":
                dst.writestr(item, src.read(item.filename))
    back = LandmarkTrack.load(old)
    assert back.outline_flow.shape == (N_FRAMES,) and np.isnan(back.outline_flow).all()
    np.testing.assert_array_equal(back.region_flow, tr.region_flow)
    assert back.frames(2, 5).outline_flow.shape == (3,)


def test_csv_wide_layout(cli_track):
    tr = LandmarkTrack.load(cli_track["npz"])
    with open(cli_track["csv"], newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["frame", "timestamp_s", "found"]
    i = header.index("x_0")
    assert header[i : i + 3] == ["x_0", "y_0", "z_0"]
    assert header[i + 3 * N_LANDMARKS - 3 : i + 3 * N_LANDMARKS] == ["x_477", "y_477", "z_477"]
    assert set(BLENDSHAPE_NAMES) <= set(header)
    assert len(body) == len(tr) and all(len(r) == len(header) for r in body)
    assert [int(r[0]) for r in body] == list(range(len(tr)))
    np.testing.assert_allclose([float(r[1]) for r in body], tr.t, atol=1e-6)
    np.testing.assert_allclose([float(v) for v in body[4][i : i + 3]], tr.points[4, 0], atol=1e-3)


def test_csv_empty_cells_without_a_face(tmp_path):
    tr = LandmarkTrack.empty(2)
    with open(tr.to_csv(tmp_path / "e.csv"), newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 3 and rows[1][2] == "0" and rows[1][-1] == ""


def test_save_load_and_csv_name_a_path_of_the_wrong_type(tmp_path, monkeypatch):
    """save, load and to_csv given a path of the wrong type: a TypeError naming it.

    A number, a list, bytes or None had been pathlib's "expected str, bytes or os.PathLike
    object, not int". Nothing is written.
    """
    monkeypatch.chdir(tmp_path)
    tr = LandmarkTrack.empty(2)
    for wrong in (3, None, ["t.npz"], b"t.npz"):
        with pytest.raises(TypeError, match="'path' must be the path of the .npz file to write"):
            tr.save(wrong)
        with pytest.raises(TypeError, match="'path' must be the path of the .csv file to write"):
            tr.to_csv(wrong)
        with pytest.raises(TypeError, match="'path' must be the path of a saved track.npz"):
            LandmarkTrack.load(wrong)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_cli_help_and_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"facetwitch {__version__}"
    helped = run("track", "--help")
    assert helped.returncode == 0
    for word in ("video", "--output", "--csv", "--model", "presentation"):
        assert word in helped.stdout.lower(), word
    top = run("--help")
    assert top.returncode == 0 and "track" in top.stdout


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_cli_track_missing_file_is_a_clear_error(tmp_path):
    out = run("track", tmp_path / "nope.mp4", "-o", tmp_path / "x.npz")
    assert out.returncode != 0
    assert "no such file" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.npz").exists()


DEMO = Path(__file__).resolve().parents[1] / "samples" / "demo_upper_lip.mp4"


def test_events_csv_writes_true_and_false_as_report_json_does(tmp_path):
    """events.csv's `counted` column said Python's `True`/`False`; report.json says true/false.

    A saved track (synthetic, on the demo's real face geometry, one planted lip twitch) through
    `facetwitch analyze TRACK.npz --no-report`; the CSV read back as a spreadsheet would.
    """
    from clirun import cli
    from synth import Plant, demo_face, synthetic_track

    from facetwitch.errors import EXIT_OK, EXIT_UNRELIABLE

    plant = Plant("upper_lip", "left", t_peak_s=3.0, amplitude_mm=1.5, direction_deg=45.0)
    saved = synthetic_track(demo_face(), plants=(plant,)).save(tmp_path / "t.npz")
    out = tmp_path / "out"
    run = cli("analyze", saved, "--out", out, "--no-report")
    assert run.code in (EXIT_OK, EXIT_UNRELIABLE), run
    report = json.loads((out / "report.json").read_text())
    with open(out / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(report["events"]) >= 1
    assert [r["counted"] for r in rows] == [json.dumps(e["counted"]) for e in report["events"]]
    assert "true" in {r["counted"] for r in rows}
    text = (out / "events.csv").read_text()
    assert "True" not in text and "False" not in text


@pytest.mark.parametrize("option", ["-o", "--csv"])
def test_cli_track_refuses_an_existing_output_without_force(option, tmp_path):
    """`track -o X.npz` and `--csv X.csv` replaced an existing file silently (exit 0).

    Now, as every other output: exit 5 without --force, before the model is looked for (the
    one given does not exist); the file untouched. With --force the run goes on (to the model).
    """
    from clirun import assert_user_error, cli, tree

    from facetwitch.errors import EXIT_MODEL, EXIT_OUTPUT

    npz, csv = tmp_path / "x.npz", tmp_path / "x.csv"
    existing = npz if option == "-o" else csv
    existing.write_text("an earlier result\n")
    before = tree(tmp_path)
    args = ["track", DEMO, "-o", npz, "--csv", csv, "--model", tmp_path / "no-such-model.task"]
    run = cli(*args)
    assert_user_error(run, EXIT_OUTPUT, f"{existing}: exists already; use --force",
                      f"choose another {option}")  # fmt: skip
    assert tree(tmp_path) == before
    forced = cli(*args, "--force")
    assert forced.code == EXIT_MODEL, forced  # past the check: the missing model is next
    assert tree(tmp_path) == before


def test_cli_track_output_under_a_file_fails_before_tracking(cli_track, model_path, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = run("track", cli_track["clip"], "-o", blocker / "x.npz", "--model", model_path)
    assert out.returncode == 5, out.stderr
    assert "cannot create its directory" in out.stderr and "Traceback" not in out.stderr
    assert "frames" not in out.stdout  # nothing was tracked
