"""One table of model files, each with its expected outcome, through cnnviz.files.modelfiles and the Model page."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from dataclasses import dataclass

import keras
import numpy as np
import pytest

from cnnviz.files import modelfiles
from cnnviz.files.modelfiles import ModelFileError
from tests.reliability.conftest import errors, exceptions, open_app
from tests.ziputil import make_zip as zip_of, members as members_of

MB = 1024 * 1024




def edited(data: bytes, edit, compression=zipfile.ZIP_STORED) -> bytes:
    members = members_of(data)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return zip_of(members, compression)


def lying_sizes(data: bytes, declared: int) -> bytes:
    """The zip with every member's declared uncompressed size replaced by `declared` (a lying header)."""
    b = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        i = b.find(sig)
        while i != -1:
            struct.pack_into("<I", b, i + offset, declared)
            i = b.find(sig, i + 4)
    return bytes(b)


@dataclass(frozen=True)
class ModelCase:
    name: str
    make: object  # honest .keras bytes -> the file
    reason: tuple[str, ...] = ()  # refused: one of these is in the message; () means it must load


def _layers(config):
    return config["config"]["layers"]


def _lambda(config):
    _layers(config).insert(1, {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
                               "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
                                   "code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAdABqAXwAgwFTACkBTikC2gJvc9oGc3lzdGVtKQHaAXipAHIEAAAA+gg8c3RyaW5nPtoIPGxhbWJkYT4BAAAAcwAAAAA=",
                                   "defaults": None, "closure": None}}}})


def _os_function(config):
    _layers(config)[1]["config"]["activation"] = {"module": "os", "class_name": "function", "config": "system",
                                                  "registered_name": "function"}


def _custom_object(config):
    _layers(config)[1]["registered_name"] = "my_package>EvilConv"


def _path_in_layer(config):
    _layers(config)[1]["config"]["kernel_initializer"] = {"module": "keras.initializers", "class_name": "Constant",
                                                          "config": {"value": "/etc/passwd"}, "registered_name": None}


def _huge_config(config):
    _layers(config)[1]["config"]["note"] = "x" * (5 * MB)  # several MB of config.json


def _huge_dense(config):
    _layers(config)[-1]["config"]["units"] = 50_000_000


def _deep(config):
    node = {}
    config["config"]["deep"] = node
    for _ in range(200):
        node["a"] = {}
        node = node["a"]


def _bomb(data: bytes) -> bytes:
    members = members_of(data)
    members["model.weights.h5"] = b"\0" * (300 * MB)  # 300 MB of zeros deflate to ~300 KB
    return zip_of(members, zipfile.ZIP_DEFLATED)


def _ratio_bomb(data: bytes) -> bytes:
    members = members_of(data)
    members["model.weights.h5"] = b"\0" * (20 * MB)  # under the size cap, but expands 1000 times
    return zip_of(members, zipfile.ZIP_DEFLATED)


def _config_bomb(data: bytes) -> bytes:
    """A config.json that claims to be small but inflates to 200 MB: declared sizes lie."""
    members = members_of(data)
    members["config.json"] = b" " * (200 * MB)
    return lying_sizes(zip_of(members, zipfile.ZIP_DEFLATED), 1000)


def _extra_member(data: bytes) -> bytes:
    members = members_of(data)
    members["../../run_me.py"] = b"import os; os.system('echo pwned')"
    return zip_of(members)


def _h5(_data: bytes) -> bytes:
    return b"\x89HDF\r\n\x1a\n" + b"\x00" * 2000


def _savedmodel(_data: bytes) -> bytes:
    return zip_of({"saved_model.pb": b"\x08\x01", "variables/variables.index": b""})


def _no_image_input(_data: bytes) -> bytes:
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    return modelfiles.model_bytes(model)


CASES = [
    ModelCase("honest.keras", lambda d: d),
    ModelCase("empty.keras", lambda d: b"", ("empty",)),
    ModelCase("random.keras", lambda d: np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes(),
              ("not a .keras",)),
    ModelCase("page.keras", lambda d: b"<html><script>alert(1)</script></html>", ("not a .keras",)),
    ModelCase("truncated.keras", lambda d: d[: len(d) // 2], ("damaged",)),
    ModelCase("weights.h5", _h5, ("HDF5",)),
    ModelCase("exported.zip", _savedmodel, ("SavedModel",)),
    ModelCase("lambda.keras", lambda d: edited(d, _lambda), ("arbitrary Python code",)),
    ModelCase("os-function.keras", lambda d: edited(d, _os_function), ("module", "arbitrary Python code")),
    ModelCase("custom.keras", lambda d: edited(d, _custom_object), ("custom object",)),
    ModelCase("path.keras", lambda d: edited(d, _path_in_layer), ("file path",)),
    ModelCase("extra-member.keras", _extra_member, ("run_me.py",)),
    ModelCase("zip-bomb.keras", _bomb, ("zip bomb", "at most")),
    ModelCase("ratio-bomb.keras", _ratio_bomb, ("zip bomb",)),
    ModelCase("lying-bomb.keras", _config_bomb, ("zip bomb", "damaged", "at most")),
    ModelCase("big-config.keras", lambda d: edited(d, _huge_config, zipfile.ZIP_DEFLATED),
              ("config.json is", "zip bomb", "config.json expands")),
    ModelCase("deep.keras", lambda d: edited(d, _deep), ("nested too deeply", "not valid JSON")),
    ModelCase("billion.keras", lambda d: edited(d, _huge_dense), ("parameters",)),
    ModelCase("vector.keras", _no_image_input, ("one image input",)),
]


@pytest.fixture(scope="module")
def honest() -> bytes:
    model = keras.Sequential([
        keras.Input((16, 12, 1)),
        keras.layers.Conv2D(4, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    return modelfiles.model_bytes(model)


@pytest.fixture(scope="module")
def files(honest) -> dict[str, bytes]:
    return {c.name: c.make(honest) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_model_file_directly(case, files):
    data = files[case.name]
    if not case.reason:
        model = modelfiles.load_bytes(data, case.name)
        assert model.count_params() > 0
        return
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_bytes(data, case.name)
    message = str(err.value)
    assert any(r in message for r in case.reason), message
    assert "Traceback" not in message and len(message) < 600


def test_bombs_are_small_files():
    """The bombs really are bombs: small uploads that would expand a hundredfold or more."""
    honest_like = zip_of({"config.json": b"{}"})
    for make in (_bomb, _ratio_bomb, _config_bomb):
        assert len(make(honest_like)) < 2 * MB


@pytest.mark.slow
def test_every_model_file_through_the_model_page(files):
    at = open_app("model")
    assert not at.exception, exceptions(at)
    problems = []
    for case in CASES:
        at.file_uploader(key="cnnviz.model_page.upload").set_value((case.name, files[case.name],
                                                                    "application/octet-stream"))
        at.run()
        if exceptions(at):
            problems.append(f"{case.name}: exception {exceptions(at)[0][:200]}")
            continue
        # names taken from the file are markdown-escaped on the page ("run\\_me.py"): compare the text shown
        refused = [re.sub(r"\\(.)", r"\1", e) for e in errors(at) if e.startswith("This model file was refused")]
        if case.reason:
            if len(refused) != 1 or not any(r in refused[0] for r in case.reason):
                problems.append(f"{case.name}: expected a refusal with {case.reason}, got {errors(at)}")
        else:
            ok = [s.value for s in at.success]
            if refused or not any(case.name in s for s in ok):
                problems.append(f"{case.name}: expected to load, got errors {errors(at)} successes {ok}")
            if at.session_state["cnnviz.model"] != "session":
                problems.append(f"{case.name}: not made this session's model")
    assert not problems, "\n".join(problems)
    # the page still works after all of them: the other pages too, with the uploaded model
    for page in ("model", "activations", "filters"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, exceptions(at))
