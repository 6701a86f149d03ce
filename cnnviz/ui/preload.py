"""Preload hints for the first page: the browser fetches the JavaScript and fonts that the default page
needs while it is still connecting, instead of in waterfalls after the page's elements arrive.

Streamlit's frontend loads one JavaScript chunk per kind of element (slider, selectbox, metric, KaTeX,
...) only when the first element of that kind arrives over the websocket, and each chunk then asks
for the chunks it imports: on a cold start the Layer lab waited about 2 s for those waterfalls after
its deltas had arrived (bench/coldstart). This ASGI middleware (passed to `st.App(middleware=...)` in
app.py) adds `<link rel="modulepreload">` and font `<link rel="preload">` hints to the HTML page
Streamlit serves, for the chunks the Layer lab and the sidebar load (measured in Chromium, see
`CHUNKS`). A chunk name that the installed Streamlit does not have is left out (tested).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import streamlit

STATIC = Path(streamlit.__file__).parent / "static"

# The chunks the default page loads after the websocket's first deltas, in the order Chromium asked for
# them (module name before the content hash: "Slider" for static/js/Slider.WU6er_Bo.js).
CHUNKS = (
    "Html", "purify.es", "useCollator", "Autocomplete", "useMenuTrigger", "Input", "useLoadMoreSentinel",
    "Selectbox", "_baseMap", "sortBy", "useFormReset", "useFormValidation", "useTextField",
    "useSyncComboBoxEnterTargetFocus", "useFilter", "Cancel.esm", "WidgetLabel", "useField",
    "ErrorOutline.esm", "WidgetLabelHelpIcon", "useBasicWidgetState", "WidgetLabelHelpIconInline",
    "requiredField", "Radio", "ImageList", "useSlot", "withFullScreenWrapper", "checkboxIndicatorStyles",
    "Slider", "Checkbox", "moment", "formatNumber", "numbro", "formatMoment", "sprintfjs",
    "withCalculatedWidth", "Metric", "printWidthCap", "CustomTheme", "TextField", "InputInstructions",
    "hastscript", "NumberInput", "web-namespaces", "rehype-katex", "StreamlitSyntaxHighlighter",
)
# Fonts the formulas and the code block need (KaTeX's, Streamlit's monospace).
FONTS = ("KaTeX_Main-Regular", "KaTeX_Math-Italic", "KaTeX_Size1-Regular", "SourceCodeVF-Upright.ttf")


def _resolve(folder: Path, name: str, suffix: str) -> str | None:
    """The one file `<name>.<hash><suffix>` in `folder`, or None."""
    pattern = re.compile(re.escape(name) + r"\.[A-Za-z0-9_-]{8}" + re.escape(suffix) + "$")
    found = [p.name for p in folder.iterdir() if pattern.match(p.name)] if folder.is_dir() else []
    return found[0] if len(found) == 1 else None


@functools.cache
def hints() -> str:
    """The <link> tags, one per chunk and font that the installed Streamlit has."""
    links = []
    for name in CHUNKS:
        file = _resolve(STATIC / "static" / "js", name, ".js")
        if file:
            links.append(f'<link rel="modulepreload" href="./static/js/{file}" />')
    for name in FONTS:
        file = _resolve(STATIC / "static" / "media", name, ".woff2")
        if file:
            links.append(f'<link rel="preload" href="./static/media/{file}" as="font" type="font/woff2" crossorigin />')
    return "".join(links)


def add_hints(html: bytes) -> bytes:
    """The page with the hints just before </head> (unchanged when it has none)."""
    marker = b"</head>"
    at = html.find(marker)
    return html if at < 0 else html[:at] + hints().encode() + html[at:]


_ASSET_PREFIXES = ("/_stcore", "/static", "/media", "/component", "/app/static", "/favicon", "/manifest")


class PreloadMiddleware:
    """Adds the hints to every HTML page the server sends; every other request passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or path.startswith(_ASSET_PREFIXES):
            await self.app(scope, receive, send)
            return
        # the hints go into the HTML text: ask the inner app for an uncompressed answer
        scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"])
        held: dict = {}
        body: list[bytes] = []

        async def patched(message):
            if message["type"] == "http.response.start":
                headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/html") and message.get("status") == 200:
                    held["start"] = message  # sent with the new length once the body is complete
                    return
                await send(message)
            elif message["type"] == "http.response.body" and "start" in held:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                page = add_hints(b"".join(body))
                start = held.pop("start")
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page, "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, patched)


ENV = "CNNVIZ_PRELOAD"  # "0": no hints (to measure the cold start without them)


def middleware() -> list:
    """For st.App(middleware=...): the hints, unless CNNVIZ_PRELOAD=0."""
    import os

    from starlette.middleware import Middleware

    if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return []
    return [Middleware(PreloadMiddleware)]
