"""cnnviz.ui.text.korean_marked: the Korean words of our own texts in <span lang="ko">, nothing else as HTML.
(What the browser makes of it: tests/browser/test_page_chrome.py, glossary headings.)"""

from cnnviz import i18n
from cnnviz.glossary import TERMS
from cnnviz.ui.text import korean_marked


def test_hangul_runs_wrapped_and_the_rest_escaped():
    assert korean_marked("Feature map (피쳐 맵)") == 'Feature map \\(<span lang="ko">피쳐 맵</span>\\)'
    assert korean_marked("Grad-CAM++ (그래드캠++)", heading=3) == '### Grad-CAM++ \\(<span lang="ko">그래드캠</span>++\\)'
    hostile = korean_marked('<img src=x onerror="alert(1)"> & *b* 합성곱')
    assert "<img" not in hostile and "&lt;img" in hostile and "&amp;" in hostile and "\\*b\\*" in hostile
    assert hostile.endswith('<span lang="ko">합성곱</span>')


def test_every_english_glossary_name_has_its_korean_marked():
    for term in TERMS:
        name = i18n.t(term.name_key, "en")
        marked = korean_marked(name)
        if any("\uac00" <= c <= "\ud7a3" for c in name):
            assert '<span lang="ko">' in marked, name
        outside = marked
        while '<span lang="ko">' in outside:
            start = outside.index('<span lang="ko">')
            outside = outside[:start] + outside[outside.index("</span>", start) + len("</span>"):]
        assert not any("\uac00" <= c <= "\ud7a3" for c in outside), name  # no Hangul left unmarked
