"""What every model-file format shares (cnnviz.files.modelfiles, h5files, onnxfiles import it; it imports none
of them): the refusal (ModelFileError, a translatable message, `files.<code>` keys), the caps on what a file
may hold (Limits for an upload or a file on the user's own disk), and the capped JSON parser."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cnnviz.messages import MessageError, Verbatim

MAX_FILE_BYTES = 64 * 1024 * 1024  # the upload itself; also server.maxUploadSize
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # all members together, as read (not as declared)
MAX_CONFIG_BYTES = 1024 * 1024  # config.json; ResNet50's is about 0.1 MB
MAX_PARAMS = 30_000_000
MAX_PARAMS_DISK = 1_000_000_000  # a file on the user's own disk (load_path): their memory is the limit


class ModelFileError(MessageError):
    """A refused model file; the message names the reason and is meant for the user.

    A message (`key`, `values`): str() is English, cnnviz.ui.messages shows it in the session's language.
    """


@dataclass(frozen=True)
class Limits:
    """How much a model file may hold: an upload's limits, or a file on the user's own disk."""

    file_bytes: int | None  # None: no cap on the file itself
    params: int
    unpacked: int  # zip members together, or an HDF5 file's declared data


def verbatim(text) -> Verbatim:
    """Text from the file (member names, strings in config.json, node names): the UI escapes it."""
    return Verbatim(text)


def parse_json(raw: bytes, what: str):
    """JSON from a model file; a repeated key (which hides what Keras would read) or bad JSON is refused."""
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ModelFileError("files.json.duplicate", what=what)
        return dict(pairs)

    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except ModelFileError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFileError("files.json.invalid", what=what, error=verbatim(str(e)[:120])) from None
