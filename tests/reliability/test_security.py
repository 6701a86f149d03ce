"""Security settings and rules: the server config, bounded caches, no global Keras reset, no user text as HTML."""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from pathlib import Path

import pytest
from streamlit import byte_util
from streamlit.runtime.caching.cache_utils import CachedFunc

import cnnviz.ui
from cnnviz import images
from cnnviz.files import modelfiles
from tests.reliability.conftest import open_app, to_upload, upload
from tests.reliability.files import solid

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
APP_CODE = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "cnnviz").rglob("*.py"))]
UI_CODE = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "cnnviz" / "ui").glob("*.py"))]


def test_server_config():
    server, client, browser = CONFIG["server"], CONFIG["client"], CONFIG["browser"]
    assert server["enableXsrfProtection"] is True
    assert browser["gatherUsageStats"] is False
    assert client["showErrorDetails"] == "none"
    assert server.get("enableStaticServing", False) is False
    # A few MB for photos; the server's cap holds for every upload, the image check sits below it.
    assert 5 <= server["maxUploadSize"] <= 100
    assert images.MAX_BYTES <= 10 * 1024 * 1024  # a few MB for images
    assert images.MAX_BYTES <= server["maxUploadSize"] * 1024 * 1024 == modelfiles.MAX_FILE_BYTES
    # A total budget for st.cache_data across sessions, in a form Streamlit accepts.
    budget = byte_util.config_max_cache_data_size_to_bytes(server["maxCacheDataSize"])
    assert 64 * 1024**2 <= budget <= 2 * 1024**3


def _cached_functions():
    for info in pkgutil.iter_modules(cnnviz.ui.__path__, "cnnviz.ui."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, CachedFunc) and value._info.func.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value


def test_caches_are_bounded():
    """Every Streamlit cache that takes arguments (upload bytes, arrays, names) has max_entries or a ttl."""
    found = dict(_cached_functions())
    assert "cnnviz.ui.image_picker._decode" in found  # the one keyed by upload bytes
    for name, fn in found.items():
        params = fn._info.func.__code__.co_argcount
        if params == 0:
            continue  # one entry, ever
        assert fn._info.max_entries or fn._info.ttl, f"{name} caches without max_entries or ttl"
    decode = found["cnnviz.ui.image_picker._decode"]._info
    assert decode.max_entries <= 64 and decode.ttl is not None


def _code_lines(files, pattern):
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(pattern, code):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return hits


def test_no_global_keras_reset():
    """clear_session() would pull the models out from under every other session of the process."""
    assert _code_lines(APP_CODE, r"clear_session\s*\(") == []


# Places allowed to render HTML (the whole line), each with only the app's own constant text. Add with care.
HTML_ALLOWED: set[str] = {
    "st.html(CSS)",  # cnnviz/ui/style.py: one constant <style> element (formulas, captions, focus: its docstring)
    # pages/glossary.py: a term's name from en.py/ko.py, escaped, its Hangul in <span lang="ko"> (cnnviz.ui.text)
    'st.markdown(korean_marked(t(term.name_key), heading=3), unsafe_allow_html=True)  # its Korean words: lang="ko"',
}


def test_no_html_rendering_of_anything():
    hits = _code_lines(UI_CODE, r"unsafe_allow_html\s*=\s*True|\bst\.html\s*\(|components\.html\s*\(")
    assert [h for h in hits if h.split(": ", 1)[1] not in HTML_ALLOWED] == []


@pytest.mark.slow
def test_no_element_renders_html_after_a_hostile_upload():
    """Behaviour, not only grep: after uploading under an HTML name, no element on the page allows HTML."""
    at = open_app("activations")
    to_upload(at)
    upload(at, '<img src=x onerror="alert(1)">.png', solid((20, 20), (5, 5, 5)))
    assert not at.exception
    allowing, markdown = [], []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and "allow_html" in proto.DESCRIPTOR.fields_by_name:
            markdown.append(proto)
            if proto.allow_html:
                allowing.append(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    assert len(markdown) > 5  # the walk really saw the page's markdown elements
    assert allowing == []
