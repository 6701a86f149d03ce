"""Convolution's statistical meaning: the distribution of a sum of independent random variables.

If r1 ~ f1 and r2 ~ f2 are independent, S = r1 + r2 has f_S(s) = sum_y f1(y) f2(s - y), the
convolution f1 * f2. Distributions here live on whole numbers, so numpy.convolve computes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.messages import MessageError

KINDS = ("die", "loaded_die", "uniform", "custom")
MAX_SPAN = 200  # support width a bar chart can still show


@dataclass(frozen=True)
class Distribution:
    """P(X = start + i) = probs[i] for i = 0 .. len(probs) - 1."""

    start: int
    probs: np.ndarray

    @property
    def values(self) -> np.ndarray:
        return np.arange(self.start, self.start + len(self.probs))

    @property
    def mean(self) -> float:
        return float((self.values * self.probs).sum())

    @property
    def variance(self) -> float:
        return float((((self.values - self.mean) ** 2) * self.probs).sum())


def table(values, weights) -> Distribution:
    """A distribution from a table of whole-number values and non-negative weights (normalised)."""
    try:
        v = np.asarray(values, dtype=np.float64).ravel()
        w = np.asarray(weights, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise MessageError("prob.msg.numbers") from None
    if v.size == 0 or v.size != w.size:
        raise MessageError("prob.msg.rows")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(w))):
        raise MessageError("prob.msg.empty")
    if np.any(v != np.round(v)):
        raise MessageError("prob.msg.whole")
    if np.any(w < 0):
        raise MessageError("prob.msg.negative")
    if w.sum() <= 0:
        raise MessageError("prob.msg.zero")
    v = v.astype(np.int64)
    lo, hi = int(v.min()), int(v.max())
    if hi - lo + 1 > MAX_SPAN:
        raise MessageError("prob.msg.span", span=MAX_SPAN, lo=lo, hi=hi)
    probs = np.zeros(hi - lo + 1)
    np.add.at(probs, v - lo, w)  # repeated values add up
    return Distribution(lo, probs / probs.sum())


def die(sides: int = 6) -> Distribution:
    if int(sides) < 1:
        raise MessageError("prob.msg.sides", sides=sides)
    return uniform(1, int(sides))


def loaded_die(face: int = 6, probability: float = 0.5, sides: int = 6) -> Distribution:
    """A die that shows `face` with `probability`; the other faces share the rest equally."""
    if not 1 <= face <= sides:
        raise MessageError("prob.msg.face", sides=sides, face=face)
    if not 0 <= probability <= 1:
        raise MessageError("prob.msg.probability", p=probability)
    if sides == 1:
        return die(1)
    weights = np.full(sides, (1 - probability) / (sides - 1))
    weights[face - 1] = probability
    return table(np.arange(1, sides + 1), weights)


def uniform(low: int, high: int) -> Distribution:
    low, high = int(low), int(high)
    if high < low:
        raise MessageError("prob.msg.range", low=low, high=high)
    return table(np.arange(low, high + 1), np.ones(high - low + 1))


def convolve(f1: Distribution, f2: Distribution) -> Distribution:
    """The distribution of r1 + r2 for independent r1 ~ f1, r2 ~ f2: numpy.convolve of the tables."""
    return Distribution(f1.start + f2.start, np.convolve(f1.probs, f2.probs))


def sample(dist: Distribution, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(dist.values, size=int(n), p=dist.probs)


def monte_carlo(f1: Distribution, f2: Distribution, n: int, seed: int = 0) -> tuple[np.ndarray, Distribution]:
    """n sampled sums r1 + r2 (seeded) and their relative frequencies on f1 * f2's support."""
    if int(n) < 1:
        raise MessageError("prob.msg.samples", n=n)
    rng = np.random.default_rng(seed)
    sums = sample(f1, n, rng) + sample(f2, n, rng)
    exact = convolve(f1, f2)
    counts = np.bincount(sums - exact.start, minlength=len(exact.probs))
    return sums, Distribution(exact.start, counts / counts.sum())


def convolve2d(f1, f2) -> np.ndarray:
    """Full 2-D convolution: the table of (r1 + r2) for independent 2-D variables (row, column) with
    tables f1 and f2, the same sliding and summing as a convolution layer (which does not flip)."""
    a, b = np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("both tables must be 2-D.")
    out = np.zeros((a.shape[0] + b.shape[0] - 1, a.shape[1] + b.shape[1] - 1))
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i : i + b.shape[0], j : j + b.shape[1]] += a[i, j] * b  # every pair of cells adds up
    return out
