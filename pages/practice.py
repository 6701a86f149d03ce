"""Practice: exercises made from the lecture's arithmetic, checked at once against Keras, with the worked answer."""

import streamlit as st

from cnnviz.messages import MessageError
from cnnviz.ui import practice
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.links import share
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import t

ensure_entrypoint()

st.title(t("practice.title"))
st.markdown(t("practice.intro"))
kind, level, seed = practice.choose()
share()  # the link with the kind, level and number
score = st.container()  # filled at the end, once this run's check has counted

try:
    exercise = practice.make(kind, level, seed)
except MessageError as error:
    st.error(t("practice.error", error=message_text(error)))
    st.stop()

practice.question(exercise)
practice.answer_form(exercise)
if practice.feedback(exercise):
    practice.next_button(exercise)
practice.glossary(exercise)
practice.score(score)
