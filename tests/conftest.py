"""How `make test` shares the suite between its pytest-xdist workers (`--dist loadfile`).

Each test module runs whole on one worker, so a module's own server or model starts once. The modules
that load the machine on purpose or watch processes and their timing (many sessions at once, replicas
behind HAProxy, the soak, the `cnnviz` command's signals, the live stream) never run two at once: each
holds one lock file of the run for as long as it runs, and the other worker, reaching one of them, waits
for it. (xdist's `loadgroup` would say this with marks, but with pytest 9 its group never reaches the
test's id, so its scheduler cannot see it.)"""

from __future__ import annotations

import os
import tempfile

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


def relative(path: str) -> str:
    return os.path.relpath(path, ROOT).replace(os.sep, "/")


def heavy_lock(path: str, run: str | None) -> str | None:
    """The lock file the module at `path` holds while it runs, under the xdist run `run`; None when it needs none."""
    if relative(path) not in HEAVY or not run:
        return None
    return os.path.join(tempfile.gettempdir(), f"cnnviz-tests-heavy-{run}.lock")


@pytest.fixture(scope="module", autouse=True)
def _one_heavy_module_at_a_time(request):
    lock = heavy_lock(str(request.path), os.environ.get("PYTEST_XDIST_TESTRUNUID"))
    if lock is None:
        yield
        return
    import fcntl

    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # waits while the other worker runs a heavy module
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
