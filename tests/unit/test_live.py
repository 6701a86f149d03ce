"""The live view without a browser: the frame slot, the fair scheduler, the wire format, the pictures, the
compiled pass against Keras's own numbers, the batch job and the websocket route (with a stand-in socket)."""

from __future__ import annotations

import asyncio
import io
import threading
import time

import keras
import numpy as np
import pytest
from PIL import Image

from cnnviz import activations, attribution, preprocessing
from cnnviz.live import frames, latest, pipeline, sessions
from cnnviz.live.scheduler import Scheduler
from cnnviz.plots import live as plots
from cnnviz.ui import live_route


# ---------------------------------------------------------------- the frame slot


def _run(coro):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop running in this
    thread for the whole pytest session."""
    from bench.common import run_in_own_thread

    return run_in_own_thread(coro)


def test_latest_frame_wins_and_take_waits():
    async def go():
        slot = latest.LatestFrame()
        slot.put(b"1")
        slot.put(b"2")  # replaces 1 before anyone took it
        assert await slot.take() == b"2"
        assert (slot.received, slot.dropped) == (2, 1)
        waiter = asyncio.create_task(slot.take())
        await asyncio.sleep(0.01)
        assert not waiter.done()  # nothing waits: take() waits for the next frame
        slot.put(b"3")
        assert await waiter == b"3"
        slot.close()
        assert slot.closed and await slot.take() is None

    _run(go())


# ---------------------------------------------------------------- the scheduler


def _echo(calls):
    def run(key, items):
        calls.append((key, list(items)))
        time.sleep(0.002)
        return [(key, item) for item in items]

    return run


def test_scheduler_latest_frame_wins_one_in_flight():
    gate, calls = threading.Event(), []

    def run(key, items):
        calls.append(list(items))
        gate.wait(5)
        return list(items)

    s = Scheduler(run, idle_exit=0.2)
    first = s.submit("a", "k", 1)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:  # frame 1 is being computed
        time.sleep(0.005)
    second = s.submit("a", "k", 2)  # waits: a's frame 1 is in flight
    third = s.submit("a", "k", 3)  # replaces 2
    assert second.cancelled() and s.stats.replaced == 1
    assert s.waiting() == 1
    gate.set()
    assert first.result(5) == 1 and third.result(5) == 3
    assert calls == [[1], [3]]  # never two of a's frames at once, 2 never computed
    assert s.wait_idle(5) and not s.alive()


def test_scheduler_batches_one_frame_per_session_and_serves_keys_in_turn():
    calls = []
    gate = threading.Event()

    def run(key, items):
        calls.append((key, sorted(items)))
        gate.wait(5)
        return items

    s = Scheduler(run, max_batch=3, idle_exit=0.2)
    s.submit("blocker", "x", 0)
    while not calls:
        time.sleep(0.005)
    futures = [s.submit(f"s{i}", "k" if i < 4 else "other", i) for i in range(6)]
    gate.set()
    for f in futures:
        f.result(5)
    assert calls[0] == ("x", [0])
    assert calls[1] == ("k", [0, 1, 2])  # the oldest frame's key, up to max_batch, one per session
    assert calls[2] == ("k", [3])  # then the oldest waiting frame: s3 came before s4 and s5
    assert calls[3] == ("other", [4, 5])
    assert s.stats.largest_batch == 3


def test_scheduler_without_batching_runs_one_frame_at_a_time():
    calls = []
    s = Scheduler(_echo(calls), batching=False, idle_exit=0.2)
    futures = [s.submit(f"s{i}", "k", i) for i in range(4)]
    assert [f.result(5) for f in futures] == [("k", i) for i in range(4)]
    assert all(len(items) == 1 for _, items in calls)


def test_scheduler_is_fair_between_busy_sessions():
    """Four sessions that each send their next frame as soon as the last one is back get turns in order:
    each frame takes 10 ms, so a session has 30 ms (the others' turns) to send its next one; none gets a
    second frame through while another one waits."""
    def run(key, items):
        time.sleep(0.01)
        return items

    s = Scheduler(run, batching=False, idle_exit=0.2)
    stop = time.monotonic() + 0.8
    done = {f"s{i}": 0 for i in range(4)}

    def client(name):
        while time.monotonic() < stop:
            s.submit(name, "k", 0).result(5)
            done[name] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in done]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    counts = list(done.values())
    assert min(counts) >= 5, counts
    assert max(counts) - min(counts) <= 2, counts


def test_scheduler_error_reaches_every_frame_of_the_batch_and_the_worker_goes_on():
    def run(key, items):
        if key == "bad":
            raise RuntimeError("boom")
        return items

    s = Scheduler(run, idle_exit=0.2)
    with pytest.raises(RuntimeError, match="boom"):
        s.submit("a", "bad", 1).result(5)
    assert s.submit("a", "good", 2).result(5) == 2


def test_scheduler_share_pauses_after_each_batch():
    def run(key, items):
        time.sleep(0.05)
        return items

    s = Scheduler(run, share=0.5, idle_exit=0.2)
    start = time.monotonic()
    s.submit("a", "k", 1).result(5)
    s.submit("a", "k", 2).result(5)  # waits for the pause after the first batch (~0.05 s)
    assert time.monotonic() - start >= 0.14
    with pytest.raises(ValueError):
        Scheduler(run, share=0.0)


def test_forget_drops_a_waiting_frame():
    gate, calls = threading.Event(), []

    def run(key, items):
        calls.append(items)
        gate.wait(5)
        return items

    s = Scheduler(run, idle_exit=0.2)
    s.submit("a", "k", 1)
    while not calls:
        time.sleep(0.005)
    waiting = s.submit("b", "k", 2)
    s.forget("b")
    assert waiting.cancelled() and s.waiting() == 0
    gate.set()
    assert s.wait_idle(5)
    assert calls == [[1]]


def test_hundred_start_stop_cycles_leave_no_thread():
    before = threading.active_count()
    s = Scheduler(_echo([]), idle_exit=0.01)
    for i in range(100):
        s.submit(f"session{i}", "k", i).result(5)
        s.forget(f"session{i}")
        assert s.wait_idle(5)
    assert not s.alive()
    assert threading.active_count() <= before
    assert s.stats.frames == 100 and not s.stats.per_session


# ---------------------------------------------------------------- the wire format


def _jpeg(size=(64, 48), colour=(200, 30, 30), fmt="JPEG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def test_pack_unpack_split_round_trip():
    msg = frames.pack({"id": 3, "parts": [["a", 2], ["b", 3]]}, b"xy", b"zzz")
    header, rest = frames.unpack(msg)
    assert header["id"] == 3
    assert frames.split(rest, header["parts"]) == {"a": b"xy", "b": b"zzz"}


@pytest.mark.parametrize("message", [b"", b"\x01\x00", b"\xff\xff\x00\x00{}", b"\x02\x00\x00\x00{", b"\x04\x00\x00\x00\xff\xfe{}",
                                     b"\x02\x00\x00\x00[]", "text"])
def test_unpack_refuses_malformed_messages(message):
    with pytest.raises(frames.FrameError) as err:
        frames.unpack(message)
    assert err.value.code == "message"


def test_unpack_refuses_a_huge_message():
    with pytest.raises(frames.FrameError) as err:
        frames.unpack(b"\x02\x00\x00\x00{}" + bytes(frames.MAX_FRAME_BYTES + frames.MAX_HEADER))
    assert err.value.code == "frame_size"


def test_decode_accepts_pictures_and_refuses_the_rest():
    im = frames.decode(_jpeg())
    assert im.mode == "RGB" and im.size == (64, 48)
    gray = io.BytesIO()
    Image.new("L", (10, 10), 128).save(gray, format="PNG")
    assert frames.decode(gray.getvalue()).mode == "RGB"
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(buf, format="JPEG")
    noisy = buf.getvalue()
    cases = {"empty": b"", "frame_size": b"\xff\xd8" + bytes(frames.MAX_FRAME_BYTES), "format": b"GIF89a not this",
             "dimensions": _jpeg((frames.MAX_SIDE + 1, 8)), "damaged": noisy[:len(noisy) // 2]}
    for code, data in cases.items():
        with pytest.raises(frames.FrameError) as err:
            frames.decode(data)
        assert err.value.code == code, code
        assert "live.error." + code == err.value.key


# ---------------------------------------------------------------- pictures


def test_mosaic_tiles_every_channel_in_order():
    maps = np.random.default_rng(0).normal(size=(5, 3, 7)).astype("float32")
    png, (rows, cols) = plots.mosaic(maps, "channel")
    assert rows * cols >= 7 and (rows - 1) * cols < 7
    a = np.asarray(Image.open(io.BytesIO(png)))
    assert a.shape == (rows * 6 - 1, cols * 4 - 1)
    idx = plots.levels(maps, "channel")
    for k in range(7):
        r, q = divmod(k, cols)
        assert np.array_equal(a[r * 6:r * 6 + 5, q * 4:q * 4 + 3], idx[:, :, k])
    assert (a[5, :] == plots.GAP_INDEX).all()  # the gap row under the first row of tiles
    assert plots.mosaic(maps[..., 0])[1] == (1, 1)  # one map (h, w)
    with pytest.raises(ValueError):
        plots.mosaic(np.zeros((2, 2, 2, 2)))


def test_levels_per_channel_and_per_layer():
    maps = np.stack([np.full((2, 2), 5.0), np.array([[0.0, 1.0], [2.0, np.nan]])], axis=-1)
    per_channel = plots.levels(maps, "channel")
    assert (per_channel[..., 0] == 0).all()  # a constant channel
    assert per_channel[0, 1, 1] == 127 and per_channel[1, 0, 1] == 254 and per_channel[1, 1, 1] == 0
    per_layer = plots.levels(maps, "layer")
    assert (per_layer[..., 0] == 254).all() and per_layer[1, 0, 1] == round(2 / 5 * 254 - 0.5)
    with pytest.raises(ValueError):
        plots.levels(maps, "network")


def test_large_layers_are_drawn_as_block_means():
    maps = np.arange(5 * 401 * 401, dtype="float32").reshape(401, 401, 5)
    k = plots.step(maps.shape)
    assert k == 3
    small = plots.shrink(maps, k)
    assert small.shape == (134, 134, 5)
    assert small[0, 0, 1] == pytest.approx(maps[:3, :3, 1].mean())
    assert small[-1, -1, 0] == pytest.approx(maps[399:, 399:, 0].mean())  # the edge block holds 2x2
    even = plots.shrink(maps[:400, :400], 4)
    assert even[1, 2, 0] == pytest.approx(maps[4:8, 8:12, 0].mean())
    assert plots.shrink(maps, 1) is maps
    assert plots.step((7, 7, 1280)) == 1


def test_seen_blends_the_cam():
    x = np.zeros((8, 6, 1), dtype="float32")
    plain = Image.open(io.BytesIO(plots.seen(x)))
    assert plain.size == (6, 8) and np.asarray(plain).max() < 10
    cam = np.zeros((8, 6))
    cam[4, 3] = 2.0
    hot = np.asarray(Image.open(io.BytesIO(plots.seen(x, cam))))
    assert hot[4, 3].sum() > hot[0, 0].sum() + 100
    assert np.asarray(Image.open(io.BytesIO(plots.seen(x, np.zeros((8, 6)))))).max() < 40  # no heat at all


# ---------------------------------------------------------------- the pass, against Keras


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((16, 12, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(6, 3, name="conv2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inputs, out, name="tiny_live")


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(1).random((3, 16, 12, 1)).astype("float32")


def test_default_layer_and_cam_layer(model):
    assert pipeline.default_layer(model) == "conv1"
    assert pipeline.output_name(model) == "probs"
    no_conv = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(attribution.AttributionError):
        pipeline.default_layer(no_conv)
    pooled_first = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.MaxPooling2D(name="p"),
                                     keras.layers.Flatten(), keras.layers.Dense(2)])
    assert pipeline.default_layer(pooled_first) == "p"  # no conv layer: the first layer with maps


@pytest.mark.parametrize("cam", [False, True])
def test_pass_equals_keras(model, batch, cam):
    out = pipeline.pipeline(model, "pool1", cam)(batch)
    want = activations.extract(model, batch)
    np.testing.assert_allclose(out.maps, want["pool1"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.output, model.predict_on_batch(batch), rtol=1e-5, atol=1e-6)
    if not cam:
        assert out.cams is None
        return
    for i in range(len(batch)):  # each frame's Grad-CAM of its own top class, as the Explain page computes it
        ref = attribution.grad_cam(model, batch[i], layer="relu2")
        np.testing.assert_allclose(attribution.upsample(out.cams[i], (16, 12)), ref, rtol=1e-4, atol=1e-6)


def test_pipelines_are_cached_and_bounded(model):
    first = pipeline.pipeline(model, "conv1", False)
    assert pipeline.pipeline(model, "conv1", False) is first
    for name in ("conv1", "pool1", "conv2", "relu2"):
        for cam in (False, True):
            pipeline.pipeline(model, name, cam)
    assert len(pipeline._pipelines[model]) == pipeline.PER_MODEL
    with pytest.raises(attribution.AttributionError):
        pipeline.Pipeline(model, "gap_missing", False)


# ---------------------------------------------------------------- sessions and the batch job


def _settings(model, **kw):
    args = dict(layer="conv1", scale="channel", cam=False, fit="crop", pixels=preprocessing.contract("unit"),
                class_names=("a", "b", "c"))
    args.update(kw)
    return sessions.settings_for(model, **args)


def test_settings_are_checked(model):
    s = _settings(model)
    assert s.shape == (16, 12, 1) and s.key == (id(model), "conv1", False, (16, 12, 1), "CPU:0")
    with pytest.raises(ValueError):
        _settings(model, scale="network")
    with pytest.raises(attribution.AttributionError):
        _settings(model, layer="gap")  # no maps
    no_conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.MaxPooling2D(name="p"), keras.layers.Flatten(),
                                keras.layers.Dense(2)])
    with pytest.raises(attribution.AttributionError):
        _settings(no_conv, layer="p", cam=True)
    free = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3, name="c"),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    assert _settings(free, layer="c", class_names=None).shape == (192, 256, 3)  # a camera's 4:3, capped as any picture


def test_registry_tokens_expire():
    reg = sessions.Registry(ttl=0.05)
    tok = reg.new_token()
    assert len(tok) >= 24 and tok != reg.new_token()
    reg.put(tok, "settings")
    assert reg.get(tok) == "settings" and reg.get("other") is None and reg.get(None) is None
    time.sleep(0.08)
    reg.put("fresh", "x")  # putting expires what is old
    assert reg.get(tok) is None and len(reg) == 1
    reg.drop("fresh")
    assert len(reg) == 0


def test_top_classes():
    top, probs = sessions.top_classes(np.array([0.1, 0.7, 0.2]), ("a", "b", "c"), 2)
    assert top == [["b", pytest.approx(0.7)], ["a" if False else "c", pytest.approx(0.2)]] and probs
    top, probs = sessions.top_classes(np.array([3.0, -1.0, np.nan]), None, 5)
    assert [t[0] for t in top] == ["0", "1", "2"] and top[2][1] is None and not probs


def test_run_batch_answers_each_frame_and_says_what_was_wrong(model):
    s = _settings(model, layer="pool1", cam=True, scale="layer")
    good = _jpeg((60, 80), (90, 180, 40))
    answers = sessions.run_batch(s.key, [(s, {"id": 1, "t": 5.0}, good), (s, {"id": 2, "t": 6.0}, b"nope")])
    header, rest = frames.unpack(answers[0])
    parts = frames.split(rest, header["parts"])
    assert header["id"] == 1 and header["t"] == 5.0 and header["batch"] == 2 and header["cam"] is True
    assert header["shape"] == [7, 5, 4] and header["input"] == [16, 12, 1] and header["step"] == 1
    x01 = sessions.model_input(s, good)
    want = model.predict_on_batch(x01[None])[0]
    assert header["top"][0][0] == "abc"[int(np.argmax(want))]
    assert header["top"][0][1] == pytest.approx(float(want.max()), rel=1e-5)
    assert header["prob"] is True
    assert Image.open(io.BytesIO(parts["seen"])).size == (12, 16)
    assert Image.open(io.BytesIO(parts["mosaic"])).format == "PNG"
    maps = activations.extract(model, x01[None])["pool1"][0]
    assert header["lo"] == pytest.approx(float(maps.min()), abs=1e-6)
    assert header["hi"] == pytest.approx(float(maps.max()), rel=1e-5)
    bad, _ = frames.unpack(answers[1])
    assert bad["id"] == 2 and "JPEG, PNG or WebP" in bad["error"]
    korean = _settings(model, lang="ko")
    only_bad, _ = frames.unpack(sessions.run_batch(korean.key, [(korean, {"id": 3}, b"")])[0])
    assert only_bad["error"] == "빈 프레임이 도착했습니다." and only_bad["batch"] == 1


# ---------------------------------------------------------------- the route, with a stand-in socket


class FakeSocket:
    """A browser's socket: each message is sent once the answer to the one before has come (as the
    component does), unless `burst`: then all at once, as a client that does not wait would."""

    def __init__(self, token, messages, burst=False):
        self.query_params = {"token": token} if token else {}
        self.incoming = list(messages)
        self.sent, self.closed, self.accepted = [], None, False
        self.burst, self.delivered = burst, 0

    async def accept(self):
        self.accepted = True

    async def close(self, code=1000):
        self.closed = code

    async def receive(self):
        for _ in range(3000):
            if self.burst or len(self.sent) >= self.delivered or self.closed:
                break
            await asyncio.sleep(0.01)
        if self.incoming:
            self.delivered += 1
            return {"type": "websocket.receive", "bytes": self.incoming.pop(0)}
        await asyncio.sleep(0.3)  # the browser waits a moment, then the tab closes
        return {"type": "websocket.disconnect"}

    async def send_bytes(self, data):
        self.sent.append(frames.unpack(data))


def _registered(model, **settings):
    """A registry of its own with one session's token."""
    reg = sessions.Registry()
    tok = reg.new_token()
    reg.put(tok, _settings(model, **settings))
    return reg, tok


def _frame(i, data):
    return frames.pack({"id": i, "t": float(i)}, data)


def test_route_refuses_an_unknown_token():
    reg = sessions.Registry()
    for token in ("nope", None):
        ws = FakeSocket(token, [])
        _run(live_route.serve(ws, reg, Scheduler(_echo([]))))
        assert ws.closed == live_route.REFUSED and ws.accepted  # after the handshake: the browser reads the code


def test_route_answers_frames_and_stops_when_the_socket_closes(model):
    reg, sched = sessions.Registry(), Scheduler(sessions.run_batch, idle_exit=0.1)
    tok = reg.new_token()
    reg.put(tok, _settings(model))
    ws = FakeSocket(tok, [_frame(1, _jpeg()), b"\x01", _frame(2, b"not a picture"), _frame(3, _jpeg())])
    _run(live_route.serve(ws, reg, sched))
    assert ws.accepted and ws.closed is None
    ids = [h.get("id") for h, _ in ws.sent]
    assert ids == [1, None, 2, 3]
    assert "parts" in ws.sent[0][0] and "error" in ws.sent[1][0] and "error" in ws.sent[2][0]
    assert sched.wait_idle(5) and sched.stats.frames == 3  # nothing computed after the socket closed


def test_route_latest_frame_wins_for_a_client_that_does_not_wait(model):
    reg, sched = sessions.Registry(), Scheduler(sessions.run_batch, idle_exit=0.1)
    tok = reg.new_token()
    reg.put(tok, _settings(model))
    ws = FakeSocket(tok, [_frame(i, _jpeg()) for i in range(1, 6)], burst=True)
    _run(live_route.serve(ws, reg, sched))
    ids = [h.get("id") for h, _ in ws.sent]
    assert ids[-1] == 5 and len(ids) < 5 and ids == sorted(ids)  # frames that waited were replaced, never queued


def test_route_says_when_the_model_fails_and_when_the_token_expires(model):
    reg, tok = _registered(model, lang="ko")

    def broken(key, items):
        raise RuntimeError("out of memory\nmore lines")

    ws = FakeSocket(tok, [_frame(1, _jpeg())])
    _run(live_route.serve(ws, reg, Scheduler(broken, idle_exit=0.1)))
    assert ws.sent[0][0]["error"] == "이 프레임에서 모델을 실행할 수 없습니다: out of memory"
    reg.drop(tok)
    reg2 = sessions.Registry()
    reg2.put(tok, _settings(model))

    class Expiring(sessions.Registry):
        calls = 0

        def get(self, token):
            self.calls += 1
            return reg2.get(token) if self.calls == 1 else None

    ws = FakeSocket(tok, [_frame(1, _jpeg())])
    _run(live_route.serve(ws, Expiring(), Scheduler(_echo([]), idle_exit=0.1)))
    assert ws.accepted and ws.closed == live_route.REFUSED and not ws.sent


def test_route_one_connection_per_token_a_cap_and_no_huge_messages(model, monkeypatch):
    reg, tok = _registered(model)
    huge = FakeSocket(tok, [b"\x00" * (live_route.MAX_MESSAGE + 1)])
    _run(live_route.serve(huge, reg, _Stub([])))
    assert huge.closed == live_route.TOO_BIG and not huge.sent

    async def two_tabs():
        first = FakeSocket(tok, [_frame(1, _jpeg())] * 50)
        shared = Scheduler(sessions.run_batch, idle_exit=0.1)
        task = asyncio.create_task(live_route.serve(first, reg, shared))
        while not first.sent:
            await asyncio.sleep(0.02)
        second = FakeSocket(tok, [_frame(2, _jpeg())])
        await live_route.serve(second, reg, shared)
        await task
        return first, second

    first, second = _run(two_tabs())
    assert first.closed == live_route.REPLACED and second.closed is None and second.sent
    assert tok not in live_route._open

    monkeypatch.setattr(live_route, "MAX_CONNECTIONS", 0)
    busy = FakeSocket(tok, [_frame(1, _jpeg())])
    _run(live_route.serve(busy, reg, _Stub([])))
    assert busy.closed == live_route.BUSY and not busy.sent


def test_frame_headers_keep_only_a_finite_id_and_time():
    assert frames.known({"id": 3, "t": 12.5, "x": "y"}) == {"id": 3, "t": 12.5}
    assert frames.known({"id": True, "t": float("inf")}) == {}
    assert frames.known({"id": "3", "t": 1e300}) == {}
    for text in (b'{"t": NaN}', b'{"t": Infinity}', b"[" * 5000 + b"]" * 5000):
        with pytest.raises(frames.FrameError):
            frames.unpack(len(text).to_bytes(4, "little") + text if len(text) <= frames.MAX_HEADER
                          else b"\x00\x10\x00\x00" + text[:4096])


# ---------------------------------------------------------------- the less travelled branches


def test_default_layer_follows_a_conv_through_its_batchnorm_and_activation():
    m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                          keras.layers.BatchNormalization(name="bn"), keras.layers.ReLU(name="act"),
                          keras.layers.Flatten(), keras.layers.Dense(2)])
    assert pipeline.default_layer(m) == "act"


def test_settings_take_a_size_and_the_share_setting_is_read_safely(model, monkeypatch):
    assert _settings(model, shape=(16, 12, 1)).shape == (16, 12, 1)
    for value, want in (("0.5", 0.5), ("7", 1.0), ("0", 0.05), ("half", 1.0)):
        monkeypatch.setenv("CNNVIZ_LIVE_SHARE", value)
        assert sessions._share() == want


def test_a_job_that_answers_too_few_frames_fails_them_and_the_worker_goes_on():
    s = Scheduler(lambda key, items: items[:-1] if key == "short" else items, idle_exit=0.1)
    with pytest.raises(RuntimeError, match="answered 0 of 1"):
        s.submit("a", "short", 1).result(5)
    assert s.submit("a", "fine", 2).result(5) == 2


def test_a_pipeline_does_not_keep_its_model_alive():
    import gc
    import weakref

    m = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"), keras.layers.Flatten(),
                          keras.layers.Dense(2, activation="softmax")])
    p = pipeline.pipeline(m, "c", True)
    p(np.zeros((1, 8, 8, 1), "float32"))
    gone = weakref.ref(m)
    del m
    gc.collect()
    assert gone() is None
    with pytest.raises(RuntimeError, match="gone"):
        p(np.zeros((1, 8, 8, 1), "float32"))


def test_the_less_common_models_and_outputs():
    two_inputs = keras.Input((6, 6, 1)), keras.Input((3,))
    x = keras.layers.Conv2D(2, 3, name="c")(two_inputs[0])
    x = keras.layers.Concatenate()([keras.layers.Flatten()(x), two_inputs[1]])
    m = keras.Model(list(two_inputs), keras.layers.Dense(2, activation="softmax", name="out")(x))
    out = pipeline.pipeline(m, "c", False)(np.ones((2, 6, 6, 1), "float32"))
    np.testing.assert_allclose(out.output, m.predict_on_batch([np.ones((2, 6, 6, 1)), np.zeros((2, 3))]), rtol=1e-5)
    with pytest.raises(attribution.AttributionError):
        attribution.build_probe(m, "c", ("no_such_layer",))
    nan = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="c"),
                           keras.layers.Flatten(), keras.layers.Dense(2, name="d")])
    nan.get_layer("d").kernel.assign(np.full((32, 2), np.nan, "float32"))
    with pytest.raises(attribution.AttributionError):
        attribution.grad_cam_batch(nan, np.ones((1, 6, 6, 1), "float32"), "c")


def test_wait_idle_gives_up():
    gate = threading.Event()
    s = Scheduler(lambda key, items: gate.wait(5) and items, idle_exit=0.05)
    s.submit("a", "k", 1)
    assert s.wait_idle(0.05) is False
    gate.set()
    assert s.wait_idle(5)


class _Stub:
    """A scheduler that answers from a list: a Future already cancelled, or bytes."""

    def __init__(self, answers):
        self.answers, self.forgotten = list(answers), []

    def submit(self, session, key, item):
        from concurrent.futures import Future

        f = Future()
        answer = self.answers.pop(0)
        if answer is None:
            f.cancel()
        else:
            f.set_result(answer)
        return f

    def forget(self, session):
        self.forgotten.append(session)


def test_route_skips_text_messages_and_cancelled_frames_and_ends_on_a_broken_socket(model):
    reg, tok = _registered(model)

    class Odd(FakeSocket):
        async def receive(self):
            if self.incoming:
                item = self.incoming.pop(0)
                if isinstance(item, Exception):
                    await asyncio.sleep(0.2)
                    raise item
                return {"type": "websocket.receive", **item}
            return {"type": "websocket.disconnect"}

    stub = _Stub([None])
    ws = Odd(tok, [{"text": "hello"}, {"bytes": _frame(1, _jpeg())}, OSError("connection reset")])
    _run(live_route.serve(ws, reg, stub))
    assert [h for h, _ in ws.sent] == [{"id": 1, "t": 1.0, "dropped": True}]  # the browser sends its next frame
    assert len(stub.forgotten) == 1  # the socket ended

    class Broken(FakeSocket):
        async def send_bytes(self, data):
            raise RuntimeError("the browser went away")

    stub = _Stub([frames.pack({"id": 1})])
    ws = Broken(tok, [_frame(1, _jpeg())])
    _run(live_route.serve(ws, reg, stub))
    assert len(stub.forgotten) == 1


def test_the_route_is_mounted_at_api_live():
    (route,) = live_route.routes()
    assert route.path == "/api/live"
    ws = FakeSocket("no-such-token", [])
    _run(route.endpoint(ws))  # the process's own registry does not know it
    assert ws.closed == live_route.REFUSED


def test_the_process_registry_and_worker_answer_a_registered_token(model):
    tok = sessions.REGISTRY.new_token()
    sessions.REGISTRY.put(tok, _settings(model))
    try:
        (route,) = live_route.routes()
        ws = FakeSocket(tok, [_frame(7, _jpeg())])
        _run(route.endpoint(ws))
        assert ws.sent[0][0]["id"] == 7 and "parts" in ws.sent[0][0]
    finally:
        sessions.REGISTRY.drop(tok)


def test_a_connection_cancelled_while_its_frame_is_computed_forgets_it(model):
    reg, tok = _registered(model)

    class Never(_Stub):
        def submit(self, session, key, item):
            from concurrent.futures import Future

            return Future()  # never answered

    stub = Never([])

    async def go():
        task = asyncio.create_task(live_route.serve(FakeSocket(tok, [_frame(1, _jpeg())]), reg, stub))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    _run(go())
    assert len(stub.forgotten) == 1


def test_hundred_live_connections_leave_no_thread_memory_or_file(model, tmp_path, monkeypatch):
    """Start, stream a frame, stop: a hundred times through the route and the worker, as a class would."""
    import gc
    import os
    import tempfile
    import tracemalloc

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # anything written to a temporary file lands here
    reg, sched = sessions.Registry(), Scheduler(sessions.run_batch, idle_exit=0.05)
    threads = threading.active_count()
    connections = live_route.metrics.LIVE_CONNECTIONS._value.get()

    def cycle(i):
        tok = reg.new_token()
        reg.put(tok, _settings(model))
        ws = FakeSocket(tok, [_frame(i, _jpeg())])
        ws.receive = _quick(ws)
        _run(live_route.serve(ws, reg, sched))
        assert ws.sent and "parts" in ws.sent[0][0]
        reg.drop(tok)

    for i in range(20):
        cycle(i)
    assert sched.wait_idle(10)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(80):
        cycle(i)
    assert sched.wait_idle(10)
    gc.collect()
    grown = sum(d.size_diff for d in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert grown < 1_000_000, grown  # no per-connection leftovers (a frame's pictures alone are ~10 KB)
    assert threading.active_count() <= threads and not sched.alive()
    assert not live_route._open and len(reg) == 0 and not sched.stats.per_session
    assert live_route.metrics.LIVE_CONNECTIONS._value.get() == connections
    assert not os.listdir(tmp_path)


def _quick(ws):
    """FakeSocket.receive without the pause before closing."""
    async def receive():
        while len(ws.sent) < ws.delivered:
            await asyncio.sleep(0.005)
        if ws.incoming:
            ws.delivered += 1
            return {"type": "websocket.receive", "bytes": ws.incoming.pop(0)}
        return {"type": "websocket.disconnect"}

    return receive
