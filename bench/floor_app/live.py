"""The live view's floor: the same component, camera capture, JPEG frames and websocket as the Live page,
answered with one answer computed once at start (the same pictures' sizes for the same model and layer)
and replayed for every frame: no model, no pictures made per frame. What the browser, the transport and
Streamlit's server cost at video rate on this machine; the Live page's figures are ratios to it.

BENCH_LIVE_MODEL picks the preset (seed_trained, efficientnet_lite0); BENCH_LIVE_CAM=1 adds the overlay."""

import io
import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cnnviz.live import frames  # noqa: E402
from cnnviz.ui import live as ui  # noqa: E402
from cnnviz.ui import live_route  # noqa: E402

MODEL = os.environ.get("BENCH_LIVE_MODEL", "seed_trained")
CAM = os.environ.get("BENCH_LIVE_CAM") == "1"


@st.cache_resource
def canned():
    """(settings, answer header, payloads) of one real frame."""
    from PIL import Image

    from cnnviz import models, preprocessing
    from cnnviz.live import pipeline, sessions

    info = models.load_preset(MODEL)
    plan = preprocessing.plan(info.model, sessions.FREE_SIZE, file=info.pixels)
    s = sessions.settings_for(info.model, pipeline.default_layer(info.model), "channel", CAM, "crop", plan.pixels,
                              info.class_names, shape=plan.shape)
    buf = io.BytesIO()
    Image.open(Path(__file__).resolve().parents[2] / "cnnviz" / "samples" / "coffee.png").convert("RGB").save(buf, "JPEG")
    header, rest = frames.unpack(sessions.run_batch(s.key, [(s, {"id": 0, "t": 0}, buf.getvalue())])[0])
    return s, header, rest


class AnyToken:
    def get(self, token):
        return canned()[0]


class Replay:
    """The scheduler's interface, answering at once with the canned answer."""

    def submit(self, session, key, item):
        from concurrent.futures import Future

        _, header, rest = canned()
        f = Future()
        f.set_result(frames.pack({**header, "id": item[1].get("id"), "t": item[1].get("t"), "server_ms": 0.0,
                                  "model_ms": 0.0}, rest))
        return f

    def forget(self, session):
        pass


async def endpoint(websocket):
    await live_route.serve(websocket, AnyToken(), Replay())


if __name__ == "__main__":
    settings = canned()[0]
    st.title("Live floor")
    ui.view("floor", settings.shape)
else:
    from starlette.routing import WebSocketRoute

    app = st.App(__file__, routes=[WebSocketRoute(live_route.PATH, endpoint)])
