"""How `make test` shares the suite between its pytest-xdist workers (`--dist loadgroup`).

Each test module runs whole on one worker, so a module's own server or model starts once. The modules
that load the machine on purpose or watch processes and their timing (many sessions at once, replicas
behind HAProxy, the soak, the `cnnviz` command's signals, the live stream) form one group: they run one
after another on the same worker, never two of them at once, while the other worker runs the rest."""

from __future__ import annotations

import os

import pytest

HEAVY = {
    "tests/reliability/test_concurrency.py",
    "tests/reliability/test_soak.py",
    "tests/reliability/test_load.py",
    "tests/browser/test_replicas.py",
    "tests/browser/test_cli.py",
    "tests/browser/test_live.py",
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def xdist_group(path: str) -> str:
    """The group of the test module at `path` (relative to the repository, with /)."""
    return "heavy" if path in HEAVY else path


def pytest_collection_modifyitems(items):
    for item in items:
        path = os.path.relpath(str(item.fspath), ROOT).replace(os.sep, "/")
        item.add_marker(pytest.mark.xdist_group(xdist_group(path)))
