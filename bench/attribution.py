"""Attribution maps and feature visualisation on the trained default (the lecture's model), as ratios to
one compiled forward pass of the same model in the same run (the floor): each method for one image, and a
whole layer's feature-visualisation grid against one filter with the same steps. Then the real network,
EfficientNet-Lite0 on the coffee photo, the way the Explain page runs it: Grad-CAM, SmoothGrad (20 samples) and
deletion+insertion of one map, as ratios to one forward pass of Lite0 in the same run."""

from __future__ import annotations

import numpy as np

from bench.common import fmt, summary, times_ms

NAME = "attribution"
FV_STEPS = 32


def run(repeats: int = 30) -> dict:
    from cnnviz import attribution, featurevis, images, models

    info = models.load_preset(models.DEFAULT_MODEL)
    model = info.model
    x = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), info.input_shape)
    batch = x[np.newaxis]
    floor = summary(times_ms(lambda: model.predict_on_batch(batch), repeats, warmup=3))
    settings = {"smoothgrad": {"samples": 20}, "integrated_gradients": {"steps": 32}}
    methods = {}
    for method in attribution.METHODS:
        n = repeats if method not in ("occlusion", "score_cam") else max(5, repeats // 3)
        methods[method] = summary(times_ms(
            lambda m=method: attribution.attribute(m, model, x, 3, **settings.get(m, {})), n, warmup=2))
    # deletion + insertion (with the random order) of one Grad-CAM map: its own cost, the map excluded
    cam = attribution.grad_cam(model, x, 3)
    n = max(3, repeats // 5)
    faith = summary(times_ms(lambda: attribution.deletion_insertion(model, x, 3, cam), n, warmup=1))
    fv = {}
    for layer in ("conv1", "conv2", "conv3"):
        units = featurevis.units_of(model, layer)
        s = featurevis.Settings(steps=FV_STEPS)
        n = max(3, repeats // 10)
        one = summary(times_ms(lambda layer=layer: featurevis.visualise(model, layer, [0], s), n, warmup=1))
        every = summary(times_ms(lambda layer=layer, u=units: featurevis.visualise(model, layer, range(u), s), n, warmup=1))
        fv[layer] = {"filters": units, "one_filter": one, "whole_layer": every,
                     "layer_over_one": every["median"] / one["median"],
                     "per_filter_saving": units * one["median"] / every["median"]}
    med = floor["median"]
    real = lite0(repeats)
    return {
        "lite0": real,
        "model": f"{model.name}: input {tuple(model.inputs[0].shape[1:])}, {model.count_params():,} parameters",
        "forward": floor,
        "methods": methods,
        "over_forward": {m: s["median"] / med for m, s in methods.items()},
        "deletion_insertion": faith, "deletion_insertion_over_forward": faith["median"] / med,
        "deletion_insertion_steps": attribution.DELETION_STEPS,
        "featurevis": fv, "featurevis_steps": FV_STEPS,
        "targets": "Grad-CAM <= 3x one forward pass; SmoothGrad (20 samples) <= 25x; deletion+insertion of one map <= 40x; "
                   "a layer's grid <= 3x one filter",
    }


LITE0_TARGETS = {"grad_cam": 3.0, "smoothgrad": 25.0, "deletion_insertion": 40.0}


def lite0(repeats: int) -> dict:
    from cnnviz import attribution, images, models, preprocessing

    info = models.load_preset("efficientnet_lite0")
    model = info.model
    feed = preprocessing.plan(model, (224, 224), file=info.pixels)
    x = feed.feed(images.preprocess(images.load_sample("coffee"), info.input_shape))
    floor = summary(times_ms(lambda: model.predict_on_batch(x[np.newaxis]), repeats, warmup=3))
    c = attribution.predicted_class(model, x)
    n = max(5, repeats // 3)
    timed = {"grad_cam": summary(times_ms(lambda: attribution.grad_cam(model, x, c), n, warmup=2)),
             "smoothgrad": summary(times_ms(lambda: attribution.smoothgrad(model, x, c, samples=20), max(3, n // 2), warmup=1))}
    cam = attribution.grad_cam(model, x, c)
    black = feed.pixels.black(3)
    timed["deletion_insertion"] = summary(times_ms(
        lambda: attribution.deletion_insertion(model, x, c, cam, black=black), max(3, n // 3), warmup=1))
    med = floor["median"]
    return {"model": f"{model.name}: input {tuple(model.inputs[0].shape[1:])}, {model.count_params():,} parameters",
            "class": info.class_names[c], "forward": floor, "methods": timed,
            "over_forward": {m: s["median"] / med for m, s in timed.items()}, "targets": LITE0_TARGETS}


def table(result: dict) -> str:
    lines = [f"== attribution: {result['model']} (ms: median (p25–p75, n)) ==",
             f"  one compiled forward pass (floor)   {fmt(result['forward'], 2)}"]
    for method, s in result["methods"].items():
        lines.append(f"  {method:<34}  {fmt(s, 1):<32} {result['over_forward'][method]:.1f}x the floor")
    if "deletion_insertion" in result:
        lines.append(f"  deletion+insertion, {result['deletion_insertion_steps']} steps, random order too  "
                     f"{fmt(result['deletion_insertion'], 1):<32} {result['deletion_insertion_over_forward']:.1f}x the floor")
    lines.append(f"-- feature visualisation, {result['featurevis_steps']} steps")
    for layer, r in result["featurevis"].items():
        lines.append(f"  {layer} ({r['filters']} filters): one {fmt(r['one_filter'], 0)}, whole layer "
                     f"{fmt(r['whole_layer'], 0)} = {r['layer_over_one']:.1f}x one filter "
                     f"({r['per_filter_saving']:.1f}x cheaper per filter than one at a time)")
    real = result.get("lite0")
    if real:
        lines.append(f"-- the real network: {real['model']}, coffee photo (predicted: {real['class']})")
        lines.append(f"  one compiled forward pass (floor)   {fmt(real['forward'], 2)}")
        for method, s in real["methods"].items():
            lines.append(f"  {method:<34}  {fmt(s, 1):<32} {real['over_forward'][method]:.1f}x the floor "
                         f"(target <= {real['targets'][method]:.0f}x)")
    return "\n".join(lines)
