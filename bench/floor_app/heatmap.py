"""A third floor: what the Activations page's zoom redraws when its channel slider moves, with no model
behind it: a subheader, a select box, the slider, one plotly heatmap built by the same function
(cnnviz.plots.activations.channel_heatmap, 116x56 values like the trained default's first conv layer)
and a caption. The heatmap's values follow the slider, nothing else is computed. `bench.floor` measures
it like the bare app: how much of that change is plotly and the browser redrawing one hoverable map."""

import numpy as np
import streamlit as st

from cnnviz.plots.activations import channel_heatmap

st.set_page_config(layout="wide")
st.subheader("Zoom one channel")
a, b = st.columns([2, 3])
a.selectbox("Layer", ["conv1", "pool1", "conv2"], key="h.layer")
channel = b.slider("Channel", 0, 11, 0, key="bare")
values = np.sin(np.add.outer(np.arange(116) / 9.0, np.arange(56) / 7.0) + channel).astype("float32")
chart, notes = st.columns([3, 2])
chart.plotly_chart(channel_heatmap(values), key="h.chart", config={"displayModeBar": False})
notes.caption(f"conv1, channel {channel}: min {values.min():.4g}, max {values.max():.4g}. Hover a cell.")
