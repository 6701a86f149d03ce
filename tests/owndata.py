"""Pictures and zips made in the test for the own-data tests: learnable classes, seeded."""

import io
import zipfile

import numpy as np
from PIL import Image

from cnnviz import datasets


def png(a: np.ndarray) -> bytes:
    """(H, W) or (H, W, 3) in [0, 1] as PNG bytes."""
    a = np.clip(np.rint(np.asarray(a) * 255), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(a).save(out, format="PNG")
    return out.getvalue()


def shape_pngs(kind: str, n: int, seed: int = 0, side: int = 48, width: int | None = None) -> list[tuple[str, bytes]]:
    """n generated pictures (side high, width or side wide) of one shape class (cnnviz.datasets.draw), as
    (file name, PNG bytes); seeded."""
    rng = np.random.default_rng([seed, datasets.SHAPE_CLASSES.index(kind)])
    return [(f"{kind}_{i}.png", png(datasets.draw(kind, side, width or side, rng))) for i in range(n)]


def zip_of(members: dict[str, bytes], symlinks: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.create_system = 3
                info.external_attr = (0o120777 << 16)
            zf.writestr(info, data)
    return out.getvalue()


def class_folders(classes=("circle", "square"), n: int = 8, wrap: str = "", seed: int = 0) -> dict[str, bytes]:
    return {f"{wrap}{c}/{name}": data for c in classes for name, data in shape_pngs(c, n, seed)}


COLOURS = {"circle": (0.9, 0.15, 0.1), "square": (0.1, 0.75, 0.2), "triangle": (0.15, 0.3, 0.95),
           "cross": (0.95, 0.85, 0.1)}


def colour_pngs(kind: str, n: int, seed: int = 0, side: int = 224) -> list[tuple[str, bytes]]:
    """n photo-sized RGB pictures of one shape class, each shape in its own colour on a grey background
    (cnnviz.datasets.draw's mask, brightness varied), as (file name, PNG bytes); seeded."""
    rng = np.random.default_rng([seed, 7, datasets.SHAPE_CLASSES.index(kind)])
    out = []
    for i in range(n):
        mask = datasets.draw(kind, side, side, rng)[..., None]
        colour = np.asarray(COLOURS[kind]) * rng.uniform(0.8, 1.0)
        out.append((f"{kind}_{i}.png", png(0.5 * (1 - mask) + colour * mask)))
    return out
