"""The Practice page under AppTest: every kind and level answered wrong then right, bad input, a link that
reopens the same exercise in a fresh session, the next exercise's level, the links to the pages that show
an exercise live."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lessons import exercises as ex
from tests.app.conftest import APP, no_exception, open_app


def fill(at: AppTest, e: ex.Exercise, values) -> AppTest:
    """Type `values` into the exercise's boxes (or pick the kernel) and press Check."""
    if e.kind == "kernel":
        at.radio(key=f"practice.a.{e.id}.0").set_value(values[0])
    else:
        for i, value in enumerate(values):
            at.number_input(key=f"practice.a.{e.id}.{i}").set_value(value)
    check(at, e)
    return at


def check(at: AppTest, e: ex.Exercise) -> None:
    """Press the exercise's Check button (its key holds its label, in the session's language)."""
    next(b for b in at.button if b.form_id == f"practice.form.{e.id}").click().run()
    no_exception(at)


def wrong_answer(e: ex.Exercise) -> list:
    if e.kind == "kernel":
        return [next(o for o in e.options if o != e.truth[0])]
    return [round(e.truth[0], 2) + 1, *[round(v, 2) for v in e.truth[1:]]]


@pytest.mark.parametrize("kind", ex.KINDS)
def test_every_kind_and_level_answered_wrong_then_right(kind):
    at = open_app("practice", **{"practice.kind": kind, "practice.seed": 7})
    no_exception(at)
    for level in ex.LEVELS:
        if level > 1:
            at.radio(key="practice.level.w").set_value(level).run()
        e = ex.make(kind, level, 7)
        assert at.subheader[0].value == f"Exercise 7, level {level}"
        fill(at, e, wrong_answer(e))
        assert not at.success and at.error[0].value.startswith("Not quite: 1 of")
        assert at.latex or kind == "kernel" and at.markdown, "the worked solution is shown"
        table = at.dataframe[0].value
        assert table.iloc[0, 1].startswith("✗") and all(v.startswith("✓") for v in table.iloc[1:, 1])
        fill(at, e, [v if isinstance(v, str) else round(v, 2) for v in e.truth])
        assert at.success[0].value == "Right: that is what Keras computes." and not at.error
    metrics = [m.value for m in at.metric]
    assert metrics[0] == "0 / 3", "each exercise counted once, at its first check"


def test_bad_answers_get_a_message_not_a_traceback():
    at = open_app("practice", **{"practice.kind": "shape", "practice.level": 1, "practice.seed": 3})
    e = ex.make("shape", 1, 3)
    check(at, e)
    assert "3 box(es) are still empty" in at.error[0].value
    fill(at, e, [-4, 2, 3])
    assert "-4 is negative" in at.error[0].value
    fill(at, e, [10**12, 2, 3])
    assert "too large" in at.error[0].value
    assert [m.value for m in at.metric][0] == "0 / 0", "bad input is not counted"


def test_korean_page_names_the_slip_in_korean(monkeypatch):
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from cnnviz.ui import state

    inside = state.lang  # AppTest formats select boxes outside a run, where the session's language is not readable
    monkeypatch.setattr(state, "lang", lambda: inside() if get_script_run_ctx() is not None else "ko")
    at = open_app("practice", lang="ko", **{"practice.kind": "params", "practice.level": 2, "practice.seed": 1})
    e = ex.make("params", 2, 1)
    fill(at, e, [e.truth[0] - e.settings["f"]])
    assert at.title[0].value == "연습 문제"
    assert "편향을 빠뜨렸습니다" in at.error[0].value


def _fresh(params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/practice.py")
    at.run()
    no_exception(at)
    return at


def test_a_link_reopens_the_same_exercise_in_a_fresh_session():
    at = open_app("practice", **{"practice.kind": "conv_value", "practice.level": 3, "practice.seed": 42})
    at.run()  # the bound widgets' values reach the URL with the run after the one that showed them
    link = dict(at.query_params)
    assert link == {"practice.kind.w": "One output value of a convolution", "practice.level.w": "3",
                    "practice.seed.w": "42"}
    assert any("practice.seed.w=42" in c.value for c in at.code), "the share box holds the link"
    first, second = _fresh(link), _fresh(link)
    for other in (first, second):
        assert other.subheader[0].value == "Exercise 42, level 3"
        assert other.markdown[1].value == at.markdown[1].value  # the question, with its numbers
    e = ex.make("conv_value", 3, 42)
    fill(second, e, e.truth)
    assert second.success


def test_two_right_answers_move_the_next_exercise_up_a_level():
    at = open_app("practice", **{"practice.kind": "receptive_field", "practice.level": 1, "practice.seed": 1})
    for seed in (1, 2):
        e = ex.make("receptive_field", 1, seed)
        fill(at, e, e.truth)
        assert at.success
        at.button(key="practice.next").click().run()
    assert at.radio(key="practice.level.w").value == 2 and at.number_input(key="practice.seed.w").value == 3
    assert at.subheader[0].value == "Exercise 3, level 2"
    assert [m.value for m in at.metric] == ["2 / 2", "2", "2"]


@pytest.mark.parametrize("kind, page, widget, expected", [
    ("pool", "pooling", "pooling.size2.w", "pool"),
    ("conv_value", "convolution", "convolution.stride.w", "stride"),
    ("shape", "layer_lab", "ll.kernel_h", "kernel")])
def test_the_live_link_opens_the_page_with_the_exercises_settings(kind, page, widget, expected):
    at = open_app("practice", **{"practice.kind": kind, "practice.level": 2, "practice.seed": 4})
    e = ex.make(kind, 2, 4)
    fill(at, e, e.truth)
    url = "" if page == "layer_lab" else page  # the Layer lab is the default page, at /
    link = next(p.proto for p in at.get("page_link") if p.proto.page == url and p.proto.query_string)
    opened = AppTest.from_file(APP, default_timeout=180)
    for key, value in parse_qsl(link.query_string):
        opened.query_params[key] = value
    opened.switch_page(f"pages/{page}.py")
    opened.run()
    no_exception(opened)
    value = e.settings[expected][0] if expected == "kernel" else e.settings[expected]
    assert opened.slider(key=widget).value == value


def test_the_lecture_model_waits_for_keras_right_after_the_server_started(monkeypatch):
    from cnnviz.ui import warmup

    waited = []
    monkeypatch.setattr(warmup, "keras_ready", lambda: False)
    monkeypatch.setattr(warmup, "wait_for_keras", lambda: waited.append(True))
    at = open_app("practice", **{"practice.kind": "lecture_model", "practice.level": 1, "practice.seed": 2})
    no_exception(at)
    assert waited and at.subheader[0].value == "Exercise 2, level 1"
    assert not at.info, "the notice is gone once Keras is there"
