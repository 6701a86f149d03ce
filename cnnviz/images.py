"""Image bytes -> validated PIL image; the embedded sample gallery; preprocessing to a model's input.

`load_image` is the one door for uploaded bytes: an allow-list of formats, a pixel cap read from the
header before anything is decoded, a full decode (so truncated files fail here, not later), EXIF
orientation, the first frame of animations, and every odd mode converted to plain 8-bit RGB.
Everything it refuses raises ImageError with a message meant for the user.
"""

from __future__ import annotations

import io
import re
import warnings
from importlib import resources

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from cnnviz import i18n
from cnnviz.messages import MessageError

# Photos from scikit-image's data folder (public domain / CC0), shrunk to 320 px; then generated shapes
# like those the trained default learned (`python -m cnnviz.build.train_default --samples`); digits drawn as strokes.
SAMPLES = (
    "astronaut", "coffee", "chelsea", "rocket", "camera", "coins",
    "shape_circle", "shape_square", "shape_triangle", "shape_cross",
    "digit_0", "digit_1", "digit_4", "digit_7",  # drawn strokes for the Digits model (`python -m cnnviz.build.train_digits --samples`)
)
COMPARE_SAMPLE = "shape_circle"  # the second image of a comparison, until the user picks one
DEFAULT_SAMPLE = "shape_triangle"  # one of the trained default's classes: the first prediction means something

# Pillow format names we decode. The JPEG opener also yields "MPO", Pillow's name for many phone photos.
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_DECODED_FORMATS = ALLOWED_FORMATS + ("MPO",)
Image.init()  # register every plugin now: Image.open(formats=...) fails on a format not yet registered
MAX_PIXELS = 40_000_000  # well below Pillow's own bomb limit (about 89 megapixels)
MAX_BYTES = 10 * 1024 * 1024  # a phone photo is 2-8 MB

# Magic numbers of common formats Pillow may not identify, so the refusal can name them.
_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG/XML"),
    (b"8BPS", "PSD"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "ZIP"),
)

# Keys set in the returned image's .info.
INFO_FORMAT = "cnnviz.format"
INFO_FRAMES = "cnnviz.frames"
INFO_SIZE = "cnnviz.original_size"


# Why an upload was refused. The texts are cnnviz/i18n's "images.error.<code>", as for every message cnnviz
# computes (cnnviz.messages); MESSAGES is their English, str() of the error.
CODES = ("no_sample", "empty", "file_too_large", "not_image", "unsupported", "no_pixels", "too_large",
         "too_large_size", "too_large_mp", "truncated", "damaged")
MESSAGES = {code: i18n.texts(i18n.DEFAULT)[f"images.error.{code}"] for code in CODES}


class ImageError(MessageError):
    """An upload that cannot be used; the message is meant for the user.

    `code` (a key of MESSAGES) and `values` let a UI show the same reason in another language
    (`key` is "images.error.<code>", as for every cnnviz.messages.MessageError).
    """

    def __init__(self, code: str, **values):
        self.code = code
        super().__init__(f"images.error.{code}", **values)


def sample_bytes(name: str) -> bytes:
    if name not in SAMPLES:
        raise ImageError("no_sample", name=name)
    return (resources.files("cnnviz") / "samples" / f"{name}.png").read_bytes()


def load_sample(name: str) -> Image.Image:
    return load_image(sample_bytes(name))


def _format_name(data: bytes) -> str | None:
    """The name of a format we refuse, if it can be told from the bytes; None for 'not an image'."""
    head = data[:64].lstrip()
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif", b"ftypmsf1"):
        return "HEIC/AVIF"
    try:  # Pillow reads only the header here, never the pixels
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return im.format
    except Exception:
        return None


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        # Pillow's own check fired first (far above our cap); its message holds the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(err))
        if found:
            raise ImageError("too_large_mp", megapixels=round(int(found.group(1)) / 1e6), limit=_LIMIT_MP) from None
        raise ImageError("too_large", limit=_LIMIT_MP) from None
    except UnidentifiedImageError:
        name = _format_name(data)
        if name:
            raise ImageError("unsupported", format=name) from None
        raise ImageError("not_image") from None
    except Exception:
        raise ImageError("not_image") from None


_LIMIT_MP = MAX_PIXELS // 1_000_000


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB: transparency over white, 16-bit scaled (not clipped)."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and a.min() >= 0 and a.max() > 255 and a.max() <= 65535):
            a = a / 257.0  # 0..65535 -> 0..255, keeping relative brightness
        elif a.max() > 255 or a.min() < 0:  # other ranges: stretch to the full 8 bits
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    elif mode == "1":
        im = im.convert("L")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")  # L, CMYK, YCbCr, LAB, HSV, ...


def load_image(data: bytes) -> Image.Image:
    """Decode uploaded bytes into an 8-bit RGB image, or raise ImageError with a user-readable reason.

    The returned image's `.info` holds INFO_FORMAT (e.g. 'PNG'), INFO_FRAMES (frame count; more than 1
    means an animation of which the first frame is used) and INFO_SIZE (size before EXIF rotation).
    """
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_BYTES:
        raise ImageError("file_too_large", mb=MAX_BYTES // (1024 * 1024))
    # Pillow's default; a module elsewhere setting it would let truncated files through half grey.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    im = _open(data)
    try:
        fmt = im.format
        if fmt not in _DECODED_FORMATS:  # belt and braces: _open already restricts the formats
            raise ImageError("unsupported", format=fmt)
        width, height = im.size
        if width < 1 or height < 1:
            raise ImageError("no_pixels")
        if width * height > MAX_PIXELS:  # from the header: nothing decoded or allocated yet
            raise ImageError("too_large_size", width=width, height=height, limit=_LIMIT_MP)
        # MPO's extra frames are a phone's previews or depth maps, not an animation.
        frames = 1 if fmt == "MPO" else int(getattr(im, "n_frames", 1) or 1)
        try:
            im.seek(0)
            im.load()  # the full decode: a truncated or corrupt file fails here
        except (OSError, SyntaxError, EOFError, ValueError, IndexError) as err:
            if "truncated" in str(err).lower() or isinstance(err, EOFError):
                raise ImageError("truncated") from None
            raise ImageError("damaged") from None
        except Image.DecompressionBombError:
            raise ImageError("too_large_size", width=width, height=height, limit=_LIMIT_MP) from None
        try:
            oriented = ImageOps.exif_transpose(im)
        except Exception:  # a broken EXIF block should not cost the user the picture
            oriented = im
        out = _to_rgb(oriented)
        if out is im:
            out = im.copy()
    except ImageError:
        raise
    except MemoryError:
        raise ImageError("too_large", limit=_LIMIT_MP) from None
    except Exception:
        raise ImageError("damaged") from None
    finally:
        im.close()
    out.info = {INFO_FORMAT: fmt, INFO_FRAMES: frames, INFO_SIZE: (width, height)}
    return out


def frames(image: Image.Image) -> int:
    """How many frames the uploaded file had (1 for a still image)."""
    return int(image.info.get(INFO_FRAMES, 1))


# --- preprocessing -------------------------------------------------------------------------------

FITS = ("crop", "pad")
DISTORTION_LIMIT = 4.0  # aspect ratios further apart than this lose most of the picture


def aspect_mismatch(size: tuple[int, int], input_shape) -> float:
    """How far an image's aspect ratio is from the model's (>= 1; 1 means the same shape).

    size is PIL's (width, height); input_shape is the model's (height, width, channels).
    """
    w, h = size
    th, tw = int(input_shape[0]), int(input_shape[1])
    ratio = (w / h) / (tw / th)
    return max(ratio, 1 / ratio)


def heavily_distorted(image: Image.Image, input_shape) -> bool:
    """True when fitting loses (crop) or pads (pad) most of the picture, or blows up a tiny image."""
    th, tw = int(input_shape[0]), int(input_shape[1])
    upscale = max(th / image.height, tw / image.width)
    return aspect_mismatch(image.size, input_shape) > DISTORTION_LIMIT or upscale > 16


def _fit(image: Image.Image, width: int, height: int, fit: str) -> Image.Image:
    resample = Image.Resampling.BILINEAR
    if fit == "crop":
        # Cut the centre to the target's aspect first, then resize: never builds a huge intermediate.
        return ImageOps.fit(image, (width, height), method=resample)
    if fit == "pad":
        scale = min(width / image.width, height / image.height)
        w = min(width, max(1, round(image.width * scale)))
        h = min(height, max(1, round(image.height * scale)))
        canvas = Image.new(image.mode, (width, height), 0)  # zero padding, as in the lecture
        canvas.paste(image.resize((w, h), resample), ((width - w) // 2, (height - h) // 2))
        return canvas
    if fit == "digit":  # UCI's normalised bitmap of a handwritten digit (cnnviz.digits), at the model's size
        from cnnviz import digits

        bits = Image.fromarray((digits.bitmap(image) * 255).astype(np.uint8))
        return bits.resize((width, height), Image.NEAREST).convert(image.mode)
    raise ValueError(f"fit must be one of {', '.join(FITS + ('digit',))}, not {fit!r}.")


def preprocess(image: Image.Image, input_shape, fit: str = "crop") -> np.ndarray:
    """The model input for one image: float32 (H, W, C) in [0, 1].

    Resized to the model's height and width keeping the aspect ratio (fit='crop' cuts the centre,
    fit='pad' adds black borders), converted to grayscale (C=1) or RGB (C=3).
    """
    if len(input_shape) != 3 or int(input_shape[2]) not in (1, 3):
        raise ValueError(f"models here take (height, width, 1 or 3) images, not {tuple(input_shape)}.")
    height, width, channels = (int(d) for d in input_shape)
    mode = "L" if channels == 1 else "RGB"
    im = image if image.mode == mode else _to_rgb(image).convert(mode)
    x = np.asarray(_fit(im, width, height, fit), dtype=np.float32) / 255.0
    return x.reshape(height, width, channels)


class BatchError(ValueError):
    """A batch of more than one image where one image is explained."""

    def __init__(self, shape):
        super().__init__(f"One image at a time: got a batch of {shape[0]} images {tuple(shape)}; pass one image "
                         f"(H, W, C) or a batch of one (1, H, W, C), e.g. x[i] or x[i:i + 1].")
        self.n = int(shape[0])
        self.shape = tuple(shape)


def one_image(x, ndim: int = 3) -> np.ndarray:
    """One model input as float32 without a batch axis: `x` itself when it has `ndim` axes (H, W, C), or
    its only item when it is a batch of one (1, H, W, C), the shape Keras users pass to model.predict.
    Raises BatchError for a batch of more than one; any other shape is returned as it is, for the
    caller's own shape check."""
    x = np.asarray(x, dtype="float32")
    if x.ndim == ndim + 1:
        if x.shape[0] != 1:
            raise BatchError(x.shape)
        return x[0]
    return x


def to_image(x: np.ndarray) -> Image.Image:
    """A preprocessed input (H, W, C) in [0, 1] as a PIL image, to show beside the original."""
    a = np.clip(np.rint(np.asarray(x, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    return Image.fromarray(a, "L" if a.ndim == 2 else "RGB")
