"""ONNX model files (.onnx, what `torch.onnx.export` writes): checked, converted to a Keras functional model,
then proven equal to onnxruntime before anything is shown.

Checks before anything is allocated (`check`): the file parses as an ONNX ModelProto (a truncated or damaged
protobuf is refused); the default domain's opset is 13 to 21 and no other operator domain (custom operators)
or model-local function is present; at most MAX_NODES nodes; every initializer's (and Constant's) element
count is computed from its dims and held against the limits before its data is read, and its inline data
must have exactly that size; external data is read only from a file in the model's own folder (never an
absolute path, `..` or a link out of it; an upload has no folder, so it may have none); every node input is
defined and the graph has no cycle; every operator is one the converter takes (SUPPORTED), else the
refusal names it with its node; one image input (N, C, H, W).

The conversion (`convert`): NHWC throughout (an ONNX NCHW tensor is held as NHWC and an NCHW Flatten or
Reshape first permutes back to C, H, W order, so Dense weights stay as exported; a Transpose between NCHW and
NHWC only changes that bookkeeping, as around ConvNeXt's LayerNorm), one Keras layer per ONNX
node named after the node ('/layer1/layer1.0/conv1/Conv' -> 'layer1_layer1.0_conv1_Conv'), weights
transposed OIHW -> HWIO (depthwise: (C, M, kh, kw) -> (kh, kw, C, M)). Shape arithmetic (Shape, Gather,
Concat, ... on constants) is folded to constants with onnx's reference evaluator, what a fold would make
counted first. torch's exact GELU below opset 20 (Div, Erf, Add, Mul, Mul) becomes one gelu layer. No layer
output may exceed MAX_ACTIVATION_VALUES (checked from shapes before anything runs). Padding that Keras's
'same' does not split the same way becomes a ZeroPadding2D layer before the conv or pool (for max pooling
only after a layer whose output is never negative, where zeros never win; otherwise refused).

The verification (`verify`): the converted model and onnxruntime on SEEDED random inputs and on one sample
photo; every output must agree within TOLERANCE times the largest magnitude of onnxruntime's output (float32
round-off through a deep network, not an approximation). Otherwise the file is refused and the refusal names
the first node (in graph order) whose output diverges beyond the same tolerance.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz.files.checks import Limits, ModelFileError, verbatim

OPSETS = range(13, 22)  # the default domain's opset versions accepted (13 to 21)
MAX_NODES = 20_000  # ResNet-152 exports about 500 nodes, EfficientNet-B7 under 2,000
TOLERANCE = 1e-4  # |Keras - onnxruntime| <= TOLERANCE * max |onnxruntime| per output (float32 round-off)
RANDOM_INPUTS = 2  # seeded normal(0, 1) inputs, plus one sample photo
SEED = 0
MEMORY_FACTOR = 10  # bytes in memory per float32 weight byte while loading (bench/onnx.py: 9.1x for ResNet-18)
FREE_SIZE = 224  # the verification's height and width for a model that takes any size
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "coffee.png"
DOMAINS = ("", "ai.onnx")
IMAGENET = ((3, 224, 224), 1000)  # input (C, H, W), outputs: fed torch's ImageNet normalisation by default

# Operators that become Keras layers (or pass a tensor on), and those only folded when their inputs are constants.
LAYERS = ("Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
          "LeakyRelu", "PRelu", "Gelu", "Erf", "Softmax", "Pad", "MaxPool", "AveragePool", "GlobalAveragePool",
          "GlobalMaxPool", "ReduceMean", "Add", "Sub", "Mul", "Div",
          "Concat", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Slice", "Split", "Transpose", "LayerNormalization",
          "Gemm", "MatMul", "Resize",
          "Dropout", "Identity", "Constant", "Shape")
FOLDED = ("Gather", "Cast", "ConstantOfShape", "Range", "Expand", "Equal",
          "Where", "ReduceProd", "Floor", "Ceil", "Sqrt", "Neg")
SUPPORTED = frozenset(LAYERS + FOLDED)
# What is computed once when all inputs are constants (shape arithmetic, constant weights' arithmetic)
FOLDABLE = frozenset(FOLDED + ("Constant", "Add", "Sub", "Mul", "Div", "Concat", "Reshape", "Squeeze", "Unsqueeze",
                               "Slice", "Transpose", "Flatten", "Identity", "Dropout"))
MAX_INPUT_VALUES = 16_777_216  # C x H x W of the image the model takes (3 x 2048 x 2048 fits)
MAX_ACTIVATION_VALUES = 67_108_864  # the largest layer output at the verification's size (VGG's is 3.2 M)
MAX_FOLDED = 10_000_000  # elements a folded node may make (shape arithmetic makes a handful)

_FLOAT_TYPES = {1: 4, 10: 2, 11: 8, 16: 2}  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16: bytes per element
_ITEM_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
_TYPED_FIELDS = ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")


# ---------------------------------------------------------------- a torch module, exported


def is_torch_module(obj) -> bool:
    """A torch.nn.Module, told without importing torch (which is optional: pip install "cnnviz[torch]")."""
    return any(f"{c.__module__}.{c.__qualname__}" == "torch.nn.modules.module.Module" for c in type(obj).__mro__)


def save_torch(module, input_shape, path: str, opset: int = 17) -> str:
    """`module` (a torch.nn.Module) exported in eval mode to ONNX at `path` for one image of `input_shape`
    (C, H, W); returns `path`. torch's TorchScript exporter, whose node names follow the module's attributes."""
    import warnings

    import torch

    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}.")
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, (torch.zeros((1,) + shape),), path, dynamo=False, opset_version=opset)
    return path


# ---------------------------------------------------------------- checks, before anything is allocated


def parse(data: bytes):
    """An onnx.ModelProto from the file's bytes (its external data not read); damaged bytes are refused."""
    import onnx
    from google.protobuf.message import DecodeError

    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise ModelFileError("files.onnx.damaged", error=verbatim(str(e)[:160])) from None
    if not proto.HasField("graph") or not proto.graph.node:
        raise ModelFileError("files.onnx.no_graph")
    return proto


def _node_label(node, index: int) -> str:
    return f"{node.name or '#' + str(index)} ({node.op_type})"


def _elements(tensor) -> int:
    n = 1
    for d in tensor.dims:
        if d < 0:
            raise ModelFileError("files.onnx.dims", name=verbatim(tensor.name[:120]))
        n *= int(d)
    return n


def _check_tensor(tensor, limits: Limits, folder: str | None) -> int:
    """The element count from `tensor`'s dims, within the limits and equal to its data; its external data
    (if any) inside `folder`. Nothing of its data is read or copied."""
    import onnx

    name = verbatim((tensor.name or "?")[:120])
    n = _elements(tensor)
    if n > limits.params:
        raise ModelFileError("files.onnx.initializer", name=name, n=n, limit=limits.params)
    item = _ITEM_BYTES.get(tensor.data_type)
    if item is None:
        raise ModelFileError("files.onnx.dtype", name=name, dtype=tensor.data_type)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        _check_external(tensor, n * item, folder)
    elif tensor.raw_data:
        if len(tensor.raw_data) != n * item:
            raise ModelFileError("files.onnx.tensor_size", name=name, n=n, size=len(tensor.raw_data))
    else:
        held = max(len(getattr(tensor, f)) for f in _TYPED_FIELDS)  # one value per element (float16 in int32_data too)
        if held != n:
            raise ModelFileError("files.onnx.tensor_size", name=name, n=n, size=held)
    return n


def _check_external(tensor, nbytes: int, folder: str | None) -> None:
    name = verbatim((tensor.name or "?")[:120])
    entries = {e.key: e.value for e in tensor.external_data}
    location = entries.get("location", "")
    if folder is None:
        raise ModelFileError("files.onnx.external_upload", name=name)
    parts = re.split(r"[\\/]", location)
    if (not location or os.path.isabs(location) or location.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", location)
            or ".." in parts):
        raise ModelFileError("files.onnx.external_path", name=name, location=verbatim(location[:120]))
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, location))
    if os.path.commonpath([root, path]) != root:  # a link out of the folder
        raise ModelFileError("files.onnx.external_path", name=name, location=verbatim(location[:120]))
    if not os.path.isfile(path):
        raise ModelFileError("files.onnx.external_missing", name=name, location=verbatim(location[:120]))
    try:
        offset, length = int(entries.get("offset", 0) or 0), int(entries.get("length", nbytes) or nbytes)
    except ValueError:
        raise ModelFileError("files.onnx.external_path", name=name, location=verbatim(location[:120])) from None
    if length != nbytes or offset < 0 or offset + length > os.path.getsize(path):
        raise ModelFileError("files.onnx.tensor_size", name=name, n=nbytes, size=max(0, os.path.getsize(path) - offset))


def graph_order(graph, defined: set[str]) -> list[int]:
    """The nodes' indices in an order where every input is made before it is read (Kahn's algorithm);
    an undefined input or a cycle is refused, naming a node."""
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for out in node.output:
            if out and (out in producer or out in defined):
                raise ModelFileError("files.onnx.twice", name=verbatim(out[:120]))
            if out:
                producer[out] = i
    waiting = [0] * len(graph.node)
    readers: dict[int, list[int]] = {}
    for i, node in enumerate(graph.node):
        for name in node.input:
            if not name or name in defined:
                continue
            if name not in producer:
                raise ModelFileError("files.onnx.undefined", node=verbatim(_node_label(node, i)[:160]),
                                     name=verbatim(name[:120]))
            waiting[i] += 1
            readers.setdefault(producer[name], []).append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    order = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for j in readers.get(i, ()):
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    if len(order) != len(graph.node):
        stuck = next(i for i, n in enumerate(waiting) if n > 0)
        raise ModelFileError("files.onnx.cycle", node=verbatim(_node_label(graph.node[stuck], stuck)[:160]))
    return order


def image_input(graph):
    """The graph's one real input (not an initializer): (name, (C, H, W)) with H and W None when free."""
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ModelFileError("files.onnx.inputs", n=len(inputs))
    tensor_type = inputs[0].type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
    if len(dims) != 4 or dims[1] is None or tensor_type.elem_type not in _FLOAT_TYPES:
        raise ModelFileError("files.onnx.input", shape=verbatim(str(tuple(dims))))
    if math.prod(d or FREE_SIZE for d in dims[1:]) > MAX_INPUT_VALUES:
        raise ModelFileError("files.onnx.input_size", shape=verbatim(str(tuple(dims))), limit=MAX_INPUT_VALUES)
    return inputs[0].name, tuple(dims[1:])


@dataclass(frozen=True)
class Checked:
    """An ONNX file that passed every check: its parsed graph (external data not read yet) and where it lies."""

    proto: object  # onnx.ModelProto
    folder: str | None  # the file's own folder (external data), None for an upload
    params: int  # elements of the floating-point initializers
    order: tuple[int, ...]  # the nodes in an order that computes each input first


def check(data: bytes, limits: Limits, folder: str | None = None) -> Checked:
    """Every check short of converting; raises ModelFileError. `folder`: the file's own folder on disk."""
    proto = parse(data)
    for opset in proto.opset_import:
        if opset.domain not in DOMAINS:
            raise ModelFileError("files.onnx.domain", domain=verbatim(opset.domain[:80]))
        if opset.version not in OPSETS:
            raise ModelFileError("files.onnx.opset", version=opset.version, low=OPSETS[0], high=OPSETS[-1])
    if proto.functions:
        raise ModelFileError("files.onnx.domain", domain=verbatim((proto.functions[0].domain or "?")[:80]))
    graph = proto.graph
    if len(graph.node) > MAX_NODES:
        raise ModelFileError("files.onnx.nodes", n=len(graph.node), limit=MAX_NODES)
    if graph.sparse_initializer:
        raise ModelFileError("files.onnx.sparse")
    params = 0
    for tensor in graph.initializer:
        n = _check_tensor(tensor, limits, folder)
        params += n if tensor.data_type in _FLOAT_TYPES else 0
        if params > limits.params:
            raise ModelFileError("files.params", n=params, limit=limits.params)
    for i, node in enumerate(graph.node):
        label = verbatim(_node_label(node, i)[:160])
        if node.domain not in DOMAINS:
            raise ModelFileError("files.onnx.custom", node=label, domain=verbatim(node.domain[:80]))
        if node.op_type not in SUPPORTED:
            raise ModelFileError("files.onnx.operator", node=label, op=verbatim(node.op_type[:80]))
        for attribute in node.attribute:
            if attribute.HasField("t"):
                _check_tensor(attribute.t, limits, folder)
    name, _ = image_input(graph)
    order = graph_order(graph, {t.name for t in graph.initializer} | {name})
    if not graph.output:
        raise ModelFileError("files.onnx.no_graph")
    return Checked(proto, folder, params, tuple(order))


def check_path(path: str, limits: Limits) -> Checked:
    with open(path, "rb") as f:
        data = f.read()
    return check(data, limits, os.path.dirname(os.path.abspath(path)))


def assumed_pixels(checked: Checked) -> str:
    """'torch' for a 3-channel 224x224 model with 1000 outputs (torchvision's ImageNet models), else ''."""
    _, chw = image_input(checked.proto.graph)
    dims = [d.dim_value for d in checked.proto.graph.output[0].type.tensor_type.shape.dim]
    return "torch" if (chw, dims[-1:]) == (IMAGENET[0], [IMAGENET[1]]) else ""


# ---------------------------------------------------------------- conversion


@dataclass
class _Tensor:
    """An ONNX value held as a Keras tensor; `nchw`: an ONNX NCHW tensor held as NHWC."""

    tensor: object
    nchw: bool  # False: held in ONNX's own axis order (any rank)
    nonneg: bool = False  # never negative (after ReLU, Sigmoid, ...): zero padding never wins a max pool

    @property
    def onnx_shape(self) -> tuple:
        shape = tuple(self.tensor.shape)
        return (shape[0], shape[3], shape[1], shape[2]) if self.nchw else shape


@dataclass(frozen=True)
class Mapped:
    """An ONNX node's output and the Keras layer that computes it."""

    node: str  # the ONNX node's name (or '#index (op)')
    output: str  # the ONNX tensor's name
    layer: str  # the Keras layer's name
    nchw: bool  # the Keras output is NHWC of an ONNX NCHW tensor


@dataclass(frozen=True)
class Converted:
    model: object  # keras.Model
    mapped: tuple[Mapped, ...]  # in graph order
    proto: object  # the onnx.ModelProto it was converted from (external data read)


def layer_name(text: str) -> str:
    """A Keras layer name from an ONNX node name: '/layer1/layer1.0/conv1/Conv' -> 'layer1_layer1.0_conv1_Conv'."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text.strip("/")).strip("_")[:120]


def _attributes(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _folded_size(node, values: list) -> int:
    """The elements a folded node makes, from its inputs' values and shapes, before it runs (ConstantOfShape,
    Expand, Range, Gather and broadcasting can make far more than they read)."""
    arrays = [np.asarray(v) if v is not None else None for v in values]
    shapes = [a.shape for a in arrays if a is not None]
    try:
        if node.op_type == "ConstantOfShape":
            return int(np.prod([int(d) for d in arrays[0].reshape(-1)], dtype=object))
        if node.op_type == "Expand":
            return int(np.prod(np.broadcast_shapes(arrays[0].shape, tuple(int(d) for d in arrays[1].reshape(-1))),
                               dtype=object))
        if node.op_type == "Range":
            start, limit, delta = (float(a.reshape(())) for a in arrays[:3])
            return max(0, math.ceil((limit - start) / delta)) if delta else MAX_FOLDED + 1
        if node.op_type == "Gather":
            return int(arrays[1].size) * max(1, int(arrays[0].size))
        if node.op_type in ("Add", "Sub", "Mul", "Div", "Equal", "Where"):
            return int(np.prod(np.broadcast_shapes(*shapes), dtype=object))
    except (ValueError, TypeError, OverflowError, IndexError, AttributeError):
        return 0  # the evaluator says what is wrong (files.onnx.convert)
    return max((int(np.prod(shape, dtype=object)) for shape in shapes), default=0)


def _fold(node, values: list, opset: int):
    """A node whose inputs are all constants, computed with onnx's reference evaluator."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    inputs = [f"in{i}" if name else "" for i, name in enumerate(node.input)]
    outputs = [f"out{i}" if name else "" for i, name in enumerate(node.output)]
    copy = onnx.helper.make_node(node.op_type, inputs, outputs, domain=node.domain)
    copy.attribute.extend(node.attribute)
    value_info = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph([copy], "fold", [value_info(n, 0, None) for n in inputs if n],
                                   [value_info(n, 0, None) for n in outputs if n])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
    feeds = {n: v for n, v in zip(inputs, values) if n}
    return ReferenceEvaluator(model).run(None, feeds)


def _other(node, name: str) -> str | None:
    """The input of a two-input node that is not `name` (None when neither or both are)."""
    if len(node.input) != 2 or (node.input[0] == name) == (node.input[1] == name):
        return None
    return node.input[1] if node.input[0] == name else node.input[0]


def _gelu_patterns(graph) -> tuple[set[int], dict[int, tuple]]:
    """torch's exact GELU below opset 20: x * (erf(x / sqrt 2) + 1) * 0.5, as Div, Erf, Add, Mul, Mul with one
    reader each. Returns the nodes folded into it and, per last Mul, (x, the three constants' names)."""
    readers: dict[str, list[int]] = {}
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.node):
        for name in node.input:
            readers.setdefault(name, []).append(i)
        for name in node.output:
            producer[name] = i

    def only(name: str, op: str):
        found = readers.get(name, [])
        return found[0] if len(found) == 1 and graph.node[found[0]].op_type == op else None

    skip, gelus = set(), {}
    for e, erf in enumerate(graph.node):
        if erf.op_type != "Erf" or producer.get(erf.input[0]) is None:
            continue
        d = producer[erf.input[0]]
        div = graph.node[d]
        if div.op_type != "Div" or len(readers.get(div.output[0], [])) != 1:
            continue
        x, root2 = div.input
        a = only(erf.output[0], "Add")
        one = a is not None and _other(graph.node[a], erf.output[0])
        m1 = one and only(graph.node[a].output[0], "Mul")
        if not m1 or _other(graph.node[m1], graph.node[a].output[0]) != x:
            continue
        m2 = only(graph.node[m1].output[0], "Mul")
        half = m2 is not None and _other(graph.node[m2], graph.node[m1].output[0])
        if half:
            skip |= {d, e, a, m1}
            gelus[m2] = (x, root2, one, half)
    return skip, gelus


class _Converter:
    def __init__(self, checked: Checked):
        import keras
        from onnx import numpy_helper

        self.keras = keras
        self.proto = checked.proto
        self.opset = next(o.version for o in self.proto.opset_import if o.domain in DOMAINS)
        graph = self.proto.graph
        self.values: dict[str, object] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.names: set[str] = set()
        self.mapped: list[Mapped] = []
        self.order = checked.order
        self.skip, self.gelus = _gelu_patterns(graph)


    def unique(self, base: str) -> str:
        name, n = base or "node", 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def refuse(self, key: str, **values):
        raise ModelFileError(key, node=verbatim(self.label[:160]), **values)

    def tensor(self, name: str) -> _Tensor:
        value = self.values.get(name)
        if not isinstance(value, _Tensor):
            self.refuse("files.onnx.needs_tensor")
        return value

    def image(self, name: str) -> _Tensor:
        """A tensor for an operator on maps (conv, pooling): a rank-4 tensor held in ONNX's order is permuted
        to NHWC first."""
        x = self.tensor(name)
        if not x.nchw and len(x.onnx_shape) == 4:
            return _Tensor(self.layer(self.keras.layers.Permute((2, 3, 1)), x.tensor, "_nhwc"), True, x.nonneg)
        return x

    def plain(self, x: _Tensor) -> _Tensor:
        """`x` in ONNX's own axis order (an NCHW tensor held as NHWC is permuted back, or just reshaped at 1x1)."""
        if not x.nchw:
            return x
        layers = self.keras.layers
        if tuple(x.onnx_shape[2:]) == (1, 1):  # (N, 1, 1, C) and (N, C, 1, 1) hold their values in the same order
            return _Tensor(self.layer(layers.Reshape(tuple(x.onnx_shape[1:])), x.tensor, "_nchw"), False, x.nonneg)
        return _Tensor(self.layer(layers.Permute((3, 1, 2)), x.tensor, "_nchw"), False, x.nonneg)

    def const(self, name: str, default=None):
        if not name:
            return default
        value = self.values.get(name)
        if isinstance(value, _Tensor):
            self.refuse("files.onnx.needs_constant", name=verbatim(name[:120]))
        return value

    def layer(self, layer, inputs, suffix: str = ""):
        """Call a new Keras layer (named after the node) on `inputs` (Keras tensors)."""
        layer.name = self.unique(self.base + suffix)  # a plain attribute until the layer is built, on this call
        return layer(inputs)

    def run(self):
        keras = self.keras
        graph = self.proto.graph
        name, (c, h, w) = image_input(graph)
        x = keras.Input((h, w, c), name=self.unique(layer_name(name) or "input"))
        self.values[name] = _Tensor(x, True)
        for i in self.order:
            node = graph.node[i]
            self.label = _node_label(node, i)
            self.base = layer_name(node.name) or f"{node.op_type}_{i}"
            self.attrs = _attributes(node)
            if i in self.skip:  # inside a GELU: made whole at its last node
                continue
            if i in self.gelus:
                self._gelu(node, *self.gelus[i])
                continue
            inputs = [self.values.get(n) if n else None for n in node.input]
            if node.op_type in ("Constant",) or (node.op_type != "Shape"
                                                 and all(not isinstance(v, _Tensor) for v in inputs)):
                if node.op_type not in FOLDABLE:  # a layer's work on constants only: not shape arithmetic
                    self.refuse("files.onnx.needs_tensor")
                if _folded_size(node, inputs) > MAX_FOLDED:  # before the evaluator allocates it
                    self.refuse("files.onnx.folded", n=_folded_size(node, inputs), limit=MAX_FOLDED)
                try:
                    results = _fold(node, inputs, self.opset)
                except ModelFileError:
                    raise
                except Exception as e:  # noqa: BLE001 - the file's shape arithmetic does not compute
                    self.refuse("files.onnx.convert", error=verbatim(str(e)[:200]))
                for out, value in zip([o for o in node.output if o], results):
                    self.values[out] = np.asarray(value)
                continue
            if node.op_type in FOLDED:
                self.refuse("files.onnx.needs_constant", name=verbatim(node.input[0][:120]))
            try:
                result = getattr(self, "op_" + node.op_type)(node)
            except ModelFileError:
                raise
            except Exception as e:  # noqa: BLE001 - shapes that do not fit: named with the node
                self.refuse("files.onnx.convert", error=verbatim(str(e)[:200]))
            for out, value in zip(node.output, result if isinstance(result, list) else [result]):  # Split: several
                self.values[out] = value
                if isinstance(value, _Tensor):
                    history = value.tensor._keras_history
                    self.mapped.append(Mapped(self.label, out, history.operation.name, value.nchw))
        outputs = []
        for out in graph.output:
            value = self.values.get(out.name)
            if not isinstance(value, _Tensor):
                raise ModelFileError("files.onnx.constant_output", name=verbatim(out.name[:120]))
            outputs.append(value.tensor)
        model = keras.Model(x, outputs if len(outputs) > 1 else outputs[0], name=layer_name(graph.name) or "onnx")
        for layer in model.layers:  # before anything runs: no layer output beyond the cap (shapes known here)
            shape = layer.output.shape[1:]
            if None not in shape and math.prod(shape) > MAX_ACTIVATION_VALUES:
                raise ModelFileError("files.onnx.activation", layer=verbatim(layer.name), n=math.prod(shape),
                                     limit=MAX_ACTIVATION_VALUES)
        return Converted(model, tuple(self.mapped), self.proto)

    # ---------------------------------------------------- padding

    def _pads(self, x: _Tensor, kernel, strides, dilations) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) from `pads` or `auto_pad`."""
        auto = self.attrs.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            pads = list(self.attrs.get("pads", [0, 0, 0, 0]))
            if len(pads) != 4:
                self.refuse("files.onnx.attribute", attribute="pads", value=verbatim(str(pads)))
            return tuple(pads)
        if auto == "VALID":
            return (0, 0, 0, 0)
        _, _, *size = x.onnx_shape
        if None in size:
            self.refuse("files.onnx.attribute", attribute="auto_pad", value=verbatim(auto))
        before, after = [], []
        for n, k, s, d in zip(size, kernel, strides, dilations):
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            small, large = total // 2, total - total // 2
            before.append(small if auto == "SAME_UPPER" else large)
            after.append(large if auto == "SAME_UPPER" else small)
        return (before[0], before[1], after[0], after[1])

    @staticmethod
    def _keras_same(size, kernel, strides, dilations, pads) -> bool:
        """Keras's 'same' pads exactly `pads` (TensorFlow's split: the odd one at the bottom/right)."""
        for axis, (n, k, s, d) in enumerate(zip(size, kernel, strides, dilations)):
            if n is None and s != 1:
                return False
            n = n or 1
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            if (pads[axis], pads[axis + 2]) != (total // 2, total - total // 2):
                return False
        return True

    def _padded(self, x: _Tensor, kernel, strides, dilations, pads, zeros_ok: bool = True):
        """(Keras tensor, padding) for a conv or pool: 'valid', 'same', or a ZeroPadding2D then 'valid'."""
        if not any(pads):
            return x.tensor, "valid"
        if self._keras_same(x.onnx_shape[2:], kernel, strides, dilations, pads):
            return x.tensor, "same"
        if not zeros_ok:
            self.refuse("files.onnx.attribute", attribute="pads", value=verbatim(str(list(pads))))
        top, left, bottom, right = pads
        pad = self.keras.layers.ZeroPadding2D(((top, bottom), (left, right)))
        return self.layer(pad, x.tensor, "_pad"), "valid"

    # ---------------------------------------------------- operators

    def _conv_inputs(self, node):
        """(image, 4-D weight, bias or None) of a Conv or ConvTranspose node; refused when not an NCHW image
        with a constant 4-D weight."""
        x = self.image(node.input[0])
        weight = self.const(node.input[1])
        bias = self.const(node.input[2] if len(node.input) > 2 else "")
        if not x.nchw or weight is None or weight.ndim != 4:
            self.refuse("files.onnx.rank")
        return x, weight, bias

    def op_Conv(self, node):
        layers = self.keras.layers
        x, weight, bias = self._conv_inputs(node)
        out, per_group, kh, kw = weight.shape
        strides = tuple(self.attrs.get("strides", [1, 1]))
        dilations = tuple(self.attrs.get("dilations", [1, 1]))
        group = int(self.attrs.get("group", 1))
        inputs, padding = self._padded(x, (kh, kw), strides, dilations, self._pads(x, (kh, kw), strides, dilations))
        channels = x.onnx_shape[1]
        common = dict(strides=strides, padding=padding, dilation_rate=dilations, use_bias=bias is not None)
        if group == 1:
            layer, kernel = layers.Conv2D(out, (kh, kw), **common), weight.transpose(2, 3, 1, 0)
        elif group == channels and per_group == 1 and out % channels == 0:
            mult = out // channels
            layer = layers.DepthwiseConv2D((kh, kw), depth_multiplier=mult, **common)
            kernel = weight.reshape(channels, mult, kh, kw).transpose(2, 3, 0, 1)
        else:
            layer, kernel = layers.Conv2D(out, (kh, kw), groups=group, **common), weight.transpose(2, 3, 1, 0)
        y = self.layer(layer, inputs)
        layer.set_weights([kernel.astype("float32")] + ([bias.astype("float32")] if bias is not None else []))
        return _Tensor(y, True)

    def op_ConvTranspose(self, node):
        """Conv2DTranspose 'valid' with the output padding, then the pads cropped: (in - 1) * s + k' + op - pads."""
        layers = self.keras.layers
        x, weight, bias = self._conv_inputs(node)
        for name, allowed in (("group", (1,)), ("auto_pad", (b"NOTSET", "NOTSET")), ("output_shape", (None,))):
            if self.attrs.get(name, allowed[0]) not in allowed:
                self.refuse("files.onnx.attribute", attribute=name, value=verbatim(str(self.attrs[name])))
        _, out, kh, kw = weight.shape
        strides = tuple(self.attrs.get("strides", [1, 1]))
        top, left, bottom, right = self.attrs.get("pads", [0, 0, 0, 0])
        layer = layers.Conv2DTranspose(out, (kh, kw), strides=strides, padding="valid",
                                       output_padding=tuple(self.attrs.get("output_padding", [0, 0])),
                                       dilation_rate=tuple(self.attrs.get("dilations", [1, 1])),
                                       use_bias=bias is not None)
        y = self.layer(layer, x.tensor)
        layer.set_weights([weight.transpose(2, 3, 1, 0).astype("float32")]
                          + ([bias.astype("float32")] if bias is not None else []))
        if any((top, left, bottom, right)):
            y = self.layer(layers.Cropping2D(((top, bottom), (left, right))), y, "_crop")
        return _Tensor(y, True)

    def op_Pad(self, node):
        """Zeros around height and width only: ZeroPadding2D."""
        x = self.image(node.input[0])
        mode = self.attrs.get("mode", b"constant")
        pads = [int(v) for v in np.asarray(self.const(node.input[1])).reshape(-1)]
        value = self.const(node.input[2] if len(node.input) > 2 else "", np.float32(0))
        if len(node.input) > 3 and node.input[3] or not x.nchw or len(pads) != 8:
            self.refuse("files.onnx.rank")
        if mode not in (b"constant", "constant") or float(np.asarray(value).reshape(-1)[0]) != 0.0:
            self.refuse("files.onnx.attribute", attribute="mode", value=verbatim(str(mode)))
        n0, c0, top, left, n1, c1, bottom, right = pads
        if n0 or c0 or n1 or c1 or min(pads) < 0:
            self.refuse("files.onnx.attribute", attribute="pads", value=verbatim(str(pads)))
        y = self.layer(self.keras.layers.ZeroPadding2D(((top, bottom), (left, right))), x.tensor)
        return _Tensor(y, True, x.nonneg)

    def op_BatchNormalization(self, node):
        x = self.tensor(node.input[0])
        scale, shift, mean, var = (self.const(n) for n in node.input[1:5])
        if int(self.attrs.get("training_mode", 0)):
            self.refuse("files.onnx.attribute", attribute="training_mode", value=1)
        axis = -1 if x.nchw or len(x.onnx_shape) == 2 else 1  # ONNX's channels: axis 1 in ONNX's own order
        layer = self.keras.layers.BatchNormalization(axis=axis, epsilon=float(self.attrs.get("epsilon", 1e-5)))
        y = self.layer(layer, x.tensor)
        layer.set_weights([a.astype("float32") for a in (scale, shift, mean, var)])
        return _Tensor(y, x.nchw)

    def _activation(self, node, layer, nonneg=False):
        x = self.tensor(node.input[0])
        return _Tensor(self.layer(layer, x.tensor), x.nchw, nonneg)

    def op_Relu(self, node):
        return self._activation(node, self.keras.layers.ReLU(), True)

    def op_Clip(self, node):
        low = self.const(node.input[1] if len(node.input) > 1 else "")
        high = self.const(node.input[2] if len(node.input) > 2 else "")
        if low is None or float(low) != 0.0:
            self.refuse("files.onnx.attribute", attribute="min", value=verbatim(str(low)))
        return self._activation(node, self.keras.layers.ReLU(max_value=None if high is None else float(high)), True)

    def op_Sigmoid(self, node):
        return self._activation(node, self.keras.layers.Activation("sigmoid"), True)

    def op_Tanh(self, node):
        return self._activation(node, self.keras.layers.Activation("tanh"))

    def op_HardSigmoid(self, node):
        alpha, beta = float(self.attrs.get("alpha", 0.2)), float(self.attrs.get("beta", 0.5))
        if abs(alpha - 1 / 6) > 1e-6 or beta != 0.5:  # Keras's hard_sigmoid is torch's: relu6(x + 3) / 6
            self.refuse("files.onnx.attribute", attribute="alpha", value=alpha)
        return self._activation(node, self.keras.layers.Activation("hard_sigmoid"), True)

    def op_HardSwish(self, node):
        return self._activation(node, self.keras.layers.Activation("hard_silu"))

    def op_LeakyRelu(self, node):
        return self._activation(node, self.keras.layers.LeakyReLU(negative_slope=float(self.attrs.get("alpha", 0.01))))

    def op_PRelu(self, node):
        x = self.tensor(node.input[0])
        slope = np.asarray(self.const(node.input[1]), dtype="float32")
        rank = len(x.onnx_shape)
        channels = x.onnx_shape[1]
        if slope.size not in (1, channels) or (x.nchw and rank != 4) or (not x.nchw and rank != 2):
            self.refuse("files.onnx.rank")
        shared = list(range(1, rank)) if slope.size == 1 else (list(range(1, rank - 1)) or None)
        layer = self.keras.layers.PReLU(shared_axes=shared)
        y = self.layer(layer, x.tensor)
        layer.set_weights([slope.reshape(layer.get_weights()[0].shape)])
        return _Tensor(y, x.nchw)

    def op_Gelu(self, node):  # opset 20
        approximate = self.attrs.get("approximate", b"none")
        if approximate not in (b"none", "none"):
            self.refuse("files.onnx.attribute", attribute="approximate", value=verbatim(str(approximate)))
        return self._activation(node, self.keras.layers.Activation("gelu"))

    def _gelu(self, node, x: str, root2: str, one: str, half: str):
        """The last Mul of torch's exact GELU below opset 20 (see _gelu_patterns): Activation('gelu'), named
        after the module ('/gelu/Mul_1' -> 'gelu_Gelu'), once its constants are checked."""
        constants = [self.const(n) for n in (root2, one, half)]
        if any(c is None or np.asarray(c).size != 1 for c in constants) or not np.allclose(
                [float(np.asarray(c).reshape(())) for c in constants], [math.sqrt(2), 1.0, 0.5], rtol=1e-6, atol=0):
            self.refuse("files.onnx.operator", op="Erf")
        if "/" in node.name.strip("/"):
            self.base = layer_name(node.name.rsplit("/", 1)[0] + "/Gelu")
        tensor = self.tensor(x)
        result = _Tensor(self.layer(self.keras.layers.Activation("gelu"), tensor.tensor), tensor.nchw)
        self.values[node.output[0]] = result
        self.mapped.append(Mapped(self.label, node.output[0], result.tensor._keras_history.operation.name, result.nchw))

    def op_Erf(self, node):  # only inside torch's GELU (see _gelu_patterns)
        self.refuse("files.onnx.operator", op="Erf")

    def op_Softmax(self, node):
        x = self.tensor(node.input[0])
        rank = len(x.onnx_shape)
        axis = int(self.attrs.get("axis", -1)) % rank
        if axis != (1 if x.nchw else rank - 1):
            self.refuse("files.onnx.attribute", attribute="axis", value=axis)
        return self._activation(node, self.keras.layers.Softmax(axis=-1), True)

    def _pool_pads(self, x: _Tensor, kernel, strides):
        pads = list(self._pads(x, kernel, strides, (1, 1)))
        if int(self.attrs.get("ceil_mode", 0)):
            for axis, (n, k, s) in enumerate(zip(x.onnx_shape[2:], kernel, strides)):
                if n is None:
                    self.refuse("files.onnx.attribute", attribute="ceil_mode", value=1)
                span = n + pads[axis] + pads[axis + 2] - k
                out = math.ceil(span / s) + 1
                if (out - 1) * s >= n + pads[axis]:  # the last window would start in the padding (PyTorch's rule)
                    out -= 1
                pads[axis + 2] += max(0, (out - 1) * s + k - (n + pads[axis] + pads[axis + 2]))
        return tuple(pads)

    def op_MaxPool(self, node):
        x = self.image(node.input[0])
        kernel = tuple(self.attrs["kernel_shape"])
        strides = tuple(self.attrs.get("strides", [1, 1]))
        if len(kernel) != 2 or not x.nchw:
            self.refuse("files.onnx.rank")
        if tuple(self.attrs.get("dilations", [1, 1])) != (1, 1) or len(node.output) > 1 and node.output[1]:
            self.refuse("files.onnx.attribute", attribute="dilations", value=verbatim(str(self.attrs.get("dilations"))))
        pads = self._pool_pads(x, kernel, strides)
        inputs, padding = self._padded(x, kernel, strides, (1, 1), pads, zeros_ok=x.nonneg)
        y = self.layer(self.keras.layers.MaxPooling2D(kernel, strides, padding=padding), inputs)
        return _Tensor(y, True, x.nonneg)

    def op_AveragePool(self, node):
        x = self.image(node.input[0])
        kernel = tuple(self.attrs["kernel_shape"])
        strides = tuple(self.attrs.get("strides", [1, 1]))
        if len(kernel) != 2 or not x.nchw:
            self.refuse("files.onnx.rank")
        pads = self._pads(x, kernel, strides, (1, 1))
        if self._pool_pads(x, kernel, strides) != pads:  # ceil_mode that adds a window: its divisor differs
            self.refuse("files.onnx.attribute", attribute="ceil_mode", value=1)
        include = int(self.attrs.get("count_include_pad", 0))
        if include and any(pads):
            top, left, bottom, right = pads
            inputs = self.layer(self.keras.layers.ZeroPadding2D(((top, bottom), (left, right))), x.tensor, "_pad")
            padding = "valid"
        else:  # Keras's 'same' average leaves the padding out of the count, as count_include_pad=0 does
            inputs, padding = self._padded(x, kernel, strides, (1, 1), pads, zeros_ok=False)
        y = self.layer(self.keras.layers.AveragePooling2D(kernel, strides, padding=padding), inputs)
        return _Tensor(y, True, x.nonneg)

    def op_GlobalAveragePool(self, node):
        x = self.image(node.input[0])
        if not x.nchw:
            self.refuse("files.onnx.rank")
        return _Tensor(self.layer(self.keras.layers.GlobalAveragePooling2D(keepdims=True), x.tensor), True, x.nonneg)

    def op_GlobalMaxPool(self, node):
        x = self.image(node.input[0])
        if not x.nchw:
            self.refuse("files.onnx.rank")
        return _Tensor(self.layer(self.keras.layers.GlobalMaxPooling2D(keepdims=True), x.tensor), True, x.nonneg)

    def op_ReduceMean(self, node):  # over H and W only: a global average pool
        x = self.image(node.input[0])
        axes = self.attrs.get("axes")
        if axes is None and len(node.input) > 1:
            axes = self.const(node.input[1])
        axes = sorted(int(a) % 4 for a in np.asarray(axes if axes is not None else []).reshape(-1))
        if not x.nchw or axes != [2, 3]:
            self.refuse("files.onnx.attribute", attribute="axes", value=verbatim(str(axes)))
        keep = bool(int(self.attrs.get("keepdims", 1)))
        y = self.layer(self.keras.layers.GlobalAveragePooling2D(keepdims=keep), x.tensor)
        return _Tensor(y, keep, x.nonneg)

    def _constant_for(self, x: _Tensor, c: np.ndarray):
        """A constant operand in the Keras tensor's layout (a float where it is one number)."""
        c = np.asarray(c, dtype="float32")
        if c.size == 1:
            return float(c.reshape(()))
        rank = len(x.onnx_shape)
        if c.ndim > rank:
            self.refuse("files.onnx.rank")
        c = c.reshape((1,) * (rank - c.ndim) + c.shape)
        if c.shape[0] != 1:
            self.refuse("files.onnx.rank")
        return c.transpose(0, 2, 3, 1)[0] if x.nchw else c[0]

    def _binary(self, node, op: str):
        layers = self.keras.layers
        a, b = (self.values.get(n) for n in node.input[:2])
        if isinstance(a, _Tensor) and isinstance(b, _Tensor):
            if a.nchw != b.nchw and len(a.onnx_shape) == len(b.onnx_shape) == 4:
                a, b = self.image(node.input[0]), self.image(node.input[1])
            if a.nchw != b.nchw or len(a.onnx_shape) != len(b.onnx_shape) or op == "Div":
                self.refuse("files.onnx.rank")
            layer = {"Add": layers.Add, "Sub": layers.Subtract, "Mul": layers.Multiply}[op]()
            return _Tensor(self.layer(layer, [a.tensor, b.tensor]), a.nchw, op == "Mul" and a.nonneg and b.nonneg)
        x, c, first = (a, b, True) if isinstance(a, _Tensor) else (b, a, False)
        c = self._constant_for(x, c)
        if op == "Add":
            scale, offset = 1.0, c
        elif op == "Sub":
            scale, offset = (1.0, -c) if first else (-1.0, c)
        elif op == "Mul":
            scale, offset = c, 0.0
        else:
            if not first:
                self.refuse("files.onnx.rank")
            scale, offset = 1.0 / np.asarray(c, dtype="float32") if not isinstance(c, float) else 1.0 / c, 0.0
        y = self.layer(layers.Rescaling(scale, offset), x.tensor)
        return _Tensor(y, x.nchw)

    def op_Add(self, node):
        return self._binary(node, "Add")

    def op_Sub(self, node):
        return self._binary(node, "Sub")

    def op_Mul(self, node):
        return self._binary(node, "Mul")

    def op_Div(self, node):
        return self._binary(node, "Div")

    def op_Concat(self, node):
        parts = [self.tensor(n) for n in node.input]
        rank = len(parts[0].onnx_shape)
        axis = int(self.attrs.get("axis", 1)) % rank
        if any(len(p.onnx_shape) != rank for p in parts) or axis == 0:
            self.refuse("files.onnx.attribute", attribute="axis", value=axis)
        if rank == 4 and len({p.nchw for p in parts}) > 1:  # both layouts: all as NHWC maps
            parts = [self.image(n) for n in node.input]
        nchw = parts[0].nchw
        keras_axis = [0, 2, 3, 1].index(axis) if nchw else axis
        y = self.layer(self.keras.layers.Concatenate(axis=keras_axis), [p.tensor for p in parts])
        return _Tensor(y, nchw, all(p.nonneg for p in parts))

    def _flatten(self, x: _Tensor) -> _Tensor:
        layers = self.keras.layers
        if not x.nchw:
            if len(x.onnx_shape) == 2:
                return x
            return _Tensor(self.layer(layers.Flatten(), x.tensor), False, x.nonneg)  # already in ONNX's order
        tensor = x.tensor
        if tuple(x.onnx_shape[2:]) != (1, 1):  # ONNX flattens C, H, W; Keras would flatten H, W, C
            tensor = self.layer(layers.Permute((3, 1, 2)), tensor, "_nchw")
        return _Tensor(self.layer(layers.Flatten(), tensor), False, x.nonneg)

    def op_Flatten(self, node):
        x = self.tensor(node.input[0])
        if int(self.attrs.get("axis", 1)) != 1:
            self.refuse("files.onnx.attribute", attribute="axis", value=int(self.attrs.get("axis", 1)))
        return self._flatten(x)

    def op_Reshape(self, node):
        x = self.tensor(node.input[0])
        shape = [int(v) for v in self.const(node.input[1]).reshape(-1)]
        dims = x.onnx_shape[1:]
        size = math.prod(dims) if None not in dims else None
        if len(shape) == 2 and shape[1] in (-1, size) and shape[0] in (-1, 0, 1) and shape[0] != shape[1]:
            return self._flatten(x)
        if size is None or not shape or shape[0] not in (-1, 0, 1) or int(self.attrs.get("allowzero", 0)):
            self.refuse("files.onnx.attribute", attribute="shape", value=verbatim(str(shape)))
        target = [x.onnx_shape[i] if v == 0 else v for i, v in enumerate(shape)][1:]
        if target.count(-1) > 1 or any(v < -1 or v == 0 for v in target):
            self.refuse("files.onnx.attribute", attribute="shape", value=verbatim(str(shape)))
        if -1 in target:
            known = math.prod(v for v in target if v != -1)
            target[target.index(-1)] = size // known if known and size % known == 0 else -2
        if math.prod(target) != size:
            self.refuse("files.onnx.attribute", attribute="shape", value=verbatim(str(shape)))
        return self._reshaped(x, tuple(target))

    def _reshaped(self, x: _Tensor, target: tuple) -> _Tensor:
        """`x` with ONNX's shape (batch, *target), in ONNX's order (a Keras Reshape of the values in that order)."""
        if tuple(x.onnx_shape[1:]) == target:
            return x
        x = self.plain(x)
        if tuple(x.onnx_shape[1:]) == target:
            return x
        return _Tensor(self.layer(self.keras.layers.Reshape(target), x.tensor), False, x.nonneg)

    def op_Slice(self, node):
        """One axis, step 1, of a rank-4 tensor (ShuffleNet's channel split): Cropping2D, the channels first
        permuted to where Cropping2D crops."""
        x = self.tensor(node.input[0])
        values = [self.const(node.input[k]) if len(node.input) > k and node.input[k] else None for k in range(1, 5)]
        starts, ends, axes, steps = (None if v is None else [int(a) for a in np.asarray(v).reshape(-1)] for v in values)
        rank = len(x.onnx_shape)
        axes = axes or list(range(len(starts)))
        if rank != 4 or len(axes) != 1 or (steps and steps != [1]) or axes[0] % rank == 0:
            self.refuse("files.onnx.attribute", attribute="axes", value=verbatim(str(axes)))
        axis = axes[0] % rank
        size = x.onnx_shape[axis]
        start, end = (min(max(v + size if v < 0 else v, 0), size) for v in (starts[0], ends[0]))
        if size is None or end <= start:
            self.refuse("files.onnx.attribute", attribute="starts", value=verbatim(str([starts, ends])))
        return self._crop(x, axis, start, end)

    def _crop(self, x: _Tensor, axis: int, start: int, end: int, suffix: str = "") -> _Tensor:
        """ONNX axis `axis` (not the batch) of a rank-4 tensor from `start` to `end`: Cropping2D, a Keras last axis
        first permuted to where Cropping2D crops, and back."""
        layers = self.keras.layers
        k = ([0, 2, 3, 1] if x.nchw else [0, 1, 2, 3]).index(axis)  # the Keras axis holding it
        crop = (start, x.onnx_shape[axis] - end)
        tensor = x.tensor
        if k == 3:
            tensor = self.layer(layers.Permute((3, 1, 2)), tensor, suffix + "_move")
        y = self.layer(layers.Cropping2D((crop, (0, 0)) if k in (1, 3) else ((0, 0), crop)), tensor, suffix)
        if k == 3:
            y = self.layer(layers.Permute((2, 3, 1)), y, suffix + "_back")
        return _Tensor(y, x.nchw, x.nonneg)

    def op_Split(self, node):
        """A rank-4 tensor split along one axis but the batch (torch.split and torch.chunk, ShuffleNet's channel
        split): one _crop per output. The sizes from the `split` input, `num_outputs` (opset 18: the last part
        smaller when it does not divide), or equal parts."""
        x = self.tensor(node.input[0])
        rank = len(x.onnx_shape)
        axis = int(self.attrs.get("axis", 0)) % rank
        size = x.onnx_shape[axis]
        split = self.const(node.input[1] if len(node.input) > 1 else "")
        n = len(node.output)
        if rank != 4 or axis == 0 or size is None:
            self.refuse("files.onnx.attribute", attribute="axis", value=axis)
        if split is not None:
            sizes = [int(v) for v in np.asarray(split).reshape(-1)]
        elif "num_outputs" in self.attrs:
            part = -(-size // n)
            sizes = [part] * (n - 1) + [size - part * (n - 1)]
        else:
            sizes = [size // n] * n
        if len(sizes) != n or sum(sizes) != size or min(sizes) < 1:
            self.refuse("files.onnx.attribute", attribute="split", value=verbatim(str(sizes)))
        starts = np.cumsum([0] + sizes).tolist()
        return [self._crop(x, axis, starts[i], starts[i + 1], f"_{i}") for i in range(n)]

    def _text(self, name: str, default: str) -> str:
        value = self.attrs.get(name, default)
        return value.decode() if isinstance(value, bytes) else value

    def op_Resize(self, node):
        """Height and width only. Nearest by whole factors (torch's Upsample: `asymmetric` with `floor`, or
        `half_pixel` with rounding) as UpSampling2D; bilinear with `half_pixel` (torch's align_corners=False) as
        UpSampling2D by whole factors, else Resizing (TensorFlow's half-pixel resize, not antialiased)."""
        layers = self.keras.layers
        x = self.image(node.input[0])
        if not x.nchw:
            self.refuse("files.onnx.rank")
        scales = self.const(node.input[2] if len(node.input) > 2 else "")
        sizes = self.const(node.input[3] if len(node.input) > 3 else "")
        by_sizes = sizes is not None and np.size(sizes) > 0
        given = [float(v) for v in np.asarray(sizes if by_sizes else scales if scales is not None else []).reshape(-1)]
        axes = [int(a) % 4 for a in self.attrs.get("axes", range(4))]
        _, c, h, w = x.onnx_shape
        kept = [1.0, float(c)] if by_sizes else [1.0, 1.0]  # the batch and the channels stay
        full = kept + ([h, w] if by_sizes else [1.0, 1.0])
        for a, v in zip(axes, given):
            full[a] = v
        if (len(given) != len(axes) or full[:2] != kept
                or by_sizes and None in (h, w) or self._text("keep_aspect_ratio_policy", "stretch") != "stretch"):
            self.refuse("files.onnx.attribute", attribute="sizes" if by_sizes else "scales", value=verbatim(str(full)))
        if by_sizes:  # ONNX's scale is out / in, as Keras's
            out = (int(full[2]), int(full[3]))
            factors = tuple(o // n if o % n == 0 and o >= n else None for o, n in zip(out, (h, w)))
        else:  # ONNX maps coordinates with the scale itself: Keras's out / in only where in x scale is whole
            factors = tuple(int(f) if f.is_integer() and f >= 1 else None for f in full[2:])
            out = tuple(None if n is None else n * f for n, f in zip((h, w), full[2:]))
            if None in factors and not all(o is not None and o.is_integer() and o >= 1 for o in out):
                self.refuse("files.onnx.attribute", attribute="scales", value=verbatim(str(full)))
            out = tuple(None if o is None else int(o) for o in out)
        mode, coords = self._text("mode", "nearest"), self._text("coordinate_transformation_mode", "half_pixel")
        nearest = self._text("nearest_mode", "round_prefer_floor")
        if mode == "nearest" and None not in factors and (
                (coords, nearest) == ("asymmetric", "floor") or coords in ("half_pixel", "pytorch_half_pixel")
                and nearest in ("round_prefer_floor", "round_prefer_ceil")):
            layer = layers.UpSampling2D(factors, interpolation="nearest")
        elif mode == "linear" and coords in ("half_pixel", "pytorch_half_pixel"):
            pairs = [(o, n) for o, n in zip(out, (h, w)) if o is not None]
            if int(self.attrs.get("antialias", 0)) and any(o < n for o, n in pairs):  # Keras's differs
                self.refuse("files.onnx.attribute", attribute="antialias", value=1)
            if coords == "pytorch_half_pixel" and any(o == 1 < n for o, n in pairs):  # samples the first row, not the middle
                self.refuse("files.onnx.attribute", attribute="coordinate_transformation_mode", value=verbatim(coords))
            layer = (layers.UpSampling2D(factors, interpolation="bilinear") if None not in factors
                     else layers.Resizing(*out, interpolation="bilinear"))
        else:
            self.refuse("files.onnx.attribute", attribute="mode", value=verbatim(f"{mode}, {coords}, {nearest}"))
        return _Tensor(self.layer(layer, x.tensor), True, x.nonneg)

    def _axes(self, node) -> list[int]:
        axes = self.attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.const(node.input[1])
        return [int(a) for a in np.asarray(axes if axes is not None else [], dtype="int64").reshape(-1)]

    def op_Squeeze(self, node):
        x = self.tensor(node.input[0])
        shape = list(x.onnx_shape)
        axes = sorted({a % len(shape) for a in self._axes(node)}) or [i for i, d in enumerate(shape) if d == 1 and i]
        if 0 in axes or any(shape[a] != 1 for a in axes) or None in shape[1:]:
            self.refuse("files.onnx.attribute", attribute="axes", value=verbatim(str(axes)))
        return self._reshaped(x, tuple(d for i, d in enumerate(shape) if i not in axes)[1:])

    def op_Unsqueeze(self, node):
        x = self.tensor(node.input[0])
        shape = list(x.onnx_shape)
        rank = len(shape) + len(self._axes(node))
        axes = sorted({a % rank for a in self._axes(node)})
        if not axes or 0 in axes or None in shape[1:]:
            self.refuse("files.onnx.attribute", attribute="axes", value=verbatim(str(axes)))
        for a in axes:
            shape.insert(a, 1)
        return self._reshaped(x, tuple(shape[1:]))

    def op_Transpose(self, node):
        """Where only the bookkeeping changes (NCHW <-> NHWC, as ConvNeXt permutes around its LayerNorm), no
        layer; otherwise a Permute to ONNX's new order."""
        x = self.tensor(node.input[0])
        rank = len(x.onnx_shape)
        perm = [int(p) for p in self.attrs.get("perm", range(rank - 1, -1, -1))]
        held = [0, 2, 3, 1] if x.nchw else list(range(rank))  # the ONNX axis each Keras axis holds
        inverse = [perm.index(i) for i in range(rank)]
        now = [inverse[a] for a in held]  # the new ONNX axis each Keras axis holds
        if now[0] != 0:
            self.refuse("files.onnx.attribute", attribute="perm", value=verbatim(str(perm)))
        if now == list(range(rank)):
            return _Tensor(x.tensor, False, x.nonneg)
        if rank == 4 and now == [0, 2, 3, 1]:
            return _Tensor(x.tensor, True, x.nonneg)
        dims = tuple(now.index(i) for i in range(1, rank))
        return _Tensor(self.layer(self.keras.layers.Permute(dims), x.tensor), False, x.nonneg)

    def op_LayerNormalization(self, node):  # over the last axis, in ONNX's order (ConvNeXt's)
        x = self.tensor(node.input[0])
        rank = len(x.onnx_shape)
        scale = self.const(node.input[1])
        bias = self.const(node.input[2] if len(node.input) > 2 else "")
        if x.nchw or int(self.attrs.get("axis", -1)) % rank != rank - 1 or any(node.output[1:]):
            self.refuse("files.onnx.attribute", attribute="axis", value=int(self.attrs.get("axis", -1)))
        layer = self.keras.layers.LayerNormalization(axis=-1, epsilon=float(self.attrs.get("epsilon", 1e-5)),
                                                     center=bias is not None)
        y = self.layer(layer, x.tensor)
        layer.set_weights([scale.astype("float32")] + ([bias.astype("float32")] if bias is not None else []))
        return _Tensor(y, False)

    def _dense(self, x: _Tensor, kernel: np.ndarray, bias):  # on the last axis (a Linear in ConvNeXt's blocks too)
        if x.nchw or len(x.onnx_shape) < 2 or kernel.ndim != 2:
            self.refuse("files.onnx.rank")
        layer = self.keras.layers.Dense(kernel.shape[1], use_bias=bias is not None)
        y = self.layer(layer, x.tensor)
        layer.set_weights([kernel.astype("float32")] + ([bias.astype("float32")] if bias is not None else []))
        return _Tensor(y, False)

    def op_Gemm(self, node):
        x = self.tensor(node.input[0])
        b = self.const(node.input[1])
        c = self.const(node.input[2] if len(node.input) > 2 else "")
        if int(self.attrs.get("transA", 0)):
            self.refuse("files.onnx.attribute", attribute="transA", value=1)
        kernel = (b.T if int(self.attrs.get("transB", 0)) else b) * float(self.attrs.get("alpha", 1.0))
        bias = None if c is None else np.broadcast_to(c * float(self.attrs.get("beta", 1.0)), (kernel.shape[1],))
        return self._dense(x, kernel, bias)

    def op_MatMul(self, node):
        return self._dense(self.tensor(node.input[0]), self.const(node.input[1]), None)

    def op_Dropout(self, node):  # inference: the identity
        return self.tensor(node.input[0])

    op_Identity = op_Dropout

    def op_Shape(self, node):
        x = self.tensor(node.input[0])
        shape = [1 if i == 0 and d is None else d for i, d in enumerate(x.onnx_shape)]
        start, end = int(self.attrs.get("start", 0)), self.attrs.get("end")
        shape = shape[start:None if end is None else int(end)]
        if None in shape:
            self.refuse("files.onnx.attribute", attribute="shape", value=verbatim(str(x.onnx_shape)))
        return np.array(shape, dtype="int64")


def convert(checked: Checked) -> Converted:
    """The checked graph as a Keras functional model (external data read from the file's folder first)."""
    proto = checked.proto
    if checked.folder is not None and any(t.data_location == 1 for t in proto.graph.initializer):
        from onnx.external_data_helper import load_external_data_for_model

        try:
            load_external_data_for_model(proto, checked.folder)
        except (OSError, ValueError) as e:
            raise ModelFileError("files.onnx.damaged", error=verbatim(str(e)[:160])) from None
    return _Converter(checked).run()


# ---------------------------------------------------------------- verification against onnxruntime


def _session(proto, extra_outputs=()):
    import onnx
    import onnxruntime as ort

    if extra_outputs:
        proto = onnx.ModelProto.FromString(proto.SerializeToString())
        known = {o.name for o in proto.graph.output}
        proto.graph.output.extend(onnx.ValueInfoProto(name=n) for n in extra_outputs if n not in known)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime itself cannot run the file
        raise ModelFileError("files.onnx.runtime", error=verbatim(str(e)[-240:])) from None  # the reason is at the end


def inputs(converted: Converted, n_random: int = RANDOM_INPUTS) -> list[np.ndarray]:
    """The verification's inputs, NCHW float32, one image each: seeded normal(0, 1) noise, then the sample photo
    (RGB [0, 1] with torch's ImageNet normalisation for 3 channels, its grey mean otherwise)."""
    from PIL import Image

    _, h, w, c = converted.model.inputs[0].shape
    h, w = h or FREE_SIZE, w or FREE_SIZE
    rng = np.random.default_rng(SEED)
    xs = [rng.standard_normal((1, c, h, w)).astype("float32") for _ in range(n_random)]
    with Image.open(SAMPLE) as image:
        photo = np.asarray(image.convert("RGB").resize((w, h), Image.BILINEAR), dtype="float32") / 255.0
    if c == 3:
        photo = (photo - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    else:
        photo = np.repeat(photo.mean(axis=-1, keepdims=True), c, axis=-1)
    xs.append(photo.astype("float32").transpose(2, 0, 1)[None])
    return xs


def _onnx_layout(y: np.ndarray, nchw: bool) -> np.ndarray:
    return y.transpose(0, 3, 1, 2) if nchw and y.ndim == 4 else y


def error(keras_out: np.ndarray, onnx_out: np.ndarray) -> float:
    """max |Keras - onnxruntime| relative to max |onnxruntime| (the output's scale); inf for other shapes."""
    if keras_out.shape != onnx_out.shape:
        return math.inf
    scale = max(float(np.max(np.abs(onnx_out))) if onnx_out.size else 0.0, 1e-6)
    return float(np.max(np.abs(keras_out.astype("float64") - onnx_out))) / scale if onnx_out.size else 0.0


def node_errors(converted: Converted, x: np.ndarray, mapped=None) -> list[tuple[Mapped, float]]:
    """Each mapped node's output, Keras against onnxruntime (the node added as a graph output), on input `x` (NCHW)."""
    import keras

    mapped = list(converted.mapped if mapped is None else mapped)
    session = _session(converted.proto, [m.output for m in mapped])
    ort_out = session.run([m.output for m in mapped], {session.get_inputs()[0].name: x})
    probe = keras.Model(converted.model.inputs[0], [converted.model.get_layer(m.layer).output for m in mapped])
    keras_out = probe(x.transpose(0, 2, 3, 1), training=False)
    keras_out = keras_out if isinstance(keras_out, (list, tuple)) else [keras_out]
    return [(m, error(_onnx_layout(np.asarray(k), m.nchw), o)) for m, k, o in zip(mapped, keras_out, ort_out)]


def verify(converted: Converted, tolerance: float = TOLERANCE) -> float:
    """The converted model against onnxruntime on the verification inputs; returns the largest relative error.
    Beyond `tolerance`: refused, naming the first node whose output diverges."""
    session = _session(converted.proto)
    name = session.get_inputs()[0].name
    model = converted.model
    outputs = [o.name for o in converted.proto.graph.output]
    nchw = {m.output: m.nchw for m in converted.mapped}
    worst = 0.0
    for x in inputs(converted):
        expected = session.run(outputs, {name: x})
        got = model(x.transpose(0, 2, 3, 1), training=False)
        got = got if isinstance(got, (list, tuple)) else [got]
        errors = [error(_onnx_layout(np.asarray(g), nchw.get(o, False)), e) for g, e, o in zip(got, expected, outputs)]
        worst = max([worst] + errors)
        if worst > tolerance:
            first = next(((m, e) for m, e in node_errors(converted, x) if e > tolerance), None)
            node = first[0].node if first else outputs[0]
            raise ModelFileError("files.onnx.diverges", node=verbatim(node[:160]), error=f"{worst:.2g}",
                                 tolerance=f"{tolerance:g}")
    return worst


def load(checked: Checked):
    """The checked file converted and verified: a keras.Model; raises ModelFileError."""
    converted = convert(checked)
    verify(converted)
    return converted.model
