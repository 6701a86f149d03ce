"""User-supplied text (upload file names) made safe to place inside Streamlit markdown.

st.error, st.caption, st.image captions and friends render markdown: a file named
"[link](https://...) **x**.png" would become a link and bold text, ":red[x]" coloured text, "$x$" math.
HTML is never rendered from user text (unsafe_allow_html only for the app's own constant text, see
tests/reliability/test_security.py), but markdown is, so names are escaped here.

korean_marked: the app's own text with its Korean words marked for screen readers (lang="ko").
"""

from __future__ import annotations

import html
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


# Hangul syllables, jamo and compatibility jamo; words of them separated by spaces stay one run ("피쳐 맵").
_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+(?: [\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+)*")


def korean_marked(text: str, heading: int = 0) -> str:
    """The app's own constant `text` (an i18n text, never user text) as markdown with inline HTML allowed:
    escaped as HTML and as markdown, each run of Hangul in <span lang="ko">, so that a screen reader reads
    the Korean terms of the English glossary ("Convolution (합성곱)") in Korean. `heading`: a markdown
    heading of that level (1 to 6), 0 for none."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(_CONTROLS.sub("\ufffd", str(text)), quote=False))
    marked = _HANGUL.sub(lambda m: f'<span lang="ko">{m.group(0)}</span>', escaped)
    return "#" * heading + " " + marked if heading else marked
