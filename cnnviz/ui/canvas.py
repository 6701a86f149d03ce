"""A drawing canvas (a Streamlit Components v2 component, our own: light strokes on black, as UCI's
digits): brush size, eraser, undo and clear. The picture is sent when a stroke ends, as a PNG data URL.

streamlit-drawable-canvas 0.13 renders under Streamlit 1.67 but took no strokes from Chromium's pointer
events in our tests, so this small component does the one thing the app needs.
"""

from __future__ import annotations

import base64

import streamlit as st

SIZE = 240  # pixels, square

_JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".cnnviz-canvas");
  const size = data.size;
  let canvas = root.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.width = size; canvas.height = size;
    canvas.setAttribute("role", "img");  // a picture being drawn; its name says what it is, the note below it the keys
    canvas.setAttribute("aria-label", data.label || "drawing canvas");
    canvas.style.touchAction = "none"; canvas.style.maxWidth = "100%"; canvas.style.borderRadius = "6px";
    root.appendChild(canvas);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, size, size);
    canvas._undo = [];
    canvas._command = data.command;  // commands given before this canvas existed are not replayed
    if (data.initial) { const img = new Image(); img.onload = () => ctx.drawImage(img, 0, 0, size, size); img.src = data.initial; }
    let drawing = false, last = null;
    const at = (e) => { const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height]; };
    canvas.addEventListener("pointerdown", (e) => {
      drawing = true; last = at(e); canvas.setPointerCapture(e.pointerId);
      canvas._undo.push(ctx.getImageData(0, 0, size, size)); if (canvas._undo.length > 30) canvas._undo.shift();
      ctx.beginPath(); ctx.fillStyle = canvas._colour; ctx.arc(last[0], last[1], canvas._brush / 2, 0, 2 * Math.PI); ctx.fill();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return; const p = at(e);
      ctx.strokeStyle = canvas._colour; ctx.lineWidth = canvas._brush; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke(); last = p;
    });
    const end = () => { if (!drawing) return; drawing = false; canvas._send(); };
    canvas.addEventListener("pointerup", end); canvas.addEventListener("pointercancel", end);
  }
  canvas._brush = data.brush; canvas._colour = data.erase ? "#000" : "#fff";
  canvas._send = () => setStateValue("image", canvas.toDataURL("image/png"));
  const ctx = canvas.getContext("2d");
  if (data.command && data.command !== canvas._command) {
    canvas._command = data.command;
    if (data.command.startsWith("clear")) {
      canvas._undo.push(ctx.getImageData(0, 0, size, size)); ctx.fillStyle = "#000"; ctx.fillRect(0, 0, size, size);
      setStateValue("image", null);
    }
    if (data.command.startsWith("undo") && canvas._undo.length) {
      ctx.putImageData(canvas._undo.pop(), 0, 0); canvas._send();
    }
  }
}
"""

_component = st.components.v2.component("cnnviz_canvas", html='<div class="cnnviz-canvas"></div>', js=_JS)


def draw(key: str, brush: int, erase: bool, command: str, initial: bytes | None = None, label: str = "") -> tuple[bool, bytes | None]:
    """Shows the canvas; (changed, PNG bytes of the drawing or None when cleared). `command` ("undo:3",
    "clear:2") acts once per new value; `initial` is drawn when the canvas is first shown (another page)."""
    data = {"size": SIZE, "brush": int(brush), "erase": bool(erase), "command": command, "label": label,
            "initial": "data:image/png;base64," + base64.b64encode(initial).decode() if initial else None}
    result = _component(key=key, data=data, default={"image": None}, on_image_change=lambda: None)
    url = getattr(result, "image", None)
    seen_key = key + ".seen"
    if url == st.session_state.get(seen_key):
        return False, None
    st.session_state[seen_key] = url
    return True, png_bytes(url)


def png_bytes(url: str | None) -> bytes | None:
    """The bytes of a PNG data URL (None for None or anything else)."""
    prefix = "data:image/png;base64,"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    try:
        return base64.b64decode(url[len(prefix):], validate=True)
    except ValueError:
        return None
