"""The table of generated image files and what cnnviz must do with each: accept (and how it must look) or refuse.

Every file is made here, from Pillow or by hand, so the table needs no fixtures on disk.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def solid(size=(40, 30), color=(200, 10, 10), fmt="PNG", **kwargs) -> bytes:
    return encode(Image.new("RGB", size, color), fmt, **kwargs)


def noise(size=(64, 48), seed=0, fmt="PNG") -> bytes:
    """Random pixels: every file different, and PNG cannot compress them away."""
    a = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return encode(Image.fromarray(a, "RGB"), fmt)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds no pixel data: a decompression-bomb header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def near(pixel, expected, tol=12) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, expected))


# --- the files ------------------------------------------------------------------------------------


def _rgba() -> bytes:
    im = Image.new("RGBA", (30, 20), (255, 0, 0, 255))
    im.paste((0, 0, 255, 0), (0, 0, 10, 20))  # left third fully transparent
    return encode(im, "PNG")


def _palette_transparent() -> bytes:
    im = Image.new("P", (30, 20), 1)
    im.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    im.paste(0, (0, 0, 10, 20))  # index 0 is the transparent one
    return encode(im, "PNG", transparency=0)


def _la() -> bytes:
    im = Image.new("LA", (30, 20), (0, 255))
    im.paste((0, 0), (0, 0, 10, 20))  # transparent black: shown over white
    return encode(im, "PNG")


def _one_bit() -> bytes:
    im = Image.new("1", (30, 20), 0)
    im.paste(1, (0, 0, 10, 20))
    return encode(im, "PNG")


def _gray16() -> bytes:
    a = np.full((20, 30), 65535, np.uint16)
    a[:, :10] = 32896  # 128 * 257: must come out mid-grey, not clipped to white
    return encode(Image.frombytes("I;16", (30, 20), a.astype("<u2").tobytes()), "PNG")


def _cmyk() -> bytes:
    return encode(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG", quality=95)  # red


def _exif(orientation: int) -> bytes:
    src = Image.new("RGB", (20, 10), (0, 0, 255))
    src.paste((255, 0, 0), (0, 0, 10, 10))  # left half red
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(src, "JPEG", exif=exif.tobytes(), quality=95)


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (20, 10), c) for c in [(0, 255, 0), (255, 0, 0)]]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, **extra)


@dataclass(frozen=True)
class Case:
    name: str  # the upload's file name
    make: Callable[[], bytes]
    size: tuple[int, int] | None = None  # accepted: the size after EXIF rotation, before any shrinking
    looks: Callable[[Image.Image], bool] | None = None  # accepted: the picture is right
    frames: int = 1
    reason: tuple[str, ...] = field(default_factory=tuple)  # refused: one of these is in the message

    @property
    def accepted(self) -> bool:
        return self.size is not None


ACCEPTED = [
    Case("rgb.png", lambda: solid((64, 48), (10, 200, 30)), (64, 48), lambda im: im.getpixel((5, 5)) == (10, 200, 30)),
    Case("rgba.png", _rgba, (30, 20),
         lambda im: im.getpixel((2, 2)) == (255, 255, 255) and im.getpixel((25, 10)) == (255, 0, 0)),
    Case("palette-transparent.png", _palette_transparent, (30, 20),
         lambda im: im.getpixel((2, 2)) == (255, 255, 255) and im.getpixel((25, 10)) == (0, 200, 0)),
    Case("la.png", _la, (30, 20),
         lambda im: im.getpixel((2, 2)) == (255, 255, 255) and im.getpixel((25, 10)) == (0, 0, 0)),
    Case("one-bit.png", _one_bit, (30, 20),
         lambda im: im.getpixel((2, 2)) == (255, 255, 255) and im.getpixel((25, 10)) == (0, 0, 0)),
    Case("gray16.png", _gray16, (30, 20),
         lambda im: near(im.getpixel((2, 2)), (128, 128, 128), 1) and im.getpixel((25, 10)) == (255, 255, 255)),
    Case("cmyk.jpg", _cmyk, (30, 20), lambda im: near(im.getpixel((15, 10)), (255, 0, 0), 40)),
    # Orientation 6: rotate 90° clockwise to show, so the red left half becomes the top.
    Case("exif6.jpg", lambda: _exif(6), (10, 20),
         lambda im: near(im.getpixel((5, 2)), (255, 0, 0), 60) and near(im.getpixel((5, 17)), (0, 0, 255), 60)),
    # Orientation 8: rotate 90° counter-clockwise, so the red left half becomes the bottom.
    Case("exif8.jpg", lambda: _exif(8), (10, 20),
         lambda im: near(im.getpixel((5, 17)), (255, 0, 0), 60) and near(im.getpixel((5, 2)), (0, 0, 255), 60)),
    Case("animated.gif", lambda: _animated("GIF"), (20, 10), lambda im: near(im.getpixel((5, 5)), (0, 255, 0), 8),
         frames=2),
    Case("animated.webp", lambda: _animated("WEBP"), (20, 10), lambda im: im.getpixel((5, 5)) == (0, 255, 0), frames=2),
    Case("photo.webp", lambda: solid((32, 24), (0, 0, 250), "WEBP", lossless=True), (32, 24),
         lambda im: im.getpixel((3, 3)) == (0, 0, 250)),
    Case("photo.bmp", lambda: solid((33, 17), (120, 60, 30), "BMP"), (33, 17),
         lambda im: im.getpixel((3, 3)) == (120, 60, 30)),
    Case("dot.png", lambda: solid((1, 1), (7, 8, 9)), (1, 1), lambda im: im.getpixel((0, 0)) == (7, 8, 9)),
    Case("tall.png", lambda: solid((1, 3000), (90, 90, 90)), (1, 3000), lambda im: im.getpixel((0, 0)) == (90, 90, 90)),
    Case("wide.png", lambda: solid((3000, 1), (90, 90, 90)), (3000, 1), lambda im: im.getpixel((0, 0)) == (90, 90, 90)),
]

_TOO_BIG = 25 * 1024 * 1024 + 1

REFUSED = [
    Case("empty.png", lambda: b"", reason=("empty",)),
    Case("random.png", lambda: np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes(),
         reason=("not an image",)),
    Case("notes.png", lambda: b"just some text\n" * 40, reason=("not an image",)),
    Case("page.png", lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
         reason=("not an image",)),
    Case("cut.png", lambda: noise((300, 200), fmt="PNG")[:5000], reason=("truncated", "damaged")),
    Case("cut.jpg", lambda: noise((300, 200), fmt="JPEG")[:20000], reason=("truncated", "damaged")),
    Case("bomb.png", lambda: png_header_only(20000, 20000), reason=("too large",)),
    Case("scan.tif", lambda: solid(fmt="TIFF"), reason=("TIFF",)),
    Case("figure.eps", lambda: solid(fmt="EPS"), reason=("EPS",)),
    Case("favicon.ico", lambda: solid((32, 32), fmt="ICO"), reason=("ICO",)),
    Case("layers.psd", lambda: b"8BPS\x00\x01" + b"\x00" * 64, reason=("PSD",)),
    Case("huge.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * _TOO_BIG, reason=("too large",)),
]

TABLE = ACCEPTED + REFUSED
