"""The project's own Keras layers. Keras has no MinPooling2D, the lecture lists min pooling."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnviz")
class MinPooling2D(keras.layers.Layer):
    """Min pooling over 2-D windows: -max_pool(-x), so 'same' padding never wins the min."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self._max = keras.layers.MaxPooling2D(pool_size=pool_size, strides=strides, padding=padding)
        self.pool_size = self._max.pool_size
        self.strides = self._max.strides
        self.padding = self._max.padding

    def call(self, inputs):
        return ops.negative(ops.max_pool(ops.negative(inputs), self.pool_size, self.strides, self.padding))

    def compute_output_shape(self, input_shape):
        return self._max.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return config


POOLING_LAYERS = {
    "max": keras.layers.MaxPooling2D,
    "average": keras.layers.AveragePooling2D,
    "min": MinPooling2D,
}


def pooling_layer(kind: str, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
    """A Keras pooling layer of the given kind ('max', 'average' or 'min')."""
    try:
        cls = POOLING_LAYERS[kind]
    except KeyError:
        raise ValueError(f"pooling must be one of {', '.join(POOLING_LAYERS)}, not {kind!r}.") from None
    return cls(pool_size=pool_size, strides=strides, padding=padding, **kwargs)
