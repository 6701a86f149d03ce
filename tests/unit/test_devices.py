"""cnnviz.devices: what Keras lists, the CPU fallback, and where work really ran."""

import keras
import numpy as np
import pytest

from cnnviz import devices


def test_cpu_listed_first():
    found = devices.list_devices()
    assert found and found[0] == "cpu:0"
    assert all(d.split(":")[0] in ("cpu", "gpu", "tpu") for d in found)
    assert devices.has_gpu() == any(d.startswith("gpu") for d in found)


def test_unknown_device_falls_back_to_the_cpu():
    assert devices.resolve("gpu:97") == "cpu:0"
    assert devices.resolve(None) == "cpu:0"
    assert devices.resolve("CPU:0") == "cpu:0"


def test_work_really_runs_where_asked():
    assert devices.ran_on("cpu:0") == "cpu:0"
    if devices.has_gpu():
        assert devices.ran_on("gpu:0") == "gpu:0"


def test_a_model_runs_inside_the_scope():
    from cnnviz.models import seed_model

    m = seed_model()
    with devices.device_scope("cpu:0"):
        p = np.asarray(m.predict_on_batch(np.zeros((1, 120, 60, 1), np.float32)))
    assert p.shape == (1, 4)
    with devices.device_scope(None):  # no device chosen: Keras decides
        pass


class _Fake:
    def __init__(self, device):
        self.device = device


@pytest.mark.parametrize(
    "reported,expected",
    [
        ("/job:localhost/replica:0/task:0/device:GPU:1", "gpu:1"),  # tensorflow
        ("/job:localhost/replica:0/task:0/device:CPU:0", "cpu:0"),
        ("cuda:0", "gpu:0"),  # torch
        ("cpu", "cpu:0"),
    ],
)
def test_placed_on_reads_each_backends_names(reported, expected):
    assert devices.placed_on(_Fake(reported)) == expected


def test_tensorflow_gpu_memory_growth_enabled():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("memory growth is a TensorFlow setting")
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        pytest.skip("no GPU on this machine: memory growth has nothing to do")
    assert all(tf.config.experimental.get_memory_growth(g) for g in gpus)
