"""The `cnnviz` command (and `python -m cnnviz`): start the app on this machine, optionally with a model file
as the model every page starts with, like `netron model.h5`.

    cnnviz [MODEL] [--port N] [--host H] [--language ko] [--browser]

MODEL is a path: a `.keras` file, a Keras 2 / tf.keras `.h5` / `.hdf5`, a Teachable Machine
`converted_keras.zip` or its unzipped folder, or an ONNX file (`.onnx`, e.g. from torch.onnx.export; its checks
run here, its conversion to Keras and the verification against onnxruntime when the server loads it). A file on the user's own disk has no upload cap, but the same
safety checks as an upload (cnnviz.files.modelfiles.check_path), run here before any server starts, so a refused
file (or one too large for this machine's memory) is said at once, with exit status 2.

This module never imports streamlit or Keras itself: it checks the file and starts `streamlit run app.py`
in a child process, with the model's path in CNNVIZ_MODEL (read by cnnviz.ui.models).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from cnnviz import i18n

MODEL_ENV = "CNNVIZ_MODEL"  # cnnviz.ui.models.STARTUP_ENV
LANGUAGE_ENV = "CNNVIZ_LANGUAGE"  # cnnviz.ui.state.LANG_ENV
DEFAULT_PORT = 8501


class AppNotFound(RuntimeError):
    pass


def app_dir() -> Path:
    """The folder holding app.py, pages/ and .streamlit/: the repository root in a checkout (or an editable
    install), `cnnviz_app` beside the package after `pip install .`."""
    here = Path(__file__).resolve().parents[1]  # the cnnviz package
    for candidate in (here.parent, here.parent / "cnnviz_app"):
        if (candidate / "app.py").is_file() and (candidate / "pages").is_dir():
            return candidate
    raise AppNotFound(f"app.py and pages/ are not next to {here} (a broken install?)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnnviz", description="See a convolutional neural network work, exactly as Keras "
                                "computes it: starts the cnnviz app in your browser.")
    p.add_argument("model", nargs="?", help="a model to open on every page: .keras, .h5/.hdf5, a Teachable "
                   "Machine converted_keras.zip or its folder, or .onnx")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    p.add_argument("--host", default="localhost",
                   help="address to listen on (default localhost: only this machine; 0.0.0.0 for your network)")
    p.add_argument("--language", choices=sorted(i18n.LANGUAGES), default=i18n.DEFAULT,
                   help="the language the app starts in")
    p.add_argument("--browser", action="store_true", help="also open the page in your browser")
    return p


def check_model(path: str) -> str:
    """The model's absolute path once every check short of loading passed; raises cnnviz.files.modelfiles.ModelFileError."""
    from cnnviz.files import modelfiles

    full = os.path.abspath(os.path.expanduser(path))
    modelfiles.check_path(full)
    return full


def command(port: int, host: str, headless: bool = True) -> list[str]:
    """The streamlit command line that serves the app (run in app_dir(), so .streamlit/config.toml applies)."""
    return [sys.executable, "-m", "streamlit", "run", str(app_dir() / "app.py"),
            "--server.port", str(port), "--server.address", host, "--server.headless", str(headless).lower(),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def environment(model: str | None, language: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(MODEL_ENV, None)
    if model:
        env[MODEL_ENV] = model
    env[LANGUAGE_ENV] = language
    return env


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    model = None
    if args.model:
        from cnnviz.files import modelfiles

        print(f"cnnviz: checking {args.model} ...", file=sys.stderr, flush=True)
        try:
            model = check_model(args.model)
        except modelfiles.ModelFileError as err:
            print(f"cnnviz: {args.model}: {err}", file=sys.stderr)
            return 2
    try:
        cmd = command(args.port, args.host, headless=not args.browser)
    except AppNotFound as err:
        print(f"cnnviz: {err}", file=sys.stderr)
        return 2
    shown = "localhost" if args.host in ("0.0.0.0", "::") else args.host
    print(f"cnnviz: serving {'the app' if model is None else os.path.basename(model)} on http://{shown}:{args.port}"
          " (Ctrl-C stops it)", file=sys.stderr, flush=True)
    child = subprocess.Popen(cmd, cwd=app_dir(), env=environment(model, args.language))
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        return 130


def run() -> None:
    """The console script's entry point (`cnnviz`)."""
    sys.exit(main())
