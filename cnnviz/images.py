"""Image bytes -> validated PIL image; the embedded sample gallery; preprocessing to a model's input."""

from __future__ import annotations

from importlib import resources

from PIL import Image

# Photos from scikit-image's data folder (public domain / CC0), shrunk to 320 px.
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins")
DEFAULT_SAMPLE = "astronaut"


class ImageError(ValueError):
    """An upload that cannot be used; the message is meant for the user."""


def sample_bytes(name: str) -> bytes:
    if name not in SAMPLES:
        raise ImageError(f"No sample image called {name!r}.")
    return (resources.files("cnnviz") / "samples" / f"{name}.png").read_bytes()


def load_sample(name: str) -> Image.Image:
    with Image.open(resources.files("cnnviz") / "samples" / f"{name}.png") as im:
        return im.convert("RGB")
