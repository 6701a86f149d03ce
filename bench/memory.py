"""Server memory: RSS of the `streamlit run` process (VmRSS in /proc/<pid>/status) after the app is
opened, after one session has visited every page, and per additional session (each visits every page)."""

from __future__ import annotations

from bench.common import chromium, goto_page, open_app, rss_mib, start_server, stop_server, summary

NAME = "memory"
PAGES = ("layer_lab", "convolution", "pooling", "probability", "glossary", "activations", "filters", "model", "train")
EXTRA_SESSIONS = 3


def _session(browser, url: str, every_page: bool):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    open_app(page, url)
    if every_page:
        for path in PAGES[1:]:
            goto_page(page, path)
    return context


def run(repeats: int = 30) -> dict:
    server = start_server("bench-memory.log")
    pid = server.proc.pid
    pw, browser = chromium()
    contexts = []
    try:
        idle = rss_mib(pid)
        contexts.append(_session(browser, server.url, every_page=False))
        opened = rss_mib(pid)
        goto = contexts[0].pages[0]
        for path in PAGES[1:]:
            goto_page(goto, path)
        visited = rss_mib(pid)
        after = [visited]
        for _ in range(EXTRA_SESSIONS):
            contexts.append(_session(browser, server.url, every_page=True))
            after.append(rss_mib(pid))
    finally:
        for c in contexts:
            c.close()
        browser.close()
        pw.stop()
        stop_server(server)
    per_session = [b - a for a, b in zip(after, after[1:])]
    return {"server_started_mib": idle, "app_opened_mib": opened, "one_session_every_page_mib": visited,
            "after_each_extra_session_mib": after[1:], "per_extra_session_mib": summary(per_session, "MiB"),
            "pages": list(PAGES)}


def table(result: dict) -> str:
    p = result["per_extra_session_mib"]
    return "\n".join([
        "== 5. server RSS (MiB, VmRSS of the streamlit process) ==",
        f"  server started, no session            {result['server_started_mib']:.0f}",
        f"  app opened (Layer lab)                 {result['app_opened_mib']:.0f}",
        f"  one session visited every page         {result['one_session_every_page_mib']:.0f}",
        f"  after each extra session (every page)  {', '.join(f'{v:.0f}' for v in result['after_each_extra_session_mib'])}",
        f"  per extra session                      median {p['median']:.1f} (min {p['min']:.1f}, max {p['max']:.1f}, n={p['n']})",
    ])
