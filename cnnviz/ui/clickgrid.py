"""A picture of a grid that says which cell was clicked (a Streamlit Components v2 component of our own):
the step pages' output map moves the position to the clicked cell; the Activations zoom shows each cell's
value on hover and moves the receptive field's unit on a click.

One <img>, one click and one mousemove handler, whatever the number of cells (a plotly figure with a
clickable point per cell rebuilt thousands of SVG nodes on every change). The grid works from the keyboard
too: it is one Tab stop (role "application", its aria-label says what it is and which keys work); the arrow
keys (Home/End, PageUp/PageDown) move a dashed cursor cell, Enter or Space picks it as a click would, and the
hover readout follows the cursor and is read out (a polite live region). The component lives in the
page's own DOM (no shadow root), so the page's image and mutation observers see it like any other image.
"""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from cnnviz.ui.state import t

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
  // what the hover shows for a cell: its value through the hover text, else its row and column
  const readout = (cell) => {
    const g = img._grid, names = g.names || [null, null];
    const row = names[0] ? names[0][cell[0]] : cell[0], col = names[1] ? names[1][cell[1]] : cell[1];
    if (!g.values) return g.position.replace("{row}", row).replace("{col}", col);
    const v = g.values[cell[0] * g.cols + cell[1]];
    const text = Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
    return g.hover.replace("{row}", row).replace("{col}", col).replace("{value}", text);
  };
  // a box over one cell of the picture, in the picture's displayed pixels: at least `min` px, centred on the cell
  const place = (el, cell, min) => {
    const g = img._grid, s = img.clientWidth / g.width;
    const w = Math.max(min, g.cell_w * s), h = Math.max(min, g.cell_h * s);
    el.style.left = ((g.left + cell[1] * g.cell_w) * s - (w - g.cell_w * s) / 2) + "px";
    el.style.top = ((g.top + cell[0] * g.cell_h) * s - (h - g.cell_h * s) / 2) + "px";
    el.style.width = w + "px"; el.style.height = h + "px";
  };
  if (!img) {
    root.style.position = "relative"; root.style.display = "inline-block"; root.style.maxWidth = "100%";
    root.tabIndex = 0;
    root.setAttribute("role", "application");
    img = document.createElement("img");
    img.style.maxWidth = "100%"; img.style.imageRendering = "pixelated"; img.style.display = "block";
    root.appendChild(img);
    const tip = document.createElement("div");
    tip.className = "cnnviz-clickgrid-tip";
    tip.setAttribute("aria-hidden", "true");  // the live region below says the same to screen readers
    tip.style.cssText = "position:absolute;display:none;pointer-events:none;padding:2px 6px;border-radius:4px;" +
      "background:rgba(30,30,30,.85);color:#fff;font:12px sans-serif;white-space:nowrap;z-index:2";
    root.appendChild(tip);
    const mark = document.createElement("div");
    mark.className = "cnnviz-clickgrid-mark";
    mark.style.cssText = "position:absolute;display:none;pointer-events:none;box-sizing:border-box;" +
      "border:2px solid #ff2d55;outline:1px solid #fff";
    root.appendChild(mark);
    const cursor = document.createElement("div");
    cursor.className = "cnnviz-clickgrid-cursor";
    cursor.style.cssText = "position:absolute;display:none;pointer-events:none;box-sizing:border-box;" +
      "border:3px dashed #111;outline:2px solid #fff;z-index:1";
    root.appendChild(cursor);
    const live = document.createElement("div");
    live.className = "cnnviz-clickgrid-live";
    live.setAttribute("role", "status"); live.setAttribute("aria-live", "polite");
    live.style.cssText = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;" +
      "clip:rect(0 0 0 0);white-space:nowrap";
    root.appendChild(live);
    img.addEventListener("click", (e) => {
      const cell = cellAt(e);
      if (cell && img._grid.clickable) setTriggerValue("cell", cell);
    });
    img.addEventListener("mousemove", (e) => {
      const g = img._grid, cell = cellAt(e);
      if (!cell || !g.values) { tip.style.display = "none"; return; }
      tip.textContent = readout(cell);
      const r = root.getBoundingClientRect();
      tip.style.left = (e.clientX - r.left + 12) + "px"; tip.style.top = (e.clientY - r.top + 12) + "px";
      tip.style.display = "block";
    });
    img.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    // the keyboard: a cursor cell that starts on the marked cell, moves with the arrow keys, is picked with Enter
    // the cursor is the keyboard's: shown while the grid has the focus from Tab or a key, not after a mouse
    // click (which focuses the grid too, and whose picked cell's red mark the cursor would cover)
    root.addEventListener("pointerdown", () => { root._keys = false; });
    root._show = () => {
      const cell = root._cursor;
      const keyboard = root._keys || root.matches(":focus-visible");
      if (!cell || document.activeElement !== root || !keyboard || !img.clientWidth) {
        cursor.style.display = "none"; return;
      }
      place(cursor, cell, 10); cursor.style.display = "block";
      const text = readout(cell);
      tip.textContent = text;
      tip.style.left = (parseFloat(cursor.style.left) + parseFloat(cursor.style.width) + 4) + "px";
      tip.style.top = (parseFloat(cursor.style.top) + parseFloat(cursor.style.height) + 4) + "px";
      tip.style.display = "block";
      if (live.textContent !== text) live.textContent = text;
    };
    root.addEventListener("focus", () => {
      const g = img._grid;
      if (!root._cursor) root._cursor = g.start ? g.start.slice() : [0, 0];
      root._show();
    });
    root.addEventListener("blur", () => { cursor.style.display = "none"; tip.style.display = "none"; });
    root.addEventListener("keydown", (e) => {
      root._keys = true;
      const g = img._grid, c = root._cursor || (g.start ? g.start.slice() : [0, 0]);
      const page = Math.max(1, Math.round(Math.min(g.rows, g.cols) / 4));
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
                      PageUp: [-page, 0], PageDown: [page, 0] };
      let next = null;
      if (moves[e.key]) next = [c[0] + moves[e.key][0], c[1] + moves[e.key][1]];
      else if (e.key === "Home") next = e.ctrlKey ? [0, 0] : [c[0], 0];
      else if (e.key === "End") next = e.ctrlKey ? [g.rows - 1, g.cols - 1] : [c[0], g.cols - 1];
      else if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        if (g.clickable) setTriggerValue("cell", [c[0], c[1]]);
        return;
      } else return;
      e.preventDefault();
      root._cursor = [Math.min(g.rows - 1, Math.max(0, next[0])), Math.min(g.cols - 1, Math.max(0, next[1]))];
      root._show();
    });
  }
  const placeMark = () => {
    const g = img._grid, mark = root.querySelector(".cnnviz-clickgrid-mark");
    if (!g.mark || !img.clientWidth) { mark.style.display = "none"; root._show(); return; }
    place(mark, g.mark, 4);
    mark.style.display = "block";
    root._show();
  };
  if (data.values_b64 && data.values_b64 !== img._values_b64) {
    const bytes = Uint8Array.from(atob(data.values_b64), (c) => c.charCodeAt(0));
    data.values = new Float32Array(bytes.buffer);
    img._values_b64 = data.values_b64;
  } else if (data.values_b64) {
    data.values = img._grid.values;
  }
  const old = img._grid;
  img._grid = data;
  // a new grid (another size) or a new current cell (a pick, the steppers): the cursor goes there
  if (root._cursor && (!old || old.rows !== data.rows || old.cols !== data.cols ||
      String(old.start) !== String(data.start))) {
    root._cursor = data.start ? data.start.slice() :
      [Math.min(root._cursor[0], data.rows - 1), Math.min(root._cursor[1], data.cols - 1)];
  }
  root.setAttribute("aria-label", data.label || "");
  img.style.cursor = data.clickable ? "pointer" : "crosshair";
  img.onload = placeMark;
  if (img.getAttribute("src") !== data.src) img.setAttribute("src", data.src);
  img.setAttribute("alt", data.alt || "");
  img.style.width = data.width + "px";
  placeMark();
}
"""

_CSS = """
.cnnviz-clickgrid:focus { outline: none; }
.cnnviz-clickgrid:focus-visible { outline: 3px solid #1c6dd0; outline-offset: 3px; border-radius: 2px; }
"""

_component = st.components.v2.component("cnnviz_clickgrid", html='<div class="cnnviz-clickgrid"></div>', js=_JS,
                                        css=_CSS, isolate_styles=False)


def values_b64(values: np.ndarray) -> str:
    """The grid's values as little-endian float32, row-major, base64: what the hover reads (about 4/3 bytes
    per byte of float32, a third of the same numbers as JSON text)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()


def clickable(png: bytes, rows: int, cols: int, key: str, on_cell, box: tuple[int, int, int, int], size: tuple[int, int],
              alt: str = "", values: np.ndarray | None = None, hover: str = "",
              mark: tuple[int, int] | None = None, label: str = "", start: tuple[int, int] | None = None,
              names: tuple[list, list] | None = None) -> None:
    """Shows the PNG; a click on cell (row, col) of the grid drawn in it calls on_cell(row, col) before the
    next run (on_cell None: nothing to click). `box` is the grid's (left, top, cell width, cell height) in the
    PNG's pixels, `size` its (width, height). `values` (rows, cols): shown on hover through `hover`, a text
    with {row}, {col} and {value}; `mark`: a cell outlined on the picture.

    The keyboard: `label` says what the grid is (its accessible name, `alt` when empty; the keys that work
    are added to it); the cursor starts on `start` (`mark` when None) and reads out "row r, col c" (with
    the row and column `names`, when the grid shows only part of a bigger one), or the hover text."""
    left, top, cell_w, cell_h = box
    start = start if start is not None else mark
    keys = t("a11y.grid.keys.pick" if on_cell is not None else "a11y.grid.keys.read")
    data = {"src": "data:image/png;base64," + base64.b64encode(png).decode(), "rows": rows, "cols": cols,
            "left": left, "top": top, "cell_w": cell_w, "cell_h": cell_h, "width": size[0], "height": size[1],
            "alt": alt, "clickable": on_cell is not None, "mark": list(mark) if mark is not None else None,
            "label": f"{(label or alt).rstrip('. ')}. {keys}" if (label or alt) else keys,
            "start": [int(v) for v in start] if start is not None else None,
            "position": t("a11y.grid.position", row="{row}", col="{col}"),
            "names": [[int(v) for v in names[0]], [int(v) for v in names[1]]] if names is not None else None}
    if values is not None:
        data["values_b64"], data["hover"] = values_b64(np.asarray(values).reshape(rows, cols)), hover

    def changed():
        cell = getattr(st.session_state.get(key), "cell", None)
        if on_cell is not None and isinstance(cell, (list, tuple)) and len(cell) == 2:
            on_cell(int(cell[0]), int(cell[1]))

    _component(key=key, data=data, on_cell_change=changed)
