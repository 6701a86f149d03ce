"""The `cnnviz` command and the package build, without a server (tests/browser/test_cli.py runs them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from cnnviz import i18n
from cnnviz.launch import cli, server
from cnnviz.launch.notebook import free_port
from tests import processes

ROOT = Path(__file__).resolve().parents[2]


def test_arguments_and_defaults():
    args = cli.parser().parse_args(["model.h5", "--port", "9000", "--language", "ko"])
    assert (args.model, args.port, args.host, args.language, args.browser) == ("model.h5", 9000, "localhost", "ko", False)
    args = cli.parser().parse_args([])
    assert (args.model, args.port, args.language) == (None, cli.DEFAULT_PORT, i18n.DEFAULT)
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["--language", "fr"])


def test_app_is_found_in_a_checkout_and_served_from_there():
    assert cli.app_dir() == ROOT
    cmd = cli.command(8765, "0.0.0.0")
    assert cmd[:4] == [sys.executable, "-m", "cnnviz.launch.server", str(os.getpid())], "a server that ends with us"
    assert cmd[4:6] == ["streamlit", "run"] and cmd[6] == str(ROOT / "app.py")
    assert cli.command(8765, "0.0.0.0", pdeathsig=True)[4:7] == ["--pdeathsig", "streamlit", "run"]
    assert cmd[cmd.index("--server.port") + 1] == "8765" and cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_the_model_and_language_reach_the_app_through_the_environment(monkeypatch):
    from cnnviz.ui import models, state

    monkeypatch.setenv(cli.MODEL_ENV, "/old/model.keras")
    env = cli.environment("/m/model.h5", "ko")
    assert (env[models.STARTUP_ENV], env[state.LANG_ENV]) == ("/m/model.h5", "ko")
    assert models.STARTUP_ENV not in cli.environment(None, "en"), "no model: the app's own, not an older one"


def test_a_refused_model_is_said_before_any_server_starts(tmp_path, capsys, monkeypatch):
    """The check runs in a child process (this one never imports Keras for it); its refusal is said here."""
    started, real_popen = [], subprocess.Popen

    def popen(cmd, *args, **kwargs):
        if "cnnviz.launch.server" in cmd:
            started.append(cmd)
            raise AssertionError("a server was started")
        assert cmd[1:3] == ["-c", cli.CHECK_CODE]
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    bad = tmp_path / "notes.h5"
    bad.write_bytes(b"not a model")
    assert cli.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "notes.h5" in err and "cnnviz: checking" in err
    assert f"cnnviz: {bad}: {cli.refusal(str(bad))}\n" in err, "the same refusal as a check in this process"
    assert cli.main([str(tmp_path / "missing.keras")]) == 2
    assert "missing.keras" in capsys.readouterr().err
    assert not started


class Child:
    """A server child that runs until it is terminated; `stubborn` ignores terminate()."""

    def __init__(self, cmd, cwd=None, env=None, stubborn=False, on_wait=None):
        self.cmd, self.cwd, self.env, self.stubborn, self.on_wait = cmd, cwd, env, stubborn, on_wait
        self.terminated = self.killed = False
        self.returncode = None

    def wait(self, timeout=None):
        if self.on_wait:
            self.on_wait()
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.cmd, timeout)
        return self.returncode

    def terminate(self):
        self.terminated = True
        if not self.stubborn:
            self.returncode = -signal.SIGTERM

    def kill(self):
        self.killed, self.returncode = True, -signal.SIGKILL


@pytest.mark.parametrize("name", cli.STOP_SIGNALS)
def test_no_model_starts_the_app_and_a_stop_signal_ends_it(monkeypatch, capsys, name):
    """The signal (delivered for real, to this process, while the command waits for its server) terminates
    the server; the exit status is 128 + its number; the handlers are put back afterwards."""
    sig = getattr(signal, name)
    before = signal.getsignal(sig)
    children = []

    def popen(cmd, cwd, env):
        children.append(Child(cmd, cwd, env, on_wait=lambda: os.kill(os.getpid(), sig)))
        return children[-1]

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    assert cli.main(["--port", "8599"]) == 128 + sig
    child = children[0]
    assert child.terminated and not child.killed and child.cwd == ROOT and cli.MODEL_ENV not in child.env
    assert child.cmd[4] == "--pdeathsig", "the command's server dies with it"
    assert "http://localhost:8599" in capsys.readouterr().err
    assert signal.getsignal(sig) == before


def test_a_server_that_ends_by_itself_gives_its_status_and_one_that_ignores_sigterm_is_killed():
    ended = Child(["x"])
    ended.returncode = 3
    assert cli.supervise(ended, []) == 3 and not ended.terminated
    stubborn = Child(["x"], stubborn=True)
    assert cli.supervise(stubborn, [signal.SIGTERM], grace=0.1) == 128 + signal.SIGTERM
    assert stubborn.terminated and stubborn.killed


def test_a_sighup_ignored_at_start_stays_ignored():
    """`nohup cnnviz ...`: closing the terminal does not stop the server."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        previous = cli.on_stop_signals([])
        assert signal.SIGHUP not in previous and signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert {signal.SIGINT, signal.SIGTERM} <= set(previous)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    finally:
        signal.signal(signal.SIGHUP, before)


def test_the_isolated_check_passes_a_good_model_and_says_a_crash(tmp_path, monkeypatch, capsys):
    """A good model's answer is None (the real checking process's is in tests/browser/test_cli.py: it loads
    Keras); a checking process that ends without an answer is said, with exit status 2."""
    good = str(ROOT / "cnnviz" / "weights" / "seed_shapes.keras")
    assert cli.refusal(good) is None and cli.refusal(str(tmp_path / "none.keras")).key == "files.missing"
    monkeypatch.setattr(cli, "CHECK_CODE", "import pickle, sys; sys.stdout.buffer.write(pickle.dumps(None))")
    cli.check_isolated(good)  # no refusal
    monkeypatch.setattr(cli, "CHECK_CODE", "import sys; sys.exit(3)")
    assert cli.main([good]) == 2
    assert "seed_shapes.keras: the check of seed_shapes.keras ended with status 3" in capsys.readouterr().err


def test_a_stop_signal_during_the_check_kills_the_checking_process(monkeypatch):
    children, real_popen = [], subprocess.Popen
    monkeypatch.setattr(cli, "CHECK_CODE", "import time; time.sleep(60)")
    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: children.append(real_popen(*a, **k)) or children[-1])
    started = time.monotonic()
    cli.check_isolated("/no/such/model.keras", [signal.SIGTERM])
    assert children[0].returncode == -signal.SIGKILL and time.monotonic() - started < 30
    monkeypatch.setattr(cli, "check_isolated", lambda full, stopped: stopped.append(signal.SIGINT))
    assert cli.main(["model.keras"]) == 130 and len(children) == 1, "no server after a Ctrl-C during the check"


def test_a_broken_install_is_said(monkeypatch, capsys):
    def missing():
        raise cli.AppNotFound("app.py and pages/ are not next to x")

    monkeypatch.setattr(cli, "app_dir", missing)
    assert cli.main([]) == 2
    assert "app.py and pages/" in capsys.readouterr().err


def test_pyproject_names_every_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(ROOT)).replace(os.sep, ".") for p in (ROOT / "cnnviz").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml's packages: {sorted(found - listed)}"


@pytest.mark.slow
def test_the_wheel_carries_the_app_and_its_data(tmp_path):
    """`pip install .` from the wheel: the command finds app.py, pages/ and the config beside the package."""
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("cnnviz-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("cnnviz_app/app.py", "cnnviz_app/pages/activations.py", "cnnviz_app/.streamlit/config.toml",
                 "cnnviz/samples/coffee.png", "cnnviz/weights/seed_shapes.keras", "cnnviz/launch/cli.py", "cnnviz/launch/server.py",
                 "cnnviz/files/modelfiles.py"):
        assert name in names, name
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "cnnviz = cnnviz.launch.cli:run" in entry
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    found = subprocess.run([sys.executable, "-c", "from cnnviz.launch.cli import app_dir; print(app_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)})
    assert found.stdout.strip() == str(target / "cnnviz_app"), found.stderr


# ---------------------------------------------------------------- the server process (cnnviz.launch.server)


def test_the_server_command_line():
    cmd = server.command(["http.server", "8000"], pdeathsig=True)
    assert cmd == [sys.executable, "-m", "cnnviz.launch.server", str(os.getpid()), "--pdeathsig", "http.server", "8000"]
    assert server.parse(cmd[3:]) == (os.getpid(), True, ["http.server", "8000"])
    assert server.parse(["12", "streamlit", "run"]) == (12, False, ["streamlit", "run"])
    for bad in ([], ["12"], ["x", "streamlit"], ["12", "--pdeathsig"]):
        with pytest.raises(SystemExit):
            server.parse(bad)


def test_die_with_parent_is_asked_of_linux_only(monkeypatch):
    if sys.platform.startswith("linux"):
        assert server.die_with_parent(0), "prctl answered (0: no signal, this test process is left as it was)"
    monkeypatch.setattr(server.ctypes, "CDLL", lambda *a, **k: (_ for _ in ()).throw(OSError("no libc")))
    assert not server.die_with_parent(0)
    monkeypatch.setattr(server.sys, "platform", "darwin")
    assert not server.die_with_parent(0)


def test_the_watchdog_stops_the_server_once_the_parent_is_gone(monkeypatch):
    """It looks until the parent is gone (this process re-parented), then SIGTERM, and os._exit after the grace."""
    parents = iter([41, 41, 1])
    monkeypatch.setattr(server.os, "getppid", lambda: next(parents))
    calls = []
    server.watch(41, interval=0.5, grace=8, kill=lambda pid, sig: calls.append(("kill", pid, sig)),
                 exit=lambda status: calls.append(("exit", status)), sleep=lambda s: calls.append(("sleep", s)))
    assert calls == [("sleep", 0.5), ("sleep", 0.5), ("kill", os.getpid(), signal.SIGTERM), ("sleep", 8),
                     ("exit", 128 + signal.SIGTERM)]


# ---------------------------------------------------------------- the command's process, for real, with a stand-in server

STAND_IN = """import sys
from cnnviz.launch import cli, server
cli.command = lambda port, host, headless=True, pdeathsig=False: server.command(
    ["http.server", str(port), "--bind", "127.0.0.1"], pdeathsig and {pdeathsig})
sys.exit(cli.main(["--port", "{port}"]))
"""


@pytest.fixture
def command_process(tmp_path):
    """Starts `cnnviz --port P` (its server a stand-in: http.server) in a process group of its own, SIGINT at
    its default (or ignored, as a background job has it); kills whatever is left of the group at the end,
    even when the test failed."""
    groups = processes.Groups()

    def start(pdeathsig: bool = True, sigint=signal.SIG_DFL):
        port = free_port()
        code = STAND_IN.replace("{pdeathsig}", str(pdeathsig)).replace("{port}", str(port))
        proc = groups.start([sys.executable, "-c", code], sigint=sigint, cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert processes.until(lambda: processes.answers(port) or proc.poll() is not None, 60) and proc.poll() is None, \
            f"the stand-in server did not answer on {port} (exit status {proc.returncode})"
        (child,) = processes.children(proc.pid)
        return proc, child, port

    yield start
    groups.kill_all()


@processes.needs_proc
@pytest.mark.parametrize("name, sigint", [("SIGINT", signal.SIG_DFL), ("SIGINT", signal.SIG_IGN),
                                          ("SIGTERM", signal.SIG_DFL), ("SIGHUP", signal.SIG_DFL)],
                         ids=["SIGINT", "SIGINT-ignored-at-start", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_the_command_and_its_server(command_process, name, sigint):
    """`kill -INT/-TERM/-HUP PID` of the command: within 10 s it has ended, its server too, and the port is free."""
    proc, child, port = command_process(sigint=sigint)
    sig = getattr(signal, name)
    started = time.monotonic()
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 128 + sig
    assert processes.until(lambda: processes.gone(child) and not processes.answers(port), 30)
    assert time.monotonic() - started < 10 + 5, "a generous 5 s over the goal for a busy machine"


@processes.needs_proc
@pytest.mark.parametrize("pdeathsig", [True, False], ids=["pdeathsig", "watchdog-only"])
def test_a_killed_command_leaves_no_server(command_process, pdeathsig):
    """SIGKILL of the command: its server notices (Linux's parent-death signal at once, or the watchdog
    within a second, as for cnnviz.show's server) and ends; the port is free."""
    proc, child, port = command_process(pdeathsig=pdeathsig)
    proc.kill()
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert processes.until(lambda: processes.gone(child) and not processes.answers(port), 30), \
        "the server outlived its parent"
