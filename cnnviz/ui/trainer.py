"""Streamlit helpers of the Train page: settings, the session's training copy, a live training run.

How stopping works: clicking Stop makes Streamlit rerun the script, which raises a control
exception inside the running script at its next Streamlit call, i.e. inside our per-batch
progress callback, after that batch's update. The model being trained is already this
session's model (stored before fit starts) and the history is updated per epoch, so the new
run finds the weights and curves reached. Nothing is copied back: nothing is lost.
"""

from __future__ import annotations

import streamlit as st

from cnnviz import training
from cnnviz.datasets import SHAPE_CLASSES
from cnnviz.models import ModelInfo
from cnnviz.plots import describe
from cnnviz.plots.training import curves_figure, filter_grid
from cnnviz.ui import figures
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.links import LINK
from cnnviz.ui.state import t

PREFIX = "cnnviz.train."
HISTORY = PREFIX + "history"  # training.History of the session model
HISTORY_OF = PREFIX + "history_of"  # id() of the model that history belongs to
REQUEST = PREFIX + "request"  # TrainSettings of a run the Train button asked for
RUNNING = PREFIX + "running"  # True while a run is in progress (still True after an interrupted run)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def settings(generated: bool = True) -> training.TrainSettings:
    """Epochs, batch size, learning rate, optimizer (and, for the generated shapes, how many)."""
    cols = st.columns(5 if generated else 4)
    epochs = cols[0].number_input(t("train.epochs"), 1, 50, 3, key=PREFIX + "epochs", bind=LINK)
    batch = cols[1].selectbox(t("train.batch"), (8, 16, 32, 64, 128), index=2, key=PREFIX + "batch", bind=LINK,
                              help=t("train.batch.help"))
    lr = cols[2].select_slider(t("train.lr"), LEARNING_RATES, value=1e-3, key=PREFIX + "lr", bind=LINK,
                               format_func=lambda v: f"{v:g}", help=t("train.lr.help"))
    optimizer = cols[3].selectbox(t("train.optimizer"), training.OPTIMIZERS, key=PREFIX + "optimizer", bind=LINK,
                                  help=t("train.optimizer.help"))
    if not generated:
        return training.TrainSettings(epochs=int(epochs), batch_size=int(batch), learning_rate=float(lr),
                                      optimizer=optimizer)
    samples = cols[4].number_input(t("train.samples"), 16, 4096, 512, step=64, key=PREFIX + "samples", bind=LINK)
    return training.TrainSettings(epochs=int(epochs), batch_size=int(batch), learning_rate=float(lr),
                                  optimizer=optimizer, train_samples=int(samples),
                                  val_samples=max(16, int(samples) // 4))


def history() -> training.History | None:
    """The history of the current session model's training (None when it has none)."""
    own = ui_models.session_model()
    h = st.session_state.get(HISTORY)
    if own is None or h is None or st.session_state.get(HISTORY_OF) != id(own.model):
        return None
    return h


def request(info: ModelInfo, chosen: training.TrainSettings) -> None:
    """on_click of Train: make sure this session owns the model it trains, then ask the page to train it.

    A preset is shared by every session and cached, so a copy is trained; the session's own model
    (built, uploaded or trained before) is trained in place and keeps its curves.
    """
    if info.key == ui_models.SESSION_KEY:
        model, h = info.model, history()
    else:
        model, h = training.session_copy(info.model), None
    names = SHAPE_CLASSES if int(model.outputs[0].shape[-1]) == len(SHAPE_CLASSES) else info.class_names
    own = ModelInfo(key=ui_models.SESSION_KEY, label=ui_models.label(info), model=model, class_names=names,
                    trained=True, description=t("model.session.desc"), pixels="unit")  # cnnviz's data: [0, 1]
    st.session_state[ui_models.SESSION_MODEL] = own
    st.session_state[state.MODEL] = ui_models.SESSION_KEY
    st.session_state[HISTORY] = h or training.History()
    st.session_state[HISTORY_OF] = id(model)
    st.session_state[REQUEST] = chosen


def curve_labels() -> dict[str, str]:
    return {k: t(f"train.{k}") for k in ("loss", "accuracy", "train", "validation", "epoch")}


def show_results(h: training.History, chart, filters) -> None:
    """Draw the curves and the filter snapshots into the given placeholders."""
    if h.loss:
        with chart.container():  # a placeholder: the figure and its caption in one element
            figures.chart(st, curves_figure(h, curve_labels()), key=f"{PREFIX}chart.{len(h.loss)}")
    if h.snapshots:
        with filters.container():
            st.image(filter_grid(h.snapshots, [str(i) for i in range(len(h.snapshots))]), output_format="PNG",
                     alt=describe.snapshots(h.snapshots, state.lang()))
            st.caption(t("train.filters.caption"))


def run(chosen: training.TrainSettings, device: str, chart, filters) -> training.History:
    """Train the session model now, with progress bars and a chart redrawn after each epoch."""
    return run_prepared(chosen, device, chart, filters, ui_models.session_model().model)


def run_prepared(chosen: training.TrainSettings, device: str, chart, filters, model, dataset=None,
                 fit_model=None) -> training.History:
    """Train `model` (the session's) with progress; `dataset` and `fit_model` as training.TrainingRun takes them."""
    h = st.session_state[HISTORY]
    epoch_bar = st.progress(0.0, text=t("train.progress.epoch", epoch=0, epochs=chosen.epochs))
    batch_bar = st.progress(0.0, text=t("train.progress.batch", batch=0, steps=1, loss=float("nan")))

    def on_batch(epoch, batch, steps, logs):
        batch_bar.progress(batch / steps, text=t("train.progress.batch", batch=batch, steps=steps,
                                                 loss=float(logs.get("loss", float("nan")))))

    def on_epoch(done, total, hist):
        epoch_bar.progress(done / total, text=t("train.progress.epoch", epoch=done, epochs=total))
        show_results(hist, chart, filters)

    run_ = training.TrainingRun(model, chosen, device=device, on_batch=on_batch, on_epoch=on_epoch, history=h,
                                dataset=dataset, fit_model=fit_model)
    st.session_state[RUNNING] = True
    run_.run()
    st.session_state[RUNNING] = False
    return h


def was_interrupted() -> bool:
    """True once after a run that a rerun (the Stop button) ended early."""
    if st.session_state.get(RUNNING):
        st.session_state[RUNNING] = False
        h = st.session_state.get(HISTORY)
        if h is not None:
            h.stopped = True
        return True
    return False
