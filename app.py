"""cnnviz entrypoint: page config, the shared sidebar, navigation over pages/.

`streamlit run app.py` finds the st.App at the bottom (Streamlit looks for one before it runs a script)
and serves this same file through it: each page view runs main(), the server's lifespan starts the
warm-up (cnnviz.ui.warmup) as soon as the server is up, before any student opens a page, the
page Streamlit serves carries preload hints for the first page's JavaScript (cnnviz.ui.preload), and
`/metrics` serves this process's counters to Prometheus (cnnviz.metrics), and `/api/live` is the live view's
websocket (cnnviz.ui.live_route).
"""

import streamlit as st

import time

from cnnviz import metrics
from cnnviz.ui import errors, keras_state, live_route, preload, sidebar, style, warmup
from cnnviz.ui import metrics as metrics_route
from cnnviz.ui.gc_freeze import freeze_imports
from cnnviz.ui.state import t


def main() -> None:
    freeze_imports()  # after the imports above; again whenever a run or the warm-up imported more (Keras)
    st.set_page_config(page_title="cnnviz", page_icon=":material/neurology:", layout="wide")
    style.apply()
    pages = {
        t("nav.section.learn"): [
            st.Page("pages/layer_lab.py", title=t("nav.layer_lab"), icon=":material/tune:", url_path="layer_lab", default=True),
            st.Page("pages/convolution.py", title=t("nav.convolution"), icon=":material/grid_on:", url_path="convolution"),
            st.Page("pages/pooling.py", title=t("nav.pooling"), icon=":material/compress:", url_path="pooling"),
            st.Page("pages/practice.py", title=t("nav.practice"), icon=":material/edit_note:", url_path="practice"),
            st.Page("pages/probability.py", title=t("nav.probability"), icon=":material/casino:", url_path="probability"),
            st.Page("pages/glossary.py", title=t("nav.glossary"), icon=":material/menu_book:", url_path="glossary"),
        ],
        t("nav.section.inspect"): [
            st.Page("pages/activations.py", title=t("nav.activations"), icon=":material/local_fire_department:", url_path="activations"),
            st.Page("pages/filters.py", title=t("nav.filters"), icon=":material/filter_alt:", url_path="filters"),
            st.Page("pages/explain.py", title=t("nav.explain"), icon=":material/visibility:", url_path="explain"),
            st.Page("pages/live.py", title=t("nav.live"), icon=":material/videocam:", url_path="live"),
        ],
        t("nav.section.build"): [
            st.Page("pages/model.py", title=t("nav.model"), icon=":material/account_tree:", url_path="model"),
            st.Page("pages/train.py", title=t("nav.train"), icon=":material/show_chart:", url_path="train"),
        ],
    }
    errors.install()
    page = st.navigation(pages, position="hidden")  # first: the browser draws nothing of a run before it
    sidebar.render(pages, page)  # the links to the pages first (cnnviz.ui.sidebar.navigation)
    start = time.perf_counter()
    try:
        page.run()
    except Exception as err:  # noqa: BLE001 - the error boundary; st.rerun/st.stop are BaseExceptions and pass
        errors.show(err, page.url_path)
    finally:
        metrics.rerun(page.url_path, time.perf_counter() - start)  # served at /metrics
        keras_state.protect()  # before Streamlit's post-run keras reset: see cnnviz/ui/keras_state.py
        freeze_imports()
        warmup.run_finished()  # the warm-up's Keras import waits for the first page (cnnviz.ui.warmup)


if __name__ == "__main__":  # a script run: one page view of one session
    main()
else:  # imported as the server's ASGI app by `streamlit run app.py` (or `uvicorn app:app`)
    app = st.App(__file__, lifespan=warmup.lifespan, middleware=preload.middleware(), routes=metrics_route.routes() + live_route.routes())
