"""Every layer's output of the seed model for one image: cnnviz.activations.extract (one cached,
compiled extractor) against the naive pattern (a new keras.Model of the layer outputs and
`predict` on every call), next to the bare forward pass of the model alone."""

from __future__ import annotations

import statistics
import time

import numpy as np

NAME = "extraction"


def _times(fn, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _summary(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=4) if len(ms) >= 2 else [ms[0]] * 3
    return {"median_ms": statistics.median(ms), "p25_ms": q[0], "p75_ms": q[2], "min_ms": ms[0],
            "max_ms": ms[-1], "repeats": len(ms)}


def run(repeats: int = 30) -> dict:
    import logging

    import keras

    from cnnviz import activations

    # The naive pattern retraces on every call by design; TensorFlow's warning about it is noise here.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    from cnnviz.models import seed_model

    keras.utils.set_random_seed(0)
    model = seed_model()
    x = np.random.default_rng(0).random((1, *model.inputs[0].shape[1:]), dtype="float32")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]

    def naive():
        probe = keras.Model(model.inputs, [layer.output for layer in layers])
        return probe.predict(x, verbose=0)

    cases = {
        "extract (cached extractor, predict_on_batch, + conv pre-activations)": lambda: activations.extract(model, x),
        "naive: new keras.Model of the layer outputs + predict, per call": naive,
        "bare forward pass: model.predict_on_batch (compiled)": lambda: model.predict_on_batch(x),
        "bare forward pass: model(x) (eager call)": lambda: keras.ops.convert_to_numpy(model(x)),
    }
    # The naive pattern is ~100x slower: fewer repeats keep the run short, still enough for a median.
    counts = {name: (max(5, repeats // 5) if name.startswith("naive") else repeats) for name in cases}
    # Same numbers from both ways, or the comparison means nothing.
    fast, slow = activations.extract(model, x), naive()
    for got, want in zip(fast.values(), slow):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    return {
        "model": f"{model.name}: input {tuple(model.inputs[0].shape[1:])}, {model.count_params():,} parameters, "
                 f"{len(layers)} layers",
        "batch": 1,
        "cases": {name: _summary(_times(fn, counts[name])) for name, fn in cases.items()},
    }


def table(result: dict) -> str:
    rows = result["cases"]
    width = max(len(name) for name in rows)
    lines = [f"== every layer's output, {result['model']}, batch {result['batch']} ==",
             f"{'case':<{width}}  {'median ms':>10}  {'p25–p75 ms':>15}  {'min–max ms':>17}  {'n':>3}"]
    for name, r in rows.items():
        lines.append(f"{name:<{width}}  {r['median_ms']:>10.2f}  {r['p25_ms']:>6.2f}–{r['p75_ms']:<8.2f}"
                     f"  {r['min_ms']:>7.2f}–{r['max_ms']:<9.2f}  {r['repeats']:>3}")
    fast = next(iter(rows.values()))["median_ms"]
    naive = rows[[n for n in rows if n.startswith("naive")][0]]["median_ms"]
    lines.append(f"extract is {naive / fast:.0f}x faster than the naive pattern")
    return "\n".join(lines)
