"""The live view's websocket (st.App's `routes=`): /api/live?token=..., on the app's own server and port.

Frames go from the browser to this route and answers come back on the same socket, without a Streamlit
script run per frame (a run costs the browser ~40 ms of work on its new-session message alone, which held a
do-nothing round trip to 15 frames per second in our measurements). The page's run registers what the
session wants (cnnviz.live.registry) and hands the token to the browser; a token the registry does not know
is refused (close code 4403, after the handshake, so the browser can tell it from a network failure and
have the page register again). One connection per token: a second one (another tab of the same session, a
reconnect) replaces the first (4409); at most MAX_CONNECTIONS per process (4429). Per connection: the
latest frame wins, one frame in flight (cnnviz.live.latest), messages larger than a frame may be are
refused (1009) before they are kept; every connection's frames go through the process's one live worker
(cnnviz.live.sessions.SCHEDULER). The socket closing (the tab closed, the page left, the network gone)
ends the connection's work: nothing more is computed for it.

This module imports no Keras: it runs on the server's event loop. cnnviz.live.sessions (Keras) is imported
only for a known token, whose page run has imported Keras already.
"""

from __future__ import annotations

import asyncio

from cnnviz import i18n, metrics
from cnnviz.live import frames, latest
from cnnviz.live.registry import REGISTRY

PATH = "/api/live"
REFUSED = 4403  # an unknown or expired token
REPLACED = 4409  # another connection of the same token took over
BUSY = 4429  # MAX_CONNECTIONS reached
TOO_BIG = 1009  # a message larger than any frame
MAX_CONNECTIONS = 64
MAX_MESSAGE = 4 + frames.MAX_HEADER + frames.MAX_FRAME_BYTES
_open: dict[str, asyncio.Event] = {}  # token -> set when a newer connection replaces this one


def _error_text(err: BaseException, lang: str) -> str:
    from cnnviz.messages import text

    reason = text(err, lang) if hasattr(err, "key") else (str(err).splitlines()[0][:300] if str(err) else type(err).__name__)
    return i18n.t("live.error.failed", lang, reason=reason)


async def serve(websocket, registry=None, scheduler=None) -> None:
    """One browser's live connection (`registry` and `scheduler`: the process's own by default)."""
    registry = REGISTRY if registry is None else registry
    token = websocket.query_params.get("token")
    await websocket.accept()
    if registry.get(token) is None:
        await websocket.close(code=REFUSED)
        return
    if token not in _open and len(_open) >= MAX_CONNECTIONS:
        await websocket.close(code=BUSY)
        return
    if scheduler is None:
        from cnnviz.live import sessions  # Keras: already imported by the page run that registered the token

        scheduler = sessions.SCHEDULER
    old = _open.get(token)
    if old is not None:
        old.set()  # the older connection of this token ends
    replaced = _open[token] = asyncio.Event()
    slot = latest.LatestFrame()
    metrics.live_connection(1)

    async def receive() -> None:
        try:
            while True:
                message = await websocket.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is not None and len(data) > MAX_MESSAGE:
                    await websocket.close(code=TOO_BIG)
                    return
                if data is not None:
                    slot.put(data)
        except Exception:  # noqa: BLE001 - a broken connection ends like a closed one
            return
        finally:
            slot.close()

    async def watch() -> None:
        await replaced.wait()
        slot.close()

    reader, watcher = asyncio.create_task(receive()), asyncio.create_task(watch())
    try:
        while (data := await slot.take()) is not None:
            settings = registry.get(token)
            if settings is None:  # expired while streaming (or the server restarted the registry)
                await websocket.close(code=REFUSED)
                return
            try:
                header, jpeg = frames.unpack(data)
            except frames.FrameError as err:
                await websocket.send_bytes(frames.pack({"error": err.text(settings.lang)}))
                continue
            header = frames.known(header)
            future = scheduler.submit(token, settings.key, (settings, header, jpeg))
            try:
                answer = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # this connection itself is cancelled (the server stops): never swallowed
                answer = frames.pack({**header, "dropped": True})  # the browser sends its next frame
            except Exception as err:  # noqa: BLE001 - the model could not run: say why, keep the socket
                answer = frames.pack({**header, "error": _error_text(err, settings.lang)})
            await websocket.send_bytes(answer)
        if replaced.is_set():
            await websocket.close(code=REPLACED)
    except Exception:  # noqa: BLE001 - the browser went away mid-send
        pass
    finally:
        reader.cancel()
        watcher.cancel()
        if _open.get(token) is replaced:
            del _open[token]
            scheduler.forget(token)
        metrics.live_connection(-1)


def routes() -> list:
    """For st.App(routes=...): the live websocket."""
    from starlette.routing import WebSocketRoute

    async def endpoint(websocket):
        await serve(websocket)

    return [WebSocketRoute(PATH, endpoint)]
