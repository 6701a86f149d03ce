"""The core runs under a second Keras backend (torch or jax), in a subprocess, with the same numbers.

Skips, with the reason, when neither is importable. `.ci/run` installs torch==2.13.0 (a CPU build).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECOND = next((b for b in ("torch", "jax") if importlib.util.find_spec(b) is not None), None)

pytestmark = pytest.mark.skipif(
    SECOND is None,
    reason="no second Keras backend installed (pip install torch==2.13.0, or jax) to run the core under",
)

# Runs in the subprocess: everything printed as one JSON line at the end.
SCRIPT = r"""
import json, sys
import keras, numpy as np
assert keras.backend.backend() == sys.argv[1], keras.backend.backend()
from cnnviz import datasets, devices, images, models
out = {"backend": keras.backend.backend()}
out["params"] = {k: models.load_preset(k).model.count_params() for k in models.PRESETS}
seed = models.seed_model()
out["seed_shapes"] = [list(l.output.shape[1:]) for l in seed.layers]
info = models.load_preset(models.DEFAULT_MODEL)
x, y, names = datasets.shapes(64, seed=99)
p = np.asarray(info.model.predict_on_batch(x))
out["probs"] = p.tolist()
out["accuracy"] = float(np.mean(np.argmax(p, 1) == y))
sample = images.preprocess(images.load_sample("coins"), info.input_shape)[None]
out["sample_probs"] = np.asarray(info.model.predict_on_batch(sample)).tolist()
out["devices"] = devices.list_devices()
out["ran_on"] = devices.ran_on("cpu:0")
with devices.device_scope("cpu:0"):
    out["scoped_probs"] = np.asarray(info.model.predict_on_batch(x[:4])).tolist()
try:
    from cnnviz import activations
except ImportError:
    out["activations"] = None
else:
    acts = activations.extract(info.model, x[:2])
    out["activations"] = {k: [list(v.shape), float(np.asarray(v, dtype=np.float64).sum())] for k, v in acts.items()}
from cnnviz import attribution
out["attribution"] = {m: np.asarray(attribution.attribute(m, info.model, sample[0], 3), dtype=np.float64).tolist()
                      for m in ("saliency", "integrated_gradients", "grad_cam", "layer_cam")}
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def second():
    env = dict(os.environ, KERAS_BACKEND=SECOND, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, SECOND], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_runs_under_the_second_backend(second):
    assert second["backend"] == SECOND


def test_models_are_the_same_under_the_second_backend(second):
    from cnnviz import models

    assert second["params"] == {k: models.load_preset(k).model.count_params() for k in models.PRESETS}
    assert second["params"]["seed"] == 133_792
    assert second["seed_shapes"] == [list(layer.output.shape[1:]) for layer in models.seed_model().layers]


def test_trained_default_predicts_the_same(second):
    """Same file, same inputs: the second backend's probabilities match this process's (TensorFlow) ones."""
    from cnnviz import datasets, images, models

    info = models.load_preset(models.DEFAULT_MODEL)
    x, y, _ = datasets.shapes(64, seed=99)
    np.testing.assert_allclose(second["probs"], np.asarray(info.model.predict_on_batch(x)), atol=1e-4)
    assert second["accuracy"] >= 0.95
    sample = images.preprocess(images.load_sample("coins"), info.input_shape)[None]
    np.testing.assert_allclose(second["sample_probs"], np.asarray(info.model.predict_on_batch(sample)), atol=1e-4)
    np.testing.assert_allclose(second["scoped_probs"], second["probs"][:4], atol=1e-6)


def test_devices_under_the_second_backend(second):
    assert second["devices"][0].startswith("cpu")
    assert second["ran_on"] == "cpu:0"


def test_activations_under_the_second_backend(second):
    if second["activations"] is None:
        pytest.skip("cnnviz.activations is not there yet")
    from cnnviz import activations, datasets, models

    info = models.load_preset(models.DEFAULT_MODEL)
    x, _, _ = datasets.shapes(64, seed=99)
    here = activations.extract(info.model, x[:2])
    assert list(second["activations"]) == list(here)
    for name, (shape, total) in second["activations"].items():
        assert shape == list(here[name].shape), name
        assert total == pytest.approx(float(np.asarray(here[name], dtype=np.float64).sum()), rel=1e-4, abs=1e-3), name


def test_attribution_maps_agree_across_backends(second):
    """The one backend-specific helper (cnnviz.gradients): torch autograd (or JAX grad) gives TensorFlow's maps."""
    from cnnviz import attribution, images, models

    info = models.load_preset(models.DEFAULT_MODEL)
    x = images.preprocess(images.load_sample("coins"), info.input_shape)
    for method, theirs in second["attribution"].items():
        ours = attribution.attribute(method, info.model, x, 3)
        theirs = np.asarray(theirs)
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(theirs, ours, atol=1e-3 * max(1e-6, np.abs(ours).max()), err_msg=method)
