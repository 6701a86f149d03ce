"""cnnviz.lessons: exercises are reproducible from (kind, level, seed), answers are checked, each slip is named,
bad input gets a message, the worked solution has the exercise's numbers, the level adapts."""

from __future__ import annotations

import re

import pytest

from cnnviz import messages
from cnnviz.lessons import checking, exercises as ex, solutions
from cnnviz.lessons.progress import Progress
from cnnviz.messages import MessageError

CHEAP = [k for k in ex.KINDS if k != "lecture_model"]  # the lecture model's kind builds it in Keras once


def find(kind: str, level: int, wanted) -> ex.Exercise:
    """The first exercise of this kind and level whose settings satisfy `wanted`."""
    for seed in range(ex.MAX_SEED + 1):
        e = ex.make(kind, level, seed)
        if wanted(e):
            return e
    raise AssertionError("no such exercise")  # pragma: no cover


def reasons(e: ex.Exercise, answer) -> list[str]:
    verdict = checking.check(e, answer)
    assert not verdict.correct
    for reason in verdict.reasons:  # every slip reads in Korean too
        assert re.search("[가-힣]", messages.text(reason, "ko")), reason.key
    return [r.key for r in verdict.reasons]


@pytest.mark.parametrize("kind", CHEAP)
def test_the_same_three_numbers_give_the_same_exercise(kind):
    for level in ex.LEVELS:
        a, b = ex.make(kind, level, 42), ex.make(kind, level, 42)
        assert a.truth == b.truth and a.id == b.id == f"{kind}.{level}.42"
        assert repr(a.settings) == repr(b.settings)
        others = {repr(ex.make(kind, level, seed).settings) for seed in range(20)}
        assert len(others) > 5, "different numbers give different exercises"


@pytest.mark.parametrize("kind", CHEAP)
def test_the_right_answer_is_right_and_a_wrong_one_is_wrong(kind):
    for level in ex.LEVELS:
        e = ex.make(kind, level, 3)
        assert checking.check(e, e.truth).correct
        if kind == "kernel":
            wrong = [next(o for o in e.options if o != e.truth[0])]
        else:
            wrong = [e.truth[0] + 1, *e.truth[1:]]
        verdict = checking.check(e, wrong)
        assert not verdict.correct and verdict.wrong == (0,)


def test_bad_exercise_numbers_are_refused():
    for call, key in ((lambda: ex.make("volume", 1, 1), "practice.msg.kind"),
                      (lambda: ex.make("shape", 4, 1), "practice.msg.level"),
                      (lambda: ex.make("shape", True, 1), "practice.msg.level"),
                      (lambda: ex.make("shape", 1, -1), "practice.msg.seed"),
                      (lambda: ex.make("shape", 1, ex.MAX_SEED + 1), "practice.msg.seed"),
                      (lambda: ex.make("shape", 1, "7"), "practice.msg.seed")):
        with pytest.raises(MessageError) as caught:
            call()
        assert caught.value.key == key


@pytest.mark.parametrize("answer, key", [
    ([None, 3, 4], "practice.msg.empty"), (["", 3, 4], "practice.msg.empty"), (["abc", 3, 4], "practice.msg.number"),
    (["nan", 3, 4], "practice.msg.number"), ([float("inf"), 3, 4], "practice.msg.number"),
    ([10**12, 3, 4], "practice.msg.huge"), ([-1, 3, 4], "practice.msg.negative"), ([2.5, 3, 4], "practice.msg.whole"),
    ([1, 2], "practice.msg.count"), ([object(), 3, 4], "practice.msg.number")])
def test_bad_answers_get_a_message(answer, key):
    with pytest.raises(MessageError) as caught:
        checking.check(ex.make("shape", 1, 1), answer)
    assert caught.value.key == key
    assert re.search("[가-힣]", caught.value.text("ko"))


def test_typed_text_numbers_are_read_and_a_kernel_must_be_one_of_the_choices():
    e = ex.make("params", 3, 5)
    assert checking.check(e, [f"{e.truth[0]:,}"]).correct  # "1,024" as people write it
    k = ex.make("kernel", 1, 1)
    with pytest.raises(MessageError) as caught:
        checking.check(k, ["laplacian"])
    assert caught.value.key == "practice.msg.choice"


def test_averages_are_answered_to_two_decimals():
    e = find("pool", 2, lambda e: e.settings["kind"] == "average" and any(v != round(v, 2) for v in e.truth))
    assert checking.check(e, [round(v, 2) for v in e.truth]).correct
    assert not checking.check(e, [round(v, 2) + 0.01 for v in e.truth]).correct


def test_shape_slips_are_named():
    e = find("shape", 2, lambda e: e.settings["padding"] == "valid" and e.settings["h"] != e.settings["w"])
    s, (oh, ow, f) = e.settings, e.truth
    assert reasons(e, ex.conv_shape(s, stride=1)) == ["practice.why.stride"]
    assert "practice.why.padding" in reasons(e, ex.conv_shape(s, padding="same"))
    assert reasons(e, (oh, ow, s["c"])) == ["practice.why.channels"] or s["c"] == f
    assert reasons(e, (oh - 1, ow - 1, f)) == ["practice.why.plus_one"]
    assert reasons(e, (ow, oh, f)) == ["practice.why.swapped"] or oh == ow
    def rounds_up(e):  # rounding up gives another number than 'same' padding would (which is named first)
        s = e.settings
        return s["padding"] == "valid" and -(-(s["h"] - s["kernel"][0]) // s["stride"]) + 1 != -(-s["h"] // s["stride"])

    e = find("shape", 2, lambda e: rounds_up(e) and (e.settings["h"] - e.settings["kernel"][0]) % e.settings["stride"])
    ceil = -(-(e.settings["h"] - e.settings["kernel"][0]) // e.settings["stride"]) + 1
    assert "practice.why.floor" in reasons(e, (ceil, *e.truth[1:]))
    e = find("shape", 3, lambda e: e.settings["dilation"] > 1)
    assert reasons(e, ex.conv_shape(e.settings, dilation=1))[0] == "practice.why.dilation"


def test_params_slips_are_named():
    e = ex.make("params", 2, 1)
    s, (n,) = e.settings, e.truth
    assert reasons(e, [n - s["f"]]) == ["practice.why.bias"]
    assert reasons(e, [(s["kernel"][0] * s["kernel"][1] + 1) * s["f"]]) == ["practice.why.in_channels"]


def test_same_split_slips_are_named():
    e = find("same_split", 2, lambda e: e.truth[0] != e.truth[1])
    top, bottom, left, right = e.truth
    assert reasons(e, (bottom, top, right, left)) == ["practice.why.extra_after"]
    e = find("same_split", 2, lambda e: ex.same_split(e.settings, stride=1)[:2] != e.truth[:2]
             and ex.same_split(e.settings, stride=1)[:2] != (e.truth[1], e.truth[0]))
    assert "practice.why.same_stride" in reasons(e, ex.same_split(e.settings, stride=1))
    e = find("same_split", 3, lambda e: e.settings["dilation"] > 1 and sum(e.truth) > 0)
    assert "practice.why.dilation" in reasons(e, ex.same_split(e.settings, dilation=1))


def test_conv_value_slips_are_named():
    e = find("conv_value", 2, lambda e: e.settings["bias"] != 0 and e.settings["stride"] == 2
             and e.settings["position"] != (0, 0) and e.truth[0] < 0)
    s, (v,) = e.settings, e.truth
    assert reasons(e, [v - s["bias"]])[0] == "practice.why.no_bias"
    flipped = ex.conv_value(s, k=s["k"][::-1, ::-1])
    if flipped != v:
        assert reasons(e, [flipped])[0] == "practice.why.flipped"
    moved = ex.conv_value(s, stride=1)
    if moved not in (v, v - s["bias"], flipped):
        assert reasons(e, [moved])[0] == "practice.why.stride_window"
    assert "practice.why.relu" in reasons(e, [0])
    e = find("conv_value", 3, lambda e: e.settings["position"] == (1, 1) and e.settings["stride"] == 1
             and len({ex.conv_value(e.settings, padding="valid"), e.truth[0], e.truth[0] - e.settings["bias"]}) == 3)
    assert "practice.why.window_padding" in reasons(e, [ex.conv_value(e.settings, padding="valid")])


def test_pool_slips_are_named():
    e = find("pool", 2, lambda e: e.settings["kind"] == "max")
    assert reasons(e, tuple(ex.pooled(e.settings, kind="min").ravel())) == ["practice.why.pool_kind"]
    e = find("pool", 3, lambda e: e.settings["kind"] == "average" and e.settings["padding"] == "same")
    counted = [float(v) for v in e.truth]
    counted[-1] = e.truth[-1] / 4  # the bottom-right window has one real cell: divided by 4 instead of 1
    assert reasons(e, counted) == ["practice.why.pool_padding"]


def test_receptive_field_slips_are_named():
    e = find("receptive_field", 2, lambda e: True)
    layers = e.settings["layers"]
    assert reasons(e, [ex.receptive_field(layers, ignore="stride")]) == ["practice.why.jump"]
    assert reasons(e, [sum(k for _, k, _, _ in layers)]) == ["practice.why.kernel_minus_one"]
    e = find("receptive_field", 3, lambda e: any(d > 1 for *_, d in e.settings["layers"])
             and ex.receptive_field(e.settings["layers"], "dilation") != ex.receptive_field(e.settings["layers"], "stride"))
    assert reasons(e, [ex.receptive_field(e.settings["layers"], ignore="dilation")]) == ["practice.why.dilation_rf"]


def test_a_wrong_kernel_is_told_what_the_right_one_does():
    for name in ex.KERNEL_CHOICES[3]:
        e = find("kernel", 3, lambda e: e.truth[0] == name)
        other = next(o for o in e.options if o != name)
        verdict = checking.check(e, [other])
        assert [r.key for r in verdict.reasons] == ["practice.why.kernel"]
        assert verdict.reasons[0].values["hint"].key == f"practice.hint.{name}"
        assert re.search("[가-힣]", messages.text(verdict.reasons[0], "ko"))


def test_lecture_model_slips_are_named_row_by_row():
    e = ex.make("lecture_model", 3, 11)
    t = list(e.truth)
    h, w, c = e.settings["h"], e.settings["w"], e.settings["c"]
    same = [h, w, 12] + t[3:]
    assert reasons(e, same)[0] == "practice.why.padding"
    carried = list(t)
    carried[0] = t[0] + 2  # conv1 wrong, pool1 worked out from it
    carried[3] = carried[0] // 2
    assert reasons(e, carried) == ["practice.why.carried"] or carried[3] == t[3]
    channels = list(t)
    channels[2] = c
    assert reasons(e, channels) == ["practice.why.channels"] or c == 12
    stride1 = list(t)
    stride1[3], stride1[4] = t[0] - 1, t[1] - 1
    assert reasons(e, stride1) == ["practice.why.stride"]
    pool_channels = list(t)
    pool_channels[5] = 7
    assert reasons(e, pool_channels) == ["practice.why.pool_channels"]
    flatten = list(t)
    flatten[-1] = t[-1] + 1
    assert reasons(e, flatten) == ["practice.why.flatten"]
    e = find("lecture_model", 2, lambda e: e.truth[0] % 2)
    up = list(e.truth)
    up[3] = (e.truth[0] + 1) // 2
    assert reasons(e, up) == ["practice.why.pool_floor"]
    assert reasons(e, [e.truth[0] - 1, e.truth[1] - 1, *e.truth[2:]]) == ["practice.why.plus_one"]


@pytest.mark.parametrize("kind", ex.KINDS)
def test_the_worked_solution_has_the_exercises_numbers(kind):
    for level in ex.LEVELS:
        e = ex.make(kind, level, 8)
        steps = solutions.solution(e)
        latex = " ".join(step for what, step in steps if what == "latex")
        texts = [step for what, step in steps if what == "text"]
        assert all(what in ("latex", "text") for what, _ in steps)
        for message in texts:
            assert re.search("[가-힣]", messages.text(message, "ko"))
        if kind == "kernel":
            assert "bmatrix" in latex and texts
            continue
        last = e.truth[0] if kind == "shape" else e.truth[-1]  # a shape's channels are said in words
        shown = f"{last:.4g}" if isinstance(last, float) else str(last)
        assert shown in latex.replace("{,}", ""), (e.id, latex)
        if kind == "shape":
            assert str(e.settings["h"]) in latex and str(e.settings["stride"]) in latex


def test_score_streak_and_the_next_level():
    p = Progress()
    assert p.level == 1
    p = p.record("a", 1, True)
    assert (p.answered, p.right, p.streak, p.level) == (1, 1, 1, 1)
    assert p.record("a", 1, False) is p  # counted once
    p = p.record("b", 1, True)
    assert (p.streak, p.best, p.level) == (2, 2, 2)  # two in a row: up
    p = p.record("c", 2, True).record("d", 2, True)
    assert p.level == 3
    p = p.record("e", 3, True).record("f", 3, True)
    assert p.level == 3 and p.best == 6  # never above 3
    p = p.record("g", 3, False)
    assert (p.streak, p.misses, p.level, p.best) == (0, 1, 3, 6)
    p = p.record("h", 3, False)
    assert p.level == 2  # two wrong in a row: down
    p = p.record("i", 1, False).record("j", 1, False)
    assert p.level == 1 and (p.answered, p.right) == (10, 6)


def test_average_pooling_solution_divides_by_the_real_cells():
    e = find("pool", 3, lambda e: e.settings["kind"] == "average" and e.settings["padding"] == "same")
    latex = " ".join(step for what, step in solutions.solution(e) if what == "latex")
    assert r"\frac" in latex and "}{1} = " in latex  # the corner window holds one real cell
    assert f"{e.truth[0]:.4g}" in latex


def test_lecture_model_rows_that_follow_from_a_wrong_row_or_cannot_be_worked_out():
    e = ex.make("lecture_model", 3, 4)
    t = list(e.truth)
    carried = list(t)
    carried[-4:-1] = [t[-4] + 1, t[-3], t[-2]]  # pool3 wrong, flatten multiplied out from it
    carried[-1] = carried[-4] * carried[-3] * carried[-2]
    assert reasons(e, carried) == ["practice.why.carried"]
    nothing = [0, 0, 12, *t[3:6], *t[6:]]  # conv1 0 x 0: pool1 cannot follow from it, only conv1 is wrong
    verdict = checking.check(e, nothing)
    assert verdict.wrong == (0, 1)
