"""Training throughput on the CPU: the Train page's loop (cnnviz.training.TrainingRun, with per-batch and
per-epoch callbacks as the page uses them) against a bare `model.fit` of the same copy of the seed
model on the same data, batch size, optimizer and validation set.

Samples/s counts training samples of the epochs after the first (the first epoch includes tracing
and compiling the train step), timed between epoch ends."""

from __future__ import annotations

import time

from bench.common import summary

NAME = "training"
EPOCHS = 4
SETTINGS = dict(epochs=EPOCHS, batch_size=32, learning_rate=1e-3, optimizer="adam", train_samples=512,
                val_samples=128, seed=0)


def _rates(stamps: list[float], samples: int) -> list[float]:
    """Samples/s of each epoch after the first, from the times at which epochs ended."""
    return [samples / (b - a) for a, b in zip(stamps, stamps[1:])]


def _page_loop(model, settings) -> list[float]:
    from cnnviz import training

    stamps = []
    batches = []
    run = training.TrainingRun(training.session_copy(model), settings, device="cpu:0",
                               on_batch=lambda e, b, steps, logs: batches.append(float(logs.get("loss", 0.0))),
                               on_epoch=lambda done, total, h: stamps.append(time.perf_counter()))
    run.run()
    return _rates(stamps, len(run.x))


def _bare_fit(model, settings) -> list[float]:
    import keras

    from cnnviz import training

    copy = training.session_copy(model)
    x, y, xv, yv, _ = training.data(copy, settings)
    training.compile_for_training(copy, settings)
    keras.utils.set_random_seed(settings.seed)
    stamps = []
    copy.fit(x, y, batch_size=settings.batch_size, epochs=settings.epochs, validation_data=(xv, yv), shuffle=True,
             verbose=0, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: stamps.append(time.perf_counter()))])
    return _rates(stamps, len(x))


def own_data(n: int = 256, epochs: int = 4) -> dict:
    """Your own classes on a frozen backbone (the trained lecture model): images/s of one forward pass of the
    backbone (model.predict), of feature caching (cnnviz.classifier.features: contract + predict), of training
    the head on the cached features (epochs after the first) and of training the whole model on pictures
    (the "new head" mode), each also as a ratio to the forward pass measured in the same run."""
    import numpy as np

    from cnnviz import classifier, imagesets, models, training

    base = models.load_seed_trained()
    s = imagesets.shapes(n, 120, 60, seed=0)
    x, y = imagesets.arrays(s, (120, 60, 1))
    built = classifier.build("transfer", 4, base)
    built.backbone.predict(x[:32], verbose=0)  # traced once, like the page's second use
    t0 = time.perf_counter()
    built.backbone.predict(x, verbose=0)
    forward = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    p = classifier.prepare(built, x, y, s.class_names, 0.2)
    caching = (p.n_train + len(p.y_val)) / (time.perf_counter() - t0)

    def fit_rate(model, dataset, fit_model) -> float:
        stamps = []
        run = training.TrainingRun(model, training.TrainSettings(epochs=epochs, batch_size=32), device="cpu:0",
                                   dataset=dataset, fit_model=fit_model,
                                   on_epoch=lambda done, total, h: stamps.append(time.perf_counter()))
        run.run()
        return float(np.median(_rates(stamps, len(dataset[0]))))

    head = fit_rate(built.model, p.dataset, p.fit_model)
    whole = classifier.build("head", 4, base)
    q = classifier.prepare(whole, x, y, s.class_names, 0.2)
    full = fit_rate(whole.model, q.dataset, q.fit_model)
    return {"images": n, "forward": forward, "caching": caching, "head_training": head, "whole_training": full,
            "caching_ratio": caching / forward, "head_ratio": head / forward, "whole_ratio": full / forward}


def run(repeats: int = 30) -> dict:
    from cnnviz import training
    from cnnviz.models import seed_model

    model = seed_model()
    settings = training.TrainSettings(**SETTINGS)
    rounds = 2 if repeats >= 10 else 1
    page, bare = [], []
    for _ in range(rounds):  # interleaved, so a change of machine load hits both
        page += _page_loop(model, settings)
        bare += _bare_fit(model, settings)
    p, b = summary(page, "samples/s"), summary(bare, "samples/s")
    return {"model": f"seed_model, {model.count_params():,} parameters", "settings": SETTINGS,
            "page_loop": p, "bare_fit": b, "ratio": p["median"] / b["median"],
            "target": "page loop >= 0.8 of bare model.fit", "own_data": own_data()}


def table(result: dict) -> str:
    p, b = result["page_loop"], result["bare_fit"]
    s = result["settings"]
    return "\n".join([
        f"== 6. training on the CPU, {result['model']}, {s['train_samples']} samples, batch {s['batch_size']}, "
        f"{s['optimizer']} (samples/s of epochs 2..{s['epochs']}: median (p25–p75, n)) ==",
        f"  Train page loop (cnnviz.training.TrainingRun + callbacks)  {p['median']:.0f} ({p['p25']:.0f}–{p['p75']:.0f}, n={p['n']})",
        f"  bare model.fit                                            {b['median']:.0f} ({b['p25']:.0f}–{b['p75']:.0f}, n={b['n']})",
        f"  ratio page/bare {result['ratio']:.2f}",
    ] + ([_own_table(result["own_data"])] if "own_data" in result else []))


def _own_table(o: dict) -> str:
    return "\n".join([
        f"  own classes, frozen trained lecture model as backbone, {o['images']} images (images/s; x forward pass):",
        f"    forward pass {o['forward']:.0f}; feature caching {o['caching']:.0f} (x{o['caching_ratio']:.2f}); "
        f"head on cached features {o['head_training']:.0f} (x{o['head_ratio']:.1f}); "
        f"whole model on pictures {o['whole_training']:.0f} (x{o['whole_ratio']:.2f})",
    ])
