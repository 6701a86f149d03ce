"""Glossary: the course's CNN terms in the session's language, each linked to where it is shown live."""

import streamlit as st

from cnnviz.glossary import TERMS
from cnnviz.ui.state import t
from cnnviz.ui.text import korean_marked
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("glossary.title"))
st.markdown(t("glossary.intro"))
st.info(t("glossary.filter_vs_kernel"))

for term in TERMS:
    st.markdown(korean_marked(t(term.name_key), heading=3), unsafe_allow_html=True)  # its Korean words: lang="ko"
    st.markdown(t(term.text_key))
    st.page_link(term.page, label=t("glossary.see_live", page=t("nav." + term.page[len("pages/"):-len(".py")])),
                 icon=":material/arrow_forward:")
