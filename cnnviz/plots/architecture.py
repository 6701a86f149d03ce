"""The architecture as boxes sized by output shape, left to right, as in the lecture's diagrams.

A feature map (H, W, C) is drawn as a cuboid: its front face is H tall, it recedes W deep and is
C thick; a flat vector (N,) is a thin bar whose height grows with log N. Hovering shows the
layer's numbers. Input: a cnnviz.architecture.Summary and the input shape.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

# The layers' labels: dark on the plot's white ground in either theme (12.5:1; the theme's own grey was
# 3.7:1 there, the dark theme's light text 1.2:1).
LABEL = "#31333f"
FACE = {"input": "#d9d9d9", "Conv2D": "#4c78a8", "pool": "#f58518", "Dense": "#54a24b", "other": "#b279a2"}
_POOLS = ("MaxPooling2D", "AveragePooling2D", "MinPooling2D", "GlobalAveragePooling2D")


def _color(kind: str) -> str:
    if kind in FACE:
        return FACE[kind]
    return FACE["pool"] if kind in _POOLS else FACE["other"]


def _shade(hex_color: str, factor: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({int(r * factor)},{int(g * factor)},{int(b * factor)})"


def _poly(fig, xs, ys, color, hover):
    fig.add_trace(go.Scatter(x=xs + [xs[0]], y=ys + [ys[0]], fill="toself", fillcolor=color, mode="lines",
                             line=dict(color="#333", width=1), hoverinfo="text", text=hover, showlegend=False))


def architecture_figure(summary, input_shape, input_label: str = "input", height: int = 340) -> go.Figure:
    """A plotly figure of the layers of `summary` after `input_shape` (labels come in translated)."""
    items = [(input_label, "input", tuple(int(v) for v in input_shape), 0)]
    items += [(r.name, r.kind, tuple(r.output_shape), r.params) for r in summary.rows]
    maps = [s for _, _, s, _ in items if len(s) == 3]
    biggest = max([max(s[0], s[1]) for s in maps] or [1])
    scale = 160.0 / biggest  # the largest map's height is 160 units
    fig = go.Figure()
    x = 0.0
    annotations = []
    for name, kind, shape, params in items:
        color = _color(kind)
        hover = f"{name} ({kind})<br>{shape}<br>params: {params:,}"
        if len(shape) == 3:
            h, w, c = shape
            fh = max(h * scale, 3.0)
            depth = max(w * scale * 0.35, 2.0)
            thick = 4.0 + 3.0 * math.sqrt(c)
            y0 = -fh / 2
            # front, top and side faces of the cuboid (oblique projection: W recedes up and right)
            _poly(fig, [x, x + thick, x + thick, x], [y0, y0, y0 + fh, y0 + fh], color, hover)
            _poly(fig, [x, x + thick, x + thick + depth, x + depth], [y0 + fh, y0 + fh, y0 + fh + depth,
                                                                       y0 + fh + depth], _shade(color, 0.85), hover)
            _poly(fig, [x + thick, x + thick + depth, x + thick + depth, x + thick],
                  [y0, y0 + depth, y0 + fh + depth, y0 + fh], _shade(color, 0.7), hover)
            width = thick + depth
        else:
            n = shape[0] if shape else 1
            fh = 20 + 30 * math.log10(max(n, 1))
            width = 8.0
            _poly(fig, [x, x + width, x + width, x], [-fh / 2, -fh / 2, fh / 2, fh / 2], color, hover)
        # labels alternate between two rows so that neighbours never overlap
        annotations.append(dict(x=x + width / 2, y=-100 - 26 * (len(annotations) % 2), text=f"<b>{name}</b><br>{'x'.join(map(str, shape))}",
                                showarrow=False, font=dict(size=10, color=LABEL), yanchor="top", textangle=0))
        x += width + 28
    fig.update_layout(
        annotations=annotations, height=height, margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False, range=[-10, x]), yaxis=dict(visible=False, scaleanchor="x", range=[-160, 150]),
        plot_bgcolor="white", hovermode="closest",
    )
    return fig
