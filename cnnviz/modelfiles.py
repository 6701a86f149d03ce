"""Checking an uploaded model file before Keras deserializes anything, then loading it safely.

A .keras file is a zip of config.json (the architecture), metadata.json and model.weights.h5.
Keras turns config.json into objects, so that is where an attack would sit (a Lambda with
marshalled code, a "function" from os or builtins, a layer that reads a file or URL). Here the
zip is opened with size limits, config.json is parsed with a size cap and walked against an
allow-list of built-in Keras classes (and cnnviz's MinPooling2D), the parameter count is
counted from weight *shapes* only, and only then keras.saving.load_model(safe_mode=True) runs,
on a temporary file whose name the user never chooses.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import tempfile
import zipfile

from cnnviz.messages import Message, MessageError, Verbatim

MAX_FILE_BYTES = 64 * 1024 * 1024  # the upload itself; also server.maxUploadSize
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # all members together, as read (not as declared)
MAX_CONFIG_BYTES = 1024 * 1024  # config.json; ResNet50's is about 0.1 MB
MAX_METADATA_BYTES = 64 * 1024
MAX_RATIO = 50  # uncompressed / compressed per member, above 1 MB: a zip bomb
MAX_MEMBERS = 8
MAX_PARAMS = 30_000_000
MAX_DEPTH = 64  # JSON nesting

ALLOWED_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Built-in Keras classes that can carry code or reach outside the model file: never accepted.
CODE_OR_FILES = {
    "Lambda",  # marshalled Python code
    "TFSMLayer",  # loads a SavedModel from a path
    "TorchModuleWrapper", "JaxLayer", "FlaxLayer",  # wrap another framework's module or functions
    "StringLookup", "IntegerLookup", "TextVectorization",  # a vocabulary may be a file path
    "Layer", "Wrapper", "Initializer", "Regularizer", "Constraint", "Optimizer", "Loss", "Metric",  # bare bases
    "LossFunctionWrapper",  # wraps any function by name
}
HELPER_NAMES = {"__keras_tensor__"}  # symbolic tensors in functional configs
MODELS = {"Sequential", "Functional", "Model"}


def _classes(module) -> set[str]:
    """The names of the classes a public Keras namespace exports (aliases resolved to the class's own name)."""
    import inspect

    return {obj.__name__ for name in dir(module) if not name.startswith("_")
            for obj in [getattr(module, name)] if inspect.isclass(obj)}


@functools.cache
def allowed() -> tuple[frozenset[str], frozenset[str]]:
    """(layer classes, helper classes) accepted in config.json, computed from the installed Keras:

    - layers: every class of `keras.layers`, less CODE_OR_FILES;
    - helpers: activations, initializers, regularizers, constraints, dtype policies, optimizers and their
      learning-rate schedules, losses and metrics (a compile config), less CODE_OR_FILES.
    Built-in classes only: a class is looked up by name in Keras, with module keras.* (see _check_object)."""
    import keras

    layers = _classes(keras.layers) - CODE_OR_FILES
    helpers = set(HELPER_NAMES)
    for module in (keras.activations, keras.initializers, keras.regularizers, keras.constraints,
                   keras.dtype_policies, keras.optimizers, keras.optimizers.schedules, keras.losses, keras.metrics):
        helpers |= _classes(module)
    return frozenset(layers), frozenset(helpers - CODE_OR_FILES - layers)


OWN = {"cnnviz>MinPooling2D": "MinPooling2D"}  # registered_name -> class of the project's own layers
ALLOWED_MODULE = re.compile(r"^keras(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Plain strings Keras resolves by name (activation='relu', loss='mse') are looked up inside Keras only.
_PATHLIKE = re.compile(r"(://|[/\\]|^~|^[A-Za-z]:|\.(py|pyc|so|dll|pkl|pickle|h5|hdf5|keras|json|npy|npz|txt|csv|exe|sh)$)",
                       re.IGNORECASE)


class ModelFileError(MessageError):
    """A refused model file; the message names the reason and is meant for the user.

    A message (`key`, `values`): str() is English, cnnviz.ui.messages shows it in the session's language.
    """


def _hint() -> Message:
    return Message("files.convert_hint")


def _name(text) -> Verbatim:
    """Text from the upload (member names, strings in config.json): the UI escapes it."""
    return Verbatim(text)


# ---------------------------------------------------------------- the zip


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: list[int]) -> bytes:
    """Read one member, stopping at `cap` bytes (declared sizes can lie) and within the total budget."""
    if info.file_size > cap:
        raise ModelFileError("files.member_too_large", name=_name(info.filename), size=info.file_size, cap=cap)
    if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ModelFileError("files.ratio", name=_name(info.filename),
                             ratio=f"{info.file_size / max(info.compress_size, 1):.0f}")
    out = io.BytesIO()
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1024 * 1024, cap + 1 - out.tell()))
            if not chunk:
                break
            out.write(chunk)
            budget[0] -= len(chunk)
            if out.tell() > cap or budget[0] < 0:
                raise ModelFileError("files.expands", name=_name(info.filename))
    return out.getvalue()


def _open_zip(data: bytes, filename: str) -> dict[str, bytes]:
    name = (filename or "").lower()
    if data[:8] == HDF5_SIGNATURE or name.endswith((".h5", ".hdf5")):
        raise ModelFileError("files.hdf5", hint=_hint())
    if name.endswith((".pb", ".savedmodel")) or "saved_model" in name:
        raise ModelFileError("files.savedmodel", hint=_hint())
    if not data[:4] == b"PK\x03\x04":
        raise ModelFileError("files.not_zip")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise ModelFileError("files.damaged", error=_name(e)) from None
    names = [i.filename for i in infos]
    if any(n.endswith("saved_model.pb") for n in names):
        raise ModelFileError("files.zipped_savedmodel", hint=_hint())
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError("files.members", n=len(infos))
    unexpected = sorted(set(names) - ALLOWED_MEMBERS)
    if unexpected:
        raise ModelFileError("files.unexpected", names=_name(", ".join(unexpected[:5])))
    if len(set(names)) != len(names):
        raise ModelFileError("files.twice")
    if "config.json" not in names:
        raise ModelFileError("files.no_config")
    budget = [MAX_UNCOMPRESSED_BYTES]
    caps = {"config.json": MAX_CONFIG_BYTES, "metadata.json": MAX_METADATA_BYTES,
            "model.weights.h5": MAX_UNCOMPRESSED_BYTES}
    try:
        return {i.filename: _read_member(zf, i, caps[i.filename], budget) for i in infos}
    except (zipfile.BadZipFile, zlib_error(), EOFError, RuntimeError, NotImplementedError) as e:
        raise ModelFileError("files.damaged_or_encrypted", error=_name(e)) from None


def zlib_error():
    import zlib

    return zlib.error


# ---------------------------------------------------------------- config.json


def _parse_json(raw: bytes, what: str):
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
        raise ModelFileError("files.json.invalid", what=what, error=_name(str(e)[:120])) from None


def _where(path: list[str]) -> str:
    return "/".join(path) or "config.json"


def check_config(config) -> None:
    """Walk a .keras config and refuse anything outside the allow-list; raises ModelFileError."""
    if not isinstance(config, dict) or config.get("class_name") not in MODELS:
        raise ModelFileError("files.config.not_model")
    _walk(config, [], 0, layer=False)


def _walk(node, path: list[str], depth: int, layer: bool) -> None:
    if depth > MAX_DEPTH:
        raise ModelFileError("files.config.deep")
    if isinstance(node, dict):
        if "class_name" in node:
            _check_object(node, path)
            layer = layer or node.get("class_name") in allowed()[0] or node.get("registered_name") in OWN
        for key, value in node.items():
            if not isinstance(key, str):
                raise ModelFileError("files.config.key", where=_name(_where(path)))
            _walk(value, path + [key], depth + 1, layer)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, path + [str(i)], depth + 1, layer)
    elif isinstance(node, str):
        if layer and _PATHLIKE.search(node) and path[-1:] not in (["module"],):
            raise ModelFileError("files.config.path", where=_name(_where(path)), value=_name(repr(node[:80])))
    elif node is None or isinstance(node, (bool, int, float)):
        return
    else:
        raise ModelFileError("files.config.value", where=_name(_where(path)))


def _check_object(node: dict, path: list[str]) -> None:
    cls = node.get("class_name")
    module = node.get("module")
    registered = node.get("registered_name")
    where = _name(_where(path))
    if not isinstance(cls, str):
        raise ModelFileError("files.config.class_text", where=where)
    if cls in ("Lambda", "__lambda__", "TFOpLambda", "function", "__typespec__") or "lambda" in cls.lower():
        raise ModelFileError("files.config.code", where=where, cls=_name(cls))
    if registered in OWN:
        if cls != OWN[registered] or module not in (None, "cnnviz.layers"):
            raise ModelFileError("files.config.own", where=where, name=_name(repr(registered)))
        return
    if module is not None and (not isinstance(module, str) or not ALLOWED_MODULE.match(module)):
        raise ModelFileError("files.config.module", where=where, cls=_name(cls), module=_name(repr(str(module)[:60])))
    if registered not in (None, cls):
        raise ModelFileError("files.config.custom", where=where, name=_name(repr(str(registered)[:60])))
    layers, helpers = allowed()
    if cls in CODE_OR_FILES or cls not in layers | MODELS | helpers:
        raise ModelFileError("files.config.class", where=where, cls=_name(cls[:60]))


# ---------------------------------------------------------------- parameters, loading


def count_params(config) -> int:
    """Parameters of the model `config` describes, from weight shapes only (no memory allocated).

    Inside a keras.StatelessScope, variables record their shape but defer their initial values,
    so a config declaring a billion-unit Dense costs nothing here. Called after check_config.
    """
    import keras
    from keras.src.backend.common import global_state

    from cnnviz import layers as _own_layers  # noqa: F401 - registers MinPooling2D  # the deferred variables' registry (thread-local)

    config = {k: v for k, v in config.items() if k != "compile_config"}  # optimizers need real variables
    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
            return int(model.count_params())
    finally:
        # Forget the shape-only variables, so nothing initializes (allocates) them later.
        pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
        del pending[before:]


def check_bytes(data: bytes, filename: str = "model.keras") -> dict:
    """Every check short of loading: returns the parsed config.json; raises ModelFileError."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ModelFileError("files.empty")
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError("files.too_large", mb=f"{len(data) / 2**20:.0f}", limit=MAX_FILE_BYTES // 2**20)
    members = _open_zip(bytes(data), filename)
    config = _parse_json(members["config.json"], "config.json")
    if "metadata.json" in members:
        metadata = _parse_json(members["metadata.json"], "metadata.json")
        if not isinstance(metadata, dict):
            raise ModelFileError("files.metadata")
    check_config(config)
    try:
        n = count_params(config)
    except Exception as e:  # noqa: BLE001 - any failure to rebuild the allowed config is the file's fault
        raise ModelFileError("files.rebuild", error=_name(str(e)[:200])) from None
    if n > MAX_PARAMS:
        raise ModelFileError("files.params", n=n, limit=MAX_PARAMS)
    return config


def load_bytes(data: bytes, filename: str = "model.keras"):
    """Check the upload, then load it with keras.saving.load_model(safe_mode=True); raises ModelFileError."""
    import keras

    from cnnviz import layers as _own_layers  # noqa: F401 - registers MinPooling2D for deserialization

    check_bytes(data, filename)
    fd, path = tempfile.mkstemp(suffix=".keras", prefix="cnnviz-upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as e:  # noqa: BLE001 - the user sees why their file does not load
            raise ModelFileError("files.load", error=_name(str(e)[:300])) from None
    finally:
        os.unlink(path)
    if model.count_params() > MAX_PARAMS:
        raise ModelFileError("files.params_loaded", n=model.count_params(), limit=MAX_PARAMS)
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else None
    # the first input an image (height and width may be None: any size; cnnviz then feeds the image's own
    # size); the model's other inputs, if any, get zeros and the Activations page says so
    if shape is None or len(shape) != 4 or shape[3] is None:
        raise ModelFileError("files.input", shape=shape if shape is None else tuple(shape))
    return model


def model_bytes(model) -> bytes:
    """The model saved as .keras, for a download button."""
    fd, path = tempfile.mkstemp(suffix=".keras", prefix="cnnviz-download-")
    os.close(fd)
    try:
        model.save(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)
