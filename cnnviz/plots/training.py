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


def confusion_figure(counts: np.ndarray, class_names, labels: dict[str, str], rates: bool = False,
                     height: int | None = None) -> go.Figure:
    """A confusion matrix: rows the true class, columns the predicted one; counts, or rates per true class.
    Each cell's customdata is (true index, predicted index), for a click to pick the cell's pictures.

    labels: 'true', 'predicted' (already translated)."""
    counts = np.asarray(counts)
    n = len(class_names)
    totals = counts.sum(axis=1, keepdims=True)
    rate = np.divide(counts, np.maximum(totals, 1), dtype="float64")
    z = rate if rates else counts
    text = [[f"{rate[i, j]:.0%}" if rates else f"{counts[i, j]:d}" for j in range(n)] for i in range(n)]
    names = [str(c) for c in class_names]
    custom = [[[i, j] for j in range(n)] for i in range(n)]
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, text=text, texttemplate="%{text}", customdata=custom,
                               colorscale="Blues", showscale=False, zmin=0, zmax=1 if rates else None,
                               hovertemplate=f"{labels['true']}: %{{y}}<br>{labels['predicted']}: %{{x}}"
                                             "<br>%{text}<extra></extra>"))
    fig.update_yaxes(title_text=labels["true"], autorange="reversed", type="category")
    fig.update_xaxes(title_text=labels["predicted"], type="category", side="bottom")
    side = max(260, min(640, 60 + 40 * n))
    fig.update_layout(height=height or side, margin=dict(l=10, r=10, t=10, b=10), clickmode="event+select")
    return fig


def class_accuracy_figure(accuracy, class_names, counts, label: str, height: int = 260) -> go.Figure:
    """Validation accuracy per class, with each class's number of validation pictures."""
    names = [str(c) for c in class_names]
    fig = go.Figure(go.Bar(x=names, y=np.nan_to_num(np.asarray(accuracy, dtype="float64")),
                           text=[f"{a:.0%} (n={c})" for a, c in zip(np.nan_to_num(accuracy), counts)],
                           textposition="auto", marker_color=VAL_COLOR))
    fig.update_yaxes(range=[0, 1.02], title_text=label)
    fig.update_xaxes(type="category")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))
    return fig


def cam_overlay(x01: np.ndarray, cam: np.ndarray | None, side: int = 128, opacity: float = 0.55) -> Image.Image:
    """A picture (H, W, C in [0, 1]) with a class-activation map (H, W, >= 0) laid over it in red-yellow,
    scaled so its longer side is `side` pixels; the picture alone when cam is None."""
    x = np.asarray(x01, dtype="float32")
    rgb = np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x[..., :3]
    rgb = np.clip(rgb, 0, 1)
    if cam is not None:
        c = np.asarray(cam, dtype="float32")
        top = float(c.max())
        heat = c / top if top > 0 else np.zeros_like(c)
        colour = np.stack([np.ones_like(heat), heat, np.zeros_like(heat)], axis=-1)  # red to yellow
        alpha = opacity * heat[..., None]
        rgb = (1 - alpha) * rgb + alpha * colour
    im = Image.fromarray((rgb * 255).round().astype("uint8"), "RGB")
    scale = side / max(im.size)
    return im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.NEAREST)
