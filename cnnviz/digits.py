"""Handwritten digits: the UCI "Optical Recognition of Handwritten Digits" data and the representation it uses.

The data (1,797 digits by 13 writers, 8x8 values 0-16; E. Alpaydin and C. Kaynak, 1998; CC BY 4.0) is the
copy scikit-learn ships in its wheel, extracted once into `cnnviz/data/uci_digits.npz` by
`python -m cnnviz.digits --extract` (scikit-learn is needed only for that, never to run the app).

UCI made each value by normalising the digit's bitmap to 32x32 and counting the "on" pixels in each
4x4 block. `bitmap` does the same to any picture (a drawing, a photo of a digit): ink is the colour that
differs from the border, the ink's bounding box is scaled so its longer side fills 32 pixels, centred;
`blocks` counts the 4x4 blocks. The Digits model (cnnviz.models) takes the 32x32 bitmap and counts the blocks
itself (an AveragePooling2D of 4x4: the count / 16), so its first maps are exactly UCI's 8x8 values.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

DATA = Path(__file__).with_name("data") / "uci_digits.npz"
SIDE = 32  # UCI's normalised bitmap
BLOCK = 4  # counted in 4x4 blocks -> 8x8 values 0..16
CLASS_NAMES = tuple(str(d) for d in range(10))
HELD_OUT = 0.2  # share of the digits the shipped model never trains on (fixed, seeded)


def load() -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x (1797, 8, 8) uint8 values 0..16, y (1797,) digits."""
    with np.load(DATA) as f:
        return f["x"], f["y"]


def split(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices): a fixed, seeded 80/20 split, stratified by digit."""
    _, y = load()
    rng = np.random.default_rng(seed)
    held = []
    for d in range(10):
        idx = np.flatnonzero(y == d)
        held.extend(rng.permutation(idx)[: int(round(len(idx) * HELD_OUT))])
    held = np.sort(np.array(held))
    train = np.setdiff1d(np.arange(len(y)), held)
    return train, held


def as_bitmaps(x: np.ndarray) -> np.ndarray:
    """UCI's 8x8 counts as the model's (N, 32, 32, 1) input: each block filled with count / 16, so the
    model's 4x4 average gives the count / 16 back exactly."""
    x = np.asarray(x, dtype="float32") / (BLOCK * BLOCK)
    return np.kron(x, np.ones((BLOCK, BLOCK), dtype="float32"))[..., np.newaxis]


def bitmap(image: Image.Image, threshold: float = 0.5) -> np.ndarray:
    """A picture of one digit as UCI's normalised (32, 32) bitmap of 0/1 (float32): the ink (whichever of
    dark or light differs from the border) thresholded, cropped to its bounding box, scaled so its longer
    side is 32 pixels, centred. A blank picture gives zeros."""
    grey = np.asarray(image.convert("L"), dtype="float32") / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = 1.0 - grey if np.median(border) > 0.5 else grey
    lo, hi = float(ink.min()), float(ink.max())
    if hi - lo < 0.1:
        return np.zeros((SIDE, SIDE), dtype="float32")
    on = ink >= lo + threshold * (hi - lo)
    rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = SIDE / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((np.clip((crop - lo) / (hi - lo), 0, 1) * 255).astype("uint8")).resize((nw, nh), Image.BILINEAR)
    out = np.zeros((SIDE, SIDE), dtype="float32")
    top, left = (SIDE - nh) // 2, (SIDE - nw) // 2
    out[top:top + nh, left:left + nw] = np.asarray(small, dtype="float32") / 255.0 >= threshold
    return out


def blocks(bits: np.ndarray) -> np.ndarray:
    """A (32, 32) bitmap counted in 4x4 blocks: (8, 8) integers 0..16, as UCI's data."""
    n = SIDE // BLOCK
    return bits.reshape(n, BLOCK, n, BLOCK).sum(axis=(1, 3)).round().astype("int64")


def extract(out: Path = DATA) -> Path:
    """Writes the UCI digits from the installed scikit-learn's data file (no scikit-learn import)."""
    spec = importlib.util.find_spec("sklearn")  # found, not imported (importing needs joblib, threadpoolctl ...)
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-learn is not installed: pip install scikit-learn, then run this again.")
    source = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(source, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype="int64")
    x = rows[:, :64].reshape(-1, 8, 8).astype("uint8")
    y = rows[:, 64].astype("uint8")
    out.parent.mkdir(exist_ok=True)
    np.savez_compressed(out, x=x, y=y)
    return out


if __name__ == "__main__":  # pragma: no cover - run once, by hand
    import sys

    if sys.argv[1:] != ["--extract"]:
        sys.exit("usage: python -m cnnviz.digits --extract   (needs scikit-learn installed)")
    print(extract())
