"""The test suite's own arrangement for `make test`'s workers (tests/conftest.py)."""

import os
import threading
import time

from tests import conftest


def test_every_heavy_module_exists():
    """A renamed module would silently lose its lock and run beside another heavy one."""
    missing = [p for p in conftest.HEAVY if not os.path.exists(os.path.join(conftest.ROOT, p))]
    assert not missing


def test_heavy_modules_share_one_lock_per_run_and_the_others_none():
    root = conftest.ROOT
    locks = {conftest.heavy_lock(os.path.join(root, p), "run1") for p in conftest.HEAVY}
    assert len(locks) == 1 and None not in locks
    assert conftest.heavy_lock(os.path.join(root, "tests/unit/test_arithmetic.py"), "run1") is None
    assert conftest.heavy_lock(os.path.join(root, "tests/browser/test_cli.py"), None) is None  # not under xdist
    assert conftest.heavy_lock(os.path.join(root, "tests/browser/test_cli.py"), "run2") not in locks


def test_the_lock_makes_a_second_holder_wait(tmp_path):
    """Two holders of the same lock file (as two workers): the second gets it only after the first lets go."""
    import fcntl

    path = tmp_path / "heavy.lock"
    order = []

    def hold(name, seconds):
        with open(path, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            order.append(f"{name} in")
            time.sleep(seconds)
            order.append(f"{name} out")
            fcntl.flock(f, fcntl.LOCK_UN)

    first = threading.Thread(target=hold, args=("a", 0.5))
    first.start()
    while not order:
        time.sleep(0.01)
    second = threading.Thread(target=hold, args=("b", 0))
    second.start()
    first.join()
    second.join()
    assert order == ["a in", "a out", "b in", "b out"]


def test_the_larger_members_are_keras_families_and_each_family_keeps_a_smaller_one():
    """A misspelt name would run in `make test` unnoticed; a family with no member left in `make test` would
    lose its cases there."""
    import inspect

    import keras

    from tests import sweeps

    families = {sweeps.family_member(n) for n in dir(keras.applications) if inspect.isfunction(getattr(keras.applications, n))}
    assert sweeps.LARGER_MEMBERS <= families
    kept = families - sweeps.LARGER_MEMBERS
    for stem in ("mobilenetv3", "efficientnetb", "efficientnetv2", "densenet", "resnet", "convnext", "nasnet", "vgg"):
        assert any(k.startswith(stem) for k in kept), stem
    assert sweeps.family_member("app_EfficientNetV2B1") == sweeps.family_member("efficientnetv2b1") == "efficientnetv2b1"


def test_heavy_modules_are_one_unit_of_work_and_the_others_their_module():
    assert {conftest.scope(f"{p}::test_x") for p in conftest.HEAVY} == {"heavy"}
    assert conftest.scope("tests/unit/test_arithmetic.py::test_grid[3-1]") == "tests/unit/test_arithmetic.py"


def test_the_run_starts_with_the_heavy_unit_and_ends_with_unit_tests():
    units = ["tests/unit/test_arithmetic.py", "tests/app/test_smoke.py", "heavy", "tests/browser/test_pages.py",
             "tests/reliability/test_bad_images.py"]
    assert sorted(units, key=conftest.rank) == ["heavy", "tests/browser/test_pages.py", "tests/app/test_smoke.py",
                                                "tests/reliability/test_bad_images.py", "tests/unit/test_arithmetic.py"]


def test_units_are_ordered_by_rank_then_size_and_each_stays_together():
    ids = ["tests/unit/test_a.py::t1", "tests/unit/test_b.py::t1", "tests/unit/test_b.py::t2",
           "tests/browser/test_x.py::t1", "tests/browser/test_cli.py::t1", "tests/app/test_p.py::t1",
           "tests/browser/test_y.py::t1", "tests/browser/test_y.py::t2", "tests/reliability/test_soak.py::t1"]
    assert conftest.ordered(ids) == [
        "tests/browser/test_cli.py::t1", "tests/reliability/test_soak.py::t1",  # the heavy unit first
        "tests/browser/test_y.py::t1", "tests/browser/test_y.py::t2", "tests/browser/test_x.py::t1",
        "tests/app/test_p.py::t1",
        "tests/unit/test_b.py::t1", "tests/unit/test_b.py::t2", "tests/unit/test_a.py::t1"]


class _Config:
    """What xdist's scheduler reads of pytest's config."""

    def __init__(self, workers: int):
        from types import SimpleNamespace

        self.option = SimpleNamespace(dist="loadfile", tx=[f"{workers}*popen"], loadscopereorder=True)

    def getvalue(self, name):
        return getattr(self.option, name)


class _Worker:
    """A stand-in for one xdist worker: records the tests it is sent."""

    def __init__(self, name: str, collection: list[str]):
        from types import SimpleNamespace

        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.collection = collection
        self.sent: list[str] = []

    def send_runtest_some(self, indexes):
        self.sent += [self.collection[i] for i in indexes]

    def shutdown(self):
        self.shutting_down = True


def test_workers_sort_their_collection_and_a_plain_run_keeps_its_own(monkeypatch):
    from types import SimpleNamespace

    ids = ["tests/unit/test_a.py::t1", "tests/app/test_p.py::t1", "tests/browser/test_cli.py::t1",
           "tests/app/test_p.py::t2"]
    items = [SimpleNamespace(nodeid=n) for n in ids]
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    conftest.pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ids
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    conftest.pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["tests/browser/test_cli.py::t1", "tests/app/test_p.py::t1",
                                         "tests/app/test_p.py::t2", "tests/unit/test_a.py::t1"]


def test_the_scheduler_hands_out_units_in_the_collection_order_with_the_heavy_unit_first():
    """xdist's scheduler, made by our hook, fed the order the workers collect in: the first worker gets the
    heavy unit, the second the longest browser module, not the module with the most tests. (It drives
    xdist 3.8's LoadScopeScheduling through its own methods; an xdist upgrade may change how many units a
    worker is given at once without our order being wrong.)"""
    from xdist.remote import Producer

    ids = conftest.ordered(["tests/unit/test_many.py::t%d" % i for i in range(30)]
                           + ["tests/browser/test_x.py::t1", "tests/reliability/test_soak.py::t1",
                              "tests/browser/test_cli.py::t1", "tests/app/test_p.py::t1"])
    config = _Config(2)
    scheduler = conftest.pytest_xdist_make_scheduler(config, Producer("test", enabled=False))
    assert config.option.loadscopereorder is False
    workers = [_Worker("gw0", ids), _Worker("gw1", ids)]
    for w in workers:
        scheduler.add_node(w)
        scheduler.add_node_collection(w, ids)
    scheduler.schedule()
    assert sorted(workers[0].sent[:2]) == ["tests/browser/test_cli.py::t1", "tests/reliability/test_soak.py::t1"]
    assert workers[1].sent[0] == "tests/browser/test_x.py::t1"
    # each takes a second unit at once (xdist keeps two queued): the AppTest module, then the unit tests
    assert workers[0].sent[2:] == ["tests/app/test_p.py::t1"]
    assert workers[1].sent[1:] == ids[4:]
