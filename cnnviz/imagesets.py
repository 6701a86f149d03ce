"""Labelled image sets to train on: the user's class folders (a zip), pictures added per class, the
generated shapes, the shipped UCI digits; then the arrays a model is fed and a stratified split.

A zip has the layout `keras.utils.image_dataset_from_directory` reads: `root/<class>/.../*.jpg`, with
one wrapping folder allowed (`set/<class>/*.jpg`, what zipping a folder gives). It is opened with
`cnnviz.files.safezip` (member count, sizes, compression ratio, names, symlinks) and every file goes through
`cnnviz.images.load_image`, the door of every upload (formats, pixel cap, bombs, EXIF rotation, modes).
OS junk is skipped silently; files that are not usable images are skipped and listed with the reason.

Caps for a shared server (MAX_IMAGES, MAX_CLASSES, MAX_TOTAL_PIXELS, ZIP_LIMITS) sit beside the upload
caps of cnnviz.images; each image is kept shrunk to KEEP_SIDE on its longer side, so a session holds at
most MAX_IMAGES * KEEP_SIDE**2 * 3 bytes (about 200 MB at the caps; a few MB for a class's photos).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from cnnviz import images
from cnnviz.files import safezip
from cnnviz.messages import Message, MessageError, Verbatim

MAX_IMAGES = 1000  # images in one set
MAX_CLASSES = 20
MIN_PER_CLASS = 4  # at least one for validation and three to learn from
MAX_TOTAL_PIXELS = 500_000_000  # decoded pixels of all images together (before shrinking)
MAX_NAME = 40  # characters of a class name
KEEP_SIDE = 256  # images are kept at most this large on their longer side
ZIP_LIMITS = safezip.Limits(members=4 * MAX_IMAGES, member_bytes=images.MAX_BYTES, total_bytes=300 * 1024 * 1024)
VAL_FRACTION = 0.2

SOURCES = ("shapes", "digits", "zip", "classes")


class DataError(MessageError):
    """A set that cannot be trained on as it is; key "data.error.<code>"."""

    def __init__(self, code: str, **values):
        self.code = code
        super().__init__(f"data.error.{code}", **values)


@dataclass
class ImageSet:
    """Pictures by class, in class order; `skipped` lists (file name, reason) of files not used."""

    class_names: tuple[str, ...] = ()
    images: list[list[Image.Image]] = field(default_factory=list)
    files: list[list[str]] = field(default_factory=list)  # each picture's file name, as images
    skipped: list[tuple[str, Message]] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.images)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def considered(self) -> int:
        return self.total + len(self.skipped)


def _keep(im: Image.Image) -> Image.Image:
    if max(im.size) > KEEP_SIDE:
        im = im.copy()
        im.thumbnail((KEEP_SIDE, KEEP_SIDE), Image.Resampling.BILINEAR)
    return im


def class_name(text: str) -> str:
    """A class name as typed or as a folder is called: trimmed, at most MAX_NAME characters; DataError when empty."""
    name = " ".join(str(text).split())[:MAX_NAME]
    if not name:
        raise DataError("no_name")
    return name


class _Builder:
    def __init__(self):
        self.set = ImageSet()
        self.pixels = 0
        self.index: dict[str, int] = {}

    def new_class(self, cls: str) -> None:
        """A class with no picture yet (it is still a class); refused past MAX_CLASSES."""
        if cls in self.index:
            return
        if len(self.index) >= MAX_CLASSES:
            raise DataError("too_many_classes", n=len(self.index) + 1, limit=MAX_CLASSES)
        self.index[cls] = len(self.index)
        self.set.class_names += (cls,)
        self.set.images.append([])
        self.set.files.append([])

    def add(self, cls: str, filename: str, data: bytes) -> None:
        self.new_class(cls)
        if self.set.total >= MAX_IMAGES:
            raise DataError("too_many_images", limit=MAX_IMAGES)
        try:
            im = images.load_image(data)
        except images.ImageError as err:
            self.set.skipped.append((filename, err.message))
            return
        self.pixels += im.width * im.height
        if self.pixels > MAX_TOTAL_PIXELS:
            raise DataError("too_many_pixels", limit=MAX_TOTAL_PIXELS // 1_000_000)
        k = self.index[cls]
        self.set.images[k].append(_keep(im))
        self.set.files[k].append(filename)


def _layout(names: list[str]) -> dict[str, list[str]]:
    """{class: [member names]} for `root/<class>/...`, one wrapping folder stripped; files at the top go to ""."""
    split = [n.split("/") for n in names]
    tops = {p[0] for p in split}
    wrapped = len(tops) == 1 and any(len(p) >= 3 for p in split)  # one folder holding the class folders
    out: dict[str, list[str]] = {}
    for name, parts in zip(names, split):
        parts = parts[1:] if wrapped else parts
        out.setdefault(parts[0] if len(parts) >= 2 else "", []).append(name)
    return out


def from_zip(data: bytes) -> ImageSet:
    """The class folders of a zip (see the module's docstring); raises safezip.ZipError or DataError."""
    members = safezip.read(data, ZIP_LIMITS)
    if not members:
        raise DataError("empty_zip")
    builder = _Builder()
    for cls, names in sorted(_layout(sorted(members)).items()):
        if cls == "":
            builder.set.skipped.extend((n, Message("data.skip.no_class")) for n in names)
            continue
        name = class_name(cls)
        for n in names:
            builder.add(name, n, members[n])
    return builder.set


def from_classes(classes: list[tuple[str, list[tuple[str, bytes]]]]) -> ImageSet:
    """Pictures added per class on the page: [(class name, [(file name, bytes), ...]), ...]."""
    builder = _Builder()
    seen = set()
    for raw, files in classes:
        name = class_name(raw)
        if name.lower() in seen:
            raise DataError("same_name", name=Verbatim(name))
        seen.add(name.lower())
        builder.new_class(name)
        for filename, data in files:
            builder.add(name, filename, data)
    return builder.set


def from_arrays(x: np.ndarray, y: np.ndarray, class_names) -> ImageSet:
    """An ImageSet of arrays in [0, 1] (N, H, W, 1 or 3): the generated shapes, the digits."""
    out = ImageSet(class_names=tuple(class_names), images=[[] for _ in class_names],
                   files=[[] for _ in class_names])
    for i, (img, label) in enumerate(zip(x, y)):
        out.images[int(label)].append(images.to_image(img).convert("RGB"))
        out.files[int(label)].append(f"{class_names[int(label)]}_{i}")
    return out


def shapes(n: int, height: int = 64, width: int = 64, seed: int = 0) -> ImageSet:
    from cnnviz import datasets

    x, y, names = datasets.shapes(n, height, width, 1, seed=seed)
    return from_arrays(x, y, names)


def digits(per_class: int = 40, seed: int = 0) -> ImageSet:
    """`per_class` UCI digits of each class (seeded), as 32x32 pictures of their blocks."""
    from cnnviz import digits as uci

    x, y = uci.load()
    rng = np.random.default_rng(seed)
    pick = np.concatenate([rng.permutation(np.flatnonzero(y == d))[:per_class] for d in range(10)])
    return from_arrays(uci.as_bitmaps(x[pick]), y[pick], uci.CLASS_NAMES)


def check(s: ImageSet) -> None:
    """Raise DataError when the set cannot be trained on: no class, one class, a class with too few pictures."""
    if len(s.class_names) == 0 or s.total == 0:
        raise DataError("no_images")
    if len(s.class_names) == 1:
        raise DataError("one_class", name=Verbatim(s.class_names[0]))
    small = [f"{n} ({c})" for n, c in zip(s.class_names, s.counts) if c < MIN_PER_CLASS]
    if small:
        raise DataError("too_few", classes=Verbatim(", ".join(small)), minimum=MIN_PER_CLASS)


def arrays(s: ImageSet, shape, fit: str = "crop") -> tuple[np.ndarray, np.ndarray]:
    """(x float32 (N, H, W, C) in [0, 1], y int64 (N,)): every picture at the model's input `shape`."""
    h, w, c = (int(v) for v in shape)
    x = np.empty((s.total, h, w, c), dtype=np.float32)
    y = np.empty((s.total,), dtype=np.int64)
    i = 0
    for label, pictures in enumerate(s.images):
        for im in pictures:
            x[i] = images.preprocess(im, (h, w, c), fit=fit)
            y[i] = label
            i += 1
    return x, y


def split(y: np.ndarray, fraction: float = VAL_FRACTION, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), stratified: each class gives round(fraction * n) pictures,
    at least one, to validation and keeps at least one to train on; seeded."""
    if not 0 < fraction < 1:
        raise ValueError(f"the validation fraction must be between 0 and 1, not {fraction}.")
    y = np.asarray(y)
    rng = np.random.default_rng([seed, 2])
    val = []
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        k = min(max(1, int(round(fraction * len(idx)))), len(idx) - 1)
        val.extend(idx[:k])
    val = np.sort(np.asarray(val, dtype=np.int64))
    train = np.setdiff1d(np.arange(len(y)), val)
    return train, val


def skipped_summary(s: ImageSet, shown: int = 5) -> Message | None:
    """"3 of 412 files skipped: a.txt (not an image), ..." or None when nothing was skipped."""
    if not s.skipped:
        return None
    names = "; ".join(f"{name}" for name, _ in s.skipped[:shown]) + (" …" if len(s.skipped) > shown else "")
    return Message("data.skipped", n=len(s.skipped), total=s.considered, names=Verbatim(names))
