"""Training pictures: loss and accuracy curves (plotly) and a grid of first-layer filter snapshots (PIL)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from PIL import Image, ImageDraw

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"


def curves_figure(history, labels: dict[str, str], height: int = 320) -> go.Figure:
    """Loss and accuracy per epoch, training and validation, side by side.

    labels: 'loss', 'accuracy', 'train', 'validation', 'epoch' (already translated).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["loss"], labels["accuracy"]))
    epochs = list(range(1, len(history.loss) + 1))
    for col, (train, val) in enumerate(((history.loss, history.val_loss),
                                        (history.accuracy, history.val_accuracy)), start=1):
        fig.add_trace(go.Scatter(x=epochs, y=train, mode="lines+markers", name=labels["train"],
                                 line=dict(color=TRAIN_COLOR), legendgroup="train", showlegend=col == 1), 1, col)
        fig.add_trace(go.Scatter(x=epochs, y=val, mode="lines+markers", name=labels["validation"],
                                 line=dict(color=VAL_COLOR, dash="dash"), legendgroup="val",
                                 showlegend=col == 1), 1, col)
        fig.update_xaxes(title_text=labels["epoch"], dtick=1, row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def _tile(kernel: np.ndarray, cell: int) -> Image.Image:
    """One filter (kh, kw, cin) as an image: RGB when it has 3 input channels, else the channel mean."""
    k = kernel if kernel.shape[-1] == 3 else kernel.mean(axis=-1, keepdims=True)
    lo, hi = float(k.min()), float(k.max())
    norm = (k - lo) / (hi - lo) if hi > lo else np.full_like(k, 0.5)
    arr = (norm * 255).round().clip(0, 255).astype(np.uint8)
    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr, mode="L" if arr.shape[-1] == 1 else "RGB")
    return img.convert("RGB").resize((cell, cell), Image.NEAREST)


def filter_grid(snapshots, row_labels=None, cell: int = 40, gap: int = 3, label_width: int = 70,
                max_filters: int = 32) -> Image.Image:
    """One row per snapshot (epoch), one column per filter; each filter scaled to its own range."""
    if not snapshots:
        return Image.new("RGB", (cell, cell), "white")
    n = min(snapshots[0].shape[-1], max_filters)
    rows = len(snapshots)
    img = Image.new("RGB", (label_width + n * (cell + gap), rows * (cell + gap)), "white")
    draw = ImageDraw.Draw(img)
    for r, snap in enumerate(snapshots):
        y = r * (cell + gap)
        if row_labels is not None:
            draw.text((4, y + cell // 2 - 6), str(row_labels[r]), fill=(40, 40, 40))
        for f in range(n):
            img.paste(_tile(np.asarray(snap)[..., f], cell), (label_width + f * (cell + gap), y))
    return img
