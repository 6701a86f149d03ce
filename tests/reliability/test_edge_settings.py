"""Settings at the edges (kernel or stride larger than the input, dilation with stride, the largest values on
the largest input): each shows an error message or a result, never an exception. Widgets are found by
their English label, so the table reads like the page."""

from __future__ import annotations

import pytest

from cnnviz import i18n
from tests.reliability.conftest import errors, exceptions, open_app, to_upload, upload
from tests.reliability.files import solid


def widget(at, kind: str, label_key: str):
    label = i18n.t(label_key, "en")
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}"
    return found[0]


def apply(at, settings) -> None:
    for kind, label_key, value in settings:
        widget(at, kind, label_key).set_value(value)
    at.run()


ERROR, RESULT, EITHER = "error", "result", "either"

LAYER_LAB = [
    ("kernel larger than the input (valid)",
     [("slider", "ll.input_h", 2), ("slider", "ll.input_w", 2), ("slider", "ll.kernel_h", 11),
      ("slider", "ll.kernel_w", 11), ("radio", "ll.padding", "valid")], ERROR),
    ("kernel larger than the input (same)", [("radio", "ll.padding", "same")], RESULT),
    ("stride larger than the input",
     [("slider", "ll.input_h", 3), ("slider", "ll.input_w", 3), ("slider", "ll.kernel_h", 1),
      ("slider", "ll.kernel_w", 1), ("slider", "ll.stride", 5), ("radio", "ll.padding", "valid"),
      ("radio", "ll.pool_padding", "same")], RESULT),
    ("dilation with stride", [("slider", "ll.kernel_h", 3), ("slider", "ll.dilation", 4)], EITHER),
    ("pool larger than the feature map",
     [("slider", "ll.stride", 1), ("slider", "ll.dilation", 1), ("slider", "ll.input_h", 4),
      ("slider", "ll.input_w", 4), ("slider", "ll.kernel_h", 3), ("slider", "ll.kernel_w", 3),
      ("slider", "ll.pool_size", 6), ("radio", "ll.pool_padding", "valid")], ERROR),
    ("largest values on the largest input",
     [("slider", "ll.input_h", 256), ("slider", "ll.input_w", 256), ("slider", "ll.input_c", 4),
      ("slider", "ll.filters", 64), ("slider", "ll.kernel_h", 11), ("slider", "ll.kernel_w", 11),
      ("slider", "ll.stride", 5), ("slider", "ll.dilation", 4), ("radio", "ll.padding", "same"),
      ("slider", "ll.pool_size", 6), ("slider", "ll.pool_stride", 6), ("radio", "ll.pool_padding", "same")], EITHER),
    ("largest values, stride 1", [("slider", "ll.stride", 1)], EITHER),
]

CONVOLUTION = [
    ("kernel larger than the grid (valid)",
     [("radio", "conv.input_source", "grid"), ("slider", "conv.input_size", 5), ("slider", "conv.kernel_size", 7),
      ("radio", "conv.padding", "valid")], ERROR),
    ("kernel larger than the grid (same)", [("radio", "conv.padding", "same")], RESULT),
    ("stride larger than the grid", [("slider", "conv.kernel_size", 1), ("slider", "conv.stride", 4),
                                     ("radio", "conv.padding", "valid")], RESULT),
    ("dilation with stride", [("slider", "conv.kernel_size", 3), ("slider", "conv.dilation", 3)], EITHER),
    ("largest values", [("slider", "conv.input_size", 12), ("slider", "conv.kernel_size", 7),
                        ("radio", "conv.channels", 3), ("radio", "conv.padding", "same")], EITHER),
]

POOLING = [
    ("pool larger than the grid", [("radio", "conv.input_source", "grid"), ("slider", "conv.input_size", 4),
                                   ("slider", "pool.size", 4), ("slider", "conv.stride", 4),
                                   ("radio", "conv.padding", "valid")], RESULT),
    ("largest values, same padding", [("slider", "conv.input_size", 12), ("radio", "conv.padding", "same"),
                                      ("radio", "conv.channels", 3)], RESULT),
]


@pytest.mark.slow
@pytest.mark.parametrize("page,table", [("layer_lab", LAYER_LAB), ("convolution", CONVOLUTION),
                                        ("pooling", POOLING)], ids=["layer_lab", "convolution", "pooling"])
def test_edge_settings(page, table):
    at = open_app(page)
    assert not at.exception
    problems = []
    for what, settings, expect in table:
        apply(at, settings)
        if exceptions(at):
            problems.append(f"{what}: exception {exceptions(at)[0][:200]}")
        elif expect == ERROR and not errors(at):
            problems.append(f"{what}: expected an error message")
        elif expect == RESULT and errors(at):
            problems.append(f"{what}: expected a result, got {errors(at)}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_widest_crop_of_a_tall_upload():
    """A 1x3000 upload at the largest image width: bounded work, a result, no exception."""
    at = open_app("convolution")
    to_upload(at)
    upload(at, "tall.png", solid((1, 3000), (90, 90, 90)))
    apply(at, [("slider", "conv.image_width", 320), ("slider", "conv.input_size", 12)])
    assert not exceptions(at), exceptions(at)
    at.switch_page("pages/pooling.py").run()
    assert not exceptions(at), exceptions(at)
