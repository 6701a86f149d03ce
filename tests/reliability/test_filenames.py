"""Hostile upload names: shown as the text they are, never used as a path (images and model files).

How they render in a real browser (HTML not interpreted) is checked in test_concurrency, where some of
the sessions upload under these names.
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest

from cnnviz import i18n
from cnnviz.ui.text import plain
from tests.reliability.conftest import errors, exceptions, open_app, sidebar_captions, to_upload, upload
from tests.reliability.files import solid

MARK = "cnnvizpwned"  # in every hostile name, so any use of a name as a path can be spotted

HOSTILE = {
    "dotdot": f"../../../../tmp/{MARK}.png",
    "absolute": f"/tmp/{MARK}-abs.png",
    "backslash": f"..\\..\\{MARK}.png",
    "html": f'<img src=x onerror="window.{MARK}=1">{MARK}.png',
    "script": f"<script>window.{MARK}=1</script>.png",
    "markdown": f"[click](https://example.invalid/{MARK}) **bold** `code`.png",
    "rtl": f"{MARK}\u202egnp.exe",  # right-to-left override: shows as '...exe.png'-like
    "long": MARK + "a" * 285 + ".png",  # 300 characters
    "nul-ish": f"{MARK}\u0000.png",
}
assert len(HOSTILE["long"]) == 300


class OpenLog:
    """Every path the process opens while installed (builtins.open, io.open, os.open)."""

    def __init__(self, monkeypatch):
        self.paths: list[str] = []
        for module, name in ((builtins, "open"), (io, "open"), (os, "open")):
            original = getattr(module, name)

            def spy(path, *args, _original=original, **kwargs):
                if isinstance(path, (str, bytes, os.PathLike)):
                    self.paths.append(os.fsdecode(path) if not isinstance(path, str) else path)
                return _original(path, *args, **kwargs)

            monkeypatch.setattr(module, name, spy)

    def with_mark(self) -> list[str]:
        return [p for p in self.paths if MARK in p]


def leftovers() -> list[Path]:
    roots = [Path("/tmp"), Path.cwd(), Path.cwd().parent]
    return [p for root in roots for p in root.glob(f"*{MARK}*")]


@pytest.fixture(scope="module")
def at():
    at = open_app("pooling")
    assert not at.exception
    return to_upload(at)


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_image_name_shown_as_text_never_a_path(at, kind, monkeypatch):
    name = HOSTILE[kind]
    log = OpenLog(monkeypatch)
    upload(at, name, solid((24, 16), (1, 2, 3)))
    assert not exceptions(at), exceptions(at)
    # shown markdown-escaped (the browser shows the characters themselves: test_concurrency)
    caption = i18n.t("images.caption.upload", "en", name=plain(name))
    assert any(c.startswith(caption) for c in sidebar_captions(at)), sidebar_captions(at)
    # a refused file under the same name: the message carries the escaped name
    upload(at, name, b"not an image")
    assert not exceptions(at)
    assert any(e.startswith(f"Could not use {plain(name)}:") for e in errors(at)), errors(at)
    assert log.with_mark() == []
    assert leftovers() == []


@pytest.mark.parametrize("kind", ["dotdot", "html", "long", "rtl"])
def test_model_name_never_a_path(kind, monkeypatch):
    import keras

    from cnnviz.files import modelfiles

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    data = modelfiles.model_bytes(model)
    name = HOSTILE[kind].replace(".png", ".keras")
    log = OpenLog(monkeypatch)
    loaded = modelfiles.load_bytes(data, name)
    assert loaded.count_params() == model.count_params()
    opened = [p for p in log.paths if p.endswith(".keras")]
    assert opened and all(Path(p).name.startswith("cnnviz-upload-") for p in opened), opened
    assert log.with_mark() == []
    assert leftovers() == []


@pytest.mark.parametrize("name,shown", [
    ("[link](https://x.invalid) **b**.png", r"\[link\]\(https\://x.invalid\) \*\*b\*\*.png"),
    ("<img src=x>.png", r"\<img src=x\>.png"),
    (":red[x] $y$ ~z~ `c` #h |t|.png", r"\:red\[x\] \$y\$ \~z\~ \`c\` \#h \|t\|.png"),
    ("a\u202egnp.exe", "a\ufffdgnp.exe"),
    ("my_photo-1.png", r"my\_photo-1.png"),
])
def test_plain_escapes_markdown_and_controls(name, shown):
    assert plain(name) == shown


def test_plain_shortens_long_names_keeping_both_ends():
    long = "start" + "x" * 300 + "end.png"
    short = plain(long)
    assert len(short) <= 80 and short.startswith("start") and short.endswith("end.png") and "…" in short
