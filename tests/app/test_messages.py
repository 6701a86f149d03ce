"""Messages computed in cnnviz show in the session's language on the pages (AppTest, Korean)."""

from __future__ import annotations

import re

import pytest
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz import i18n
from cnnviz.ui import state
from tests.app.conftest import no_exception, open_app

HANGUL = re.compile("[가-힣]")


@pytest.fixture(autouse=True)
def shown_lang(monkeypatch):
    """AppTest formats the previous run's widget values (format_func -> t()) in the test thread, where
    session state is not available: there, use the language the test set (as tests/app/test_language.py does)."""
    current = {"lang": "ko"}
    inside = state.lang
    monkeypatch.setattr(state, "lang", lambda: inside() if get_script_run_ctx() is not None else current["lang"])
    return current


def test_layer_lab_kernel_larger_than_the_input_in_korean():
    at = open_app("layer_lab", lang="ko")
    for key, value in (("ll.input_h", 3), ("ll.kernel_h", 7)):
        at.slider(key=key).set_value(value)
    at.radio(key="ll.padding").set_value("valid")
    at.run()
    no_exception(at)
    assert at.error
    shown = at.error[0].value
    # the arithmetic's own words in Korean, its numbers as they are
    assert "높이 방향으로 크기 7의 윈도우가 'valid' 패딩에서 입력 3행 안에 들어가지 않습니다" in shown, shown
    assert "(3 - 7) // 1 + 1 = -3" in shown
    assert "along the" not in shown and "window" not in shown


def test_layer_lab_stride_with_dilation_in_korean():
    at = open_app("layer_lab", lang="ko")
    at.slider(key="ll.stride").set_value(2)
    at.slider(key="ll.dilation").set_value(2)
    at.run()
    no_exception(at)
    assert at.error and "Keras는 1보다 큰 스트라이드와 1보다 큰 dilation을" in at.error[0].value
    assert "choose one" not in at.error[0].value


def test_model_page_names_the_impossible_layer_in_korean():
    at = open_app("model", lang="ko")
    at.number_input(key="cnnviz.model_page.h").set_value(10).run()
    no_exception(at)
    assert at.error
    shown = at.error[0].value
    assert "레이어 3 (conv2d_1, Conv2D):" in shown, shown  # Keras names stay as they are
    assert "방향으로" in shown and "윈도우" in shown  # the arithmetic detail is Korean too
    assert "Layer 3" not in shown and "does not fit" not in shown


def test_model_page_switching_language_translates_the_same_error(shown_lang):
    shown_lang["lang"] = "en"
    at = open_app("model")
    at.number_input(key="cnnviz.model_page.h").set_value(10).run()
    assert at.error and "Layer 3 (conv2d_1, Conv2D): along the" in at.error[0].value
    at.session_state["cnnviz.lang"] = "ko"
    at.run()
    shown_lang["lang"] = "ko"
    at.run()
    no_exception(at)
    assert at.error and "레이어 3 (conv2d_1, Conv2D): " in at.error[0].value


def test_refused_upload_in_korean_and_after_switching_back(shown_lang):
    at = open_app("model", lang="ko")
    at.file_uploader(key="cnnviz.model_page.upload").set_value(
        ("old.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "application/octet-stream")).run()
    no_exception(at)
    assert at.error and "HDF5(.h5) 파일은 손상되었거나 잘려 있습니다" in at.error[0].value
    assert HANGUL.search(at.error[0].value)
    at.session_state["cnnviz.lang"] = "en"
    at.run()
    shown_lang["lang"] = "en"
    at.run()
    assert at.error and "This HDF5 (.h5) file is damaged or truncated" in at.error[0].value


def test_probability_table_with_an_empty_cell_in_korean():
    at = open_app("probability", lang="ko", **{
        "probability.f1.kind": "custom",
        "probability.f1.table.ko": {"edited_rows": {0: {i18n.t("prob.weight", "ko"): None}}, "added_rows": [], "deleted_rows": []}})
    no_exception(at)
    assert at.error and "빈 칸이 있으면 안 됩니다" in at.error[0].value, [e.value for e in at.error]
    assert "empty cells" not in at.error[0].value
