"""Benchmarks of cnnviz (not tests: they time things and print a table). Run with `python -m bench`.

Each section is a module here with `NAME`, `run(repeats: int) -> dict` and `table(result) -> str`;
add a module and list it in SECTIONS below to add a section. Helpers shared by sections: bench.common.
"""

SECTIONS = (
    "bench.floor",  # 0. floors of this run: the bare Streamlit app (slider, cold start), import keras + Conv2D
    "bench.extraction",  # 1. cached extractor vs naive Model+predict vs bare forward pass
    "bench.attribution",  # 1b. attribution maps and feature visualisation vs one forward pass
    "bench.reruns",  # 2. server-side rerun time per page after a control change (AppTest)
    "bench.browser",  # 3. slider -> new maps on screen in Chromium, websocket bytes per rerun
    "bench.live",  # 3b. the Live page at video rate: fps, latency, lag, server time per frame, four sessions at once
    "bench.coldstart",  # 4. streamlit run -> first page rendered; top imports
    "bench.memory",  # 5. server RSS: app opened, every page visited, per extra session
    "bench.training",  # 6. Train page's loop vs bare model.fit, samples/s
    "bench.load",  # 7. a class: N websocket sessions moving a slider (load generator), cross-checked in Chromium
    "bench.replicas",  # 8. the load generator at one replica, then through HAProxy at two (make serve-replicas)
    "bench.onnx",  # 9. ResNet-18 from ONNX: convert + verify time, forward pass vs onnxruntime, peak memory
)
NEEDS_FLOOR = ("browser", "coldstart", "load", "replicas")  # their ratios need this run's floors: `floor` runs first
