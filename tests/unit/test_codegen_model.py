"""The generated model code, executed as is, builds the model the summary describes."""

import contextlib
import io

import keras
import pytest

from cnnviz import architecture as arch
from cnnviz import codegen, models
from cnnviz.architecture import ArchSpec, LayerSpec


def _run(code: str) -> keras.Model:
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # model.summary() prints
        exec(compile(code, "<generated>", "exec"), scope)
    return scope["model"]


def _same(spec: ArchSpec, model: keras.Model):
    summary = arch.summarize(spec)
    assert [r.output_shape for r in summary.rows] == [tuple(layer.output.shape[1:]) for layer in model.layers]
    assert [r.params for r in summary.rows] == [layer.count_params() for layer in model.layers]
    assert model.count_params() == summary.total_params


@pytest.mark.parametrize("key", ["seed", "tiny_vgg", "lenet5"])
def test_preset_code_runs_and_matches(key):
    spec = arch.from_model(models.PRESETS[key].build())
    code = codegen.model_code(spec)
    _same(spec, _run(code))


def test_seed_code_is_in_the_lecture_style():
    code = codegen.model_code(arch.from_model(models.seed_model()))
    assert "from keras.models import Sequential" in code
    assert "model = Sequential()" in code
    assert "model.add(Conv2D(12, kernel_size=(5, 5), activation='relu', input_shape=(120, 60, 1)))" in code
    assert "model.add(MaxPooling2D(pool_size=(2, 2)))" in code
    assert "model.add(Dense(4, activation='softmax'))" in code


@pytest.mark.parametrize("first", [
    LayerSpec("MinPooling2D", kernel=(2, 2), strides=(1, 2), padding="same"),
    LayerSpec("BatchNormalization"),
    LayerSpec("Dropout", rate=0.2),
    LayerSpec("Conv2D", 5, (3, 2), (2, 1), "same", (1, 1), "tanh"),
])
def test_every_kind_runs_first_and_later(first):
    spec = ArchSpec((17, 13, 3), (
        first,
        LayerSpec("Conv2D", 4, (3, 3), None, "valid", (2, 2), "relu"),
        LayerSpec("AveragePooling2D", kernel=(2, 2)),
        LayerSpec("MinPooling2D", kernel=(1, 1)),
        LayerSpec("BatchNormalization"),
        LayerSpec("Dropout", rate=0.25),
        LayerSpec("GlobalAveragePooling2D"),
        LayerSpec("Dense", 6, activation="relu"),
        LayerSpec("Dense", 3, activation="softmax"),
    ))
    _same(spec, _run(codegen.model_code(spec)))


def test_flatten_first_runs():
    spec = ArchSpec((5, 4, 2), (LayerSpec("Flatten"), LayerSpec("Dense", 3)))
    _same(spec, _run(codegen.model_code(spec)))
