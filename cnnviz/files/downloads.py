"""ImageNet weights of the Keras Applications, downloaded only when someone asks, into Keras's own cache.

Which file, from where, with which hash: read from Keras itself. `published(key)` calls the application's
keras.applications function with weights="imagenet" shape-only (keras.StatelessScope, no variable
initialised) and stops it at its `keras.utils.get_file(fname, origin, file_hash=...)` call, keeping those
arguments: the same file name, URL and hash Keras would use (MobileNet and MobileNetV2 publish no hash;
their file is then checked by loading it, as Keras does).

`download(key, progress)` fetches it with a small urllib loop (a timeout on every read and a total
deadline, progress reported per chunk) into a temporary file in the cache folder, checks its size and
hash with Keras's own `validate_file`, and renames it into place atomically: two sessions asking at once
never leave a half-written file under the name Keras and cnnviz.applications read. Errors are
`WeightsError` (a MessageError): unreachable, stalled, truncated, wrong hash, switched off.

The origin can be replaced (CNNVIZ_WEIGHTS_ORIGIN: a folder URL holding the files under their Keras
names, e.g. a mirror or a test server); a deployment switches downloads off with
CNNVIZ_DISABLE_WEIGHT_DOWNLOAD=1 (cnnviz.ui.builder also reads secrets' disable_weight_download).
"""

from __future__ import annotations

import functools
import http.client
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras

from cnnviz import applications
from cnnviz.messages import MessageError, Verbatim

DISABLE_ENV = "CNNVIZ_DISABLE_WEIGHT_DOWNLOAD"
ORIGIN_ENV = "CNNVIZ_WEIGHTS_ORIGIN"
READ_TIMEOUT_S = 20.0  # no byte for this long: the server has stalled
TOTAL_TIMEOUT_S = 900.0  # the whole file (VGG19 is 549 MB)
CHUNK = 1 << 16
BYTES_PER_PARAM = 4  # float32 in Keras's .h5 files: the size shown before the download


class WeightsError(MessageError):
    """A download that did not give a usable file; key under `weights.` in cnnviz/i18n."""


@dataclass(frozen=True)
class Published:
    file: str  # the name Keras caches it under (<keras home>/models/<file>)
    origin: str  # Keras's URL
    file_hash: str | None  # md5 or sha256 hex as Keras checks it; None where Keras publishes none


def enabled() -> bool:
    """False when CNNVIZ_DISABLE_WEIGHT_DOWNLOAD is 1/true/yes/on."""
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def size_bytes(key: str) -> int:
    """About the size of the application's weights file: its float32 parameters."""
    return applications.APPLICATIONS[key].params * BYTES_PER_PARAM


def size_text(n: int) -> str:
    """'14 MB', '1.2 GB'."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(1, round(n / 1e6))} MB"


# ---------------------------------------------------------------- what Keras would download


class _Asked(Exception):
    def __init__(self, fname, origin, file_hash):
        super().__init__(fname)
        self.published = Published(str(fname), str(origin), file_hash or None)


_asking = threading.local()
_patch_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
@functools.lru_cache(maxsize=None)
def published(key: str) -> Published:
    """The file name, URL and hash keras.applications uses for the application `key` (APPLICATIONS).
    Kept per process: the answer depends only on the installed Keras, and asking builds the application's
    graph shape-only (a second or more for the large families)."""
    from keras.src.backend.common import global_state
    from keras.src.utils import file_utils

    spec = applications.APPLICATIONS[key]
    original = file_utils.get_file

    def get_file(fname=None, origin=None, *args, file_hash=None, **kwargs):
        if getattr(_asking, "on", False):
            raise _Asked(fname, origin, file_hash)
        return original(fname, origin, *args, file_hash=file_hash, **kwargs)

    with _patch_lock:
        file_utils.get_file = get_file
        _asking.on = True
        pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
        before = len(pending)
        try:
            with keras.StatelessScope(initialize_variables=False):
                spec.build(weights="imagenet", input_shape=spec.input_shape)
        except _Asked as asked:
            found = asked.published
        else:  # pragma: no cover - every offered family downloads (tests/unit/test_weights.py)
            raise AssertionError(f"{spec.label} asked Keras for no weights file")
        finally:
            del pending[before:]
            _asking.on = False
            file_utils.get_file = original
    return found


def url(key: str) -> str:
    """Where the file comes from: Keras's URL, or <CNNVIZ_WEIGHTS_ORIGIN>/<file>."""
    pub = published(key)
    base = os.environ.get(ORIGIN_ENV, "").strip()
    return f"{base.rstrip('/')}/{pub.file}" if base else pub.origin


# ---------------------------------------------------------------- the download


_file_locks: dict[str, threading.Lock] = {}
_file_locks_lock = threading.Lock()


def _lock(name: str) -> threading.Lock:
    with _file_locks_lock:
        return _file_locks.setdefault(name, threading.Lock())


def cache_dir() -> Path:
    """The first of Keras's cache folders (cnnviz.applications.cache_dirs) that can be written."""
    for d in applications.cache_dirs():
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    raise WeightsError("weights.no_cache", folder=Verbatim(applications.cache_dirs()[0]))


Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def download(key: str, progress: Progress | None = None, read_timeout: float = READ_TIMEOUT_S,
             total_timeout: float = TOTAL_TIMEOUT_S) -> Path:
    """The application's weights file in Keras's cache, downloaded if it is not there yet (never twice at
    once in this process: a second caller waits and finds the first's file). Raises WeightsError."""
    if key not in applications.APPLICATIONS:
        raise WeightsError("weights.unknown", name=Verbatim(key))
    if not enabled():
        raise WeightsError("weights.disabled")
    pub = published(key)
    with _lock(pub.file):
        found = applications.cached_file(pub.file)
        if found is not None:
            return found
        folder = cache_dir()
        fd, tmp = tempfile.mkstemp(prefix=f".{pub.file}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch(url(key), out, progress, read_timeout, total_timeout)
            _check(tmp, pub)
            target = folder / pub.file
            os.replace(tmp, target)
            return target
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _fetch(address: str, out, progress: Progress | None, read_timeout: float, total_timeout: float) -> None:
    deadline = time.monotonic() + total_timeout
    shown = Verbatim(address)
    try:
        with urllib.request.urlopen(address, timeout=read_timeout) as response:  # noqa: S310 - https or the test server
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            if progress is not None:
                progress(0, total)
            while True:
                if time.monotonic() > deadline:
                    raise WeightsError("weights.timeout", url=shown, seconds=f"{total_timeout:g}")
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except WeightsError:
        raise
    except http.client.IncompleteRead as err:  # the server closed before Content-Length
        raise WeightsError("weights.truncated", url=shown, got=len(err.partial), expected=err.expected) from err
    except urllib.error.HTTPError as err:
        raise WeightsError("weights.http", url=shown, status=err.code) from err
    except (socket.timeout, TimeoutError) as err:
        raise WeightsError("weights.timeout", url=shown, seconds=f"{read_timeout:g}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, (socket.timeout, TimeoutError)):
            raise WeightsError("weights.timeout", url=shown, seconds=f"{read_timeout:g}") from err
        raise WeightsError("weights.unreachable", url=shown, error=Verbatim(str(err.reason)[:160])) from err
    except (OSError, ValueError, http.client.HTTPException) as err:  # a dropped connection, a bad URL
        raise WeightsError("weights.unreachable", url=shown, error=Verbatim(str(err)[:160])) from err
    if total is not None and done != total:
        raise WeightsError("weights.truncated", url=shown, got=done, expected=total)


def _check(path: str, pub: Published) -> None:
    from keras.src.utils.file_utils import validate_file

    if os.path.getsize(path) == 0:
        raise WeightsError("weights.truncated", url=Verbatim(pub.file), got=0, expected="?")
    if pub.file_hash is not None and not validate_file(path, pub.file_hash, algorithm="auto"):
        raise WeightsError("weights.hash", file=Verbatim(pub.file))
