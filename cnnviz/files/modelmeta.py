"""Class names and the pixel contract stored inside a .keras file, read back when it is uploaded again.

A .keras file's metadata.json (Keras writes keras_version and date_saved there and reads nothing else
back) gets one more key, "cnnviz": {"class_names": [...], "pixels": "unit"}. It is plain JSON data, not
part of config.json, so nothing is deserialized from it and `cnnviz.files.modelfiles`' allow-list checks pass
unchanged (metadata.json only has to be a JSON object under 64 KB). Reading it back takes the names
as text (the UI escapes them) and only when they are a list of short strings, one per output.
"""

from __future__ import annotations

import io
import json
import zipfile

from cnnviz.files import safezip
from cnnviz.preprocessing import CONTRACTS

KEY = "cnnviz"
MAX_NAMES = 1000
MAX_NAME = 100
_LIMITS = safezip.Limits(members=8, member_bytes=64 * 1024, total_bytes=64 * 1024)


def with_meta(data: bytes, class_names, pixels: str = "") -> bytes:
    """The .keras bytes `data` with the class names (and pixel contract) written into metadata.json."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename == "metadata.json":
                meta = json.loads(raw.decode("utf-8"))
                meta[KEY] = {"class_names": [str(n) for n in class_names], "pixels": str(pixels)}
                raw = json.dumps(meta).encode("utf-8")
            dst.writestr(info.filename, raw,
                         compress_type=zipfile.ZIP_STORED if info.filename.endswith(".h5") else zipfile.ZIP_DEFLATED)
    return out.getvalue()


def read_meta(data: bytes, outputs: int | None = None) -> tuple[tuple[str, ...] | None, str]:
    """(class names or None, pixel contract or "") stored by `with_meta`; anything missing, malformed or
    not matching `outputs` (the model's class count) reads as absent, never as an error."""
    try:
        members = safezip.read(data, _LIMITS, keep=lambda n: n == "metadata.json")
        metadata = json.loads(members["metadata.json"].decode("utf-8"))
    except (ValueError, KeyError, AttributeError, RecursionError):
        return None, ""
    names, pixels = parse(metadata)
    if names is not None and outputs is not None and len(names) != outputs:
        return None, pixels
    return names, pixels


def parse(metadata) -> tuple[tuple[str, ...] | None, str]:
    """(class names or None, pixel contract or "") from a parsed metadata.json (cnnviz.files.modelfiles reads it
    while it checks an upload); anything malformed reads as absent."""
    meta = metadata.get(KEY) if isinstance(metadata, dict) else None
    if not isinstance(meta, dict):
        return None, ""
    names = meta.get("class_names")
    pixels = meta.get("pixels")
    pixels = pixels if isinstance(pixels, str) and pixels in CONTRACTS else ""
    if not (isinstance(names, list) and 0 < len(names) <= MAX_NAMES
            and all(isinstance(n, str) and 0 < len(n) <= MAX_NAME for n in names)):
        return None, pixels
    return tuple(names), pixels
