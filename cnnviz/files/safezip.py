"""Reading an uploaded zip archive in memory without trusting it.

Declared sizes can lie, names can climb out (`../x`, `/etc/passwd`, `C:\\x`), members can be
symlinks, and a few kilobytes can expand to gigabytes. `read` checks the member count, each
member's name and type, its declared size and compression ratio, then reads it in chunks, stopping
at the per-member cap and at the total budget, whatever the headers say. Nothing is written to disk.
Junk that real archives carry (macOS's `__MACOSX/` and `._*` forks, `.DS_Store`, `Thumbs.db`,
hidden files, folders) is skipped silently (`is_junk`).

Every refusal is a ZipError (a cnnviz.messages.MessageError) with a key "zip.error.<code>".
"""

from __future__ import annotations

import io
import posixpath
import stat
import zipfile
import zlib
from dataclasses import dataclass

from cnnviz.messages import MessageError, Verbatim

JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "icon\r"}


class ZipError(MessageError):
    """An archive refused as a whole; `code` names why (i18n key "zip.error.<code>")."""

    def __init__(self, code: str, **values):
        self.code = code
        super().__init__(f"zip.error.{code}", **values)


@dataclass(frozen=True)
class Limits:
    members: int = 2000  # entries in the central directory, junk and folders included
    member_bytes: int = 10 * 1024 * 1024  # one member, as read
    total_bytes: int = 200 * 1024 * 1024  # all members kept, as read
    ratio: int = 100  # uncompressed / compressed of a member above 1 MB: a zip bomb


def is_junk(name: str) -> bool:
    """A folder, or what an OS adds to an archive: `__MACOSX/...`, `.DS_Store`, `Thumbs.db`, hidden files."""
    if name.endswith("/"):
        return True
    parts = [p for p in name.split("/") if p]
    if any(p == "__MACOSX" or p.startswith(".") for p in parts):
        return True
    return bool(parts) and parts[-1].lower() in JUNK_NAMES


def unsafe_name(name: str) -> bool:
    """Absolute, drive-lettered, backslashed or climbing (`..`) member names."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return True
    if len(name) > 1 and name[1] == ":":
        return True
    return any(part == ".." for part in name.split("/"))


def is_symlink(info: zipfile.ZipInfo) -> bool:
    """A member whose Unix mode bits say symbolic link (whatever system the archive says made it)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, ratio: int, budget: list[int],
                keep: bool = True) -> bytes:
    """One member, read in chunks: refused when it declares more than `cap` bytes or a compression ratio above
    `ratio` (members above 1 MB), and stopped as soon as what it really expands to passes `cap` or the shared
    `budget` ([bytes left], decremented). `keep=False` only counts (the bytes are not kept)."""
    name = Verbatim(info.filename)
    if info.file_size > cap:
        raise ZipError("member_too_large", name=name, size=info.file_size, cap=cap)
    if info.file_size > 1024 * 1024 and info.file_size > ratio * max(info.compress_size, 1):
        raise ZipError("ratio", name=name, ratio=f"{info.file_size / max(info.compress_size, 1):.0f}")
    out, size = io.BytesIO(), 0
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1024 * 1024, cap + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if keep:
                out.write(chunk)
            budget[0] -= len(chunk)
            if size > cap or budget[0] < 0:
                raise ZipError("expands", name=name)
    return out.getvalue()


def read(data: bytes, limits: Limits = Limits(), keep=None) -> dict[str, bytes]:
    """The archive's members {name: bytes}, junk skipped; `keep(name)` (optional) picks which to read.

    Raises ZipError for anything that is not a plain, bounded zip of plain files."""
    if not data:
        raise ZipError("empty")
    if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ZipError("not_zip")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as e:
        raise ZipError("damaged", error=Verbatim(str(e)[:120])) from None
    if len(infos) > limits.members:
        raise ZipError("members", n=len(infos), limit=limits.members)
    for info in infos:
        if unsafe_name(info.filename):
            raise ZipError("path", name=Verbatim(info.filename[:120]))
        if is_symlink(info):
            raise ZipError("symlink", name=Verbatim(info.filename[:120]))
    budget = [limits.total_bytes]
    out: dict[str, bytes] = {}
    try:
        for info in infos:
            name = posixpath.normpath(info.filename)
            if is_junk(info.filename) or (keep is not None and not keep(name)):
                continue
            if name in out:
                raise ZipError("twice", name=Verbatim(name))
            out[name] = read_member(zf, info, limits.member_bytes, limits.ratio, budget)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as e:
        if isinstance(e, ZipError):
            raise
        raise ZipError("damaged", error=Verbatim(str(e)[:120])) from None
    return out
