"""Gradients of a function of a Keras model's inputs: the only backend-specific code of attribution and
feature visualisation, one small function per backend (Keras 3 has no `keras.ops.grad`).

`value_and_grad(model, fn, wrt, consts)` runs `loss, aux = fn(call, *wrt, *consts)`, where `call(x)` is the
model's forward pass at inference (`training=False`) and everything else is `keras.ops`, and returns the
loss, `aux` and the gradient of the loss with respect to each array of `wrt`, as numpy:

- TensorFlow: a `tf.GradientTape` inside one `tf.function` per (model, fn), so repeated calls run compiled;
- JAX: `jax.value_and_grad` over `model.stateless_call` (the weights are arguments, not constants baked in
  at trace time, so training the model in place is seen), jitted once per (model, fn);
- torch: autograd on eager tensors.

`fn` must be a module-level function (its identity keys the compiled cache) and return a scalar loss.
"""

from __future__ import annotations

import threading
import weakref

import keras
import numpy as np


class GradientError(ValueError):
    """No usable gradient: `reason` 'none' (a layer without one), 'nan' (NaN/inf in it) or 'output' (in the
    loss itself)."""

    KEYS = {"none": "no_gradient", "nan": "gradient_nan", "output": "output_nan"}

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason

    @property
    def key(self) -> str:
        """The message key the callers report it under (attribution.error.<key>, featurevis.error.<key>)."""
        return self.KEYS[self.reason]


_compiled: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _numpy(value):
    return keras.tree.map_structure(lambda v: np.asarray(keras.ops.convert_to_numpy(v)), value)


def _tensorflow(model, fn):
    import tensorflow as tf

    def step(wrt, consts):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(wrt)
            loss, aux = fn(lambda v: model(v, training=False), *wrt, *consts)
        grads = tape.gradient(loss, wrt)
        return loss, aux, [g if g is not None else tf.fill([0], np.nan) for g in grads]

    return tf.function(step, reduce_retracing=True)


def _jax(model, fn):
    import jax

    def pure(wrt, trainable, non_trainable, consts):
        def call(v):
            out, _ = model.stateless_call(trainable, non_trainable, v, training=False)
            return out

        return fn(call, *wrt, *consts)

    step = jax.jit(jax.value_and_grad(pure, argnums=0, has_aux=True))

    def run(wrt, consts):
        (loss, aux), grads = step(list(wrt), [v.value for v in model.trainable_variables],
                                  [v.value for v in model.non_trainable_variables], list(consts))
        return loss, aux, grads

    return run


def _torch(model, fn):
    import torch

    def run(wrt, consts):
        wrt = [t.detach().requires_grad_(True) for t in wrt]
        loss, aux = fn(lambda v: model(v, training=False), *wrt, *consts)
        grads = torch.autograd.grad(loss, wrt, allow_unused=True)
        grads = [g if g is not None else torch.full((0,), float("nan")) for g in grads]
        return loss.detach(), keras.tree.map_structure(lambda a: a.detach(), aux), grads

    return run


_BACKENDS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def _step(model, fn):
    with _lock:
        per_model = _compiled.get(model)
        if per_model is None:
            per_model = _compiled[model] = {}
        step = per_model.get(fn)
        if step is None:
            backend = keras.backend.backend()
            if backend not in _BACKENDS:  # pragma: no cover - keras 3 has no other backend with gradients
                raise NotImplementedError(f"No gradients on the {backend} backend.")
            step = per_model[fn] = _BACKENDS[backend](model, fn)
        return step


def value_and_grad(model: keras.Model, fn, wrt, consts=()):
    """(loss, aux, grads) of `fn` (see the module doc) as numpy; grads has one array per array of `wrt`.

    Raises GradientError('output') where the loss is NaN or infinite, 'none' where it does not depend
    differentiably on an input (a layer without a gradient), 'nan' where a gradient holds NaN or infinity.
    """
    step = _step(model, fn)
    to_tensor = keras.ops.convert_to_tensor
    try:
        loss, aux, grads = step([to_tensor(np.asarray(w, dtype="float32")) for w in wrt],
                                [to_tensor(c) for c in consts])
    except LookupError as err:  # TensorFlow: "No gradient defined for operation ..."
        raise GradientError("none", str(err)) from err
    loss = float(np.asarray(keras.ops.convert_to_numpy(loss)))
    if not np.isfinite(loss):
        raise GradientError("output", "The model's output holds NaN or infinite values.")
    grads = [np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]
    for g, w in zip(grads, wrt):
        if g.size == 0 and np.size(w) != 0:
            raise GradientError("none", "The score does not depend on the input through a differentiable path.")
        if not np.isfinite(g).all():
            raise GradientError("nan", "The gradient holds NaN or infinite values.")
    return loss, _numpy(aux), grads
