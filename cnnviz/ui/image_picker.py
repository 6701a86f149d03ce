"""The image source in the sidebar (gallery / upload / camera), shared by every page that uses an image.

What the user chose lives in this session's state only (an upload's bytes included; nothing is written
to disk), in keys that are not widget keys, so the choice survives pages that do not render the picker.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import i18n, images, metrics
from cnnviz.plots import describe
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.links import LINK
from cnnviz.ui.persist import bound
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

SOURCES = ("gallery", "upload", "camera", "draw")

# Persistent choices (plain session state; widgets copy into them).
SOURCE = state.IMAGE_SOURCE  # "gallery" / "upload" / "camera" / "draw"
SAMPLE = state.SAMPLE  # sample name
UPLOAD = "cnnviz.image_upload"  # {"name", "bytes", "source"}: the last accepted upload or camera shot
ERROR = "cnnviz.image_error"  # the reason the last upload was refused, shown until the next change
SEEN = "cnnviz.image_seen"  # file ids already judged, so a rerun does not judge the same file again
DRAWING = "cnnviz.drawing"  # {"bytes", "digest"}: the canvas's last picture (PNG), None when cleared
COMMANDS = "cnnviz.drawing.commands"  # counts of undo/clear presses, sent to the canvas as "undo:3"

# Widget keys (Streamlit forgets these on pages without the picker; the persistent keys remember).
W_SOURCE = "cnnviz.image_source.widget"
W_SAMPLE = "cnnviz.sample.widget"
W_UPLOAD = "cnnviz.image_upload.widget"
W_CAMERA = "cnnviz.image_camera.widget"
W_CANVAS = "cnnviz.canvas.widget"

WORKING_SIZE = 1024  # larger uploads are shrunk after decoding: models take at most a few hundred pixels


def default_sample(key: str | None = None) -> str:
    """The gallery picture a model starts on (model `key`, else the session's): the one its preset declares
    (ImageNet's Lite0: a photo), else images.DEFAULT_SAMPLE."""
    key = ui_models.current_key() if key is None else key
    preset = ui_models.PRESETS.get(key)
    return preset.sample if preset is not None and preset.sample else images.DEFAULT_SAMPLE


def follow_model() -> None:
    """After the user picks another model: the gallery moves to that model's starting picture, unless the
    picture shown is one the user chose (not any model's starting one)."""
    starts = {images.DEFAULT_SAMPLE} | {p.sample for p in ui_models.PRESETS.values() if p.sample}
    if st.session_state.get(SAMPLE, images.DEFAULT_SAMPLE) in starts:
        st.session_state[SAMPLE] = default_sample()


@st.cache_data(show_spinner=False, max_entries=32, ttl=3600)
def _sample(name: str) -> Image.Image:
    return images.load_sample(name)


@st.cache_data(show_spinner=False, max_entries=16, ttl=900)
def _decode(digest: str, _data: bytes) -> tuple[Image.Image | None, tuple[str, dict] | None]:
    """(image, None) or (None, (reason code, values)).

    Keyed by the SHA-256 of the bytes (`_data` is not hashed by Streamlit): equal bytes, equal result,
    without hashing megabytes on every rerun. No other session can reach an entry without the same bytes.
    """
    try:
        im = images.load_image(_data)
    except images.ImageError as err:
        return None, (err.code, err.values)
    info = dict(im.info)
    im.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.LANCZOS)
    im.info = info
    return im, None


def _judge(file, source: str) -> None:
    """Decodes a new upload or camera shot; accepted -> becomes the image, refused -> ERROR, old image stays."""
    if file is None:
        return
    data = file.getvalue()
    file_id = getattr(file, "file_id", None) or str(len(data))
    if st.session_state.get(SEEN) == file_id:
        return
    st.session_state[SEEN] = file_id
    image, reason = accept(file.name, data, source)
    if image is None:
        metrics.upload_refused(reason[0], images.CODES)
        st.session_state[ERROR] = {"name": file.name, "code": reason[0], "values": reason[1]}


def accept(name: str, data: bytes, source: str) -> tuple[Image.Image | None, tuple[str, dict] | None]:
    """Picture bytes (an upload, a camera shot, a frozen live frame) decoded: accepted ones become the
    session's picture, as an upload ((image, None)); refused ones change nothing ((None, (code, values)))."""
    digest = hashlib.sha256(data).hexdigest()
    image, reason = _decode(digest, data)
    if image is not None:
        st.session_state[ERROR] = None
        st.session_state[UPLOAD] = {"name": name, "bytes": data, "digest": digest, "source": source}
    return image, reason


def second_image(sample_key: str, upload_key: str) -> Image.Image:
    """A second image beside the session's (the Activations page's comparison): an upload when one is
    given and readable (else the page says why), otherwise the chosen gallery sample. Nothing in the
    sidebar changes."""
    name = st.selectbox(t("images.compare.sample"), images.SAMPLES, format_func=_labels("images.sample"),
                        key=sample_key, bind=LINK, index=images.SAMPLES.index(images.COMPARE_SAMPLE))
    file = st.file_uploader(t("images.compare.upload"), key=upload_key, help=t("images.compare.upload.help"),
                            max_upload_size=images.MAX_BYTES // (1024 * 1024))
    if file is not None:
        data = file.getvalue()
        image, reason = _decode(hashlib.sha256(data).hexdigest(), data)
        if image is not None:
            return image
        metrics.upload_refused(reason[0], images.CODES)
        st.error(_refused(file.name, reason[0], reason[1]))
    return _sample(name)


def _refused(name: str, code: str, values: dict) -> str:
    """'Could not use <name>: <reason> ...' in this run's language (the name markdown-escaped)."""
    return t("images.refused", name=plain(name), reason=t(f"images.error.{code}", **values))


def _labels(prefix: str):
    """format_func for options: '<prefix>.<option>' in this run's language, fixed when it is made
    (Streamlit may call it outside the run, e.g. AppTest, where the session's language is unknown)."""
    lang = state.lang()
    return lambda option: i18n.t(f"{prefix}.{option}", lang)


def _clear_error() -> None:
    st.session_state[ERROR] = None


def current_image() -> Image.Image:
    """The session's image without rendering anything: the last accepted upload, else the sample."""
    source = st.session_state.get(SOURCE, "gallery")
    upload = st.session_state.get(UPLOAD)
    if source == "draw":
        drawing = st.session_state.get(DRAWING)
        image = _decode(drawing["digest"], drawing["bytes"])[0] if drawing else None
        return image if image is not None else blank_canvas()
    if source in ("upload", "camera") and upload:
        image, _ = _decode(upload["digest"], upload["bytes"])
        if image is not None:
            return image
    name = st.session_state.get(SAMPLE) or default_sample()
    return _sample(name if name in images.SAMPLES else default_sample())


def pick_image() -> Image.Image:
    """Renders the image source in the sidebar and returns the session's image (always usable)."""
    side = st.sidebar
    side.subheader(t("sidebar.image"))
    if st.session_state.get(SOURCE) not in SOURCES:
        st.session_state[SOURCE] = "gallery"
    if st.session_state.get(SAMPLE) not in images.SAMPLES:
        st.session_state[SAMPLE] = default_sample()
    source = side.radio(
        t("sidebar.image.source"), SOURCES, horizontal=True,
        format_func=_labels("sidebar.image"), **bound(SOURCE, W_SOURCE, "gallery", then=_clear_error),
    )

    if source == "gallery":
        st.session_state[SAMPLE] = side.selectbox(  # also when it came from the page's link
            t("sidebar.image.sample"), images.SAMPLES,
            format_func=_labels("images.sample"), **bound(SAMPLE, W_SAMPLE, default_sample(), link=True),
        )
    elif source == "upload":
        file = side.file_uploader(t("sidebar.image.upload"), key=W_UPLOAD, help=t("images.upload.help"),
                                  max_upload_size=images.MAX_BYTES // (1024 * 1024))
        _judge(file, "upload")
    elif source == "camera":  # the camera asks for permission, so it only exists once the user picks this source
        file = side.camera_input(t("sidebar.image.camera"), key=W_CAMERA)
        _judge(file, "camera")
    else:
        _draw(side)

    refused = st.session_state.get(ERROR)
    if refused:  # shown in the language of this run, not the one of the upload
        side.error(_refused(refused["name"], refused["code"], refused["values"]))
    image = current_image()
    _caption(side, source, image)
    return image


def _command(name: str) -> None:
    counts = st.session_state.setdefault(COMMANDS, {"undo": 0, "clear": 0, "last": ""})
    counts[name] += 1
    counts["last"] = f"{name}:{counts[name]}"


def _draw(side) -> None:
    """Brush, eraser, undo, clear and the canvas (cnnviz.ui.canvas); a finished stroke becomes the image."""
    from cnnviz.ui import canvas

    c1, c2 = side.columns(2)
    brush = c1.slider(t("draw.brush"), 4, 40, 18, key="cnnviz.draw.brush")
    erase = c2.toggle(t("draw.erase"), key="cnnviz.draw.erase")
    b1, b2 = side.columns(2)
    b1.button(t("draw.undo"), key="cnnviz.draw.undo", on_click=_command, args=("undo",), width="stretch")
    b2.button(t("draw.clear"), key="cnnviz.draw.clear", on_click=_command, args=("clear",), width="stretch")
    side.caption(t("draw.help"))
    side.caption(t("a11y.draw.keyboard"))  # drawing needs a pointer: the keyboard's way to an image
    drawing = st.session_state.get(DRAWING)
    with side:
        changed, data = canvas.draw(W_CANVAS, brush, erase, st.session_state.get(COMMANDS, {}).get("last", ""),
                                    initial=drawing["bytes"] if drawing else None,
                                    label=t("alt.canvas", label=t("draw.label"), size=f"{canvas.SIZE}x{canvas.SIZE}"))
    if not changed:
        return
    if data is None:
        st.session_state[DRAWING] = None
        return
    digest = hashlib.sha256(data).hexdigest()
    image, _ = _decode(digest, data)
    if image is not None:  # a PNG the browser made; anything else is ignored
        st.session_state[DRAWING] = {"bytes": data, "digest": digest}


def blank_canvas() -> Image.Image:
    from cnnviz.ui.canvas import SIZE

    return Image.new("RGB", (SIZE, SIZE), 0)


def image_name(source: str | None = None, markdown: bool = False) -> str:
    """What the session's image is: its file name, the sample's name, or the drawing (markdown-escaped
    when `markdown`, for a caption; as it is for an image's alt text)."""
    source = source or st.session_state.get(SOURCE) or "gallery"
    upload = st.session_state.get(UPLOAD)
    if source == "draw":
        return t("images.caption.drawing" if st.session_state.get(DRAWING) else "images.caption.draw_empty")
    if source in ("upload", "camera") and upload:
        return t("images.caption.upload", name=plain(upload["name"]) if markdown else upload["name"])
    if source in ("upload", "camera"):
        return t("images.caption.none_yet")
    return t(f"images.sample.{st.session_state.get(SAMPLE) or default_sample()}")


def _caption(side, source: str, image: Image.Image) -> None:
    caption = image_name(source, markdown=True)  # names are markdown-escaped
    w, h = image.info.get(images.INFO_SIZE, image.size)
    side.image(image, caption=f"{caption} ({w}x{h})", width="stretch",
               alt=describe.photo(image_name(source), w, h, state.lang()))
    if images.frames(image) > 1:
        side.info(t("images.animated", frames=images.frames(image)))


def model_input(image: Image.Image, input_shape, fit: str = "crop") -> np.ndarray:
    """The preprocessed input for a model, with a warning on the page when fitting distorts the image."""
    if images.heavily_distorted(image, input_shape):
        w, h = image.info.get(images.INFO_SIZE, image.size)  # the size uploaded, before shrinking
        st.warning(t("images.distorted", w=w, h=h,
                     mh=int(input_shape[0]), mw=int(input_shape[1])))
    return images.preprocess(image, input_shape, fit=fit)


def fit_choice(key: str = "cnnviz.image_fit", model_fit: str = "") -> str:
    """A crop/pad choice for pages that show preprocessing; a model with its own way of reading pictures
    (`ModelInfo.fit`, e.g. the Digits model's UCI bitmaps) gets that, said in a caption."""
    if model_fit:
        st.caption(t(f"images.fit.{model_fit}"))
        return model_fit
    return st.radio(t("images.fit"), images.FITS, key=key, horizontal=True,
                    format_func=_labels("images.fit"), help=t("images.fit.help"))
