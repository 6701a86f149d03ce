"""A picture of a grid that says which cell was clicked (a Streamlit Components v2 component of our own):
the step pages' output map moves the position to the clicked cell; the Activations zoom shows each cell's
value on hover and moves the receptive field's unit on a click.

One <img>, one click and one mousemove handler, whatever the number of cells (a plotly figure with a
clickable point per cell rebuilt thousands of SVG nodes on every change). The component lives in the
page's own DOM (no shadow root), so the page's image and mutation observers see it like any other image.
"""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

_JS = """
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement.querySelector(".cnnviz-clickgrid");
  let img = root.querySelector("img");
  const cellAt = (e) => {
    const r = img.getBoundingClientRect(), g = img._grid;
    const x = (e.clientX - r.left) / r.width * g.width, y = (e.clientY - r.top) / r.height * g.height;
    const col = Math.floor((x - g.left) / g.cell_w), row = Math.floor((y - g.top) / g.cell_h);
    return (row >= 0 && row < g.rows && col >= 0 && col < g.cols) ? [row, col] : null;
  };
  if (!img) {
    root.style.position = "relative"; root.style.display = "inline-block"; root.style.maxWidth = "100%";
    img = document.createElement("img");
    img.style.maxWidth = "100%"; img.style.imageRendering = "pixelated"; img.style.display = "block";
    root.appendChild(img);
    const tip = document.createElement("div");
    tip.className = "cnnviz-clickgrid-tip";
    tip.style.cssText = "position:absolute;display:none;pointer-events:none;padding:2px 6px;border-radius:4px;" +
      "background:rgba(30,30,30,.85);color:#fff;font:12px sans-serif;white-space:nowrap;z-index:2";
    root.appendChild(tip);
    const mark = document.createElement("div");
    mark.className = "cnnviz-clickgrid-mark";
    mark.style.cssText = "position:absolute;display:none;pointer-events:none;box-sizing:border-box;" +
      "border:2px solid #ff2d55;outline:1px solid #fff";
    root.appendChild(mark);
    img.addEventListener("click", (e) => {
      const cell = cellAt(e);
      if (cell && img._grid.clickable) setTriggerValue("cell", cell);
    });
    img.addEventListener("mousemove", (e) => {
      const g = img._grid, cell = cellAt(e);
      if (!cell || !g.values) { tip.style.display = "none"; return; }
      const v = g.values[cell[0] * g.cols + cell[1]];
      const text = Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
      tip.textContent = g.hover.replace("{row}", cell[0]).replace("{col}", cell[1]).replace("{value}", text);
      const r = root.getBoundingClientRect();
      tip.style.left = (e.clientX - r.left + 12) + "px"; tip.style.top = (e.clientY - r.top + 12) + "px";
      tip.style.display = "block";
    });
    img.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  }
  const placeMark = () => {
    const g = img._grid, mark = root.querySelector(".cnnviz-clickgrid-mark");
    if (!g.mark || !img.clientWidth) { mark.style.display = "none"; return; }
    const s = img.clientWidth / g.width;
    mark.style.left = ((g.left + g.mark[1] * g.cell_w) * s) + "px";
    mark.style.top = ((g.top + g.mark[0] * g.cell_h) * s) + "px";
    mark.style.width = Math.max(4, g.cell_w * s) + "px"; mark.style.height = Math.max(4, g.cell_h * s) + "px";
    mark.style.display = "block";
  };
  if (data.values_b64 && data.values_b64 !== img._values_b64) {
    const bytes = Uint8Array.from(atob(data.values_b64), (c) => c.charCodeAt(0));
    data.values = new Float32Array(bytes.buffer);
    img._values_b64 = data.values_b64;
  } else if (data.values_b64) {
    data.values = img._grid.values;
  }
  img._grid = data;
  img.style.cursor = data.clickable ? "pointer" : "crosshair";
  img.onload = placeMark;
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.setAttribute("alt", data.alt || "");
  img.style.width = data.width + "px";
  placeMark();
}
"""

_component = st.components.v2.component("cnnviz_clickgrid", html='<div class="cnnviz-clickgrid"></div>', js=_JS,
                                        isolate_styles=False)


def values_b64(values: np.ndarray) -> str:
    """The grid's values as little-endian float32, row-major, base64: what the hover reads (about 4/3 bytes
    per byte of float32, a third of the same numbers as JSON text)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()


def clickable(png: bytes, rows: int, cols: int, key: str, on_cell, box: tuple[int, int, int, int], size: tuple[int, int],
              alt: str = "", values: np.ndarray | None = None, hover: str = "",
              mark: tuple[int, int] | None = None) -> None:
    """Shows the PNG; a click on cell (row, col) of the grid drawn in it calls on_cell(row, col) before the
    next run (on_cell None: nothing to click). `box` is the grid's (left, top, cell width, cell height) in the
    PNG's pixels, `size` its (width, height). `values` (rows, cols): shown on hover through `hover`, a text
    with {row}, {col} and {value}; `mark`: a cell outlined on the picture."""
    left, top, cell_w, cell_h = box
    data = {"src": "data:image/png;base64," + base64.b64encode(png).decode(), "rows": rows, "cols": cols,
            "left": left, "top": top, "cell_w": cell_w, "cell_h": cell_h, "width": size[0], "height": size[1],
            "alt": alt, "clickable": on_cell is not None, "mark": list(mark) if mark is not None else None}
    if values is not None:
        data["values_b64"], data["hover"] = values_b64(np.asarray(values).reshape(rows, cols)), hover

    def changed():
        cell = getattr(st.session_state.get(key), "cell", None)
        if on_cell is not None and isinstance(cell, (list, tuple)) and len(cell) == 2:
            on_cell(int(cell[0]), int(cell[1]))

    _component(key=key, data=data, on_cell_change=changed)
