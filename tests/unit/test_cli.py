"""The `cnnviz` command and the package build, without a server (tests/browser/test_cli.py runs them)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from cnnviz import i18n
from cnnviz.launch import cli

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
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"] and cmd[4] == str(ROOT / "app.py")
    assert cmd[cmd.index("--server.port") + 1] == "8765" and cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_the_model_and_language_reach_the_app_through_the_environment(monkeypatch):
    from cnnviz.ui import models, state

    monkeypatch.setenv(cli.MODEL_ENV, "/old/model.keras")
    env = cli.environment("/m/model.h5", "ko")
    assert (env[models.STARTUP_ENV], env[state.LANG_ENV]) == ("/m/model.h5", "ko")
    assert models.STARTUP_ENV not in cli.environment(None, "en"), "no model: the app's own, not an older one"


def test_a_refused_model_is_said_before_any_server_starts(tmp_path, capsys, monkeypatch):
    started = []
    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: started.append(a))
    bad = tmp_path / "notes.h5"
    bad.write_bytes(b"not a model")
    assert cli.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "notes.h5" in err and "cnnviz: checking" in err
    assert cli.main([str(tmp_path / "missing.keras")]) == 2
    assert "missing.keras" in capsys.readouterr().err
    assert not started


def test_no_model_starts_the_app_and_ctrl_c_stops_it(monkeypatch, capsys):
    class Child:
        def __init__(self, cmd, cwd, env):
            self.cmd, self.cwd, self.env, self.terminated = cmd, cwd, env, False

        def wait(self, timeout=None):
            if not self.terminated:
                raise KeyboardInterrupt
            return 0

        def terminate(self):
            self.terminated = True

    children = []
    monkeypatch.setattr(cli.subprocess, "Popen", lambda cmd, cwd, env: children.append(Child(cmd, cwd, env)) or children[-1])
    assert cli.main(["--port", "8599"]) == 130
    assert children[0].terminated and children[0].cwd == ROOT and cli.MODEL_ENV not in children[0].env
    assert "http://localhost:8599" in capsys.readouterr().err


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
                 "cnnviz/samples/coffee.png", "cnnviz/weights/seed_shapes.keras", "cnnviz/launch/cli.py", "cnnviz/files/modelfiles.py"):
        assert name in names, name
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "cnnviz = cnnviz.launch.cli:run" in entry
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    found = subprocess.run([sys.executable, "-c", "from cnnviz.launch.cli import app_dir; print(app_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)})
    assert found.stdout.strip() == str(target / "cnnviz_app"), found.stderr
