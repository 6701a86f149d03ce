"""The summary computed before building equals what the built Keras model says."""

import random

import keras
import pytest

from cnnviz import architecture as arch
from cnnviz import models
from cnnviz.architecture import ArchitectureError, ArchSpec, LayerSpec


def _check_against_keras(spec: ArchSpec):
    summary = arch.summarize(spec)
    model = arch.build(spec)
    assert len(summary.rows) == len(model.layers)
    running = 0
    for row, layer in zip(summary.rows, model.layers):
        assert row.name == layer.name
        assert row.output_shape == tuple(layer.output.shape[1:]), row.name
        assert row.params == layer.count_params(), row.name
        running += layer.count_params()
        assert row.total_params == running
    assert summary.total_params == model.count_params()
    return summary, model


SEQUENTIAL_PRESETS = sorted(k for k in models.PRESETS if k != "efficientnet_lite0")  # Lite0 has skip connections


def test_lite0_is_not_a_layer_table():
    with pytest.raises(arch.ArchitectureError, match="Only Sequential"):
        arch.from_model(models.PRESETS["efficientnet_lite0"].build())


@pytest.mark.parametrize("key", SEQUENTIAL_PRESETS)
def test_presets_round_trip_and_match_keras(key):
    try:
        preset = models.PRESETS[key].build()
    except FileNotFoundError as e:  # the shipped trained default is made by `make train-default`
        pytest.skip(str(e))
    spec = arch.from_model(preset)
    summary, model = _check_against_keras(spec)
    assert model.count_params() == preset.count_params()
    assert [tuple(layer.output.shape) for layer in model.layers] == [tuple(layer.output.shape) for layer in preset.layers]
    # and back through the table the page edits
    again = arch.summarize(arch.from_rows(arch.to_rows(spec), spec.input_shape))
    assert [(r.output_shape, r.params) for r in again.rows] == [(r.output_shape, r.params) for r in summary.rows]


def test_seed_model_numbers():
    summary = arch.summarize(arch.from_model(models.seed_model()))
    assert summary.total_params == 133_792
    first = summary.rows[0]
    assert first.output_shape == (116, 56, 12)
    assert first.receptive_field == (5, 5) and first.jump == (1, 1)
    # conv 5 -> pool 2 -> conv 5: 5 + 1*1 (pool) + 4*2 = 14, jump 2
    assert summary.rows[2].receptive_field == (14, 14) and summary.rows[2].jump == (2, 2)
    assert first.macs == 116 * 56 * 12 * 5 * 5 * 1


def _random_spec(rng: random.Random) -> ArchSpec:
    h, w, c = rng.randint(8, 40), rng.randint(8, 40), rng.choice([1, 3])
    layers = []
    for _ in range(rng.randint(1, 5)):
        kind = rng.choice(["Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D", "MinPooling2D",
                           "BatchNormalization", "Dropout"])
        if kind == "Conv2D":
            dil = rng.choice([1, 1, 2])
            layers.append(LayerSpec("Conv2D", rng.randint(1, 8), (rng.randint(1, 4), rng.randint(1, 4)),
                                    (1, 1) if dil > 1 else (rng.randint(1, 2), rng.randint(1, 2)),
                                    rng.choice(["valid", "same"]), (dil, dil), rng.choice(["relu", "tanh", "linear"])))
        elif kind in arch.POOLINGS:
            layers.append(LayerSpec(kind, kernel=(rng.randint(1, 3), rng.randint(1, 3)),
                                    strides=rng.choice([None, (1, 1), (2, 1)]), padding=rng.choice(["valid", "same"])))
        elif kind == "Dropout":
            layers.append(LayerSpec(kind, rate=0.25))
        else:
            layers.append(LayerSpec(kind))
    layers.append(rng.choice([LayerSpec("Flatten"), LayerSpec("GlobalAveragePooling2D")]))
    layers.append(LayerSpec("Dense", rng.randint(1, 16), activation="relu"))
    layers.append(LayerSpec("Dense", 3, activation="softmax"))
    return ArchSpec((h, w, c), tuple(layers))


def test_random_valid_architectures_match_keras():
    rng = random.Random(1234)
    checked = 0
    while checked < 12:
        spec = _random_spec(rng)
        try:
            arch.summarize(spec)
        except ArchitectureError:
            continue  # impossible ones are tested below
        _check_against_keras(spec)
        checked += 1


def test_dense_on_a_map_acts_on_channels_like_keras():
    spec = ArchSpec((6, 5, 3), (LayerSpec("Conv2D", 4, (3, 3)), LayerSpec("Dense", 7)))
    summary, _ = _check_against_keras(spec)
    assert summary.output_shape == (4, 3, 7)


def test_impossible_kernel_names_the_layer_and_the_arithmetic():
    spec = ArchSpec((12, 14, 1), (
        LayerSpec("Conv2D", 4, (3, 3), activation="relu"),
        LayerSpec("MaxPooling2D", kernel=(3, 3)),
        LayerSpec("Conv2D", 4, (5, 5)),
        LayerSpec("Flatten"),
        LayerSpec("Dense", 2),
    ))
    # 12x14 -> 10x12 -> 3x4 -> a 5x5 kernel does not fit
    with pytest.raises(ArchitectureError) as err:
        arch.summarize(spec)
    assert err.value.index == 3 and err.value.name == "conv2d_1"
    msg = str(err.value)
    assert "Layer 3 (conv2d_1, Conv2D)" in msg and "5" in msg and "3 input rows" in msg
    with pytest.raises(ArchitectureError):
        arch.build(spec)
    # Keras agrees it is impossible
    import keras
    with pytest.raises(Exception):
        m = keras.Sequential([keras.Input((3, 4, 4)), keras.layers.Conv2D(4, (5, 5))])
        assert m.output.shape[1] > 0


def test_conv_after_flatten_and_bad_values_are_named():
    spec = ArchSpec((8, 8, 1), (LayerSpec("Flatten"), LayerSpec("Conv2D", 2, (3, 3))))
    with pytest.raises(ArchitectureError, match=r"Layer 2 \(conv2d, Conv2D\).*flat vector of 64"):
        arch.summarize(spec)
    with pytest.raises(ArchitectureError, match="Layer 1.*filters must be at least 1"):
        arch.summarize(ArchSpec((8, 8, 1), (LayerSpec("Conv2D", 0, (3, 3)),)))
    with pytest.raises(ArchitectureError, match="Layer 2 .*kernel"):
        arch.from_rows([{"layer": "Flatten"}, {"layer": "Conv2D", "filters_units": 2, "kernel": "3y"}], (8, 8, 1))


def test_table_parsing_and_classes():
    rows = [
        {"layer": "Conv2D", "filters_units": 6, "kernel": "5x3", "stride": "", "padding": "same",
         "dilation": "", "activation": "relu", "rate": None},
        {"layer": "MinPooling2D", "kernel": "2", "stride": None, "padding": "valid"},
        {"layer": None},  # an empty row the editor added
        {"layer": "Flatten"},
        {"layer": "Dense", "filters_units": 10.0, "activation": "softmax"},
    ]
    spec = arch.from_rows(rows, (20, 20, 1))
    assert spec.layers[0].kernel == (5, 3) and spec.layers[0].strides is None
    assert len(spec.layers) == 4
    spec = arch.with_classes(spec, 4)
    assert arch.classes(spec) == 4
    _check_against_keras(spec)


def test_model_the_table_cannot_hold_names_its_layer():
    """Was: TypeError (the layer's name passed twice to ArchitectureError): an error branch no test ran."""
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.RandomFlip(name="flip"),
                              keras.layers.Rescaling(1 / 255), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    with pytest.raises(ArchitectureError) as err:
        arch.from_model(model)
    assert (err.value.key, err.value.index, err.value.name) == ("arch.not_editable", 1, "flip")
    assert "Layer 1 (flip): RandomFlip cannot be edited" in str(err.value)
    conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, use_bias=False, name="nobias")])
    with pytest.raises(ArchitectureError) as err:
        arch.from_model(conv)
    assert (err.value.key, err.value.name) == ("arch.conv_not_editable", "nobias")
