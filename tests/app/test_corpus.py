"""The corpus of real architectures (tests/corpus.py) uploaded through the Model page, then shown on
Activations, Filters and Model: no exception, no error, every layer's maps (nested ones counted), the
prediction."""

import numpy as np
import pytest

from cnnviz import activations, preprocessing
from tests import corpus, sweeps
from tests.app.conftest import no_exception, open_app

pytestmark = pytest.mark.slow


def leaf_layers(model) -> list[str]:
    """Every layer that is not itself a Sequential/functional model, by path (what the extractor opens),
    and the graph's other operations (MobileNetV3's `x + 3.0` and `* (1 / 6)` are keras.ops nodes)."""
    names = []
    for layer in getattr(model, "operations", model.layers):
        if type(layer).__name__ == "InputLayer":
            continue
        if activations.is_graph_model(layer):
            names += [f"{layer.name}/{n}" for n in leaf_layers(layer)]
        else:
            names.append(layer.name)
    return names


@pytest.mark.parametrize("key", sweeps.params(e.key for e in corpus.entries()))
def test_uploaded_model_works_on_every_inspect_page(key):
    data = corpus.saved(key)
    at = open_app("model")
    at.file_uploader(key="cnnviz.model_page.upload").set_value((f"{key}.keras", data, "application/octet-stream")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["cnnviz.model"] == "session"
    model = at.session_state["cnnviz.session_model"].model
    nested = any(activations.is_graph_model(layer) for layer in model.layers)
    assert nested == corpus.BY_KEY[key].nested

    at.switch_page("pages/activations.py").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    from cnnviz.ui import activations as ui_act

    result = at.session_state[ui_act.RESULT][1]
    names = list(result.acts.outputs)
    assert sorted(names) == sorted(leaf_layers(model)), "every layer, nested ones counted, has its maps"
    assert all(np.isfinite(v).all() for v in result.acts.outputs.values())
    out = result.output()
    if out.ndim == 1:
        assert at.get("plotly_chart"), "the prediction chart"
    else:
        assert any("not a vector" in c.value or "shape" in c.value for c in at.caption)
    plan = preprocessing.plan(model, (64, 64))
    if plan.rescaling is not None:
        assert any("expects pixel values 0 to 255" in c.value for c in at.caption)
    if plan.any_size:
        assert any("any height and width" in c.value for c in at.caption)
    if nested:
        assert at.expander, "a nested model's layers are grouped"

    at.switch_page("pages/filters.py").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]

    at.switch_page("pages/model.py").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
