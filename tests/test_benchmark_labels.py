"""The real-footage benchmark's labels (benchmarks/labels/*.json) are well-formed.

They are hand-made annotations (MNE-style stretches, seconds) that benchmarks/real.py scores
against: a typo (a stretch past the clip's end, rest overlapping talking, an unknown
description, a clip the registry does not know) would silently change the figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
#: Not a clip's stretch labels: voice_grid.json is the VAD benchmark's hand-labelled voiced time
#: of the GRID clips (benchmarks/vad.py; another format, used by tests/test_voice.py).
OTHER_FILES = {"voice_grid.json"}
LABELS = sorted(p for p in (BENCH / "labels").glob("*.json") if p.name not in OTHER_FILES)
DESCRIPTIONS = {"rest", "talking", "expression", "head_motion", "occlusion", "voiced", "seam"}
MIXED = sorted((BENCH / "labels").glob("mixed_*.json"))


def _bench_module(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)  # benchmarks/<name>.py (no media needed)
    finally:
        sys.path.remove(str(BENCH))


def _registry_names() -> set[str]:
    real_clips = _bench_module("real_clips")  # the registry
    return {c.name: c for c in real_clips.clips_all()}


def test_every_label_file_is_for_a_registered_clip_and_names_its_original():
    clips = _registry_names()
    assert LABELS, "no label files"
    for p in LABELS:
        lab = json.loads(p.read_text())
        assert lab["clip"] == p.stem
        assert p.stem in clips, f"{p.name}: not a clip of benchmarks/real_clips.py"
        assert lab["original_sha256"] == clips[p.stem].sha256
        assert lab["labelled_by"] and lab["how"]


@pytest.mark.parametrize("path", LABELS, ids=[p.stem for p in LABELS])
def test_label_stretches_are_valid(path):
    lab = json.loads(path.read_text())
    ann = lab["annotations"]
    dur = lab["duration_s"]
    spans: dict[str, list[tuple[float, float]]] = {}
    for a in ann:
        assert a["description"] in DESCRIPTIONS, a
        assert a["onset_s"] >= 0 and a["duration_s"] > 0, a
        assert a["onset_s"] + a["duration_s"] <= dur + 0.05, (a, dur)
        spans.setdefault(a["description"], []).append(
            (a["onset_s"], a["onset_s"] + a["duration_s"])
        )
    assert [a["onset_s"] for a in ann] == sorted(a["onset_s"] for a in ann)
    for desc, ss in spans.items():  # one description's stretches never overlap
        ss = sorted(ss)
        for (_, b0), (a1, _) in zip(ss, ss[1:], strict=False):
            assert a1 >= b0 - 1e-6, (desc, ss)
    for r0, r1 in spans.get("rest", []):  # rest is none of the face states
        for desc in ("talking", "expression", "head_motion", "occlusion"):
            for a, b in spans.get(desc, []):
                assert b <= r0 + 1e-6 or a >= r1 - 1e-6, (path.stem, "rest", desc, (r0, r1))
    if "voiced" in spans:
        assert "voiced_rule" in lab and lab["voiced_how"]


# -- the mixed talk + rest clips (benchmarks/mixed_clips.py): derived labels -------------------
def test_every_mixed_recipe_has_its_labels():
    mixed_clips = _bench_module("mixed_clips")
    assert sorted(p.stem for p in MIXED) == sorted(mixed_clips.RECIPES)


@pytest.mark.parametrize("path", MIXED, ids=[p.stem for p in MIXED])
def test_mixed_labels_follow_their_stretches(path):
    mixed_clips = _bench_module("mixed_clips")
    lab = json.loads(path.read_text())
    name = path.stem
    recipe = mixed_clips.RECIPES[name]
    st = lab["stretches"]
    # the stretches are the recipe's, in order: the source frames from..to, forward
    assert [(s["clip"], s["kind"]) for s in st] == [(c, k) for c, _, _, k in recipe]
    for s, (_, a, b, _) in zip(st, recipe, strict=True):
        assert a - 1e-6 <= s["from_s"] < a + 0.1, (s, a)
        assert b - 0.1 < s["to_s"] <= b + 0.1, (s, b)
        assert s["duration_s"] == pytest.approx(s["to_s"] - s["from_s"], abs=2e-3)
    # never the same source stretch twice in one clip
    assert len({(c, a) for c, a, _, _ in recipe}) == len(recipe)
    # stretches and seams tile the clip: a seam of SEAM_S between every two stretches
    assert st[0]["onset_s"] == 0
    for s0, s1 in zip(st, st[1:], strict=False):
        gap = s1["onset_s"] - (s0["onset_s"] + s0["duration_s"])
        assert gap == pytest.approx(mixed_clips.SEAM_S, abs=2e-3)
    assert st[-1]["onset_s"] + st[-1]["duration_s"] == pytest.approx(lab["duration_s"], abs=1e-3)
    seams = [(a["onset_s"], a["onset_s"] + a["duration_s"]) for a in lab["annotations"]
             if a["description"] == "seam"]  # fmt: skip
    assert seams == [
        (pytest.approx(s0["onset_s"] + s0["duration_s"], abs=1e-3),
         pytest.approx(s1["onset_s"], abs=1e-3)) for s0, s1 in zip(st, st[1:], strict=False)
    ]  # fmt: skip
    # every other annotation lies inside one stretch (nothing labelled across a seam)
    spans = [(s["onset_s"], s["onset_s"] + s["duration_s"]) for s in st]
    for a in lab["annotations"]:
        if a["description"] == "seam":
            continue
        x, y = a["onset_s"], a["onset_s"] + a["duration_s"]
        assert any(s0 - 1e-3 <= x and y <= s1 + 1e-3 for s0, s1 in spans), (name, a)
    # voiced time (label and rule) only inside talking stretches, and every talking stretch
    # has some (they were chosen for their speech)
    talk = [(s["onset_s"], s["onset_s"] + s["duration_s"]) for s in st if s["kind"] == "talk"]
    voiced = [(a["onset_s"], a["onset_s"] + a["duration_s"]) for a in lab["annotations"]
              if a["description"] == "voiced"] + lab["voiced_rule"]["spans"]  # fmt: skip
    for x, y in voiced:
        assert any(s0 - 1e-3 <= x and y <= s1 + 1e-3 for s0, s1 in talk), (name, x, y)
    for s0, s1 in talk:
        assert any(s0 <= x < s1 for x, _ in voiced), (name, s0)
    # rest stretches are labelled rest throughout
    for s in st:
        if s["kind"] == "rest":
            a, b = s["onset_s"], s["onset_s"] + s["duration_s"]
            rest = sum(min(b, r["onset_s"] + r["duration_s"]) - max(a, r["onset_s"])
                       for r in lab["annotations"] if r["description"] == "rest"
                       and r["onset_s"] < b and r["onset_s"] + r["duration_s"] > a)  # fmt: skip
            assert rest == pytest.approx(b - a, abs=2e-3), (name, s)
    # derived exactly from the source clips' labels (nothing hand-made here)
    assert lab == json.loads(json.dumps(
        mixed_clips.labels_derive(name, st, lab["duration_s"])))  # fmt: skip
    # a mixed recording: 40-90 s, about a quarter of the face time talking
    face = sum(s["duration_s"] for s in st)
    talking = sum(a["duration_s"] for a in lab["annotations"] if a["description"] == "talking")
    assert 40 <= lab["duration_s"] <= 90
    assert 0.2 <= talking / face <= 0.3, talking / face


def test_mixed_held_out_clips_keep_the_held_out_talkers_apart():
    mixed_clips = _bench_module("mixed_clips")
    held_talk = {c for c, _ in mixed_clips.TALK_HELD}
    held_real = held_talk | set(mixed_clips.REST_HELD)
    assert len(mixed_clips.HELD_OUT) == 2
    for name, recipe in mixed_clips.RECIPES.items():
        clips = {c for c, _, _, _ in recipe}
        talkers = {c for c, _, _, k in recipe if k == "talk"}
        if name in mixed_clips.HELD_OUT:
            assert talkers <= held_talk, name
        else:
            assert not clips & held_real, name
