"""Reading and writing zip archives in memory, for the model-file tests."""

import io
import json
import zipfile


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def make_zip(contents: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
    return out.getvalue()


def with_config(data: bytes, edit) -> bytes:
    """The .keras bytes with config.json changed by `edit(config)` (a dict, changed in place)."""
    parts = members(data)
    config = json.loads(parts["config.json"])
    edit(config)
    parts["config.json"] = json.dumps(config).encode()
    return make_zip(parts)
