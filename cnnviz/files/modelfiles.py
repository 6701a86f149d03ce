"""Checking an uploaded model file before Keras deserializes anything, then loading it safely.

A .keras file is a zip of config.json (the architecture), metadata.json and model.weights.h5.
Keras turns config.json into objects, so that is where an attack would sit (a Lambda with
marshalled code, a "function" from os or builtins, a layer that reads a file or URL). Here the
zip is opened with size limits, config.json is parsed with a size cap and walked against an
allow-list of built-in Keras classes (and cnnviz's MinPooling2D), the parameter count is
counted from weight *shapes* only, and only then keras.saving.load_model(safe_mode=True) runs,
on a temporary file whose name the user never chooses.

Keras 2 / tf.keras .h5 files and Teachable Machine's converted_keras.zip (keras_model.h5 + labels.txt)
go through the same checks (cnnviz.files.h5files reads, translates and loads the HDF5 part). An ONNX file
(.onnx) is checked, converted to Keras and verified against onnxruntime by cnnviz.files.onnxfiles. load_upload is
for browser uploads (64 MB, 30 M parameters); load_path for a file or folder on the user's own disk.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnnviz.files import safezip
from cnnviz.files.checks import (MAX_CONFIG_BYTES, MAX_FILE_BYTES, MAX_PARAMS, MAX_PARAMS_DISK,  # noqa: F401 - their home
                                 MAX_UNCOMPRESSED_BYTES, Limits, ModelFileError, parse_json, verbatim)
from cnnviz.messages import Message

if TYPE_CHECKING:
    import keras

MAX_METADATA_BYTES = 64 * 1024
MAX_RATIO = 50  # uncompressed / compressed per member, above 1 MB: a zip bomb
MAX_MEMBERS = 8
MAX_DEPTH = 64  # JSON nesting

MAX_LABELS_BYTES = 1024 * 1024
MEMORY_FACTOR = 3  # bytes in memory per float32 parameter byte while loading (file, weights, the model)

ALLOWED_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
TEACHABLE_MODEL = "keras_model.h5"
TEACHABLE = {TEACHABLE_MODEL, "labels.txt"}  # Teachable Machine's converted_keras.zip
JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$)")  # what macOS adds to a zip: ignored
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


def upload_limits() -> Limits:
    return Limits(MAX_FILE_BYTES, MAX_PARAMS, MAX_UNCOMPRESSED_BYTES)  # read now: tests lower them


def disk_limits() -> Limits:
    return Limits(None, MAX_PARAMS_DISK, 8 * MAX_PARAMS_DISK)  # float64 weights at most


def _hint() -> Message:
    return Message("files.convert_hint")


_name = verbatim  # text from the upload (member names, strings in config.json): the UI escapes it
_parse_json = parse_json


# ---------------------------------------------------------------- the zip


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: list[int], keep: bool = True) -> bytes:
    """safezip.read_member within `cap` and MAX_RATIO, its refusals as this module's messages;
    `keep=False` only counts (a .keras file on disk: Keras reads the weights from the file itself)."""
    try:
        return safezip.read_member(zf, info, cap, MAX_RATIO, budget, keep)
    except safezip.ZipError as err:
        raise ModelFileError(_MEMBER_KEYS[err.code], **err.values) from None


# safezip.read_member's refusals as this module's messages (the keys spelled out: tests find them in the code)
_MEMBER_KEYS = {"member_too_large": "files.member_too_large", "ratio": "files.ratio", "expands": "files.expands"}


def _zip_infos(source) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive's members (bytes or a path), Finder's junk left out; paths outside it and links refused."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as e:
        raise ModelFileError("files.damaged", error=_name(e)) from None
    for info in infos:
        if safezip.unsafe_name(info.filename):
            raise ModelFileError("files.zip.outside", name=_name(info.filename[:120]))
        if safezip.is_symlink(info):
            raise ModelFileError("files.zip.link", name=_name(info.filename[:120]))
    return zf, [i for i in infos if not JUNK.search(i.filename)]


def _open_zip(source, filename: str, limits: Limits, keep_weights: bool = True) -> dict[str, bytes]:
    """The members of a .keras zip or a Teachable Machine export, read within the limits."""
    if (filename or "").lower().endswith((".pb", ".savedmodel")) or "saved_model" in (filename or "").lower():
        raise ModelFileError("files.savedmodel", hint=_hint())
    zf, infos = _zip_infos(source)
    names = [i.filename for i in infos]
    if any(n.endswith("saved_model.pb") for n in names):
        raise ModelFileError("files.zipped_savedmodel", hint=_hint())
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError("files.members", n=len(infos))
    expected = TEACHABLE if TEACHABLE_MODEL in names else ALLOWED_MEMBERS
    unexpected = sorted(set(names) - expected)
    if unexpected:
        raise ModelFileError("files.unexpected", names=_name(", ".join(unexpected[:5])))
    if len(set(names)) != len(names):
        raise ModelFileError("files.twice")
    if expected is TEACHABLE and "labels.txt" not in names:
        raise ModelFileError("files.tm.no_labels")
    if expected is ALLOWED_MEMBERS and "config.json" not in names:
        raise ModelFileError("files.no_config")
    budget = [limits.unpacked]
    caps = {"config.json": MAX_CONFIG_BYTES, "metadata.json": MAX_METADATA_BYTES, "labels.txt": MAX_LABELS_BYTES,
            "model.weights.h5": limits.unpacked, TEACHABLE_MODEL: limits.unpacked}
    try:
        members = {i.filename: _read_member(zf, i, caps[i.filename], budget,
                                            keep=keep_weights or i.filename != "model.weights.h5") for i in infos}
    except (zipfile.BadZipFile, zlib_error(), EOFError, RuntimeError, NotImplementedError) as e:
        raise ModelFileError("files.damaged_or_encrypted", error=_name(e)) from None
    return members


def zlib_error():
    import zlib

    return zlib.error


# ---------------------------------------------------------------- config.json


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


def _deserialize(config):
    import keras

    return keras.saving.deserialize_keras_object(config, safe_mode=True)


def count_params(config, build=None) -> int:
    """Parameters of the model `config` describes, from weight shapes only (no memory allocated).

    Inside a keras.StatelessScope, variables record their shape but defer their initial values,
    so a config declaring a billion-unit Dense costs nothing here. Called after check_config; `build`
    turns the config into a model (default: Keras 3's deserializer in safe mode; cnnviz.files.h5files.build).
    """
    import keras
    from keras.src.backend.common import global_state

    from cnnviz import layers as _own_layers  # noqa: F401 - registers MinPooling2D  # the deferred variables' registry (thread-local)

    config = {k: v for k, v in config.items() if k != "compile_config"}  # optimizers need real variables
    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = (build or _deserialize)(config)
            return int(model.count_params())
    finally:
        # Forget the shape-only variables, so nothing initializes (allocates) them later.
        pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
        del pending[before:]


@dataclass(frozen=True)
class Loaded:
    """A loaded model file and what the file says about it."""

    model: keras.Model
    class_names: tuple[str, ...] | None  # from a Teachable Machine export's labels.txt, or None
    pixels: str  # "" unknown, or "symmetric" ([-1, 1]) for a Teachable Machine export (see ModelInfo.pixels)
    kind: str  # "keras", "h5", "teachable" or "onnx"
    name: str  # the file's (or folder's) name, for display
    assumed: str = ""  # a pixel range assumed when nothing declares one ("torch" for an ImageNet-shaped ONNX model)


@dataclass(frozen=True)
class Checked:
    """A file that passed every check, and what loading it needs."""

    kind: str
    config: dict  # checked (and, from HDF5, translated to Keras 3)
    params: int  # counted from shapes
    source: bytes | str  # the .keras or .h5 bytes, or a path to them
    class_names: tuple[str, ...] | None = None  # labels.txt, or what a cnnviz download's metadata.json carries
    pixels: str = ""  # the pixel range a cnnviz download's metadata.json carries
    onnx: object = None  # an ONNX file: its cnnviz.files.onnxfiles.Checked (the parsed graph)


def _check_config(config, limits: Limits, build=None) -> int:
    """check_config, then the parameter count from shapes against the limit; returns the count."""
    check_config(config)
    try:
        n = count_params(config, build)
    except ModelFileError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to rebuild the allowed config is the file's fault
        raise ModelFileError("files.rebuild", error=_name(str(e)[:200])) from None
    if n > limits.params:
        raise ModelFileError("files.params", n=n, limit=limits.params)
    return n


def _check_h5(source, limits: Limits, kind: str = "h5", class_names=None) -> Checked:
    from cnnviz.files import h5files

    with h5files.open_file(source) as f:
        h5files.check_storage(f, limits.unpacked)
        config = h5files.read_config(f)
    check_config(config)  # before translating: the file's own config is what is judged
    config = h5files.translate(config)
    return Checked(kind, config, _check_config(config, limits, h5files.build), source, class_names)


def _check_onnx(source, limits: Limits) -> Checked:
    """An ONNX file (told by its name: ONNX has no signature), checked by cnnviz.files.onnxfiles."""
    from cnnviz.files import onnxfiles

    if isinstance(source, (bytes, bytearray)):
        checked = onnxfiles.check(bytes(source), limits)
    else:
        checked = onnxfiles.check_path(source, limits)
    return Checked("onnx", {}, checked.params, source, onnx=checked)


def labels(raw: bytes) -> tuple[str, ...]:
    """Class names from a Teachable Machine labels.txt: "0 Rock" -> "Rock", one per line."""
    text = raw.decode("utf-8-sig", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return tuple(re.sub(r"^\d+\s+", "", line)[:200] for line in lines)


def _check_zip(source, filename: str, limits: Limits) -> Checked:
    members = _open_zip(source, filename, limits, keep_weights=isinstance(source, (bytes, bytearray)))
    if TEACHABLE_MODEL in members:
        if members[TEACHABLE_MODEL][:8] != HDF5_SIGNATURE:
            raise ModelFileError("files.h5.not_hdf5", name=TEACHABLE_MODEL)
        return _check_h5(members[TEACHABLE_MODEL], limits, "teachable", labels(members["labels.txt"]))
    config = _parse_json(members["config.json"], "config.json")
    names, pixels = None, ""
    if "metadata.json" in members:
        from cnnviz.files import modelmeta

        metadata = _parse_json(members["metadata.json"], "metadata.json")
        if not isinstance(metadata, dict):
            raise ModelFileError("files.metadata")
        names, pixels = modelmeta.parse(metadata)  # what a cnnviz download carries
    return Checked("keras", config, _check_config(config, limits), source, names, pixels)


def _check(source, filename: str, limits: Limits) -> Checked:
    """Every check short of loading, on bytes or on a file's path; raises ModelFileError."""
    if isinstance(source, (bytes, bytearray)):
        head, size = bytes(source[:8]), len(source)
    else:
        with open(source, "rb") as f:
            head = f.read(8)
        size = os.path.getsize(source)
    if not size:
        raise ModelFileError("files.empty")
    if limits.file_bytes is not None and size > limits.file_bytes:
        raise ModelFileError("files.too_large", mb=f"{size / 2**20:.0f}", limit=limits.file_bytes // 2**20)
    if head == HDF5_SIGNATURE:
        return _check_h5(source, limits)
    name = (filename or "").lower()
    if name.endswith(".onnx"):
        return _check_onnx(source, limits)
    if name.endswith((".h5", ".hdf5")):
        raise ModelFileError("files.h5.not_hdf5", name=_name(os.path.basename(filename)[:120]))
    if head[:4] != b"PK\x03\x04" and not name.endswith((".pb", ".savedmodel")) and "saved_model" not in name:
        raise ModelFileError("files.not_zip")
    return _check_zip(source, filename, limits)


def check_bytes(data: bytes, filename: str = "model.keras") -> dict:
    """Every check of an upload short of loading: returns the (checked) config; raises ModelFileError."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ModelFileError("files.empty")
    return _check(bytes(data), filename, upload_limits()).config


def _load_keras(source) -> keras.Model:
    import keras

    fd, path = tempfile.mkstemp(suffix=".keras", prefix="cnnviz-upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(source, (bytes, bytearray)):
                f.write(source)
            else:
                with open(source, "rb") as src:  # a private copy: its name ends in .keras, as Keras wants
                    while chunk := src.read(16 * 1024 * 1024):
                        f.write(chunk)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as e:  # noqa: BLE001 - the user sees why their file does not load
            raise ModelFileError("files.load", error=_name(str(e)[:300])) from None
    finally:
        os.unlink(path)


def _load(checked: Checked, limits: Limits, name: str) -> Loaded:
    from cnnviz.files import h5files
    from cnnviz import layers as _own_layers  # noqa: F401 - registers MinPooling2D for deserialization

    if checked.kind == "keras":
        model = _load_keras(checked.source)
    elif checked.kind == "onnx":
        from cnnviz.files import onnxfiles

        model = onnxfiles.load(checked.onnx)  # converted, then verified against onnxruntime
    else:
        with h5files.open_file(checked.source) as f:
            model = h5files.load(f, checked.config)
    if model.count_params() > limits.params:
        raise ModelFileError("files.params_loaded", n=model.count_params(), limit=limits.params)
    shape = model.inputs[0].shape if getattr(model, "inputs", None) else None
    # the first input an image (height and width may be None: any size; cnnviz then feeds the image's own
    # size); the model's other inputs, if any, get zeros and the Activations page says so
    if shape is None or len(shape) != 4 or shape[3] is None:
        raise ModelFileError("files.input", shape=shape if shape is None else tuple(shape))
    names = checked.class_names
    outputs = model.outputs[0].shape[-1]
    if names is not None and len(names) != outputs:
        if checked.kind == "teachable":
            raise ModelFileError("files.tm.labels", n=len(names), outputs=outputs)
        names = None  # stored names that do not fit the outputs: as if there were none
    assumed = ""
    if checked.kind == "onnx":
        from cnnviz import imagenet
        from cnnviz.files import onnxfiles

        assumed = onnxfiles.assumed_pixels(checked.onnx)
        names = imagenet.CLASS_NAMES if assumed == "torch" else None  # torchvision's ImageNet order, as assumed
    return Loaded(model, names, "symmetric" if checked.kind == "teachable" else checked.pixels, checked.kind, name,
                  assumed)


def load_upload(data: bytes, filename: str) -> Loaded:
    """A browser upload (.keras, .h5/.hdf5, Teachable Machine's converted_keras.zip or .onnx), checked within the
    upload limits, then loaded; the kind is told by the content (ONNX by the name). Raises ModelFileError."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ModelFileError("files.empty")
    limits = upload_limits()
    return _load(_check(bytes(data), filename, limits), limits, os.path.basename(filename or "") or "model")


def available_memory() -> int:
    """Bytes of memory this machine can still give (MemAvailable, else all physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # not Linux
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def load_path(path: str | os.PathLike) -> Loaded:
    """A model file or a Teachable Machine folder (keras_model.h5 + labels.txt) on the user's own disk:
    the same checks as an upload, no cap on the file's size, MAX_PARAMS_DISK parameters, and refused before
    loading when it would not fit in memory. Raises ModelFileError."""
    path = os.fspath(path)
    return _load(check_path(path), disk_limits(), os.path.basename(os.path.normpath(path)) or path)


def check_path(path: str | os.PathLike) -> Checked:
    """Every check of load_path short of loading (the command line runs it before it starts a server)."""
    path = os.fspath(path)
    name = os.path.basename(os.path.normpath(path)) or path
    limits = disk_limits()
    if os.path.isdir(path):
        model_file, labels_file = os.path.join(path, TEACHABLE_MODEL), os.path.join(path, "labels.txt")
        if not (os.path.isfile(model_file) and os.path.isfile(labels_file)):
            raise ModelFileError("files.folder", name=_name(name[:120]))
        if os.path.getsize(labels_file) > MAX_LABELS_BYTES:
            raise ModelFileError("files.member_too_large", name="labels.txt", size=os.path.getsize(labels_file),
                                 cap=MAX_LABELS_BYTES)
        with open(labels_file, "rb") as f:
            names = labels(f.read())
        checked = _check_h5(model_file, limits, "teachable", names)
    elif os.path.isfile(path):
        checked = _check(path, path, limits)
    else:
        raise ModelFileError("files.missing", name=_name(path[:200]))
    need = checked.params * 4 * _memory_factor(checked)
    if need > available_memory():
        raise ModelFileError("files.memory", n=checked.params, gb=f"{need / 2**30:.1f}",
                             free=f"{available_memory() / 2**30:.1f}")
    return checked


def _memory_factor(checked: Checked) -> int:
    """Bytes in memory per float32 parameter byte while loading: an ONNX file is converted and verified as well."""
    if checked.kind == "onnx":
        from cnnviz.files import onnxfiles

        return onnxfiles.MEMORY_FACTOR
    return MEMORY_FACTOR


def load_bytes(data: bytes, filename: str = "model.keras") -> keras.Model:
    """An upload's model (see load_upload); raises ModelFileError."""
    return load_upload(data, filename).model


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
