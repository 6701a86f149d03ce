"""A picture of a grid that says which cell was clicked (a Streamlit Components v2 component of our own):
the step pages' output map moves the position to the clicked cell."""

from __future__ import annotations

import base64

import streamlit as st

_JS = """
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement.querySelector(".cnnviz-clickgrid");
  let img = root.querySelector("img");
  if (!img) {
    img = document.createElement("img");
    img.style.maxWidth = "100%"; img.style.cursor = "pointer"; img.style.imageRendering = "pixelated";
    root.appendChild(img);
    img.addEventListener("click", (e) => {
      const r = img.getBoundingClientRect(), g = img._grid;
      const x = (e.clientX - r.left) / r.width * g.width, y = (e.clientY - r.top) / r.height * g.height;
      const col = Math.floor((x - g.left) / g.cell_w), row = Math.floor((y - g.top) / g.cell_h);
      if (row >= 0 && row < g.rows && col >= 0 && col < g.cols) setTriggerValue("cell", [row, col]);
    });
  }
  img._grid = data;
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.setAttribute("alt", data.alt || "");
  img.style.width = data.width + "px";
}
"""

_component = st.components.v2.component("cnnviz_clickgrid", html='<div class="cnnviz-clickgrid"></div>', js=_JS)


def clickable(png: bytes, rows: int, cols: int, key: str, on_cell, box: tuple[int, int, int, int], size: tuple[int, int],
              alt: str = "") -> None:
    """Shows the PNG; a click on cell (row, col) of the grid drawn in it calls on_cell(row, col) before the
    next run. `box` is the grid's (left, top, cell width, cell height) in the PNG's pixels, `size` its
    (width, height)."""
    left, top, cell_w, cell_h = box
    data = {"src": "data:image/png;base64," + base64.b64encode(png).decode(), "rows": rows, "cols": cols,
            "left": left, "top": top, "cell_w": cell_w, "cell_h": cell_h, "width": size[0], "height": size[1],
            "alt": alt}

    def changed():
        cell = getattr(st.session_state.get(key), "cell", None)
        if isinstance(cell, (list, tuple)) and len(cell) == 2:
            on_cell(int(cell[0]), int(cell[1]))

    _component(key=key, data=data, on_cell_change=changed)
