"""Model: edit an architecture as a layer table, see its Keras-exact summary, picture and code; bring your own."""

import streamlit as st

from cnnviz import architecture as arch
from cnnviz import codegen
from cnnviz.plots.architecture import architecture_figure
from cnnviz.ui import builder
from cnnviz.ui import models as ui_models
from cnnviz.ui.links import share
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import t
from cnnviz.ui.text import plain
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("nav.model"))
st.caption(t("modelpage.intro"))

if builder.USED in st.session_state:
    st.success(st.session_state.pop(builder.USED))

# --- the architecture: a preset, then the user's edits ---
@st.fragment
def architecture() -> None:
    """The preset, the layer table and what follows from it; its controls rerun only this part."""
    if builder.USED in st.session_state:  # "use this model" changed the sidebar's model: redraw it all
        st.rerun()
    start = builder.start_from_preset()
    st.subheader(t("modelpage.input"))
    input_shape, classes = builder.input_controls()
    st.subheader(t("modelpage.layers"))
    st.caption(t("modelpage.layers.caption"))
    rows = builder.layer_table(start)
    share(note=t("links.note.model"))  # the link with the preset, not the table's edits

    try:
        spec = arch.with_classes(arch.from_rows(rows, input_shape, name=st.session_state[builder.PRESET]), classes)
        summary = arch.summarize(spec)
    except arch.ArchitectureError as err:
        st.error(t("modelpage.invalid", error=message_text(err)))
        spec = summary = None

    if summary is not None:
        # --- summary, as model.summary() would print it after building ---
        st.subheader(t("modelpage.summary"))
        cols = st.columns(3)
        cols[0].metric(t("modelpage.total"), f"{summary.total_params:,}")
        cols[1].metric(t("modelpage.total_macs"), f"{summary.total_macs:,}")
        cols[2].metric(t("modelpage.output"), str(summary.output_shape))
        st.table(builder.summary_frame(summary), hide_index=True)  # static: a grid widget costs the browser ~0.1 s per change
        st.caption(t("modelpage.sum.caption"))

        st.subheader(t("modelpage.figure"))
        # its text alternative is the summary table above (every layer, its output shape and parameters)
        st.plotly_chart(architecture_figure(summary, spec.input_shape, t("modelpage.figure.input")),
                        key="modelpage.figure")

        st.subheader(t("modelpage.code"))
        st.code(codegen.model_code(spec), language="python")
        st.caption(t("modelpage.code.caption"))

        name = builder.built_name()
        left, right = st.columns(2)
        left.button(t("modelpage.use"), type="primary", on_click=builder.use_spec, args=(spec, name),
                    help=t("modelpage.use.help"), key="modelpage.use")
        right.download_button(t("modelpage.download"), data=builder.spec_download(spec),
                              file_name=f"{spec.name}.keras", mime="application/zip", on_click="ignore",
                              key="modelpage.download")


architecture()

# --- bring your own model ---
st.divider()
st.subheader(t("modelpage.upload.header"))
builder.upload_model()
builder.application_picker()
own = ui_models.session_model()
if own is not None:
    why = builder.not_editable_reason(own.model)
    if why is not None:  # still works on every other page; here it is shown read-only
        st.info(t("modelpage.current.not_editable", name=plain(ui_models.label(own)), reason=message_text(why)))
    with st.expander(t("modelpage.current", name=plain(ui_models.label(own))), expanded=why is not None):
        st.metric(t("modelpage.total"), f"{own.model.count_params():,}")
        st.dataframe(builder.model_summary_frame(own.model), hide_index=True, width="stretch")
        if builder.takes_any_size(own.model):
            st.caption(t("modelpage.current.any_size"))
        data, file_name = builder.current_download(own)
        st.download_button(t("modelpage.current.download"), data=data, file_name=file_name, mime="application/zip",
                           on_click="ignore", key="modelpage.current.download", help=t("modelpage.current.download.help"))
