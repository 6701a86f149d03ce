"""The bench helpers' pure logic (the benchmark itself times things and is not a test)."""

import numpy as np
import pytest

from bench.common import parse_vmrss, percentile, summary, top_imports


@pytest.mark.parametrize("q", [0, 5, 25, 50, 75, 95, 100])
def test_percentile_matches_numpy(q):
    values = [7.0, 1.0, 3.5, 10.0, 2.0, 2.0, 9.25]
    assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_percentile_rejects_nothing_and_bad_q():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_of_thirty_values():
    s = summary(range(1, 31))
    assert (s["median"], s["min"], s["max"], s["n"]) == (15.5, 1, 30, 30)
    assert s["p95"] == pytest.approx(np.percentile(range(1, 31), 95))
    assert summary([])["n"] == 0


def test_parse_vmrss():
    text = "Name:\tpython\nVmPeak:\t  900000 kB\nVmRSS:\t  812345 kB\nThreads:\t12\n"
    assert parse_vmrss(text) == 812345
    with pytest.raises(ValueError):
        parse_vmrss("Name:\tpython\n")


def test_top_imports_one_row_per_package_first_import():
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 |     numpy.core",
        "import time:       200 |        900 |   numpy",
        "import time:        50 |       2000 |     tensorflow",
        "import time:        10 |       2500 | keras",
        "import time:         5 |          5 | numpy",  # a second, cached import: not counted again
        "import time:        30 |         30 | _thread",
    ])
    rows = top_imports(stderr)
    assert [(r["module"], r["cumulative_ms"]) for r in rows] == [("keras", 2.5), ("tensorflow", 2.0), ("numpy", 0.9)]
