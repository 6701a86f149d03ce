"""The page `streamlit run app.py` serves carries the first page's preload hints (cnnviz.ui.preload)."""

import urllib.request

from cnnviz.ui import preload


def test_served_page_has_the_hints_and_still_works(server, page):
    for path in ("/", "/activations"):
        req = urllib.request.Request(server.url + path, headers={"Accept-Encoding": "gzip, deflate"})
        with urllib.request.urlopen(req, timeout=30) as r:
            html = r.read()
            assert r.status == 200 and int(r.headers["content-length"]) == len(html)
        assert preload.hints().encode() in html
    hinted = [h.split('"')[0] for h in preload.hints().split('href="./')[1:]]
    with urllib.request.urlopen(f"{server.url}/{hinted[0]}", timeout=30) as r:
        assert r.status == 200  # a hinted chunk is served
    page.goto(server.url + "/")
    page.wait_for_selector(".katex-display", timeout=90_000)
    assert page.locator("[data-testid='stException']").count() == 0
