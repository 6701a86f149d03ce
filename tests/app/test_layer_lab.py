"""Layer lab under AppTest: every control changes the shown numbers to what Keras computes."""

from __future__ import annotations

import keras
import pytest

from cnnviz.layers import pooling_layer
from tests.app.conftest import no_exception, open_app

DEFAULTS = dict(h=120, w=60, c=1, filters=10, kh=3, kw=3, stride=1, dilation=1, padding="same",
                pool_kind="max", pool_size=2, pool_stride=2, pool_padding="valid")
WIDGETS = {  # settings name -> (widget kind, key)
    "h": ("slider", "ll.input_h"), "w": ("slider", "ll.input_w"), "c": ("slider", "ll.input_c"),
    "filters": ("slider", "ll.filters"), "kh": ("slider", "ll.kernel_h"), "kw": ("slider", "ll.kernel_w"),
    "stride": ("slider", "ll.stride"), "dilation": ("slider", "ll.dilation"), "padding": ("radio", "ll.padding"),
    "pool_kind": ("selectbox", "ll.pool_kind"), "pool_size": ("slider", "ll.pool_size"),
    "pool_stride": ("slider", "ll.pool_stride"), "pool_padding": ("radio", "ll.pool_padding"),
}


def keras_numbers(s: dict) -> dict:
    """What real Keras layers say for these settings: shapes as the page writes them, and params."""
    conv = keras.layers.Conv2D(s["filters"], (s["kh"], s["kw"]), strides=s["stride"], padding=s["padding"],
                               dilation_rate=s["dilation"])
    conv_shape = conv.compute_output_shape((1, s["h"], s["w"], s["c"]))
    pool = pooling_layer(s["pool_kind"], s["pool_size"], s["pool_stride"], s["pool_padding"])
    pool_shape = pool.compute_output_shape(conv_shape)
    conv.build((1, s["h"], s["w"], s["c"]))
    return {
        "Conv2D output": " × ".join(str(v) for v in conv_shape[1:]),
        "Pooling output": " × ".join(str(v) for v in pool_shape[1:]),
        "Parameters": f"{conv.count_params():,}",
    }


def shown(at) -> dict:
    return {m.label: m.value for m in at.metric}


def set_widget(at, name, value):
    kind, key = WIDGETS[name]
    getattr(at, kind)(key=key).set_value(value)
    at.run()


@pytest.fixture(scope="module")
def lab():
    at = open_app("layer_lab")
    no_exception(at)
    return at


def test_defaults_match_keras(lab):
    got = shown(lab)
    for label, value in keras_numbers(DEFAULTS).items():
        assert got[label] == value, label
    assert not lab.error


# Each step moves one control, from the previous state; the shapes must follow Keras every time.
STEPS = [
    ("h", 37), ("w", 23), ("c", 3), ("filters", 7), ("kh", 5), ("kw", 2), ("padding", "valid"),
    ("stride", 2), ("pool_size", 3), ("pool_stride", 1), ("pool_padding", "same"), ("pool_kind", "min"),
    ("stride", 1), ("dilation", 3), ("pool_kind", "average"),
]


def test_every_control_changes_the_shapes_as_keras_does(lab):
    settings = dict(DEFAULTS)
    previous = shown(lab)
    changed = set()
    for name, value in STEPS:
        settings[name] = value
        set_widget(lab, name, value)
        no_exception(lab)
        assert not lab.error, (name, value, [e.value for e in lab.error])
        got = shown(lab)
        for label, expected in keras_numbers(settings).items():
            assert got[label] == expected, (name, value, label)
        changed |= {label for label in got if got[label] != previous.get(label)}
        previous = got
    assert {name for name, _ in STEPS} == set(WIDGETS)  # every control was moved
    assert {"Conv2D output", "Pooling output", "Parameters", "MACs", "Receptive field"} <= changed


@pytest.mark.parametrize(
    "changes, where",
    [
        ({"ll.stride": 2, "ll.dilation": 2}, "stride"),  # Keras refuses stride > 1 with dilation > 1
        ({"ll.input_h": 3, "ll.kernel_h": 7, "ll.padding": "valid"}, "height"),  # kernel larger than the input
        ({"ll.input_w": 5, "ll.kernel_w": 3, "ll.padding": "valid", "ll.pool_size": 5, "ll.pool_stride": 5},
         "Pooling"),  # the pooling window does not fit the 3-column feature map
    ],
)
def test_bad_combination_shows_an_error_not_an_exception(changes, where):
    at = open_app("layer_lab")
    for key, value in changes.items():
        widget = at.radio(key=key) if key == "ll.padding" else at.slider(key=key)
        widget.set_value(value)
    at.run()
    no_exception(at)
    assert at.error and where in at.error[0].value
    # Keras agrees that these settings cannot be built.
    s = dict(DEFAULTS)
    names = {key: name for name, (_, key) in WIDGETS.items()}
    s.update({names[k]: v for k, v in changes.items()})
    with pytest.raises(ValueError):
        conv = keras.layers.Conv2D(s["filters"], (s["kh"], s["kw"]), strides=s["stride"], padding=s["padding"],
                                   dilation_rate=s["dilation"])
        shape = conv.compute_output_shape((1, s["h"], s["w"], s["c"]))
        pooling_layer(s["pool_kind"], s["pool_size"], s["pool_stride"], s["pool_padding"]).compute_output_shape(shape)
    # The rest of the page still renders what it can.
    assert at.code and at.latex
    if where == "Pooling":
        assert shown(at)["Conv2D output"] != "—" and shown(at)["Pooling output"] == "—"


def test_size_from_image_uses_the_chosen_image():
    from cnnviz.images import DEFAULT_SAMPLE, load_sample

    at = open_app("layer_lab")
    at.toggle(key="ll.from_image").set_value(True).run()
    no_exception(at)
    im = load_sample(DEFAULT_SAMPLE)
    s = dict(DEFAULTS, h=im.height, w=im.width, c=3)
    assert shown(at)["Conv2D output"] == keras_numbers(s)["Conv2D output"]


def test_output_position_stepper_survives_a_shrinking_output():
    at = open_app("layer_lab")
    at.number_input(key="ll.out_row").set_value(100).run()
    at.slider(key="ll.input_h").set_value(10).run()
    no_exception(at)
    assert at.number_input(key="ll.out_row").value == 9  # clamped to the last of the 10 output rows


def test_kernel_preset_and_bias_rerun_the_maps():
    at = open_app("layer_lab")
    for preset in ("sobel_x", "random"):
        at.selectbox(key="ll.kernel_preset").set_value(preset).run()
        no_exception(at)
    at.slider(key="ll.bias").set_value(-0.5).run()
    no_exception(at)
    assert not at.error


def test_korean_page_has_no_missing_texts():
    at = open_app("layer_lab", lang="ko")
    no_exception(at)
    assert at.title[0].value == "레이어 실험실"


def test_every_filter_has_its_maps_from_keras():
    import io

    import numpy as np
    from PIL import Image

    at = open_app("layer_lab")
    at.slider(key="ll.filters").set_value(20).run()
    no_exception(at)
    _, maps, pictures = at.session_state["cnnviz.layer_lab.maps"]
    assert maps.pre.shape == (120, 60, 20) and maps.post.shape == (120, 60, 20) and maps.pooled.shape == (60, 30, 20)
    stages = Image.open(io.BytesIO(pictures["stages"]))
    assert stages.format == "PNG"
    # filter 0 is the chosen kernel (identity by default): its map before the activation is the input itself
    x = maps.x[..., 0]
    np.testing.assert_allclose(maps.pre[..., 0], x, atol=1e-6)
    assert not np.allclose(maps.pre[..., 1], x)  # the others are the bank's filters
    assert "19: Random (seed 19)" in " ".join(c.value for c in at.caption)


def test_pictures_are_served_as_png_not_recompressed_to_jpeg():
    """st.image's output_format='auto' re-encoded RGB PNGs as JPEG (lossy) on every rerun."""
    for page in ("layer_lab", "convolution", "pooling", "activations", "probability"):
        at = open_app(page)
        no_exception(at)
        # the user's own photo, shown as it is, may stay a JPEG; every picture cnnviz computes must not
        urls = [img.url for el in at.main.image for img in el.proto.imgs if not img.caption.startswith("Original")]
        assert urls, page
        assert all(u.endswith(".png") for u in urls), (page, [u for u in urls if not u.endswith(".png")])


def test_while_keras_loads_the_lab_draws_its_arithmetic_and_the_sidebar_waits(monkeypatch):
    from cnnviz.ui import warmup

    monkeypatch.setattr(warmup, "keras_ready", lambda: False)
    at = open_app("layer_lab")
    no_exception(at)
    waiting = at.sidebar.selectbox(key="cnnviz.device.widget.waiting")
    assert waiting.disabled and waiting.options == ["CPU 0"]
    assert any("Keras is still loading" in c.value for c in at.sidebar.caption)
    assert shown(at)["Conv2D output"] == "120 × 60 × 10"
    assert "cnnviz.layer_lab.maps" in at.session_state  # the maps came once Keras was there
    assert not at.info or all("Loading Keras" not in i.value for i in at.info)  # the notice is gone then


def test_zoom_shows_one_map_with_values_on_the_grids_scale():
    import json

    at = open_app("layer_lab")
    at.toggle(key="ll.zoom").set_value(True).run()
    at.selectbox(key="ll.zoom.stage").set_value("pooled").run()
    at.slider(key="ll.zoom.filter").set_value(3).run()
    no_exception(at)
    _, maps, _ = at.session_state["cnnviz.layer_lab.maps"]
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    import base64

    import numpy as np

    z = fig["data"][0]["z"]  # plotly's typed array: base64 data, dtype, shape
    values = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(maps.pooled.shape[:2])
    np.testing.assert_allclose(values, maps.pooled[:, :, 3], rtol=1e-5, atol=1e-6)
    assert fig["data"][0]["zmax"] == pytest.approx(maps.limit())


def test_a_click_on_the_grid_moves_the_window(monkeypatch):
    """A click on output cell (i, j) of the picture sets the position's inputs to the output row and
    column that cell shows: also when the output part is cropped around the position."""
    from cnnviz import layerlab
    from cnnviz.plots import layer_lab as plots
    from cnnviz.ui import layer_lab as ui

    state: dict = {}
    seen: dict = {}
    monkeypatch.setattr(ui.st, "session_state", state)
    monkeypatch.setattr(ui.clickgrid, "clickable",
                        lambda png, rows, cols, key, on_cell, box, size, alt="", **keyboard: seen.update(
                            rows=rows, cols=cols, on_cell=on_cell, box=box, size=size, alt=alt, keyboard=keyboard))
    settings = layerlab.Settings(input_shape=(200, 100, 1), kernel_size=(5, 5), padding="valid")
    g = ui.grid(settings, (150, 10), (196, 96))
    ui.show_grid(g, "row", "col", key="grid", alt="Padded input: 200×100")
    assert (seen["rows"], seen["cols"]) == (40, 40) and seen["box"] == plots.output_box(g)
    # the keyboard cursor starts on the position, and reads out the output rows and columns the crop shows
    names = seen["keyboard"]["names"]
    start = seen["keyboard"]["start"]
    assert (names[0][start[0]], names[1][start[1]]) == (150, 10) and names[0][0] == int(g.out_rows[0]) > 0
    assert seen["alt"].startswith("Padded input: 200×100. ")  # the grid's title, then how to click it
    seen["on_cell"](0, 39)
    assert (state["row"], state["col"]) == (int(g.out_rows[0]), int(g.out_cols[39])) != (0, 39)  # cropped

    seen.clear()
    shown = []
    monkeypatch.setattr(ui.st, "image", lambda png, **kw: shown.append(kw.get("alt")))
    tiny = layerlab.Settings(input_shape=(2, 2, 1), kernel_size=(3, 3), padding="valid")
    ui.show_grid(ui.grid(tiny, (0, 0), None), "row", "col", key="grid", alt="Padded input: 2×2")
    assert shown == ["Padded input: 2×2"] and not seen  # no output: a plain picture with its alt, nothing to click


def test_compare_a_and_b_side_by_side_as_keras_computes_them():
    """B's numbers in the comparison table are Keras's for B's settings; A's are the page's; an
    impossible B shows its error in its column and A's maps stay."""
    at = open_app("layer_lab")
    at.toggle(key="ll.compare").set_value(True).run()
    no_exception(at)
    table = at.table[0].value
    a, b = DEFAULTS, dict(DEFAULTS, padding="valid")
    for label, value in keras_numbers(a).items():
        assert table.loc[label, "A"] == value, label
    for label, value in keras_numbers(b).items():
        assert table.loc[label, "B"] == value, label
    assert table.loc["Conv2D output", "differs"] == "≠" and table.loc["Parameters", "differs"] == ""
    assert table.loc["Padding", "B"] == "valid"

    for key, value in (("ll.b.stride", 2), ("ll.b.kernel_h", 5)):
        at.slider(key=key).set_value(value).run()
    at.selectbox(key="ll.b.pool_kind").set_value("average").run()
    at.radio(key="ll.b.pool_padding").set_value("same").run()
    b = dict(b, stride=2, kh=5, pool_kind="average", pool_padding="same")
    table = at.table[0].value
    for label, value in keras_numbers(b).items():
        assert table.loc[label, "B"] == value, label
    captions = [c.value for c in at.caption]
    for settings in (a, b):  # each column's maps, with the shapes Keras gives them
        k = keras_numbers(settings)
        assert f"{k['Conv2D output']} → {k['Conv2D output']} → {k['Pooling output']}" in captions

    with pytest.raises(ValueError, match="dilation"):  # Keras refuses stride 2 with dilation 2 ...
        keras_numbers(dict(b, dilation=2))
    errors = len(at.error)
    at.slider(key="ll.b.dilation").set_value(2).run()  # ... and so does B, in its column
    no_exception(at)
    assert len(at.error) == errors + 1 and "dilation" in at.error[-1].value
    assert at.table[0].value.loc["Conv2D output", "B"] == "—"
    assert at.table[0].value.loc["Conv2D output", "A"] == keras_numbers(DEFAULTS)["Conv2D output"]
