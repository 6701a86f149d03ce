"""A second floor: one slider and, below it, what the Layer lab draws on a change (3 subheaders, 6 metrics,
6 formulas, 4 PNG pictures, 12 lines of text, a code block) with no computation behind them: the
numbers and pictures follow the slider, nothing else. The bare app (bare.py) is the floor of any page;
this one is the floor of a page with the Layer lab's elements, so `bench.floor` can say how much of a
Layer lab change is Streamlit drawing those elements and how much is cnnviz."""

import io

import numpy as np
import streamlit as st
from PIL import Image


@st.cache_data(max_entries=256)
def picture(value: int, width: int, height: int) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    a = ((x * 3 + y * 2 + value * 7) % 256).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([a, 255 - a, a // 2], axis=-1), "RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()


v = st.slider("Value", 0, 100, 50, key="bare")
st.markdown(f"Input: **{v} × 60 × 1** → conv **{v - 2} × 58 × 10** → pool **{(v - 2) // 2} × 29 × 10**")
for title in ("Shapes", "Arithmetic"):
    st.subheader(title)
    cols = st.columns(3)
    for i, col in enumerate(cols):
        col.metric(f"{title} {i}", f"{v * (i + 1):,}", help="what it is")
    st.caption(f"Caption {title}: {v}")
    left, right = st.columns(2)
    left.latex(rf"H_{{out}} = \left\lfloor \frac{{{v} + 2 \cdot 1 - 1 \cdot (3 - 1) - 1}}{{1}} \right\rfloor + 1 = {v}")
    right.latex(rf"W_{{out}} = \left\lfloor \frac{{60 + 2 \cdot 1 - 1 \cdot (3 - 1) - 1}}{{1}} \right\rfloor + 1 = 60")
    left.latex(rf"\text{{params}} = (3 \cdot 3 \cdot 1 + 1) \cdot 10 = {100 + v}")
for i in range(4):
    st.caption(f"Picture {i} at {v}")
    st.image(picture(v, 240 + 120 * (i % 2), 120 + 40 * i), output_format="PNG")
st.subheader("Code")
st.code(f"layers.Conv2D(10, (3, 3), padding='same')  # input ({v}, 60, 1)", language="python")
for i in range(6):
    st.markdown(f"Line {i}: the value is {v}.")
