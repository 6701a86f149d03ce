"""Preload hints (cnnviz.ui.preload): every chunk and font named exists in the installed Streamlit, and
the HTML page served through the middleware carries them while everything else passes untouched."""

from bench.common import run_in_own_thread

from cnnviz.ui import preload


def test_every_named_chunk_and_font_is_in_the_installed_streamlit():
    js = preload.STATIC / "static" / "js"
    media = preload.STATIC / "static" / "media"
    missing = [n for n in preload.CHUNKS if preload._resolve(js, n, ".js") is None]
    missing += [n for n in preload.FONTS if preload._resolve(media, n, ".woff2") is None]
    assert missing == [], "Streamlit's chunks changed: measure the first page's requests again"
    hints = preload.hints()
    assert hints.count('rel="modulepreload"') == len(preload.CHUNKS)
    assert hints.count('as="font"') == len(preload.FONTS)
    for tag in hints.split("/>")[:-1]:
        href = tag.split('href="./')[1].split('"')[0]
        assert (preload.STATIC / href).is_file(), href


def test_add_hints_goes_before_head_end_only():
    page = b"<html><head><title>x</title></head><body></body></html>"
    out = preload.add_hints(page)
    assert out.startswith(b"<html><head><title>x</title><link ") and out.endswith(b"</head><body></body></html>")
    assert preload.add_hints(b"no head here") == b"no head here"


def _call(path: str, content_type: bytes, chunks: list[bytes], method: str = "GET", accept=b"gzip"):
    sent, seen = [], {}

    async def inner(scope, receive, send):
        seen["headers"] = dict(scope["headers"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type), (b"content-length", b"999")]})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [(b"accept-encoding", accept)]}
    run_in_own_thread(preload.PreloadMiddleware(inner)(scope, None, send))
    return sent, seen["headers"]


def test_html_pages_get_the_hints_with_the_right_length():
    sent, headers = _call("/activations", b"text/html; charset=utf-8", [b"<html><head>", b"</head></html>"])
    assert b"accept-encoding" not in headers  # asked uncompressed, so the text can be changed
    start, body = sent
    assert body["body"] == b"<html><head>" + preload.hints().encode() + b"</head></html>"
    assert dict(start["headers"])[b"content-length"] == str(len(body["body"])).encode()


def test_other_requests_pass_untouched():
    for path, ctype in (("/static/js/Slider.js", b"text/javascript"), ("/", b"application/json"),
                        ("/_stcore/health", b"text/html")):
        sent, headers = _call(path, ctype, [b"a", b"b"])
        assert [m.get("body") for m in sent[1:]] == [b"a", b"b"]
    sent, headers = _call("/", b"text/html", [b"<head></head>"], method="POST")
    assert sent[1]["body"] == b"<head></head>" and b"accept-encoding" in headers
    ws = []

    async def inner(scope, receive, send):
        ws.append(scope["type"])

    run_in_own_thread(preload.PreloadMiddleware(inner)({"type": "websocket", "path": "/_stcore/stream"}, None, None))
    assert ws == ["websocket"]


def test_switch_turns_the_hints_off(monkeypatch):
    assert len(preload.middleware()) == 1
    monkeypatch.setenv(preload.ENV, "0")
    assert preload.middleware() == []
