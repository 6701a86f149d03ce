"""The bench helpers' pure logic (the benchmark itself times things and is not a test)."""

import numpy as np
import pytest

from bench.common import parse_vmrss, percentile, summary, top_imports


@pytest.mark.parametrize("q", [0, 5, 25, 50, 75, 95, 100])
def test_percentile_matches_numpy(q):
    values = [7.0, 1.0, 3.5, 10.0, 2.0, 2.0, 9.25]
    assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_percentile_rejects_nothing_and_bad_q():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_of_thirty_values():
    s = summary(range(1, 31))
    assert (s["median"], s["min"], s["max"], s["n"]) == (15.5, 1, 30, 30)
    assert s["p95"] == pytest.approx(np.percentile(range(1, 31), 95))
    assert summary([])["n"] == 0


def test_parse_vmrss():
    text = "Name:\tpython\nVmPeak:\t  900000 kB\nVmRSS:\t  812345 kB\nThreads:\t12\n"
    assert parse_vmrss(text) == 812345
    with pytest.raises(ValueError):
        parse_vmrss("Name:\tpython\n")


def test_top_imports_one_row_per_package_first_import():
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 |     numpy.core",
        "import time:       200 |        900 |   numpy",
        "import time:        50 |       2000 |     tensorflow",
        "import time:        10 |       2500 | keras",
        "import time:         5 |          5 | numpy",  # a second, cached import: not counted again
        "import time:        30 |         30 | _thread",
    ])
    rows = top_imports(stderr)
    assert [(r["module"], r["cumulative_ms"]) for r in rows] == [("keras", 2.5), ("tensorflow", 2.0), ("numpy", 0.9)]


def test_targets_report_ratios_and_misses():
    from bench import targets

    results = {
        "browser": {"cases": {"layer_lab: input height slider": {"p50_over_bare_p50": 1.9, "p95_over_bare_p50": 2.5,
                                                                  "target_p50_ratio": 2.0},
                              "activations: zoom channel slider": {"p50_over_bare_p50": 1.7, "p95_over_bare_p50": 2.0,
                                                                    "target_p50_ratio": 1.5}}},
        "attribution": {"over_forward": {"smoothgrad": 16.0}, "lite0": {"over_forward": {"smoothgrad": 27.6}}},
        "coldstart": {"usable_over_bare_cold_start": 1.4, "complete_over_import_keras_conv2d": 1.3,
                      "warm_first_over_later": 1.0},
        "load": {"crowd_p95_over_bare_p50": 2.0, "crowd": {"error_count": 0, "wrong_state": 1, "rss_max_mib": 900}},
    }
    met = {target: ok for target, _, ok in targets.check(results)}
    assert met["layer_lab: input height slider: p50 <= 2.0x, p95 <= 3x bare p50"] is True
    assert met["activations: zoom channel slider: p50 <= 1.5x, p95 <= 3x bare p50"] is False
    assert met["cold start: usable first page <= 1.5x bare app's cold start"] is True
    assert met["cold start: complete first page <= 1.15x import keras + Conv2D"] is False
    assert met["a class: no error, no session sees another's state"] is False  # one wrong answer
    assert met["extraction <= 1.5x bare predict_on_batch (seed)"] is None  # not run
    assert met["SmoothGrad, 20 samples <= 25x one forward pass (trained default)"] is True
    assert met["SmoothGrad, 20 samples <= 25x one forward pass (EfficientNet-Lite0)"] is False  # issue 30's own
    assert "MISSED" in targets.table(results) and "not run" in targets.table(results)


def test_load_generator_messages_are_the_browsers_rerun_request():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    from bench import load

    msg = BackMsg()
    msg.ParseFromString(load._back_rerun("page-hash", "frag-1", "$$ID-abc-ll.input_h", 77))
    state = msg.rerun_script
    assert msg.WhichOneof("type") == "rerun_script" and state.page_script_hash == "page-hash"
    assert state.fragment_id == "frag-1"
    (w,) = state.widget_states.widgets
    assert w.id.endswith("ll.input_h") and list(w.double_array_value.data) == [77.0]
    first = BackMsg()
    first.ParseFromString(load._back_rerun(""))
    assert not first.rerun_script.widget_states.widgets and not first.rerun_script.fragment_id


def test_floor_and_browser_tables_show_the_elements_floor():
    from bench import browser, floor

    s = {"median": 20.0, "p95": 25.0, "n": 30}
    result = {"bare_slider": {"page_updated": s}, "elements_slider": {"page_updated": {"median": 120.0, "p95": 150.0}},
              "bare_cold_start_s": {"median": 1.8, "min": 1.7, "max": 1.9, "n": 3},
              "import_keras_and_conv2d_s": {"median": 3.3, "min": 3.2, "max": 3.4, "n": 3}}
    result["heatmap_slider"] = {"page_updated": {"median": 90.0, "p95": 100.0}}
    assert "p50 120 ms, p95 150 ms = 6.00x the bare app" in floor.table(result)
    assert "p50 90 ms, p95 100 ms = 4.50x the bare app" in floor.table(result)
    assert "controls, metrics, formulas drawn" not in floor.table(result)  # an older results.json: not measured
    result["elements_cold_start_s"] = {"median": 2.7}
    assert "controls, metrics, formulas drawn   2.70 s = 1.50x the bare app" in floor.table(result)
    del result["elements_slider"], result["heatmap_slider"]
    assert "p50 nan ms" in floor.table(result)  # an older results.json: no elements floor
    case = {"page_updated": {"median": 150.0, "p95": 200.0, "n": 30}, "total_kib": {"median": 20.0, "max": 40.0},
            "failures": 0, "target_p50_ratio": 2.0, "p50_over_bare_p50": 7.5, "p95_over_bare_p50": 10.0,
            "p50_over_elements_p50": 1.25, "elements_p50_ms": 120.0}
    text = browser.table({"cases": {"layer_lab: input height slider": case}, "floor_bare_slider_p50_ms": 20.0,
                          "floor_elements_slider_p50_ms": 120.0})
    assert "MISSED" in text and "p50 = 1.25x the same elements drawn with no computation (120 ms)" in text


def test_coldstart_states_the_usable_page_against_its_elements_floor(monkeypatch):
    from bench import coldstart, common

    monkeypatch.setattr(coldstart, "chromium", lambda: (type("P", (), {"stop": lambda self: None})(),
                                                       type("B", (), {"close": lambda self: None})()))
    monkeypatch.setattr(coldstart, "one_start", lambda *a, **k: {"health_s": 0.7, "usable_s": 3.5, "complete_s": 4.5})
    monkeypatch.setattr(coldstart, "warm_server", lambda b: {"warm_up_done_s": 6.0, "first_session": {"complete_s": 3.3},
                                                             "later_session": {"complete_s": 3.0}})
    monkeypatch.setattr(coldstart, "_importtime", lambda code: {"code": code, "total_ms": 500.0, "keras_imported": False,
                                                                "top": []})
    monkeypatch.setattr(common, "FLOOR", {"bare_cold_start_s": {"median": 1.75}, "elements_cold_start_s": {"median": 2.5},
                                          "import_keras_and_conv2d_s": {"median": 3.2}})
    result = coldstart.run(repeats=2)
    assert result["usable_over_bare_cold_start"] == pytest.approx(3.5 / 1.75)
    assert result["usable_over_elements_cold_start"] == pytest.approx(3.5 / 2.5)
    assert result["floors_s"] == {"bare_cold_start": 1.75, "elements_cold_start": 2.5, "import_keras_and_conv2d": 3.2}
    assert "2.00x the bare app's cold start (target <= 1.5x), 1.40x its elements' with no computation" in coldstart.table(result)
