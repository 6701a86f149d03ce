"""Messages computed in cnnviz (cnnviz.messages) exist in every language, with the same placeholders,
format in every language with the values the code gives them, and read as English through str()."""

from __future__ import annotations

import io
import json
import re
import string
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cnnviz import architecture as arch
from cnnviz import arithmetic, i18n, messages, training
from cnnviz.files import modelfiles
from cnnviz import probability as pr
from cnnviz import convolution as cv
from cnnviz.layerlab import Settings, analyse
from cnnviz.messages import Message, MessageError, Verbatim
from cnnviz.ui.text import plain

ROOT = Path(__file__).resolve().parents[2]
LANGS = list(i18n.LANGUAGES)
# A message key as the code writes it: the first argument of a Message or of an error built on MessageError.
CALL = re.compile(r"\b(?:Message|MessageError|ArchitectureError|ModelFileError|refuse)\(\s*(f?)\"([^\"]+)\"")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def used_keys() -> set[str]:
    keys = set()
    for path in (ROOT / "cnnviz").rglob("*.py"):
        for fstring, key in CALL.findall(path.read_text(encoding="utf-8")):
            if fstring:  # f"arith.no_fit.{axis}": one key per axis
                assert key == "arith.no_fit.{axis}", f"{path}: expand {key!r} here"
                keys.update(f"arith.no_fit.{axis}" for axis in arithmetic.AXES)
            else:
                keys.add(key)
    return keys


@pytest.fixture
def strict(monkeypatch):
    """i18n.t without the English fallback: a message missing in a language fails here."""

    def t(key, lang=i18n.DEFAULT, **values):
        text = i18n.texts(lang)[key]
        return text.format(**values) if values else text

    monkeypatch.setattr(i18n, "t", t)


def test_every_key_in_the_code_exists_in_every_language_with_the_same_placeholders():
    keys = used_keys()
    assert len(keys) > 60  # the scan finds the calls (a broken pattern would find none and pass)
    for lang in LANGS:
        texts = i18n.texts(lang)
        missing = sorted(k for k in keys if k not in texts)
        assert not missing, (lang, missing)
        wrong = {k: texts[k] for k in keys if placeholders(texts[k]) != placeholders(i18n.texts("en")[k])}
        assert not wrong, (lang, wrong)


def test_course_words_used_as_values_are_translated():
    for word in ("kernel size", "pool size", "input size", "stride", "dilation", "height", "width", "filters"):
        term = messages.term(word)
        assert isinstance(term, Message) and str(term) == word
        assert term.text("ko") != word
    assert messages.term("kernel_size") == "kernel_size" and not isinstance(messages.term("kernel_size"), Message)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _config(layer: dict) -> bytes:
    return json.dumps({"class_name": "Sequential", "config": {"layers": [layer]}}).encode()


class _Model:  # what training.check_trainable reads from a model
    def __init__(self, inputs, outputs):
        self.inputs = [type("T", (), {"shape": (None, *inputs)})()]
        self.outputs = [type("T", (), {"shape": (None, *outputs)})()]


# Each raises a different kind of message; together they reach every module that computes messages.
RAISES = {
    "arith.in_layer": lambda: arithmetic.conv2d_output_shape((3, 3, 1), 1, 5),
    "arith.in_layer/dilated": lambda: arithmetic.conv2d_output_shape((9, 3, 1), 1, 3, dilation_rate=2),
    "arith.in_layer/pool": lambda: arithmetic.pool2d_output_shape((3, 3, 1), 5),
    "arith.stride_dilation": lambda: arithmetic.conv2d_output_shape((9, 9, 1), 1, 3, 2, dilation_rate=2),
    "arith.padding": lambda: arithmetic.conv2d_output_shape((9, 9, 1), 1, 3, padding="full"),
    "arith.positive_axis": lambda: arithmetic.conv2d_output_shape((9, 9, 1), 1, (0, 3)),
    "arith.at_least_1": lambda: arithmetic.conv2d_output_shape((9, 9, 1), 0, 3),
    "arith.input_shape": lambda: arithmetic.conv2d_output_shape((9, 9), 1, 3),
    "arith.input_channels": lambda: arithmetic.conv2d_output_shape((9, 9, 0), 1, 3),
    "arith.pair.type": lambda: arithmetic.pair(2.5, "kernel"),
    "arith.pair.length": lambda: arithmetic.pair((1, 2, 3), "stride"),
    "arith.pair.items": lambda: arithmetic.pair((1, 2.5), "pool size"),
    "arch.at/arith": lambda: arch.summarize(arch.ArchSpec((10, 10, 1), (
        arch.LayerSpec("Conv2D", 4, (5, 5)), arch.LayerSpec("Conv2D", 4, (9, 9))))),
    "arch.at/needs_map": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), (
        arch.LayerSpec("Flatten"), arch.LayerSpec("Conv2D", 4, (3, 3))))),
    "arch.at/too_many_params": lambda: arch.summarize(arch.ArchSpec((64, 64, 3), (
        arch.LayerSpec("Flatten"), arch.LayerSpec("Dense", 8000), arch.LayerSpec("Dense", 8000)))),
    "arch.at/count.missing": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Dense", None),))),
    "arch.at/count.cap": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Conv2D", 10**6),))),
    "arch.at/dropout": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Dropout", rate=1.5),))),
    "arch.at/activation": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), (
        arch.LayerSpec("Dense", 3, activation="magic"),))),
    "arch.input": lambda: arch.summarize(arch.ArchSpec((0, 8, 1), (arch.LayerSpec("Flatten"),))),
    "arch.input_too_large": lambda: arch.summarize(arch.ArchSpec((4096, 8, 1), (arch.LayerSpec("Flatten"),))),
    "arch.no_layers": lambda: arch.summarize(arch.ArchSpec((8, 8, 1), ())),
    "arch.at/row": lambda: arch.from_rows([{"layer": "Conv2D", "filters_units": 3, "kernel": "3y3"}], (8, 8, 1)),
    "arch.at/unknown_kind": lambda: arch.from_rows([{"layer": "Conv3D"}], (8, 8, 1)),
    "arch.input_shape": lambda: arch.from_rows([], ("a", 8, 1)),
    "arch.no_dense": lambda: arch.with_classes(arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Flatten"),)), 3),
    "files.empty": lambda: modelfiles.check_bytes(b""),
    "files.h5.damaged": lambda: modelfiles.check_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 10, "m.h5"),
    "files.h5.not_hdf5": lambda: modelfiles.check_bytes(b"hello", "m.h5"),
    "files.not_zip": lambda: modelfiles.check_bytes(b"hello", "m.keras"),
    "files.unexpected": lambda: modelfiles.check_bytes(_zip({"config.json": b"{}", "run_me.py": b""})),
    "files.json.invalid": lambda: modelfiles.check_bytes(_zip({"config.json": b"{"})),
    "files.config.code": lambda: modelfiles.check_bytes(_zip({"config.json": _config(
        {"class_name": "Lambda", "module": "keras.layers", "config": {}})})),
    "files.config.path": lambda: modelfiles.check_bytes(_zip({"config.json": _config(
        {"class_name": "Dense", "module": "keras.layers", "config": {"units": 2, "name": "/etc/passwd"}})})),
    "files.config.module": lambda: modelfiles.check_bytes(_zip({"config.json": _config(
        {"class_name": "Dense", "module": "os", "config": {}})})),
    "conv.msg.outside": lambda: cv.conv_step(np.ones((5, 5, 1)), np.ones((3, 3, 1)), 0.0, (3, 0)),
    "conv.msg.channels": lambda: cv.conv_step(np.ones((5, 5, 1)), np.ones((3, 3, 2)), 0.0, (0, 0)),
    "conv.msg.input_nan": lambda: cv.conv_step(np.full((5, 5, 1), np.nan), np.ones((3, 3, 1)), 0.0, (0, 0)),
    "train.msg.channels": lambda: training.check_trainable(_Model((32, 32, 2), (4,))),
    "train.msg.size": lambda: training.check_trainable(_Model((4, 32, 1), (4,))),
    "train.msg.classes": lambda: training.check_trainable(_Model((32, 32, 1), (2,))),
    "prob.msg.empty": lambda: pr.table([1, 2], [1, np.nan]),
    "prob.msg.whole": lambda: pr.table([1.5], [1]),
    "prob.msg.span": lambda: pr.table([0, 10**6], [1, 1]),
    "prob.msg.face": lambda: pr.loaded_die(9, 0.5, 6),
    "prob.msg.range": lambda: pr.uniform(5, 2),
}


@pytest.mark.parametrize("case", list(RAISES))
def test_each_message_formats_in_every_language(case, strict):
    with pytest.raises(MessageError) as caught:
        RAISES[case]()
    err = caught.value
    assert err.key == case.split("/")[0]
    assert isinstance(err, ValueError)  # callers that catch ValueError keep working
    english = messages.text(err, "en")
    assert english == str(err)
    korean = messages.text(err, "ko")
    assert korean != english and re.search("[가-힣]", korean)
    # Nested messages (the arithmetic inside an architecture error, course words) are Korean too.
    for value in err.values.values():
        if isinstance(value, Message) and any(c.isalpha() for c in str(value)) and len(str(value).split()) > 1:
            assert value.text("ko") in korean and value.text("ko") != str(value)


def test_architecture_names_the_layer_and_the_arithmetic_in_korean():
    spec = arch.ArchSpec((10, 10, 1), (arch.LayerSpec("Conv2D", 4, (5, 5)), arch.LayerSpec("Conv2D", 4, (9, 9))))
    with pytest.raises(arch.ArchitectureError) as caught:
        arch.summarize(spec)
    err = caught.value
    assert (err.index, err.name) == (2, "conv2d_1")
    assert str(err).startswith("Layer 2 (conv2d_1, Conv2D): along the height, a window of 9 window does not fit "
                               "in 6 input rows")
    korean = messages.text(err, "ko")
    assert korean.startswith("레이어 2 (conv2d_1, Conv2D): 높이 방향으로 크기 9의 윈도우")
    assert "(6 - 9) // 1 + 1 = -2" in korean  # the numbers stay as they are


def test_layer_lab_analysis_keeps_a_translatable_message():
    result = analyse(Settings(input_shape=(3, 60, 1), kernel_size=(7, 3), padding="valid"))
    assert isinstance(result.conv_error, Message) and "height" in result.conv_error
    assert "높이" in messages.text(result.conv_error, "ko")


def test_user_supplied_values_are_escaped_only_when_asked():
    name = "[x](http://e.example)_*b*.py"
    with pytest.raises(modelfiles.ModelFileError) as caught:
        modelfiles.check_bytes(_zip({"config.json": b"{}", name: b""}))
    err = caught.value
    assert name in str(err)  # plain text for logs and notebooks
    for lang in LANGS:
        shown = messages.text(err, lang, escape=plain)
        assert plain(name) in shown and name not in shown


def test_messages_survive_pickling():
    import pickle

    with pytest.raises(arch.ArchitectureError) as caught:
        arch.summarize(arch.ArchSpec((4, 4, 1), (arch.LayerSpec("Conv2D", 2, (5, 5)),)))
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is arch.ArchitectureError and (again.key, again.index) == ("arch.at", 1)
    assert messages.text(again, "ko") == messages.text(caught.value, "ko")
    msg = Message("arith.window", k=3)
    assert pickle.loads(pickle.dumps(msg)).text("ko") == msg.text("ko")


def test_plain_exceptions_fall_back_to_their_text():
    assert messages.text(ValueError("boom"), "ko") == "boom"
    assert messages.text(Verbatim("a_b"), "ko", escape=plain) == "a_b"  # only values inside a message are escaped
