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
from tests import corpus, processes
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


@pytest.fixture
def groups():
    """The commands a test starts, each in a process group of its own with SIGINT at its default; whatever is
    left of them is killed at the end, even when the test failed."""
    started = processes.Groups()
    yield started
    started.kill_all()


def _command(groups, args, cwd, log) -> tuple[subprocess.Popen, int, int]:
    """`python -m cnnviz ARGS --port P` run from elsewhere, as installed; (process, its server's pid, P)."""
    port = free_port()
    proc = groups.start([sys.executable, "-m", "cnnviz", *args, "--port", str(port)], cwd=cwd, stdout=log,
                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    _healthy(port, proc)
    (server,) = processes.children(proc.pid)
    return proc, server, port


def _ended(server: int, port: int) -> float:
    """Seconds until the server process is gone and its port free (at most 30)."""
    started = time.monotonic()
    assert processes.until(lambda: processes.gone(server) and _port_is_free(port), 30), "the server is still there"
    return time.monotonic() - started


@processes.needs_proc
def test_cnnviz_command_opens_a_keras2_h5_on_every_page(browser, groups, tmp_path):
    """`python -m cnnviz model.h5 --port P --language ko`: the tf.keras file is the model every page starts
    with (in Korean); Ctrl-C (SIGINT to the command's process group, as a terminal sends it) stops the server
    within 10 s and frees the port."""
    model, data = corpus.legacy("functional")
    path = tmp_path / "legacy_functional.h5"
    path.write_bytes(data)
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "cli.log", "wb") as log:
        proc, server, port = _command(groups, [str(path), "--language", "ko"], tmp_path, log)
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    _layers_on_activations(browser, f"http://localhost:{port}", names[:3], "이 서버를 시작할 때 지정한 모델", "cli-activations")
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert _ended(server, port) < 10
    assert "serving legacy_functional.h5" in (ARTIFACTS / "cli.log").read_text()


@processes.needs_proc
def test_cnnviz_command_opens_a_resnet18_onnx_on_activations(browser, groups, tmp_path):
    """`python -m cnnviz resnet18.onnx`: torchvision's ResNet-18 (seeded random weights) exported with torch,
    converted and verified when the server loads it, shows its layers under their ONNX node names, fed torch's
    ImageNet range as an assumption the sidebar says."""
    torch = pytest.importorskip("torch")  # noqa: F841 - the export needs it
    from tests import onnxmodels

    path = tmp_path / "resnet18.onnx"
    path.write_bytes(onnxmodels.resnet18_onnx())
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "cli-onnx.log", "wb") as log:
        proc, server, port = _command(groups, [str(path)], tmp_path, log)
    _layers_on_activations(browser, f"http://localhost:{port}", ["conv1_Conv", "maxpool_MaxPool",
                           "layer1_layer1.0_conv1_Conv", "layer1_layer1.0_relu_Relu"],
                           "torchvision's ImageNet models are fed", "cli-onnx-activations")
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert _ended(server, port) < 10


@processes.needs_proc
def test_a_killed_cnnviz_command_leaves_no_server(browser, groups, tmp_path):
    """SIGKILL of the command, once its server has drawn a page (Keras loaded): the server notices and ends
    within 10 s; the port is free."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "cli-killed.log", "wb") as log:
        proc, server, port = _command(groups, [], tmp_path, log)
    page = browser.new_page()
    try:
        page.goto(f"http://localhost:{port}")
        page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
        wait_for_run(page, timeout=120_000)
    finally:
        page.close()
    proc.kill()
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert _ended(server, port) < 10


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
