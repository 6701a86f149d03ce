"""The Keras code for a layer or a model, in the lecture's style.

    keras.layers.Conv2D(10, kernel_size=(3,3), activation='relu', padding='same', strides=1)

Every function returns source text that, run with `import keras` and
`from cnnviz.layers import MinPooling2D` in scope, builds exactly the described layer.
Arguments that equal Keras's default are left out (except the ones the lecture always
writes: kernel_size, activation, padding, strides).
"""

from __future__ import annotations

from cnnviz.arithmetic import pair

POOLING_CLASSES = {"max": "keras.layers.MaxPooling2D", "average": "keras.layers.AveragePooling2D", "min": "MinPooling2D"}
IMPORTS = "import keras"
MIN_POOLING_IMPORT = "from cnnviz.layers import MinPooling2D  # Keras has no min pooling layer"


def size_code(value) -> str:
    """An int or pair as the lecture writes it: (3,3), or 1 for a square stride."""
    h, w = pair(value)
    return f"({h},{w})"


def stride_code(value) -> str:
    h, w = pair(value, "strides")
    return str(h) if h == w else f"({h},{w})"


def conv2d_code(filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None, name=None) -> str:
    """keras.layers.Conv2D(...) for these settings."""
    args = [str(int(filters)), f"kernel_size={size_code(kernel_size)}"]
    if activation not in (None, ""):
        args.append(f"activation={activation!r}")
    args.append(f"padding={str(padding).lower()!r}")
    args.append(f"strides={stride_code(strides)}")
    if pair(dilation_rate, "dilation_rate") != (1, 1):
        args.append(f"dilation_rate={stride_code(dilation_rate)}")
    if name:
        args.append(f"name={name!r}")
    return f"keras.layers.Conv2D({', '.join(args)})"


def pooling_code(kind, pool_size=2, strides=None, padding="valid", name=None) -> str:
    """The pooling layer of `kind` ('max' | 'average' | 'min'); strides=None means pool_size, as in Keras."""
    try:
        cls = POOLING_CLASSES[kind]
    except KeyError:
        raise ValueError(f"pooling must be one of {', '.join(POOLING_CLASSES)}, not {kind!r}.") from None
    args = [f"pool_size={size_code(pool_size)}"]
    if strides is not None:
        args.append(f"strides={stride_code(strides)}")
    args.append(f"padding={str(padding).lower()!r}")
    if name:
        args.append(f"name={name!r}")
    return f"{cls}({', '.join(args)})"


def input_code(input_shape) -> str:
    h, w, c = (int(v) for v in input_shape)
    return f"keras.Input(shape=({h}, {w}, {c}))"


def imports_code(pooling_kinds=()) -> str:
    """The import lines a snippet needs."""
    lines = [IMPORTS]
    if "min" in pooling_kinds:
        lines.append(MIN_POOLING_IMPORT)
    return "\n".join(lines)


def conv_pool_code(input_shape, conv: dict, pool: dict | None) -> str:
    """A runnable snippet: the imports, a Sequential of Input, Conv2D and (optionally) pooling."""
    layers = [input_code(input_shape), conv2d_code(**conv)]
    kinds = ()
    if pool is not None:
        layers.append(pooling_code(**pool))
        kinds = (pool["kind"],)
    body = ",\n".join(f"    {line}" for line in layers)
    return f"{imports_code(kinds)}\n\nmodel = keras.Sequential([\n{body},\n])\nmodel.summary()\n"


# --- model-level code (Model engineer) ---------------------------------------------------------


def _tuple_code(value) -> str:
    h, w = pair(value)
    return f"({h}, {w})"


def _layer_call(layer, input_shape=None) -> str:
    """One `Conv2D(...)`-style call for a cnnviz.architecture.LayerSpec, in the lecture's style."""
    kind = layer.kind
    args: list[str] = []
    if kind == "Conv2D":
        args = [str(int(layer.filters)), f"kernel_size={_tuple_code(layer.kernel)}"]
        if layer.strides is not None and pair(layer.strides) != (1, 1):
            args.append(f"strides={_tuple_code(layer.strides)}")
        if layer.padding != "valid":
            args.append(f"padding={layer.padding!r}")
        if pair(layer.dilation) != (1, 1):
            args.append(f"dilation_rate={_tuple_code(layer.dilation)}")
        if layer.activation not in (None, "linear"):
            args.append(f"activation={layer.activation!r}")
    elif kind in ("MaxPooling2D", "AveragePooling2D", "MinPooling2D"):
        args = [f"pool_size={_tuple_code(layer.kernel)}"]
        if layer.strides is not None and pair(layer.strides) != pair(layer.kernel):
            args.append(f"strides={_tuple_code(layer.strides)}")
        if layer.padding != "valid":
            args.append(f"padding={layer.padding!r}")
    elif kind == "Dropout":
        args = [repr(0.5 if layer.rate is None else float(layer.rate))]
    elif kind == "Dense":
        args = [str(int(layer.filters))]
        if layer.activation not in (None, "linear"):
            args.append(f"activation={layer.activation!r}")
    if input_shape is not None:
        h, w, c = (int(v) for v in input_shape)
        args.append(f"input_shape=({h}, {w}, {c})")
    return f"{kind}({', '.join(args)})"


def model_code(spec) -> str:
    """Runnable Keras code of a cnnviz.architecture.ArchSpec, in the lecture's style:

        from keras.models import Sequential
        from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

        model = Sequential()
        model.add(Conv2D(12, kernel_size=(5, 5), activation='relu', input_shape=(120, 60, 1)))
        ...

    Keras 3.15 still accepts input_shape= on the first layer (it warns and prefers an Input);
    the lecture writes it that way, so the code does too. Runs as is (no cnnviz import unless
    the architecture uses MinPooling2D, which Keras lacks).
    """
    kinds = []
    for layer in spec.layers:
        if layer.kind not in kinds:
            kinds.append(layer.kind)
    keras_kinds = [k for k in kinds if k != "MinPooling2D"]
    lines = ["from keras.models import Sequential"]
    if keras_kinds:
        lines.append(f"from keras.layers import {', '.join(keras_kinds)}")
    if "MinPooling2D" in kinds:
        lines.append(MIN_POOLING_IMPORT)
    lines += ["", "model = Sequential()"]
    for i, layer in enumerate(spec.layers):
        lines.append(f"model.add({_layer_call(layer, spec.input_shape if i == 0 else None)})")
    lines += ["", "model.summary()", ""]
    return "\n".join(lines)
