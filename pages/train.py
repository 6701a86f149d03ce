"""Train: fit a model on generated shapes, the UCI digits, or your own classes (a zip of class folders, pictures
added per class, the camera), from scratch or on a frozen backbone; live progress, curves, filter snapshots;
for your own classes: per-class accuracy, a confusion matrix and the misclassified pictures with Grad-CAM."""

import streamlit as st

from cnnviz import training
from cnnviz.ui import builder, owndata, trainer
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.links import share
from cnnviz.ui.state import t
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("nav.train"))
st.caption(t("train.intro"))

info = ui_models.current_model()
source = owndata.source()

if source == "shapes":
    st.markdown(t("train.model", name=ui_models.label(info)))  # own classes: the Model section says what learns
    if info.key != ui_models.SESSION_KEY:
        st.caption(t("train.preset_copy"))
    chosen = trainer.settings()
    share(note=t("links.note.train"))  # the link with these settings, not the weights
    try:
        h, w, c = training.check_trainable(info.model)
    except ValueError as err:
        st.error(t("train.cannot", error=message_text(err)))
        st.stop()
    st.caption(t("train.data", n=chosen.train_samples, n_val=chosen.val_samples, h=h, w=w, c=c,
                 classes=", ".join(ui_models.class_label(n) for n in training.CLASSES)) + " " +
               t("train.device", device=state.device()))

    left, right = st.columns([1, 1])
    left.button(t("train.start"), type="primary", on_click=trainer.request, args=(info, chosen), key="train.start")
    right.button(t("train.stop"), help=t("train.stop.help"), key="train.stop")
else:
    # --- your own classes: the pictures, a summary, the model, augmentation ---
    if source == "zip":
        owndata.zip_uploader()
    elif source == "classes":
        owndata.class_editor()
    images = owndata.image_set(source)
    if images is None:
        st.info(t("own.none"))
        st.stop()
    owndata.show_skipped(images)
    st.subheader(t("own.model"))
    mode = owndata.model_choice(info)
    base = owndata.base_model(mode, owndata.backbone_choice(info) if mode == "transfer" else None, info)
    try:
        shape = owndata.target_shape(mode, base)
    except ValueError as err:
        st.error(t("train.cannot", error=message_text(err)))
        st.stop()
    fraction = st.select_slider(t("own.val"), (0.1, 0.2, 0.3), value=0.2, key=owndata.PREFIX + "val",
                                format_func=lambda v: f"{v:.0%}")
    st.subheader(t("own.data"))
    owndata.summary(images, shape, fraction)
    if not owndata.trainable(images):
        st.stop()
    st.subheader(t("own.aug"))
    aug = owndata.augment_choice()
    owndata.augment_preview(images, shape, aug)
    fine_tune = mode == "transfer" and st.checkbox(t("own.fine_tune"), key=owndata.PREFIX + "fine_tune",
                                                   help=t("own.fine_tune.help"))
    chosen = trainer.settings(generated=False)
    st.caption(t("train.device", device=state.device()))
    left, right = st.columns([1, 1])
    left.button(t("train.start"), type="primary", on_click=owndata.request,
                args=(base, mode, aug, fraction, fine_tune, chosen), key="train.start")
    right.button(t("train.stop"), help=t("train.stop.help"), key="train.stop")

interrupted = trainer.was_interrupted()
st.subheader(t("train.curves"))
chart = st.empty()
st.subheader(t("train.filters"))
if training.first_conv(info.model) is None:
    st.info(t("train.filters.none"))
filters = st.empty()

if source != "shapes" and st.session_state.get(owndata.REQUEST) is not None:
    owndata.run(images, state.device(), chart, filters)
    history = trainer.history()
else:
    request = st.session_state.pop(trainer.REQUEST, None)
    if request is not None:
        history = trainer.run(request, state.device(), chart, filters)
    else:
        history = trainer.history()
        if history is not None:
            trainer.show_results(history, chart, filters)

if history is not None and (history.epochs_done or interrupted):
    if interrupted or history.stopped:
        st.warning(t("train.stopped", epochs=history.epochs_done))
    elif history.val_accuracy:
        st.success(t("train.done", epochs=history.epochs_done, acc=history.val_accuracy[-1]))
    own = ui_models.session_model()
    st.download_button(t("train.download"), data=builder.model_download(own.model, own.class_names, own.pixels),
                       file_name="trained.keras", mime="application/zip", on_click="ignore", key="train.download")
if source != "shapes":
    owndata.show_results()
