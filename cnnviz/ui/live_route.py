"""The live view's websocket (st.App's `routes=`): /api/live?token=..., on the app's own server and port.

Frames go from the browser to this route and answers come back on the same socket, without a Streamlit
script run per frame (a run costs the browser ~40 ms of work on its new-session message alone, which held a
do-nothing round trip to 15 frames per second in our measurements). The page's run registers what the
session wants (cnnviz.live.sessions.REGISTRY) and hands the token to the browser; a token the registry does
not know is refused (close code 4403). Per connection: the latest frame wins, one frame in flight
(cnnviz.live.latest); every connection's frames go through the process's one live worker
(cnnviz.live.sessions.SCHEDULER). The socket closing (the tab closed, the page left, the network gone)
ends the connection's work: nothing more is computed for it.
"""

from __future__ import annotations

import asyncio
import itertools

from cnnviz import i18n, metrics
from cnnviz.live import frames, latest  # light; cnnviz.live.sessions (Keras) is imported on the first connection

PATH = "/api/live"
REFUSED = 4403  # the close code for an unknown or expired token
_ids = itertools.count(1)


def _error_text(err: BaseException, lang: str) -> str:
    from cnnviz.messages import text

    reason = text(err, lang) if hasattr(err, "key") else (str(err).splitlines()[0][:300] if str(err) else type(err).__name__)
    return i18n.t("live.error.failed", lang, reason=reason)


async def serve(websocket, registry=None, scheduler=None) -> None:
    """One browser's live connection (`registry` and `scheduler`: cnnviz.live.sessions' by default)."""
    from cnnviz.live import sessions

    registry = sessions.REGISTRY if registry is None else registry
    scheduler = sessions.SCHEDULER if scheduler is None else scheduler
    token = websocket.query_params.get("token")
    if registry.get(token) is None:
        await websocket.close(code=REFUSED)
        return
    await websocket.accept()
    conn = f"{token}:{next(_ids)}"
    slot = latest.LatestFrame()
    metrics.live_connection(1)

    async def receive() -> None:
        try:
            while True:
                message = await websocket.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is not None:
                    slot.put(data)
        except Exception:  # noqa: BLE001 - a broken connection ends like a closed one
            return
        finally:
            slot.close()

    reader = asyncio.create_task(receive())
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
            future = scheduler.submit(conn, settings.key, (settings, header, jpeg))
            try:
                answer = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise  # this connection itself is cancelled (the server stops): never swallowed
                continue  # the scheduler dropped the frame: the next one goes on
            except Exception as err:  # noqa: BLE001 - the model could not run: say why, keep the socket
                answer = frames.pack({"id": header.get("id"), "t": header.get("t"),
                                      "error": _error_text(err, settings.lang)})
            await websocket.send_bytes(answer)
    except Exception:  # noqa: BLE001 - the browser went away mid-send
        pass
    finally:
        reader.cancel()
        scheduler.forget(conn)
        metrics.live_connection(-1)


def routes() -> list:
    """For st.App(routes=...): the live websocket."""
    from starlette.routing import WebSocketRoute

    async def endpoint(websocket):
        await serve(websocket)

    return [WebSocketRoute(PATH, endpoint)]
