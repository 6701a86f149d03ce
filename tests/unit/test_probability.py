"""Convolution of distributions: exact against enumeration, Monte-Carlo against exact."""

import itertools

import numpy as np
import pytest

from cnnviz import probability as pr


def enumerate_sum(f1, f2):
    """P(r1 + r2 = s) by listing every pair: the definition, without any convolution routine."""
    out = {}
    for (a, pa), (b, pb) in itertools.product(zip(f1.values, f1.probs), zip(f2.values, f2.probs)):
        out[int(a + b)] = out.get(int(a + b), 0.0) + pa * pb
    return out


def test_two_dice():
    s = pr.convolve(pr.die(), pr.die())
    assert s.values.tolist() == list(range(2, 13))
    np.testing.assert_allclose(s.probs * 36, [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])


@pytest.mark.parametrize(
    "f1, f2",
    [
        (pr.die(), pr.loaded_die(6, 0.5)),
        (pr.uniform(-3, 2), pr.die(4)),
        (pr.table([0, 5, 5, 9], [1, 2, 3, 4]), pr.uniform(-2, -1)),
        (pr.loaded_die(1, 0.9, 8), pr.table([3], [1])),
    ],
)
def test_convolution_equals_enumeration_of_pairs(f1, f2):
    s = pr.convolve(f1, f2)
    expected = enumerate_sum(f1, f2)
    assert s.probs.sum() == pytest.approx(1.0)
    for v, p in zip(s.values, s.probs):
        assert p == pytest.approx(expected.get(int(v), 0.0), abs=1e-12)
    assert s.mean == pytest.approx(f1.mean + f2.mean)
    assert s.variance == pytest.approx(f1.variance + f2.variance)


def test_monte_carlo_agrees_and_is_seeded():
    f1, f2 = pr.die(), pr.loaded_die(6, 0.5)
    sums, freq = pr.monte_carlo(f1, f2, 200_000, seed=3)
    exact = pr.convolve(f1, f2)
    assert freq.start == exact.start and len(freq.probs) == len(exact.probs)
    assert np.abs(freq.probs - exact.probs).max() < 0.01
    again, _ = pr.monte_carlo(f1, f2, 200_000, seed=3)
    np.testing.assert_array_equal(sums, again)
    other, _ = pr.monte_carlo(f1, f2, 200_000, seed=4)
    assert not np.array_equal(sums, other)


def test_loaded_die_probabilities():
    d = pr.loaded_die(2, 0.5, 6)
    np.testing.assert_allclose(d.probs, [0.1, 0.5, 0.1, 0.1, 0.1, 0.1])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: pr.table([1, 2], [1, -1]), "negative"),
        (lambda: pr.table([1, 2], [0, 0]), "above 0"),
        (lambda: pr.table([1.5], [1]), "whole numbers"),
        (lambda: pr.table([1, np.nan], [1, 1]), "empty"),
        (lambda: pr.table([], []), "at least one row"),
        (lambda: pr.uniform(3, 1), "empty"),
        (lambda: pr.loaded_die(7, 0.5), "between 1 and 6"),
        (lambda: pr.loaded_die(1, 1.5), "between 0 and 1"),
        (lambda: pr.table([0, 1000], [1, 1]), "consecutive"),
    ],
)
def test_bad_tables_give_readable_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_two_dimensional_convolution_is_the_sum_of_two_2d_variables():
    rng = np.random.default_rng(0)
    f1, f2 = rng.random((3, 4)), rng.random((2, 3))
    f1, f2 = f1 / f1.sum(), f2 / f2.sum()
    out = pr.convolve2d(f1, f2)
    expected = np.zeros((4, 6))
    for (i, j), p in np.ndenumerate(f1):  # enumerate every pair: (i, j) + (k, l)
        for (k, l), q in np.ndenumerate(f2):
            expected[i + k, j + l] += p * q
    np.testing.assert_allclose(out, expected)
    assert out.sum() == pytest.approx(1.0)
    # Separable tables: the 2-D result is the outer product of the 1-D convolutions.
    a, b = np.array([1, 2, 1]) / 4, np.array([1, 1, 1]) / 3
    np.testing.assert_allclose(pr.convolve2d(np.outer(a, a), np.outer(b, b)),
                               np.outer(np.convolve(a, b), np.convolve(a, b)))
