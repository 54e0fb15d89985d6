"""The patient's words -> claims -> verdicts against a report (CONVENTIONS.md's complaint)."""

from __future__ import annotations

import copy

import pytest

from facetwitch.complaint import (
    Claim,
    complaint_check,
    complaint_from_flags,
    complaint_parse,
)

# The patient's question of ../shared/seed/consult.txt (a real consult, 2021/02/17).
SEED_QUESTION = """Hello Doctor, I have recently noticed that my upper lip has been twitching frequently.
It's not a shake, but rather a spasm similar to an eyelid twitch.
When I look in the mirror or when friends observe me closely, they can see that my upper lip is continuously twitching.
The movement is upwards and to the left.
It feels very numb, almost like a paralysis, and is quite uncomfortable.
This has been happening several times a day for the past few days, and I'm unsure if I should see a neurologist.
I apologize for taking up your valuable time.
Please take a moment to respond to me."""  # noqa: E501


def claimed(claims: list[Claim]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in claims:
        out.setdefault(c.aspect, []).append(c.claimed)
    return out


def twitch(i, region="upper_lip", side="left", deg=45.0, t=1.0, amp=1.5, dur=0.25, kind="twitch"):
    from facetwitch.conventions import direction_word

    return {
        "id": i,
        "kind": kind,
        "region": region,
        "side": side,
        "t_start_s": t - 0.1,
        "t_peak_s": t,
        "t_end_s": t - 0.1 + dur,
        "duration_s": dur,
        "amplitude_mm": amp,
        "direction_deg": deg,
        "direction": direction_word(deg),
        "co_occurring": [],
        "confidence": 0.9,
    }


def report_with(events, duration_s=62.0) -> dict:
    return {
        "schema_version": "1",
        "input": {"duration_s": duration_s, "mirrored": False},
        "quality": {},
        "events": events,
        "summary": {"by_region": []},
        "complaint": None,
    }


@pytest.fixture()
def lip_report():
    """9 twitches of the left upper lip moving up-left (~47 deg) in 62 s, plus a blink."""
    degs = [40, 52, 47, 58, 38, 49, 45, 43, 55]
    events = [twitch(i + 1, deg=d, t=3.0 + 6 * i) for i, d in enumerate(degs)]
    events.append(twitch(10, region="upper_eyelid", side="both", deg=270, kind="blink", t=2.0))
    return report_with(events)


# -- parsing --------------------------------------------------------------------------------
def test_seed_consult_parses_to_the_expected_claims():
    c = claimed(complaint_parse(SEED_QUESTION))
    assert c["region"] == ["upper_lip"]  # "similar to an eyelid twitch" is a comparison
    assert c["direction"] == ["up-left"]  # mirror: the mirror's left is the patient's left
    assert c["side"] == ["left"]
    assert c["frequency"] == ["several times a day"]
    assert c["sensation"] == ["numb"]  # "almost like a paralysis" is a simile, not weakness
    assert c["duration"] == ["for the past few days"]


def test_seed_side_is_inferred_from_the_direction_and_says_so():
    side = next(c for c in complaint_parse(SEED_QUESTION) if c.aspect == "side")
    assert side.inferred and "direction" in side.note
    direction = next(c for c in complaint_parse(SEED_QUESTION) if c.aspect == "direction")
    assert "mirror" in direction.note


@pytest.mark.parametrize(
    ("text", "side", "direction"),
    [
        ("In the mirror, my lip pulls to the left.", "left", "left"),
        (
            "When I look in the mirror the corner of my mouth jerks up and to the right.",
            "right",
            "up-right",
        ),
        ("My friend says my mouth moves to the right when it happens.", "left", "left"),
        ("In the video you can see the left corner of my mouth jump.", "right", None),
        ("On the screen the right side of the upper lip twitches upwards.", "left", "up"),
        ("My left lower eyelid twitches.", "left", None),
        ("My right cheek jerks upward and to the right.", "right", "up-right"),
        ("In the video, my own left cheek jumps.", "left", None),
    ],
)
def test_sides_and_directions_follow_the_frame_of_reference(text, side, direction):
    c = claimed(complaint_parse(text))
    assert c.get("side") == [side]
    assert c.get("direction") == ([direction] if direction else None)


def test_viewer_frame_carries_to_the_next_sentence():
    c = claimed(complaint_parse("My husband watched me closely. It pulls to the left."))
    assert c["direction"] == ["right"]


@pytest.mark.parametrize(
    ("text", "region", "also"),
    [
        ("my lower lip twitches", "lower_lip", ()),
        ("lower left lip twitching", "lower_lip", ()),
        ("my eyelid keeps jumping", "upper_eyelid", ("lower_eyelid",)),
        ("twitching under my right eye", "lower_eyelid", ()),
        ("the corner of my mouth twitches", "mouth_corner", ()),
        ("my eyebrow twitches", "brow", ()),
        ("my chin quivers", "chin", ()),
        ("my lip twitches", "upper_lip", ("lower_lip", "mouth_corner")),
    ],
)
def test_regions(text, region, also):
    regions = [c for c in complaint_parse(text) if c.aspect == "region"]
    assert [(r.claimed, r.also) for r in regions] == [(region, also)]


def test_both_sides():
    assert claimed(complaint_parse("Both eyes twitch at once."))["side"] == ["both"]


def test_sensations_negation_and_frequency_words():
    c = claimed(
        complaint_parse(
            "No pain, but a tingling feeling. It happens every few minutes "
            "and each twitch lasts a second."
        )
    )
    assert c["sensation"] == ["tingling"]
    assert c["frequency"] == ["every few minutes"]
    assert c["duration"] == ["lasts a second"]


def test_nothing_to_read_gives_no_claims():
    assert complaint_parse("") == []
    assert complaint_parse("Thank you for your time.") == []
    with pytest.raises(TypeError):
        complaint_parse(None)  # type: ignore[arg-type]


def test_flags_are_validated():
    claims = complaint_from_flags(region="upper_lip", side="left", direction="up-left")
    assert [(c.aspect, c.claimed) for c in claims] == [
        ("region", "upper_lip"),
        ("side", "left"),
        ("direction", "up-left"),
    ]
    with pytest.raises(ValueError, match="Allowed values are 'upper_lip'"):
        complaint_from_flags(region="lip")
    with pytest.raises(ValueError, match="'side'"):
        complaint_from_flags(side="viewer-left")
    with pytest.raises(ValueError, match="'direction'"):
        complaint_from_flags(direction="north")


# -- checking -------------------------------------------------------------------------------
def test_seed_claims_against_matching_measurements(lip_report):
    out = complaint_check(complaint_parse(SEED_QUESTION), lip_report, text=SEED_QUESTION)
    assert out["text"] == SEED_QUESTION
    rows = {r["aspect"]: r for r in out["claims"]}
    for r in out["claims"]:
        assert {"aspect", "claimed", "measured", "verdict"} <= r.keys()
    assert rows["region"] == {**rows["region"], "measured": "upper_lip", "verdict": "agrees"}
    assert rows["side"]["measured"] == "left" and rows["side"]["verdict"] == "agrees"
    assert rows["direction"]["measured"] == "up-left"
    assert rows["direction"]["verdict"] == "agrees"
    assert rows["frequency"]["measured"] == "9 in 62 s"
    assert rows["frequency"]["verdict"] == "agrees"
    assert rows["sensation"] == {
        **rows["sensation"],
        "claimed": "numb",
        "measured": None,
        "verdict": "not_measurable",
    }
    assert rows["duration"]["verdict"] == "not_measurable"


def test_differs_when_the_measurements_disagree(lip_report):
    claims = complaint_from_flags(region="upper_lip", side="right", direction="down-right")
    rows = {r["aspect"]: r for r in complaint_check(claims, lip_report)["claims"]}
    assert rows["region"]["verdict"] == "agrees"
    assert rows["side"] == {**rows["side"], "measured": "left", "verdict": "differs"}
    assert rows["direction"] == {**rows["direction"], "measured": "up-left", "verdict": "differs"}
    wrong_region = complaint_check(complaint_from_flags(region="brow"), lip_report)["claims"][0]
    assert wrong_region["measured"] == "upper_lip" and wrong_region["verdict"] == "differs"


def test_no_twitches_means_no_data(lip_report):
    empty = copy.deepcopy(lip_report)
    empty["events"] = [e for e in empty["events"] if e["kind"] != "twitch"]  # the blink stays
    claims = complaint_parse(
        "My left upper lip twitches up and to the left several times a day and feels numb."
    )
    rows = {r["aspect"]: r for r in complaint_check(claims, empty)["claims"]}
    assert rows["region"]["verdict"] == rows["side"]["verdict"] == "no_data"
    assert rows["direction"]["verdict"] == "no_data"
    assert rows["frequency"] == {**rows["frequency"], "measured": "0 in 62 s", "verdict": "no_data"}
    assert rows["sensation"]["verdict"] == "not_measurable"


def test_direction_tolerance():
    # measured 80 deg: "up" (90) agrees, "up-left" (45) agrees within one sector, "left" does not
    rep = report_with([twitch(i, deg=80.0, t=2.0 + i) for i in range(1, 4)])
    for word, verdict in (
        ("up", "agrees"),
        ("up-left", "agrees"),
        ("left", "differs"),
        ("down", "differs"),
    ):
        row = complaint_check(complaint_from_flags(direction=word), rep)["claims"][0]
        assert (row["measured"], row["verdict"]) == ("up", verdict), word


def test_scattered_directions_agree_only_when_most_twitches_moved_so():
    # one twitch up-right (120) and one to the left (6): their mean (63) is up-left, which only
    # one of them came near (within the 45 degrees a diagonal word allows)
    rep = report_with([twitch(1, deg=120.0, t=2.0), twitch(2, deg=6.0, t=5.0)])
    row = complaint_check(complaint_from_flags(direction="up-left"), rep)["claims"][0]
    assert (row["measured"], row["verdict"]) == ("up-left", "differs")
    assert row["detail"].endswith("; 1 of 2 moved that way")
    # two of three up-left and one the other way: most moved as claimed
    rep = report_with([twitch(i, deg=d, t=2.0 + i) for i, d in enumerate((40.0, 50.0, 200.0))])
    row = complaint_check(complaint_from_flags(direction="up-left"), rep)["claims"][0]
    assert (row["measured"], row["verdict"]) == ("up-left", "agrees")
    assert row["detail"].endswith("; 2 of 3 moved that way")


def test_explicit_rates():
    rep = report_with([twitch(i, t=2.0 + 5 * i) for i in range(12)], duration_s=60.0)  # 12/min
    for text, verdict in (
        ("it twitches 10 times a minute", "agrees"),
        ("about 1 time per minute", "differs"),
        ("constantly", "agrees"),
        ("once a day", "agrees"),
    ):
        row = complaint_check(complaint_parse(text), rep)["claims"][0]
        assert row["aspect"] == "frequency" and row["verdict"] == verdict, text
    quiet = report_with([], duration_s=60.0)
    row = complaint_check(complaint_parse("it twitches constantly"), quiet)["claims"][0]
    assert row["verdict"] == "differs"


def test_side_both_and_vague_region():
    rep = report_with(
        [
            twitch(1, region="lower_eyelid", side="left"),
            twitch(2, region="lower_eyelid", side="right", t=3.0),
        ]
    )
    rows = {
        r["aspect"]: r
        for r in complaint_check(complaint_parse("Both eyelids twitch"), rep)["claims"]
    }
    assert rows["region"] == {
        **rows["region"],
        "claimed": "upper_eyelid",
        "measured": "lower_eyelid",
        "verdict": "agrees",
    }
    assert rows["side"] == {**rows["side"], "measured": "both", "verdict": "agrees"}


def test_flags_text_defaults_to_the_claims():
    out = complaint_check(complaint_from_flags(region="upper_lip"), report_with([]))
    assert out["text"] == "region=upper_lip"


@pytest.mark.parametrize(("text", "flags", "regions", "sides"), [
    (SEED_QUESTION, None, ("upper_lip",), ("left",)),  # side from "upwards and to the left"
    ("my eyelid flickers", None, ("upper_eyelid", "lower_eyelid"), ("left", "right")),
    ("both of my eyelids twitch", None, ("upper_eyelid", "lower_eyelid"), ("left", "right")),
    ("it twitches several times a day", None, None, None),  # no place named: nothing to focus
    (None, {"region": "brow", "side": "right"}, ("brow",), ("right",)),
    ("my upper lip twitches on the left", {"side": "right"}, ("upper_lip",), ("right",)),
])  # fmt: skip
def test_the_sensitivity_test_is_focused_where_the_description_says(text, flags, regions, sides):
    """The complaint's region(s) and side(s) the focused sensitivity test moves (flags win)."""
    from facetwitch.analysis import _claims, complaint_focus

    focus = complaint_focus(_claims(text, flags))
    if regions is None:
        assert focus is None
    else:
        assert focus == {"regions": regions, "sides": sides}
