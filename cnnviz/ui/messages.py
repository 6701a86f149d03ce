"""Messages computed in cnnviz (errors with a text key, see cnnviz.messages) in the session's language.

Values the user typed or uploaded (cnnviz.messages.Verbatim: file names, cells, strings from a model file)
are escaped for markdown, since st.error and friends render markdown.
"""

from __future__ import annotations

from cnnviz import messages
from cnnviz.ui.state import lang
from cnnviz.ui.text import plain

MAX_VALUE = 300  # characters of one user-supplied value shown (a Keras error text can be long)


def _escape(value: str) -> str:
    return plain(value, limit=MAX_VALUE)


def text(message) -> str:
    """A cnnviz message or exception in the session's language: t(key, **values) when it has a key, else str()."""
    return messages.text(message, lang(), escape=_escape)
