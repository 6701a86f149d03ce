"""The live view's Streamlit side: the settings registered for the websocket route, the browser component
(camera or video file -> small JPEG frames -> the route -> the maps drawn), and Freeze.

The component (Components v2, our own, in the page's DOM) captures a frame only after the previous one's
answer has been drawn, so at most one frame is in flight and the frame sent is always the newest the camera
has: the lag cannot grow. It stops sending while the tab is hidden and closes its socket when the page is
left. Frames per second and latency (capture -> maps on screen, p50 and p95 of the last 100 frames) are
measured in the browser and shown under the view; they are also on the component's root element as
data-fps, data-frames, data-p50 and data-p95 (the bench and the tests read them).
"""

from __future__ import annotations

import base64
import binascii
import time

import streamlit as st

from cnnviz.ui import image_picker as picker
from cnnviz.ui.state import lang, t

TOKEN = "cnnviz.live.token"  # this session's live token (cnnviz.live.sessions.REGISTRY)
FROZEN = "cnnviz.live.frozen"  # {"bytes", "name"}: the last frozen frame
KEY = "cnnviz.live.view"  # the component's key
RENEWALS = "cnnviz.live.renewals"  # how often the route refused an expired registration (see _renewed)
CAPTURE_SIDE = 320  # the longer side of the frames the browser sends (pixels); larger models ask for more
MAX_CAPTURE_SIDE = 512
MAX_FPS = 30  # never more frames than a camera gives
MAX_VIDEO_MB = 200
MAX_VIDEO_SECONDS = 600
MAX_FROZEN_BYTES = 2_000_000

_JS = r"""
export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  const root = parentElement.querySelector(".cnnviz-live");
  const T = data.texts;
  let S = root._s;
  if (!S) {
    S = root._s = { ws: null, stream: null, video: null, running: false, paused: false, inflight: false, gen: 0, renew: false,
                    id: 0, sent: {}, shown: null, lat: [], times: [], server: [], frames: 0, lastSend: 0, url: null };
    root.innerHTML = `
      <div class="lv-bar" role="toolbar">
        <button type="button" class="lv-camera"></button>
        <label class="lv-file-label"><span></span><input type="file" class="lv-file" accept="video/mp4,video/webm,video/*"></label>
        <button type="button" class="lv-pause" disabled></button>
        <button type="button" class="lv-stop" disabled></button>
        <button type="button" class="lv-freeze" disabled></button>
      </div>
      <div class="lv-message" role="status" aria-live="polite"></div>
      <div class="lv-stats" aria-live="off"></div>
      <div class="lv-views">
        <figure class="lv-fig lv-seen-fig"><img class="lv-seen" alt=""><figcaption class="lv-seen-cap"></figcaption></figure>
        <div class="lv-fig lv-top-box"><div class="lv-top-title"></div><ol class="lv-top"></ol></div>
        <figure class="lv-fig lv-mosaic-fig"><img class="lv-mosaic" alt=""><figcaption class="lv-mosaic-cap"></figcaption></figure>
      </div>
      <video class="lv-video" muted playsinline loop hidden></video>
      <canvas class="lv-canvas" hidden></canvas>`;
    S.video = root.querySelector(".lv-video");
    const q = (c) => root.querySelector(c);
    S.el = { camera: q(".lv-camera"), file: q(".lv-file"), fileLabel: q(".lv-file-label span"), pause: q(".lv-pause"),
             stop: q(".lv-stop"), freeze: q(".lv-freeze"), msg: q(".lv-message"), seen: q(".lv-seen"),
             seenCap: q(".lv-seen-cap"), top: q(".lv-top"), topTitle: q(".lv-top-title"), mosaic: q(".lv-mosaic"),
             mosaicCap: q(".lv-mosaic-cap"), stats: q(".lv-stats"), canvas: q(".lv-canvas") };
    const say = (text, kind) => { S.el.msg.textContent = text || ""; S.el.msg.dataset.kind = kind || ""; root.dataset.message = kind || ""; };
    S.say = say;
    const buttons = () => {
      S.el.pause.disabled = !S.running; S.el.stop.disabled = !S.running; S.el.freeze.disabled = !S.running || !S.shown;
      S.el.pause.textContent = S.paused ? S.T.resume : S.T.pause;
      root.dataset.running = S.running && !S.paused ? "1" : "0";
    };
    S.buttons = buttons;
    const stopSource = () => {
      if (S.stream) { S.stream.getTracks().forEach((tr) => tr.stop()); S.stream = null; }
      S.video.onloadeddata = null; S.video.onerror = null;
      S.video.pause(); S.video.removeAttribute("src"); S.video.srcObject = null;
      if (S.url) { URL.revokeObjectURL(S.url); S.url = null; }
    };
    const stop = () => {
      S.gen += 1;  // whatever a start still awaits is stale from now on
      S.running = false; S.paused = false; S.inflight = false; S.renew = false; clearTimeout(S.timer); stopSource();
      if (S.ws) { try { S.ws.close(); } catch (e) {} S.ws = null; }
      buttons();
    };
    S.stop = stop;
    const stat = () => {
      const now = performance.now();
      S.times = S.times.filter((x) => now - x < 2000);
      const fps = S.times.length >= 2 ? (S.times.length - 1) / ((S.times[S.times.length - 1] - S.times[0]) / 1000) : 0;
      const sorted = S.lat.slice(-100).sort((a, b) => a - b);
      const pct = (p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0;
      root.dataset.fps = fps.toFixed(2); root.dataset.frames = String(S.frames);
      root.dataset.p50 = pct(0.5).toFixed(1); root.dataset.p95 = pct(0.95).toFixed(1);
      S.el.stats.textContent = S.T.stats.replace("{fps}", fps.toFixed(1)).replace("{p50}", pct(0.5).toFixed(0))
        .replace("{p95}", pct(0.95).toFixed(0)).replace("{server}", (S.serverMs || 0).toFixed(0))
        .replace("{model}", (S.modelMs || 0).toFixed(0)).replace("{batch}", String(S.batch || 1));
    };
    const pump = () => {
      if (!S.running || S.paused || S.inflight || document.hidden || !S.ws || S.ws.readyState !== 1) return;
      const v = S.video;
      if (!v.videoWidth || v.readyState < 2) { setTimeout(pump, 50); return; }
      const wait = S.lastSend + 1000 / S.maxFps - performance.now();
      if (wait > 1) { setTimeout(pump, wait); return; }
      const side = S.side, scale = Math.min(1, side / Math.max(v.videoWidth, v.videoHeight));
      const w = Math.max(1, Math.round(v.videoWidth * scale)), h = Math.max(1, Math.round(v.videoHeight * scale));
      const c = S.el.canvas; if (c.width !== w) c.width = w; if (c.height !== h) c.height = h;
      const t0 = performance.now();
      c.getContext("2d").drawImage(v, 0, 0, w, h);
      S.inflight = true; S.lastSend = t0;
      clearTimeout(S.timer);  // an answer that never comes must not stall the view
      S.timer = setTimeout(() => { if (S.inflight && S.lastSend === t0) { S.inflight = false; pump(); } }, 10000);
      c.toBlob(async (blob) => {
        if (!blob || !S.ws || S.ws.readyState !== 1) { S.inflight = false; setTimeout(pump, 50); return; }
        const jpeg = new Uint8Array(await blob.arrayBuffer());
        const id = ++S.id;
        const head = new TextEncoder().encode(JSON.stringify({ id: id, t: t0 }));
        const msg = new Uint8Array(4 + head.length + jpeg.length);
        new DataView(msg.buffer).setUint32(0, head.length, true); msg.set(head, 4); msg.set(jpeg, 4 + head.length);
        S.sent = { [id]: jpeg };  // only the frame in flight is kept: Freeze sends the one on screen
        try { S.ws.send(msg); } catch (e) { S.inflight = false; setTimeout(pump, 50); }
      }, "image/jpeg", 0.85);
    };
    S.pump = pump;
    const show = async (buf) => {
      const dv = new DataView(buf), n = dv.getUint32(0, true);
      const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
      S.inflight = false; clearTimeout(S.timer);
      if (head.dropped) { pump(); return; }
      if (head.error) { say(head.error, "error"); if (head.id === undefined) stop(); else setTimeout(pump, 500); return; }
      let at = 4 + n; const parts = {};
      for (const [name, len] of head.parts) { parts[name] = new Blob([new Uint8Array(buf, at, len)], { type: name === "seen" ? "image/jpeg" : "image/png" }); at += len; }
      const urls = { seen: URL.createObjectURL(parts.seen), mosaic: URL.createObjectURL(parts.mosaic) };
      const a = new Image(), b = new Image(); a.src = urls.seen; b.src = urls.mosaic;
      try { await Promise.all([a.decode(), b.decode()]); } catch (e) { URL.revokeObjectURL(urls.seen); URL.revokeObjectURL(urls.mosaic); setTimeout(pump, 100); return; }
      for (const [img, url] of [[S.el.seen, urls.seen], [S.el.mosaic, urls.mosaic]]) { const old = img.src; img.src = url; if (old && old.startsWith("blob:")) URL.revokeObjectURL(old); }
      const T2 = S.T;
      S.el.seen.alt = T2.seen_alt.replace("{h}", head.input[0]).replace("{w}", head.input[1]).replace("{c}", head.input[2]);
      S.el.seenCap.textContent = (head.cam ? T2.seen_cam : T2.seen).replace("{h}", head.input[0]).replace("{w}", head.input[1]).replace("{c}", head.input[2]);
      const fmt = (x) => x === null ? "—" : Number(x.toPrecision(3)).toString();
      const cap = T2.mosaic.replace("{layer}", head.layer).replace("{shape}", head.shape.join("x"))
        .replace("{n}", head.shape[2]).replace("{lo}", fmt(head.lo)).replace("{hi}", fmt(head.hi))
        + (head.step > 1 ? " " + T2.mosaic_step.replace(/\{k\}/g, head.step) : "");
      S.el.mosaicCap.textContent = cap; S.el.mosaic.alt = cap;
      S.el.topTitle.textContent = head.prob ? T2.top_prob : T2.top_raw;
      S.el.top.replaceChildren(...head.top.map(([name, p], i) => {
        const li = document.createElement("li");
        const bar = document.createElement("span"); bar.className = "lv-bar-fill";
        bar.style.width = (head.prob && p !== null ? Math.max(0, Math.min(1, p)) * 100 : 0) + "%";
        const label = document.createElement("span"); label.className = "lv-label"; label.textContent = name + " " + fmt(p);
        li.append(bar, label); if (i === 0) li.className = "lv-first"; return li;
      }));
      root.dataset.top = head.top.length ? head.top[0][0] : "";
      S.shown = S.sent[head.id] || S.shown; S.serverMs = head.server_ms; S.modelMs = head.model_ms; S.batch = head.batch;
      requestAnimationFrame(() => {
        const now = performance.now();
        S.frames += 1; S.times.push(now); S.lat.push(now - head.t); if (S.lat.length > 2000) S.lat.splice(0, 1000);
        S.server.push(head.server_ms / head.batch); if (S.server.length > 2000) S.server.splice(0, 1000);
        window.__cnnvizLive = { frames: S.frames, lat: S.lat, server: S.server, batch: head.batch, at: now };
        if (S.el.msg.textContent) say("", "");
        stat(); buttons(); pump();
      });
    };
    const connect = () => new Promise((resolve, reject) => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(proto + "//" + location.host + S.path + "?token=" + encodeURIComponent(S.token));
      ws.binaryType = "arraybuffer";
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error("socket"));
      ws.onmessage = (e) => { if (S.ws === ws) show(e.data); };
      ws.onclose = (e) => {
        if (S.ws !== ws) return;
        S.ws = null;
        if (!S.running) return;
        if (e.code === 4403 && !S.renewed) {  // the page's registration expired: a run registers it again, then we go on
          S.renewed = true; S.renew = true; S.inflight = false; setTriggerValue("renew", Date.now()); return;
        }
        const text = { 4403: S.T.expired, 4409: S.T.replaced, 4429: S.T.busy }[e.code] || S.T.closed;
        stop(); say(text, "error");
      };
    });
    const begin = async (g) => {
      let ws;
      try { ws = await connect(); } catch (e) { if (g === S.gen) { stop(); say(S.T.closed, "error"); } return false; }
      if (g !== S.gen) { ws.close(); return false; }  // stopped (or another source chosen) meanwhile
      S.ws = ws; S.running = true; S.paused = false; S.frames = 0; S.times = []; S.lat = []; S.server = [];
      say("", ""); buttons(); pump(); return true;
    };
    S.reconnect = async () => {  // after a renewed registration: the same source, a new socket
      const g = S.gen;
      let ws;
      try { ws = await connect(); } catch (e) { if (g === S.gen) { stop(); say(S.T.closed, "error"); } return; }
      if (g !== S.gen) { ws.close(); return; }
      S.ws = ws; S.renew = false; pump();
    };
    S.el.camera.addEventListener("click", async () => {
      stop(); S.renewed = false;
      const g = S.gen;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say(window.isSecureContext ? S.T.no_support : S.T.insecure, "error"); return; }
      say(S.T.asking, "info");
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      } catch (e) {
        if (g !== S.gen) return;
        const key = { NotAllowedError: "denied", SecurityError: "denied", NotFoundError: "no_camera", OverconstrainedError: "no_camera",
                      NotReadableError: "camera_busy", AbortError: "camera_busy" }[e && e.name] || "camera_failed";
        say(S.T[key].replace("{name}", e && e.name || "?"), "error"); root.dataset.error = key; return;
      }
      if (g !== S.gen) { stream.getTracks().forEach((tr) => tr.stop()); return; }  // stopped meanwhile: let the camera go
      S.stream = stream; S.video.srcObject = stream;
      try { await S.video.play(); } catch (e) {}
      if (g !== S.gen) return;
      root.dataset.source = "camera"; root.dataset.error = "";
      await begin(g);
    });
    S.el.file.addEventListener("change", async () => {
      const file = S.el.file.files && S.el.file.files[0];
      S.el.file.value = "";
      if (!file) return;
      stop(); S.renewed = false;
      const g = S.gen;
      const bad = (key, extra) => { let text = S.T[key].replace("{name}", file.name); for (const k in (extra || {})) text = text.replace("{" + k + "}", extra[k]); say(text, "error"); root.dataset.error = key; };
      if (file.type && !file.type.startsWith("video/")) { bad("not_video"); return; }
      if (file.size > S.maxMb * 1024 * 1024) { bad("too_big", { mb: (file.size / 1048576).toFixed(0), max: S.maxMb }); return; }
      S.url = URL.createObjectURL(file);
      const v = S.video;
      const ok = await new Promise((resolve) => {
        const done = (r) => { v.onloadeddata = null; v.onerror = null; clearTimeout(timer); resolve(r); };
        const timer = setTimeout(() => done("bad_video"), 15000);
        v.onerror = () => done("bad_video");
        // a duration the file does not state (a MediaRecorder webm: Infinity) cannot be checked: it plays
        v.onloadeddata = () => done(isFinite(v.duration) && v.duration > S.maxSeconds ? "too_long" : (v.videoWidth ? "ok" : "bad_video"));
        v.src = S.url; v.load();
      });
      if (g !== S.gen) return;
      if (ok !== "ok") { stopSource(); bad(ok, { s: isFinite(v.duration) ? v.duration.toFixed(0) : "?", max: S.maxSeconds }); return; }
      try { await v.play(); } catch (e) { if (g === S.gen) { stopSource(); bad("bad_video"); } return; }
      if (g !== S.gen) return;
      root.dataset.source = "video"; root.dataset.error = "";
      await begin(g);
    });
    S.el.pause.addEventListener("click", () => {
      S.paused = !S.paused; if (S.paused) S.video.pause(); else { S.video.play().catch(() => {}); pump(); } buttons();
    });
    S.el.stop.addEventListener("click", () => { stop(); say("", ""); });
    S.el.freeze.addEventListener("click", () => {
      if (!S.shown) return;
      S.paused = true; S.video.pause(); buttons();
      let bin = ""; const bytes = S.shown;
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      setTriggerValue("freeze", "data:image/jpeg;base64," + btoa(bin));
    });
    document.addEventListener("visibilitychange", S.onVisible = () => { if (!document.hidden) pump(); });
  }
  // Every run: texts, settings and the token may have changed; the stream goes on.
  S.T = T; S.token = data.token; S.path = data.path; S.side = data.side; S.maxFps = data.max_fps;
  S.maxMb = data.max_mb; S.maxSeconds = data.max_seconds;
  S.el.camera.textContent = T.camera; S.el.fileLabel.textContent = T.file; S.el.stop.textContent = T.stop;
  S.el.freeze.textContent = T.freeze; S.el.pause.textContent = S.paused ? T.resume : T.pause;
  S.el.file.setAttribute("aria-label", T.file);
  if (!S.running && !S.el.msg.textContent) S.say(T.idle, "info");
  if (S.renew && S.running) S.reconnect();  // this run registered the session again
  return () => {
    S.stop(); document.removeEventListener("visibilitychange", S.onVisible);
    for (const img of [S.el.seen, S.el.mosaic]) if (img.src && img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    root._s = null;
  };
}
"""

_CSS = """
.cnnviz-live { font-family: inherit; }
.cnnviz-live .lv-bar { display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: .5rem; }
.cnnviz-live button, .cnnviz-live .lv-file-label { font: inherit; padding: .35rem .8rem; border-radius: .5rem;
  border: 1px solid rgba(49, 51, 63, .35); background: #fff; color: #31333f; cursor: pointer; }
.cnnviz-live button:disabled { opacity: .45; cursor: default; }
.cnnviz-live button:focus-visible, .cnnviz-live .lv-file-label:focus-within { outline: 2px solid #1c6dd0; outline-offset: 2px; }
.cnnviz-live .lv-file { position: absolute; width: 1px; height: 1px; opacity: 0; }
.cnnviz-live .lv-message { min-height: 1.4em; margin: .25rem 0; }
.cnnviz-live .lv-message[data-kind=error] { color: #a4000f; font-weight: 600; }
.cnnviz-live .lv-views { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.cnnviz-live .lv-fig { margin: 0; }
.cnnviz-live .lv-seen { height: 224px; max-width: 100%; object-fit: contain; image-rendering: pixelated; background: #eee; display: block; }
.cnnviz-live .lv-mosaic { width: min(560px, 100%); image-rendering: pixelated; background: #eee; display: block; }
.cnnviz-live .lv-mosaic-fig { flex: 1 1 320px; min-width: 0; }
.cnnviz-live figcaption, .cnnviz-live .lv-stats, .cnnviz-live .lv-top-title { font-size: .875rem; color: #4a4c57; margin-top: .25rem; }
.cnnviz-live .lv-stats { margin-bottom: .5rem; font-variant-numeric: tabular-nums; }
.cnnviz-live .lv-top-box { min-width: 200px; flex: 0 1 260px; }
.cnnviz-live .lv-top { list-style: none; padding: 0; margin: .25rem 0; }
.cnnviz-live .lv-top li { position: relative; padding: .15rem .4rem; margin: .15rem 0; border-radius: .25rem; overflow: hidden; }
.cnnviz-live .lv-top li.lv-first { font-weight: 700; }
.cnnviz-live .lv-bar-fill { position: absolute; left: 0; top: 0; bottom: 0; background: rgba(28, 109, 208, .18); }
.cnnviz-live .lv-label { position: relative; }
"""

_component = st.components.v2.component("cnnviz_live", html='<div class="cnnviz-live"></div>', js=_JS, css=_CSS,
                                        isolate_styles=False)

TEXTS = ("camera", "file", "pause", "resume", "stop", "freeze", "idle", "asking", "denied", "no_camera",
         "camera_busy", "camera_failed", "no_support", "replaced", "busy", "insecure", "not_video", "too_big", "too_long", "bad_video", "closed",
         "expired", "seen", "seen_cam", "seen_alt", "mosaic", "mosaic_step", "top_prob", "top_raw", "stats")


def capture_side(shape) -> int:
    """The longer side of the frames the browser sends: enough for the model's input (never upscaled by
    us), at least CAPTURE_SIDE, at most MAX_CAPTURE_SIDE."""
    return int(min(MAX_CAPTURE_SIDE, max(CAPTURE_SIDE, int(shape[0]), int(shape[1]))))


def token() -> str:
    """This session's live token (made once per session)."""
    from cnnviz.live import sessions

    found = st.session_state.get(TOKEN)
    if not found:
        found = st.session_state[TOKEN] = sessions.Registry.new_token()
    return found


def register(settings) -> str:
    """Puts this session's settings where the websocket route finds them; the token."""
    from cnnviz.live import sessions

    tok = token()
    sessions.REGISTRY.put(tok, settings)
    return tok


def jpeg_bytes(url) -> bytes | None:
    """The bytes of a JPEG data URL from Freeze (None for anything else, or one over MAX_FROZEN_BYTES)."""
    prefix = "data:image/jpeg;base64,"
    if not isinstance(url, str) or not url.startswith(prefix) or len(url) > MAX_FROZEN_BYTES * 4 // 3 + 64:
        return None
    try:
        return base64.b64decode(url[len(prefix):], validate=True)
    except (ValueError, binascii.Error):
        return None


def _frozen() -> None:
    """Freeze: the frame on screen becomes the session's picture (as an upload would), for every page."""
    data = jpeg_bytes(getattr(st.session_state.get(KEY), "freeze", None))
    if data is None:
        return
    name = time.strftime("live-frame-%H%M%S.jpg")
    image, reason = picker.accept(name, data, "upload")
    if image is None:
        st.session_state[FROZEN] = {"error": reason[0]}
        return
    st.session_state[picker.SOURCE] = "upload"
    st.session_state[FROZEN] = {"name": name, "bytes": data, "size": image.size}


def layers(info) -> list[str]:
    """The layers with maps (h, w, c) the live view can show, in order."""
    from cnnviz import attribution

    return attribution.spatial_layers(info.model)


def default_layer(info) -> str:
    from cnnviz.live import pipeline

    return pipeline.default_layer(info.model)


def has_cam(info) -> bool:
    from cnnviz import attribution

    try:
        attribution.cam_layer(info.model)
    except attribution.AttributionError:
        return False
    return True


def settings(info, layer: str, scale: str, cam: bool, fit: str):
    """This session's live settings for the model (its size and pixel range as the Activations page feeds
    it; a model that takes any size gets a camera's 4:3, cnnviz.live.sessions.FREE_SIZE)."""
    from cnnviz import preprocessing
    from cnnviz.live import sessions
    from cnnviz.ui import activations as ui_act
    from cnnviz.ui import models as ui_models
    from cnnviz.ui.state import device

    plan = preprocessing.plan(info.model, sessions.FREE_SIZE, **ui_models.pixel_sources(info))
    return sessions.settings_for(info.model, layer, scale, cam, fit, plan.pixels, ui_act.class_labels(info),
                                 device(), lang(), plan.shape), plan


def _renewed() -> None:
    """The route said this session's registration expired (a page left open for long): the run that
    follows registers it again (pages/live.py does on every run) and the browser reconnects when the
    component's data arrives, which this count changes (unchanged data would not reach the browser)."""
    st.session_state[RENEWALS] = st.session_state.get(RENEWALS, 0) + 1


def view(tok: str, shape) -> None:
    """The live component: buttons, the frame as the model sees it, the prediction, the layer's mosaic,
    the measured frame rate and latency."""
    from cnnviz.ui.live_route import PATH

    data = {"token": tok, "path": PATH, "side": capture_side(shape), "max_fps": MAX_FPS, "max_mb": MAX_VIDEO_MB,
            "max_seconds": MAX_VIDEO_SECONDS, "lang": lang(), "renewals": st.session_state.get(RENEWALS, 0),
            "texts": {k: t(f"live.ui.{k}") for k in TEXTS}}  # templates: the browser fills {fps}, {max}, ...
    _component(key=KEY, data=data, on_freeze_change=_frozen, on_renew_change=_renewed)
