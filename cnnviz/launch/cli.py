"""The `cnnviz` command (and `python -m cnnviz`): start the app on this machine, optionally with a model file
as the model every page starts with, like `netron model.h5`.

    cnnviz [MODEL] [--port N] [--host H] [--language ko] [--browser]

MODEL is a path: a `.keras` file, a Keras 2 / tf.keras `.h5` / `.hdf5`, a Teachable Machine
`converted_keras.zip` or its unzipped folder, or an ONNX file (`.onnx`, e.g. from torch.onnx.export). A file on
the user's own disk has no upload cap, but the same safety checks as an upload (cnnviz.files.modelfiles.check_path;
for an ONNX file also its conversion to Keras and the verification against onnxruntime), run before any server
starts, so a refused file (or one too large for this machine's memory, or an ONNX graph that does not convert or
whose Keras model differs from onnxruntime's, the node named) is said at once, with exit status 2.

This process stays small: it never imports streamlit or Keras. The check runs in a short-lived child process
(it needs Keras), then the server, `streamlit run app.py`, in another (cnnviz.launch.server), with the model's
path in CNNVIZ_MODEL (read by cnnviz.ui.models). SIGINT (Ctrl-C), SIGTERM (`kill`, `systemctl stop`,
`docker stop`) and SIGHUP (a closed terminal; unless it was ignored at start, as `nohup` does) end the server
too: SIGTERM to it, SIGKILL GRACE_S seconds later if it is still there; the exit status is then 128 + the
signal's number (130 for Ctrl-C). If this process is killed outright, the server notices and ends itself.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

from cnnviz import i18n
from cnnviz.launch import server

MODEL_ENV = "CNNVIZ_MODEL"  # cnnviz.ui.models.STARTUP_ENV
LANGUAGE_ENV = "CNNVIZ_LANGUAGE"  # cnnviz.ui.state.LANG_ENV
DEFAULT_PORT = 8501
GRACE_S = 8.0  # from the SIGTERM sent to a child to its SIGKILL: within the 10 s a supervisor waits
POLL_S = 0.2  # how often a wait for a child looks for a signal received meanwhile
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # those the platform has are handled


class AppNotFound(RuntimeError):
    pass


class CheckFailed(RuntimeError):
    """The checking process ended without an answer (a crash, or killed): not a refusal of the file."""


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


def full_path(path: str) -> str:
    return os.path.abspath(os.path.expanduser(path))


def check_model(path: str) -> str:
    """The model's absolute path once every check short of loading passed (an ONNX file: converted and verified
    too), checked in this process (which imports Keras: cnnviz.show's kernel has it; the command uses
    check_isolated); raises
    cnnviz.files.modelfiles.ModelFileError."""
    full = full_path(path)
    err = refusal(full)
    if err is not None:
        raise err
    return full


CHECK_CODE = "from cnnviz.launch.cli import check_child; check_child()"


def check_isolated(full: str, stopped: list[int] | None = None) -> None:
    """refusal(full) in a child process, its refusal (a ModelFileError) raised here; CheckFailed
    when the child ends without an answer. A signal recorded in `stopped` meanwhile kills the child and returns."""
    child = subprocess.Popen([sys.executable, "-c", CHECK_CODE, full], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    answer = b""
    while True:
        if stopped:
            child.kill()
            child.communicate()
            return
        try:
            answer = child.communicate(timeout=POLL_S)[0]
            break
        except subprocess.TimeoutExpired:
            pass
    if child.returncode != 0 or not answer:
        raise CheckFailed(f"the check of {os.path.basename(full)} ended with status {child.returncode} (its "
                          "error is above)")
    refusal = pickle.loads(answer)  # from our own child process, not from the file
    if refusal is not None:
        raise refusal


def refusal(full: str):
    """None when modelfiles.check_path(full) passes (and, for an ONNX file, its conversion to Keras and the
    verification against onnxruntime: a refusal that names the node), else its ModelFileError."""
    from cnnviz.files import modelfiles

    try:
        checked = modelfiles.check_path(full)
        if checked.kind == "onnx":
            from cnnviz.files import onnxfiles

            onnxfiles.load(checked.onnx)  # the server converts it again: this copy only proves it converts
    except modelfiles.ModelFileError as err:
        return err
    return None


def check_child() -> None:
    """The checking process's body: `python -c CHECK_CODE PATH`. Its stdout carries only the answer, pickled
    (refusal()'s); what Keras prints goes to stderr. A Ctrl-C is the parent's to act on (it kills this one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    pickle.dump(refusal(sys.argv[1]), answer)
    answer.close()


def command(port: int, host: str, headless: bool = True, pdeathsig: bool = False) -> list[str]:
    """The command line that serves the app: `streamlit run app.py` in cnnviz.launch.server, which ends with
    this process (run it in app_dir(), so .streamlit/config.toml applies)."""
    return server.command(["streamlit", "run", str(app_dir() / "app.py"),
                           "--server.port", str(port), "--server.address", host, "--server.headless",
                           str(headless).lower(), "--browser.gatherUsageStats", "false",
                           "--server.fileWatcherType", "none"], pdeathsig)


def environment(model: str | None, language: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(MODEL_ENV, None)
    if model:
        env[MODEL_ENV] = model
    env[LANGUAGE_ENV] = language
    return env


def on_stop_signals(stopped: list[int]) -> dict:
    """SIGINT, SIGTERM and SIGHUP append their number to `stopped` (the waits below look at it); a SIGHUP
    ignored at start (`nohup cnnviz ...`) stays ignored. SIGINT is handled even when it was ignored at start
    (a background job): `kill -INT` stops the command wherever it was started from. Returns the handlers
    replaced, for signal.signal to put back."""
    def record(signum, frame):
        stopped.append(signum)

    previous = {}
    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None or (name == "SIGHUP" and signal.getsignal(sig) == signal.SIG_IGN):
            continue
        previous[sig] = signal.signal(sig, record)
    return previous


def supervise(child: subprocess.Popen, stopped: list[int], grace: float | None = None) -> int:
    """Wait for the server child; a signal recorded in `stopped` meanwhile ends it (SIGTERM, then SIGKILL
    after `grace` seconds). The child's exit status, or 128 + the signal's number."""
    while not stopped:
        try:
            return child.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            pass
    child.terminate()
    try:
        child.wait(timeout=GRACE_S if grace is None else grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return 128 + stopped[0]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    stopped: list[int] = []
    previous = on_stop_signals(stopped)
    try:
        return serve(args, stopped)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(args: argparse.Namespace, stopped: list[int]) -> int:
    model = None
    if args.model:
        from cnnviz.files import modelfiles

        print(f"cnnviz: checking {args.model} ...", file=sys.stderr, flush=True)
        model = full_path(args.model)
        try:
            check_isolated(model, stopped)
        except (modelfiles.ModelFileError, CheckFailed) as err:
            print(f"cnnviz: {args.model}: {err}", file=sys.stderr)
            return 2
        if stopped:
            return 128 + stopped[0]
    try:
        cmd = command(args.port, args.host, headless=not args.browser, pdeathsig=True)
    except AppNotFound as err:
        print(f"cnnviz: {err}", file=sys.stderr)
        return 2
    shown = "localhost" if args.host in ("0.0.0.0", "::") else args.host
    print(f"cnnviz: serving {'the app' if model is None else os.path.basename(model)} on http://{shown}:{args.port}"
          " (Ctrl-C stops it)", file=sys.stderr, flush=True)
    child = subprocess.Popen(cmd, cwd=app_dir(), env=environment(model, args.language))
    return supervise(child, stopped)


def run() -> None:
    """The console script's entry point (`cnnviz`)."""
    sys.exit(main())
