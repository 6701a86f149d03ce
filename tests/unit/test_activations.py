"""cnnviz.activations.extract against calling each Keras layer directly."""

import gc
import threading
import weakref

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import activations as A
from cnnviz.models import seed_model


def _x(shape, n=2, seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype="float32")


def _np(a):
    return a if isinstance(a, np.ndarray) else keras.ops.convert_to_numpy(a)  # torch tensors need detaching


def _close(a, b):
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def seed():
    keras.utils.set_random_seed(1)
    return seed_model()


def test_sequential_matches_layer_by_layer(seed):
    x = _x((120, 60, 1))
    got = A.extract(seed, x)
    assert list(got) == [layer.name for layer in seed.layers]
    h = x
    for layer in seed.layers:
        h = layer(h)
        assert got[layer.name].shape == tuple(h.shape)
        _close(got[layer.name], h)
    _close(got[seed.layers[-1].name], seed(x))


def test_pre_activation_is_the_conv_without_its_activation(seed):
    x = _x((120, 60, 1), seed=3)
    acts = A.extract_all(seed, x)
    convs = [layer for layer in seed.layers if isinstance(layer, layers.Conv2D)]
    assert set(acts.pre) == {c.name for c in convs}
    h = x
    for layer in seed.layers:
        if isinstance(layer, layers.Conv2D):
            linear = layers.Conv2D.from_config({**layer.get_config(), "activation": None, "name": "lin"})
            linear.build(h.shape)
            linear.set_weights(layer.get_weights())
            _close(acts.pre[layer.name], linear(h))
            assert acts.pre[layer.name].min() < 0, "a ReLU's input has negative values"
            _close(acts.outputs[layer.name], np.maximum(acts.pre[layer.name], 0))
        h = layer(h)
    pre = A.extract(seed, x, pre_activation=True)
    assert list(pre) == list(acts.outputs)
    conv, pool = seed.layers[0].name, seed.layers[1].name
    _close(pre[conv], acts.pre[conv])
    _close(pre[pool], acts.outputs[pool])


def test_pre_activation_without_bias_and_other_activation():
    keras.utils.set_random_seed(2)
    inp = keras.Input((9, 9, 2))
    conv = layers.Conv2D(3, 3, activation="tanh", use_bias=False, padding="same", strides=2, name="c")
    model = keras.Model(inp, conv(inp))
    x = _x((9, 9, 2))
    acts = A.extract_all(model, x)
    lin = keras.ops.conv(x, conv.kernel, strides=2, padding="same")
    _close(acts.pre["c"], lin)
    _close(acts.outputs["c"], np.tanh(acts.pre["c"]))


def test_linear_conv_has_no_separate_pre_activation():
    inp = keras.Input((6, 6, 1))
    model = keras.Model(inp, layers.Conv2D(2, 3, name="c")(inp))
    acts = A.extract_all(model, _x((6, 6, 1)))
    assert acts.pre == {}
    _close(A.extract(model, _x((6, 6, 1)), pre_activation=True)["c"], acts.outputs["c"])


def test_functional_branches_add_concatenate():
    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 3), name="img")
    stem = layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")
    left = layers.Conv2D(4, 3, padding="same", activation="relu", name="left")
    right = layers.Conv2D(4, 1, name="right")
    add = layers.Add(name="add")
    pool = layers.MaxPooling2D(name="pool")
    side = layers.AveragePooling2D(2, name="side")
    cat = layers.Concatenate(name="cat")
    gap = layers.GlobalAveragePooling2D(name="gap")
    out = layers.Dense(3, activation="softmax", name="out")
    s = stem(inp)
    a = add([left(s), right(s)])
    c = cat([pool(a), side(s)])
    model = keras.Model(inp, out(gap(c)))

    x = _x((16, 16, 3), n=3)
    got = A.extract(model, x)
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert list(got) == names
    # the same graph, one layer call at a time
    s_ = stem(x)
    l_, r_ = left(s_), right(s_)
    a_ = add([l_, r_])
    p_, d_ = pool(a_), side(s_)
    c_ = cat([p_, d_])
    g_ = gap(c_)
    expected = {"stem": s_, "left": l_, "right": r_, "add": a_, "pool": p_, "side": d_, "cat": c_, "gap": g_,
                "out": out(g_)}
    assert set(got) == set(expected)
    for name, value in expected.items():
        _close(got[name], value)
    assert got["cat"].shape == (3, 8, 8, 8)
    assert set(A.extract_all(model, x).pre) == {"stem", "left"}


def test_nested_sequential_is_opened_layer_by_layer():
    keras.utils.set_random_seed(4)
    block = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu", name="bc"),
                              layers.MaxPooling2D(name="bp")], name="block")
    inp = keras.Input((8, 8, 1))
    model = keras.Model(inp, layers.Flatten(name="flat")(block(inp)))
    x = _x((8, 8, 1))
    got = A.extract(model, x)
    assert list(got) == ["block/bc", "block/bp", "flat"]
    _close(got["block/bc"], block.layers[0](x))
    _close(got["block/bp"], block(x))
    _close(got["flat"], model(x))
    assert A.layer_of(model, "block/bc") is block.layers[0]
    assert set(A.extract_all(model, x).pre) == {"block/bc"}
    _close(A.extract_all(model, x).pre["block/bc"], keras.ops.conv(x, block.layers[0].kernel) + block.layers[0].bias)
    assert set(A.layer_times(model, x, repeats=1)) == {"block/bc", "block/bp", "flat"}


def _transfer_model():
    """Keras's transfer-learning guide: a functional base model, called on a new input with training=False
    inside a functional model (so the base has two graphs: its own and the outer one)."""
    keras.utils.set_random_seed(11)
    b_in = keras.Input((16, 16, 3))
    h = layers.Conv2D(4, 3, padding="same", name="b_conv")(b_in)
    h = layers.BatchNormalization(name="b_bn")(h)
    h = layers.ReLU(name="b_relu")(h)
    inner = keras.Sequential([keras.Input((16, 16, 4)), layers.DepthwiseConv2D(3, padding="same", name="dw")],
                             name="inner")
    base = keras.Model(b_in, layers.Add(name="b_add")([h, inner(h)]), name="base")
    base.trainable = False
    inp = keras.Input((16, 16, 3))
    x = layers.Rescaling(1 / 255, name="scale")(inp)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.2, name="drop")(x)
    return keras.Model(inp, layers.Dense(3, activation="softmax", name="head")(x)), base, inner


def test_transfer_learning_model_nested_at_two_depths():
    """Was: ValueError 'Output with path 1 is not connected to inputs' (the base's own graph's output)."""
    model, base, inner = _transfer_model()
    x = _x((16, 16, 3), n=2, seed=12) * 255
    got = A.extract(model, x)
    assert list(got) == ["scale", "base/b_conv", "base/b_bn", "base/b_relu", "base/inner/dw", "base/b_add",
                         "gap", "drop", "head"]
    s = x / 255
    conv = base.get_layer("b_conv")(s)
    relu = base.get_layer("b_relu")(base.get_layer("b_bn")(conv, training=False))
    expected = {"scale": s, "base/b_conv": conv, "base/b_relu": relu, "base/inner/dw": inner(relu),
                "base/b_add": base(s, training=False), "head": model(x, training=False)}
    for name, value in expected.items():
        _close(got[name], value)
    _close(got["drop"], got["gap"])  # Dropout is inactive at inference, as in Keras
    assert A.layer_of(model, "base/inner/dw") is inner.layers[0]
    times = A.layer_times(model, x[:1], repeats=1)
    assert set(times) == set(got)


def test_clashing_nested_names_keep_nested_models_whole():
    """Two nested models with layers of the same name cannot be opened into one graph (names must be
    unique there): they stay one layer each, with the right numbers."""
    keras.utils.set_random_seed(13)

    def block(name):
        return keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(2, 3, padding="same", name="same_name")],
                                name=name)

    first, second = block("first"), block("second")
    inp = keras.Input((8, 8, 2))
    model = keras.Model(inp, second(first(inp)))
    x = _x((8, 8, 2))
    got = A.extract(model, x)
    assert list(got) == ["first", "second"]
    _close(got["first"], first(x))
    _close(got["second"], model(x))


def test_shared_layer_called_twice_has_both_outputs():
    keras.utils.set_random_seed(14)
    inp = keras.Input((6, 6, 1))
    conv = layers.Conv2D(1, 3, padding="same", name="shared")
    model = keras.Model(inp, layers.Add(name="sum")([conv(inp), conv(conv(inp))]))
    x = _x((6, 6, 1))
    got = A.extract(model, x)
    assert {"shared", "shared#2", "shared#3", "sum"} <= set(got)
    _close(got["sum"], model(x))


def test_extractor_is_built_once_and_predict_is_never_called(seed, monkeypatch):
    first, lean = A.extractor(seed), A.extractor(seed, pre_activations=False)
    assert A.extractor(seed) is first and A.extractor(seed, pre_activations=False) is lean and lean is not first

    def refuse(*args, **kwargs):
        raise AssertionError("model.predict or a new keras.Model per call")

    monkeypatch.setattr(seed, "predict", refuse)
    monkeypatch.setattr(keras, "Model", refuse)
    A.extract(seed, _x((120, 60, 1), n=1))
    A.extract(seed, _x((120, 60, 1), n=1, seed=9), pre_activation=True)
    A.extract_all(seed, _x((120, 60, 1), n=1, seed=8), pre_activations=False)
    A.layer_times(seed, _x((120, 60, 1), n=1), repeats=1)
    assert A.extractor(seed) is first and A.extractor(seed, pre_activations=False) is lean


def test_outputs_alone_skip_the_second_convolution(seed):
    """Without pre-activations the extractor computes each layer once: one output per layer and no
    linear copy of a conv layer in its graph; the outputs are the same numbers."""
    x = _x((120, 60, 1), seed=5)
    lean = A.extractor(seed, pre_activations=False)
    assert lean.names == [layer.name for layer in seed.layers]
    assert not any(isinstance(layer, A._LinearPart) for layer in lean.model.layers)
    assert any(isinstance(layer, A._LinearPart) for layer in A.extractor(seed).model.layers)
    outputs_only = A.extract_all(seed, x, pre_activations=False)
    assert outputs_only.pre == {}
    full = A.extract_all(seed, x)
    assert list(outputs_only.outputs) == list(full.outputs)
    for name, value in full.outputs.items():
        _close(outputs_only.outputs[name], value)
    assert A.has_pre_activations(seed)
    inp = keras.Input((6, 6, 1))
    assert not A.has_pre_activations(keras.Model(inp, layers.Conv2D(2, 3)(inp)))


def test_layer_times_use_the_calls_of_a_built_extractor():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu", name="c"),
                              layers.Flatten(name="f")])
    times = A.layer_times(model, _x((8, 8, 1), n=1), repeats=1)  # nothing built yet: the plain one is
    assert set(times) == {"c", "f"} and all(t > 0 for t in times.values())
    assert A.extractor(model, pre_activations=False).calls is A.calls(model)


def test_cache_lets_the_model_go():
    model = seed_model()
    A.extract(model, _x((120, 60, 1), n=1))
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_concurrent_calls_get_their_own_results(seed):
    inputs = [_x((120, 60, 1), n=1, seed=s) for s in range(6)]
    last = seed.layers[-1].name
    serial = [A.extract(seed, x)[last] for x in inputs]
    results = [None] * len(inputs)
    errors = []

    def work(i):
        try:
            for _ in range(5):
                results[i] = A.extract(seed, inputs[i])[last]
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for got, want in zip(results, serial):
        _close(got, want)
    assert not np.allclose(serial[0], serial[1]), "different images give different outputs"


def test_bad_shapes_are_value_errors(seed):
    assert A.extract(seed, np.zeros((120, 60, 1)))["conv1"].shape[0] == 1  # one image: the batch of one
    with pytest.raises(ValueError, match="120, 60, 1"):
        A.extract(seed, np.zeros((1, 60, 120, 1)))


def test_model_without_input_is_a_value_error():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="input"):
        A.extract(model, np.zeros((1, 3)))


def test_layer_times_cover_every_layer(seed):
    x = _x((120, 60, 1), n=1)
    times = A.layer_times(seed, x, repeats=2)
    assert list(times) == [layer.name for layer in seed.layers]
    assert all(t > 0 for t in times.values())


def test_layer_times_functional():
    inp = keras.Input((8, 8, 1))
    a = layers.Conv2D(2, 3, padding="same", name="a")(inp)
    b = layers.Conv2D(2, 1, name="b")(inp)
    model = keras.Model(inp, layers.Add(name="sum")([a, b]))
    assert set(A.layer_times(model, _x((8, 8, 1)), repeats=1)) == {"a", "b", "sum"}


def test_loaded_sequential_with_several_graphs(tmp_path):
    """A loaded Sequential holds several graphs of its layers; every output must come from one pass."""
    keras.utils.set_random_seed(5)
    model = seed_model()
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = _x((120, 60, 1), n=1, seed=7)
    got = A.extract(loaded, x)
    h = x
    for layer in loaded.layers:
        h = layer(h)
        _close(got[layer.name], h)
    assert list(A.layer_times(loaded, x, repeats=1)) == [layer.name for layer in loaded.layers]


def test_one_image_counts_as_the_batch_of_one(seed):
    x = _x((120, 60, 1), n=1, seed=5)
    for pre in (False, True):
        batched = A.extract(seed, x, pre_activation=pre)
        one = A.extract(seed, x[0], pre_activation=pre)
        assert list(one) == list(batched)
        for name in batched:
            assert one[name].shape == batched[name].shape and one[name].shape[0] == 1
            np.testing.assert_allclose(one[name], batched[name], rtol=1e-6, atol=1e-7)
    assert A.extract(seed, _x((120, 60, 1), n=2))["conv1"].shape[0] == 2  # extract stays a batch function
    with pytest.raises(ValueError, match="takes inputs of shape"):
        A.extract(seed, np.zeros((60, 120, 1), "float32"))
