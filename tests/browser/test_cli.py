"""`cnnviz MODEL` and `cnnviz.show(model)` for real: a server started as a user starts it, a page in Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import keras
import pytest

import cnnviz
from cnnviz.launch import notebook
from tests import corpus
from tests.browser.conftest import ARTIFACTS, ROOT, free_port, screenshot, wait_for_run

pytestmark = pytest.mark.browser


def _healthy(port: int, proc=None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"no server on port {port} after {timeout} s")


def _port_is_free(port: int) -> bool:
    """A new server could listen there (SO_REUSEADDR, as servers bind: the browser's closed connections
    may still sit in TIME_WAIT)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _layers_on_activations(browser, url: str, names, sidebar_text: str, shot: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{url}/activations")
        page.wait_for_selector("[data-testid='stApp']")
        wait_for_run(page, timeout=180_000)
        main = page.locator("[data-testid='stMain']")
        main.get_by_text(names[-1]).first.wait_for()
        text = main.inner_text()
        for name in names:
            assert name in text, name
        assert sidebar_text in page.locator("[data-testid='stSidebar']").inner_text()
        assert page.locator("[data-testid='stException']").count() == 0
        screenshot(page, shot)
    finally:
        context.close()


def test_cnnviz_command_opens_a_keras2_h5_on_every_page(browser, tmp_path):
    """`python -m cnnviz model.h5 --port P --language ko`: the tf.keras file is the model every page starts
    with (in Korean); Ctrl-C stops the server and frees the port."""
    model, data = corpus.legacy("functional")
    path = tmp_path / "legacy_functional.h5"
    path.write_bytes(data)
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "cli.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cnnviz", str(path), "--port", str(port), "--language", "ko"],
                                cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,  # run from elsewhere, as installed
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _healthy(port, proc)
        names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        _layers_on_activations(browser, f"http://localhost:{port}", names[:3], "이 서버를 시작할 때 지정한 모델", "cli-activations")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 130
    deadline = time.monotonic() + 15
    while not _port_is_free(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _port_is_free(port), "the server is gone with the command"
    assert "serving legacy_functional.h5" in (ARTIFACTS / "cli.log").read_text()


def test_cnnviz_command_opens_a_resnet18_onnx_on_activations(browser, tmp_path):
    """`python -m cnnviz resnet18.onnx`: torchvision's ResNet-18 (seeded random weights) exported with torch,
    converted and verified when the server loads it, shows its layers under their ONNX node names, fed torch's
    ImageNet range as an assumption the sidebar says."""
    torch = pytest.importorskip("torch")  # noqa: F841 - the export needs it
    from tests import onnxmodels

    path = tmp_path / "resnet18.onnx"
    path.write_bytes(onnxmodels.resnet18_onnx())
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "cli-onnx.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cnnviz", str(path), "--port", str(port)], cwd=tmp_path,
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _healthy(port, proc)
        _layers_on_activations(browser, f"http://localhost:{port}", ["conv1_Conv", "maxpool_MaxPool",
                               "layer1_layer1.0_conv1_Conv", "layer1_layer1.0_relu_Relu"],
                               "torchvision's ImageNet models are fed", "cli-onnx-activations")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def _model(name: str, conv: str) -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name=conv)(inputs)
    x = keras.layers.GlobalAveragePooling2D(name=f"{conv}_pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name=f"{conv}_out")(x), name=name)


def test_show_serves_an_in_memory_model_and_replaces_it(browser):
    """cnnviz.show(model) from a plain Python process: its URL serves the model's layers on Activations; a
    second show() stops the first server; stop() frees the port and removes the saved model."""
    first = cnnviz.show(_model("first_model", "alpha_conv"))
    try:
        assert first.running and f'src="{first.url}"' in first._repr_html_()
        assert os.stat(first.folder).st_mode & 0o077 == 0, "the saved model is private"
        _layers_on_activations(browser, first.url, ["alpha_conv", "alpha_conv_pool", "alpha_conv_out"],
                               "first_model.keras", "show-activations")
        second = cnnviz.show(_model("second_model", "beta_conv"))
    except BaseException:
        first.stop()
        raise
    try:
        assert not first.running and not os.path.exists(first.folder), "show() again stops the previous server"
        _layers_on_activations(browser, second.url, ["beta_conv", "beta_conv_out"], "second_model.keras", "show-replaced")
    finally:
        second.stop()
    assert not second.running and _port_is_free(second.port) and not os.path.exists(second.folder)
    second.stop()  # twice is harmless


def test_show_refuses_a_bad_file_before_starting_anything(tmp_path):
    from cnnviz.files import modelfiles

    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(modelfiles.ModelFileError):
        cnnviz.show(str(bad))
    assert notebook._current is None
