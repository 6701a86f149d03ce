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


def test_probability_settings_from_the_link():
    """f1 a 4-sided die, f2 a loaded die: the page's numbers are those of the link's distributions."""
    at = _open("probability", {"probability.f1.kind.w": "die", "probability.f1.sides.w": "4",
                               "probability.n.w": "1000", "probability.seed.w": "7"})
    no_exception(at)
    assert at.number_input(key="probability.f1.sides.w").value == 4
    assert at.select_slider(key="probability.n.w").value == 1000 and at.number_input(key="probability.seed.w").value == 7
    at.run()
    assert at.session_state["probability.f1.sides"] == 4 and at.session_state["probability.seed"] == 7
    # a 4-sided and a 6-sided die: f1 * f2 has mean 2.5 + 3.5
    assert any("6.000" in m.value for m in at.markdown)
    assert any("probability.f1.sides.w=4" in c.value for c in at.code)


def test_train_settings_from_the_link_and_what_the_link_leaves_out():
    at = _open("train", {"cnnviz.train.epochs": "5", "cnnviz.train.batch": "64", "cnnviz.train.lr": "0.01",
                         "cnnviz.train.optimizer": "sgd", "cnnviz.train.samples": "256"})
    no_exception(at)
    assert at.number_input(key="cnnviz.train.epochs").value == 5 and at.selectbox(key="cnnviz.train.batch").value == 64
    assert at.select_slider(key="cnnviz.train.lr").value == 0.01 and at.selectbox(key="cnnviz.train.optimizer").value == "sgd"
    assert any("256" in c.value for c in at.caption)  # "256 generated training images ..."
    assert any("not the trained weights" in c.value for c in at.caption)


def test_model_page_preset_from_the_link():
    at = _open("model", {"cnnviz.model_page.preset": "LeNet-5 (untrained)"})  # bound by the label the URL shows
    no_exception(at)
    assert at.selectbox(key="cnnviz.model_page.preset").value == "lenet5"
    assert at.number_input(key="cnnviz.model_page.h").value == 32  # LeNet-5 reads 32 x 32
    assert any("not your edits" in c.value for c in at.caption)
    bad = _open("model", {"cnnviz.model_page.preset": "<b>x</b>"})
    no_exception(bad)
    assert bad.selectbox(key="cnnviz.model_page.preset").value == "seed"
