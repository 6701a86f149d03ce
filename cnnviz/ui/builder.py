"""Streamlit helpers of the Model page: the layer table editor, the session model, model uploads.

Keras models are built only when the user asks (use / download / upload), never per rerun.
Anything that sets the sidebar's model choice runs in a widget callback, because a widget's
session-state key cannot change after the widget has been drawn in the same run.
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd
import streamlit as st

from cnnviz import applications
from cnnviz import architecture as arch
from cnnviz.files import downloads, modelfiles, modelmeta
from cnnviz.datasets import SHAPE_CLASSES
from cnnviz.models import PRESETS, ModelInfo
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.links import LINK
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

PREFIX = "cnnviz.model_page."
PRESET = PREFIX + "preset"  # which preset the table started from
VERSION = PREFIX + "version"  # bumped to reset the table editor to a preset
INPUT_H, INPUT_W, INPUT_C, CLASSES = (PREFIX + k for k in ("h", "w", "c", "classes"))
UPLOAD = PREFIX + "upload"
UPLOAD_RESULT = PREFIX + "upload_result"  # (sha256, the ModelFileError or None): shown in the language of the run
USED = PREFIX + "used"  # a message after "use this model"
APP = PREFIX + "app"  # the chosen Keras application
APP_NOTICE = PREFIX + "app_notice"  # (label, why the weights are random, or None)
EDITABLE_PRESETS = ("seed", "tiny_vgg", "lenet5")
UPLOAD_ENV = "CNNVIZ_DISABLE_MODEL_UPLOAD"
APP_DOWNLOAD = PREFIX + "app.download"  # the download button (its key); its result under APP_DOWNLOAD + ".result"


# ---------------------------------------------------------------- the switch for public deployments


def uploads_enabled() -> bool:
    """False when CNNVIZ_DISABLE_MODEL_UPLOAD=1 (env) or disable_model_upload = true (.streamlit/secrets.toml)."""
    if os.environ.get(UPLOAD_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    try:
        return not bool(st.secrets.get("disable_model_upload", False))
    except Exception:  # noqa: BLE001 - no secrets file: uploads stay on
        return True


def downloads_enabled() -> bool:
    """False when CNNVIZ_DISABLE_WEIGHT_DOWNLOAD=1 (env) or disable_weight_download = true (secrets)."""
    if not downloads.enabled():
        return False
    try:
        return not bool(st.secrets.get("disable_weight_download", False))
    except Exception:  # noqa: BLE001 - no secrets file: downloads stay on
        return True


# ---------------------------------------------------------------- table


def preset_spec(key: str) -> arch.ArchSpec:
    """The architecture of a preset (read from the cached, read-only model) or of this session's model."""
    if key == ui_models.SESSION_KEY:
        own = ui_models.session_model()
        return arch.unnamed(arch.from_model(own.model))
    return arch.unnamed(arch.from_model(ui_models.preset(key).model))


def not_editable_reason(model) -> arch.ArchitectureError | None:
    """Why the layer table cannot hold `model` (the first layer it cannot take, named), or None."""
    try:
        arch.from_model(model)
    except arch.ArchitectureError as err:
        return err
    return None


def _session_editable() -> bool:
    own = ui_models.session_model()
    return own is not None and not_editable_reason(own.model) is None


def _start_label(key: str) -> str:
    # a fixed text for the session model: the label must not depend on which model it is now
    return t("modelpage.start_session") if key == ui_models.SESSION_KEY else ui_models.label(key)


def _reset_to_preset() -> None:
    spec = preset_spec(st.session_state[PRESET])
    st.session_state[INPUT_H], st.session_state[INPUT_W], st.session_state[INPUT_C] = spec.input_shape
    st.session_state[CLASSES] = int(arch.classes(spec) or 1)
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def start_from_preset() -> arch.ArchSpec:
    """The preset picker; returns the preset's spec (the table's starting rows)."""
    options = list(EDITABLE_PRESETS) + ([ui_models.SESSION_KEY] if _session_editable() else [])
    if st.session_state.get(PRESET) not in options:
        if PRESET not in st.session_state and PRESET in st.query_params:
            pass  # a link's preset: the widget reads it (Streamlit drops one that is not an option)
        else:
            st.session_state[PRESET] = "seed"
        st.session_state.pop(INPUT_H, None)  # reset the table to it below
    st.selectbox(t("modelpage.preset"), options, key=PRESET, format_func=_start_label, bind=LINK,
                 on_change=_reset_to_preset, help=t("modelpage.preset.help"))
    spec = preset_spec(st.session_state[PRESET])
    if INPUT_H not in st.session_state:
        _reset_to_preset()
    return spec


def input_controls() -> tuple[tuple[int, int, int], int]:
    cols = st.columns(4)
    h = cols[0].number_input(t("modelpage.height"), 1, arch.MAX_SIZE, key=INPUT_H, step=1)
    w = cols[1].number_input(t("modelpage.width"), 1, arch.MAX_SIZE, key=INPUT_W, step=1)
    c = cols[2].number_input(t("modelpage.channels"), 1, 64, key=INPUT_C, step=1, help=t("modelpage.channels.help"))
    k = cols[3].number_input(t("modelpage.classes"), 1, arch.MAX_UNITS, key=CLASSES, step=1,
                             help=t("modelpage.classes.help"))
    return (int(h), int(w), int(c)), int(k)


def layer_table(spec: arch.ArchSpec) -> list[dict]:
    """The layer list in st.data_editor; returns the edited rows."""
    base = pd.DataFrame(arch.to_rows(spec), columns=list(arch.COLUMNS))
    column_config = {
        "layer": st.column_config.SelectboxColumn(t("modelpage.col.layer"), options=list(arch.KINDS), required=True),
        "filters_units": st.column_config.NumberColumn(t("modelpage.col.filters_units"), min_value=1,
                                                       max_value=arch.MAX_UNITS, step=1,
                                                       help=t("modelpage.col.filters_units.help")),
        "kernel": st.column_config.TextColumn(t("modelpage.col.kernel"), help=t("modelpage.col.kernel.help")),
        "stride": st.column_config.TextColumn(t("modelpage.col.stride"), help=t("modelpage.col.stride.help")),
        "padding": st.column_config.SelectboxColumn(t("modelpage.col.padding"), options=["valid", "same"],
                                                    help=t("modelpage.col.padding.help")),
        "dilation": st.column_config.TextColumn(t("modelpage.col.dilation"), help=t("modelpage.col.dilation.help")),
        "activation": st.column_config.SelectboxColumn(t("modelpage.col.activation"), options=list(arch.ACTIVATIONS)),
        "rate": st.column_config.NumberColumn(t("modelpage.col.rate"), min_value=0.0, max_value=0.99, step=0.05),
    }
    edited = st.data_editor(base, num_rows="dynamic", column_config=column_config, hide_index=False,
                            key=f"{PREFIX}editor.{st.session_state.get(VERSION, 0)}", width="stretch")
    return edited.to_dict("records")


def summary_frame(summary: arch.Summary) -> pd.DataFrame:
    def pair(p):
        return "" if p is None else (f"{p[0]}" if p[0] == p[1] else f"{p[0]}x{p[1]}")

    return pd.DataFrame([{
        t("modelpage.sum.index"): r.index,
        t("modelpage.sum.name"): r.name,
        t("modelpage.sum.kind"): r.kind,
        t("modelpage.sum.shape"): "(None, " + ", ".join(map(str, r.output_shape)) + ")",
        t("modelpage.sum.params"): r.params,
        t("modelpage.sum.total"): r.total_params,
        t("modelpage.sum.macs"): r.macs,
        t("modelpage.sum.rf"): pair(r.receptive_field) or t("modelpage.sum.all"),
        t("modelpage.sum.jump"): pair(r.jump),
    } for r in summary.rows])


# ---------------------------------------------------------------- the session model


def class_names_for(spec: arch.ArchSpec) -> tuple[str, ...]:
    n = arch.classes(spec) or 0
    if n == len(SHAPE_CLASSES):
        return SHAPE_CLASSES
    preset = PRESETS.get(st.session_state.get(PRESET, ""))
    if preset is not None and len(preset.class_names) == n:
        return preset.class_names
    return tuple(str(i) for i in range(n))


def set_session_model(info: ModelInfo) -> None:
    """Make `info` this session's model and select it in the sidebar (call from a widget callback)."""
    st.session_state[ui_models.SESSION_MODEL] = info
    st.session_state[state.MODEL] = ui_models.SESSION_KEY
    if st.session_state.get(PRESET) == ui_models.SESSION_KEY:
        # the table started from the old session model: start it again from the new one
        st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def built_name() -> str:
    """The label of a model built from the table: 'edited <what it started from>'."""
    start = st.session_state.get(PRESET, "seed")
    own = ui_models.session_model()
    if start == ui_models.SESSION_KEY and own is not None:
        return ui_models.label(own)
    return t("modelpage.built.name", preset=ui_models.label(start))


def use_spec(spec: arch.ArchSpec, label: str) -> None:
    """on_click of "use this model": build the architecture (fresh random weights) as the session model."""
    model = arch.build(spec)
    set_session_model(ModelInfo(key=ui_models.SESSION_KEY, label=label, model=model,
                                class_names=class_names_for(spec), trained=False,
                                description=t("modelpage.built.desc", params=f"{model.count_params():,}")))
    st.session_state[USED] = t("modelpage.used", name=label)


def spec_download(spec: arch.ArchSpec):
    """Deferred data for st.download_button: built and saved only when the user clicks."""
    return lambda: modelfiles.model_bytes(arch.build(spec))


def model_download(model, class_names=None, pixels: str = ""):
    """Deferred .keras bytes; with `class_names`, they (and the pixel contract) are stored in its metadata.json."""
    if class_names is None:
        return lambda: modelfiles.model_bytes(model)
    return lambda: modelmeta.with_meta(modelfiles.model_bytes(model), class_names, pixels)


def current_download(own: ModelInfo):
    """Deferred .keras bytes of the session's own model (an upload, a converted ONNX file, a trained model) with its
    weights, its class names and the pixel range its file declares or its loader assumed, in metadata.json; and
    the file's name (the model's label, its extension replaced by .keras)."""
    stem = os.path.splitext(os.path.basename(ui_models.label(own)))[0]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._")[:60] or "model"
    return model_download(own.model, own.class_names, own.pixels or own.assumed_pixels), f"{stem}.keras"


# ---------------------------------------------------------------- uploads


def _on_upload() -> None:
    file = st.session_state.get(UPLOAD)
    if file is None:
        return
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    try:
        loaded = modelfiles.load_upload(data, file.name)
    except modelfiles.ModelFileError as err:
        st.session_state[UPLOAD_RESULT] = (digest, err)
        return
    model = loaded.model
    outputs = int(model.outputs[0].shape[-1]) if model.outputs[0].shape[-1] is not None else 0
    # a Teachable Machine export's labels.txt, or the names and pixel range a cnnviz download carries
    names = loaded.class_names or (SHAPE_CLASSES if outputs == len(SHAPE_CLASSES)
                                   else tuple(str(i) for i in range(outputs)))
    set_session_model(ModelInfo(key=ui_models.SESSION_KEY, label=file.name, model=model, class_names=names,
                                trained=True, pixels=loaded.pixels, assumed_pixels=loaded.assumed,
                                description=t("modelpage.upload.desc", name=plain(file.name),
                                              params=f"{model.count_params():,}")))
    st.session_state[UPLOAD_RESULT] = (digest, None)


def upload_model() -> None:
    """The model uploader (or a note that uploads are off); shows why a file was refused."""
    if not uploads_enabled():
        st.info(t("modelpage.upload.disabled"))
        return
    st.file_uploader(t("modelpage.upload"), type=["keras", "h5", "hdf5", "zip", "onnx"], key=UPLOAD,
                     on_change=_on_upload, help=t("modelpage.upload.help"),
                     max_upload_size=modelfiles.MAX_FILE_BYTES // (1024 * 1024))
    result = st.session_state.get(UPLOAD_RESULT)
    if result is None or st.session_state.get(UPLOAD) is None:
        return
    if result[1]:
        st.error(t("modelpage.upload.refused", reason=message_text(result[1])))
    else:
        st.success(t("modelpage.upload.ok", name=plain(st.session_state[UPLOAD].name)))


# ---------------------------------------------------------------- Keras Applications


@st.cache_resource(show_spinner=False, max_entries=1)
def _application(key: str) -> applications.Application:
    """One Keras application per process at a time (VGG16 alone is 528 MB); shared and read-only."""
    return applications.load_application(key)


def _app_info(app: applications.Application) -> ModelInfo:
    # key is not "session": the Train page then trains a copy, never the shared cached model
    return ModelInfo(key=f"app.{app.key}", label=app.label, model=app.model, class_names=app.class_names,
                     trained=app.pretrained,
                     description=t("modelpage.app.desc", name=app.label, params=f"{app.model.count_params():,}"))


def _use_application(key: str) -> None:
    app = _application(key)
    set_session_model(_app_info(app))
    st.session_state[APP_NOTICE] = (app.label, app.notice)


def application_picker() -> None:
    """Any Keras Application under the size cap as this session's model; ImageNet weights from Keras's cache,
    or downloaded into it when the user asks (and the server allows)."""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    key = left.selectbox(t("modelpage.app"), list(applications.APPLICATIONS), key=APP,
                         format_func=lambda k: applications.APPLICATIONS[k].choice, help=t("modelpage.app.help"))
    right.button(t("modelpage.app.use"), on_click=_use_application, args=(key,), key=PREFIX + "app.use")
    download_weights(key)
    notice = st.session_state.get(APP_NOTICE)
    if notice is not None:
        label, reason = notice
        if reason:
            st.warning(t("modelpage.app.no_weights", name=label, reason=message_text(reason)))
        else:
            st.success(t("modelpage.app.ok", name=label))


def download_weights(key: str) -> None:
    """The "Download ImageNet weights (14 MB)" button while Keras's cache lacks the chosen application's file:
    a progress bar while it downloads (any click elsewhere stops it, and nothing half-written stays), then
    the session's model, when it is this application, gets the downloads. Failures say why; random weights stay."""
    spec = applications.APPLICATIONS[key]
    result = st.session_state.get(APP_DOWNLOAD + ".result")
    if result is not None and result[0] == key:
        if result[1] is None:
            st.success(t("modelpage.app.download.ok", name=spec.label))
        else:
            st.error(t("modelpage.app.download.failed", reason=message_text(result[1]), name=spec.label))
    if applications.cached_file(spec.weights_file) is not None:
        return
    if not downloads_enabled():
        st.caption(t("modelpage.app.download.off"))
        return
    size = downloads.size_bytes(key)
    if not st.button(t("modelpage.app.download", size=downloads.size_text(size)), key=APP_DOWNLOAD,
                     help=t("modelpage.app.download.help")):
        return
    bar = st.progress(0.0, text=t("modelpage.app.downloading", file=spec.weights_file, done="0 MB",
                                  total=downloads.size_text(size)))
    last = [-1]

    def progress(done: int, total: int | None) -> None:
        total = total or size
        step = min(100, int(100 * done / max(1, total)))
        if step != last[0]:  # at most a hundred updates, whatever the file's size
            last[0] = step
            bar.progress(step / 100, text=t("modelpage.app.downloading", file=spec.weights_file,
                                            done=downloads.size_text(done), total=downloads.size_text(total)))

    try:
        downloads.download(key, progress)
    except downloads.WeightsError as err:
        st.session_state[APP_DOWNLOAD + ".result"] = (key, err.message)
    else:
        st.session_state[APP_DOWNLOAD + ".result"] = (key, None)
        _application.clear()  # the cached random model of this application (if any) gives way to the weights
        own = ui_models.session_model()
        if own is not None and own.key == f"app.{key}" and not own.trained:
            app = _application(key)
            st.session_state[ui_models.SESSION_MODEL] = _app_info(app)  # the sidebar already selects it
            st.session_state[APP_NOTICE] = (app.label, app.notice)
    bar.empty()
    st.rerun()


# ---------------------------------------------------------------- any model's summary (functional too)


def takes_any_size(model) -> bool:
    """The model's first input has no fixed height or width (None): its summary's shapes are symbolic."""
    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else ()
    return len(shape) == 4 and (shape[1] is None or shape[2] is None)


def model_summary_frame(model) -> pd.DataFrame:
    """Layer, type, output shape and parameters as Keras reports them for a built model (no data run),
    nested models opened as `model.summary(expand_nested=True)` does: a nested model's row carries its
    whole block's parameters, its layers follow with their path ("base/block_1_expand")."""
    import keras

    from cnnviz import activations

    rows = []

    def add(m, prefix: str) -> None:
        for layer in m.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            try:
                shape = layer.output.shape
                shape = "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
            except (AttributeError, ValueError):  # a layer used twice has no single output
                shape = ""
            rows.append({t("modelpage.sum.index"): len(rows) + 1, t("modelpage.sum.name"): prefix + layer.name,
                         t("modelpage.sum.kind"): type(layer).__name__, t("modelpage.sum.shape"): shape,
                         t("modelpage.sum.params"): layer.count_params()})
            if activations.is_graph_model(layer):
                add(layer, prefix + layer.name + activations.SEP)

    add(model, "")
    return pd.DataFrame(rows)
