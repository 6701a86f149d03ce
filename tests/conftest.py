"""How `make test` shares the suite between its pytest-xdist workers (`--dist loadfile`).

Each test module runs whole on one worker, so a module's own server or model starts once. The modules
that load the machine on purpose or watch processes and their timing (many sessions at once, replicas
behind HAProxy, the soak, the `cnnviz` command's signals, the live stream) never run two at once: they
form one unit of work, first in the run, which one worker takes while the others start on the rest (our
scheduler below: xdist's `loadgroup` would say this with marks, but with pytest 9 its group never reaches
the test's id). The units go out in our order (`ordered`): xdist's own would put the modules with the most
tests first, which are short unit-test modules. Should another distribution put two of them on two workers, each also holds one lock
file of the run while it runs, so the second waits."""

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


def scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or "heavy" for the heavy modules together."""
    path = nodeid.split("::", 1)[0]
    return "heavy" if path in HEAVY else path


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: `-p no:xdist` still runs the suite
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` with the heavy modules as one unit (xdist's LoadScopeScheduling, our scope), handed
    out in the workers' collection order, which `pytest_collection_modifyitems` made ours."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # xdist's reordering: the units with the most tests first

    class ModulesHeavyTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    return ModulesHeavyTogether(config, log)


ORDER = ("heavy", "tests/browser/", "tests/app/", "tests/reliability/", "tests/unit/")  # longest units of work first


def rank(unit: str) -> int:
    """Where a unit of work goes in the run: the heavy unit, then browser modules (tens of seconds each), AppTest
    modules, reliability modules, then the many short unit-test modules last, which even out the workers' ends."""
    return next((i for i, prefix in enumerate(ORDER) if unit.startswith(prefix)), len(ORDER))


def unit_order(nodeids: list[str]):
    """The run's order as a sort key on a test's id: units of work by `rank`, then those with more tests first
    within a rank (xdist's own rule), each unit's tests together and in their order (the sort is stable)."""
    sizes: dict[str, int] = {}
    for nodeid in nodeids:
        sizes[scope(nodeid)] = sizes.get(scope(nodeid), 0) + 1
    first = {unit: i for i, unit in enumerate(sizes)}
    return lambda nodeid: (rank(scope(nodeid)), -sizes[scope(nodeid)], first[scope(nodeid)])


def ordered(nodeids: list[str]) -> list[str]:
    return sorted(nodeids, key=unit_order(nodeids))


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` have deselected: the sizes are of the tests that run
def pytest_collection_modifyitems(items):
    """Under xdist, the longest units of work first: a long one started last would run alone at the end."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        key = unit_order([item.nodeid for item in items])
        items.sort(key=lambda item: key(item.nodeid))


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
