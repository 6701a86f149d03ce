"""Train the shipped Digits model on UCI handwriting (cnnviz.digits).

    python -m cnnviz.build.train_digits            # writes cnnviz/weights/uci_digits.keras
    python -m cnnviz.build.train_digits --samples  # rewrites the gallery's drawn digits, no training

Fixed seeds; under a minute on two CPU cores. It trains on cnnviz.digits.split()'s 80% only;
tests/unit/test_digits.py checks the shipped file on the other 20% (at least 97%) and on digits drawn as
strokes by the test.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from cnnviz import digits, models  # noqa: E402

WEIGHT_SEED = 7
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each 8x8 digit moved by up to one block each way (the drawing's normalisation is not pixel-exact)."""
    out = np.zeros_like(x)
    for i, d in enumerate(x):
        dy, dx = rng.integers(-1, 2, size=2)
        out[i] = np.roll(np.roll(d, dy, axis=0), dx, axis=1)
    return out


def train(epochs: int = 60, verbose: int = 2) -> tuple[keras.Model, float]:
    keras.utils.set_random_seed(WEIGHT_SEED)
    x, y = digits.load()
    train_idx, held = digits.split()
    rng = np.random.default_rng(WEIGHT_SEED)
    xt = np.concatenate([x[train_idx], shifted(x[train_idx], rng)])
    yt = np.concatenate([y[train_idx], y[train_idx]])
    model = models.digits_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(digits.as_bitmaps(xt), yt, batch_size=64, epochs=epochs, verbose=verbose)
    accuracy = float(np.mean(np.argmax(model.predict(digits.as_bitmaps(x[held]), verbose=0), 1) == y[held]))
    return model, accuracy


def save(model: keras.Model, out: Path) -> None:
    clean = models.digits_model()
    clean.set_weights(model.get_weights())
    out.parent.mkdir(parents=True, exist_ok=True)
    clean.save(out)


def draw(strokes, size: int = 240, width: int = 18) -> Image.Image:
    """White strokes on black, as the Draw canvas makes them: lines [(x, y), ...] and ellipses ('o', box)."""
    img = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(img)
    for stroke in strokes:
        if stroke[0] == "o":
            pen.ellipse(stroke[1], outline=255, width=width)
        else:
            pen.line(stroke, fill=255, width=width, joint="curve")
    return img.convert("RGB")


DRAWN = {  # the gallery's drawn digits (also what the tests draw)
    "digit_0": [("o", (70, 30, 170, 210))],
    "digit_1": [[(100, 60), (130, 30), (130, 215)]],
    "digit_4": [[(150, 30), (50, 150), (195, 150)], [(150, 30), (150, 215)]],
    "digit_7": [[(55, 40), (190, 40), (100, 215)]],
}


def write_samples() -> list[Path]:
    paths = []
    for name, strokes in DRAWN.items():
        path = SAMPLES / f"{name}.png"
        draw(strokes).save(path, optimize=True)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "weights" / models.DIGITS_WEIGHTS))
    parser.add_argument("--samples", action="store_true", help="only rewrite the gallery's drawn digits")
    args = parser.parse_args()
    if args.samples:
        for path in write_samples():
            print(path)
        return
    model, accuracy = train()
    print(f"held-out accuracy: {accuracy:.4f}")
    save(model, Path(args.out))
    print(args.out)


if __name__ == "__main__":
    main()
