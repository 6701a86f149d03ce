"""Every layer's output for one image, for the seed model and Tiny VGG: cnnviz.activations.extract (one
cached, compiled extractor) against the naive pattern (a new keras.Model of the layer outputs and
`predict` on every call), next to the bare forward pass of the model alone (the floor)."""

from __future__ import annotations

import numpy as np

from bench.common import fmt, summary, times_ms

NAME = "extraction"
EXTRACT, EXTRACT_PRE, NAIVE, BARE, EAGER = "extract", "extract_pre", "naive", "bare", "eager"
CASES = {
    EXTRACT: "activations.extract (cached extractor, predict_on_batch)",
    EXTRACT_PRE: "activations.extract_all: + conv pre-activations (Activations' toggle)",
    NAIVE: "naive: new keras.Model of the layer outputs + predict, per call",
    BARE: "bare forward pass: model.predict_on_batch (compiled)",
    EAGER: "bare forward pass: model(x) (eager call)",
}


def _model_cases(model, repeats: int) -> dict:
    import keras

    from cnnviz import activations

    x = np.random.default_rng(0).random((1, *model.inputs[0].shape[1:]), dtype="float32")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]

    def naive():
        probe = keras.Model(model.inputs, [layer.output for layer in layers])
        return probe.predict(x, verbose=0)

    fns = {EXTRACT: lambda: activations.extract(model, x), EXTRACT_PRE: lambda: activations.extract_all(model, x),
           NAIVE: naive,
           BARE: lambda: model.predict_on_batch(x), EAGER: lambda: keras.ops.convert_to_numpy(model(x))}
    # Same numbers from both ways, or the comparison means nothing.
    for got, want in zip(activations.extract(model, x).values(), naive()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # The naive pattern is ~100x slower: fewer repeats keep the run short, still enough for a median.
    counts = {k: max(5, repeats // 5) if k == NAIVE else repeats for k in fns}
    cases = {k: summary(times_ms(fn, counts[k], warmup=1 if k == NAIVE else 3)) for k, fn in fns.items()}
    med = {k: v["median"] for k, v in cases.items()}
    return {
        "model": f"{model.name}: input {tuple(model.inputs[0].shape[1:])}, {model.count_params():,} parameters, "
                 f"{len(layers)} layers",
        "cases": cases,
        "naive_over_extract": med[NAIVE] / med[EXTRACT],
        "extract_over_bare": med[EXTRACT] / med[BARE],
    }


def run(repeats: int = 30) -> dict:
    import logging

    import keras

    from cnnviz.models import seed_model, tiny_vgg

    # The naive pattern retraces on every call by design; TensorFlow's warning about it is noise here.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    keras.utils.set_random_seed(0)
    return {"batch": 1, "models": {"seed": _model_cases(seed_model(), repeats),
                                   "tiny_vgg": _model_cases(tiny_vgg(), repeats)},
            "targets": "extract <= 1.5x the bare compiled forward pass (seed model)"}


def table(result: dict) -> str:
    lines = ["== 1. extraction: every layer's output for one image (ms: median (p25–p75, n)) =="]
    width = max(len(v) for v in CASES.values())
    for key, r in result["models"].items():
        lines.append(f"-- {r['model']}")
        for case, label in CASES.items():
            lines.append(f"  {label:<{width}}  {fmt(r['cases'][case], 2)}")
        lines.append(f"  extract is {r['naive_over_extract']:.0f}x faster than naive; "
                     f"{r['extract_over_bare']:.2f}x the bare compiled forward pass")
    return "\n".join(lines)
