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
LABELS = sorted((BENCH / "labels").glob("*.json"))
DESCRIPTIONS = {"rest", "talking", "expression", "head_motion", "occlusion", "voiced"}


def _registry_names() -> set[str]:
    sys.path.insert(0, str(BENCH))
    try:
        import real_clips  # benchmarks/real_clips.py: the registry (no media needed)
    finally:
        sys.path.remove(str(BENCH))
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
