"""Convolution as a sum of random variables: f1, f2, f1 * f2 and a Monte-Carlo check."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import kernels
from cnnviz import probability as pr
from cnnviz.plots import convolution as plots
from cnnviz.ui.messages import text as message_text
from cnnviz.ui import figures, steps
from cnnviz.ui.links import share
from cnnviz.ui.state import t
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

K = "probability."


keep = steps.keep  # the value survives language and page switches, and is in the page's link


def choose(label: str, key: str, default: str):
    """Widgets for one distribution; returns a cnnviz.probability.Distribution."""
    st.subheader(label)
    kind = st.selectbox(t("prob.kind"), pr.KINDS, **keep(key + ".kind", default),
                        format_func=lambda k: t(f"prob.kind.{k}"))
    if kind == "die":
        return pr.die(st.number_input(t("prob.sides"), 1, 20, **keep(key + ".sides", 6)))
    if kind == "loaded_die":
        face = st.number_input(t("prob.face"), 1, 6, **keep(key + ".face", 6))
        p = st.slider(t("prob.face_probability"), 0.0, 1.0, step=0.05, **keep(key + ".p", 0.5))
        return pr.loaded_die(int(face), float(p))
    if kind == "uniform":
        a, b = st.columns(2)
        low = a.number_input(t("prob.low"), -20, 20, **keep(key + ".low", 0))
        high = b.number_input(t("prob.high"), -20, 40, **keep(key + ".high", 3))
        return pr.uniform(low, high)
    start = pd.DataFrame({t("prob.value"): [0, 1, 2], t("prob.weight"): [1.0, 2.0, 1.0]})
    table = st.data_editor(start, key=f"{key}.table.{st.session_state.get('cnnviz.lang')}", num_rows="dynamic",
                           hide_index=True)
    cols = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return pr.table(cols[:, 0], cols[:, 1])


st.title(t("prob.title"))
st.markdown(t("prob.intro"))
st.latex(r"r_1 \sim f_1,\quad r_2 \sim f_2,\quad S = r_1 + r_2 \sim f_S(s) = (f_1 * f_2)(s) = "
         r"\sum_{y} f_1(y)\, f_2(s - y) \quad\left(= \int_{-\infty}^{\infty} f_1(y)\, f_2(s - y)\, dy\right)")
st.caption(t("prob.slide_note"))

left, right = st.columns(2)
try:
    with left:
        f1 = choose("f1", K + "f1", "die")
    with right:
        f2 = choose("f2", K + "f2", "die")
except ValueError as error:
    st.error(t("prob.bad_table", error=message_text(error)))
    st.stop()

fs = pr.convolve(f1, f2)
y_label = t("prob.probability")
c1, c2, c3 = st.columns(3)
# f1 and f2 are the tables edited above; the sum's numbers in a table under its bars, the means below
c1.plotly_chart(plots.distribution_bars(f1.values, f1.probs, "f1", "#1f77b4", "r1", y_label), key=K + "bars1")
c2.plotly_chart(plots.distribution_bars(f2.values, f2.probs, "f2", "#ff7f0e", "r2", y_label), key=K + "bars2")
figures.chart(c3, plots.distribution_bars(fs.values, fs.probs, "f1 * f2", "#9467bd", "s = r1 + r2", y_label),
              table=True, caption=False, key=K + "bars3")
st.markdown(t("prob.moments", m1=f"{f1.mean:.3f}", m2=f"{f2.mean:.3f}", ms=f"{fs.mean:.3f}",
              v1=f"{f1.variance:.3f}", v2=f"{f2.variance:.3f}", vs=f"{fs.variance:.3f}"))

st.header(t("prob.one_value"))
lo, hi = int(fs.values[0]), max(int(fs.values[-1]), int(fs.values[0]) + 1)  # a slider needs two ends
st.session_state[K + "s"] = min(max(st.session_state.get(K + "s", int(fs.values[len(fs.values) // 2])), lo), hi)
s = st.slider(t("prob.pick_s"), lo, hi, **keep(K + "s", lo))
terms = [(int(y), float(p), float(f2.probs[s - y - f2.start]))
         for y, p in zip(f1.values, f1.probs) if 0 <= s - y - f2.start < len(f2.probs)]
written = " + ".join(f"f1({y})·f2({s - y})" for y, _, _ in terms) or "0"
numbers = " + ".join(f"{a:.3f}·{b:.3f}" for _, a, b in terms) or "0"
total = sum(a * b for _, a, b in terms)
st.markdown(t("prob.one_value.text", s=s))
st.code(f"f_S({s}) = {written}\n       = {numbers}\n       = {total:.4f}", language=None)

st.header(t("prob.monte_carlo"))
a, b = st.columns(2)
n = a.select_slider(t("prob.samples"), [100, 1_000, 10_000, 100_000, 1_000_000], **keep(K + "n", 10_000))
seed = b.number_input(t("prob.seed"), 0, 9999, **keep(K + "seed", 0))
_, freq = pr.monte_carlo(f1, f2, n, int(seed))
figures.chart(st, plots.sum_vs_samples(fs.values, fs.probs, freq.probs, t("prob.mc_title", n=f"{n:,}"),
                                       "f1 * f2", t("prob.mc_label"), "s", y_label), table=True, caption=False,
              key=K + "mc")  # the largest difference follows
st.markdown(t("prob.mc_agreement", diff=f"{np.abs(freq.probs - fs.probs).max():.4f}", n=f"{n:,}"))

share()  # the link with these distributions and settings

st.header(t("prob.to_images"))
st.markdown(t("prob.to_images.text"))
st.latex(r"\text{out}(i, j) = b + \sum_{c}\sum_{u}\sum_{v} x(i s + u d,\; j s + v d,\; c)\, w(u, v, c)")
st.markdown(t("prob.two_d.text"))
box, gauss = kernels.kernel("box_blur", 3), kernels.kernel("gaussian_blur", 3)
both = pr.convolve2d(box, gauss)
c1, c2, c3 = st.columns([3, 3, 4])
steps.number_grid(c1, t("prob.two_d.box"), box, decimals=3, colorscale="Blues")
steps.number_grid(c2, t("prob.two_d.gauss"), gauss, decimals=3, colorscale="Blues")
steps.number_grid(c3, t("prob.two_d.both"), both, decimals=3, colorscale="Blues")
st.caption(t("prob.two_d.caption", total=f"{both.sum():.4f}"))
st.page_link("pages/convolution.py", label=t("prob.to_images.link"), icon=":material/grid_on:")
