"""Sound with known voiced time for the voice-activity benchmark (``benchmarks/vad.py``).

Each clip is 60 s of 16 kHz mono: six English sentences spoken by espeak-ng (Debian package
``espeak-ng``; several voices and speeds) at known times, with sounds between them that must
*not* be called voiced (breathing-like noise bursts, keyboard-like click trains, a door-like
thump: all synthesised here), in a steady room-like noise (white, pink, brown, or a fan: a
mains-like hum with harmonics over low-passed noise; no music, no babble) at a known
speech-to-noise ratio: 10 log10(speech power while speaking / noise power) = 20, 10, 5, 0 dB,
or ``clean`` (noise 50 dB under the speech).

Files, in ``<work>/vad/`` (``<work>`` = ``$FACETWITCH_BENCH``, else
``~/.cache/facetwitch/bench``): ``<noise>_<snr>.wav`` and, beside each, ``<noise>_<snr>.json``
with the truth: ``speech`` (the sentences' spans, from the first to the last sample above
-45 dB of the sentence's peak, in seconds) and ``events`` (each non-speech sound's span and
kind). The same seed gives the same sentences, times and events at every noise and SNR. An
existing file is reused.

Usage: ``python benchmarks/vad_clips.py [--work DIR]`` prints the paths.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from scipy import signal as sps
from scipy.io import wavfile

RATE = 16000
DURATION_S = 60.0
NOISES = ("white", "pink", "brown", "fan")
SNRS = ("clean", 20, 10, 5, 0)
#: Harvard sentences (IEEE 1969 recommended practice; public domain).
SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
)
VOICES = ("en-us", "en-us+f3", "en-gb", "en+f4", "en-us+m3", "en-gb-x-rp+f2")
SPEECH_DBFS = -20.0  # speech RMS while speaking


def _espeak(text: str, voice: str, speed: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)  # fmt: skip
        rate, x = wavfile.read(wav)
    x = x.astype(float) / 32768.0
    x = sps.resample_poly(x, RATE, rate)
    env = np.abs(x)
    above = np.flatnonzero(env > env.max() * 10 ** (-45 / 20))
    return x[above[0] : above[-1] + 1]


def _colored(rng, n: int, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    spec *= f ** (-exponent / 2)
    spec[f < 20] = 0
    x = np.fft.irfft(spec, n)
    return x / np.sqrt(np.mean(x**2))


def _fan(rng, n: int) -> np.ndarray:
    """Return a fan or air conditioner.

    50 Hz mains hum and harmonics (slowly wobbling) plus low-passed broadband air noise; unit RMS.
    """
    t = np.arange(n) / RATE
    wobble = 0.3 * np.sin(2 * np.pi * 0.13 * t)
    hum = sum((0.7**k) * np.sin(2 * np.pi * (50 * k) * (t + wobble / (50 * k * 20)) + k)
              for k in range(1, 12))  # fmt: skip
    air = _colored(rng, n, 1.5)
    x = 0.6 * hum / np.sqrt(np.mean(hum**2)) + air
    return x / np.sqrt(np.mean(x**2))


def _breath(rng, dur_s: float) -> np.ndarray:
    """Breathing-like.

    Band-passed noise (0.4-3 kHz, a formant-like bump) under a slow rise-and-fall envelope.
    """
    n = int(dur_s * RATE)
    b, a = sps.butter(2, [400, 3000], btype="band", fs=RATE)
    x = sps.lfilter(b, a, rng.standard_normal(n))
    b2, a2 = sps.iirpeak(1200 + 600 * rng.random(), 3, fs=RATE)
    x = x + 0.7 * sps.lfilter(b2, a2, rng.standard_normal(n))
    env = np.sin(np.linspace(0, np.pi, n)) ** 1.5
    return x * env


def _clicks(rng, dur_s: float) -> np.ndarray:
    """Keyboard-like.

    A train of 5 ms decaying noise bursts with a 2-4 kHz resonance, 6-10 keys a second at uneven
    intervals.
    """
    n = int(dur_s * RATE)
    x = np.zeros(n)
    t = 0.0
    while t < dur_s - 0.02:
        k = int(t * RATE)
        m = int(0.006 * RATE)
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.0012 * RATE))
        b, a = sps.iirpeak(2000 + 2000 * rng.random(), 4, fs=RATE)
        burst = sps.lfilter(b, a, burst) * (0.5 + rng.random())
        x[k : k + m] += burst[: n - k]
        t += 1 / (6 + 4 * rng.random())
    return x


def _thump(rng, dur_s: float = 0.4) -> np.ndarray:
    """Door-like: a 50-90 Hz damped resonance with a short broadband knock at its start."""
    n = int(dur_s * RATE)
    t = np.arange(n) / RATE
    f0 = 50 + 40 * rng.random()
    body = np.sin(2 * np.pi * f0 * t) * np.exp(-t / 0.07)
    body += 0.5 * np.sin(2 * np.pi * 2.7 * f0 * t) * np.exp(-t / 0.03)
    knock = rng.standard_normal(n) * np.exp(-t / 0.004)
    return body + 0.6 * knock


def plan_make(seed: int = 0) -> dict:
    """Sentences, voices, times and non-speech events of a 60 s clip (no noise yet)."""
    rng = np.random.default_rng(seed)
    speech = np.zeros(int(DURATION_S * RATE))
    order = rng.permutation(len(SENTENCES))[:6]
    spans, t = [], 1.5 + 2 * rng.random()
    for i, k in enumerate(order):
        voice = VOICES[i % len(VOICES)]
        s = _espeak(SENTENCES[k], voice, int(rng.integers(130, 190)))
        s = s / np.sqrt(np.mean(s**2)) * 10 ** (SPEECH_DBFS / 20)
        a = int(t * RATE)
        speech[a : a + len(s)] += s
        spans.append({"onset_s": round(a / RATE, 4), "duration_s": round(len(s) / RATE, 4),
                      "text": SENTENCES[k], "voice": voice})  # fmt: skip
        t += len(s) / RATE + 4.5 + 3 * rng.random()
    events = []
    sound = np.zeros_like(speech)
    kinds = ("breath", "clicks", "thump", "breath", "clicks", "thump")
    for i, (a, b) in enumerate(zip(spans[:-1], spans[1:], strict=True)):
        gap0 = a["onset_s"] + a["duration_s"] + 0.8
        gap1 = b["onset_s"] - 0.8
        kind = kinds[i % len(kinds)]
        dur = {"breath": 0.6 + 0.6 * rng.random(), "clicks": 1.0 + 1.0 * rng.random(),
               "thump": 0.4}[kind]  # fmt: skip
        if gap1 - gap0 < dur:
            continue
        t0 = gap0 + (gap1 - gap0 - dur) * rng.random()
        x = {"breath": _breath, "clicks": _clicks, "thump": _thump}[kind](rng, dur)
        # levels: breath 12 dB under speech (RMS), clicks and thump peaking near speech peaks
        if kind == "breath":
            x = x / np.sqrt(np.mean(x**2)) * 10 ** ((SPEECH_DBFS - 12) / 20)
        else:
            x = x / np.max(np.abs(x)) * 10 ** ((SPEECH_DBFS + 12) / 20)
        k = int(t0 * RATE)
        sound[k : k + len(x)] += x
        events.append({"onset_s": round(k / RATE, 4), "duration_s": round(len(x) / RATE, 4),
                       "kind": kind})  # fmt: skip
    # the last gap after the last sentence: another breath
    end = spans[-1]["onset_s"] + spans[-1]["duration_s"]
    if DURATION_S - end > 2.5:
        x = _breath(rng, 0.9)
        x = x / np.sqrt(np.mean(x**2)) * 10 ** ((SPEECH_DBFS - 12) / 20)
        k = int((end + 1.0) * RATE)
        sound[k : k + len(x)] += x
        events.append({"onset_s": round(k / RATE, 4), "duration_s": round(len(x) / RATE, 4),
                       "kind": "breath"})  # fmt: skip
    return {"speech": speech, "sound": sound, "spans": spans, "events": events, "seed": seed}


def clip_make(plan: dict, noise: str, snr, work: Path) -> Path:
    """Write ``<noise>_<snr>.wav`` (and its truth) from ``plan``; reuse an existing one."""
    out = work / f"{noise}_{snr}.wav"
    truth_path = out.with_suffix(".json")
    if out.exists() and truth_path.exists():
        return out
    rng = np.random.default_rng(1000 + plan["seed"] + NOISES.index(noise))
    n = len(plan["speech"])
    nz = {"white": lambda: _colored(rng, n, 0.0), "pink": lambda: _colored(rng, n, 1.0),
          "brown": lambda: _colored(rng, n, 2.0), "fan": lambda: _fan(rng, n)}[noise]()  # fmt: skip
    snr_db = 50.0 if snr == "clean" else float(snr)
    nz = nz * 10 ** ((SPEECH_DBFS - snr_db) / 20)
    x = plan["speech"] + plan["sound"] + nz
    peak = np.max(np.abs(x))
    gain = min(1.0, 0.95 / peak)
    pcm = np.round(x * gain * 32767).astype(np.int16)
    work.mkdir(parents=True, exist_ok=True)
    wavfile.write(out, RATE, pcm)
    truth = {
        "rate_hz": RATE, "noise": noise, "snr_db": snr, "gain": gain,
        "speech": plan["spans"], "events": plan["events"],
        "definition": "speech spans: each sentence from its first to its last sample above "
                      "-45 dB of its peak; SNR: speech power while speaking / noise power",
    }  # fmt: skip
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    return out


def vad_clips(work: Path, seed: int = 0) -> list[Path]:
    """Make (or reuse) every noise x SNR clip in ``work``."""
    plan = None
    out = []
    for noise in NOISES:
        for snr in SNRS:
            path = work / f"{noise}_{snr}.wav"
            if not (path.exists() and path.with_suffix(".json").exists()):
                plan = plan or plan_make(seed)
            out.append(clip_make(plan, noise, snr, work) if plan else path)
    return out


def default_work() -> Path:
    bench = os.environ.get("FACETWITCH_BENCH", Path.home() / ".cache" / "facetwitch" / "bench")
    return Path(bench) / "vad"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=default_work())
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for clip in vad_clips(args.work, args.seed):
        print(clip)


if __name__ == "__main__":
    main()
