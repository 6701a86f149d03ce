"""Links under AppTest: a page opened with query parameters shows those settings; a tampered link gives
defaults and a notice, never an exception; the share box shows the address."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, no_exception


def _open(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def test_layer_lab_settings_from_the_link():
    at = _open("layer_lab", {"ll.kernel_h": "5", "ll.padding": "valid", "ll.filters": "7"})
    no_exception(at)
    assert at.slider(key="ll.kernel_h").value == 5 and at.slider(key="ll.filters").value == 7
    assert at.radio(key="ll.padding").value == "valid"
    assert any("116 × 58 × 7" in m.value for m in at.markdown)


def test_convolution_setting_from_the_link_is_kept():
    at = _open("convolution", {"convolution.stride.w": "2"})
    no_exception(at)
    assert at.slider(key="convolution.stride.w").value == 2
    at.run()  # the next run keeps it (copied into the page's own state)
    assert at.slider(key="convolution.stride.w").value == 2
    assert at.session_state["convolution.stride"] == 2


def test_language_model_and_sample_from_the_link():
    """The select boxes are bound by their labels (what the URL shows), in the link's language."""
    at = _open("activations", {"cnnviz.lang": "한국어", "cnnviz.model.widget": "숫자(UCI 손글씨로 학습)",
                               "cnnviz.sample.widget": "그린 숫자: 7"})
    no_exception(at)
    assert at.title[0].value == "액티베이션 맵"
    assert at.session_state["cnnviz.model"] == "digits" and at.session_state["cnnviz.sample"] == "digit_7"
    assert any("모델의 답은 **7**" in m.value for m in at.markdown)


def test_tampered_link_gives_defaults_and_a_notice():
    at = _open("layer_lab", {"ll.kernel_h": "99", "ll.filters": "abc", "ll.padding": "<script>alert(1)</script>",
                             "zzz": "<b>hi</b>", "x" * 2000: "1", "cnnviz.lang": "xx"})
    no_exception(at)
    assert not at.error
    assert at.slider(key="ll.kernel_h").value == 3 and at.slider(key="ll.filters").value == 10
    assert at.radio(key="ll.padding").value == "same"
    notices = [c.value for c in at.sidebar.caption if "does not know" in c.value]
    assert notices and "zzz" in notices[0] and len(notices[0]) < 400
    assert "zzz" not in at.query_params
    assert at.title[0].value == "Layer lab"


def test_share_box_holds_the_link():
    at = _open("layer_lab", {"ll.kernel_h": "5"})
    codes = [c.value for c in at.code]
    assert any("ll.kernel_h=5" in c for c in codes)
