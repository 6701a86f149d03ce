"""The test suite's own arrangement for `make test`'s workers (tests/conftest.py)."""

from tests import conftest


def test_every_heavy_module_exists():
    """A renamed module would silently leave the group and run beside another heavy one."""
    import os

    missing = [p for p in conftest.HEAVY if not os.path.exists(os.path.join(conftest.ROOT, p))]
    assert not missing


def test_heavy_modules_share_one_group_and_the_others_their_own():
    groups = {conftest.xdist_group(p) for p in conftest.HEAVY}
    assert groups == {"heavy"}
    assert conftest.xdist_group("tests/unit/test_arithmetic.py") == "tests/unit/test_arithmetic.py"
