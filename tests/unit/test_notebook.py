"""cnnviz.show's failure paths without a real server (tests/browser/test_cli.py runs the real one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from cnnviz.launch import cli, notebook


class FakeProcess:
    """A child process that has exited (returncode set), or that runs and ignores terminate()."""

    def __init__(self, returncode=None, stubborn=False):
        self.returncode, self.stubborn, self.killed, self.terminated = returncode, stubborn, False, False

    def poll(self):
        return self.returncode

    def terminate(self):
        self.terminated = True
        if not self.stubborn:
            self.returncode = -15

    def wait(self, timeout=None):
        if self.returncode is None:
            raise subprocess.TimeoutExpired("streamlit", timeout)
        return self.returncode

    def kill(self):
        self.killed, self.returncode = True, -9


def test_stop_kills_a_server_that_ignores_terminate(tmp_path):
    folder = tmp_path / "show"
    folder.mkdir()
    proc = FakeProcess(stubborn=True)
    viewer = notebook.Viewer("http://localhost:1", 1, proc, str(folder))
    viewer.stop()
    assert proc.terminated and proc.killed and not folder.exists() and not viewer.running


def test_a_server_that_exits_says_why(tmp_path):
    log = tmp_path / "server.log"
    log.write_bytes(b"Traceback ... ModuleNotFoundError: no module named streamlit")
    viewer = notebook.Viewer("http://localhost:1", notebook.free_port(), FakeProcess(returncode=1), str(tmp_path))
    with pytest.raises(notebook.ShowError, match="(?s)exited with status 1:.*no module named streamlit"):
        notebook._wait_healthy(viewer, str(log), timeout=5)


def test_a_server_that_never_answers_times_out(tmp_path):
    viewer = notebook.Viewer("http://localhost:1", notebook.free_port(), FakeProcess(), str(tmp_path))
    with pytest.raises(notebook.ShowError, match="did not answer within 1 s"):
        notebook._wait_healthy(viewer, str(tmp_path / "missing.log"), timeout=1)
    assert notebook._log_tail(str(tmp_path / "missing.log")) == ""


def test_show_cleans_up_when_the_server_cannot_start(tmp_path, monkeypatch):
    """Popen failing, or a server that dies before it answers: the private folder is removed, nothing is kept
    as the current viewer, and the error reaches the caller."""
    from tests import corpus

    model_path = tmp_path / "m.keras"
    model_path.write_bytes(corpus.saved("mnist_convnet"))
    folders = []
    real_mkdtemp = notebook.tempfile.mkdtemp
    monkeypatch.setattr(notebook.tempfile, "mkdtemp", lambda **kw: folders.append(real_mkdtemp(**kw)) or folders[-1])

    def refuse(*args, **kwargs):
        raise OSError("no such interpreter")

    monkeypatch.setattr(notebook.subprocess, "Popen", refuse)
    with pytest.raises(OSError, match="no such interpreter"):
        notebook.show(str(model_path))
    monkeypatch.setattr(notebook.subprocess, "Popen", lambda *a, **k: FakeProcess(returncode=3))
    with pytest.raises(notebook.ShowError, match="status 3"):
        notebook.show(str(model_path), timeout=5)
    assert notebook._current is None and folders and not any(os.path.exists(f) for f in folders)


def test_ctrl_c_kills_a_server_that_does_not_stop(monkeypatch):
    """A Ctrl-C (a real SIGINT to this process) while the command waits: a server that ignores SIGTERM is
    killed GRACE_S seconds later."""
    class Stubborn(FakeProcess):
        def wait(self, timeout=None):
            if not self.terminated:
                os.kill(os.getpid(), signal.SIGINT)
            return super().wait(timeout)

    children = []
    monkeypatch.setattr(cli, "GRACE_S", 0.1)
    monkeypatch.setattr(cli.subprocess, "Popen", lambda cmd, cwd, env: children.append(Stubborn(stubborn=True)) or children[-1])
    assert cli.main([]) == 130 and children[0].terminated and children[0].killed


def test_the_app_must_sit_beside_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "cnnviz" / "launch" / "cli.py"))
    with pytest.raises(cli.AppNotFound):
        cli.app_dir()


def test_the_console_script_exits_with_main_s_status(monkeypatch):
    monkeypatch.setattr(cli, "main", lambda: 7)
    with pytest.raises(SystemExit) as done:
        cli.run()
    assert done.value.code == 7


def test_python_dash_m_cnnviz_is_the_command():
    out = subprocess.run([sys.executable, "-m", "cnnviz", "--help"], capture_output=True, text=True, timeout=120,
                         cwd=cli.app_dir())
    assert out.returncode == 0 and "usage: cnnviz" in out.stdout and "--language" in out.stdout


def test_show_takes_a_torch_module_through_onnx(monkeypatch):
    """A torch module is exported to ONNX in the private folder and checked like a file before a server starts;
    without its input shape, or with a wrong one, it is said."""
    torch = pytest.importorskip("torch")
    from cnnviz.files import onnxfiles

    started = []
    monkeypatch.setattr(notebook.subprocess, "Popen", lambda cmd, env, **k: started.append(env[cli.MODEL_ENV]) or FakeProcess(returncode=3))
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 2))
    assert onnxfiles.is_torch_module(net) and not onnxfiles.is_torch_module(object())
    with pytest.raises(notebook.ShowError):
        notebook.show(net, input_shape=(3, 8, 8), timeout=5)
    assert started and started[0].endswith("Sequential.onnx")
    with pytest.raises(ValueError, match="input_shape"):
        notebook.show(net)
    with pytest.raises(ValueError, match="channels, height, width"):
        notebook.show(net, input_shape=(8, 8))
    assert notebook._current is None
