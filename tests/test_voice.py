"""Sound.

Decoding a file's audio on the video's clock, voice activity, voiced spans, and the voice arrays a
track carries. Real files, decoded by the real decoder: two GRID sentences (tests/data,
hand-labelled in benchmarks/voice_labels/grid.json) and clips written by PyAV.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from media import make_av_clip, make_clip

from facetwitch.errors import FacetwitchWarning
from facetwitch.landmarks.audio import AudioReader, audio_read, audio_voice
from facetwitch.landmarks.track import LandmarkTrack
from facetwitch.signal.voice import FRAME_S, voice_activity, voiced_spans

DATA = Path(__file__).parent / "data"
LABELS = json.loads(
    (Path(__file__).parents[1] / "benchmarks" / "voice_labels" / "grid.json").read_text()
)["clips"]
GRID = ("lbax4n.mpg", "pwij3p.mpg")


def _buzz(t: np.ndarray) -> np.ndarray:
    """Return a voice-like sound.

    A 150 Hz fundamental with 14 harmonics falling as 1/k.
    """
    return 0.15 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 15))


# -- GRID sentences ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", GRID)
def test_grid_sentence_is_voiced_where_the_speaker_speaks(name):
    audio = audio_read(DATA / name)
    assert audio is not None and audio.rate_hz == 16000 and audio.samples.dtype == np.int16
    assert audio.info["codec"] == "mp2" and audio.info["channels"] == 2
    assert audio.duration_s == pytest.approx(3.0, abs=0.05)
    t, active = voice_activity(audio.samples, audio.rate_hz, t0_s=audio.t0_s)
    spans = voiced_spans(t, active)
    (on, off), = LABELS[name]["voiced"]  # fmt: skip
    # one span: the sentence, its short pauses bridged
    assert len(spans) == 1
    onset, duration = spans[0]
    # it covers the labelled speech (labels +-0.02 s), starting and ending near it
    assert onset <= on + 0.02 and onset + duration >= off - 0.02
    assert on - 0.15 <= onset
    assert onset + duration <= off + 0.25


@pytest.mark.parametrize("name", GRID)
def test_grid_silence_before_and_after_the_sentence_is_not_voiced(name):
    audio = audio_read(DATA / name)
    t, active = voice_activity(audio.samples, audio.rate_hz, t0_s=audio.t0_s)
    (on, off), = LABELS[name]["voiced"]  # fmt: skip
    before = t + FRAME_S <= on - 0.15
    after = t >= off + 0.25
    assert before.sum() >= 25 and after.sum() >= 50  # the stretches are there to test
    assert not active[before].any() and not active[after].any()


def test_chunked_input_gives_the_same_decision_as_one_array():
    audio = audio_read(DATA / GRID[0])
    t1, a1 = voice_activity(audio.samples, 16000)
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.choice(len(audio.samples), 40, replace=False))
    t2, a2 = voice_activity(iter(np.split(audio.samples, cuts)), 16000)
    assert np.array_equal(t1, t2) and np.array_equal(a1, a2)
    # float input in [-1, 1) is the same sound
    _, a3 = voice_activity(audio.samples.astype(np.float64) / 32768.0, 16000)
    assert np.array_equal(a1, a3)


def test_audio_voice_streams_the_file_into_the_detector():
    got = audio_voice(DATA / GRID[1])
    assert got is not None
    t, active, info = got
    audio = audio_read(DATA / GRID[1])
    t_ref, a_ref = voice_activity(audio.samples, 16000, t0_s=audio.t0_s)
    assert np.array_equal(t, t_ref) and np.array_equal(active, a_ref)
    assert info["method"] == "harmonic" and info["codec"] == "mp2"
    assert info["source_rate_hz"] == 44100 and info["snr_db"] > 0


# -- files without sound, with silence, with sound at known times -----------------------------
def test_video_without_audio_gives_none_and_no_warning(tmp_path):
    frames = np.full((10, 32, 32, 3), 100, np.uint8)
    clip = make_clip(frames, np.arange(10) / 10, tmp_path / "mute.mp4")
    assert audio_read(clip) is None  # warnings are errors in this run: none was given
    assert audio_voice(clip) is None
    with AudioReader(clip) as reader:
        assert not reader.has_audio and list(reader) == []


@pytest.mark.parametrize("codec, ext", [("aac", "mp4"), ("pcm_s16le", "mkv")])
def test_silent_audio_track_gives_no_voiced_spans(tmp_path, codec, ext):
    rate = 48000
    rng = np.random.default_rng(0)
    hiss = 3e-4 * rng.standard_normal(3 * rate)  # a quiet room, not digital zeros
    clip = make_av_clip(tmp_path / f"quiet.{ext}", duration_s=3.0, audio=hiss, audio_codec=codec)
    audio = audio_read(clip)
    assert audio is not None and audio.duration_s == pytest.approx(3.0, abs=0.05)
    t, active = voice_activity(audio.samples, audio.rate_hz, t0_s=audio.t0_s)
    assert len(t) == pytest.approx(300, abs=5) and not active.any()
    assert voiced_spans(t, active) == []
    # digital silence too
    zeros = make_av_clip(tmp_path / f"zeros.{ext}", duration_s=2.0, audio=np.zeros(2 * rate),
                         audio_codec=codec)  # fmt: skip
    t, active, _ = audio_voice(zeros)
    assert len(t) > 150 and not active.any()


@pytest.mark.parametrize(
    "video_start_s, audio_start_s",
    [(0.0, 0.0), (0.0, -0.25), (0.3, 0.0), (0.0, 0.12)],
    ids=["together", "audio-first", "video-late", "audio-late"],
)
def test_sound_is_timed_from_the_first_video_frame(tmp_path, video_start_s, audio_start_s):
    """A buzz at video time 1.0-1.5 s, in files whose streams start at different times."""
    rate, burst_t = 48000, 1.0
    n = int(3.0 * rate)
    t_audio = audio_start_s + np.arange(n) / rate  # file time of each sample
    rng = np.random.default_rng(1)
    x = 1e-3 * rng.standard_normal(n)
    on = (t_audio >= video_start_s + burst_t) & (t_audio < video_start_s + burst_t + 0.5)
    x[on] += _buzz(t_audio[on])
    clip = make_av_clip(tmp_path / "av.mkv", duration_s=2.6, audio=x, audio_codec="pcm_s16le",
                        audio_start_s=audio_start_s, video_start_s=video_start_s)  # fmt: skip
    audio = audio_read(clip)
    # sample level: the first loud sample is where the buzz starts (resampler: < 2 ms)
    first = audio.t0_s + np.flatnonzero(np.abs(audio.samples) > 3000)[0] / audio.rate_hz
    assert first == pytest.approx(burst_t, abs=0.002)
    assert audio.t0_s == pytest.approx(max(0.0, audio_start_s - video_start_s), abs=1e-3)
    # frame level: the voiced stretch starts within one frame of where it does when the
    # streams start together (the 40 ms analysis window hears it 20 ms early), ends after it
    t, active = voice_activity(audio.samples, audio.rate_hz, t0_s=audio.t0_s, hangover_s=0.0)
    (onset, duration), = voiced_spans(t, active)  # fmt: skip
    assert burst_t - 0.02 - FRAME_S <= onset <= burst_t + FRAME_S
    assert onset + duration == pytest.approx(burst_t + 0.5, abs=0.03)


def _buzz_clip(tmp_path, t0: float, t1: float, rate: int = 16000):
    """Return a 3 s MKV (a picture and PCM sound), silent but for a buzz from t0 to t1."""
    t = np.arange(3 * rate) / rate
    x = np.where((t >= t0) & (t < t1), _buzz(t), 0.0)
    return make_av_clip(tmp_path / "src.mkv", duration_s=3.0, audio=x, audio_rate_hz=rate,
                        audio_codec="pcm_s16le")  # fmt: skip


def test_gap_in_the_sound_is_filled_with_silence_in_place(tmp_path):
    """Packets missing in the middle (a recorder that lost sound): later sound keeps its time."""
    import av

    src = _buzz_clip(tmp_path, 2.0, 2.5)
    out = tmp_path / "gap.mkv"
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        vs = dst.add_stream_from_template(inp.streams.video[0])
        aus = dst.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux():
            if packet.dts is None:
                continue
            ts = float(packet.pts * packet.time_base)
            if packet.stream.type == "audio":
                if 0.8 <= ts < 1.3:  # drop 0.5 s of sound
                    continue
                packet.stream = aus
            else:
                packet.stream = vs
            dst.mux(packet)
    audio = audio_read(out)
    assert audio.info["gaps_s"] == pytest.approx(0.5, abs=0.05)
    assert audio.duration_s == pytest.approx(3.0, abs=0.05)
    first = audio.t0_s + np.flatnonzero(np.abs(audio.samples) > 3000)[0] / audio.rate_hz
    assert first == pytest.approx(2.0, abs=0.002)


@pytest.mark.parametrize("empty_first", [True, False], ids=["empty-first", "empty-second"])
def test_an_empty_audio_track_does_not_hide_the_sound_in_another(tmp_path, empty_first):
    """An MKV with two audio tracks, one of them without a single packet.

    An unused recorder track. The first audio stream had been read whatever it held: with the
    empty one first, the speech in the other was never heard (no sound, no warning).
    """
    import av

    rate = 16000
    src = _buzz_clip(tmp_path, 1.0, 1.6, rate=rate)
    out = tmp_path / "two_tracks.mkv"
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        vs = dst.add_stream_from_template(inp.streams.video[0])
        if empty_first:
            dst.add_stream("pcm_s16le", rate=rate, layout="mono")
        aus = dst.add_stream_from_template(inp.streams.audio[0])
        if not empty_first:
            dst.add_stream("pcm_s16le", rate=rate, layout="mono")
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = aus if packet.stream.type == "audio" else vs
            dst.mux(packet)
    with av.open(str(out)) as probe:
        assert len(probe.streams.audio) == 2
    audio = audio_read(out)
    assert audio is not None
    first = audio.t0_s + np.flatnonzero(np.abs(audio.samples) > 3000)[0] / audio.rate_hz
    assert first == pytest.approx(1.0, abs=0.002)
    assert audio.info["stream_index"] == (2 if empty_first else 1)  # which track was read
    t_s, active, _info = audio_voice(out)
    ((onset, duration),) = voiced_spans(t_s, active)
    assert onset == pytest.approx(1.0, abs=0.15) and duration == pytest.approx(0.6, abs=0.3)


def test_unreadable_sound_warns_and_gives_none(tmp_path):
    bad = tmp_path / "noise.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.warns(FacetwitchWarning, match="sound cannot be read"):
        assert audio_read(bad) is None


def test_sound_that_changes_rate_mid_file_is_read_across_the_change(tmp_path):
    """Two MPEG-TS recordings joined end to end (camcorder files, stream captures).

    The sound goes from 48 kHz to 22.05 kHz at 2 s. It used to stop the whole analysis after the
    picture was tracked ("Frame does not match AudioResampler setup"); now the resampler is set
    up again and the sound after the change keeps its time.
    """
    r1, r2 = 48000, 22050
    t2 = np.arange(2 * r2) / r2
    a = make_av_clip(tmp_path / "a.ts", duration_s=2.0, audio=np.zeros(2 * r1), audio_rate_hz=r1)
    b = make_av_clip(tmp_path / "b.ts", duration_s=2.0,
                     audio=np.where((t2 >= 0.5) & (t2 < 1.0), _buzz(t2), 0.0), audio_rate_hz=r2,
                     audio_start_s=2.0, video_start_s=2.0)  # fmt: skip
    joined = tmp_path / "joined.ts"
    joined.write_bytes(a.read_bytes() + b.read_bytes())
    audio = audio_read(joined)
    assert audio.duration_s == pytest.approx(4.0, abs=0.15)
    first = audio.t0_s + np.flatnonzero(np.abs(audio.samples) > 1000)[0] / audio.rate_hz
    assert first == pytest.approx(2.5, abs=0.08)  # the AAC encoder's own delay: < 0.05 s
    t, active, _info = audio_voice(joined)
    assert voiced_spans(t, active)[0][0] == pytest.approx(2.5, abs=0.1)


def test_a_sound_the_decoder_fails_on_does_not_lose_the_tracked_picture(
    feat_data, model_path, monkeypatch
):
    """Whatever the sound's decoder raises, the picture tracked before it is kept.

    The sound is read after the picture (a damaged AAC packet once decoded as 39 channels and
    raised from inside PyAV's resampler, after minutes of tracking). Here the sound reader is
    made to fail as that did; the track comes back, without voice, with a one-line warning.
    """
    import av

    from facetwitch.landmarks import audio as audio_mod
    from facetwitch.landmarks import track_video

    def broken(*_a, **_k):
        raise av.error.ArgumentError(22, "Invalid argument")

    monkeypatch.setattr(audio_mod, "audio_voice", broken)
    with pytest.warns(FacetwitchWarning, match="its sound cannot be read .*analysed without it"):
        track = track_video(feat_data / "single_face.mp4", model=model_path)
    assert track.found.mean() > 0.9
    assert track.voice_t is None


# -- voiced_spans and voice_activity on hand-made arrays ----------------------------------------
def test_voiced_spans_bridges_pauses_and_drops_blips():
    t = np.arange(300) * 0.01
    a = np.zeros(300, bool)
    a[10:40] = True  # 0.10-0.40
    a[60:90] = True  # 0.60-0.90: 0.2 s pause -> bridged
    a[150:155] = True  # 0.05 s blip -> dropped
    a[200:260] = True  # 2.00-2.60: 1.1 s away -> its own span
    assert voiced_spans(t, a) == [(0.1, 0.8), (2.0, 0.6)]
    assert voiced_spans(t, a, bridge_s=0.0) == [(0.1, 0.3), (0.6, 0.3), (2.0, 0.6)]
    assert voiced_spans(t, a, min_voiced_s=0.0, bridge_s=0.0)[2] == (1.5, 0.05)
    # probabilities: >= 0.5 is voiced
    assert voiced_spans(t, np.where(a, 0.9, 0.1)) == voiced_spans(t, a)


@pytest.mark.parametrize("n", [0, 1])
def test_voiced_spans_edge_cases(n):
    t = np.arange(n) * 0.01
    assert voiced_spans(t, np.zeros(n, bool)) == []
    if n:
        assert voiced_spans(t, np.ones(n, bool), min_voiced_s=0.0) == [(0.0, 0.01)]


def test_voiced_spans_runs_to_the_end_and_rejects_bad_input():
    t = 5.0 + np.arange(100) * 0.01
    assert voiced_spans(t, np.ones(100, bool)) == [(5.0, 1.0)]
    with pytest.raises(ValueError, match="one length"):
        voiced_spans(t, np.ones(99, bool))
    with pytest.raises(ValueError, match=">= 0"):
        voiced_spans(t, np.ones(100, bool), bridge_s=-1)


def test_voice_activity_options_are_checked():
    x = np.zeros(1600, np.int16)
    with pytest.raises(ValueError, match="Allowed values are 'harmonic'"):
        voice_activity(x, 16000, method="webrtc")
    with pytest.raises(ValueError, match="Unknown setting"):
        voice_activity(x, 16000, snr=3)
    with pytest.raises(ValueError, match="mono"):
        voice_activity(np.zeros((10, 2), np.int16), 16000)
    with pytest.raises(ValueError, match="int16"):
        voice_activity(np.zeros(10, np.int32), 16000)
    t, active = voice_activity(np.zeros(0, np.int16), 16000)
    assert len(t) == 0 and len(active) == 0
    t, active, info = voice_activity(x, 16000, t0_s=2.0, return_info=True)
    assert np.allclose(t, 2.0 + np.arange(10) * 0.01) and info["method"] == "harmonic"


def test_breath_like_noise_and_clicks_are_not_voiced_but_a_buzz_is():
    rate = 16000
    rng = np.random.default_rng(5)
    t = np.arange(6 * rate) / rate
    x = 1e-3 * rng.standard_normal(len(t))
    breath = (t >= 1.0) & (t < 1.8)
    x[breath] += (
        0.05 * rng.standard_normal(breath.sum()) * np.sin(np.linspace(0, np.pi, breath.sum()))
    )
    for k in range(10):  # clicks, 8 a second
        i = int((3.0 + k / 8) * rate)
        x[i : i + 80] += 0.5 * rng.standard_normal(80) * np.exp(-np.arange(80) / 20)
    buzz = (t >= 4.5) & (t < 5.2)
    x[buzz] += _buzz(t[buzz])
    spans = voiced_spans(*voice_activity(x, rate))
    assert len(spans) == 1 and spans[0][0] == pytest.approx(4.4, abs=0.1)


# -- the track keeps it -----------------------------------------------------------------------
def _track_with_voice(n: int = 5) -> LandmarkTrack:
    vt = np.arange(40) * 0.01
    va = np.zeros(40, bool)
    va[10:30] = True
    audio = {"codec": "aac", "source_rate_hz": 48000, "channels": 1, "method": "harmonic"}
    fields = {**_fields(LandmarkTrack.empty(n)), "info": {"audio": audio}}
    return LandmarkTrack(**{**fields, "voice_t": vt, "voice_active": va})


def _fields(track: LandmarkTrack) -> dict:
    from dataclasses import fields

    return {f.name: getattr(track, f.name) for f in fields(track)}


def test_saved_track_keeps_the_voice_arrays(tmp_path):
    track = _track_with_voice()
    assert track.has_voice
    back = LandmarkTrack.load(track.save(tmp_path / "t.npz"))
    assert back.has_voice and back.voice_active.dtype == bool
    assert np.array_equal(back.voice_t, track.voice_t)
    assert np.array_equal(back.voice_active, track.voice_active)
    assert back.info["audio"]["codec"] == "aac"
    assert voiced_spans(back.voice_t, back.voice_active) == [(0.1, 0.2)]
    # plain numpy reads them too
    with np.load(tmp_path / "t.npz") as z:
        assert z["voice_active"].sum() == 20


def test_track_saved_before_sound_was_read_still_loads(tmp_path):
    """A track.npz written by the code before this change: no voice arrays, no info["audio"]."""
    old = LandmarkTrack.empty(4, info={"running_mode": "video"})
    path = tmp_path / "old.npz"
    arrays = {k: v for k, v in _fields(old).items() if isinstance(v, np.ndarray)}
    np.savez_compressed(path, **arrays, blendshape_names=np.array(old.blendshape_names),
                        region_flow_names=np.array(old.region_flow_names),
                        info_json=np.array(json.dumps(old.info)))  # fmt: skip
    with np.load(path) as z:
        assert "voice_t" not in z.files
    back = LandmarkTrack.load(path)
    assert not back.has_voice and back.voice_t is None and "audio" not in back.info


def test_track_voice_arrays_are_checked():
    base = _fields(LandmarkTrack.empty(3))
    with pytest.raises(ValueError, match="together"):
        LandmarkTrack(**{**base, "voice_t": np.arange(3) * 0.01})
    with pytest.raises(ValueError, match="one length"):
        LandmarkTrack(**{**base, "voice_t": np.arange(3) * 0.01, "voice_active": np.ones(2, bool)})
    with pytest.raises(ValueError, match="increasing"):
        LandmarkTrack(**{**base, "voice_t": np.zeros(3), "voice_active": np.ones(3, bool)})


@pytest.mark.slow
def test_track_video_fills_the_voice_arrays(model_path, tmp_path):
    from facetwitch.landmarks import track_video

    track = track_video(DATA / "lbax4n.mpg", model=model_path)
    assert track.found.mean() > 0.9
    assert track.has_voice and track.info["audio"]["codec"] == "mp2"
    assert track.info["audio"]["method"] == "harmonic"
    (onset, duration), = voiced_spans(track.voice_t, track.voice_active)  # fmt: skip
    (on, off), = LABELS["lbax4n.mpg"]["voiced"]  # fmt: skip
    assert on - 0.15 <= onset <= on + 0.02 and off - 0.02 <= onset + duration <= off + 0.25
    back = LandmarkTrack.load(track.save(tmp_path / "t.npz"))
    assert np.array_equal(back.voice_active, track.voice_active)
    # a file without sound: None, no warning
    mute = make_clip([f for f in np.full((6, 64, 64, 3), 90, np.uint8)], np.arange(6) / 25,
                     tmp_path / "mute.mp4")  # fmt: skip
    quiet = track_video(mute, model=model_path)
    assert not quiet.has_voice and quiet.info["audio"] is None


def test_sound_that_runs_on_past_the_picture_is_read_only_to_just_after_it(tmp_path):
    """A recorder left on: 3 s of picture, 40 s of voice.

    The voice after the picture ends was decoded to its end (three hours of it took 100 s) and
    counted nowhere. ``until_s`` stops at the first sound that starts after it; without it, all.
    """
    clip = _long_sound_clip(tmp_path)
    t_s, active, info = audio_voice(clip, until_s=4.0)
    assert 4.0 < info["cut_at_s"] < 4.2 and 4.0 <= info["duration_s"] < 4.2
    assert t_s[-1] < 4.2
    whole_t, whole_active, whole = audio_voice(clip)
    assert "cut_at_s" not in whole and whole["duration_s"] == pytest.approx(40.0, abs=0.05)
    # the same voice where both read it (the last half second aside: the detector's smoothing)
    n = np.searchsorted(t_s, 3.5)
    assert 0.3 < active[:n].mean() < 0.9
    assert np.array_equal(t_s[:n], whole_t[:n]) and np.array_equal(active[:n], whole_active[:n])


def _long_sound_clip(tmp_path):
    """Return 3 s of grey picture with 40 s of sound: a voice-like buzz, 0.6 s on, 0.6 s off."""
    rate = 16000
    t = np.arange(40 * rate) / rate
    x = np.where((t % 1.2) < 0.6, _buzz(t), 0.0)
    return make_av_clip(tmp_path / "long_sound.mkv", duration_s=3.0, audio=x,
                        audio_rate_hz=rate, audio_codec="pcm_s16le")  # fmt: skip


@pytest.mark.slow
def test_tracking_reads_the_sound_to_just_past_the_last_frame(model_path, tmp_path):
    from facetwitch.landmarks import track_video
    from facetwitch.landmarks.tracker import SOUND_PAST_PICTURE_S

    track = track_video(_long_sound_clip(tmp_path), model=model_path, workers=1)
    end = float(track.t[-1]) + SOUND_PAST_PICTURE_S
    assert end < track.info["audio"]["cut_at_s"] < end + 0.2
    assert track.voice_t[-1] < end + 0.2 and 0.3 < track.voice_active.mean() < 0.9


def _no_decoder_for_the_first_audio_track(src: Path, dst: Path) -> Path:
    """Copy the MP4 ``src`` to ``dst`` with its first audio track's codec made one FFmpeg lacks.

    Its sample entry renamed ``apac`` (an iPhone's spatial audio, Apple Positional Audio Codec,
    which FFmpeg does not decode) and its AAC configuration box renamed with it: FFmpeg then
    finds no decoder for that track, as for a real APAC one.
    """
    data = src.read_bytes()
    i = data.index(b"mp4a")
    j = data.index(b"esds", i)
    dst.write_bytes(data[:i] + b"apac" + data[i + 4 : j] + b"dapc" + data[j + 4 :])
    return dst


def test_sound_in_a_format_without_a_decoder_is_said_and_another_track_is_used(tmp_path):
    """An iPhone video with spatial audio: an APAC track, and a stereo AAC one beside it.

    The APAC track was chosen (FFmpeg's pick) and the sound read as unreadable, with the message
    "'NoneType' object has no attribute 'name'". Now the track that can be decoded is read; a
    file with no such track is said plainly and analysed without sound.
    """
    import av

    t = np.arange(3 * 48000) / 48000
    src = make_av_clip(tmp_path / "src.mp4", duration_s=3.0,
                       audio=np.where((t >= 1.0) & (t < 1.6), _buzz(t), 0.0))  # fmt: skip
    only = _no_decoder_for_the_first_audio_track(src, tmp_path / "apac.mp4")
    with pytest.warns(FacetwitchWarning, match=r"apac.mp4: its sound cannot be read \(its audio "
                      r"track is in a format FFmpeg here cannot decode, such as an iPhone's "
                      r"spatial audio\); analysed without it"):  # fmt: skip
        assert audio_voice(only) is None
    both = tmp_path / "both.mp4"
    with av.open(str(src)) as inp, av.open(str(both), "w") as dst:
        vs = dst.add_stream_from_template(inp.streams.video[0])
        spatial = dst.add_stream_from_template(inp.streams.audio[0])
        stereo = dst.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux():
            if packet.dts is None:
                continue
            if packet.stream.type == "audio":
                for stream in (spatial, stereo):
                    packet.stream = stream
                    dst.mux(packet)
            else:
                packet.stream = vs
                dst.mux(packet)
    both = _no_decoder_for_the_first_audio_track(both, tmp_path / "apac_and_aac.mp4")
    with av.open(str(both)) as probe:
        assert [s.codec_context is None for s in probe.streams.audio] == [True, False]
    t_s, active, info = audio_voice(both)
    assert info["stream_index"] == 2 and info["codec"] == "aac"
    ((onset, duration),) = voiced_spans(t_s, active)
    assert onset == pytest.approx(1.0, abs=0.15) and duration == pytest.approx(0.6, abs=0.3)


@pytest.mark.slow
def test_a_report_says_when_the_files_sound_could_not_be_read(model_path, tmp_path):
    import facetwitch
    from facetwitch.landmarks import track_video

    src = make_av_clip(tmp_path / "src.mp4", duration_s=3.0, audio=np.zeros(3 * 48000))
    only = _no_decoder_for_the_first_audio_track(src, tmp_path / "apac.mp4")
    with pytest.warns(FacetwitchWarning, match="its sound cannot be read"):
        track = track_video(only, model=model_path, workers=1)
    assert "in a format FFmpeg here cannot decode" in track.info["audio_unread"]
    warnings_ = facetwitch.analyze(track).report["quality"]["warnings"]
    (line,) = [w for w in warnings_ if "sound could not be read" in w]
    assert line.startswith("the file's sound could not be read (its audio track is in a format")
    assert line.endswith("talking is told from the moving mouth alone, as in a video without sound")
