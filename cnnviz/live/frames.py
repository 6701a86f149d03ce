"""A live frame as it travels: the browser's message (a small JPEG and when it was captured), checked
before it is decoded, and the server's answer (the numbers and two pictures), both as one binary
websocket message each:

    4 bytes: the header's length n (unsigned, little-endian) | n bytes: the header, JSON | payloads

A frame's payload is one JPEG (or PNG/WebP) picture; a result's payloads are named in its header with
their lengths (`parts`: [[name, length], ...]), in order.
"""

from __future__ import annotations

import io
import json
import math
import struct

from PIL import Image

from cnnviz.messages import MessageError

MAX_FRAME_BYTES = 1_000_000  # a 640x480 JPEG is 30-80 KB; the component sends at most 512 px on a side
MAX_SIDE = 1024
MAX_HEADER = 4096
FORMATS = ("JPEG", "PNG", "WEBP")


class FrameError(MessageError):
    """A frame that cannot be used (`code`: live.error.<code>)."""

    def __init__(self, code: str, **values):
        self.code = code
        super().__init__(f"live.error.{code}", **values)


def pack(header: dict, *payloads: bytes) -> bytes:
    """One message: the header (JSON) and the payloads after it."""
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return struct.pack("<I", len(head)) + head + b"".join(payloads)


def unpack(message: bytes) -> tuple[dict, bytes]:
    """(header, the rest) of a message; FrameError('message') for anything malformed."""
    if not isinstance(message, (bytes, bytearray)) or len(message) < 4:
        raise FrameError("message")
    if len(message) > MAX_FRAME_BYTES + MAX_HEADER + 4:
        raise FrameError("frame_size", kb=len(message) // 1024, max_kb=MAX_FRAME_BYTES // 1000)
    (n,) = struct.unpack_from("<I", message)
    if n > MAX_HEADER or 4 + n > len(message):
        raise FrameError("message")
    try:
        header = json.loads(bytes(message[4:4 + n]).decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise FrameError("message") from err
    if not isinstance(header, dict):
        raise FrameError("message")
    return header, bytes(message[4 + n:])


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number here")


def known(header: dict) -> dict:
    """Only what a frame's header may carry: `id` (a whole number) and `t` (the browser's capture time, a
    finite number); anything else is dropped (both go back into the answer, which must stay valid JSON)."""
    out = {}
    for key in ("id", "t"):
        value = header.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and abs(value) < 1e15:
            out[key] = int(value) if key == "id" else float(value)
    return out


def split(rest: bytes, parts: list) -> dict[str, bytes]:
    """The named payloads of a result (`parts` from its header)."""
    out, at = {}, 0
    for name, length in parts:
        out[name] = rest[at:at + int(length)]
        at += int(length)
    return out


def decode(data: bytes) -> Image.Image:
    """A frame's picture as RGB, checked (size in bytes, format, width and height) before its pixels are
    decoded. FrameError: 'empty', 'frame_size', 'format', 'dimensions', 'damaged'."""
    if not data:
        raise FrameError("empty")
    if len(data) > MAX_FRAME_BYTES:
        raise FrameError("frame_size", kb=len(data) // 1024, max_kb=MAX_FRAME_BYTES // 1000)
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except Exception as err:  # noqa: BLE001 - PIL raises many kinds for bytes that are not a picture
        raise FrameError("format") from err
    w, h = im.size
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise FrameError("dimensions", w=w, h=h, max=MAX_SIDE)
    try:
        im.load()
    except Exception as err:  # noqa: BLE001 - truncated or corrupt data
        raise FrameError("damaged") from err
    return im if im.mode == "RGB" else im.convert("RGB")
