"""cnnviz.arithmetic against real Keras layers (Keras 3, TensorFlow backend).

Every expected value comes from Keras: compute_output_shape, calling the layer on a
real array, count_params, or the values a layer computes. Never from our formulas.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from cnnviz import arithmetic as ar  # noqa: E402
from cnnviz.layers import MinPooling2D  # noqa: E402

SEED = 20261129
POOLS = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D, "min": MinPooling2D}


def _conv_configs(n: int, seed: int = SEED):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        s = tuple(int(v) for v in rng.integers(1, 5, 2))
        d = tuple(int(v) for v in rng.integers(1, 4, 2))
        mode = rng.integers(0, 3)  # keep most cases legal: stride-only, dilation-only, or both (illegal)
        if mode == 0:
            d = (1, 1)
        elif mode == 1:
            s = (1, 1)
        yield dict(
            input_shape=(int(rng.integers(1, 21)), int(rng.integers(1, 21)), int(rng.integers(1, 4))),
            filters=int(rng.integers(1, 5)),
            kernel_size=tuple(int(v) for v in rng.integers(1, 8, 2)),
            strides=s,
            padding=str(rng.choice(["valid", "same"])),
            dilation_rate=d,
        )


def _keras_conv_shape(cfg):
    """Keras's answer: an (H, W, F) shape, or None where Keras refuses or gives a size below 1."""
    try:
        layer = keras.layers.Conv2D(cfg["filters"], cfg["kernel_size"], strides=cfg["strides"],
                                    padding=cfg["padding"], dilation_rate=cfg["dilation_rate"])
        shape = layer.compute_output_shape((1, *cfg["input_shape"]))
    except ValueError:
        return None
    shape = tuple(int(v) for v in shape[1:])
    return shape if min(shape) >= 1 else None


def _ours(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


CONV_CASES = list(_conv_configs(400))


def test_grid_is_broad():
    """The randomized grid really covers what the test claims (else the test could not fail there)."""
    kinds = {(_keras_conv_shape(c) is None, c["padding"]) for c in CONV_CASES}
    assert kinds == {(True, "valid"), (False, "valid"), (True, "same"), (False, "same")}
    assert any(c["input_shape"][0] != c["input_shape"][1] for c in CONV_CASES)
    assert any(c["kernel_size"][0] != c["kernel_size"][1] for c in CONV_CASES)
    assert any(c["strides"][0] != c["strides"][1] for c in CONV_CASES)
    assert any(max(c["dilation_rate"]) > 1 and max(c["strides"]) == 1 for c in CONV_CASES)
    assert any(min(c["input_shape"][:2]) == 1 for c in CONV_CASES)


def test_conv2d_output_shape_matches_keras_compute_output_shape():
    for cfg in CONV_CASES:
        expected = _keras_conv_shape(cfg)
        got = _ours(ar.conv2d_output_shape, **cfg)
        assert got == expected, cfg


def test_conv2d_output_shape_matches_a_real_call():
    legal = [c for c in CONV_CASES if _keras_conv_shape(c) is not None][::6]
    assert len(legal) >= 25
    rng = np.random.default_rng(SEED)
    for cfg in legal:
        layer = keras.layers.Conv2D(cfg["filters"], cfg["kernel_size"], strides=cfg["strides"],
                                    padding=cfg["padding"], dilation_rate=cfg["dilation_rate"])
        y = layer(rng.random((1, *cfg["input_shape"]), dtype=np.float32))
        assert ar.conv2d_output_shape(**cfg) == tuple(y.shape[1:]), cfg


@pytest.mark.parametrize(
    "cfg",
    [
        dict(input_shape=(3, 3, 1), filters=1, kernel_size=5),  # kernel larger than the input
        dict(input_shape=(6, 6, 1), filters=1, kernel_size=3, dilation_rate=3),  # dilated span 7 > 6
        dict(input_shape=(9, 9, 1), filters=1, kernel_size=3, strides=2, dilation_rate=2),
        dict(input_shape=(9, 9, 1), filters=1, kernel_size=3, strides=(2, 1), dilation_rate=(1, 2)),
        dict(input_shape=(9, 9, 1), filters=1, kernel_size=0),
        dict(input_shape=(9, 9, 1), filters=1, kernel_size=3, strides=0),
        dict(input_shape=(9, 9, 1), filters=1, kernel_size=3, padding="full"),
    ],
)
def test_invalid_conv_is_refused_by_keras_and_by_us(cfg):
    with pytest.raises(ValueError):
        kw = {k: v for k, v in cfg.items() if k != "input_shape"}
        keras.layers.Conv2D(**kw).compute_output_shape((1, *cfg["input_shape"]))
    with pytest.raises(ValueError):
        ar.conv2d_output_shape(**cfg)


def test_invalid_message_names_axis_and_numbers():
    with pytest.raises(ValueError, match=r"width.*5.*3 input columns"):
        ar.conv2d_output_shape((10, 3, 1), 4, (3, 5))
    with pytest.raises(ValueError, match="stride.*dilation"):
        ar.conv2d_output_shape((10, 10, 1), 4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        ar.conv2d_output_shape((10, 10, 1), 4, 3, padding="full")
    with pytest.raises(ValueError, match="at least 1"):
        ar.conv2d_output_shape((0, 10, 1), 4, 3)


def _pool_configs(n: int, seed: int = SEED + 1):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        p = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 5, 2))
        yield dict(
            kind=str(rng.choice(list(POOLS))),
            input_shape=(int(rng.integers(1, 17)), int(rng.integers(1, 17)), int(rng.integers(1, 4))),
            pool_size=p,
            strides=s,
            padding=str(rng.choice(["valid", "same"])),
        )


POOL_CASES = list(_pool_configs(300))


def _keras_pool_shape(cfg):
    try:
        layer = POOLS[cfg["kind"]](pool_size=cfg["pool_size"], strides=cfg["strides"], padding=cfg["padding"])
        shape = layer.compute_output_shape((1, *cfg["input_shape"]))
    except ValueError:
        return None
    shape = tuple(int(v) for v in shape[1:])
    return shape if min(shape) >= 1 else None


def test_pool_grid_is_broad():
    kinds = {(_keras_pool_shape(c) is None, c["padding"], c["kind"]) for c in POOL_CASES}
    assert {(True, "valid"), (False, "valid"), (False, "same")} <= {k[:2] for k in kinds}
    assert {k[2] for k in kinds} == set(POOLS)
    assert any(c["strides"] is None for c in POOL_CASES)


def test_pool2d_output_shape_matches_keras():
    for cfg in POOL_CASES:
        expected = _keras_pool_shape(cfg)
        got = _ours(ar.pool2d_output_shape, cfg["input_shape"], cfg["pool_size"], cfg["strides"], cfg["padding"])
        assert got == expected, cfg


def test_pool2d_output_shape_matches_a_real_call():
    legal = [c for c in POOL_CASES if _keras_pool_shape(c) is not None][::5]
    assert len(legal) >= 25
    rng = np.random.default_rng(SEED)
    for cfg in legal:
        layer = POOLS[cfg["kind"]](pool_size=cfg["pool_size"], strides=cfg["strides"], padding=cfg["padding"])
        y = layer(rng.random((1, *cfg["input_shape"]), dtype=np.float32))
        expected = tuple(y.shape[1:])
        assert ar.pool2d_output_shape(cfg["input_shape"], cfg["pool_size"], cfg["strides"], cfg["padding"]) == expected, cfg


def test_invalid_pool_is_refused():
    with pytest.raises(ValueError):
        keras.layers.MaxPooling2D(5).compute_output_shape((1, 3, 3, 1))
    with pytest.raises(ValueError, match="height"):
        ar.pool2d_output_shape((3, 8, 1), 5, padding="valid")


# --- 'same' padding: the real padded result ----------------------------------------

def _same_cases():
    rng = np.random.default_rng(SEED + 2)
    cases = []
    while len(cases) < 40:
        h, w = (int(v) for v in rng.integers(1, 13, 2))
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        if rng.random() < 0.5:
            s, d = tuple(int(v) for v in rng.integers(1, 4, 2)), (1, 1)
        else:
            s, d = (1, 1), tuple(int(v) for v in rng.integers(1, 4, 2))
        cases.append(((h, w), k, s, d))
    return cases


SAME_CASES = _same_cases()


def test_same_cases_include_odd_splits():
    odd = [c for c in SAME_CASES
           if ar.same_padding(c[0][0], c[1][0], c[2][0], c[3][0])[0] != ar.same_padding(c[0][0], c[1][0], c[2][0], c[3][0])[1]]
    assert len(odd) >= 5  # otherwise swapping before/after would go unnoticed


@pytest.mark.parametrize("case", SAME_CASES)
def test_same_padding_split_reproduces_keras_same(case):
    (h, w), k, s, d = case
    rng = np.random.default_rng(h * 100 + w)
    x = rng.normal(size=(1, h, w, 2)).astype(np.float32)
    same = keras.layers.Conv2D(3, k, strides=s, padding="same", dilation_rate=d)
    y_same = same(x)
    valid = keras.layers.Conv2D(3, k, strides=s, padding="valid", dilation_rate=d)
    top, bottom = ar.same_padding(h, k[0], s[0], d[0])
    left, right = ar.same_padding(w, k[1], s[1], d[1])
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    valid.build(xp.shape)
    valid.set_weights(same.get_weights())
    y_valid = valid(xp)
    assert y_valid.shape == y_same.shape
    np.testing.assert_allclose(np.asarray(y_valid), np.asarray(y_same), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", SAME_CASES[:20])
def test_same_padding_split_reproduces_keras_max_pool_same(case):
    (h, w), k, s, _ = case
    x = np.random.default_rng(h + 7 * w).normal(size=(1, h, w, 1)).astype(np.float32)
    y_same = keras.layers.MaxPooling2D(k, strides=s, padding="same")(x)
    top, bottom = ar.same_padding(h, k[0], s[0])
    left, right = ar.same_padding(w, k[1], s[1])
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-1e9)  # never wins a max
    y_valid = keras.layers.MaxPooling2D(k, strides=s, padding="valid")(xp)
    np.testing.assert_array_equal(np.asarray(y_valid), np.asarray(y_same))


# --- parameters and MACs -------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_params_match_count_params(use_bias):
    for cfg in CONV_CASES[:60]:
        layer = keras.layers.Conv2D(cfg["filters"], cfg["kernel_size"], use_bias=use_bias)
        layer.build((None, 32, 32, cfg["input_shape"][2]))
        assert ar.conv2d_params(cfg["kernel_size"], cfg["input_shape"][2], cfg["filters"], use_bias) == layer.count_params()


def test_seed_model_first_layer_params():
    layer = keras.layers.Conv2D(12, (5, 5))
    layer.build((None, 120, 60, 1))
    assert ar.conv2d_params((5, 5), 1, 12) == layer.count_params() == 312


def test_dense_params_match_count_params():
    for n_in, units in [(1, 1), (7, 3), (1600, 128), (128, 4)]:
        for bias in (True, False):
            layer = keras.layers.Dense(units, use_bias=bias)
            layer.build((None, n_in))
            assert ar.dense_params(n_in, units, bias) == layer.count_params()


def test_macs_equal_products_a_real_conv_accumulates():
    """With an all-ones input and kernel and no bias, every multiply-accumulate adds exactly 1, so the
    sum of the layer's outputs counts them. 'same' is run as 'valid' on an input padded with ones, so
    that the products with padding count too (a conv layer performs them)."""
    legal = [c for c in CONV_CASES if _keras_conv_shape(c) is not None][:60]
    for cfg in legal:
        h, w, c = cfg["input_shape"]
        (kh, kw), (sh, sw), (dh, dw) = cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"]
        top, bottom = ar.padding_split(h, kh, sh, cfg["padding"], dh)
        left, right = ar.padding_split(w, kw, sw, cfg["padding"], dw)
        x = np.ones((1, h + top + bottom, w + left + right, c), np.float32)
        layer = keras.layers.Conv2D(cfg["filters"], cfg["kernel_size"], strides=cfg["strides"], padding="valid",
                                    dilation_rate=cfg["dilation_rate"], use_bias=False, kernel_initializer="ones")
        total = float(np.asarray(layer(x)).sum(dtype=np.float64))
        assert ar.conv2d_macs(**cfg) == round(total), cfg


# --- unread rows/columns ---------------------------------------------------------------

def _read_rows_by_keras(h, k, s, padding, d):
    """Rows a real Conv2D reads: light one row per batch item, see which outputs change."""
    x = np.zeros((h, h, 1, 1), np.float32)
    for r in range(h):
        x[r, r] = 1.0
    layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding, dilation_rate=(d, 1),
                                use_bias=False, kernel_initializer="ones")
    y = np.asarray(layer(x)).reshape(h, -1).sum(axis=1)
    return {r for r in range(h) if y[r] > 0}


def test_unread_matches_keras():
    rng = np.random.default_rng(SEED + 3)
    checked = 0
    for _ in range(120):
        h, k = int(rng.integers(1, 16)), int(rng.integers(1, 6))
        s, d = (int(rng.integers(1, 5)), 1) if rng.random() < 0.6 else (1, int(rng.integers(1, 4)))
        padding = str(rng.choice(["valid", "same"]))
        if ar.output_length(h, k, s, padding, d) < 1:
            continue
        read = _read_rows_by_keras(h, k, s, padding, d)
        assert ar.unread_indices(h, k, s, padding, d) == sorted(set(range(h)) - read), (h, k, s, padding, d)
        if padding == "valid":
            trailing = 0
            while trailing < h and (h - 1 - trailing) not in read:
                trailing += 1
            assert ar.unread(h, k, s, d) == trailing, (h, k, s, d)
        checked += 1
    assert checked > 60


def test_unread_example_from_the_lecture():
    # 7 rows, 3x3 kernel, stride 3, valid: windows at rows 0-2 and 3-5, row 6 is never read.
    assert _read_rows_by_keras(7, 3, 3, "valid", 1) == set(range(6))
    assert ar.unread(7, 3, 3) == 1


# --- receptive field -------------------------------------------------------------------

SEED_STACK = [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1), (4, 1, 1), (2, 2, 1)]  # seed model, either axis


def test_receptive_field_of_the_seed_model_by_hand():
    # r += (k - 1) * j; j *= s:  1 -> 1+4=5 -> 5+1=6 (j 2) -> 6+4*2=14 -> 14+1*2=16 (j 4)
    #                           -> 16+3*4=28 -> 28+1*4=32 (j 8)
    fields = ar.receptive_field(SEED_STACK)
    assert [f.size for f in fields] == [5, 6, 14, 16, 28, 32]
    assert [f.jump for f in fields] == [1, 2, 2, 4, 4, 8]


def _gradient_footprint(model, out_index):
    """Input rows and columns with a non-zero gradient for one output unit of a linear stack."""
    x = tf.Variable(np.random.default_rng(0).random((1, *model.input_shape[1:]), dtype=np.float32))
    with tf.GradientTape() as tape:
        y = model(x)
        unit = y[0, out_index[0], out_index[1], 0]
    g = np.abs(tape.gradient(unit, x).numpy()[0]).sum(axis=-1)
    rows = np.nonzero(g.sum(axis=1))[0]
    cols = np.nonzero(g.sum(axis=0))[0]
    return rows, cols


def _linear_stack(input_shape, layers):
    """Convs with positive weights and no activation, average pooling standing in for max pooling
    (same windows): every input pixel inside the receptive field gets a non-zero gradient."""
    stack = [keras.Input(shape=input_shape)]
    for kind, k, s, d in layers:
        if kind == "conv":
            stack.append(keras.layers.Conv2D(1, k, strides=s, dilation_rate=d,
                                             kernel_initializer=keras.initializers.RandomUniform(0.1, 1.0)))
        else:
            stack.append(keras.layers.AveragePooling2D(k, strides=s))
    return keras.Sequential(stack)


def _check_field(input_shape, layers, out_index):
    model = _linear_stack(input_shape, layers)
    rows, cols = _gradient_footprint(model, out_index)
    for axis, idx in ((0, rows), (1, cols)):
        field = ar.receptive_field([(k[axis], s[axis], d[axis]) for _, k, s, d in layers])[-1]
        first = field.start + out_index[axis] * field.jump - field.size / 2
        assert idx.min() == first and idx.max() == first + field.size - 1, (axis, field, idx)
        expected_count = field.size if all(d[axis] == 1 for *_, d in layers) else None
        if expected_count:  # no dilation: the field has no holes
            assert len(idx) == field.size


def test_receptive_field_of_the_seed_model_by_gradients():
    layers = [("conv", (5, 5), (1, 1), (1, 1)), ("pool", (2, 2), (2, 2), (1, 1)),
              ("conv", (5, 5), (1, 1), (1, 1)), ("pool", (2, 2), (2, 2), (1, 1)),
              ("conv", (4, 4), (1, 1), (1, 1)), ("pool", (2, 2), (2, 2), (1, 1))]
    _check_field((120, 60, 1), layers, (5, 2))


def test_receptive_field_of_random_stacks_by_gradients():
    rng = np.random.default_rng(SEED + 4)
    for _ in range(6):
        layers = []
        for _ in range(int(rng.integers(1, 4))):
            k = tuple(int(v) for v in rng.integers(1, 5, 2))
            if rng.random() < 0.5:
                layers.append(("conv", k, tuple(int(v) for v in rng.integers(1, 3, 2)), (1, 1)))
            else:
                layers.append(("conv", k, (1, 1), tuple(int(v) for v in rng.integers(1, 3, 2))))
            if rng.random() < 0.5:
                layers.append(("pool", (2, 2), (2, 2), (1, 1)))
        _check_field((48, 40, 1), layers, (1, 2))
