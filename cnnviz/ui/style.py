"""The app's style rules, constant text of ours only (see tests/reliability/test_security.py):

- long formulas scroll inside their own box on narrow screens (phones) instead of being cut off at the
  right edge (cnnviz.ui.document makes such a box reachable by keyboard while it overflows);
- captions (st.caption) in the text colour at 75% instead of Streamlit's opacity 0.6, which is 3.8:1 on
  the sidebar's ground and 3.9:1 on white in the light theme (WCAG AA asks 4.5:1); `currentColor` in
  `color` is the inherited text colour, so the light and the dark theme each keep their own;
- a slider's value over its thumb in Streamlit's red mixed with 30% of the text colour: the dark theme's
  red alone is 3.9:1 on its ground; with the text colour it is darker on white, lighter on the dark ground;
- keyboard focus as a ring in the text colour where Streamlit shows little or nothing: a page link (its
  focus grey is the current page's grey), a radio option (a faint grey), an element toolbar's buttons
  (fullscreen, a table's search and download: the toolbar showed on hover only, so Tab reached invisible
  buttons; it now shows while it holds the focus) and a table's grid (no cell marked before an arrow key);
- plotly's axis, colour-bar and subplot labels in the light theme: Streamlit draws them #808495, 3.7:1
  on white; matched by that very colour (the dark theme's labels are light and pass), drawn #5c5f6e
  (6.3:1), where plotly's inline style would win without !important;
- code (st.code): Streamlit's light-theme token colours are 2.5:1 to 3.9:1 on the code's grey (numbers
  #29b09d, strings #09ab3b, operators #ed6f13, keywords #1c83e1, punctuation #808495); each hue is mixed
  half and half with the code's text colour (5.2:1 to 6.6:1 on the light ground, 8:1 or more on the dark
  one), and any other token kind takes the text colour;
- the sidebar's hidden document component (cnnviz.ui.document) takes no room.
"""

from __future__ import annotations

import streamlit as st

CSS = ("<style>[data-testid='stMarkdownContainer'] .katex-display"
       "{overflow-x:auto;overflow-y:hidden;padding:2px 0 6px}"
       ".stApp [data-testid='stCaptionContainer']{opacity:1;color:color-mix(in srgb,currentColor 75%,transparent)}"
       ".stApp [data-testid='stSliderThumbValue']{color:color-mix(in srgb,#cf4250 70%,currentColor)}"
       ".stApp [data-testid='stElementToolbar']:focus-within{opacity:1}"
       ".stApp :is([data-testid='stPageLink-NavLink'],[data-testid='stBaseButton-elementToolbar'],"
       "canvas[data-testid='data-grid-canvas']):focus-visible,"
       ".stApp [data-testid='stRadioOption']:has(input:focus-visible)"
       "{outline:2px solid currentColor;outline-offset:-2px}"
       ".stApp [data-testid='stPlotlyChart'] text[style*='fill: rgb(128, 132, 149)']{fill:#5c5f6e!important}"
       ".stApp [data-testid='stCode'] pre .token{color:inherit}"
       + "".join(f".stApp [data-testid='stCode'] pre .token.{kind}{{color:color-mix(in srgb,{hue} 50%,currentColor)}}"
                 for kind, hue in (("number", "#29b09d"), ("string", "#09ab3b"), ("operator", "#ed6f13"),
                                   ("keyword", "#1c83e1"), ("punctuation", "#808495")))
       + ".st-key-cnnviz-document{display:none}</style>")


def apply() -> None:
    """Once per run (a <style> alone takes no space on the page)."""
    st.html(CSS)
