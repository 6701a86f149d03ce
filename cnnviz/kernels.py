"""Preset convolution kernels (2-D float32 arrays), as the lecture names them.

One 2-D kernel per preset; a layer that needs C input channels replicates it
over the channels (see cnnviz.layerlab).
"""

from __future__ import annotations

import numpy as np

# 3x3 definitions; kernel(name, size) builds other sizes where the idea generalises.
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32),
    "box_blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "gaussian_blur": (np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16).astype(np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float32),
    "random": np.random.default_rng(0).normal(0.0, 1.0 / 3, (3, 3)).astype(np.float32),
}
for _k in KERNELS.values():
    _k.setflags(write=False)  # shared presets: callers get copies from kernel()

NAMES = tuple(KERNELS)


def _size(size) -> tuple[int, int]:
    if isinstance(size, (tuple, list)):
        h, w = (int(v) for v in size)
    else:
        h = w = int(size)
    if h < 1 or w < 1:
        raise ValueError(f"kernel size must be at least 1x1, got {h}x{w}.")
    return h, w


def _gauss1d(n: int) -> np.ndarray:
    # Binomial coefficients: the discrete Gaussian (1 2 1 for n=3).
    row = np.array([1.0])
    for _ in range(n - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _smooth1d(n: int) -> np.ndarray:
    return _gauss1d(n)


def _diff1d(n: int) -> np.ndarray:
    # Central difference shape: negative left, zero centre (odd n), positive right.
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2
    return np.sign(x)


def kernel(name: str, size=3, seed: int = 0) -> np.ndarray:
    """The preset `name` as a float32 array of the given size (int or (h, w)).

    3x3 returns the classic kernel. Other sizes: identity is a centred 1; box and
    Gaussian blur are normalised to sum 1; Sobel is smoothing x difference; Laplacian
    is the (Gaussian-smoothed) centre-minus-neighbours; sharpen is identity plus the
    negative Laplacian; emboss is the sum of both diagonal gradients; random is
    N(0, 1/fan_in) from `seed`.
    """
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of {', '.join(NAMES)}.")
    h, w = _size(size)
    if (h, w) == (3, 3) and name != "random":
        return KERNELS[name].copy()
    if name == "random":
        if (h, w) == (3, 3) and seed == 0:
            return KERNELS["random"].copy()
        rng = np.random.default_rng(seed)
        return rng.normal(0.0, 1.0 / np.sqrt(h * w), (h, w)).astype(np.float32)
    if name == "identity":
        k = np.zeros((h, w))
        k[(h - 1) // 2, (w - 1) // 2] = 1.0
    elif name == "box_blur":
        k = np.full((h, w), 1.0 / (h * w))
    elif name == "gaussian_blur":
        k = np.outer(_gauss1d(h), _gauss1d(w))
        k = k / k.sum()
    elif name == "sobel_x":
        k = np.outer(_smooth1d(h), _diff1d(w))
    elif name == "sobel_y":
        k = np.outer(_diff1d(h), _smooth1d(w))
    elif name in ("laplacian", "sharpen"):
        # Centre minus the mean of the rest, scaled like the 3x3 (sum of neighbours weights = 4).
        k = np.full((h, w), 0.0)
        if h * w > 1:
            k[:] = 4.0 / (h * w - 1)
            k[(h - 1) // 2, (w - 1) // 2] = -4.0  # a 1x1 window has no neighbours: all zero
        if name == "sharpen":
            k = -k
            k[(h - 1) // 2, (w - 1) // 2] += 1.0
    elif name == "emboss":
        y = np.arange(h, dtype=np.float64) - (h - 1) / 2
        x = np.arange(w, dtype=np.float64) - (w - 1) / 2
        k = np.sign(y)[:, None] + np.sign(x)[None, :]
        k[(h - 1) // 2, (w - 1) // 2] = 1.0 if h % 2 and w % 2 else k[(h - 1) // 2, (w - 1) // 2]
    else:  # pragma: no cover - every name is handled above
        raise ValueError(name)
    return np.asarray(k, dtype=np.float32)
