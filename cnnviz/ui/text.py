"""User-supplied text (upload file names) made safe to place inside Streamlit markdown.

st.error, st.caption, st.image captions and friends render markdown: a file named
"[link](https://...) **x**.png" would become a link and bold text, ":red[x]" coloured text, "$x$" math.
HTML is never rendered (no unsafe_allow_html anywhere), but markdown is, so names are escaped here.
"""

from __future__ import annotations

import re

MAX_NAME = 80  # characters of a file name shown; longer names keep their start and end

# CommonMark lets a backslash escape any ASCII punctuation. Escaped: what can start markup in the middle of
# a sentence (links, emphasis, code, autolinks, tables) and Streamlit's extras (":emoji:", ":red[...]",
# "$math$", "~strike~"). Dots and hyphens stay as they are: only at a line's start could they mean a list.
_MARKDOWN = re.compile(r"([\\`*_\[\]()<>#!|~$:])")
# Bidirectional controls (they can make "gnp.exe" read as "exe.png") and other invisible format characters.
_CONTROLS = re.compile("[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def plain(text: str, limit: int = MAX_NAME) -> str:
    """`text` as markdown that shows exactly these characters (controls as �), shortened to `limit`."""
    text = _CONTROLS.sub("\ufffd", str(text))
    if len(text) > limit:
        keep = limit - 1
        text = text[: keep - keep // 3] + "…" + text[len(text) - keep // 3:]
    return _MARKDOWN.sub(r"\\\1", text)
