"""What the page's document says about itself and Streamlit leaves as it is (a Components v2 component of our
own, rendered once per run by the sidebar): `<html lang>` follows the language chosen in the sidebar (`ko`
for Korean, `en` otherwise), so screen readers read Korean as Korean; the sidebar's link to the page
shown carries aria-current="page" (Streamlit's st.page_link shows it only in bold, on a grey ground); and
the links' container is a named navigation landmark (screen readers list it and jump to it). On a phone,
choosing a page closes the sidebar, which covers the page there (Streamlit's own navigation did so).

The component lives in the page's own DOM (no shadow root); its element container is hidden by
cnnviz.ui.style (it shows nothing). A MutationObserver on the sidebar puts aria-current back on the
current link when Streamlit redraws the links.

A third thing: boxes that scroll sideways (our formulas on a phone, st.code's code, a wide st.table)
take the keyboard focus, as a region named by what it holds, while they overflow (axe's
`scrollable-region-focusable`: a keyboard user scrolls them with the arrow keys once focused); boxes that
fit stay out of the tab order.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.ui import state
from cnnviz.ui.state import t

SCROLLERS = {  # the boxes that scroll sideways on a narrow screen, and the i18n key of each one's name
    "[data-testid='stMarkdownContainer'] .katex-display": "a11y.scroll.formula",  # cnnviz.ui.style
    "[data-testid='stCode'] pre": "a11y.scroll.code",
    "[data-testid='stTable'] > div": "a11y.scroll.table",
}
KEY = "cnnviz-document"  # its element container's class is st-key-cnnviz-document

_JS = """
export default function (component) {
  const { data } = component;
  document.documentElement.lang = data.lang;
  window.__cnnvizCurrentPage = data.page;
  window.__cnnvizNavLabel = data.nav;
  const mark = () => {
    const nav = document.querySelector("[data-testid='stSidebar'] .st-key-cnnviz-nav");
    if (nav && nav.getAttribute("aria-label") !== window.__cnnvizNavLabel) {
      nav.setAttribute("role", "navigation"); nav.setAttribute("aria-label", window.__cnnvizNavLabel);
    }
    const links = document.querySelectorAll("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']");
    for (const a of links) {
      const path = (a.getAttribute("href") || "").split("?")[0].replace(/^\\/+/, "");
      if (path === window.__cnnvizCurrentPage) {
        if (a.getAttribute("aria-current") !== "page") a.setAttribute("aria-current", "page");
      } else if (a.hasAttribute("aria-current")) {
        a.removeAttribute("aria-current");
      }
    }
  };
  mark();
  window.__cnnvizScrollLabels = data.scroll;
  const reach = () => {  // a box that scrolls sideways takes the keyboard focus (arrow keys scroll it), with a name
    for (const [selector, label] of Object.entries(window.__cnnvizScrollLabels)) {
      for (const box of document.querySelectorAll(selector)) {
        const scrolls = box.scrollWidth > box.clientWidth + 1;
        if (scrolls && box.getAttribute("tabindex") !== "0") {
          box.setAttribute("tabindex", "0"); box.setAttribute("role", "region"); box.setAttribute("aria-label", label);
        } else if (!scrolls && box.getAttribute("tabindex") === "0") {
          box.removeAttribute("tabindex"); box.removeAttribute("role"); box.removeAttribute("aria-label");
        } else if (scrolls && box.getAttribute("aria-label") !== label) {
          box.setAttribute("aria-label", label);
        }
      }
    }
  };
  let pending = 0;
  window.__cnnvizReach = () => { if (!pending) pending = setTimeout(() => { pending = 0; reach(); }, 250); };
  window.__cnnvizReach();
  const main = document.querySelector("[data-testid='stMain']");
  if (main && window.__cnnvizMainObserved !== main) {
    window.__cnnvizMainObserved = main;
    new MutationObserver(() => window.__cnnvizReach()).observe(main, { childList: true, subtree: true });
    window.addEventListener("resize", () => window.__cnnvizReach());
  }
  const sidebar = document.querySelector("[data-testid='stSidebar']");
  if (sidebar && window.__cnnvizNavObserved !== sidebar) {
    window.__cnnvizNavObserved = sidebar;
    new MutationObserver(mark).observe(sidebar, { childList: true, subtree: true, attributes: true,
                                                  attributeFilter: ["href"] });
    sidebar.addEventListener("click", (e) => {  // on a phone the sidebar covers the page: close it, as
      if (window.innerWidth >= 768) return;      // Streamlit's own navigation does (its breakpoint md)
      if (!e.target.closest(".st-key-cnnviz-nav [data-testid='stPageLink-NavLink']")) return;
      const collapse = sidebar.querySelector("[data-testid='stSidebarCollapseButton'] button");
      if (collapse) setTimeout(() => collapse.click(), 0);
    });
  }
}
"""

_component = st.components.v2.component("cnnviz_document", html="<span></span>", js=_JS, isolate_styles=False)


def html_lang(lang: str) -> str:
    """The `<html lang>` value for the app's language choice: `ko` for Korean, `en` for anything else."""
    return "ko" if lang == "ko" else "en"


def render(page: str) -> None:
    """Once per run, in the sidebar: `page` is the url_path of the page shown ("" for the default page)."""
    with st.sidebar:
        _component(key=KEY, data={"lang": html_lang(state.lang()), "page": page, "nav": t("a11y.nav"),
                                        "scroll": {css: t(key) for css, key in SCROLLERS.items()}})
