"""ONNX files: every operator the converter takes against onnxruntime (the logits and each mapped node's output),
ResNet-18 converted and verified, hostile files refused before anything is allocated, and a wrong conversion
refused naming the node where it diverges."""

from __future__ import annotations

import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cnnviz.files import checks, modelfiles, onnxfiles
from cnnviz.files.checks import ModelFileError

torch = pytest.importorskip("torch")
from tests import onnxmodels  # noqa: E402 - needs torch

LIMITS = checks.Limits(None, 10**8, 10**9)
OPS = set()  # operators the converted test models used (checked against onnxfiles.LAYERS at the end)


def _converted(data: bytes, limits=LIMITS, folder=None):
    checked = onnxfiles.check(data, limits, folder)
    OPS.update(n.op_type for n in checked.proto.graph.node)
    return checked, onnxfiles.convert(checked)


def _assert_equal_to_onnxruntime(converted):
    """The logits (verify: seeded noise and the sample photo) and every mapped node's output (added as graph
    outputs for onnxruntime) within the tolerance."""
    assert onnxfiles.verify(converted) <= onnxfiles.TOLERANCE
    for x in onnxfiles.inputs(converted, n_random=1):
        errors = onnxfiles.node_errors(converted, x)
        assert len(errors) == len(converted.mapped) > 3
        worst = max(errors, key=lambda e: e[1])
        assert worst[1] <= onnxfiles.TOLERANCE, worst


@pytest.mark.parametrize("net, opset, keep_batchnorm", [(onnxmodels.Convs, 13, True),
                                                        (onnxmodels.Activations, 17, False),
                                                        (onnxmodels.Arithmetic, 21, False),
                                                        (onnxmodels.Upsampling, 20, False),
                                                        (onnxmodels.ConvNeXtBlock, 17, False),
                                                        (onnxmodels.Reshapes, 18, True),
                                                        (onnxmodels.Resampling, 17, False)])
def test_small_torch_models_equal_onnxruntime_layer_by_layer(net, opset, keep_batchnorm):
    checked, converted = _converted(onnxmodels.export(onnxmodels.seeded(net), opset=opset, keep_batchnorm=keep_batchnorm))
    _assert_equal_to_onnxruntime(converted)
    model = converted.model
    assert model.inputs[0].shape[1:] == (16, 16, 3)  # NHWC
    names = {layer.name for layer in model.layers}
    assert {onnxfiles.layer_name(n.name) for n in checked.proto.graph.node if n.op_type == "Conv"} <= names


def _graph_model(nodes, initializers, shape=(1, 2, 7, 7), opset=20):
    graph = helper.make_graph(nodes, "hand", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers.items()])
    return helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def test_auto_pad_asymmetric_pads_shape_arithmetic_and_pass_through_nodes():
    """What torch's exporter rarely writes: auto_pad SAME_UPPER/SAME_LOWER with stride 2 (asymmetric), explicit
    asymmetric pads, Identity, Dropout, GlobalMaxPool, and x.view(x.size(0), -1) as Shape/Gather/Concat/Reshape."""
    rng = np.random.default_rng(0)
    w = {f"w{i}": rng.standard_normal((2, 2, 3, 3)).astype("float32") for i in range(3)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["a"], name="/same_upper/Conv", auto_pad="SAME_UPPER", strides=[2, 2]),
             helper.make_node("Conv", ["a", "w1"], ["b"], name="/same_lower/Conv", auto_pad="SAME_LOWER"),
             helper.make_node("Conv", ["b", "w2"], ["c"], name="/asym/Conv", pads=[0, 1, 2, 1]),
             helper.make_node("Identity", ["c"], ["d"], name="/id"),
             helper.make_node("Dropout", ["d"], ["e"], name="/drop"),
             helper.make_node("Relu", ["e"], ["f"], name="/relu"),
             helper.make_node("MaxPool", ["f"], ["g"], name="/pool", kernel_shape=[2, 2], pads=[1, 0, 0, 1]),
             helper.make_node("Shape", ["g"], ["s"], name="/shape"),
             helper.make_node("Gather", ["s", "zero"], ["n"], name="/gather", axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], name="/unsqueeze"),
             helper.make_node("Concat", ["n1", "minus_one"], ["target"], name="/concat", axis=0),
             helper.make_node("Reshape", ["g", "target"], ["flat"], name="/reshape"),
             helper.make_node("GlobalMaxPool", ["g"], ["gm"], name="/gmp"),
             helper.make_node("Flatten", ["gm"], ["gf"], name="/gflat"),
             helper.make_node("Concat", ["flat", "gf"], ["y"], name="/out", axis=1)]
    data = _graph_model(nodes, {**w, "zero": np.array(0), "axes": np.array([0]), "minus_one": np.array([-1])})
    _, converted = _converted(data)
    _assert_equal_to_onnxruntime(converted)
    assert "same_upper_Conv" in [layer.name for layer in converted.model.layers]


@pytest.mark.parametrize("opset", [13, 18])
def test_split_and_resize_as_onnx_writes_them(opset):
    """What torch's exporter does not write: Split into equal parts (opset 13) or by `num_outputs` with a smaller
    last part (opset 18), Resize by `sizes` (nearest by a whole factor with ONNX's default half_pixel rounding,
    bilinear to any size), with `axes` (opset 18)."""
    split = {"num_outputs": 2} if opset >= 18 else {}
    sizes = {"axes": [2, 3]} if opset >= 18 else {}
    full = (lambda hw: list(hw)) if opset >= 18 else (lambda hw: [1, 1, *hw])
    nodes = [helper.make_node("Split", ["x"], ["a", "b"], name="/split", axis=2 if opset >= 18 else 1, **split),
             helper.make_node("Resize", ["a", "", "", "sa"], ["ua"], name="/nearest", **sizes),
             helper.make_node("Resize", ["b", "", "", "sb"], ["ub"], name="/bilinear", mode="linear", **sizes),
             helper.make_node("Flatten", ["ua"], ["fa"], name="/fa"), helper.make_node("Flatten", ["ub"], ["fb"], name="/fb"),
             helper.make_node("Concat", ["fa", "fb"], ["y"], name="/out", axis=1)]
    a = (4, 7) if opset >= 18 else (7, 7)  # the part's height and width
    data = _graph_model(nodes, {"sa": np.array(full((2 * a[0], 3 * a[1]))), "sb": np.array(full((5, 9)))}, opset=opset)
    _, converted = _converted(data)
    _assert_equal_to_onnxruntime(converted)
    kinds = {type(converted.model.get_layer(n)).__name__ for n in ("nearest", "bilinear")}
    assert kinds == {"UpSampling2D", "Resizing"}


def test_resnet18_converts_and_verifies_with_its_layer_names():
    data = onnxmodels.resnet18_onnx()
    start = time.perf_counter()
    loaded = modelfiles.load_upload(data, "resnet18.onnx")
    seconds = time.perf_counter() - start
    model = loaded.model
    net = onnxmodels.seeded(onnxmodels.ResNet18)
    folded = sum(m.num_features for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    # the exporter folds each BatchNorm (scale and shift) into its conv (a bias): one parameter less per channel
    assert model.count_params() == sum(p.numel() for p in net.parameters()) - folded == 11_684_712
    assert (loaded.kind, loaded.assumed, len(loaded.class_names)) == ("onnx", "torch", 1000)
    names = [layer.name for layer in model.layers]
    assert "layer1_layer1.0_conv1_Conv" in names and "fc_Gemm" in names
    assert model.inputs[0].shape[1:] == (224, 224, 3) and model.outputs[0].shape[-1] == 1000
    assert seconds < 60, seconds  # about 2 s on 2 cores; generous for a loaded CI machine


@pytest.mark.parametrize("name", ["squeezenet1_1", "mobilenet_v3_small"])
def test_torchvision_architectures_convert_and_verify(name):
    """torchvision's own definitions with their random initialisation, at 64x64 to keep the test short: SqueezeNet
    (ceil_mode pools, Concat), MobileNetV3 (HardSwish, HardSigmoid, squeeze-and-excitation, Dropout)."""
    models = onnxmodels.torchvision_models()
    if models is None:
        pytest.skip("torchvision is not installed")
    torch.manual_seed(0)
    _, converted = _converted(onnxmodels.export(getattr(models, name)(), (1, 3, 64, 64)))
    assert onnxfiles.verify(converted) <= onnxfiles.TOLERANCE


def _refused(data, key, limits=LIMITS, folder=None):
    start = time.perf_counter()
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.check(data, limits, folder)
    assert caught.value.key == key, str(caught.value)
    assert time.perf_counter() - start < 2
    return caught.value


def _tiny(**change):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 1, 4, 4))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = change.get("nodes", [helper.make_node("Relu", ["x"], ["y"], name="relu")])
    graph = helper.make_graph(nodes, "g", [x], [y], change.get("initializers", []))
    return helper.make_model(graph, ir_version=9, opset_imports=change.get("opsets", [helper.make_opsetid("", 17)]))


def test_a_trillion_element_initializer_is_refused_from_its_dims():
    huge = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[10**6, 10**6])  # no data: 4 TB claimed
    err = _refused(_tiny(initializers=[huge]).SerializeToString(), "files.onnx.initializer")
    assert "huge" in str(err) and "1,000,000,000,000" in str(err)
    short = numpy_helper.from_array(np.zeros(4, "float32"), "short")
    short.dims[:] = [8]  # 8 values declared, 4 held
    _refused(_tiny(initializers=[short]).SerializeToString(), "files.onnx.tensor_size")


def test_external_data_only_from_the_files_own_folder(tmp_path):
    outside = numpy_helper.from_array(np.ones(4, "float32"), "w")
    outside.ClearField("raw_data")
    outside.data_location = TensorProto.EXTERNAL
    outside.external_data.add(key="location", value="../secrets.bin")
    data = _tiny(initializers=[outside]).SerializeToString()
    err = _refused(data, "files.onnx.external_path", folder=str(tmp_path))
    assert "../secrets.bin" in str(err)
    _refused(data, "files.onnx.external_upload")  # an upload has no folder
    outside.external_data[0].value = "/etc/passwd"
    _refused(_tiny(initializers=[outside]).SerializeToString(), "files.onnx.external_path", folder=str(tmp_path))
    outside.external_data[0].value = "w.bin"
    _refused(_tiny(initializers=[outside]).SerializeToString(), "files.onnx.external_missing", folder=str(tmp_path))
    (tmp_path / "w.bin").write_bytes(np.ones(4, "float32").tobytes())
    checked = onnxfiles.check(_tiny(initializers=[outside]).SerializeToString(), LIMITS, str(tmp_path))
    assert checked.params == 4


def test_custom_operators_domains_and_other_opsets_are_refused():
    custom = _tiny(nodes=[helper.make_node("Evil", ["x"], ["y"], name="evil", domain="com.example")],
                   opsets=[helper.make_opsetid("", 17)])
    err = _refused(custom.SerializeToString(), "files.onnx.custom")
    assert "evil" in str(err) and "com.example" in str(err)
    _refused(_tiny(opsets=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]).SerializeToString(),
             "files.onnx.domain")
    _refused(_tiny(opsets=[helper.make_opsetid("", 11)]).SerializeToString(), "files.onnx.opset")
    warp = _tiny(nodes=[helper.make_node("GridSample", ["x", "x"], ["y"], name="/warp/GridSample")])
    err = _refused(warp.SerializeToString(), "files.onnx.operator")
    assert "/warp/GridSample" in str(err) and "GridSample" in str(err)


def test_a_node_cycle_undefined_inputs_and_too_many_nodes_are_refused(monkeypatch):
    cycle = [helper.make_node("Relu", ["x2"], ["x1"], name="first"), helper.make_node("Relu", ["x1"], ["x2"], name="second"),
             helper.make_node("Relu", ["x"], ["y"], name="out")]
    err = _refused(_tiny(nodes=cycle).SerializeToString(), "files.onnx.cycle")
    assert "first" in str(err) or "second" in str(err)
    _refused(_tiny(nodes=[helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]).SerializeToString(),
             "files.onnx.undefined")
    monkeypatch.setattr(onnxfiles, "MAX_NODES", 0)
    _refused(_tiny().SerializeToString(), "files.onnx.nodes")


def test_truncated_and_non_onnx_bytes_are_refused():
    data = onnxmodels.export(onnxmodels.seeded(onnxmodels.Convs))
    _refused(data[: len(data) // 2], "files.onnx.damaged")
    _refused(onnx.ModelProto(ir_version=9).SerializeToString(), "files.onnx.no_graph")  # valid protobuf, no graph
    with pytest.raises(ModelFileError) as caught:
        modelfiles.load_upload(data[:-7], "cut.onnx")  # through the upload's entry point too
    assert caught.value.key == "files.onnx.damaged"


def test_the_input_must_be_one_image():
    two = _tiny()
    two.graph.input.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, (1, 4)))
    _refused(two.SerializeToString(), "files.onnx.inputs")
    flat = _tiny()
    flat.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 16)))
    _refused(flat.SerializeToString(), "files.onnx.input")


def test_a_wrong_conversion_is_refused_naming_the_first_diverging_node():
    _, converted = _converted(onnxmodels.export(onnxmodels.seeded(onnxmodels.Convs)))
    layer = converted.model.get_layer("features_features.4_Conv")  # the dilated depthwise conv
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias + 0.5])
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.verify(converted)
    assert caught.value.key == "files.onnx.diverges"
    assert "/features/features.4/Conv" in str(caught.value) and f"{onnxfiles.TOLERANCE:g}" in str(caught.value)


def test_padding_keras_cannot_express_exactly_is_refused_naming_the_node():
    """A max pool with padding right after a conv (whose output can be negative, so zeros could win) and a
    padding Keras's 'same' splits differently."""
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.MaxPool2d(3, 2, 1))
    checked = onnxfiles.check(onnxmodels.export(onnxmodels.seeded(lambda: net)), LIMITS)
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.convert(checked)
    assert caught.value.key == "files.onnx.attribute" and "MaxPool" in str(caught.value)


def test_a_refused_onnx_file_exits_the_command_line_with_status_2(tmp_path, capsys, monkeypatch):
    from cnnviz.launch import cli

    real_popen = cli.subprocess.Popen

    def popen(cmd, *args, **kwargs):  # the checking process runs; a server must not start
        if "cnnviz.launch.server" in cmd:
            pytest.fail("a server started")
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    path = tmp_path / "custom.onnx"
    path.write_bytes(_tiny(nodes=[helper.make_node("Evil", ["x"], ["y"], name="evil", domain="x")]).SerializeToString())
    assert cli.main([str(path)]) == 2
    assert "custom operator domain" in capsys.readouterr().err


DIVERGING = "features_features.4_Conv"  # Convs' dilated depthwise conv, its bias made wrong after the conversion
# The same, in the command's checking process (its code, cli.CHECK_CODE, run after this)
WRONG_CHECK = f"""
from cnnviz.files import onnxfiles
convert = onnxfiles.convert

def wrong(checked):
    converted = convert(checked)
    layer = converted.model.get_layer("{DIVERGING}")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias + 0.5])
    return converted

onnxfiles.convert = wrong
"""


@pytest.mark.parametrize("what", ["conversion", "verification"])
def test_an_onnx_file_that_does_not_convert_or_verify_exits_the_command_with_status_2(what, tmp_path, capsys,
                                                                                        monkeypatch):
    """The command's checking process converts the file and verifies it against onnxruntime: a graph Keras cannot
    compute exactly (a max pool padding a conv's output that can be negative) and a conversion made wrong are
    refused there, naming the node, with exit status 2 and no server started."""
    import subprocess

    from cnnviz.launch import cli

    started, real_popen = [], subprocess.Popen

    def popen(cmd, *args, **kwargs):
        started.append(cmd)
        assert cmd[1] == "-c" and cmd[2].endswith(cli.CHECK_CODE), "only the checking process"
        return real_popen(cmd, *args, **kwargs)

    path = tmp_path / f"{what}.onnx"
    if what == "conversion":
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.MaxPool2d(3, 2, 1))
        path.write_bytes(onnxmodels.export(onnxmodels.seeded(lambda: net)))
        node, key = "/1/MaxPool", "files.onnx.attribute"
    else:
        path.write_bytes(onnxmodels.export(onnxmodels.seeded(onnxmodels.Convs)))
        monkeypatch.setattr(cli, "CHECK_CODE", WRONG_CHECK + cli.CHECK_CODE)
        node, key = "/features/features.4/Conv", "files.onnx.diverges"
    with monkeypatch.context() as m:
        m.setattr(cli.subprocess, "Popen", popen)
        assert cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert len(started) == 1, "no server"
    assert f"cnnviz: {path}: " in err and node in err, err
    if what == "verification":  # the same wrong conversion in this process
        convert = onnxfiles.convert

        def wrong(checked):
            converted = convert(checked)
            layer = converted.model.get_layer(DIVERGING)
            layer.set_weights([layer.get_weights()[0], layer.get_weights()[1] + 0.5])
            return converted

        monkeypatch.setattr(onnxfiles, "convert", wrong)
    refusal = cli.refusal(str(path))  # what a check in this process (cnnviz.show's) says: the same
    assert refusal.key == key and f"cnnviz: {path}: {refusal}\n" in err


def test_every_layer_operator_was_converted_by_some_test():
    """Runs last in this file: the models above used every operator the converter turns into a layer."""
    assert OPS, "run the whole file"
    missing = set(onnxfiles.LAYERS) - OPS - {"Constant"}
    assert not missing, missing


def _node(op, inputs, **attrs):
    return helper.make_node(op, inputs, ["y"], name=f"/bad/{op}", **attrs)


W = np.ones((2, 2, 3, 3), "float32")
FLAT = helper.make_node("Flatten", ["x"], ["f"], name="/flat")
# (what it is, nodes, initializers, the refusal's key): graphs on x (1, 2, 7, 7) that have no exact Keras equivalent
CONVERSION_REFUSALS = [
    ("clip below zero", [_node("Clip", ["x", "lo", "hi"])], {"lo": np.float32(-1), "hi": np.float32(1)}, "files.onnx.attribute"),
    ("hard sigmoid not torch's", [_node("HardSigmoid", ["x"], alpha=0.2)], {}, "files.onnx.attribute"),
    ("softmax over width", [_node("Softmax", ["x"], axis=3)], {}, "files.onnx.attribute"),
    ("concat over the batch", [_node("Concat", ["x", "x"], axis=0)], {}, "files.onnx.attribute"),
    ("a strided slice", [_node("Slice", ["x", "s", "e", "a", "st"])],
     {"s": np.array([0]), "e": np.array([2]), "a": np.array([1]), "st": np.array([2])}, "files.onnx.attribute"),
    ("an empty slice", [_node("Slice", ["x", "s", "e", "a"])], {"s": np.array([3]), "e": np.array([1]), "a": np.array([2])},
     "files.onnx.attribute"),
    ("flatten from axis 2", [_node("Flatten", ["x"], axis=2)], {}, "files.onnx.attribute"),
    ("reshape into the batch", [_node("Reshape", ["x", "shape"])], {"shape": np.array([2, 49])}, "files.onnx.attribute"),
    ("reshape with two -1", [_node("Reshape", ["x", "shape"])], {"shape": np.array([1, -1, -1])}, "files.onnx.attribute"),
    ("reshape to another size", [_node("Reshape", ["x", "shape"])], {"shape": np.array([1, 5, 5, 5])},
     "files.onnx.attribute"),
    ("reshape with an odd -1", [_node("Reshape", ["x", "shape"])], {"shape": np.array([1, 5, -1])}, "files.onnx.attribute"),
    ("squeeze of a real axis", [_node("Squeeze", ["x", "axes"])], {"axes": np.array([2])}, "files.onnx.attribute"),
    ("unsqueeze before the batch", [_node("Unsqueeze", ["x", "axes"])], {"axes": np.array([0])}, "files.onnx.attribute"),
    ("batch norm in training", [_node("BatchNormalization", ["x", "s", "s", "s", "s"], training_mode=1)],
     {"s": np.ones(2, "float32")}, "files.onnx.attribute"),
    ("mean over channels", [_node("ReduceMean", ["x"], axes=[1])], {}, "files.onnx.attribute"),
    ("average pool ceil_mode", [_node("AveragePool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)], {},
     "files.onnx.attribute"),
    ("dilated max pool", [_node("MaxPool", ["x"], kernel_shape=[2, 2], dilations=[2, 2])], {}, "files.onnx.attribute"),
    ("pads of the wrong length", [_node("Conv", ["x", "w"], pads=[1, 1])], {"w": W}, "files.onnx.attribute"),
    ("tensor / tensor", [_node("Div", ["x", "x"])], {}, "files.onnx.rank"),
    ("constant / tensor", [_node("Div", ["c", "x"])], {"c": np.float32(2)}, "files.onnx.rank"),
    ("constant with a batch", [_node("Add", ["x", "c"])], {"c": np.ones((2, 2, 1, 1), "float32")}, "files.onnx.rank"),
    ("conv weights from the image", [_node("Conv", ["w", "x"])], {"w": W}, "files.onnx.needs_tensor"),
    ("shape arithmetic on the image", [_node("Gather", ["x", "i"], axis=0)], {"i": np.array(0)}, "files.onnx.needs_constant"),
    ("an output without the image", [_node("Add", ["c", "c"])], {"c": np.float32(1)}, "files.onnx.constant_output"),
    ("weights that do not fit", [_node("Conv", ["x", "w"])], {"w": np.ones((2, 3, 3, 3), "float32")}, "files.onnx.convert"),
    ("a shape from the image", [_node("Reshape", ["x", "x"])], {}, "files.onnx.needs_constant"),
    ("conv of a vector", [FLAT, _node("Conv", ["f", "w"])], {"w": W}, "files.onnx.rank"),
    ("1-D max pool", [_node("MaxPool", ["x"], kernel_shape=[2])], {}, "files.onnx.rank"),
    ("1-D average pool", [_node("AveragePool", ["x"], kernel_shape=[2])], {}, "files.onnx.rank"),
    ("global pool of a vector", [FLAT, _node("GlobalAveragePool", ["f"])], {}, "files.onnx.rank"),
    ("global max pool of a vector", [FLAT, _node("GlobalMaxPool", ["f"])], {}, "files.onnx.rank"),
    ("a constant of higher rank", [_node("Mul", ["x", "c"])], {"c": np.ones((1, 1, 2, 1, 1), "float32")}, "files.onnx.rank"),
    ("dense on a map", [_node("Gemm", ["x", "b"])], {"b": np.ones((7, 3), "float32")}, "files.onnx.rank"),
    ("grouped transposed conv", [_node("ConvTranspose", ["x", "w"], group=2)], {"w": np.ones((2, 1, 3, 3), "float32")},
     "files.onnx.attribute"),
    ("transposed conv of a vector", [FLAT, _node("ConvTranspose", ["f", "w"])], {"w": W}, "files.onnx.rank"),
    ("reflect padding", [_node("Pad", ["x", "p"], mode="reflect")], {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1])},
     "files.onnx.attribute"),
    ("padding channels", [_node("Pad", ["x", "p"])], {"p": np.array([0, 1, 0, 0, 0, 0, 0, 0])}, "files.onnx.attribute"),
    ("padding chosen axes", [_node("Pad", ["x", "p", "", "a"])], {"p": np.array([1, 1, 1, 1]), "a": np.array([2, 3])},
     "files.onnx.rank"),
    ("a slope per row", [_node("PRelu", ["x", "s"])], {"s": np.ones((7, 1), "float32")}, "files.onnx.rank"),
    ("tanh-approximate gelu", [_node("Gelu", ["x"], approximate="tanh")], {}, "files.onnx.attribute"),
    ("a transpose moving the batch", [_node("Transpose", ["x"], perm=[1, 0, 2, 3])], {}, "files.onnx.attribute"),
    ("layer norm over channels of NCHW", [_node("LayerNormalization", ["x", "s"], axis=1)], {"s": np.ones((2, 7, 7), "float32")},
     "files.onnx.attribute"),
    ("a huge constant from a tiny shape", [helper.make_node("ConstantOfShape", ["s"], ["k"], name="/big"),
                                           _node("Add", ["x", "k"])], {"s": np.array([10**6, 10**6])}, "files.onnx.folded"),
    ("a conv of constants", [helper.make_node("Conv", ["w", "w"], ["k"], name="/const"), _node("Add", ["x", "k"])],
     {"w": W}, "files.onnx.needs_tensor"),
    ("erf outside a GELU", [_node("Erf", ["x"])], {}, "files.onnx.operator"),
    ("a GELU-shaped graph dividing by 2", [helper.make_node("Div", ["x", "two"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
                                          helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
                                          _node("Mul", ["m", "half"])],
     {"two": np.float32(2), "one": np.float32(1), "half": np.float32(0.5)}, "files.onnx.operator"),
    ("a split of the batch", [helper.make_node("Split", ["x"], ["y", "z"], name="/bad/Split", axis=0)], {}, "files.onnx.attribute"),
    ("split sizes that do not add up", [helper.make_node("Split", ["x", "s"], ["y", "z"], name="/bad/Split", axis=1)],
     {"s": np.array([1, 2])}, "files.onnx.attribute"),
    ("resize with align_corners", [_node("Resize", ["x", "", "s"], mode="linear", coordinate_transformation_mode="align_corners")],
     {"s": np.array([1, 1, 2, 2], "float32")}, "files.onnx.attribute"),
    ("resize of the channels", [_node("Resize", ["x", "", "s"])], {"s": np.array([1, 2, 1, 1], "float32")},
     "files.onnx.attribute"),
    ("resize without scales or sizes", [_node("Resize", ["x"])], {}, "files.onnx.attribute"),
    ("resize by a scale that is no whole size", [_node("Resize", ["x", "", "s"], mode="linear")],
     {"s": np.array([1, 1, 1.5, 1.5], "float32")}, "files.onnx.attribute"),
    ("antialiased bilinear downsampling", [_node("Resize", ["x", "", "", "s"], mode="linear", antialias=1)],
     {"s": np.array([1, 2, 3, 3])}, "files.onnx.attribute"),
    ("pytorch_half_pixel down to one row", [_node("Resize", ["x", "", "", "s"], mode="linear",
                                                  coordinate_transformation_mode="pytorch_half_pixel")],
     {"s": np.array([1, 2, 1, 7])}, "files.onnx.attribute"),
    ("resize of a vector", [FLAT, _node("Resize", ["f", "", "s"])], {"s": np.array([1, 2], "float32")}, "files.onnx.rank"),
    ("gemm with A transposed", [FLAT, _node("Gemm", ["f", "b"], transA=1)], {"b": np.ones((98, 3), "float32")},
     "files.onnx.attribute"),
]


@pytest.mark.parametrize("what, nodes, initializers, key", CONVERSION_REFUSALS, ids=[c[0] for c in CONVERSION_REFUSALS])
def test_what_keras_cannot_compute_exactly_is_refused_naming_the_node(what, nodes, initializers, key):
    checked = onnxfiles.check(_graph_model(nodes, initializers), LIMITS)
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.convert(checked)
    assert caught.value.key == key, str(caught.value)
    if key not in ("files.onnx.constant_output", "files.onnx.folded", "files.onnx.needs_tensor"):
        assert f"/bad/{nodes[-1].op_type}" in str(caught.value)
    elif key != "files.onnx.constant_output":
        assert nodes[0].name in str(caught.value)  # the constant node itself


def test_a_free_size_input_converts_but_shape_arithmetic_and_auto_pad_on_it_are_refused():
    free = _graph_model([_node("Relu", ["x"])], {}, shape=(1, 2, "h", "w"))
    converted = onnxfiles.convert(onnxfiles.check(free, LIMITS))
    assert converted.model.inputs[0].shape[1:] == (None, None, 2)
    assert onnxfiles.verify(converted) <= onnxfiles.TOLERANCE  # at FREE_SIZE
    for nodes, init in (([_node("Shape", ["x"])], {}), ([_node("Conv", ["x", "w"], auto_pad="SAME_UPPER", strides=[2, 2])], {"w": W})):
        with pytest.raises(ModelFileError, match="has no exact Keras equivalent"):
            onnxfiles.convert(onnxfiles.check(_graph_model(nodes, init, shape=(1, 2, "h", "w")), LIMITS))
    fold = helper.make_node("Gather", ["c", "i"], ["k"], name="/fold", axis=0)
    with pytest.raises(ModelFileError) as caught:  # constants only, but the arithmetic itself fails
        onnxfiles.convert(onnxfiles.check(_graph_model([fold, _node("Add", ["x", "k"])],
                                                       {"c": np.ones(2, "float32"), "i": np.array(7)}), LIMITS))
    assert caught.value.key == "files.onnx.convert" and "/fold" in str(caught.value)


def test_malformed_tensors_and_graphs_are_refused_before_reading_them(tmp_path):
    def tensor(**fields):
        t = TensorProto(name="t", data_type=fields.pop("data_type", TensorProto.FLOAT), dims=fields.pop("dims", [4]))
        for key, value in fields.items():
            getattr(t, key).extend(value) if isinstance(value, list) else setattr(t, key, value)
        return t

    _refused(_tiny(initializers=[tensor(dims=[-1])]).SerializeToString(), "files.onnx.dims")
    _refused(_tiny(initializers=[tensor(data_type=TensorProto.STRING)]).SerializeToString(), "files.onnx.dtype")
    _refused(_tiny(initializers=[tensor(float_data=[1.0, 2.0, 3.0])]).SerializeToString(), "files.onnx.tensor_size")
    small = checks.Limits(None, 10, 10**9)
    pair = [numpy_helper.from_array(np.ones(8, "float32"), n) for n in ("a", "b")]
    _refused(_tiny(initializers=pair).SerializeToString(), "files.params", limits=small)
    huge = helper.make_node("Constant", [], ["k"], name="k", value=TensorProto(name="v", data_type=1, dims=[10**7, 10**7]))
    _refused(_tiny(nodes=[huge, helper.make_node("Relu", ["x"], ["y"])]).SerializeToString(), "files.onnx.initializer")
    twice = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])]
    _refused(_tiny(nodes=twice).SerializeToString(), "files.onnx.twice")
    sparse = _tiny()
    sparse.graph.sparse_initializer.add().values.CopyFrom(numpy_helper.from_array(np.ones(1, "float32"), "s"))
    _refused(sparse.SerializeToString(), "files.onnx.sparse")
    function = _tiny()
    function.functions.add(name="f", domain="custom.functions")
    _refused(function.SerializeToString(), "files.onnx.domain")
    no_output = _tiny()
    del no_output.graph.output[:]
    _refused(no_output.SerializeToString(), "files.onnx.no_graph")
    short = numpy_helper.from_array(np.ones(4, "float32"), "w")
    short.ClearField("raw_data")
    short.data_location = TensorProto.EXTERNAL
    short.external_data.add(key="location", value="w.bin")
    short.external_data.add(key="offset", value="8")
    (tmp_path / "w.bin").write_bytes(np.ones(4, "float32").tobytes())  # 16 bytes: from offset 8 only 8 are there
    _refused(_tiny(initializers=[short]).SerializeToString(), "files.onnx.tensor_size", folder=str(tmp_path))
    short.external_data[1].value = "eight"
    _refused(_tiny(initializers=[short]).SerializeToString(), "files.onnx.external_path", folder=str(tmp_path))
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "link.bin").symlink_to(tmp_path / "w.bin")  # a link out of the model's folder
    del short.external_data[1:]
    short.external_data[0].value = "link.bin"
    _refused(_tiny(initializers=[short]).SerializeToString(), "files.onnx.external_path", folder=str(tmp_path / "inside"))


def test_external_data_beside_the_file_is_read_and_onnxruntime_failing_is_said(tmp_path):
    data = _graph_model([helper.make_node("Conv", ["x", "w"], ["y"], name="/conv", pads=[1, 1, 1, 1])],
                        {"w": np.full((2, 2, 3, 3), 0.5, "float32")})
    model = onnx.ModelProto.FromString(data)
    onnx.save_model(model, str(tmp_path / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.data", size_threshold=0)
    loaded = modelfiles.load_path(tmp_path / "m.onnx")
    np.testing.assert_array_equal(loaded.model.get_layer("conv").get_weights()[0], np.full((3, 3, 2, 2), 0.5))
    assert loaded.assumed == "" and loaded.class_names is None
    newer = onnx.ModelProto.FromString(data)
    newer.ir_version = 99  # onnxruntime refuses what it does not know
    converted = onnxfiles.convert(onnxfiles.check(newer.SerializeToString(), LIMITS))
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.verify(converted)
    assert caught.value.key == "files.onnx.runtime" and "IR version" in str(caught.value)


def test_huge_images_and_layer_outputs_are_refused_before_anything_runs():
    """A declared input of 3 x 100,000 x 100,000, and a 1x1 conv to 100,000 channels at 224x224 (300,000
    weights, but 5 G values out): refused from shapes, before the verification would allocate them."""
    big = _tiny()
    big.graph.input[0].CopyFrom(helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 3, 100_000, 100_000)))
    _refused(big.SerializeToString(), "files.onnx.input_size")
    wide = _graph_model([_node("Conv", ["x", "w"])], {"w": np.zeros((100_000, 3, 1, 1), "float32")}, shape=(1, 3, 224, 224))
    with pytest.raises(ModelFileError) as caught:
        onnxfiles.convert(onnxfiles.check(wide, LIMITS))
    assert caught.value.key == "files.onnx.activation" and "bad_Conv" in str(caught.value)


def test_a_converted_model_downloads_as_keras_and_loads_back_equal(tmp_path, monkeypatch):
    """The Model page's .keras download of a converted model is an ordinary, checked .keras file; and a file
    on disk that would not fit in memory (ONNX: converted and verified too) is refused before loading."""
    data = onnxmodels.export(onnxmodels.seeded(onnxmodels.Upsampling), opset=20)
    converted = modelfiles.load_upload(data, "up.onnx").model
    again = modelfiles.load_upload(modelfiles.model_bytes(converted), "up.keras").model
    x = np.random.default_rng(3).random((1, 16, 16, 3), dtype="float32")
    np.testing.assert_array_equal(again.predict_on_batch(x), converted.predict_on_batch(x))
    path = tmp_path / "up.onnx"
    path.write_bytes(data)
    params = modelfiles.check_path(path).params
    monkeypatch.setattr(modelfiles, "available_memory", lambda: params * 4 * onnxfiles.MEMORY_FACTOR - 1)
    with pytest.raises(ModelFileError) as caught:
        modelfiles.check_path(path)
    assert caught.value.key == "files.memory"


def test_folded_sizes_are_known_before_folding():
    size = onnxfiles._folded_size
    assert size(helper.make_node("Expand", ["a", "s"], ["y"]), [np.ones((3, 1)), np.array([2, 1, 4])]) == 24
    assert size(helper.make_node("Range", ["a", "b", "c"], ["y"]), [np.array(0), np.array(10**9), np.array(2)]) == 5 * 10**8
    assert size(helper.make_node("Range", ["a", "b", "c"], ["y"]), [np.array(0), np.array(5), np.array(0)]) > onnxfiles.MAX_FOLDED
    assert size(helper.make_node("Expand", ["a", "s"], ["y"]), [np.ones((3, 2)), np.array([4])]) == 0  # the evaluator says why
    assert size(helper.make_node("Concat", ["a", "b"], ["y"], axis=0), [np.ones(3), np.ones(5)]) == 5
