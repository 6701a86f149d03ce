"""Every text exists in every language, with the same placeholders, and none is empty."""

import string

import pytest

from cnnviz import i18n
from cnnviz.glossary import TERMS

OTHERS = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", OTHERS)
def test_same_keys_in_every_language(lang):
    base, other = set(i18n.texts(i18n.DEFAULT)), set(i18n.texts(lang))
    assert not base - other, f"missing in {lang}: {sorted(base - other)}"
    assert not other - base, f"only in {lang}: {sorted(other - base)}"


@pytest.mark.parametrize("lang", OTHERS)
def test_same_placeholders(lang):
    base, other = i18n.texts(i18n.DEFAULT), i18n.texts(lang)
    wrong = {k: (placeholders(base[k]), placeholders(other[k])) for k in base.keys() & other.keys()
             if placeholders(base[k]) != placeholders(other[k])}
    assert not wrong, wrong


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_no_empty_texts(lang):
    empty = [k for k, v in i18n.texts(lang).items() if not isinstance(v, str) or not v.strip()]
    assert not empty


def test_korean_is_korean():
    """Texts with words in them are translated (Hangul present), except names that stay as they are."""
    ko = i18n.texts("ko")
    en = i18n.texts("en")
    same = [k for k in ko if ko[k] == en[k] and any(c.isalpha() for c in en[k]) and len(en[k].split()) > 3]
    assert not same, f"untranslated: {same}"


def test_glossary_terms_have_texts_and_help():
    for term in TERMS:
        for key in (term.name_key, term.text_key, term.help_key):
            assert key in i18n.texts("en"), key


def test_missing_key_raises():
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "ko")
