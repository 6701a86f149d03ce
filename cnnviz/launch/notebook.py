"""`cnnviz.show(model)` in a Jupyter notebook: the app for that model, served in the background of the kernel,
shown inline as an <iframe>.

    import cnnviz
    viewer = cnnviz.show(model)      # a keras.Model, or a path (.keras, .h5, .onnx, Teachable Machine zip or folder)
    viewer = cnnviz.show(torch_module, input_shape=(3, 224, 224))  # exported to ONNX, converted, verified
    viewer                            # the app, inline (its _repr_html_)
    viewer.url                        # open it in a tab instead
    viewer.stop()                     # ends the server, frees the port

An in-memory model (a torch module: exported to ONNX there) is saved to a private temporary folder first (mode 0700, removed by stop()). Calling show()
again replaces the model: the previous server is stopped, never leaked. The server is the same app as
`cnnviz MODEL` (cnnviz.launch.cli), started as a child process with the model as the one every page starts with.
"""

from __future__ import annotations

import atexit
import html
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

from cnnviz.launch import cli

START_TIMEOUT = 180.0  # seconds for the server to answer its health check (TensorFlow's import included)


class ShowError(RuntimeError):
    """The app could not be started for this model; the message says why."""


@dataclass
class Viewer:
    """A running app for one model: `.url`, inline display in a notebook, `.stop()`."""

    url: str
    port: int
    process: subprocess.Popen = field(repr=False)
    folder: str = field(repr=False)  # the private temporary folder: the saved model (if any) and the server's log
    height: int = 800

    def _repr_html_(self) -> str:
        return (f'<iframe src="{html.escape(self.url, quote=True)}" width="100%" height="{int(self.height)}" '
                'style="border: 1px solid #ddd; border-radius: 4px;"></iframe>')

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """End the server (its port is free afterwards) and remove the temporary folder. Safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        shutil.rmtree(self.folder, ignore_errors=True)


_current: Viewer | None = None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _save(model, folder: str) -> str:
    """An in-memory Keras model saved as .keras in the private folder; its path."""
    path = os.path.join(folder, f"{getattr(model, 'name', None) or 'model'}.keras".replace(os.sep, "_"))
    model.save(path)
    return path


def _log_tail(path: str, n: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def _wait_healthy(viewer: Viewer, log: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    health = f"http://127.0.0.1:{viewer.port}/_stcore/health"
    while time.monotonic() < deadline:
        if viewer.process.poll() is not None:
            raise ShowError(f"the cnnviz server exited with status {viewer.process.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise ShowError(f"the cnnviz server did not answer within {timeout:.0f} s:\n{_log_tail(log)}")


def show(model_or_path, port: int | None = None, height: int = 800, language: str = "en",
         timeout: float = START_TIMEOUT, input_shape=None) -> Viewer:
    """Start the app for a keras.Model, a torch.nn.Module (with its `input_shape` (C, H, W)) or a model path in
    the background; returns its Viewer. A previous show()'s server is stopped first. Raises cnnviz.files.modelfiles.ModelFileError for a refused file (checked
    before any server starts) and ShowError when the server does not come up."""
    global _current
    if _current is not None:
        _current.stop()
        _current = None
    folder = tempfile.mkdtemp(prefix="cnnviz-show-")  # 0700: only this user reads the saved model
    try:
        from cnnviz.files import onnxfiles

        if isinstance(model_or_path, (str, os.PathLike)):
            path = cli.check_model(os.fspath(model_or_path))
        elif onnxfiles.is_torch_module(model_or_path):
            if input_shape is None:
                raise ValueError("A torch module needs its input_shape, e.g. cnnviz.show(model, input_shape=(3, 224, 224)).")
            name = type(model_or_path).__name__.replace(os.sep, "_")
            path = cli.check_model(onnxfiles.save_torch(model_or_path, input_shape, os.path.join(folder, f"{name}.onnx")))
        else:
            path = cli.check_model(_save(model_or_path, folder))
        port = port or free_port()
        log = os.path.join(folder, "server.log")
        with open(log, "wb") as out:
            process = subprocess.Popen(cli.command(port, "localhost"), cwd=cli.app_dir(), stdin=subprocess.DEVNULL,
                                       stdout=out, stderr=subprocess.STDOUT, env=cli.environment(path, language))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    viewer = Viewer(f"http://localhost:{port}", port, process, folder, height)
    try:
        _wait_healthy(viewer, log, timeout)
    except BaseException:
        viewer.stop()
        raise
    _current = viewer
    return viewer


@atexit.register
def _stop_at_exit() -> None:
    if _current is not None:
        _current.stop()
