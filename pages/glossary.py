"""Placeholder: this page is being built."""

import streamlit as st

from cnnviz.ui.state import t

st.title(t("nav.glossary"))
