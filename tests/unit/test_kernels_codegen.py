"""Kernel presets, and the generated Keras code building exactly the layer it describes."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz import codegen  # noqa: E402
from cnnviz.kernels import KERNELS, NAMES, kernel  # noqa: E402
from cnnviz.layers import MinPooling2D  # noqa: E402

EXPECTED_NAMES = {"identity", "sobel_x", "sobel_y", "laplacian", "box_blur", "gaussian_blur", "sharpen", "emboss", "random"}


def test_presets_are_the_agreed_set_of_2d_float32_arrays():
    assert set(KERNELS) == EXPECTED_NAMES == set(NAMES)
    for name, k in KERNELS.items():
        assert k.dtype == np.float32 and k.shape == (3, 3), name


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, (3, 5), (1, 4), (7, 2)])
@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_kernel_sizes(name, size):
    k = kernel(name, size)
    expected = size if isinstance(size, tuple) else (size, size)
    assert k.shape == expected and k.dtype == np.float32 and np.isfinite(k).all()


def test_kernel_returns_copies():
    k = kernel("sobel_x")
    k[:] = 0
    assert KERNELS["sobel_x"].any()


def _conv_impulse(k: np.ndarray, image: np.ndarray) -> np.ndarray:
    """What a real Keras Conv2D with this kernel does to an image (valid padding)."""
    layer = keras.layers.Conv2D(1, k.shape, use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([k[:, :, None, None]])
    return np.asarray(layer(image[None, :, :, None]))[0, :, :, 0]


@pytest.mark.parametrize("size", [3, 5, (3, 5)])
def test_kernels_do_what_their_names_say(size):
    """Behaviour through a real Keras Conv2D: identity copies, blurs keep a flat image flat,
    edge kernels answer only to their direction, Laplacian ignores flat areas, sharpen keeps them."""
    flat = np.full((9, 9), 0.7, np.float32)
    ramp_x = np.tile(np.arange(9, dtype=np.float32), (9, 1))  # grows to the right
    rng = np.random.default_rng(0)
    img = rng.random((9, 9), dtype=np.float32)
    kh, kw = (size, size) if isinstance(size, int) else size
    crop = img[(kh - 1) // 2: 9 - kh // 2, (kw - 1) // 2: 9 - kw // 2]
    np.testing.assert_allclose(_conv_impulse(kernel("identity", size), img), crop, atol=1e-6)
    for blur in ("box_blur", "gaussian_blur"):
        np.testing.assert_allclose(_conv_impulse(kernel(blur, size), flat), 0.7, atol=1e-5)
    assert (_conv_impulse(kernel("sobel_x", size), ramp_x) > 0).all()
    np.testing.assert_allclose(_conv_impulse(kernel("sobel_y", size), ramp_x), 0, atol=1e-5)
    np.testing.assert_allclose(_conv_impulse(kernel("laplacian", size), flat), 0, atol=1e-5)
    np.testing.assert_allclose(_conv_impulse(kernel("sharpen", size), flat), 0.7, atol=1e-5)


def test_random_kernel_is_seeded():
    assert np.array_equal(kernel("random", 5, seed=3), kernel("random", 5, seed=3))
    assert not np.array_equal(kernel("random", 5, seed=3), kernel("random", 5, seed=4))


def test_unknown_kernel_and_bad_size_raise():
    with pytest.raises(ValueError, match="unknown kernel"):
        kernel("nope")
    with pytest.raises(ValueError):
        kernel("identity", 0)


# --- codegen -------------------------------------------------------------------------

def test_conv2d_code_in_the_lecture_style():
    assert (codegen.conv2d_code(10, 3, strides=1, padding="same", activation="relu")
            == "keras.layers.Conv2D(10, kernel_size=(3,3), activation='relu', padding='same', strides=1)")


def _build(code: str):
    return eval(code, {"keras": keras, "MinPooling2D": MinPooling2D})  # noqa: S307 - our own generated code


CONV_CASES = [
    dict(filters=10, kernel_size=3, strides=1, padding="same", dilation_rate=1, activation="relu"),
    dict(filters=1, kernel_size=(3, 5), strides=(2, 1), padding="valid", dilation_rate=1, activation=None),
    dict(filters=7, kernel_size=(1, 4), strides=1, padding="same", dilation_rate=(2, 3), activation="tanh"),
    dict(filters=64, kernel_size=11, strides=4, padding="valid", dilation_rate=1, activation="leaky_relu"),
]


@pytest.mark.parametrize("cfg", CONV_CASES)
def test_conv2d_code_builds_the_same_layer(cfg):
    built = _build(codegen.conv2d_code(**cfg))
    reference = keras.layers.Conv2D(**cfg)
    assert type(built) is keras.layers.Conv2D
    got, want = built.get_config(), reference.get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias"):
        assert got[key] == want[key], key


POOL_CASES = [
    dict(kind="max", pool_size=2, strides=None, padding="valid"),
    dict(kind="average", pool_size=(3, 2), strides=(1, 2), padding="same"),
    dict(kind="min", pool_size=3, strides=2, padding="same"),
]


@pytest.mark.parametrize("cfg", POOL_CASES)
def test_pooling_code_builds_the_same_layer(cfg):
    built = _build(codegen.pooling_code(**cfg))
    from cnnviz.layers import pooling_layer

    reference = pooling_layer(cfg["kind"], cfg["pool_size"], cfg["strides"], cfg["padding"])
    assert type(built) is type(reference)
    got, want = built.get_config(), reference.get_config()
    for key in ("pool_size", "strides", "padding"):
        assert tuple(got[key]) == tuple(want[key]) if key != "padding" else got[key] == want[key], key


def test_unknown_pooling_kind_raises():
    with pytest.raises(ValueError, match="pooling"):
        codegen.pooling_code("median")


def test_conv_pool_snippet_runs_and_matches_the_arithmetic():
    from cnnviz import arithmetic as ar

    conv = dict(filters=10, kernel_size=(3, 5), strides=2, padding="same", activation="relu")
    pool = dict(kind="min", pool_size=2, strides=None, padding="valid")
    code = codegen.conv_pool_code((120, 60, 1), conv, pool)
    assert "from cnnviz.layers import MinPooling2D" in code
    ns: dict = {}
    exec(code.replace("model.summary()", ""), ns)  # noqa: S102 - our own generated code
    model = ns["model"]
    conv_shape = ar.conv2d_output_shape((120, 60, 1), 10, (3, 5), 2, "same")
    x = np.zeros((1, 120, 60, 1), np.float32)
    assert tuple(model.layers[0](x).shape[1:]) == conv_shape
    assert tuple(model(x).shape[1:]) == ar.pool2d_output_shape(conv_shape, 2)
