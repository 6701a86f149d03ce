"""The Activations page under AppTest: real Keras numbers on screen, controls, uploads, bad models."""

import base64
import io
import json

import keras
import numpy as np
import pytest
from PIL import Image

from cnnviz import activations, images
from cnnviz.models import ModelInfo, load_preset
from cnnviz.ui import image_picker as ip
from tests.app.conftest import no_exception, open_app

PAGE = "activations"


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _array(value):
    """Plotly JSON arrays may come as typed base64 ('bdata'); returns a numpy array either way."""
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):  # e.g. "116, 56"
            shape = [int(n) for n in shape.split(",")]
        return a.reshape(shape) if shape else a
    return np.asarray(value, dtype="float64")


def zoom_data(at) -> dict:
    """The data the zoomed map's component gets (cnnviz.ui.clickgrid): its picture, grid and hover values."""
    zooms = [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.id.endswith("activations.zoom.chart")]
    assert len(zooms) == 1
    return zooms[0]


def zoom_z(at) -> np.ndarray:
    """The values the zoomed map shows on hover, as (rows, cols)."""
    data = zoom_data(at)
    return np.frombuffer(base64.b64decode(data["values_b64"]), dtype="<f4").reshape(data["rows"], data["cols"])


def expected_layers(sample=images.DEFAULT_SAMPLE, pre=False):
    info = load_preset("seed_trained")
    x = images.preprocess(images.load_sample(sample), (120, 60, 1), fit="crop")
    return info, activations.extract(info.model, x[np.newaxis], pre_activation=pre)


def png(size=(90, 50), color=(30, 200, 90)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def at():
    at = open_app(PAGE)
    no_exception(at)
    return at


def test_default_shows_prediction_with_class_names_and_every_layer(at):
    info, layers = expected_layers()
    bars = [c for c in charts(at) if c["data"][0]["type"] == "bar"]
    assert len(bars) == 1
    assert [str(n) for n in bars[0]["data"][0]["x"]] == list(info.class_names)
    np.testing.assert_allclose(_array(bars[0]["data"][0]["y"]), layers[list(layers)[-1]][0], rtol=1e-5, atol=1e-6)
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    for name in layers:
        assert any(s.startswith(f"**{name}**") for s in shown), name
    # one grid image per layer, plus the original and the preprocessed input
    assert len(at.image) >= len(layers) + 2
    assert not at.error and not at.warning
    assert not [i for i in at.info if "untrained" in i.value or "random" in i.value]


def test_zoom_shows_the_keras_values_of_the_chosen_layer_and_channel(at):
    _, layers = expected_layers()
    names = list(layers)
    np.testing.assert_allclose(zoom_z(at), layers[names[0]][0, :, :, 0], rtol=1e-5, atol=1e-6)
    at.selectbox(key="activations.zoom.layer").set_value(names[2]).run()
    at.slider(key="activations.zoom.channel").set_value(7).run()
    no_exception(at)
    np.testing.assert_allclose(zoom_z(at), layers[names[2]][0, :, :, 7], rtol=1e-5, atol=1e-6)
    assert any(f"{names[2]}, channel 7" in c.value for c in at.caption)
    at.selectbox(key="activations.zoom.layer").set_value(names[-2]).run()  # a Dense vector
    no_exception(at)
    np.testing.assert_allclose(zoom_z(at)[0], layers[names[-2]][0], rtol=1e-5, atol=1e-6)


def test_pre_activation_toggle_shows_negative_values(at):
    _, pre = expected_layers(pre=True)
    first = list(pre)[0]
    at.toggle(key="activations.pre").set_value(True).run()
    no_exception(at)
    z = zoom_z(at)
    np.testing.assert_allclose(z, pre[first][0, :, :, 0], rtol=1e-5, atol=1e-6)
    assert any(m.value.startswith(f"**{first}**") and "before relu" in m.value for m in at.markdown)


def test_pre_activations_are_computed_only_when_shown(at, monkeypatch):
    """The page asks Keras for pre-activations (a second convolution per conv layer) only once the toggle
    is on; switching it off again reuses that result instead of a new inference."""
    from cnnviz.ui import activations as ui_act

    assert at.session_state[ui_act.RESULT][1].acts.pre == {}
    assert not at.toggle(key="activations.pre").disabled
    calls = []
    real = activations.extract_all
    monkeypatch.setattr(activations, "extract_all", lambda *a, **k: calls.append(k) or real(*a, **k))
    at.toggle(key="activations.pre").set_value(True).run()
    no_exception(at)
    assert calls and all(k.get("pre_activations") for k in calls)
    convs = {layer.name for layer in load_preset("seed_trained").model.layers if activations.has_fused_activation(layer)}
    assert len(convs) == 3 and set(at.session_state[ui_act.RESULT][1].acts.pre) == convs
    calls.clear()
    at.toggle(key="activations.pre").set_value(False).run()
    no_exception(at)
    assert calls == []


@pytest.mark.parametrize("scale", ["channel", "layer", "network"])
def test_colour_scales(at, scale):
    at.radio(key="activations.scale").set_value(scale).run()
    no_exception(at)
    assert len(at.image) >= 9


def test_upload_changes_the_maps_and_bad_upload_shows_error(at):
    before = zoom_z(at)
    at.sidebar.radio(key=ip.W_SOURCE).set_value("upload").run()
    at.sidebar.file_uploader(key=ip.W_UPLOAD).set_value(("green.png", png(), "image/png")).run()
    no_exception(at)
    assert not at.error
    after = zoom_z(at)
    assert not np.allclose(before, after)
    info = load_preset("seed_trained")
    x = images.preprocess(Image.new("RGB", (90, 50), (30, 200, 90)), (120, 60, 1), fit="crop")
    want = activations.extract(info.model, x[np.newaxis])
    np.testing.assert_allclose(after, want[info.model.layers[0].name][0, :, :, 0], rtol=1e-5, atol=1e-6)
    for name, data in [("notes.png", b"not an image\n" * 40), ("empty.png", b"")]:
        at.sidebar.file_uploader(key=ip.W_UPLOAD).set_value((name, data, "image/png")).run()
        no_exception(at)
        assert at.sidebar.error, name
        np.testing.assert_allclose(zoom_z(at), after, err_msg="the last good image stays")


def test_untrained_model_says_so():
    at = open_app(PAGE, **{"cnnviz.model": "tiny_vgg"})
    no_exception(at)
    assert any("random" in i.value for i in at.info)
    assert len([c for c in charts(at) if c["data"][0]["type"] == "bar"]) == 1


def test_korean():
    at = open_app(PAGE, lang="ko")
    no_exception(at)
    assert any("예측" in s.value for s in at.subheader)


def _session(model, trained=True, classes=("a", "b")):
    return {"cnnviz.model": "session",
            "cnnviz.session_model": ModelInfo("session", "mine", model, tuple(classes), trained)}


def test_model_without_conv_layers():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert any("no convolution" in i.value for i in at.info)


def test_model_without_image_input():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert any("not an image" in w.value for w in at.warning)


def test_nan_in_the_output_warns():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    dense = model.layers[-1]
    dense.kernel.assign(np.full(tuple(dense.kernel.shape), np.nan, dtype="float32"))
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert any("NaN" in w.value for w in at.warning)


def test_inference_error_is_an_error_not_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("device lost")

    monkeypatch.setattr(activations, "extract_all", broken)
    at = open_app(PAGE, **{"cnnviz.model": "lenet5"})
    no_exception(at)
    assert any("device lost" in e.value for e in at.error)


def test_session_model_trained_in_place_is_rerun():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    before = zoom_z(at)
    conv = model.layers[0]
    conv.kernel.assign(conv.kernel * 0 + 0.5)  # as a training step would, in place
    conv.bias.assign(conv.bias * 0 + 0.25)
    at.run()
    no_exception(at)
    after = zoom_z(at)
    assert not np.allclose(before, after)
    assert np.all(after >= 0.25 - 1e-6), "the new weights' maps (all inputs >= 0, positive kernel and bias)"


def test_every_output_of_a_multi_output_model_is_shown():
    keras.utils.set_random_seed(51)
    inp = keras.Input((16, 16, 1))
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, activation="relu")(inp))
    cls = keras.layers.Dense(3, activation="softmax", name="classes")(h)
    box = keras.layers.Dense(2, name="box")(h)
    model = keras.Model(inp, [cls, box])
    at = open_app(PAGE, **_session(model, classes=("a", "b", "c")))
    no_exception(at)
    assert [m.value for m in at.markdown if m.value.startswith("Output ")] == ["Output 1 of 2: classes",
                                                                             "Output 2 of 2: box"]
    bars = [c for c in charts(at) if c["data"][0]["type"] == "bar"]
    assert len(bars) == 2
    assert activations.model_outputs(model) == ["classes", "box"]


def test_any_size_model_gets_the_image_size_or_the_users():
    keras.utils.set_random_seed(52)
    inp = keras.Input((None, None, 3))
    x = keras.layers.GlobalMaxPooling2D()(keras.layers.Conv2D(4, 3, activation="relu", name="c")(inp))
    model = keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    image = images.load_sample(images.DEFAULT_SAMPLE)
    w, h = image.size
    assert any(f"image's own size, {h}x{w}" in c.value for c in at.caption)
    from cnnviz.ui import activations as ui_act

    assert at.session_state[ui_act.RESULT][1].acts.outputs["c"].shape == (1, h - 2, w - 2, 4)
    at.toggle(key="activations.size.own").set_value(False).run()
    at.number_input(key="activations.size.h").set_value(40).run()
    at.number_input(key="activations.size.w").set_value(30).run()
    no_exception(at)
    assert any("the size you chose, 40x30" in c.value for c in at.caption)
    assert at.session_state[ui_act.RESULT][1].acts.outputs["c"].shape == (1, 38, 28, 4)


def test_a_model_with_a_second_input_gets_zeros_there_and_says_so():
    keras.utils.set_random_seed(53)
    img, meta = keras.Input((16, 16, 1), name="img"), keras.Input((3,), name="meta")
    h = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, activation="relu", name="c")(img))
    model = keras.Model([img, meta], keras.layers.Dense(2, activation="softmax", name="out")(
        keras.layers.Concatenate(name="cat")([h, meta])))
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert not at.error
    assert any("has 2 inputs" in c.value and "None, 3" in c.value for c in at.caption)  # shown escaped
    at.switch_page("pages/train.py").run()
    no_exception(at)
    assert any("2 inputs" in e.value for e in list(at.error) + list(at.warning) + list(at.info))


def test_receptive_field_of_the_zoomed_unit():
    """The zoom's unit: its theoretical box (cnnviz.receptive) and effective field, moved by row/column
    (a click on the map sets the same inputs: tests/browser/test_activations.py)."""
    at = open_app("activations")
    no_exception(at)
    boxes = [c.value for c in at.caption if c.value.startswith("Theoretical receptive field")]
    assert boxes == ["Theoretical receptive field: 5 x 5 pixels, rows 58 to 62, columns 28 to 32 "
                     "(any part outside the image reads padding)."]
    at.selectbox(key="activations.zoom.layer").set_value("conv3").run()
    at.number_input(key="activations.rf.row").set_value(0).run()
    at.number_input(key="activations.rf.col").set_value(0).run()
    no_exception(at)
    assert any(c.value.startswith("Theoretical receptive field: 28 x 28 pixels, rows 0 to 27, columns 0 to 27")
               for c in at.caption)
    assert len([c for c in at.get("plotly_chart")]) >= 3  # prediction, box, effective field (the zoom is a picture)
    at.selectbox(key="activations.zoom.layer").set_value("dense").run()
    no_exception(at)
    assert not [c for c in at.caption if c.value.startswith("Theoretical receptive field")]


def test_a_click_moves_the_unit(monkeypatch):
    """The zoomed map's click callback (Streamlit runs it before the next run) sets the unit's row and column."""
    from cnnviz.ui import activations as ui

    state: dict = {}
    monkeypatch.setattr(ui.st, "session_state", state)
    ui.go_to_unit(19, 7)
    assert (state[ui.RF_ROW], state[ui.RF_COL]) == (19, 7)


def test_the_unit_is_outlined_on_the_zoomed_map():
    """The zoom is one picture with the values for its hover and the chosen unit outlined; a Dense vector's
    zoom has nothing to click."""
    at = open_app(PAGE)
    at.selectbox(key="activations.zoom.layer").set_value("conv3").run()
    data = zoom_data(at)
    assert data["clickable"] and data["hover"] == "row {row}, col {col}: {value}"
    assert data["src"].startswith("data:image/png;base64,") and (data["left"], data["top"]) == (0, 0)
    at.number_input(key="activations.rf.row").set_value(2)
    at.number_input(key="activations.rf.col").set_value(1).run()
    no_exception(at)
    assert zoom_data(at)["mark"] == [2, 1]
    at.selectbox(key="activations.zoom.layer").set_value("dense").run()
    data = zoom_data(at)
    assert not data["clickable"] and data["mark"] is None and data["rows"] == 1


def _prediction(info, image) -> tuple[str, float]:
    x = images.preprocess(image, tuple(info.model.inputs[0].shape[1:]), fit="crop")
    out = np.asarray(info.model(x[np.newaxis]))[0]
    return info.class_names[int(out.argmax())], float(out.max())


def test_compare_two_images_shows_keras_predictions_for_both(at):
    at.toggle(key="activations.compare").set_value(True).run()
    no_exception(at)
    info = load_preset("seed_trained")
    shown = [m.value for m in at.markdown if m.value.startswith("Prediction:")]
    want = [_prediction(info, images.load_sample(name)) for name in (images.DEFAULT_SAMPLE, images.COMPARE_SAMPLE)]
    assert shown == [f"Prediction: **{label}** ({p:.2f})" for label, p in want]
    assert at.selectbox(key="activations.compare.layer").value == info.model.layers[0].name  # the first conv layer
    assert [c.value for c in at.caption if c.value.startswith(f"Layer {info.model.layers[0].name}")]

    at.selectbox(key="activations.compare.layer").set_value(info.model.layers[1].name).run()
    no_exception(at)
    at.file_uploader(key="activations.compare.upload").set_value(("notes.png", b"not an image\n" * 40, "image/png")).run()
    no_exception(at)
    assert [e for e in at.main.error if "notes.png" in e.value]  # said on the page; B stays the sample
    assert [m.value for m in at.markdown if m.value.startswith("Prediction:")] == shown
    at.file_uploader(key="activations.compare.upload").set_value(("green.png", png(), "image/png")).run()
    no_exception(at)
    label, p = _prediction(info, Image.open(io.BytesIO(png())))
    assert [m.value for m in at.markdown if m.value.startswith("Prediction:")][1] == f"Prediction: **{label}** ({p:.2f})"
    assert not at.sidebar.error and at.sidebar.radio(key=ip.W_SOURCE).value == "gallery"  # A untouched


def test_compare_pictures_share_one_scale():
    """Equal values get equal colours in both pictures: they differ only where the maps differ."""
    from cnnviz.ui import activations as ui

    a = np.ones((6, 6, 2), np.float32)
    b = a.copy()
    a[0, 0, 0], b[0, 0, 0] = 0.0, 2.0  # B's range is twice A's
    for scale in ("layer", "network"):
        pa, pb = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in ui.compare_pngs(a, b, scale))
        differ = np.argwhere((pa != pb).any(axis=2))
        assert differ.size and differ[:, 0].max() - differ[:, 0].min() < pa.shape[0] / 3, scale
    pa, pb = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in ui.compare_pngs(a, b, "channel"))
    assert (pa != pb).any(axis=2).sum() > 4 * len(differ)  # own range per channel: the ones differ too


def test_compare_says_why_when_the_second_image_cannot_run(at, monkeypatch):
    from cnnviz.ui import activations as ui

    real = ui.run

    def run(info, x, device, pre=False, slot=""):
        if slot:
            raise RuntimeError("B went wrong")
        return real(info, x, device, pre=pre, slot=slot)

    monkeypatch.setattr(ui, "run", run)
    at.toggle(key="activations.compare").set_value(True).run()
    no_exception(at)
    assert [e for e in at.main.error if "B went wrong" in e.value], [e.value for e in at.error]
    assert len([m for m in at.markdown if m.value.startswith("Prediction:")]) == 0  # no half comparison
    assert at.get("plotly_chart")  # the rest of the page is there


def test_the_click_grid_passes_a_clicked_cell_on(monkeypatch):
    """The component's trigger (what a click sends) reaches on_cell as (row, col); nothing to click, or a
    malformed value, reaches nobody."""
    from types import SimpleNamespace

    from cnnviz.ui import clickgrid

    mounted = {}
    monkeypatch.setattr(clickgrid, "_component", lambda key, data, on_cell_change: mounted.update(data=data, changed=on_cell_change))
    state: dict = {}
    monkeypatch.setattr(clickgrid.st, "session_state", state)
    cells = []
    clickgrid.clickable(b"png", 2, 3, "k", lambda r, c: cells.append((r, c)), (0, 0, 4, 4), (12, 8),
                        values=np.arange(6, dtype="float32").reshape(2, 3), hover="{row},{col}: {value}", mark=(1, 2))
    assert mounted["data"]["clickable"] and mounted["data"]["mark"] == [1, 2]
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(mounted["data"]["values_b64"]), "<f4"), np.arange(6))
    state["k"] = SimpleNamespace(cell=[1, 2])
    mounted["changed"]()
    state["k"] = SimpleNamespace(cell="nonsense")
    mounted["changed"]()
    assert cells == [(1, 2)]
    # the keyboard: the grid's name says what it is and which keys pick a cell; the cursor starts on the mark
    from cnnviz import i18n

    assert mounted["data"]["label"] == i18n.t("a11y.grid.keys.pick", "en")
    assert mounted["data"]["start"] == [1, 2] and mounted["data"]["names"] is None
    clickgrid.clickable(b"png", 2, 3, "k", None, (0, 0, 4, 4), (12, 8))
    assert not mounted["data"]["clickable"] and "values_b64" not in mounted["data"]
    assert mounted["data"]["label"] == i18n.t("a11y.grid.keys.read", "en") and mounted["data"]["start"] is None
    clickgrid.clickable(b"png", 2, 3, "k", None, (0, 0, 4, 4), (12, 8), alt="A map.", label="Output map",
                        start=(0, 1), names=([5, 6], [7, 8, 9]))
    assert mounted["data"]["label"] == "Output map. " + i18n.t("a11y.grid.keys.read", "en")
    assert (mounted["data"]["alt"], mounted["data"]["start"], mounted["data"]["names"]) == ("A map.", [0, 1],
                                                                                           [[5, 6], [7, 8, 9]])
    assert mounted["data"]["position"] == i18n.t("a11y.grid.position", "en", row="{row}", col="{col}")
    state["k"] = SimpleNamespace(cell=[0, 0])
    mounted["changed"]()
    assert cells == [(1, 2)]
