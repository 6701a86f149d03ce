"""The glossary: every term, both languages, filter vs kernel said plainly, links to live pages."""

import pytest

from cnnviz.glossary import TERMS
from tests.app.conftest import no_exception, open_app

KOREAN = ["합성곱", "채널", "필터", "커널", "스트라이드", "패딩", "피쳐 맵", "액티베이션 맵", "풀링 레이어", "파라미터",
          "기여도 맵", "돌출 맵", "적분 그래디언트", "그래드캠", "특징 시각화", "타당성 검사"]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_term_has_a_heading_text_and_link(lang):
    at = open_app("glossary", lang=lang)
    no_exception(at)
    headings = [m.value for m in at.main.markdown if m.value.startswith("### ")]  # with their Korean marked
    assert len(headings) == len(TERMS) == 21
    for word in KOREAN:  # in English pages, each Korean term in its own <span lang="ko">
        marked = f'<span lang="ko">{word}</span>' if lang == "en" else word
        assert any(marked in h for h in headings), word
    links = at.main.get("page_link")
    assert len(links) == len(TERMS)


def test_filter_and_kernel_are_told_apart():
    en = open_app("glossary").info[0].value
    assert "**filter** when you count neurons or outputs" in en and "**kernel** for the weights" in en
    ko = open_app("glossary", lang="ko").info[0].value
    assert "뉴런이나 출력의 개수" in ko and "입력에 곱하는 가중치" in ko
