"""The floor: the barest Streamlit app (one slider, one line of text). No Streamlit page can answer a
slider or open faster than this on the same machine, so bench figures are ratios to it."""

import streamlit as st

value = st.slider("Value", 0, 100, 50, key="bare")
st.write(f"The value is {value}.")
