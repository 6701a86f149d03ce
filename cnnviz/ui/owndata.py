"""Streamlit helpers of the Train page's own-data part: the source, classes and their pictures (a zip, uploads
per class, the camera), the summary, the model choice, augmentation, a run, and the results.

Per session: the classes and their picture bytes (CLASSES), the decoded ImageSet keyed by a digest of what
it was made from (SET), cached backbone features keyed by set, model and augmentation (FEATURES), and the
results of the last run computed once after it (RESULTS). Nothing here is shared between sessions.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
from PIL import ImageOps

from cnnviz import attribution, classifier, imagesets, preprocessing, training
from cnnviz.files import safezip
from cnnviz.messages import MessageError
from cnnviz.models import ModelInfo
from cnnviz.plots import describe
from cnnviz.plots.attribution import strip
from cnnviz.plots.training import cam_overlay, class_accuracy_figure, confusion_figure
from cnnviz.ui import figures
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

PREFIX = "cnnviz.train.own."
SOURCE = PREFIX + "source"
CLASSES = PREFIX + "classes"  # [{"id", "name", "files": [(file name, bytes)], "gen"}]
NEXT_ID = PREFIX + "next_id"
NEW_NAME = PREFIX + "new_name"
ZIP = PREFIX + "zip"
SET = PREFIX + "set"  # (digest, ImageSet or MessageError)
FEATURES = PREFIX + "features"  # (key, classifier.Prepared)
REQUEST = PREFIX + "request"
RESULTS = PREFIX + "results"  # dict, computed once after a run
MODE = PREFIX + "mode"
BACKBONE = PREFIX + "backbone"
LITE0 = "efficientnet_lite0"  # the shipped ImageNet network: the default backbone for photos
BACKBONES = (LITE0, "current")
CAMERA_TO = PREFIX + "camera_to"
CELL = PREFIX + "cell"
MAX_MISSED = 8  # misclassified pictures explained with Grad-CAM after a run
THUMBS = 8


def source() -> str:
    return st.radio(t("own.source"), imagesets.SOURCES, key=SOURCE, horizontal=True,
                    format_func=lambda k: t(f"own.source.{k}"))


# ---------------------------------------------------------------- pictures per class


def _classes() -> list[dict]:
    if CLASSES not in st.session_state:
        st.session_state[CLASSES] = []
        st.session_state[NEXT_ID] = 0
    return st.session_state[CLASSES]


def _add_class() -> None:
    name = " ".join(str(st.session_state.get(NEW_NAME, "")).split())
    classes = _classes()
    if name and all(c["name"].lower() != name.lower() for c in classes):
        classes.append({"id": st.session_state[NEXT_ID], "name": name[:imagesets.MAX_NAME], "files": [], "gen": 0})
        st.session_state[NEXT_ID] += 1
    st.session_state[NEW_NAME] = ""


def _remove_class(cid: int) -> None:
    st.session_state[CLASSES] = [c for c in _classes() if c["id"] != cid]


def _add_files(cid: int) -> None:
    cls = next(c for c in _classes() if c["id"] == cid)
    key = f"{PREFIX}files.{cid}.{cls['gen']}"
    files = st.session_state.get(key) or []
    have = {hashlib.sha256(b).hexdigest() for _, b in cls["files"]}
    for f in files:
        data = f.getvalue()
        if hashlib.sha256(data).hexdigest() not in have and len(cls["files"]) < imagesets.MAX_IMAGES:
            cls["files"].append((f.name, data))
    cls["gen"] += 1  # a fresh, empty uploader: the pictures live in the class


def _add_photo() -> None:
    shot = st.session_state.get(PREFIX + "camera")
    target = st.session_state.get(CAMERA_TO)
    for cls in _classes():
        if shot is not None and cls["id"] == target:
            cls["files"].append((f"camera_{len(cls['files']) + 1}.jpg", shot.getvalue()))


def class_editor() -> None:
    """Name a class, add pictures to it (several files at once, or the camera), add another class."""
    classes = _classes()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.text_input(t("own.class.name"), key=NEW_NAME, max_chars=imagesets.MAX_NAME, placeholder=t("own.class.placeholder"))
    right.button(t("own.class.add"), on_click=_add_class, key=PREFIX + "add_class")
    for cls in classes:
        with st.container(border=True):
            head, remove = st.columns([4, 1], vertical_alignment="center")
            head.markdown(t("own.class.title", name=plain(cls["name"]), n=len(cls["files"])))
            remove.button(t("own.class.remove"), on_click=_remove_class, args=(cls["id"],),
                          key=f"{PREFIX}remove.{cls['id']}")
            st.file_uploader(t("own.class.files", name=plain(cls["name"])), type=["png", "jpg", "jpeg", "gif", "webp", "bmp"],
                             accept_multiple_files=True, key=f"{PREFIX}files.{cls['id']}.{cls['gen']}",
                             on_change=_add_files, args=(cls["id"],))
    if classes and st.toggle(t("own.camera"), key=PREFIX + "camera_on"):
        ids = [c["id"] for c in classes]
        names = {c["id"]: c["name"] for c in classes}
        st.selectbox(t("own.camera.to"), ids, format_func=lambda i: names.get(i, ""), key=CAMERA_TO)
        st.camera_input(t("own.camera.take"), key=PREFIX + "camera", on_change=_add_photo)


def zip_uploader() -> None:
    st.file_uploader(t("own.zip"), type=["zip"], key=ZIP, help=t("own.zip.help"))


# ---------------------------------------------------------------- the set


def _digest(parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def image_set(kind: str) -> imagesets.ImageSet | None:
    """The ImageSet of the chosen source, decoded once per content (errors shown; None when there is none)."""
    if kind == "zip":
        f = st.session_state.get(ZIP)
        if f is None:
            return None
        data = f.getvalue()
        digest, make = _digest(["zip", hashlib.sha256(data).hexdigest()]), lambda: imagesets.from_zip(data)
    elif kind == "classes":
        classes = _classes()
        if not classes:
            return None
        parts = ["classes"] + [x for c in classes for x in (c["name"], *(hashlib.sha256(b).hexdigest() for _, b in c["files"]))]
        digest = _digest(parts)
        make = lambda: imagesets.from_classes([(c["name"], c["files"]) for c in classes])  # noqa: E731
    else:
        digest, make = "digits", lambda: imagesets.digits(per_class=40)
    cached = st.session_state.get(SET)
    if cached is None or cached[0] != digest:
        try:
            made = make()
        except (safezip.ZipError, MessageError) as err:
            made = err
        st.session_state[SET] = cached = (digest, made)
    if isinstance(cached[1], Exception):
        st.error(t("own.refused", reason=message_text(cached[1])))
        return None
    return cached[1]


def set_token() -> str:
    cached = st.session_state.get(SET)
    return "" if cached is None else cached[0]


def show_skipped(s: imagesets.ImageSet) -> None:
    summary = imagesets.skipped_summary(s)
    if summary is None:
        return
    st.warning(message_text(summary))
    with st.expander(t("own.skipped.why")):
        for name, why in s.skipped[:50]:
            st.markdown(f"- `{plain(name)}`: {message_text(why)}")


def summary(s: imagesets.ImageSet, shape, fraction: float) -> None:
    """Classes with counts and a strip of thumbnails each; the split; the size every picture becomes."""
    _, val = imagesets.split(np.repeat(np.arange(len(s.counts)), s.counts), fraction, 0)
    st.caption(t("own.summary", classes=len(s.class_names), n=s.total, val=len(val), train=s.total - len(val),
                 pct=fraction, h=shape[0], w=shape[1], c=shape[2]))
    for name, pictures in zip(s.class_names, s.images):
        st.markdown(t("own.summary.class", name=plain(name), n=len(pictures)))
        if pictures:
            thumbs = [ImageOps.fit(p, (64, 64)) for p in pictures[:THUMBS]]
            st.image(strip(thumbs), output_format="PNG", alt=describe.pictures(thumbs, name, state.lang()))


def trainable(s: imagesets.ImageSet) -> bool:
    """True when the set can be trained on; else the reason is shown (one class, too few pictures, ...)."""
    try:
        imagesets.check(s)
    except imagesets.DataError as err:
        st.error(t("own.cannot", error=message_text(err)))
        return False
    return True


# ---------------------------------------------------------------- the model and the run


def model_choice(info: ModelInfo) -> str:
    return st.radio(t("own.mode"), classifier.MODES, key=MODE, format_func=lambda k: t(f"own.mode.{k}"),
                    help=t("own.mode.help", name=ui_models.label(info)))


def backbone_choice(info: ModelInfo) -> str:
    """Transfer learning's frozen backbone: the shipped EfficientNet-Lite0 (ImageNet) or the current model."""
    names = {LITE0: t("own.backbone.lite0"), "current": t("own.backbone.current", name=ui_models.label(info))}
    return st.selectbox(t("own.backbone"), BACKBONES, key=BACKBONE, format_func=lambda k: names.get(k, k),
                        help=t("own.backbone.help"))


def base_model(mode: str, backbone: str | None, info: ModelInfo) -> ModelInfo:
    """The model the classifier is built on: the Lite0 preset (cached per process, read-only: build copies it)
    for transfer learning on it, else the current model."""
    if mode == "transfer" and backbone == LITE0:
        with st.spinner(t("own.backbone.loading")):
            return ui_models.preset(LITE0)
    return info


def augment_choice() -> classifier.Augment:
    cols = st.columns(4)
    flip = cols[0].checkbox(t("own.aug.flip"), key=PREFIX + "aug.flip")
    rotation = cols[1].select_slider(t("own.aug.rotation"), (0.0, 0.05, 0.1, 0.2), value=0.0, key=PREFIX + "aug.rotation")
    zoom = cols[2].select_slider(t("own.aug.zoom"), (0.0, 0.1, 0.2, 0.3), value=0.0, key=PREFIX + "aug.zoom")
    contrast = cols[3].select_slider(t("own.aug.contrast"), (0.0, 0.1, 0.2, 0.4), value=0.0, key=PREFIX + "aug.contrast")
    return classifier.Augment(flip, float(rotation), float(zoom), float(contrast))


def pixels_of(info: ModelInfo, shape) -> str:
    """The pixel contract the base model is fed with (its layers, its file, its Application, the user's choice)."""
    return preprocessing.plan(info.model, (shape[1], shape[0]), **ui_models.pixel_sources(info)).pixels.name


def target_shape(mode: str, info: ModelInfo) -> tuple[int, int, int]:
    return classifier.SCRATCH_SHAPE if mode == "scratch" else training.input_size(info.model)


def augment_preview(s: imagesets.ImageSet, shape, aug: classifier.Augment) -> None:
    if not aug.any or not s.total:
        return
    first = next(p for pictures in s.images for p in pictures)
    x = preprocessing_image(first, shape)
    shots = classifier.augmented(x[None], aug, copies=4, seed=0)
    from cnnviz.images import to_image

    shown = [to_image(x)] + [to_image(v) for v in shots]
    st.image(strip(shown), output_format="PNG", caption=t("own.aug.preview"),
             alt=describe.pictures(shown, t("own.aug.preview"), state.lang()))


def preprocessing_image(im, shape):
    from cnnviz.images import preprocess

    return preprocess(im, shape)


def request(info: ModelInfo, mode: str, aug: classifier.Augment, fraction: float, fine_tune: bool,
            chosen: training.TrainSettings) -> None:
    st.session_state[REQUEST] = (info, mode, aug, fraction, fine_tune, chosen)


def run(s: imagesets.ImageSet, device: str, chart, filters) -> None:
    """Build, cache features, train with progress; the trained classifier becomes the session's model."""
    from cnnviz.ui import trainer

    req = st.session_state.pop(REQUEST, None)
    if req is None:
        return
    info, mode, aug, fraction, fine_tune, chosen = req
    try:
        imagesets.check(s)
        shape = target_shape(mode, info)
        pixels = "unit" if mode == "scratch" else pixels_of(info, shape)
        with st.spinner(t("own.preparing")):
            built = classifier.build(mode, len(s.class_names), None if mode == "scratch" else info.model, pixels, aug,
                                     seed=chosen.seed)
            x01, y = imagesets.arrays(s, shape)
            prepared = classifier.prepare(built, x01, y, s.class_names, fraction, chosen.seed, aug, device=device)
    except (MessageError, ValueError) as err:
        st.error(t("own.cannot", error=message_text(err)))
        return
    names = s.class_names
    own = ModelInfo(key=ui_models.SESSION_KEY, label=t("own.label", names=", ".join(names)[:60]), model=built.model,
                    class_names=names, trained=True, description=t("model.session.desc"), pixels=built.pixels)
    st.session_state[ui_models.SESSION_MODEL] = own
    st.session_state[state.MODEL] = ui_models.SESSION_KEY
    st.session_state[trainer.HISTORY] = training.History()
    st.session_state[trainer.HISTORY_OF] = id(built.model)
    st.session_state.pop(RESULTS, None)
    if prepared.cached:
        st.caption(t("own.cached", n=prepared.n_train, dim=int(prepared.dataset[0].shape[-1])))
    trainer.run_prepared(chosen, device, chart, filters, prepared.built.model, prepared.dataset, prepared.fit_model)
    if fine_tune and built.backbone is not None:
        names_ = classifier.unfreeze_last_block(built)
        st.caption(t("own.fine_tuning", layers=", ".join(names_) or "-"))
        tuned = classifier.for_fine_tuning(prepared, x01, y, fraction, chosen.seed)
        slow = training.TrainSettings(epochs=chosen.epochs, batch_size=chosen.batch_size,
                                      learning_rate=chosen.learning_rate / 10, optimizer=chosen.optimizer,
                                      seed=chosen.seed)
        trainer.run_prepared(slow, device, chart, filters, built.model, tuned.dataset, built.model)
    st.session_state[RESULTS] = results(built.model, prepared, device)


def results(model, p: classifier.Prepared, device: str) -> dict:
    """Predictions on the validation pictures, the confusion matrix, and Grad-CAM of the misclassified (once)."""
    probs = classifier.predictions(model, p.x_val01, p.built.pixels, device)
    pred = probs.argmax(axis=1)
    counts = classifier.confusion(p.y_val, pred, len(p.class_names))
    missed = np.flatnonzero(pred != p.y_val)[:MAX_MISSED]
    cams = []
    for i in missed:
        try:
            fed = preprocessing.contract(p.built.pixels).apply(p.x_val01[i])
            cams.append(attribution.grad_cam(model, fed, int(pred[i])))
        except (ValueError, attribution.AttributionError):
            cams.append(None)
    return {"probs": probs, "pred": pred, "y": p.y_val, "x": p.x_val01, "counts": counts, "missed": missed,
            "cams": cams, "names": p.class_names}


def show_results() -> None:
    r = st.session_state.get(RESULTS)
    if r is None:
        return
    names, counts = r["names"], r["counts"]
    st.subheader(t("own.results"))
    st.metric(t("own.accuracy"), f"{np.trace(counts) / max(counts.sum(), 1):.1%}")
    figures.chart(st, class_accuracy_figure(classifier.per_class_accuracy(counts), names, counts.sum(axis=1),
                                            t("train.accuracy")), table=True, names=[t("train.accuracy")],
                  key=PREFIX + "per_class")
    rates = st.toggle(t("own.confusion.rates"), key=PREFIX + "rates")
    labels = {"true": t("own.confusion.true"), "predicted": t("own.confusion.predicted")}
    event = figures.chart(st, confusion_figure(counts, names, labels, rates), table=True, caption=False,  # its own below
                          key=CELL, on_select="rerun", selection_mode="points")
    st.caption(t("own.confusion.caption"))
    cells = [None] + [(i, j) for i in range(len(names)) for j in range(len(names)) if counts[i, j]]
    picked = st.selectbox(t("own.cell.pick"), cells, key=PREFIX + "cell_pick", help=t("own.cell.pick.help"),
                          format_func=lambda c: t("own.cell.pick.none") if c is None else t(
                              "own.cell.pick.option", true=names[c[0]], predicted=names[c[1]], n=int(counts[c])))
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points or picked is not None:  # the keyboard's way to a cell: the select; a click on the matrix comes first
        true, predicted = (int(v) for v in points[0]["customdata"]) if points else picked
        pick = np.flatnonzero((r["y"] == true) & (r["pred"] == predicted))
        st.markdown(t("own.cell", true=plain(names[true]), predicted=plain(names[predicted]), n=len(pick)))
        if len(pick):
            from cnnviz.images import to_image

            shown = [to_image(r["x"][i]) for i in pick[:16]]
            st.image(strip(shown), output_format="PNG",
                     alt=describe.pictures(shown, f"{names[true]} → {names[predicted]}", state.lang()))
    st.subheader(t("own.missed"))
    if not len(r["missed"]):
        st.success(t("own.missed.none"))
    cols = st.columns(4)
    for k, (i, cam) in enumerate(zip(r["missed"], r["cams"])):
        p = int(r["pred"][i])
        caption = t("own.missed.caption", true=names[int(r["y"][i])], predicted=names[p], conf=float(r["probs"][i, p]))
        cols[k % 4].image(cam_overlay(r["x"][i], cam), output_format="PNG", caption=caption,
                          alt=describe.overlay(r["x"][i], cam, caption, state.lang()))
