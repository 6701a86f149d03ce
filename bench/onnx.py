"""ONNX: ResNet-18 (torchvision's architecture, seeded random weights, exported in memory) converted to Keras
and verified against onnxruntime at load (cnnviz.files.modelfiles.load_path; goal: under 10 s on 2 cores),
the converted model's forward pass against onnxruntime's in the same run, and the peak memory while loading
against the file's size. Loading runs in a child process (after its imports and one small load, its peak reset
through /proc/self/clear_refs), so the peak resident memory above where it started is the load's own (Linux)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.common import fmt, summary, times_ms

NAME = "onnx"
ROOT = Path(__file__).resolve().parents[1]
_CHILD = r"""
import json, sys, time
from cnnviz.files import modelfiles

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(key + ":"))

modelfiles.load_path(sys.argv[2])  # imports and a small model first: what is left is the load itself
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the current resident size
before = status("VmRSS")
seconds = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    modelfiles.load_path(sys.argv[1])
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "rss_before_mib": before, "rss_peak_mib": status("VmHWM")}))
"""


def _load_in_child(path: str, small: str, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", _CHILD, path, small, str(repeats)], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(repeats: int = 30) -> dict:
    import onnxruntime

    from cnnviz.files import modelfiles
    from tests import onnxmodels

    folder = tempfile.mkdtemp(prefix="cnnviz-bench-onnx-")
    path, small = os.path.join(folder, "resnet18.onnx"), os.path.join(folder, "small.onnx")
    Path(path).write_bytes(onnxmodels.resnet18_onnx())
    Path(small).write_bytes(onnxmodels.export(onnxmodels.seeded(onnxmodels.Convs)))
    loads = _load_in_child(path, small, max(1, min(repeats, 3)))

    model = modelfiles.load_path(path).model
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype("float32")
    x_nhwc = x.transpose(0, 2, 3, 1)
    forward = {"keras": summary(times_ms(lambda: model.predict_on_batch(x_nhwc), repeats, warmup=3)),
               "onnxruntime": summary(times_ms(lambda: session.run(None, {name: x}), repeats, warmup=3))}
    size_mib = os.path.getsize(path) / 2**20
    for p in (path, small):
        os.unlink(p)
    os.rmdir(folder)
    return {
        "model": f"ResNet-18: {model.count_params():,} parameters, {size_mib:.1f} MiB .onnx",
        "load_seconds": summary(loads["seconds"], unit="s"),
        "forward": forward,
        "keras_over_onnxruntime": forward["keras"]["median"] / forward["onnxruntime"]["median"],
        "file_mib": size_mib,
        "peak_rss_increase_mib": loads["rss_peak_mib"] - loads["rss_before_mib"],
        "peak_over_file": (loads["rss_peak_mib"] - loads["rss_before_mib"]) / size_mib,
    }


def table(result: dict) -> str:
    return "\n".join([
        f"ONNX ({result['model']})",
        f"  convert + verify (load_path), s:        {fmt(result['load_seconds'], 2)}   goal < 10",
        f"  forward pass, Keras (predict_on_batch):  {fmt(result['forward']['keras'])} ms",
        f"  forward pass, onnxruntime:               {fmt(result['forward']['onnxruntime'])} ms",
        f"  Keras / onnxruntime:                     {result['keras_over_onnxruntime']:.2f}",
        f"  peak memory while loading:               +{result['peak_rss_increase_mib']:.0f} MiB "
        f"({result['peak_over_file']:.1f}x the {result['file_mib']:.1f} MiB file)",
    ])
