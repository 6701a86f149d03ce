"""A second floor: what a Layer lab change redraws, element for element, with no computation behind it.

The same kinds and numbers of elements as pages/layer_lab.py's `lab` fragment (with its footprint and
maps fragments): 20 widgets (sliders, radios, select boxes, toggles, number inputs), 3 shape lines, 6
metrics, 5 formulas and a KaTeX legend, 6 PNG pictures, the code block, subheaders and captions. The
numbers and pictures follow the first slider, nothing else is computed. The bare app (bare.py) is the
floor of any page; this is the floor of a page that draws what the Layer lab draws, so `bench.floor` can
say how much of a Layer lab change is Streamlit and the browser drawing those elements and how much is
cnnviz.
"""

import io

import numpy as np
import streamlit as st
from PIL import Image


@st.cache_data(max_entries=512)
def picture(value: int, width: int, height: int) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    a = ((x * 3 + y * 2 + value * 7) % 256).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([a, 255 - a, a // 2], axis=-1), "RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()


st.set_page_config(layout="wide")
st.title("Layer lab's elements")
cols = st.columns(3, gap="large")
with cols[0]:
    st.subheader("Input")
    st.toggle("Use the image's shape", key="e.toggle")
    v = st.slider("Input height", 1, 256, 120, key="bare")
    st.slider("Input width", 1, 256, 60, key="e.w")
    st.slider("Channels", 1, 4, 1, key="e.c")
    st.markdown(f"→ conv **{v} × 60 × 10** → pool **{v // 2} × 30 × 10**")
with cols[1]:
    st.subheader("Conv2D")
    for label, hi, default in (("Filters", 64, 10), ("Kernel height", 11, 3), ("Kernel width", 11, 3),
                               ("Stride", 5, 1), ("Dilation", 4, 1)):
        st.slider(label, 1, hi, default, key=f"e.{label}", help="what it does")
    st.radio("Padding", ["valid", "same"], index=1, horizontal=True, key="e.padding")
    st.selectbox("Activation", ["relu", "linear", "sigmoid", "tanh"], key="e.act")
    st.markdown(f"Conv2D: **{v} × 60 × 1** → **{v} × 60 × 10**")
with cols[2]:
    st.subheader("Pooling")
    st.selectbox("Kind", ["max", "average", "min"], key="e.pool")
    st.slider("Pool size", 1, 6, 2, key="e.ps")
    st.slider("Pool stride", 1, 6, 2, key="e.pst")
    st.radio("Pool padding", ["valid", "same"], horizontal=True, key="e.pp")
    st.markdown(f"Pooling: **{v // 2} × 30 × 10**")
for row in range(2):
    for i, col in enumerate(st.columns(3)):
        col.metric(f"Metric {row}.{i}", f"{v * (i + 1) + row:,}", help="what it is")
st.subheader("Conv2D arithmetic")
st.caption(f"'same' split: top {v % 2}, bottom 1, left 1, right 1")
left, right = st.columns(2, gap="large")
left.latex(rf"H_{{out}} = \left\lfloor \frac{{{v} + 2 \cdot 1 - 1 \cdot (3 - 1) - 1}}{{1}} \right\rfloor + 1 = {v}")
right.latex(r"W_{out} = \left\lfloor \frac{60 + 2 \cdot 1 - 1 \cdot (3 - 1) - 1}{1} \right\rfloor + 1 = 60")
left.latex(r"\text{params} = (3 \cdot 3 \cdot 1 + 1) \cdot 10 = 100")
right.latex(rf"\text{{MACs}} = {v} \cdot 60 \cdot 3 \cdot 3 \cdot 1 \cdot 10 = {v * 5400:,}")
st.subheader("Pooling arithmetic")
st.caption("Pooling has no parameters")
st.latex(rf"H_{{out}} = \left\lfloor \frac{{{v} - 2}}{{2}} \right\rfloor + 1 = {v // 2}")
st.subheader("Footprint")
st.caption("The padded input and the kernel's taps at one output position")
pos = st.columns([1, 1, 3])
pos[0].number_input("Output row", 0, 200, 0, key="e.row")
pos[1].number_input("Output column", 0, 200, 0, key="e.col")
st.caption(f"Padded input: {v + 2}×62 · output {v}×60, position (0, 0)")
st.image(picture(v, 420, 420), output_format="PNG")
st.markdown(r"$\fcolorbox{#888888}{#dddddd}{\phantom{0}}$ padding   $\fcolorbox{#888888}{#ff8800}{\phantom{0}}$ tap")
st.subheader("Keras code")
st.code(f"layers.Conv2D(10, (3, 3), padding='same', input_shape=({v}, 60, 1))", language="python")
st.subheader("Feature maps")
st.caption("All 10 filters")
k = st.columns([1, 1, 2])
k[0].selectbox("Kernel", ["identity", "sobel"], key="e.kernel")
k[1].slider("Bias", -1.0, 1.0, 0.0, 0.05, key="e.bias")
with k[2]:
    st.markdown("**Kernel weights**")
    st.image(picture(v, 90, 90), output_format="PNG")
    st.caption("the same on every input channel")
st.markdown("**The 10 kernels**")
st.image(picture(v, 600, 60), output_format="PNG")
st.caption("0: identity · 1: Sobel x · 2: Sobel y · ...")
top = st.columns([1, 3])
top[0].image(picture(v, 60, max(v, 8)), caption=f"input {v}×60", output_format="PNG")
with top[1]:
    st.markdown("**Colour scale**")
    st.image(picture(v, 400, 30), output_format="PNG")
st.markdown(f"**before** ({v}×60×10) → **after** ({v}×60×10) → **pooled** ({v // 2}×30×10)")
st.image(picture(v, 700, 3 * max(v, 8)), output_format="PNG")
st.caption("Ran on cpu:0")
st.toggle("Zoom one map", key="e.zoom")
