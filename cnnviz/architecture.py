"""A layer table <-> an architecture spec <-> a Keras model, and the Keras-exact summary.

The summary is computed from cnnviz.arithmetic BEFORE anything is built, so an impossible
architecture is reported as "layer 4 (conv2d_3): a 5 window does not fit in 3 rows ..."
instead of a Keras traceback. Tests compare every number with the built Keras model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from cnnviz import arithmetic
from cnnviz.messages import Message, MessageError, Verbatim, term

KINDS = (
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "MinPooling2D",
    "GlobalAveragePooling2D",
    "BatchNormalization",
    "Dropout",
    "Flatten",
    "Dense",
)
POOLINGS = {"MaxPooling2D": "max", "AveragePooling2D": "average", "MinPooling2D": "min"}
ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh", "softmax", "elu", "gelu", "swish", "leaky_relu")
# Keras's own default layer names, so a built model reads like one a student would build.
_BASE_NAMES = {
    "Conv2D": "conv2d",
    "MaxPooling2D": "max_pooling2d",
    "AveragePooling2D": "average_pooling2d",
    "MinPooling2D": "min_pooling2d",
    "GlobalAveragePooling2D": "global_average_pooling2d",
    "BatchNormalization": "batch_normalization",
    "Dropout": "dropout",
    "Flatten": "flatten",
    "Dense": "dense",
}
# Table columns (the page's st.data_editor edits exactly these).
COLUMNS = ("layer", "filters_units", "kernel", "stride", "padding", "dilation", "activation", "rate")
# Caps that keep a typo (1000000 filters) from freezing a shared server.
MAX_SIZE = 1024
MAX_UNITS = 8192
MAX_PARAMS = 50_000_000


class ArchitectureError(MessageError):
    """An architecture that cannot be built; names the failing layer and the arithmetic.

    A message (`key`, `values`: str() is English, cnnviz.ui.messages shows it in the session's language).
    """

    def __init__(self, key: str, index: int | None = None, layer_name: str | None = None, **values):
        # layer_name, not name: a message may have its own {name} value (the layer's name, escaped)
        super().__init__(key, **values)
        self.index = index
        self.name = layer_name


def _detail(err: ValueError):
    """What went wrong inside a layer, without the arithmetic's own "Conv2D: " / "Pooling: " (the layer is named)."""
    if isinstance(err, MessageError):
        return err.values["detail"] if err.key == "arith.in_layer" else err
    return re.sub(r"^(Conv2D|Pooling): ", "", str(err))


@dataclass(frozen=True)
class LayerSpec:
    kind: str
    filters: int | None = None  # Conv2D filters / Dense units
    kernel: tuple[int, int] = (3, 3)  # Conv2D kernel / pooling pool size
    strides: tuple[int, int] | None = None  # None: 1 for Conv2D, pool size for pooling
    padding: str = "valid"
    dilation: tuple[int, int] = (1, 1)
    activation: str | None = None
    rate: float | None = None  # Dropout
    name: str | None = None


@dataclass(frozen=True)
class ArchSpec:
    input_shape: tuple[int, int, int]
    layers: tuple[LayerSpec, ...]
    name: str = "model"


@dataclass(frozen=True)
class SummaryRow:
    index: int  # 1-based, as a student counts layers
    name: str
    kind: str
    output_shape: tuple[int, ...]  # without the batch axis
    params: int
    macs: int
    receptive_field: tuple[int, int] | None  # (h, w) input pixels one unit sees; None once flattened
    jump: tuple[int, int] | None
    total_params: int


@dataclass
class Summary:
    rows: list[SummaryRow] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return self.rows[-1].total_params if self.rows else 0

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.rows[-1].output_shape if self.rows else ()


# ---------------------------------------------------------------- names


def layer_names(layers) -> list[str]:
    """Explicit names (kept) or Keras-style defaults: conv2d, conv2d_1, ... per kind."""
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        if layer.name:
            names.append(layer.name)
            continue
        base = _BASE_NAMES.get(layer.kind, str(layer.kind).lower())  # an unknown kind is refused by summarize
        n = counts.get(base, 0)
        counts[base] = n + 1
        names.append(base if n == 0 else f"{base}_{n}")
    return names


def _named(spec: ArchSpec) -> list[tuple[LayerSpec, str]]:
    return list(zip(spec.layers, layer_names(spec.layers)))


# ---------------------------------------------------------------- summary


def summarize(spec: ArchSpec) -> Summary:
    """Per layer: output shape, parameters, MACs, receptive field and jump; raises ArchitectureError."""
    try:
        shape = tuple(int(v) for v in arithmetic._check_input(spec.input_shape))
    except ValueError as e:
        raise ArchitectureError("arch.input", 0, "input", detail=_detail(e)) from None
    if max(shape) > MAX_SIZE:
        raise ArchitectureError("arch.input_too_large", 0, "input", limit=MAX_SIZE, shape=shape)
    if not spec.layers:
        raise ArchitectureError("arch.no_layers", None, None)
    rows: list[SummaryRow] = []
    total = 0
    # Receptive field per axis as (kernel, stride, dilation) triples so far; None once flattened.
    fields: list[tuple[list, list]] | None = ([], [])
    for i, (layer, name) in enumerate(_named(spec), start=1):
        where = Message("arch.where", i=i, name=name, kind=layer.kind)
        try:
            shape, params, macs, step = _layer(layer, shape)
        except ValueError as e:
            raise ArchitectureError("arch.at", i, name, where=where, detail=_detail(e)) from None
        total += params
        if total > MAX_PARAMS:
            raise ArchitectureError("arch.at", i, name, where=where,
                                    detail=Message("arch.too_many_params", total=total, limit=MAX_PARAMS))
        if step == "flat":
            fields = None
        elif step is not None and fields is not None:
            (kh, sh, dh), (kw, sw, dw) = step
            fields[0].append((kh, sh, dh))
            fields[1].append((kw, sw, dw))
        rf = jump = None
        if fields is not None:
            fh = arithmetic.receptive_field(fields[0])
            fw = arithmetic.receptive_field(fields[1])
            rf = (fh[-1].size if fh else 1, fw[-1].size if fw else 1)
            jump = (fh[-1].jump if fh else 1, fw[-1].jump if fw else 1)
        rows.append(SummaryRow(i, name, layer.kind, shape, params, macs, rf, jump, total))
    return Summary(rows)


def _needs_map(shape, kind) -> None:
    if len(shape) != 3:
        raise MessageError("arch.needs_map", kind=kind, n=shape[0])


def _layer(layer: LayerSpec, shape: tuple[int, ...]):
    """(output shape, params, MACs, receptive-field step) of one layer on `shape`."""
    kind = layer.kind
    if kind not in KINDS:
        raise MessageError("arch.unknown_kind", kind=Verbatim(repr(kind)), kinds=", ".join(KINDS))
    if kind == "Conv2D":
        _needs_map(shape, kind)
        f = _count(layer.filters, "filters", MAX_UNITS)
        k, s, d = arithmetic.pair(layer.kernel, "kernel"), _strides(layer, (1, 1)), arithmetic.pair(layer.dilation, "dilation")
        _activation(layer.activation)
        out = arithmetic.conv2d_output_shape(shape, f, k, s, layer.padding, d)
        params = arithmetic.conv2d_params(k, shape[2], f)
        macs = arithmetic.conv2d_macs(shape, f, k, s, layer.padding, d)
        return out, params, macs, ((k[0], s[0], d[0]), (k[1], s[1], d[1]))
    if kind in POOLINGS:
        _needs_map(shape, kind)
        p = arithmetic.pair(layer.kernel, "pool size")
        s = _strides(layer, p)
        out = arithmetic.pool2d_output_shape(shape, p, s, layer.padding)
        return out, 0, 0, ((p[0], s[0], 1), (p[1], s[1], 1))
    if kind == "GlobalAveragePooling2D":
        _needs_map(shape, kind)
        return (shape[2],), 0, 0, "flat"
    if kind == "BatchNormalization":
        # gamma, beta (trainable) + moving mean, moving variance (not trainable), per channel.
        return shape, 4 * shape[-1], 0, None
    if kind == "Dropout":
        rate = 0.5 if layer.rate is None else float(layer.rate)
        if not 0 <= rate < 1 or math.isnan(rate):
            raise MessageError("arch.dropout_rate", value=rate)
        return shape, 0, 0, None
    if kind == "Flatten":
        return (math.prod(shape),), 0, 0, "flat"
    # Dense acts on the last axis only: on a map it keeps height and width (Keras does the same).
    units = _count(layer.filters, "units", MAX_UNITS)
    _activation(layer.activation)
    spatial = math.prod(shape[:-1])
    return (*shape[:-1], units), arithmetic.dense_params(shape[-1], units), spatial * shape[-1] * units, None


def _count(value, what: str, cap: int) -> int:
    if value is None or isinstance(value, bool):
        raise MessageError("arch.count.missing", what=term(what))
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise MessageError("arch.count.whole", what=term(what), value=Verbatim(repr(value))) from None
    if math.isnan(as_float) or as_float != int(as_float):
        raise MessageError("arch.count.whole", what=term(what), value=Verbatim(repr(value)))
    n = int(as_float)
    if n < 1:
        raise MessageError("arith.at_least_1", name=term(what), value=n)
    if n > cap:
        raise MessageError("arch.count.cap", what=term(what), cap=cap, value=n)
    return n


def _strides(layer: LayerSpec, default) -> tuple[int, int]:
    return default if layer.strides is None else arithmetic.pair(layer.strides, "stride")


def _activation(name) -> None:
    if name is not None and name not in ACTIVATIONS:
        raise MessageError("arch.unknown_activation", name=Verbatim(repr(name)), names=", ".join(ACTIVATIONS))


# ---------------------------------------------------------------- table <-> spec


def _pair_text(p) -> str:
    if p is None:
        return ""
    h, w = arithmetic.pair(p)
    return str(h) if h == w else f"{h}x{w}"


def _parse_pair(text, what: str, default=None):
    """'5' -> (5, 5), '5x3' / '5,3' / '(5, 3)' -> (5, 3), '' -> default."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return default
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if float(text) != int(text):
            raise MessageError("arch.pair.whole", what=term(what), value=Verbatim(repr(text)))
        return (int(text), int(text))
    s = str(text).strip().strip("()[]")
    if not s:
        return default
    parts = [p for p in re.split(r"\s*[x×X,*]\s*|\s+", s) if p]
    if len(parts) not in (1, 2) or not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise MessageError("arch.pair.format", what=term(what), value=Verbatim(repr(text)))
    vals = [int(p) for p in parts]
    return (vals[0], vals[-1])


def to_rows(spec: ArchSpec) -> list[dict]:
    """The layer list as table rows (one dict per layer, keys COLUMNS)."""
    rows = []
    for layer in spec.layers:
        conv, pool = layer.kind == "Conv2D", layer.kind in POOLINGS
        rows.append({
            "layer": layer.kind,
            "filters_units": layer.filters if layer.kind in ("Conv2D", "Dense") else None,
            "kernel": _pair_text(layer.kernel) if conv or pool else "",
            "stride": _pair_text(layer.strides) if conv or pool else "",
            "padding": layer.padding if conv or pool else "",
            "dilation": _pair_text(layer.dilation) if conv else "",
            "activation": (layer.activation or "linear") if layer.kind in ("Conv2D", "Dense") else "",
            "rate": (0.5 if layer.rate is None else layer.rate) if layer.kind == "Dropout" else None,
        })
    return rows


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def from_rows(rows, input_shape, name: str = "model") -> ArchSpec:
    """Table rows (dicts, e.g. st.data_editor records) -> ArchSpec; raises ArchitectureError."""
    layers = []
    for i, row in enumerate(rows, start=1):
        kind = row.get("layer")
        if _blank(kind):
            continue  # an empty row the editor added and the user left blank
        kind = str(kind).strip()
        where = Message("arch.where_row", i=i, kind=kind)
        try:
            if kind not in KINDS:
                raise MessageError("arch.unknown_kind", kind=Verbatim(repr(kind)), kinds=", ".join(KINDS))
            padding = "valid" if _blank(row.get("padding")) else str(row["padding"]).strip().lower()
            activation = None if _blank(row.get("activation")) else str(row["activation"]).strip().lower()
            filters = None if _blank(row.get("filters_units")) else row["filters_units"]
            conv, pool = kind == "Conv2D", kind in POOLINGS
            layers.append(LayerSpec(
                kind=kind,
                filters=filters if kind in ("Conv2D", "Dense") else None,
                kernel=_parse_pair(row.get("kernel"), "kernel", (3, 3) if conv else (2, 2)) if conv or pool else (3, 3),
                strides=_parse_pair(row.get("stride"), "stride") if conv or pool else None,
                padding=padding if conv or pool else "valid",
                dilation=_parse_pair(row.get("dilation"), "dilation", (1, 1)) if conv else (1, 1),
                activation=(activation or "linear") if kind in ("Conv2D", "Dense") else None,
                rate=(0.5 if _blank(row.get("rate")) else float(row["rate"])) if kind == "Dropout" else None,
            ))
        except ValueError as e:
            raise ArchitectureError("arch.at", i, kind, where=where, detail=_detail(e)) from None
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise ArchitectureError("arch.input_shape", 0, "input", value=Verbatim(repr(input_shape))) from None
    return ArchSpec(shape, tuple(layers), name)


def with_classes(spec: ArchSpec, classes: int) -> ArchSpec:
    """The spec with its last Dense layer set to `classes` units (the number of classes)."""
    for i in range(len(spec.layers) - 1, -1, -1):
        if spec.layers[i].kind == "Dense":
            layers = list(spec.layers)
            layers[i] = replace(layers[i], filters=int(classes))
            return replace(spec, layers=tuple(layers))
    raise ArchitectureError("arch.no_dense", None, None)


def classes(spec: ArchSpec) -> int | None:
    for layer in reversed(spec.layers):
        if layer.kind == "Dense":
            return layer.filters
    return None


# ---------------------------------------------------------------- Keras


def _keras_layer(layer: LayerSpec, name: str):
    import keras

    from cnnviz.layers import pooling_layer

    if layer.kind == "Conv2D":
        return keras.layers.Conv2D(
            int(layer.filters), kernel_size=tuple(layer.kernel), strides=layer.strides or (1, 1),
            padding=layer.padding, dilation_rate=tuple(layer.dilation), activation=layer.activation, name=name)
    if layer.kind in POOLINGS:
        return pooling_layer(POOLINGS[layer.kind], pool_size=tuple(layer.kernel),
                             strides=None if layer.strides is None else tuple(layer.strides),
                             padding=layer.padding, name=name)
    if layer.kind == "GlobalAveragePooling2D":
        return keras.layers.GlobalAveragePooling2D(name=name)
    if layer.kind == "BatchNormalization":
        return keras.layers.BatchNormalization(name=name)
    if layer.kind == "Dropout":
        return keras.layers.Dropout(0.5 if layer.rate is None else layer.rate, name=name)
    if layer.kind == "Flatten":
        return keras.layers.Flatten(name=name)
    return keras.layers.Dense(int(layer.filters), activation=layer.activation, name=name)


def build(spec: ArchSpec, seed: int | None = None):
    """The Keras Sequential model of `spec`; checked with summarize() first, so errors name the layer."""
    import keras

    summarize(spec)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = keras.Sequential(name=_model_name(spec.name))
    model.add(keras.Input(shape=tuple(spec.input_shape)))
    for layer, name in _named(spec):
        model.add(_keras_layer(layer, name))
    return model


def _model_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name or "model")
    return cleaned or "model"


def _tuple(v):
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else arithmetic.pair(v)


def _activation_name(layer) -> str:
    import keras

    act = getattr(layer, "activation", None)
    if act is None:
        return "linear"
    name = keras.activations.serialize(act)
    return name if isinstance(name, str) else getattr(act, "__name__", "linear")


def from_model(model) -> ArchSpec:
    """Read a spec back from a Sequential model of KINDS layers (the presets); raises ArchitectureError."""
    import keras

    from cnnviz.layers import MinPooling2D

    if not isinstance(model, keras.Sequential):
        raise ArchitectureError("arch.not_sequential", None, None)
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(v is None for v in shape):
        raise ArchitectureError("arch.model_input", 0, "input", shape=shape)
    layers = []
    for i, layer in enumerate(model.layers, start=1):
        kind = "MinPooling2D" if isinstance(layer, MinPooling2D) else type(layer).__name__
        if kind not in KINDS:
            raise ArchitectureError("arch.not_editable", i, layer.name, i=i, name=Verbatim(layer.name),
                                    kind=Verbatim(kind))
        cfg = layer.get_config()
        if kind == "Conv2D":
            if cfg.get("groups", 1) != 1 or not cfg.get("use_bias", True):
                raise ArchitectureError("arch.conv_not_editable", i, layer.name, i=i, name=Verbatim(layer.name))
            layers.append(LayerSpec(kind, cfg["filters"], _tuple(cfg["kernel_size"]), _tuple(cfg["strides"]),
                                    cfg["padding"], _tuple(cfg["dilation_rate"]), _activation_name(layer),
                                    name=layer.name))
        elif kind in POOLINGS:
            layers.append(LayerSpec(kind, None, _tuple(cfg["pool_size"]), _tuple(cfg["strides"]), cfg["padding"],
                                    name=layer.name))
        elif kind == "Dense":
            layers.append(LayerSpec(kind, cfg["units"], activation=_activation_name(layer), name=layer.name))
        elif kind == "Dropout":
            layers.append(LayerSpec(kind, rate=float(cfg["rate"]), name=layer.name))
        else:
            layers.append(LayerSpec(kind, name=layer.name))
    return ArchSpec(tuple(int(v) for v in shape), tuple(layers), model.name)


def unnamed(spec: ArchSpec) -> ArchSpec:
    """The spec with default names, so edited tables never keep a stale explicit name."""
    return replace(spec, layers=tuple(replace(layer, name=None) for layer in spec.layers))
