"""Legacy Keras 2 / tf.keras HDF5 model files (.h5, .hdf5): checked, translated to Keras 3, then loaded.

An .h5 model holds its architecture as JSON in the root attribute `model_config` and its weights under
`model_weights`. The JSON is read here with h5py (size-capped), walked against the same allow-list as a
.keras config (cnnviz.files.modelfiles.check_config: a Lambda's marshalled bytecode is refused before Keras
sees it), translated from Keras 2 to what Keras 3 accepts (`groups: 1` on DepthwiseConv2D, keras-team/
keras#19151; `batch_input_shape`; dtype policies), its parameters counted from shapes, and only then
built with Keras's legacy loader in safe mode and filled with the file's weights. Before any of that,
the whole file is walked: links or datasets that point outside the file, and declared sizes beyond the
limit, are refused (h5py would otherwise follow them while Keras reads the weights).
"""

from __future__ import annotations

import copy
import io
import re

from cnnviz.files.checks import MAX_CONFIG_BYTES, ModelFileError, parse_json as _parse_json, verbatim as _name

MAX_OBJECTS = 200_000  # groups and datasets walked; MobileNetV2 has under 2,000
# Keras 2 arguments that Keras 3's layers no longer take, with the value that means "nothing to do"
# (None: any value). A different value is kept, and the message then names the layer and the argument.
DROPPED = {
    "DepthwiseConv2D": {"groups": 1},
    "SeparableConv2D": {"groups": 1},
    "BatchNormalization": {"fused": None, "virtual_batch_size": None, "adjustment": None},
}
_UNKNOWN_ARG = re.compile(r"Unrecognized keyword arguments? passed to (\w+): \{'(\w+)'")


def open_file(source):
    """An h5py.File, read-only, from bytes (an upload) or a path; a damaged file gets a clear message."""
    import h5py

    try:
        return h5py.File(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source, "r")
    except (OSError, ValueError) as e:
        raise ModelFileError("files.h5.damaged", error=_name(str(e)[:160])) from None


def check_storage(f, max_bytes: int) -> None:
    """Refuse links (soft or to another file), external or virtual datasets, and declared data beyond `max_bytes`."""
    import h5py

    seen, total, count = set(), 0, 0
    pending = [f]
    while pending:
        group = pending.pop()
        for key in group:
            count += 1
            if count > MAX_OBJECTS:
                raise ModelFileError("files.h5.objects", limit=MAX_OBJECTS)
            link = group.get(key, getlink=True)
            where = _name(f"{group.name.rstrip('/')}/{key}")
            if not isinstance(link, h5py.HardLink):
                raise ModelFileError("files.h5.link", where=where)
            obj = group[key]
            if isinstance(obj, h5py.Group):
                if obj.id not in seen:  # a group hard-linked twice (or in a cycle) is walked once
                    seen.add(obj.id)
                    pending.append(obj)
                continue
            if obj.external or obj.is_virtual:
                raise ModelFileError("files.h5.external", where=where)
            total += int(obj.size or 0) * obj.dtype.itemsize
            if total > max_bytes:
                raise ModelFileError("files.h5.data", mb=f"{total / 2**20:.0f}", limit=f"{max_bytes / 2**20:.0f}")


def read_config(f) -> dict:
    """The parsed `model_config` attribute (size-capped before it is read); weights-only files are named as such."""
    import h5py

    if "model_config" not in f.attrs:  # model.save_weights(...) wrote it, or it is not a Keras file
        raise ModelFileError("files.h5.weights_only")
    if "model_weights" not in f:
        raise ModelFileError("files.h5.no_weights")
    size = h5py.h5a.open(f.id, b"model_config").get_storage_size()  # a fixed-length string's real size
    if size > MAX_CONFIG_BYTES:
        raise ModelFileError("files.member_too_large", name="model_config", size=size, cap=MAX_CONFIG_BYTES)
    raw = f.attrs["model_config"]
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes):
        raise ModelFileError("files.json.invalid", what="model_config", error=_name(type(raw).__name__))
    if len(raw) > MAX_CONFIG_BYTES:  # a variable-length string: known once read (the file's size bounds it)
        raise ModelFileError("files.member_too_large", name="model_config", size=len(raw), cap=MAX_CONFIG_BYTES)
    return _parse_json(raw, "model_config")


def keras_version(f) -> str:
    """The Keras version that wrote the file ("" when it does not say)."""
    v = f.attrs.get("keras_version", "")
    return (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))[:40]


# ---------------------------------------------------------------- Keras 2 -> Keras 3


def translate(config: dict) -> dict:
    """A copy of a (checked) Keras 2 config that Keras 3 builds: dropped arguments removed, an InputLayer
    from `batch_input_shape`, dtype policies as their names."""
    return _translate(copy.deepcopy(config))


def _translate(node):
    if isinstance(node, list):
        return [_translate(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "Policy" and isinstance(node.get("config"), dict):
        return node["config"].get("name", "float32")  # Keras 2's mixed-precision policy, by name
    out = {k: _translate(v) for k, v in node.items()}
    cls, cfg = out.get("class_name"), out.get("config")
    if not isinstance(cfg, dict):
        return out
    for arg, harmless in DROPPED.get(cls, {}).items():
        if arg in cfg and (harmless is None or cfg[arg] == harmless):
            del cfg[arg]
    if cls == "Sequential" and isinstance(cfg.get("layers"), list):
        cfg["layers"] = _sequential_input(cfg["layers"])
    return out


def _sequential_input(layers: list) -> list:
    """Keras 2 put `batch_input_shape` on a Sequential's first layer; Keras 3 wants an InputLayer."""
    out, has_input = [], False
    for i, layer in enumerate(layers):
        cfg = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(cfg, dict) or layer.get("class_name") == "InputLayer":
            has_input = has_input or (i == 0 and isinstance(cfg, dict))
            out.append(layer)
            continue
        shape = cfg.pop("batch_input_shape", None)
        if shape is not None and i == 0 and not has_input:
            dtype = cfg.get("dtype") if isinstance(cfg.get("dtype"), str) else "float32"
            out.append({"class_name": "InputLayer", "config": {
                "batch_shape": shape, "dtype": dtype, "name": f"{cfg.get('name', 'layer')}_input"}})
            has_input = True
        out.append(layer)
    return out


# ---------------------------------------------------------------- building and loading


def build(config: dict):
    """The Keras model `config` (checked, translated) describes, built by Keras's legacy loader in safe mode."""
    from keras.src.legacy.saving import saving_options, saving_utils
    from keras.src.saving import serialization_lib

    from cnnviz import layers as _own_layers  # noqa: F401 - registers MinPooling2D

    with saving_options.keras_option_scope(use_legacy_config=True), serialization_lib.SafeModeScope(True):
        try:
            return saving_utils.model_from_config(copy.deepcopy(config))
        except Exception as e:  # noqa: BLE001 - the message says which layer and argument
            raise _explain(e, config) from None


def _explain(error: Exception, config: dict) -> ModelFileError:
    """Keras's complaint about an argument, as a message naming the layer and the argument."""
    found = _UNKNOWN_ARG.search(str(error))
    if found:
        cls, arg = found.groups()
        for layer in _layers(config):
            if layer.get("class_name") == cls and arg in layer.get("config", {}):
                return ModelFileError("files.h5.argument", layer=_name(str(layer["config"].get("name", "?"))[:80]),
                                      cls=_name(cls), argument=_name(arg),
                                      value=_name(repr(layer["config"][arg])[:60]))
    return ModelFileError("files.rebuild", error=_name(str(error)[:200]))


def _layers(node):
    """Every object with a class_name and a config in `node`, depth first."""
    if isinstance(node, list):
        for v in node:
            yield from _layers(v)
    elif isinstance(node, dict):
        if isinstance(node.get("config"), dict) and "class_name" in node:
            yield node
        for v in node.values():
            yield from _layers(v)


def load(f, config: dict):
    """Build the model and set the weights of the open file `f`; Keras's own failure becomes a message."""
    from keras.src.legacy.saving import legacy_h5_format

    model = build(config)
    try:
        legacy_h5_format.load_weights_from_hdf5_group(f["model_weights"], model)
    except Exception as e:  # noqa: BLE001 - the user sees why their file does not load
        raise ModelFileError("files.load", error=_name(str(e)[:300])) from None
    return model
