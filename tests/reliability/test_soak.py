"""Soak: 200 reruns of the Activations page in one session, each with a fresh 1024x1024 upload (BMP: cheap
to make, 3 MB each).

Memory must level off: every cache keyed by an upload is bounded (image decode: 16 entries; activation
grids: 512 entries), and the session keeps only its current upload. An unbounded decode cache alone
would grow by about 3 MB (one decoded 1024x1024 RGB image) per rerun: measured with the decode cache's
max_entries removed, +133 MB over 40 reruns, so about 600 MB over this test. With the bounds, the growth
after warm-up was about 40 MB and levelled off; the bound below sits between the two.
"""

from __future__ import annotations

import gc
import json
import os

import pytest

from cnnviz.ui import image_picker as ip
from tests.reliability.conftest import exceptions, open_app, to_upload, upload
from tests.reliability.files import noise

RERUNS = int(os.environ.get("CNNVIZ_SOAK_RERUNS", "200"))
WARMUP = 20  # reruns before the first measurement: imports, compiled extractor, first cache entries
SIZE = (1024, 1024)
MAX_GROWTH_MB = 200


def rss_mb() -> float:
    """This process's resident memory (psutil is not a dependency; Linux's /proc tells the same)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_200_reruns_with_fresh_uploads_keep_memory_bounded(tmp_path):
    at = open_app("activations")
    to_upload(at)
    samples = []
    for i in range(RERUNS):
        name = f"soak-{i}.bmp"
        upload(at, name, noise(SIZE, seed=i, fmt="BMP"), "image/bmp")
        assert not at.exception, (i, exceptions(at))
        assert at.session_state[ip.UPLOAD]["name"] == name  # every rerun really used its own upload
        if i + 1 == WARMUP or (i + 1) % 20 == 0:
            gc.collect()
            samples.append((i + 1, round(rss_mb(), 1)))
    start = dict(samples)[WARMUP]
    end = samples[-1][1]
    growth = end - start
    report = {"reruns": RERUNS, "upload": f"{SIZE[0]}x{SIZE[1]} BMP (random pixels)", "rss_mb": samples,
              "growth_mb_after_warmup": round(growth, 1), "bound_mb": MAX_GROWTH_MB}
    out = os.environ.get("CNNVIZ_RELIABILITY_REPORT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"soak": report}) + "\n")
    print("soak:", report)
    assert growth < MAX_GROWTH_MB, report
