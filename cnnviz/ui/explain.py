"""Streamlit glue for the Explain page: maps memoised per session, feature visualisations shared per process.

A map depends on the model, its weights, the input, the class, the method and its settings: the session
keeps its last few (st.session_state), so moving the opacity slider or switching the second method does not
compute the first again. Feature visualisations of a preset model depend on nothing a user owns, so they
are cached for the whole process (st.cache_resource), computed once for a class of students.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from cnnviz import activations, attribution, devices, featurevis, metrics
from cnnviz.models import PRESETS, ModelInfo
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

MAPS = "cnnviz.explain.maps"
SANITY = "cnnviz.explain.sanity"
FEATUREVIS = "cnnviz.explain.featurevis"
KEEP = 12  # maps kept per session


def model_key(info: ModelInfo) -> tuple:
    weights = "" if info.key in PRESETS else activations.weights_fingerprint(info.model)
    return (info.key, id(info.model), weights)


def digest(x: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest()


def error_text(err: Exception) -> str:
    """The page's message for an AttributionError or FeatureVisError: the cause, in the user's language."""
    prefix = "attribution.error." if isinstance(err, attribution.AttributionError) else "featurevis.error."
    values = {k: plain(str(v)) for k, v in getattr(err, "values", {}).items()}
    return t(prefix + err.key, **values)


def attribution_map(info: ModelInfo, x: np.ndarray, method: str, class_index: int, layer: str | None,
                    settings: dict, device: str) -> np.ndarray:
    """The map, from this session's memo when nothing changed. Raises AttributionError."""
    key = (model_key(info), digest(x), method, class_index, layer if method in attribution.CAM_METHODS else None,
           tuple(sorted(settings.items())), device)
    memo: dict = st.session_state.setdefault(MAPS, {})
    if key in memo:
        return memo[key]
    with devices.device_scope(device):
        with metrics.attribution(method, attribution.METHODS):
            value = attribution.attribute(method, info.model, x, class_index, layer, **settings)
    while len(memo) >= KEEP:
        memo.pop(next(iter(memo)))
    memo[key] = value
    return value


def sanity(info: ModelInfo, x: np.ndarray, methods: tuple[str, ...], class_index: int, layer: str | None,
           device: str) -> attribution.SanityResult:
    found = last_sanity(info, x, methods, class_index, layer, device)
    if found is not None:
        return found
    key = _sanity_key(info, x, methods, class_index, layer, device)
    with devices.device_scope(device):
        result = attribution.sanity_check(info.model, x, methods, class_index, layer)
    st.session_state[SANITY] = (key, result)
    return result


def last_sanity(info: ModelInfo, x: np.ndarray, methods, class_index, layer, device):
    """The sanity check already run for exactly these settings, else None."""
    memo = st.session_state.get(SANITY)
    return memo[1] if memo is not None and memo[0] == _sanity_key(info, x, methods, class_index, layer, device) else None


def _sanity_key(info: ModelInfo, x: np.ndarray, methods, class_index, layer, device) -> tuple:
    return (model_key(info), digest(x), tuple(methods), class_index, layer, device)


@st.cache_resource(show_spinner=False, max_entries=32)
def _shared_featurevis(key: tuple) -> dict:
    return {}


def featurevis_store(info: ModelInfo) -> dict:
    """Where finished visualisations of this model live: per process for presets, per session otherwise."""
    if info.key in PRESETS:
        return _shared_featurevis((info.key,))
    return st.session_state.setdefault(FEATUREVIS, {})


def featurevis_key(info: ModelInfo, layer: str | None, units: tuple[int, ...], settings: featurevis.Settings,
                   pixels: str, size) -> tuple:
    return (model_key(info), layer, units, settings, pixels, tuple(size) if size else None)


def run_featurevis(info: ModelInfo, layer: str | None, units: tuple[int, ...], settings: featurevis.Settings,
                   pixels: str, size, device: str) -> featurevis.Progress:
    """Optimises with a progress bar; a Stop button (any rerun) ends it and keeps nothing. Cached when done."""
    store = featurevis_store(info)
    key = featurevis_key(info, layer, units, settings, pixels, size)
    if key in store:
        return store[key]
    bar = st.progress(0.0, text=t("explain.fv.running", step=0, steps=settings.steps))
    stop = st.empty()
    stop.button(t("explain.fv.stop"), key="explain.fv.stop", help=t("explain.fv.stop.help"))
    last = None
    with devices.device_scope(device):
        for last in featurevis.optimise(info.model, layer, units, settings, pixels, size):
            bar.progress(last.step / last.steps, text=t("explain.fv.running", step=last.step, steps=last.steps))
    bar.empty()
    stop.empty()
    while len(store) >= 16:
        store.pop(next(iter(store)))
    store[key] = last
    return last


FAITH = "cnnviz.explain.faith"


def _faith_key(info, x, methods, class_index, layer, settings: dict, device, baseline, black) -> tuple:
    return (model_key(info), digest(x), tuple(methods), class_index, layer,
            tuple((m, tuple(sorted(settings.get(m, {}).items()))) for m in methods), device, baseline, black)


def last_faithfulness(info: ModelInfo, x: np.ndarray, methods, class_index, layer, settings, device, baseline, black):
    """The deletion/insertion curves already computed for exactly these settings, else None."""
    memo = st.session_state.get(FAITH)
    key = _faith_key(info, x, methods, class_index, layer, settings, device, baseline, black)
    return memo[1] if memo is not None and memo[0] == key else None


def faithfulness(info: ModelInfo, x: np.ndarray, methods: tuple[str, ...], class_index: int, layer: str | None,
                 settings: dict, device: str, baseline: str, black) -> dict:
    """{method: attribution.DeletionInsertion} for each method's map (from the memo). Raises AttributionError."""
    found = last_faithfulness(info, x, methods, class_index, layer, settings, device, baseline, black)
    if found is not None:
        return found
    out = {}
    for m in methods:
        saliency_map = attribution_map(info, x, m, class_index, layer, settings.get(m, {}), device)
        with devices.device_scope(device):
            out[m] = attribution.deletion_insertion(info.model, x, class_index, saliency_map, baseline=baseline,
                                                    black=black)
    st.session_state[FAITH] = (_faith_key(info, x, methods, class_index, layer, settings, device, baseline, black), out)
    return out
