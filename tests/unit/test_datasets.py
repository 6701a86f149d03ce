"""cnnviz.datasets.shapes: deterministic, balanced, in range, and really different per seed."""

import numpy as np
import pytest

from cnnviz.datasets import SHAPE_CLASSES, shapes


def test_shapes_deterministic_for_a_seed():
    x1, y1, names1 = shapes(24, seed=7)
    x2, y2, names2 = shapes(24, seed=7)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert names1 == names2 == SHAPE_CLASSES


def test_other_seed_gives_other_images():
    x1, _, _ = shapes(8, seed=0)
    x2, _, _ = shapes(8, seed=1)
    assert not np.allclose(x1, x2)


def test_shapes_dtype_range_shape_and_balance():
    x, y, names = shapes(40, seed=3)
    assert x.shape == (40, 120, 60, 1) and x.dtype == np.float32
    assert y.shape == (40,) and y.dtype.kind == "i"
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert list(np.bincount(y, minlength=len(names))) == [10, 10, 10, 10]
    # every image holds a shape brighter than its background, not just noise
    assert all(img.max() - np.median(img) > 0.2 for img in x[..., 0])


def test_other_sizes_and_rgb():
    x, y, _ = shapes(4, height=32, width=48, channels=3, seed=0)
    assert x.shape == (4, 32, 48, 3)


@pytest.mark.parametrize("kwargs", [{"n": -1}, {"n": 2, "channels": 2}, {"n": 2, "height": 4}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        shapes(**kwargs)
