"""The Digits model on the pages that feed it pictures: the UCI bitmap instead of crop/pad, said on the
page, and the drawn gallery digits recognised."""

import pytest

from tests.app.conftest import no_exception, open_app


@pytest.mark.parametrize("digit", ["1", "7"])
def test_activations_reads_the_drawn_digit(digit):
    at = open_app("activations", **{"cnnviz.model": "digits", "cnnviz.sample": f"digit_{digit}"})
    no_exception(at)
    assert not at.error
    assert any("UCI" in c.value for c in at.caption), "the page says how it reads the picture"
    assert not [r for r in at.radio if r.key == "cnnviz.image_fit"], "no crop/pad choice for this model"
    assert any(f"The model says **{digit}**" in m.value for m in at.markdown)
    names = [m.value.replace("\\", "") for m in at.markdown]  # names are markdown-escaped
    assert any("uci_blocks" in n for n in names), "the block-counting layer has its maps"


def test_explain_the_digit():
    at = open_app("explain", **{"cnnviz.model": "digits", "cnnviz.sample": "digit_4"})
    no_exception(at)
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert any("Predicted: **4**" in m.value for m in at.markdown)
    assert at.selectbox(key="explain.class").value == 4
