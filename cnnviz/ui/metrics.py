"""The `/metrics` route (st.App's `routes=`): cnnviz.metrics in Prometheus's text format, with the number
of browser sessions connected to this process read from Streamlit's runtime at scrape time."""

from __future__ import annotations

from cnnviz import metrics


def active_sessions() -> int | None:
    """Sessions with a live connection to this process; None where Streamlit's runtime cannot say."""
    try:
        from streamlit.runtime import Runtime

        return int(Runtime.instance()._session_mgr.num_active_sessions())  # no public counter in 1.67
    except Exception:  # noqa: BLE001 - no runtime (a test, a notebook) or another Streamlit version
        return None


async def _endpoint(_request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    body = await run_in_threadpool(lambda: metrics.exposition(active_sessions()))
    return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)


def routes() -> list:
    """For st.App(routes=...): GET /metrics."""
    from starlette.routing import Route

    return [Route("/metrics", _endpoint, methods=["GET"])]
