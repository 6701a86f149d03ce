"""The probability page: f1 * f2 shown, one value slid and summed, Monte-Carlo agreeing."""

import re

from tests.app.conftest import no_exception, open_app


def f_s(at) -> float:
    return float(at.code[0].value.strip().splitlines()[-1].split("=")[-1])


def test_two_dice_give_six_in_thirty_six_for_seven():
    at = open_app("probability", **{"probability.s": 7})
    no_exception(at)
    assert f_s(at) == round(6 / 36, 4)
    assert "f1(1)·f2(6)" in at.code[0].value


def test_loaded_die_changes_the_sum_and_monte_carlo_agrees():
    at = open_app("probability", **{"probability.s": 12, "probability.f2.kind": "loaded_die",
                                    "probability.n": 100_000})
    no_exception(at)
    assert f_s(at) == round(1 / 6 * 0.5, 4)
    text = " ".join(m.value for m in at.markdown)
    gap = float(re.search(r"f1 \* f2: ([0-9.]+)", text).group(1))
    assert gap < 0.01


def test_empty_custom_table_cell_shows_an_error():
    at = open_app("probability", **{"probability.f1.kind": "custom",
                                    "probability.f1.table.en": {"edited_rows": {0: {"weight": None}},
                                                                "added_rows": [], "deleted_rows": []}})
    no_exception(at)
    assert at.error and "empty" in at.error[0].value


def test_korean_texts():
    at = open_app("probability", lang="ko")
    no_exception(at)
    assert at.title[0].value == "분포의 합성곱"


def test_two_dimensional_example_is_shown():
    at = open_app("probability")
    no_exception(at)
    assert any("adds up to 1.0000" in c.value for c in at.caption)
