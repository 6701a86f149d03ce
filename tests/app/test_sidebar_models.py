"""The sidebar's model and device selects, and cnnviz.ui.models.current_model, under AppTest."""

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.ui import sidebar


def sidebar_app():
    """Renders the shared sidebar unless `hide` is set (like a run whose page skipped it)."""
    import streamlit as st

    from cnnviz.ui import sidebar
    from cnnviz.ui.models import current_model

    if not st.session_state.get("hide"):
        sidebar.render()
    info = current_model()
    st.markdown(f"{info.key}|{id(info.model)}|{info.trained}")


@pytest.fixture
def at():
    at = AppTest.from_function(sidebar_app, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at):
    key, model_id, trained = at.markdown[0].value.split("|")
    return key, model_id, trained == "True"


def test_trained_default_on_first_load_with_class_names(at):
    assert shown(at)[0] == "seed_trained" and shown(at)[2]
    assert at.sidebar.selectbox(key=sidebar.W_MODEL).value == "seed_trained"
    assert any("circle, square, triangle, cross" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.warning


@pytest.mark.parametrize("key", ["seed", "tiny_vgg", "lenet5"])
def test_untrained_presets_say_so(at, key):
    at.sidebar.selectbox(key=sidebar.W_MODEL).set_value(key).run()
    assert shown(at)[0] == key and not shown(at)[2]
    assert any("untrained" in w.value for w in at.sidebar.warning)


def test_presets_are_cached_per_process(at):
    first = shown(at)[1]
    at.run()
    assert shown(at)[1] == first
    other = AppTest.from_function(sidebar_app, default_timeout=120)
    other.run()
    assert shown(other)[1] == first  # another session shares the read-only preset


def test_choice_survives_a_language_switch(at):
    at.sidebar.selectbox(key=sidebar.W_MODEL).set_value("lenet5").run()
    at.sidebar.selectbox(key="cnnviz.lang").set_value("ko").run()
    assert shown(at)[0] == "lenet5"
    assert at.sidebar.selectbox(key=sidebar.W_MODEL).label == "모델"
    assert any("학습" in w.value for w in at.sidebar.warning)  # the untrained notice, in Korean


def test_choice_survives_runs_without_the_sidebar(at):
    """Like visiting a page that does not render the select: Streamlit forgets the widget, not the choice."""
    at.sidebar.selectbox(key=sidebar.W_MODEL).set_value("lenet5").run()
    at.session_state["hide"] = True
    at.run()
    assert shown(at)[0] == "lenet5"
    at.session_state["hide"] = False
    at.run()
    assert shown(at)[0] == "lenet5"
    assert at.sidebar.selectbox(key=sidebar.W_MODEL).value == "lenet5"


def test_session_model_is_offered_once_it_exists(at):
    from cnnviz import models

    assert "session" not in at.sidebar.selectbox(key=sidebar.W_MODEL).options
    own = models.ModelInfo("session", "My shapes net", models.seed_model(), models.SHAPE_CLASSES, True, "")
    at.session_state["cnnviz.session_model"] = own
    at.session_state["cnnviz.model"] = "session"  # what the Model/Train pages' callbacks do
    at.run()
    select = at.sidebar.selectbox(key=sidebar.W_MODEL)
    assert select.value == "session" and "My model: My shapes net" in select.options
    assert shown(at)[0] == "session"


def test_a_stale_session_choice_falls_back_to_the_default(at):
    at.session_state["cnnviz.model"] = "session"  # no session model stored
    at.run()
    assert shown(at)[0] == "seed_trained" and not at.exception


def test_device_select_lists_keras_devices_and_falls_back_to_cpu(at):
    from cnnviz import devices

    select = at.sidebar.selectbox(key=sidebar.W_DEVICE)
    assert select.value == "cpu:0"
    assert len(select.options) == len(devices.list_devices())
    at.session_state["cnnviz.device"] = "gpu:7"  # a device this machine does not have
    at.run()
    assert at.session_state["cnnviz.device"] == "cpu:0"
    if not devices.has_gpu():
        assert any("No GPU" in c.value for c in at.sidebar.caption)
