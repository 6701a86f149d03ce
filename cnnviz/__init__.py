"""cnnviz: see a convolutional neural network work, exactly as Keras computes it.

Modules outside cnnviz.ui never import streamlit; they work from a notebook.
"""

__version__ = "0.1.0"

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN, missing CUDA) is noise to a student.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def show(model_or_path, port: int | None = None, **kwargs):
    """The app for a keras.Model, a model file or a torch module (`input_shape=(3, 224, 224)`: exported to ONNX),
    served in the background and shown inline in a notebook (cnnviz.launch.notebook.show)."""
    from cnnviz.launch.notebook import show as _show

    return _show(model_or_path, port=port, **kwargs)
