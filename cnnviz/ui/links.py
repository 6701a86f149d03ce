"""Links that reopen a view: widgets bound to the page's URL (Streamlit's `bind="query-params"`).

A bound widget's key is its query parameter (`?ll.kernel_h=5&ll.padding=valid&cnnviz.lang=ko`); Streamlit
writes it when the value changes, drops it when the value is the default, reads it when a page opens,
and ignores (and removes) values that do not fit the widget: unknown keys, numbers out of range, wrong
types, options that do not exist. Uploads, drawings and trained models are never in a link.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from cnnviz.ui.state import t

LINK = "query-params"  # the `bind=` of every widget whose value belongs in the page's link


def current_link() -> str:
    """This page's address with its bound settings, as the browser shows it."""
    url = str(getattr(st.context, "url", "") or "").split("?", 1)[0]
    params = {k: v for k, v in st.query_params.to_dict().items()}
    return url + ("?" + urlencode(params, doseq=True) if params else "")


def share(where=None, note: str | None = None) -> None:
    """A "Link to this view" box: the address in a code block, which has a copy button; `note` says what
    the link leaves out (uploads, edits, trained weights) where it matters."""
    where = where or st
    with where.expander(t("links.share"), icon=":material/link:"):
        st.caption(t("links.share.help"))
        if note:
            st.caption(note)
        st.code(current_link(), language=None, wrap_lines=True)


PREFIXES = ("cnnviz.", "ll.", "convolution.", "pooling.", "activations.", "filters.", "explain.", "probability.", "live.",
            "practice.")  # the app's own keys
MAX_SHOWN = 60  # characters of ignored names shown in the notice


def ignore_unknown() -> None:
    """Query parameters that are none of this app's settings (a mistyped or tampered link): removed from
    the URL, named in a small notice (as plain text), never used."""
    from cnnviz.ui.text import plain

    unknown = [k for k in list(st.query_params.keys()) if not k.startswith(PREFIXES)]
    if not unknown:
        return
    for key in unknown:
        del st.query_params[key]
    names = ", ".join(unknown)
    names = names if len(names) <= MAX_SHOWN else names[:MAX_SHOWN] + "…"
    st.sidebar.caption(t("links.ignored", names=plain(names)))
