"""Texts of the UI, one module per language (en.py, ko.py): adding a language is adding one file.

Numbers, code and Keras names are never translated.
"""

from __future__ import annotations

import importlib
from functools import cache

LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"


@cache
def texts(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    return importlib.import_module(f"cnnviz.i18n.{lang}").TEXTS


def t(key: str, lang: str = DEFAULT, **values) -> str:
    """The text for `key` in `lang` (English where a translation is missing), formatted with `values`."""
    text = texts(lang).get(key)
    if text is None:
        text = texts(DEFAULT)[key]  # a KeyError here is a missing text: tests catch it
    return text.format(**values) if values else text
